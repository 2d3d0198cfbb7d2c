package ingest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmdutil"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/hostile"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/iostreams"
	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/evidence"
	"github.com/spotctl/spotctl/flowstore"
)

func TestProblemLog(t *testing.T) {
	var out []string
	l := newProblemLog(func(sev decode.Severity, msg string) { out = append(out, sev.String()+": "+msg) })
	bad := errors.New("bad record")
	for i := 0; i < 25; i++ {
		l.add(&decode.Error{File: "a.csv", Offset: int64(100 + i), Err: fmt.Errorf("line %d: %w", i+1, bad)})
		if i < 11 {
			l.add(&decode.Error{File: "a.csv", Offset: int64(1000 + i), Err: errors.New("dns"), Kind: "malformed DNS", Severity: decode.Note})
		}
	}
	l.add(&decode.Error{File: "b.csv", Offset: -1, Err: bad})
	// Texts that vary: the first maxKindsPerFile kinds of c.csv are told
	// apart, the rest (and then bad record) lumped together.
	for i := 0; i < 30; i++ {
		l.add(&decode.Error{File: "c.csv", Offset: int64(i), Err: fmt.Errorf("odd %d", i)})
	}
	l.add(&decode.Error{File: "c.csv", Offset: 99, Err: bad})
	l.done("a.csv")
	l.done("c.csv")
	l.done("b.csv")
	if l.warnings != 25+1+31 || l.notes != 11 {
		t.Errorf("counted %d warnings and %d notes", l.warnings, l.notes)
	}
	var want []string
	for i := 0; i < 10; i++ {
		want = append(want, fmt.Sprintf("warning: a.csv: offset %d: line %d: bad record", 100+i, i+1))
		want = append(want, fmt.Sprintf("note: a.csv: offset %d: dns", 1000+i))
	}
	want = append(want, "warning: b.csv: bad record")
	for i := 0; i < maxKindsPerFile+printPerKind; i++ {
		want = append(want, fmt.Sprintf("warning: c.csv: offset %d: odd %d", i, i))
	}
	want = append(want,
		`warning: a.csv: 15 more "bad record" warnings not shown (25 in all, first at offset 110, last at offset 124)`,
		`note: a.csv: 1 more "malformed DNS" notes not shown (11 in all, at offset 1010)`,
		`warning: c.csv: 5 more "other problems" warnings not shown (15 in all, first at offset 26, last at offset 99)`,
	)
	if got := strings.Join(out, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("printed:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if len(l.order) != 0 || len(l.groups) != 0 || len(l.kinds) != 0 {
		t.Errorf("groups left after done: %d %d %d", len(l.order), len(l.groups), len(l.kinds))
	}
}

// A flow log with 5000 bad rows and a capture with 30 malformed DNS
// messages: a bounded number of stderr lines, exact counts in the summary
// lines and the manifest, exit 3 for the damaged log only, and every good
// record ingested.
func TestIngestRateLimitsProblems(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "flows.csv")
	var b strings.Builder
	b.WriteString("ts,te,td,sa,da,sp,dp,pr,flg,ipkt,ibyt\n")
	good := func(i int) {
		fmt.Fprintf(&b, "2026-03-02 10:00:%02d,2026-03-02 10:00:%02d,0.0,10.0.0.1,10.0.0.2,%d,80,6,........,1,60\n", i, i, 1000+i)
	}
	for i := 0; i < 3; i++ {
		good(i)
	}
	var offsets []int64
	const badRows = 5000
	for i := 0; i < badRows; i++ {
		offsets = append(offsets, int64(b.Len()))
		b.WriteString("2026-03-02 10:00:00,nonsense\n")
	}
	for i := 3; i < 5; i++ {
		good(i)
	}
	if err := os.WriteFile(csvPath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	pcapPath := filepath.Join(dir, "dns.pcap")
	w, err := hostile.CreatePcap(pcapPath)
	if err != nil {
		t.Fatal(err)
	}
	c := &hostile.Conversation{W: w}
	hostile.Legit(c, "before", 0)
	var dnsOffsets []int64
	const badDNS = 30
	for i := 0; i < badDNS; i++ {
		dnsOffsets = append(dnsOffsets, w.Offset())
		c.UDP(hostile.EP("192.0.2.66", 53000), hostile.LegitResolver, []byte{0, byte(i), 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1})
	}
	hostile.Legit(c, "after", 1)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	ios, _, _, errOut := iostreams.Test()
	casePath := filepath.Join(dir, "case")
	opts := &Options{IO: ios, Paths: []string{csvPath, pcapPath}, Case: casePath, Evidence: evidence.DefaultOptions(),
		Now: func() time.Time { return time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) }}
	err = Run(context.Background(), opts)
	var pe *cmdutil.PartialError
	if !errors.As(err, &pe) || pe.Problems != badRows {
		t.Fatalf("Run: %v, want a partial error with %d problems", err, badRows)
	}
	lines := strings.Split(strings.TrimSuffix(errOut.String(), "\n"), "\n")
	// 10 warnings and their summary, 10 notes and theirs, the ingest
	// summary and the notes total.
	if len(lines) != 10+1+10+1+2 {
		t.Fatalf("%d stderr lines:\n%s", len(lines), errOut.String())
	}
	for i := 0; i < 10; i++ {
		if want := fmt.Sprintf("warning: %s: offset %d: ", csvPath, offsets[i]); !strings.HasPrefix(lines[i], want) || !strings.HasSuffix(lines[i], "bad record: 2 fields, the header has 11") {
			t.Errorf("line %d: %q, want %q…: bad record: …", i+1, lines[i], want)
		}
		if want := fmt.Sprintf("note: %s: offset %d: malformed DNS message (UDP 192.0.2.66:53000 → 192.0.2.53:53, kept as far as it decoded): ", pcapPath, dnsOffsets[i]); !strings.HasPrefix(lines[11+i], want) {
			t.Errorf("line %d: %q, want %q…", 12+i, lines[11+i], want)
		}
	}
	if want := fmt.Sprintf(`warning: %s: %d more "bad record" warnings not shown (%d in all, first at offset %d, last at offset %d)`, csvPath, badRows-10, badRows, offsets[10], offsets[badRows-1]); lines[10] != want {
		t.Errorf("summary line\n%q, want\n%q", lines[10], want)
	}
	if want := fmt.Sprintf(`note: %s: %d more "malformed DNS" notes not shown (%d in all, first at offset %d, last at offset %d)`, pcapPath, badDNS-10, badDNS, dnsOffsets[10], dnsOffsets[badDNS-1]); lines[21] != want {
		t.Errorf("summary line\n%q, want\n%q", lines[21], want)
	}
	if want := fmt.Sprintf("%d note(s) on malformed traffic", badDNS); !strings.HasPrefix(lines[23], want) {
		t.Errorf("last line %q, want %q…", lines[23], want)
	}

	cs, err := flowstore.Open(casePath)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	m := cs.Segments()[0].Manifest
	csvMan, pcapMan := m.Evidence[0], m.Evidence[1]
	if csvMan.ErrorCount != badRows || len(csvMan.Errors) != maxListedErrors || csvMan.Errors[0].Offset != offsets[0] || csvMan.NoteCount != 0 {
		t.Errorf("manifest of the log: %d problems, %d listed (first at %d), %d notes", csvMan.ErrorCount, len(csvMan.Errors), csvMan.Errors[0].Offset, csvMan.NoteCount)
	}
	if pcapMan.ErrorCount != 0 || pcapMan.NoteCount != badDNS || len(pcapMan.Notes) != badDNS || pcapMan.Notes[29].Offset != dnsOffsets[29] {
		t.Errorf("manifest of the capture: %d problems, %d notes, %d listed", pcapMan.ErrorCount, pcapMan.NoteCount, len(pcapMan.Notes))
	}
	// 5 flows from the log; the capture's DNS rows include the 30 kept
	// malformed queries and the 8 legitimate messages.
	ft, err := cs.Segments()[0].Flows()
	if err != nil {
		t.Fatal(err)
	}
	ev, err := ft.Uint32(flowstore.ColEvidence)
	if err != nil {
		t.Fatal(err)
	}
	fromLog := 0
	for _, e := range ev {
		if e == 0 {
			fromLog++
		}
	}
	if fromLog != 5 || m.DNS != badDNS+8 {
		t.Errorf("%d flows from the log (want 5), %d DNS rows (want %d)", fromLog, m.DNS, badDNS+8)
	}
}
