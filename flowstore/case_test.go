package flowstore

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spotctl/spotctl/decode/flow"
)

func TestCreateRules(t *testing.T) {
	base := t.TempDir()
	// New directory with missing parents.
	c, err := Create(filepath.Join(base, "a", "b", "case"), testInfo)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	// Existing empty directory.
	empty := filepath.Join(base, "empty")
	os.Mkdir(empty, 0o755)
	if c, err = Create(empty, testInfo); err != nil {
		t.Fatal(err)
	}
	c.Close()
	// Existing case.
	if _, err := Create(empty, testInfo); !errors.Is(err, ErrCaseExists) {
		t.Errorf("create over a case: %v, want ErrCaseExists", err)
	}
	// Non-empty directory that is not a case.
	other := filepath.Join(base, "other")
	os.Mkdir(other, 0o755)
	os.WriteFile(filepath.Join(other, "notes.txt"), []byte("mine"), 0o644)
	if _, err := Create(other, testInfo); !errors.Is(err, ErrNotEmpty) {
		t.Errorf("create in a non-empty dir: %v, want ErrNotEmpty", err)
	}
	if b, _ := os.ReadFile(filepath.Join(other, "notes.txt")); string(b) != "mine" {
		t.Errorf("Create touched someone else's file")
	}
	// A regular file.
	file := filepath.Join(base, "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := Create(file, testInfo); err == nil {
		t.Errorf("create on a file: no error")
	}
	// Leftover of an interrupted Create is fine.
	interrupted := filepath.Join(base, "interrupted")
	os.Mkdir(interrupted, 0o755)
	os.WriteFile(filepath.Join(interrupted, ".tmp-case.json-1"), []byte("{"), 0o644)
	if c, err = Create(interrupted, testInfo); err != nil {
		t.Fatalf("create over an interrupted create: %v", err)
	}
	c.Close()
	if _, err := os.Stat(filepath.Join(interrupted, ".tmp-case.json-1")); !os.IsNotExist(err) {
		t.Errorf("interrupted create's temp file not removed")
	}
}

func TestOpenRules(t *testing.T) {
	base := t.TempDir()
	if _, err := Open(base); !errors.Is(err, ErrNotCase) {
		t.Errorf("open empty dir: %v, want ErrNotCase", err)
	}
	if _, err := Open(filepath.Join(base, "missing")); err == nil || errors.Is(err, ErrNotCase) {
		t.Errorf("open missing dir: %v", err)
	}
	write := func(name, content string) string {
		d := filepath.Join(base, name)
		os.Mkdir(d, 0o755)
		os.WriteFile(filepath.Join(d, "case.json"), []byte(content), 0o644)
		return d
	}
	for _, tc := range []struct {
		name, json string
		want       error
		msg        string
	}{
		{"future", `{"format":"spotctl-case","format_version":2}`, ErrUnsupportedVersion, "case format version 2, this build reads version 1"},
		{"foreign", `{"format":"something-else","format_version":1}`, ErrNotCase, `format "something-else"`},
		{"garbage", `{not json`, nil, "read case.json"},
	} {
		_, err := Open(write(tc.name, tc.json))
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want %v containing %q", tc.name, err, tc.want, tc.msg)
		}
	}
	// A manifest that names another segment (a renamed directory).
	c := newCase(t)
	writeSegment(t, c, genSegment(1, 1, 1, 1))
	if err := os.Rename(filepath.Join(c.Dir(), "seg-000001"), filepath.Join(c.Dir(), "seg-000002")); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(c.Dir()); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "says segment 1") {
		t.Errorf("renamed segment: %v", err)
	}
}

func TestSegmentNames(t *testing.T) {
	for name, want := range map[string]int{
		"seg-000001": 1, "seg-123456": 123456, "seg-1234567": 1234567,
		"seg-000000": 0, "seg-00001": 0, "seg-0000001": 0, "seg-00000a": 0, "seg--00001": 0, "xseg-000001": 0,
		"seg-9999999999": 0,
	} {
		n, ok := parseSegName(name)
		if (want > 0) != ok || n != want {
			t.Errorf("parseSegName(%q) = %d, %v; want %d", name, n, ok, want)
		}
	}
	c := newCase(t)
	// Foreign entries in the case directory are ignored.
	os.Mkdir(filepath.Join(c.Dir(), "seg-1"), 0o755)
	os.WriteFile(filepath.Join(c.Dir(), "README"), nil, 0o644)
	writeSegment(t, c, segmentData{})
	if got := reopen(t, c).Segments(); len(got) != 1 || got[0].Number != 1 {
		t.Fatalf("segments %v", got)
	}
}

func TestLock(t *testing.T) {
	c := newCase(t)
	w, err := c.NewSegment()
	if err != nil {
		t.Fatal(err)
	}
	// A second handle on the case (another process would look the same to
	// flock: its own open file description).
	other := reopen(t, c)
	if _, err := other.NewSegment(); !errors.Is(err, ErrLocked) {
		t.Fatalf("second writer: %v, want ErrLocked", err)
	}
	if _, err := c.NewSegment(); !errors.Is(err, ErrLocked) {
		t.Fatalf("second writer on the same handle: %v, want ErrLocked", err)
	}
	// Open while a writer runs must not sweep its temp directory.
	if _, err := os.Stat(w.tmp); err != nil {
		t.Fatalf("writer temp dir: %v", err)
	}
	third := reopen(t, c)
	if _, err := os.Stat(w.tmp); err != nil {
		t.Fatalf("Open swept a live writer's temp dir: %v", err)
	}
	d := genSegment(3, 100, 10, 4)
	for i := range d.flows {
		w.AddFlow(&d.flows[i])
	}
	for i := range d.dns {
		w.AddDNS(&d.dns[i])
	}
	if err := w.Commit(testManifest()); err != nil {
		t.Fatal(err)
	}
	if len(third.Segments()) != 0 {
		t.Errorf("a reader's snapshot changed under it")
	}
	// The lock is free again, and the other handle sees segment 1 and
	// writes segment 2.
	writeSegment(t, other, segmentData{})
	segs := other.Segments()
	if len(segs) != 2 || segs[0].Number != 1 || segs[1].Number != 2 {
		t.Fatalf("segments after concurrent writers: %d", len(segs))
	}
	checkSegment(t, segs[0], d)
}

func TestAbortAndSweep(t *testing.T) {
	c := newCase(t)
	w, err := c.NewSegment()
	if err != nil {
		t.Fatal(err)
	}
	r := randFlow(newRand(1))
	w.AddFlow(&r)
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := w.AddFlow(&r); !errors.Is(err, ErrWriterDone) {
		t.Errorf("AddFlow after Abort: %v", err)
	}
	if err := w.Commit(nil); !errors.Is(err, ErrWriterDone) {
		t.Errorf("Commit after Abort: %v", err)
	}
	assertNoTemps(t, c.Dir())
	// A killed writer's leftovers: swept by Open, and by NewSegment.
	stale := filepath.Join(c.Dir(), ".tmp-seg-000001")
	os.MkdirAll(filepath.Join(stale, "spill"), 0o755)
	os.WriteFile(filepath.Join(stale, "flows.col"), []byte("partial"), 0o644)
	cc := reopen(t, c)
	assertNoTemps(t, c.Dir())
	os.MkdirAll(stale, 0o755)
	w, err = cc.NewSegment()
	if err != nil {
		t.Fatal(err)
	}
	if w.Number() != 1 {
		t.Errorf("number %d, want 1", w.Number())
	}
	if err := w.Commit(nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(nil); !errors.Is(err, ErrWriterDone) {
		t.Errorf("second Commit: %v", err)
	}
	assertNoTemps(t, c.Dir())
	if n := len(cc.Segments()); n != 1 {
		t.Fatalf("%d segments", n)
	}
	// Close aborts a pending writer.
	w, err = cc.NewSegment()
	if err != nil {
		t.Fatal(err)
	}
	cc.Close()
	assertNoTemps(t, c.Dir())
	if _, err := c.NewSegment(); err != nil {
		t.Fatalf("lock not released by Close: %v", err)
	}
}

func assertNoTemps(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("temp entry left: %s", e.Name())
		}
	}
}

func TestAddDNSDoesNotKeepCallerMemory(t *testing.T) {
	c := newCase(t)
	w, err := c.NewSegment()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	buf := []byte("mutable.example.com")
	m := flow.DNSMessage{QName: unsafeString(buf)}
	w.AddDNS(&m)
	copy(buf, "XXXXXXX")
	m2 := flow.DNSMessage{QName: "mutable.example.com"}
	w.AddDNS(&m2)
	w.AddDNS(&m2)
	if err := w.Commit(nil); err != nil {
		t.Fatal(err)
	}
	dt, _ := c.Segments()[0].DNS()
	qn, _ := dt.Strings(ColQName)
	for i := 0; i < 3; i++ {
		if qn.At(i) != "mutable.example.com" {
			t.Fatalf("row %d: %q", i, qn.At(i))
		}
	}
}
