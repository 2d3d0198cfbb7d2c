//go:build unix

package hostile

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

type caseInfo struct {
	Segments int    `json:"segments"`
	Flows    uint64 `json:"flows"`
	DNS      uint64 `json:"dns"`
}

func info(t *testing.T, casePath string) caseInfo {
	t.Helper()
	r := run(t, nil, "info", casePath, "--format", "json")
	if r.code != 0 {
		t.Fatalf("info %s: exit %d: %s", casePath, r.code, r.stderr(t))
	}
	var ci caseInfo
	if err := json.Unmarshal(r.stdout, &ci); err != nil {
		t.Fatalf("info JSON: %v\n%s", err, r.stdout)
	}
	return ci
}

func verifyCase(t *testing.T, casePath string) {
	t.Helper()
	if r := run(t, nil, "verify", casePath, "--no-evidence"); r.code != 0 {
		t.Fatalf("verify --no-evidence %s: exit %d\n%s%s", casePath, r.code, r.stdout, r.stderr(t))
	}
}

// TestIngestSIGKILL kills `spotctl ingest` at random moments of adding a
// second segment to a case and checks that the case always opens, holds
// the committed segments only, verifies, and takes the ingest when rerun.
func TestIngestSIGKILL(t *testing.T) {
	needBinary(t)
	runs, packets := 20, "60000"
	if isLong() {
		runs, packets = 40, "300000"
	}
	dir := t.TempDir()
	base, next := filepath.Join(dir, "base.pcap"), filepath.Join(dir, "next.pcap")
	for _, s := range []struct{ path, seed, packets string }{{base, "1", "2000"}, {next, "2", packets}} {
		if r := run(t, nil, "synth", "--seed", s.seed, "--hosts", "20", "--packets", s.packets, "-o", s.path); r.code != 0 {
			t.Fatalf("synth: exit %d: %s", r.code, r.stderr(t))
		}
	}
	// The reference: base, then next, uninterrupted.
	ref := filepath.Join(dir, "ref.case")
	for _, p := range []string{base, next} {
		if r := run(t, nil, "ingest", "-q", p, "-o", ref); r.code != 0 {
			t.Fatalf("ingest %s: exit %d: %s", p, r.code, r.stderr(t))
		}
	}
	one := filepath.Join(dir, "one.case")
	if r := run(t, nil, "ingest", "-q", base, "-o", one); r.code != 0 {
		t.Fatalf("ingest base: exit %d", r.code)
	}
	// The ingest's duration, process start included: the faster of two
	// runs (the first may pay for a cold page cache).
	var full time.Duration
	for i := 0; i < 2; i++ {
		start := time.Now()
		r := run(t, nil, "ingest", "-q", next, "-o", filepath.Join(dir, fmt.Sprintf("timing%d.case", i)))
		if d := time.Since(start); i == 0 || d < full {
			full = d
		}
		if r.code != 0 {
			t.Fatalf("ingest next: exit %d", r.code)
		}
	}
	want1, want2 := info(t, one), info(t, ref)

	rng := rand.New(rand.NewPCG(6, 14)) // fixed seed: the same kill points every run
	interrupted, committed, finished := 0, 0, 0
	for i := 0; i < runs; i++ {
		c := filepath.Join(dir, fmt.Sprintf("run%02d.case", i))
		if err := os.CopyFS(c, os.DirFS(one)); err != nil {
			t.Fatal(err)
		}
		// Spread the kills over the ingest (the timing run includes start-up).
		delay := time.Duration(rng.Int64N(int64(full) * 9 / 10))
		cmd := exec.Command(spotctlBin, "ingest", "-q", next, "-o", c)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
		if !ws.Signaled() {
			finished++
		}
		got := info(t, c)
		verifyCase(t, c)
		switch got {
		case want1:
			interrupted++
			if r := run(t, nil, "ingest", "-q", next, "-o", c); r.code != 0 {
				t.Fatalf("run %d (kill after %v): rerun ingest: exit %d: %s", i, delay, r.code, r.stderr(t))
			}
			if got := info(t, c); got != want2 {
				t.Fatalf("run %d: after the rerun the case holds %+v, want %+v", i, got, want2)
			}
			verifyCase(t, c)
		case want2:
			if ws.Signaled() {
				committed++ // killed after the commit, before exiting
			}
		default:
			t.Fatalf("run %d (kill after %v): the case holds %+v: neither %+v (old) nor %+v (committed)", i, delay, got, want1, want2)
		}
		// A dead writer's temporary segment is swept by the next writer
		// or Open (docs/flowstore.md): none may be left by now.
		ents, err := os.ReadDir(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".tmp-") {
				t.Errorf("run %d: %s left in the case after info, verify and the rerun", i, e.Name())
			}
		}
		os.RemoveAll(c)
	}
	recordFigure(t, fmt.Sprintf("| crash test | %s packets | %d runs | full ingest %.2f s | %d killed before the commit, %d killed after it, %d finished first | all opened and verified; every interrupted ingest completed on rerun |",
		packets, runs, full.Seconds(), interrupted, committed, finished))
}
