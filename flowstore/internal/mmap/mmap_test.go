package mmap

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unsafe"
)

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	want := bytes.Repeat([]byte("spotctl!"), 1000)
	want = append(want, 1, 2, 3) // odd length
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, want, 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, disabled := range []bool{false, true} {
		Disabled = disabled
		f, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(f.Bytes(), want) {
			t.Errorf("disabled=%v: content differs", disabled)
		}
		if f.Mapped() == disabled {
			t.Errorf("disabled=%v: Mapped()=%v", disabled, f.Mapped())
		}
		if uintptr(unsafe.Pointer(&f.Bytes()[0]))%8 != 0 {
			t.Errorf("disabled=%v: data not 8-byte aligned", disabled)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil { // idempotent
			t.Fatal(err)
		}
		e, err := Open(empty)
		if err != nil || len(e.Bytes()) != 0 {
			t.Fatalf("empty: %v, %d bytes", err, len(e.Bytes()))
		}
		e.Close()
	}
	Disabled = false
	if _, err := Open(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Open(dir); err == nil {
		t.Errorf("directory: no error")
	}
}
