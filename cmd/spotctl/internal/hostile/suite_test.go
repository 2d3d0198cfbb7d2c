//go:build unix

package hostile

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spotctl/spotctl/flowstore"
)

// -long runs the full-size variants (10^7 flows, 10^6 fragments, a 1 GiB
// gzip bomb, 300k-packet crash test); SPOTCTL_HOSTILE_LONG=1 does too.
var long = flag.Bool("long", false, "run the full-size hostile cases")

// figures, when set, receives one markdown table row per measurement.
var figures = flag.String("figures", os.Getenv("SPOTCTL_HOSTILE_FIGURES"), "append measured figures (markdown rows) to this file")

func isLong() bool { return *long || os.Getenv("SPOTCTL_HOSTILE_LONG") != "" }

// memLimitKB is the peak RSS every spotctl run must stay under.
const memLimitKB = 512 << 10

// hangTimeout bounds one spotctl run: far beyond any honest duration.
const hangTimeout = 10 * time.Minute

var spotctlBin string

func TestMain(m *testing.M) {
	if res := os.Getenv(runnerEnv); res != "" {
		os.Exit(runner(res))
	}
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "spotctl-hostile-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	spotctlBin = filepath.Join(dir, "spotctl")
	cmd := exec.Command("go", "build", "-o", spotctlBin, "github.com/spotctl/spotctl/cmd/spotctl")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build spotctl: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func needBinary(t *testing.T) {
	t.Helper()
	if spotctlBin == "" {
		t.Skip("-short: the hostile suite runs the built binary")
	}
}

// result is one finished spotctl run.
type result struct {
	stdout     []byte
	stderrPath string
	code       int
	maxRSSKB   int64
	wall       time.Duration
}

func (r *result) stderr(t *testing.T) string {
	b, err := os.ReadFile(r.stderrPath)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The test binary doubles as a small runner process that starts spotctl and
// reports its rusage. Why: on Linux a child started with vfork+exec (what
// os/exec does) inherits its parent's RSS high-water mark in ru_maxrss, so
// measuring spotctl directly from this test process would report the test's
// own peak (tens of MB after generating evidence) for every small run. The
// runner is a fresh, small process (its floor is a few MB).
const (
	runnerEnv    = "SPOTCTL_HOSTILE_RUNNER" // result file
	runnerBinEnv = "SPOTCTL_HOSTILE_BIN"
)

func runner(resultPath string) int {
	cmd := exec.Command(os.Getenv(runnerBinEnv), os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		fmt.Fprintln(os.Stderr, "runner:", err)
		return 125
	}
	ps := cmd.ProcessState
	sig := 0
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		sig = int(ws.Signal())
	}
	var rss int64
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		rss = int64(ru.Maxrss)
		if runtime.GOOS == "darwin" {
			rss /= 1024
		}
	}
	if err := os.WriteFile(resultPath, fmt.Appendf(nil, "%d %d %d %d", ps.ExitCode(), sig, rss, wall.Nanoseconds()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "runner:", err)
		return 125
	}
	return 0
}

// run starts the binary with args, stdout to memory and stderr to a file
// (a flood of warnings must not fill the test's memory), and measures it.
func run(t *testing.T, env []string, args ...string) *result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
	defer cancel()
	errf, err := os.CreateTemp(t.TempDir(), "stderr-")
	if err != nil {
		t.Fatal(err)
	}
	defer errf.Close()
	resPath := errf.Name() + ".rusage"
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, errf
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, runnerEnv+"="+resPath, runnerBinEnv+"="+spotctlBin)
	// On a hang, kill the runner and spotctl with it (same process group).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	err = cmd.Run()
	r := &result{stdout: out.Bytes(), stderrPath: errf.Name()}
	if ctx.Err() != nil {
		t.Fatalf("spotctl %s: no result after %v (hang?)", strings.Join(args, " "), hangTimeout)
	}
	if err != nil {
		t.Fatalf("runner for spotctl %s: %v; stderr:\n%s", strings.Join(args, " "), err, tail(r.stderr(t), 2000))
	}
	res, err := os.ReadFile(resPath)
	if err != nil {
		t.Fatalf("runner result: %v", err)
	}
	var sig int
	var wall int64
	if _, err := fmt.Sscan(string(res), &r.code, &sig, &r.maxRSSKB, &wall); err != nil {
		t.Fatalf("runner result %q: %v", res, err)
	}
	r.wall = time.Duration(wall)
	if sig != 0 {
		t.Fatalf("spotctl %s: killed by signal %d; stderr:\n%s", strings.Join(args, " "), sig, tail(r.stderr(t), 2000))
	}
	if strings.Contains(r.stderr(t), "goroutine ") && strings.Contains(r.stderr(t), "panic") {
		t.Fatalf("spotctl %s panicked:\n%s", strings.Join(args, " "), tail(r.stderr(t), 4000))
	}
	return r
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func recordFigure(t *testing.T, row string) {
	t.Log(row)
	if *figures == "" {
		return
	}
	f, err := os.OpenFile(*figures, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Errorf("figures: %v", err)
		return
	}
	fmt.Fprintln(f, row)
	f.Close()
}

func fileSizes(paths []string) (n int64) {
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil {
			n += st.Size()
		}
	}
	return n
}

// problemLine is one problem printed in full; moreLine counts those of a
// kind that were not.
var (
	problemLine = regexp.MustCompile(`(?m)^(warning|note): (.+?): offset (\d+): (.*)$`)
	moreLine    = regexp.MustCompile(`(?m)^(warning|note): (.+?): (\d+) more "(.*)" (?:warnings|notes) not shown \((\d+) in all`)
)

// maxLinesPerFile bounds the stderr lines an ingest may print per evidence
// file, whatever the number of bad records in it: ingest prints 10
// problems per kind and file and one line counting the rest, and these
// files hold at most a handful of kinds each.
const maxLinesPerFile = 100

func TestHostileEvidence(t *testing.T) {
	needBinary(t)
	scale := 1
	if isLong() {
		scale = 10
	}
	for _, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) {
			dir := t.TempDir()
			gen := time.Now()
			paths, err := c.Build(dir, scale)
			if err != nil {
				t.Fatalf("build evidence: %v", err)
			}
			genTime := time.Since(gen)
			casePath := filepath.Join(dir, "case")
			args := append([]string{"ingest", "-q", "-o", casePath}, c.Args...)
			r := run(t, nil, append(args, paths...)...)
			stderr := r.stderr(t)
			if r.code != 0 && r.code != 3 {
				t.Fatalf("ingest: exit %d (want 0, or 3 for damaged evidence); stderr:\n%s", r.code, tail(stderr, 3000))
			}
			if r.maxRSSKB > memLimitKB {
				t.Errorf("ingest peak RSS %d MB, over the %d MB bound (flags %q)", r.maxRSSKB>>10, memLimitKB>>10, c.Args)
			}
			problems := problemLine.FindAllStringSubmatch(stderr, -1)
			lines := strings.Count(stderr, "\n")
			if lines > maxLinesPerFile*len(paths) {
				t.Errorf("%d stderr lines for %d files: not bounded (at most %d per file)", lines, len(paths), maxLinesPerFile)
			}
			// Every hostile file (all but the legit-* and after.pcap ones)
			// must be named, with an offset, by at least one problem of
			// the expected severity.
			unnamed := func(sev string) (missing []string) {
				for _, p := range paths {
					if b := filepath.Base(p); strings.HasPrefix(b, "legit-") || b == "after.pcap" {
						continue
					}
					found := false
					for _, w := range problems {
						found = found || (w[1] == sev && w[2] == p)
					}
					if !found {
						missing = append(missing, filepath.Base(p))
					}
				}
				return missing
			}
			switch {
			case c.Warn:
				if r.code != 3 {
					t.Errorf("ingest: exit %d, want 3 (damaged evidence reported)", r.code)
				}
				if u := unnamed("warning"); len(u) > 0 {
					t.Errorf("no warning names %v with an offset; stderr:\n%s", u, tail(stderr, 3000))
				}
			case c.Note:
				if r.code != 0 {
					t.Errorf("ingest: exit %d, want 0 (notes only)", r.code)
				}
			}
			if c.Note {
				if u := unnamed("note"); len(u) > 0 {
					t.Errorf("no note names %v with an offset; stderr:\n%s", u, tail(stderr, 3000))
				}
			}
			nWarn, nNote := checkCounts(t, casePath, stderr)
			first := "" // the first problem, with the temporary directory cut
			if len(problems) > 0 {
				first = problems[0][0]
			} else if lines > 0 {
				first = strings.SplitN(stderr, "\n", 2)[0]
			}
			checkLegit(t, casePath, c)
			recordFigure(t, fmt.Sprintf("| %s | %s | %.1f MB | %.2f s | %d MB | exit %d | %d / %d | %d | %s |",
				c.Name, map[bool]string{false: "short", true: "long"}[isLong()], float64(fileSizes(paths))/1e6,
				r.wall.Seconds(), r.maxRSSKB>>10, r.code, nWarn, nNote, lines, mdEscape(tail(strings.ReplaceAll(first, dir+"/", ""), 160))))
			t.Logf("generated in %v", genTime.Round(time.Millisecond))
		})
	}
}

// checkCounts asserts that what stderr shows of each file's problems adds
// up to the counts in the case manifest: the lines printed in full plus the
// numbers of the "N more … not shown" lines. It returns the manifest's
// totals of warnings and notes.
func checkCounts(t *testing.T, casePath, stderr string) (warnings, notes uint64) {
	t.Helper()
	manifests, _ := filepath.Glob(filepath.Join(casePath, "seg-*", "manifest.json"))
	if len(manifests) != 1 {
		t.Fatalf("segments: %v", manifests)
	}
	b, err := os.ReadFile(manifests[0])
	if err != nil {
		t.Fatal(err)
	}
	var m flowstore.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	shown := map[string]uint64{} // "warning FILE" → problems accounted for on stderr
	for _, line := range strings.Split(stderr, "\n") {
		if mm := moreLine.FindStringSubmatch(line); mm != nil {
			n, _ := strconv.ParseUint(mm[3], 10, 64)
			shown[mm[1]+" "+mm[2]] += n
			continue
		}
		for _, sev := range []string{"warning", "note"} {
			for _, e := range m.Evidence {
				if strings.HasPrefix(line, sev+": "+e.Path+": ") {
					shown[sev+" "+e.Path]++
				}
			}
		}
	}
	for _, e := range m.Evidence {
		warnings += e.ErrorCount
		notes += e.NoteCount
		if got := shown["warning "+e.Path]; got != e.ErrorCount {
			t.Errorf("%s: stderr accounts for %d warnings, the manifest counts %d", filepath.Base(e.Path), got, e.ErrorCount)
		}
		if got := shown["note "+e.Path]; got != e.NoteCount {
			t.Errorf("%s: stderr accounts for %d notes, the manifest counts %d", filepath.Base(e.Path), got, e.NoteCount)
		}
	}
	return warnings, notes
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "`", "'").Replace(s)
}

type flowRow struct {
	SrcIP   string `json:"src_ip"`
	SrcPort int    `json:"src_port"`
	DstIP   string `json:"dst_ip"`
	DstPort int    `json:"dst_port"`
	Proto   int    `json:"proto"`
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
}

type dnsRow struct {
	QName     string `json:"qname"`
	Response  bool   `json:"response"`
	Transport string `json:"transport"`
	ClientIP  string `json:"client_ip"`
	Answers   []struct {
		Type string `json:"type"`
		Data string `json:"data"`
	} `json:"answers"`
}

func jsonl[T any](t *testing.T, out []byte) []T {
	t.Helper()
	var rows []T
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("not JSON: %v: %q", err, sc.Text())
		}
		rows = append(rows, v)
	}
	return rows
}

// checkLegit asserts that every legitimate record of c is in the case.
func checkLegit(t *testing.T, casePath string, c Case) {
	t.Helper()
	r := run(t, nil, "flows", casePath, "--format", "jsonl", "src ip in [ 192.0.2.10 203.0.113.77 ]")
	if r.code != 0 {
		t.Fatalf("flows: exit %d: %s", r.code, r.stderr(t))
	}
	flows := jsonl[flowRow](t, r.stdout)
	has := func(src string, sport int, dst string, dport int, pk, by uint64) bool {
		for _, f := range flows {
			if f.SrcIP == src && f.SrcPort == sport && f.DstIP == dst && f.DstPort == dport && f.Packets == pk && (by == 0 || f.Bytes == by) {
				return true
			}
		}
		return false
	}
	for _, l := range c.Legit {
		p := int(LegitClient.Port + l.PortOff)
		if !has(LegitClient.IP.String(), p, LegitServer.IP.String(), int(LegitServer.Port), 4, 0) {
			// SYN, ACK, data, FIN: the flow ends at the FIN.
			t.Errorf("legitimate TCP flow %s:%d → %v (%s) missing or damaged", LegitClient.IP, p, LegitServer, l.Tag)
		}
	}
	if c.Export && !has(LegitExportSrc.IP.String(), int(LegitExportSrc.Port), LegitExportDst.IP.String(), int(LegitExportDst.Port), 10, 4242) {
		t.Errorf("legitimate exported flow %v → %v missing", LegitExportSrc, LegitExportDst)
	}
	r = run(t, nil, "dns", casePath, "--format", "jsonl", "qname suffix example.com and client 192.0.2.10")
	if r.code != 0 {
		t.Fatalf("dns: exit %d: %s", r.code, r.stderr(t))
	}
	msgs := jsonl[dnsRow](t, r.stdout)
	hasDNS := func(name, transport string, response bool, answer string) bool {
		for _, m := range msgs {
			if m.QName != name || m.Transport != transport || m.Response != response {
				continue
			}
			if !response {
				return true
			}
			for _, a := range m.Answers {
				if a.Type == "A" && a.Data == answer {
					return true
				}
			}
		}
		return false
	}
	for _, l := range c.Legit {
		for _, w := range []struct {
			name, transport, answer string
		}{{LegitName(l.Tag), "udp", "198.51.100.20"}, {LegitName(l.Tag + "-tcp"), "tcp", "198.51.100.21"}} {
			if !hasDNS(w.name, w.transport, false, "") {
				t.Errorf("legitimate %s query %s missing", w.transport, w.name)
			}
			if !hasDNS(w.name, w.transport, true, w.answer) {
				t.Errorf("legitimate %s response %s → %s missing", w.transport, w.name, w.answer)
			}
		}
	}
	if t.Failed() {
		out, _ := run(t, nil, "flows", casePath, "--format", "csv", "--fields", "src_ip,src_port,dst_ip,dst_port,packets,bytes", "src ip in [ 192.0.2.10 203.0.113.77 ]").stdout, 0
		t.Logf("legitimate flows:\n%s\nlegitimate DNS:\n%s", tail(string(out), 1500), tail(string(r.stdout), 1500))
	}
}
