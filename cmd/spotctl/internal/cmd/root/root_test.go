package root

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmdutil"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/iostreams"
	"github.com/spotctl/spotctl/decode/decodetest"
)

// cli runs spotctl in-process, as a terminal (tty) or a pipe would see it.
func cli(t *testing.T, tty bool, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	ios.SetStdoutTTY(tty)
	code = Main(ios, args)
	return out.String(), errOut.String(), code
}

// demoCase writes a small synthetic capture and ingests it.
func demoCase(t *testing.T) (pcapPath, casePath string) {
	t.Helper()
	dir := t.TempDir()
	pcapPath = filepath.Join(dir, "demo.pcap")
	casePath = filepath.Join(dir, "demo.case")
	if _, stderr, code := cli(t, false, "synth", "--seed", "3", "--hosts", "8", "--packets", "20000", "-o", pcapPath); code != 0 {
		t.Fatalf("synth: exit %d: %s", code, stderr)
	}
	if _, stderr, code := cli(t, false, "ingest", pcapPath, "-o", casePath); code != 0 {
		t.Fatalf("ingest: exit %d: %s", code, stderr)
	}
	return
}

func TestIngestTwiceGivesIdenticalFlows(t *testing.T) {
	pcapPath, casePath := demoCase(t)
	other := filepath.Join(t.TempDir(), "again.case")
	if _, stderr, code := cli(t, false, "ingest", "-q", pcapPath, "-o", other); code != 0 {
		t.Fatalf("second ingest: exit %d: %s", code, stderr)
	}
	a, _, _ := cli(t, false, "flows", casePath, "--format", "jsonl")
	b, _, _ := cli(t, false, "flows", other, "--format", "jsonl")
	if a == "" || a != b {
		t.Fatalf("flows differ between two ingests of the same evidence (%d vs %d bytes)", len(a), len(b))
	}
	for i, line := range strings.Split(strings.TrimSpace(a), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v", i+1, err)
		}
	}
	d1, _, _ := cli(t, false, "dns", casePath)
	d2, _, _ := cli(t, false, "dns", other)
	if d1 == "" || d1 != d2 {
		t.Fatal("dns output differs between two ingests")
	}
}

func TestPipeIsJSONLTerminalIsTable(t *testing.T) {
	_, casePath := demoCase(t)
	pipe, stderr, code := cli(t, false, "flows", casePath, "--limit", "3")
	if code != 0 || stderr != "" {
		t.Fatalf("flows: exit %d, stderr %q", code, stderr)
	}
	if lines := strings.Split(strings.TrimSpace(pipe), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], `{"first":"`) {
		t.Fatalf("pipe output is not 3 JSON lines:\n%s", pipe)
	}
	tty, _, code := cli(t, true, "flows", casePath, "--limit", "3")
	if code != 0 || !strings.HasPrefix(tty, "+---") || !strings.Contains(tty, "| first ") {
		t.Fatalf("terminal output is not a table:\n%s", tty)
	}
	csv, _, _ := cli(t, true, "flows", casePath, "--limit", "3", "--format", "csv", "--fields", "src_ip,bytes")
	if lines := strings.Split(strings.TrimSpace(csv), "\n"); len(lines) != 4 || lines[0] != "src_ip,bytes" {
		t.Fatalf("csv with fields:\n%s", csv)
	}
	_, stderr, code = cli(t, false, "flows", casePath, "--fields", "nope")
	if code != cmdutil.ExitUsage || !strings.Contains(stderr, "valid: first, last") {
		t.Fatalf("unknown field: exit %d, stderr %q", code, stderr)
	}
}

func TestInfoAndVerify(t *testing.T) {
	pcapPath, casePath := demoCase(t)
	out, _, code := cli(t, false, "info", casePath)
	if code != 0 {
		t.Fatalf("info exit %d", code)
	}
	var s struct {
		Flows    uint64 `json:"flows"`
		DNS      uint64 `json:"dns"`
		Evidence []struct {
			SHA256  string `json:"sha256"`
			Packets uint64 `json:"packets"`
		} `json:"evidence"`
		FlowsPerHour []struct{ Flows uint64 } `json:"flows_per_hour"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("info JSON: %v\n%s", err, out)
	}
	if s.Flows == 0 || s.DNS == 0 || len(s.Evidence) != 1 || s.Evidence[0].Packets != 20000 || len(s.Evidence[0].SHA256) != 64 {
		t.Fatalf("info summary: %+v", s)
	}
	var perHour uint64
	for _, h := range s.FlowsPerHour {
		perHour += h.Flows
	}
	if perHour != s.Flows {
		t.Errorf("flows per hour add up to %d, not %d", perHour, s.Flows)
	}
	if _, stderr, code := cli(t, false, "verify", casePath); code != 0 {
		t.Fatalf("verify of a sound case: exit %d: %s", code, stderr)
	}
	// Change the evidence: verify must say so.
	b, _ := os.ReadFile(pcapPath)
	b[len(b)-1] ^= 0xff
	os.WriteFile(pcapPath, b, 0o644)
	out, _, code = cli(t, false, "verify", casePath)
	if code != cmdutil.ExitError || !strings.Contains(out, `"status":"changed"`) {
		t.Fatalf("verify after changing evidence: exit %d\n%s", code, out)
	}
	// Flip a byte in a column: verify names it, and flows refuses it.
	cols, _ := filepath.Glob(filepath.Join(casePath, "seg-*", "flows.col"))
	if len(cols) != 1 {
		t.Fatalf("flows.col files: %v", cols)
	}
	c, _ := os.ReadFile(cols[0])
	c[len(c)-10] ^= 0x01
	os.WriteFile(cols[0], c, 0o644)
	out, _, code = cli(t, false, "verify", casePath, "--no-evidence")
	if code != cmdutil.ExitError || !strings.Contains(out, `"status":"corrupt"`) {
		t.Fatalf("verify after a flipped byte: exit %d\n%s", code, out)
	}
	if _, stderr, code := cli(t, false, "flows", casePath); code != cmdutil.ExitError || !strings.Contains(stderr, "column") {
		t.Fatalf("flows on a corrupt column: exit %d, stderr %q", code, stderr)
	}
}

func TestIngestErrors(t *testing.T) {
	dir := t.TempDir()
	png := filepath.Join(dir, "photo.pcap")
	os.WriteFile(png, []byte("\x89PNG\r\n\x1a\n0000000000000000"), 0o644)
	_, stderr, code := cli(t, false, "ingest", png, "-o", filepath.Join(dir, "c"))
	if code != cmdutil.ExitError || !strings.Contains(stderr, "PNG") || !strings.Contains(stderr, "photo.pcap") {
		t.Fatalf("non-evidence: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "c", "seg-000001")); err == nil {
		t.Fatal("a segment was committed from nothing usable")
	}
	_, _, code = cli(t, false, "ingest", "-o", filepath.Join(dir, "c"))
	if code != cmdutil.ExitUsage {
		t.Fatalf("no evidence: exit %d, want 2", code)
	}
	_, stderr, code = cli(t, false, "flows", filepath.Join(dir, "missing"))
	if code != cmdutil.ExitError || !strings.Contains(stderr, "does not exist") {
		t.Fatalf("missing case: exit %d %q", code, stderr)
	}
}

// A truncated capture: exit 3, a warning with file and offset, the rest kept;
// --strict: exit 1 and nothing written.
func TestIngestTruncated(t *testing.T) {
	pcapPath, _ := demoCase(t)
	b, _ := os.ReadFile(pcapPath)
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	os.WriteFile(cut, b[:len(b)/2+7], 0o644)
	casePath := filepath.Join(t.TempDir(), "c")
	_, stderr, code := cli(t, false, "ingest", cut, pcapPath, "-o", casePath)
	if code != cmdutil.ExitPartial || !strings.Contains(stderr, "cut.pcap: offset ") {
		t.Fatalf("truncated: exit %d, stderr %q", code, stderr)
	}
	out, _, _ := cli(t, false, "info", casePath)
	if !strings.Contains(out, `"error_count":1`) {
		t.Errorf("info does not list the problem:\n%s", out)
	}
	strict := filepath.Join(t.TempDir(), "s")
	_, _, code = cli(t, false, "ingest", "--strict", cut, "-o", strict)
	if code != cmdutil.ExitError {
		t.Fatalf("--strict: exit %d, want 1", code)
	}
	if segs, _ := filepath.Glob(filepath.Join(strict, "seg-*")); len(segs) != 0 {
		t.Fatalf("--strict wrote segments: %v", segs)
	}
}

// Every shared capture ingests with exit 0 (they are clean).
func TestIngestSharedCaptures(t *testing.T) {
	files := decodetest.SharedFiles(t, "pcap")
	casePath := filepath.Join(t.TempDir(), "shared")
	_, stderr, code := cli(t, false, "ingest", "-q", filepath.Dir(files[0]), "-o", casePath)
	if code != 0 {
		t.Fatalf("ingest of the shared captures: exit %d\n%s", code, stderr)
	}
	out, _, _ := cli(t, false, "info", casePath)
	if n := strings.Count(out, `"sha256":"`); n != len(files) {
		t.Errorf("info lists %d evidence files, want %d", n, len(files))
	}
	var buf bytes.Buffer
	tty, _, _ := cli(t, true, "dns", casePath, "--limit", "5")
	buf.WriteString(tty)
	if strings.ContainsRune(buf.String(), 0x1b) {
		t.Error("raw ESC in terminal output")
	}
}

// Scoring is byte-identical across runs and thread counts; a different seed
// is a different model.
func TestScoreDeterministic(t *testing.T) {
	_, casePath := demoCase(t)
	for _, kind := range []string{"flows", "dns"} {
		prev := runtime.GOMAXPROCS(1)
		a, stderr, code := cli(t, false, "score", kind, casePath, "--top", "30")
		runtime.GOMAXPROCS(2)
		b, _, _ := cli(t, false, "score", kind, casePath, "--top", "30")
		runtime.GOMAXPROCS(prev)
		if code != 0 {
			t.Fatalf("score %s: exit %d: %s", kind, code, stderr)
		}
		if n := strings.Count(a, "\n"); n != 30 {
			t.Fatalf("score %s: %d rows, want 30", kind, n)
		}
		if a != b {
			t.Fatalf("score %s differs between GOMAXPROCS=1 and 2", kind)
		}
		if !strings.HasPrefix(a, `{"rank":1,"score":`) {
			t.Fatalf("score %s row: %.80s", kind, a)
		}
		spot, _, _ := cli(t, false, "score", kind, casePath, "--top", "5", "--format", "spot")
		want := map[string]int{"flows": 18, "dns": 9}[kind]
		for _, line := range strings.Split(strings.TrimSpace(spot), "\n") {
			if n := len(strings.Split(line, "\t")); n != want {
				t.Fatalf("--format spot %s: %d columns, want %d: %q", kind, n, want, line)
			}
		}
	}
}

// A capture given instead of a case is ingested into a temporary case.
func TestScoreEvidenceDirectly(t *testing.T) {
	pcapPath, casePath := demoCase(t)
	direct, _, code := cli(t, false, "score", "flows", pcapPath, "--top", "10")
	viaCase, _, _ := cli(t, false, "score", "flows", casePath, "--top", "10")
	if code != 0 || direct != viaCase {
		t.Fatalf("score on the capture (exit %d) differs from score on its case", code)
	}
}

// Filters narrow flows, DNS and scored results; --check validates; a gate
// turns findings into exit 4.
func TestFiltersAndGates(t *testing.T) {
	_, casePath := demoCase(t)
	all, _, _ := cli(t, false, "flows", casePath)
	udp53, stderr, code := cli(t, false, "flows", casePath, "proto udp and dst port 53")
	if code != 0 {
		t.Fatalf("filtered flows: exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(udp53), "\n")
	if len(lines) == 0 || len(lines) >= strings.Count(all, "\n") {
		t.Fatalf("filter kept %d of %d flows", len(lines), strings.Count(all, "\n"))
	}
	for _, l := range lines {
		if !strings.Contains(l, `"dst_port":53,"proto":17,`) {
			t.Fatalf("filter let through %s", l)
		}
	}
	nx, _, _ := cli(t, false, "dns", casePath, "response and rcode NXDOMAIN", "--fields", "rcode,response")
	for _, l := range strings.Split(strings.TrimSpace(nx), "\n") {
		if l != `{"rcode":3,"response":true}` {
			t.Fatalf("dns filter let through %s", l)
		}
	}
	if out, _, code := cli(t, false, "flows", "--check", "src net 10.0.0.0/8 and not dst port 443"); code != 0 || !strings.HasPrefix(out, "filter ok:") {
		t.Fatalf("--check of a valid filter: exit %d %q", code, out)
	}
	if _, stderr, code := cli(t, false, "flows", "--check", "src ip 10.0.0.1 and prot tcp"); code != cmdutil.ExitUsage || !strings.Contains(stderr, "filter:1:21:") {
		t.Fatalf("--check of a bad filter: exit %d %q", code, stderr)
	}
	if _, _, code := cli(t, false, "score", "flows", casePath, "--top", "5", "--fail-on", "score < 2"); code != cmdutil.ExitFindings {
		t.Fatalf("--fail-on that matches: exit %d, want 4", code)
	}
	if _, _, code := cli(t, false, "score", "flows", casePath, "--top", "5", "--fail-on", "score < 0"); code != 0 {
		t.Fatalf("--fail-on that matches nothing: exit %d, want 0", code)
	}
	if _, _, code := cli(t, false, "score", "flows", casePath, "--top", "5", "--fail-on", "score < 2", "--fail-on-count", "6"); code != 0 {
		t.Fatalf("--fail-on-count above the matches: exit %d, want 0", code)
	}
	scored, _, _ := cli(t, false, "score", "flows", casePath, "--top", "3", "proto tcp", "--fields", "proto")
	if strings.Count(scored, `{"proto":6}`) != 3 {
		t.Fatalf("score filter: %s", scored)
	}
}

// --top-domains takes a rank,domain list and says so; without it the
// popularity is learned from the case.
func TestScoreDNSPopularitySource(t *testing.T) {
	_, casePath := demoCase(t)
	_, stderr, code := cli(t, false, "score", "dns", casePath, "--top", "3")
	if code != 0 || !strings.Contains(stderr, "learned from the case") {
		t.Fatalf("learned popularity: exit %d, stderr %q", code, stderr)
	}
	list := filepath.Join(t.TempDir(), "top.csv")
	os.WriteFile(list, []byte("1,google.com\n2,example.com\n3,microsoft.com\n"), 0o644)
	_, stderr, code = cli(t, false, "score", "dns", casePath, "--top", "3", "--top-domains", list)
	if code != 0 || !strings.Contains(stderr, "popular domains: 3 from "+list) {
		t.Fatalf("--top-domains: exit %d, stderr %q", code, stderr)
	}
	os.WriteFile(list, []byte("1,google.com\nbroken\n"), 0o644)
	if _, stderr, code = cli(t, false, "score", "dns", casePath, "--top-domains", list); code == 0 || !strings.Contains(stderr, "line 2") {
		t.Fatalf("broken list: exit %d, stderr %q", code, stderr)
	}
}
