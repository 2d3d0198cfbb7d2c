package flowstore

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

const crashHelperEnv = "FLOWSTORE_CRASH_HELPER_DIR"

// crashSegment is the content the helper writes into segment n, so the
// parent can check every surviving segment row by row. Every other segment
// has flow-export fields in some rows (sparse columns created mid-write).
func crashSegment(n int) segmentData {
	rng := newRand(uint64(n))
	d := genSegment(uint64(n), 500+rng.IntN(4000), rng.IntN(1500), 40)
	if n%2 == 0 {
		d = withExport(d, uint64(n), 1+rng.IntN(5))
	}
	return d
}

// TestCrashHelper is not a test: it is the writer process that
// TestCrashSafety kills. It appends segments until killed.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv(crashHelperEnv)
	if dir == "" {
		t.Skip("helper process for TestCrashSafety")
	}
	c, err := Open(dir)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	for i := 0; i < 100; i++ {
		w, err := c.NewSegment()
		if err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		d := crashSegment(w.Number())
		for j := range d.flows {
			w.AddFlow(&d.flows[j])
		}
		for j := range d.dns {
			w.AddDNS(&d.dns[j])
		}
		if err := w.Commit(testManifest()); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fmt.Printf("committed %d\n", w.Number()) // os.Stdout is unbuffered
	}
	os.Exit(0)
}

// TestCrashSafety SIGKILLs a writing process at random moments (fixed
// seed) and checks after each kill that the case opens, holds exactly the
// segments that were committed (the one whose rename raced the kill may or
// may not be there, and is complete if it is), has no temp leftovers after
// Open, and verifies clean. Finally a new segment commits in-process.
func TestCrashSafety(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("needs flock and SIGKILL")
	}
	if testing.Short() {
		t.Skip("spawns processes")
	}
	c := newCase(t)
	dir := c.Dir()
	c.Close()
	rng := rand.New(rand.NewPCG(2024, 5))
	const runs = 24
	have, midWrite := 0, 0
	for run := 0; run < runs; run++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashHelperEnv+"="+dir)
		var out bytes.Buffer
		cmd.Stdout = &out
		cmd.Stderr = &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(20+rng.IntN(250)) * time.Millisecond)
		cmd.Process.Kill() // SIGKILL: no deferred cleanup runs
		cmd.Wait()
		reported := 0
		sc := bufio.NewScanner(&out)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "error") {
				t.Fatalf("run %d: helper failed: %s", run, line)
			}
			var n int
			if _, err := fmt.Sscanf(line, "committed %d", &n); err == nil {
				reported++
				if n != have+reported {
					t.Fatalf("run %d: helper committed segment %d, expected %d", run, n, have+reported)
				}
			}
		}
		if ents, _ := os.ReadDir(dir); hasTemp(ents) {
			midWrite++
		}
		cc, err := Open(dir)
		if err != nil {
			t.Fatalf("run %d: open after kill: %v", run, err)
		}
		assertNoTemps(t, dir)
		segs := cc.Segments()
		if n := len(segs); n != have+reported && n != have+reported+1 {
			t.Fatalf("run %d: %d segments, helper reported %d on top of %d", run, n, reported, have)
		}
		for i, s := range segs {
			if s.Number != i+1 {
				t.Fatalf("run %d: segment %d at position %d", run, s.Number, i)
			}
			if i >= have {
				checkSegment(t, s, crashSegment(s.Number))
			}
		}
		if errs := cc.Verify(); errs != nil {
			t.Fatalf("run %d: verify: %v", run, errs)
		}
		have = len(segs)
		cc.Close()
	}
	t.Logf("%d kills: %d segments committed, %d kills left a partial segment behind", runs, have, midWrite)
	if have == 0 {
		t.Fatal("no segment was ever committed: the kill points did not exercise anything")
	}
	cc, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	writeSegment(t, cc, crashSegment(have+1))
	if segs := cc.Segments(); len(segs) != have+1 || segs[have].Number != have+1 {
		t.Fatalf("after the kills: %d segments", len(segs))
	}
	checkSegment(t, cc.Segments()[have], crashSegment(have+1))
}

func hasTemp(ents []os.DirEntry) bool {
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			return true
		}
	}
	return false
}
