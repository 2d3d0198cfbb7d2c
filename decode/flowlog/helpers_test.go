package flowlog

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/flow"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// result is everything one Read produced, copied out of the callbacks.
type result struct {
	flows  []flow.Record
	labels []string
	dns    []flow.DNSMessage
	errs   []*decode.Error
	st     Stats
	err    error
}

// readAll reads data in format f, collecting every record and error.
func readAll(tb testing.TB, data []byte, f Format, opts Options) result {
	tb.Helper()
	var res result
	res.st, res.err = opts.Read(bytes.NewReader(data), "test.log", f, 7,
		func(r *flow.Record, m Meta) {
			res.flows = append(res.flows, *r)
			res.labels = append(res.labels, m.Label)
		},
		func(m *flow.DNSMessage) {
			c := *m
			c.Answers = append([]flow.Answer(nil), m.Answers...)
			res.dns = append(res.dns, c)
		},
		func(e *decode.Error) error {
			res.errs = append(res.errs, e)
			return nil
		})
	checkInvariants(tb, data, &res)
	return res
}

// checkInvariants holds for every read of every input: errors point at
// line starts inside the input and name the file and a line, every record
// carries the evidence index, and the counters add up.
func checkInvariants(tb testing.TB, data []byte, res *result) {
	tb.Helper()
	if res.err != nil {
		tb.Fatalf("Read returned %v although onErr never asked to stop", res.err)
	}
	for _, e := range res.errs {
		if e.File != "test.log" {
			tb.Fatalf("error names file %q", e.File)
		}
		if e.Offset < 0 || e.Offset > int64(len(data)) {
			tb.Fatalf("error offset %d outside the %d-byte input: %v", e.Offset, len(data), e)
		}
		if e.Offset > 0 && e.Offset < int64(len(data)) && data[e.Offset-1] != '\n' {
			tb.Fatalf("error offset %d is not at a line start: %v", e.Offset, e)
		}
		if e.Offset < int64(len(data)) && !strings.Contains(e.Err.Error(), "line ") {
			tb.Fatalf("error without a line number: %v", e)
		}
	}
	for _, r := range res.flows {
		if r.Evidence != 7 {
			tb.Fatalf("record with evidence %d", r.Evidence)
		}
	}
	for _, m := range res.dns {
		if m.Evidence != 7 {
			tb.Fatalf("DNS message with evidence %d", m.Evidence)
		}
	}
	st := res.st
	if st.Flows != int64(len(res.flows)) || st.DNS != int64(len(res.dns)) || st.Errors != int64(len(res.errs)) {
		tb.Fatalf("stats %+v disagree with %d flows, %d DNS, %d errors", st, len(res.flows), len(res.dns), len(res.errs))
	}
	if st.Bytes != int64(len(data)) && !res.fatal() {
		tb.Fatalf("stats say %d bytes read of %d", st.Bytes, len(data))
	}
	if st.Flows+st.DNS+st.Skipped > st.Lines {
		tb.Fatalf("more records than lines: %+v", st)
	}
}

// fatal reports whether a problem ended the read early.
func (res *result) fatal() bool {
	for _, e := range res.errs {
		if errors.Is(e, decode.ErrNotEvidence) {
			return true
		}
	}
	return false
}

func ts(t int64) string { return time.Unix(0, t).UTC().Format(time.RFC3339Nano) }

// formatFlow renders a record as one golden-file line.
func formatFlow(r *flow.Record, label string) string {
	s := fmt.Sprintf("flow %s..%s %s:%d > %s:%d p=%d flg=%#02x tos=%d vlan=%d pkts=%d bytes=%d opkts=%d obytes=%d",
		ts(r.First), ts(r.Last), r.Src, r.SrcPort, r.Dst, r.DstPort, r.Proto, r.TCPFlags, r.ToS, r.VLAN,
		r.Packets, r.Bytes, r.OutPackets, r.OutBytes)
	if r.Exporter != (flow.Addr{}) || r.InIf|r.OutIf|r.SrcAS|r.DstAS != 0 || r.SrcMask|r.DstMask != 0 || r.NextHop != (flow.Addr{}) {
		s += fmt.Sprintf(" exp=%s in=%d out=%d as=%d>%d mask=%d>%d nh=%s", addrOrDash(r.Exporter), r.InIf, r.OutIf,
			r.SrcAS, r.DstAS, r.SrcMask, r.DstMask, addrOrDash(r.NextHop))
	}
	if label != "" {
		s += fmt.Sprintf(" label=%q", label)
	}
	return s
}

func addrOrDash(a flow.Addr) string {
	if a == (flow.Addr{}) {
		return "-"
	}
	return a.String()
}

// formatDNS renders a message as one golden-file line.
func formatDNS(m *flow.DNSMessage) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dns %s %s:%d > %s:%d t=%d id=%d resp=%v op=%d rcode=%d flags=%#02x q=%q qt=%d qc=%d an=%d ttl=%d",
		ts(m.TS), m.Client, m.ClientPort, m.Server, m.ServerPort, m.Transport, m.ID, m.Response, m.Opcode,
		m.Rcode, m.Flags, m.QName, m.QType, m.QClass, m.ANCount, m.TTL)
	for _, a := range m.Answers {
		fmt.Fprintf(&b, " [%d %q]", a.Type, a.Data)
	}
	return b.String()
}

// render is the golden text of a result: records, then errors.
func (res *result) render() string {
	var b strings.Builder
	for i := range res.flows {
		b.WriteString(formatFlow(&res.flows[i], res.labels[i]))
		b.WriteByte('\n')
	}
	for i := range res.dns {
		b.WriteString(formatDNS(&res.dns[i]))
		b.WriteByte('\n')
	}
	for _, e := range res.errs {
		fmt.Fprintf(&b, "error %v\n", e)
	}
	fmt.Fprintf(&b, "stats lines=%d flows=%d dns=%d errors=%d skipped=%d\n", res.st.Lines, res.st.Flows, res.st.DNS, res.st.Errors, res.st.Skipped)
	return b.String()
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\n got  %s\n want %s\n(run with -update if the change is intended)", path, i+1, g, w)
			}
		}
	}
}

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// oneByteReader returns one byte per Read, to exercise buffer refills at
// every position.
type oneByteReader struct{ b []byte }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.b[0]
	r.b = r.b[1:]
	return 1, nil
}

func mustAddr(s string) flow.Addr {
	a, ok := parseAddr([]byte(s))
	if !ok {
		panic("bad test address " + s)
	}
	return a
}

func unix(s string) int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UnixNano()
}
