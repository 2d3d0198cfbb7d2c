package lockfile

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestTryLock(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	a, err := TryLock(p)
	if err != nil {
		t.Fatal(err)
	}
	// A second acquisition (its own open file description, as a second
	// process would have) must fail while the first is held.
	if _, err := TryLock(p); !errors.Is(err, ErrLocked) {
		t.Fatalf("second TryLock: %v, want ErrLocked", err)
	}
	if err := a.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := a.Unlock(); err != nil {
		t.Fatal(err)
	}
	b, err := TryLock(p)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	b.Unlock()
	if _, err := TryLock(filepath.Join(t.TempDir(), "no", "such", "dir", "lock")); err == nil || errors.Is(err, ErrLocked) {
		t.Errorf("missing dir: %v", err)
	}
}

func TestTryLockExisting(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	if _, err := TryLockExisting(p); err == nil {
		t.Fatal("missing lock file: no error")
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatal("TryLockExisting created the file")
	}
	a, err := TryLock(p)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(p)
	if _, err := TryLockExisting(p); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("while held: %v", err)
	}
	a.Unlock()
	b, err := TryLockExisting(p)
	if err != nil {
		t.Fatal(err)
	}
	b.Unlock()
	if after, _ := os.ReadFile(p); string(after) != string(before) {
		t.Errorf("TryLockExisting wrote to the lock file: %q -> %q", before, after)
	}
}
