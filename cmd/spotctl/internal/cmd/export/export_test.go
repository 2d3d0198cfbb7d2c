package export_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmd/export"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmd/root"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmdutil"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/iostreams"
	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/flowstore"
	"github.com/spotctl/spotctl/report/parquet/parquettest"
)

var casesDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "spotctl-export-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	casesDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cli runs spotctl in-process as a pipe sees it.
func cli(t testing.TB, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	code = root.Main(ios, args)
	return out.String(), errOut.String(), code
}

func mustCLI(t testing.TB, args ...string) string {
	t.Helper()
	out, stderr, code := cli(t, args...)
	if code != 0 {
		t.Fatalf("spotctl %s: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	return out
}

var (
	demoOnce, craftedOnce sync.Once
	demoPath, craftedPath string
)

// demoCase is a synthetic capture with the injected activities, ingested:
// real flows and DNS over several hours.
func demoCase(t testing.TB) string {
	t.Helper()
	demoOnce.Do(func() {
		pcap := filepath.Join(casesDir, "demo.pcap")
		demoPath = filepath.Join(casesDir, "demo.case")
		mustCLI(t, "synth", "--seed", "3", "--hosts", "12", "--duration", "3h", "--packets", "40000", "--inject", "all", "-o", pcap)
		mustCLI(t, "ingest", "-q", pcap, "-o", demoPath)
	})
	if demoPath == "" || !exists(filepath.Join(demoPath, "case.json")) {
		t.Fatal("demo case was not built")
	}
	return demoPath
}

func addr(s string) flow.Addr { return flow.AddrFromNetip(netip.MustParseAddr(s)) }

// craftedCase is written through flowstore: two segments whose flows
// interleave in time (the time order must merge them), every flow-export
// field set on some flows (sparse columns, NULL exporters), times before
// 1970 and on hour boundaries, and hostile DNS text (invalid UTF-8, ESC,
// quotes, a leading '=' for spreadsheets).
func craftedCase(t testing.TB) string {
	t.Helper()
	craftedOnce.Do(func() {
		craftedPath = filepath.Join(casesDir, "crafted.case")
		c, err := flowstore.Create(craftedPath, flowstore.CaseInfo{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		base := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).UnixNano()
		for seg := range 2 {
			w, err := c.NewSegment()
			if err != nil {
				t.Fatal(err)
			}
			for i := range 500 {
				// Segment 0 has even minutes, segment 1 odd ones, some
				// equal times across segments (ties: ingest order).
				first := base + int64(i*7+seg*3)%300*int64(time.Minute) - int64(time.Hour)
				if i%97 == 0 {
					first = base // exactly on an hour boundary, in both segments
				}
				r := flow.Record{
					First: first, Last: first + int64(i)*int64(time.Millisecond),
					Src: addr(fmt.Sprintf("10.0.%d.%d", seg, i%250+1)), Dst: addr("2001:db8::1"),
					SrcPort: uint16(1024 + i), DstPort: uint16([]int{53, 443, 80, 65535}[i%4]), Proto: []uint8{6, 17, 1}[i%3],
					TCPFlags: uint8(i), ToS: uint8(i % 8), VLAN: uint16(i % 5), Packets: uint64(i + 1), Bytes: uint64(i+1) * 1500,
				}
				if i%3 == 0 {
					r.OutPackets, r.OutBytes = uint64(i), uint64(i)*1000+1<<40
					r.Exporter, r.NextHop = addr("192.0.2.1"), addr("192.0.2.254")
					r.ObsDomain, r.SrcAS, r.DstAS, r.InIf, r.OutIf = 7, 64512, 4294967295, 3, 4
					r.SrcMask, r.DstMask, r.EndReason, r.Sampling = 24, 64, 3, 1000
				}
				if err := w.AddFlow(&r); err != nil {
					t.Fatal(err)
				}
			}
			if seg == 0 {
				// One flow in 1969: its hour partition is before the epoch.
				old := flow.Record{First: -int64(90 * time.Minute), Last: -int64(80 * time.Minute), Src: addr("10.9.9.9"), Dst: addr("10.9.9.8"), Proto: 17, Packets: 1, Bytes: 60}
				if err := w.AddFlow(&old); err != nil {
					t.Fatal(err)
				}
			}
			names := []string{"www.example.com", "bad\xff\xfename", "\x1b[31mred", "=cmd|' /C calc'!A0", `"quoted", name`, "xn--bcher-kva.example"}
			for i := range 60 {
				m := flow.DNSMessage{
					TS: base + int64(i*61+seg)*int64(time.Second), Client: addr("10.0.0.5"), Server: addr("10.0.0.53"),
					ClientPort: uint16(40000 + i), ServerPort: 53, Transport: []uint8{17, 6}[i%2], ID: uint16(i * 1000),
					Response: i%2 == 1, Rcode: uint8(i % 4), Flags: uint8(i % 64), QName: names[i%len(names)] + fmt.Sprintf(".s%d", seg),
					QType: []uint16{1, 28, 16, 255}[i%4], QClass: 1, TTL: uint32(i), FrameLen: uint32(80 + i),
				}
				if m.Response && i%3 != 0 {
					m.Answers = []flow.Answer{{Type: 5, Data: "alias.example"}, {Type: 1, Data: "192.0.2.7"}, {Type: 16, Data: "txt \xff \"x\""}}[:1+i%3]
					m.ANCount = uint16(len(m.Answers))
				}
				if err := w.AddDNS(&m); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Commit(&flowstore.Manifest{SpotctlVersion: "test"}); err != nil {
				t.Fatal(err)
			}
		}
	})
	if craftedPath == "" || !exists(filepath.Join(craftedPath, "case.json")) {
		t.Fatal("crafted case was not built")
	}
	return craftedPath
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// partitions lists DIR/TABLE/hour=*/part-0.EXT in partition (time) order.
func partitions(t testing.TB, dir, table, ext string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, table, "hour=*", "part-0."+ext))
	if err != nil {
		t.Fatal(err)
	}
	// Hive names sort in time order for years 1000–9999, as the names
	// of this test's partitions are.
	sort.Strings(files)
	return files
}

// concat joins the partition files of a table; CSV files each have a
// header, kept once.
func concat(t testing.TB, dir, table, ext string) string {
	t.Helper()
	var b strings.Builder
	for i, p := range partitions(t, dir, table, ext) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s := string(data)
		if ext == "csv" && i > 0 {
			s = s[strings.IndexByte(s, '\n')+1:]
		}
		b.WriteString(s)
	}
	return b.String()
}

// parquetJSONL reads every Parquet partition of a table back as JSON Lines.
func parquetJSONL(t testing.TB, dir, table string) string {
	t.Helper()
	var b strings.Builder
	for _, p := range partitions(t, dir, table, "parquet") {
		f, err := parquettest.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(f.JSONL)
	}
	return b.String()
}

// TestExportMatchesFlowsAndDNS: Parquet (read back with parquet-go), CSV
// and JSON Lines hold exactly what spotctl flows and dns print, in the same
// order, and each row sits in the partition of its hour.
func TestExportMatchesFlowsAndDNS(t *testing.T) {
	for name, casePath := range map[string]string{"demo": demoCase(t), "crafted": craftedCase(t)} {
		t.Run(name, func(t *testing.T) {
			out := t.TempDir()
			p, c, j := filepath.Join(out, "p"), filepath.Join(out, "c"), filepath.Join(out, "j")
			_, stderr, code := cli(t, "export", casePath, "--parquet", p, "--csv", c, "--jsonl", j, "--row-group-rows", "100")
			if code != 0 {
				t.Fatalf("export: exit %d: %s", code, stderr)
			}
			if !strings.Contains(stderr, "flows: ") || !strings.Contains(stderr, "dns: ") {
				t.Errorf("summary: %q", stderr)
			}
			for _, table := range []string{"flows", "dns"} {
				wantJSONL := mustCLI(t, table, casePath, "--format", "jsonl")
				wantCSV := mustCLI(t, table, casePath, "--format", "csv")
				if strings.Count(wantJSONL, "\n") < 50 {
					t.Fatalf("%s: only %d rows in the test case", table, strings.Count(wantJSONL, "\n"))
				}
				if got := concat(t, j, table, "jsonl"); got != wantJSONL {
					t.Errorf("%s: JSON Lines export differs from spotctl %s --format jsonl (%d vs %d bytes)", table, table, len(got), len(wantJSONL))
				}
				if got := concat(t, c, table, "csv"); got != wantCSV {
					t.Errorf("%s: CSV export differs from spotctl %s --format csv", table, table)
				}
				if got := parquetJSONL(t, p, table); got != wantJSONL {
					t.Errorf("%s: Parquet read back differs from spotctl %s --format jsonl:\n%s", table, table, firstDiff(got, wantJSONL))
				}
				checkHours(t, j, table)
			}
			if name == "crafted" {
				var hours []string
				for _, p := range partitions(t, p, "flows", "parquet") {
					hours = append(hours, filepath.Base(filepath.Dir(p)))
				}
				want := []string{"hour=1969-12-31T22", "hour=2026-03-02T08", "hour=2026-03-02T09", "hour=2026-03-02T10", "hour=2026-03-02T11", "hour=2026-03-02T12"}
				if !slices.Equal(hours, want) {
					t.Errorf("flow partitions %v, want %v", hours, want)
				}
				f, err := parquettest.ReadFile(partitions(t, p, "flows", "parquet")[2])
				if err != nil {
					t.Fatal(err)
				}
				if f.RowGroups < 2 {
					t.Errorf("--row-group-rows 100: %d row groups for %d rows", f.RowGroups, f.Rows)
				}
			}
		})
	}
}

// checkHours: every row of a partition has its time in that UTC hour.
func checkHours(t *testing.T, dir, table string) {
	t.Helper()
	key := map[string]string{"flows": "first", "dns": "ts", "flow_scores": "first", "dns_scores": "ts"}[table]
	parts := partitions(t, dir, table, "jsonl")
	if len(parts) < 2 {
		t.Errorf("%s: %d partitions; the test case spans several hours", table, len(parts))
	}
	for _, p := range parts {
		hour := strings.TrimPrefix(filepath.Base(filepath.Dir(p)), "hour=")
		data, _ := os.ReadFile(p)
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			ts, _ := m[key].(string)
			tm, err := time.Parse(time.RFC3339Nano, ts)
			if err != nil {
				t.Fatalf("%s: %s %q: %v", p, key, ts, err)
			}
			if got := tm.UTC().Format("2006-01-02T15"); got != hour {
				t.Fatalf("%s: row at %s in partition %s", p, ts, hour)
			}
		}
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n got  %s\n want %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("%d lines vs %d", len(al), len(bl))
}

// byRank keys JSON Lines of scored rows by their rank.
func byRank(t *testing.T, jsonl string) map[float64]string {
	t.Helper()
	out := map[float64]string{}
	for _, line := range strings.Split(strings.TrimSpace(jsonl), "\n") {
		var m struct{ Rank float64 }
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if _, dup := out[m.Rank]; dup || m.Rank < 1 {
			t.Fatalf("rank %v twice or invalid", m.Rank)
		}
		out[m.Rank] = line
	}
	return out
}

// TestExportScoresMatchScore: the score tables hold every row that spotctl
// score flows|dns --all prints, byte for byte, with the same model flags.
func TestExportScoresMatchScore(t *testing.T) {
	casePath := demoCase(t)
	for _, model := range [][]string{nil, {"--seed", "7", "--topics", "5", "--iterations", "10"}} {
		out := t.TempDir()
		args := append([]string{"export", casePath, "--jsonl", out, "--parquet", out, "--tables", "flow_scores,dns_scores"}, model...)
		if _, stderr, code := cli(t, args...); code != 0 {
			t.Fatalf("export: exit %d: %s", code, stderr)
		}
		if exists(filepath.Join(out, "flows")) {
			t.Error("--tables flow_scores,dns_scores wrote the flows table")
		}
		for _, kind := range []string{"flows", "dns"} {
			table := map[string]string{"flows": "flow_scores", "dns": "dns_scores"}[kind]
			want := byRank(t, mustCLI(t, append([]string{"score", kind, casePath, "--all", "--format", "jsonl"}, model...)...))
			for _, got := range []map[float64]string{byRank(t, concat(t, out, table, "jsonl")), byRank(t, parquetJSONL(t, out, table))} {
				if len(got) != len(want) || len(want) < 20 {
					t.Fatalf("%s: %d rows, score --all prints %d", table, len(got), len(want))
				}
				for r, line := range want {
					if got[r] != line {
						t.Fatalf("%s rank %v:\n got  %s\n want %s", table, r, got[r], line)
					}
				}
			}
			checkHours(t, out, table)
		}
	}
}

// tree reads every file under dir (relative path → bytes).
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestExportDeterministic: the same case and flags give byte-identical
// files, for every format and table.
func TestExportDeterministic(t *testing.T) {
	casePath := craftedCase(t)
	var trees []map[string]string
	for range 2 {
		out := t.TempDir()
		mustCLI(t, "export", casePath, "--parquet", out, "--csv", out, "--jsonl", out, "--scores", "--row-group-rows", "64")
		trees = append(trees, tree(t, out))
	}
	if len(trees[0]) < 4*3*2 {
		t.Fatalf("only %d files exported", len(trees[0]))
	}
	for name, data := range trees[0] {
		if trees[1][name] != data {
			t.Errorf("%s differs between two exports", name)
		}
	}
	if len(trees[0]) != len(trees[1]) {
		t.Errorf("%d files vs %d", len(trees[0]), len(trees[1]))
	}
}

// TestExportRefusesNonEmptyUnlessForce, and --force replaces the whole
// table: partitions of the previous export do not survive.
func TestExportRefusesNonEmptyUnlessForce(t *testing.T) {
	casePath := craftedCase(t)
	out := t.TempDir()
	mustCLI(t, "export", casePath, "--jsonl", out, "--since", "2026-03-02T09:30:00Z")
	narrow := partitions(t, out, "flows", "jsonl")

	_, stderr, code := cli(t, "export", casePath, "--jsonl", out)
	if code != cmdutil.ExitUsage || !strings.Contains(stderr, "already holds an export") || !strings.Contains(stderr, "--force") {
		t.Fatalf("second export without --force: exit %d, %q", code, stderr)
	}
	if got := partitions(t, out, "flows", "jsonl"); !slices.Equal(got, narrow) {
		t.Fatal("a refused export changed the directory")
	}
	mustCLI(t, "export", casePath, "--jsonl", out, "--force", "--until", "2026-03-02T09:00:00Z")
	for _, p := range partitions(t, out, "flows", "jsonl") {
		if slices.Contains(narrow, p) && !strings.Contains(p, "T08") {
			t.Errorf("%s survived --force", p)
		}
	}
	if got := concat(t, out, "flows", "jsonl"); got != mustCLI(t, "flows", casePath, "--until", "2026-03-02T09:00:00Z", "--format", "jsonl") {
		t.Error("--force export does not hold exactly the new rows")
	}
	leftovers, _ := filepath.Glob(filepath.Join(out, ".spotctl-export-*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary directories left: %v", leftovers)
	}

	// An empty table directory is not in the way.
	empty := t.TempDir()
	os.Mkdir(filepath.Join(empty, "flows"), 0o755)
	mustCLI(t, "export", casePath, "--csv", empty, "--tables", "flows")
	if len(partitions(t, empty, "flows", "csv")) == 0 {
		t.Error("nothing written into an empty table directory")
	}
	// A file where the table directory goes is an error.
	blocked := t.TempDir()
	os.WriteFile(filepath.Join(blocked, "dns"), []byte("x"), 0o644)
	if _, stderr, code := cli(t, "export", casePath, "--csv", blocked); code != cmdutil.ExitError || !strings.Contains(stderr, "not a directory") {
		t.Errorf("file in the way: exit %d, %q", code, stderr)
	}
	if exists(filepath.Join(blocked, "flows")) {
		t.Error("export went ahead after a preflight error")
	}
}

// TestExportFilterAndWindow: FILTER, -f and --since/--until select the rows
// spotctl flows and dns select.
func TestExportFilterAndWindow(t *testing.T) {
	casePath := demoCase(t)
	for _, tc := range []struct {
		table string
		args  []string
	}{
		{"flows", []string{"proto udp and dst port 53"}},
		{"flows", []string{"--since", "2026-03-02T01:00:00Z", "--until", "2026-03-02T02:30:00Z", "bytes > 1k"}},
		{"dns", []string{"response and qname suffix com"}},
		{"dns", []string{"--since", "2026-03-02T01:10:00Z"}},
	} {
		out := t.TempDir()
		mustCLI(t, append([]string{"export", casePath, "--jsonl", out, "--tables", tc.table}, tc.args...)...)
		want := mustCLI(t, append([]string{tc.table, casePath, "--format", "jsonl"}, tc.args...)...)
		if want == "" {
			t.Fatalf("%v selects nothing: a weak test", tc.args)
		}
		if got := concat(t, out, tc.table, "jsonl"); got != want {
			t.Errorf("%s %v: export differs from spotctl %s", tc.table, tc.args, tc.table)
		}
	}
	// Score filters apply to the score tables.
	out := t.TempDir()
	mustCLI(t, "export", casePath, "--jsonl", out, "--tables", "flow_scores", "score < 0.05 and proto tcp")
	got := byRank(t, concat(t, out, "flow_scores", "jsonl"))
	want := byRank(t, mustCLI(t, "score", "flows", casePath, "--all", "--format", "jsonl", "score < 0.05 and proto tcp"))
	if len(got) == 0 || len(got) != len(want) {
		t.Fatalf("score filter: %d rows, score prints %d", len(got), len(want))
	}
	for r, line := range want {
		if got[r] != line {
			t.Fatalf("score filter, rank %v differs", r)
		}
	}
}

func TestExportUsageErrors(t *testing.T) {
	casePath := craftedCase(t)
	out := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"export", casePath}, "give at least one of --parquet"},
		{[]string{"export", "--parquet", out}, "export needs a CASE"},
		{[]string{"export", casePath, "--parquet", out, "--tables", "flows,nope"}, `unknown table "nope"`},
		{[]string{"export", casePath, "--parquet", out, "dst port 53"}, "table dns"},
		{[]string{"export", casePath, "--parquet", out, "--tables", "flows", "qname suffix example.com"}, "table flows"},
		{[]string{"export", casePath, "--parquet", out, "--tables", "flows", "score < 1"}, "table flows"},
		{[]string{"export", casePath, "--parquet", out, "--compression", "lzma"}, "unknown compression"},
		{[]string{"export", casePath, "--parquet", out, "--since", "yesterday"}, "--since"},
		{[]string{"export", casePath, "--parquet", out, "--scores", "--seed", "0"}, "--seed 0"},
		{[]string{"export", casePath, "--parquet", out, "--row-group-rows", "-1"}, "--row-group-rows"},
		{[]string{"export", casePath, "--parquet", casePath}, "is the case directory"},
	} {
		_, stderr, code := cli(t, tc.args...)
		if code != cmdutil.ExitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args[2:], code, stderr, tc.want)
		}
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("usage errors wrote %d entries", len(ents))
	}
	stdout, _, code := cli(t, "export", "--check", "--tables", "flows", "src net 10.0.0.0/8")
	if code != 0 || !strings.HasPrefix(stdout, "filter ok: ") {
		t.Errorf("--check: exit %d, %q", code, stdout)
	}
	if _, _, code := cli(t, "export", "--check", "qname x"); code != cmdutil.ExitUsage {
		t.Errorf("--check of a DNS filter against flows and dns: exit %d", code)
	}
	if _, stderr, code := cli(t, "export", filepath.Join(out, "nocase"), "--parquet", out); code != cmdutil.ExitError || !strings.Contains(stderr, "does not exist") {
		t.Errorf("missing case: exit %d, %q", code, stderr)
	}
}

// TestExportFailureLeavesNothing: a failure while writing (a corrupt
// column) removes the table under construction and leaves an existing
// export alone.
func TestExportFailureLeavesNothing(t *testing.T) {
	src := craftedCase(t)
	casePath := filepath.Join(t.TempDir(), "broken.case")
	if err := os.CopyFS(casePath, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	mustCLI(t, "export", casePath, "--parquet", out, "--tables", "flows")
	before := tree(t, out)
	cols, _ := filepath.Glob(filepath.Join(casePath, "seg-*", "flows.col"))
	if len(cols) == 0 {
		t.Fatal("no flows.col in the case")
	}
	b, _ := os.ReadFile(cols[len(cols)-1])
	b[len(b)-10] ^= 0x01
	os.WriteFile(cols[len(cols)-1], b, 0o644)
	_, stderr, code := cli(t, "export", casePath, "--parquet", out, "--force")
	if code != cmdutil.ExitError || !strings.Contains(stderr, "export flows") {
		t.Fatalf("export of a corrupt case: exit %d, %q", code, stderr)
	}
	after := tree(t, out)
	if len(after) != len(before) {
		t.Errorf("files before %d, after the failed export %d", len(before), len(after))
	}
	for name, data := range before {
		if after[name] != data {
			t.Errorf("%s changed by a failed export", name)
		}
	}
	if leftovers, _ := filepath.Glob(filepath.Join(out, ".spotctl-export-*")); len(leftovers) != 0 {
		t.Errorf("temporary directories left: %v", leftovers)
	}
}

// TestExportParquetTypes pins the Parquet types of the flows and dns
// tables (docs/export.md).
func TestExportParquetTypes(t *testing.T) {
	out := t.TempDir()
	mustCLI(t, "export", craftedCase(t), "--parquet", out, "--scores")
	want := map[string]map[string]string{
		"flows": {
			"first": "INT64 TIMESTAMP(isAdjustedToUTC=true,unit=NANOS) REQUIRED", "src_ip": "BYTE_ARRAY STRING REQUIRED",
			"src_port": "INT32 INT(16,false) REQUIRED", "proto": "INT32 INT(8,false) REQUIRED", "bytes": "INT64 INT(64,false) REQUIRED",
			"exporter": "BYTE_ARRAY STRING OPTIONAL", "src_as": "INT32 INT(32,false) REQUIRED",
		},
		"dns": {
			"ts": "INT64 TIMESTAMP(isAdjustedToUTC=true,unit=NANOS) REQUIRED", "response": "BOOLEAN REQUIRED", "qname": "BYTE_ARRAY STRING REQUIRED",
			"answers.list.element.type": "BYTE_ARRAY STRING REQUIRED", "answers.list.element.data": "BYTE_ARRAY STRING REQUIRED",
			"ttl": "INT32 INT(32,false) REQUIRED", "transport": "BYTE_ARRAY STRING REQUIRED",
		},
		"flow_scores": {"rank": "INT64 INT(64,false) REQUIRED", "score": "DOUBLE REQUIRED", "src_word": "BYTE_ARRAY STRING REQUIRED"},
		"dns_scores":  {"rank": "INT64 INT(64,false) REQUIRED", "score": "DOUBLE REQUIRED", "word": "BYTE_ARRAY STRING REQUIRED"},
	}
	for table, cols := range want {
		files := partitions(t, out, table, "parquet")
		if len(files) == 0 {
			t.Fatalf("%s: no files", table)
		}
		got, err := parquettest.LogicalTypes(files[0])
		if err != nil {
			t.Fatal(err)
		}
		for col, typ := range cols {
			if got[col] != typ {
				t.Errorf("%s.%s: %q, want %q", table, col, got[col], typ)
			}
		}
		f, err := parquettest.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(f.CreatedBy, "spotctl ") {
			t.Errorf("created_by %q", f.CreatedBy)
		}
	}
}

// TestExportEmptyCase: a case without DNS gives an empty dns directory,
// not an error.
func TestExportEmptyCase(t *testing.T) {
	casePath := filepath.Join(t.TempDir(), "empty.case")
	c, err := flowstore.Create(casePath, flowstore.CaseInfo{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := c.NewSegment()
	if err != nil {
		t.Fatal(err)
	}
	r := flow.Record{First: 1, Last: 2, Src: addr("10.0.0.1"), Dst: addr("10.0.0.2"), Proto: 6, Packets: 1, Bytes: 40}
	if err := w.AddFlow(&r); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(&flowstore.Manifest{}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	out := t.TempDir()
	_, stderr, code := cli(t, "export", casePath, "--parquet", out, "--scores")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := len(partitions(t, out, "flows", "parquet")); n != 1 {
		t.Errorf("flows: %d partitions", n)
	}
	if ents, err := os.ReadDir(filepath.Join(out, "dns")); err != nil || len(ents) != 0 {
		t.Errorf("dns: %v, %d entries", err, len(ents))
	}
	if !bytes.Contains([]byte(stderr), []byte("dns: 0 rows")) {
		t.Errorf("summary %q", stderr)
	}
}

// TestExportInterrupted: a cancelled export (Ctrl-C) removes the table it
// was writing and reports context.Canceled (exit 130 in spotctl).
func TestExportInterrupted(t *testing.T) {
	casePath := craftedCase(t)
	out := t.TempDir()
	ios, _, _, _ := iostreams.Test()
	cmd := export.NewCmd(ios, nil)
	cmd.SetArgs([]string{casePath, "--parquet", out, "--csv", out})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := cmd.ExecuteContext(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled export: %v", err)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("a cancelled export left %d entries, e.g. %s", len(ents), ents[0].Name())
	}
}
