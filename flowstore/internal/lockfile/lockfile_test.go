package lockfile

import (
	"errors"
	"path/filepath"
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
