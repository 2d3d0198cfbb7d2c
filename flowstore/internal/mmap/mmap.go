// Package mmap gives read-only access to a whole file, memory-mapped where
// the OS allows it and read into memory otherwise. It is the only place in
// flowstore that knows how a file's bytes get into the address space.
package mmap

import (
	"fmt"
	"io"
	"math"
	"os"
	"unsafe"
)

// Disabled forces the read-into-memory path; tests use it to exercise the
// fallback on hosts where mapping works.
var Disabled = false

// File is an open, read-only view of one file's bytes.
type File struct {
	data   []byte
	mapped bool
}

// Open maps path read-only. If mapping is unavailable or fails, the file is
// read into an 8-byte aligned buffer instead, so typed views over it stay
// aligned either way.
func Open(path string) (f *File, err error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	// The descriptor is not needed once the mapping exists (or the bytes are
	// read); close it on every path, keeping the first error.
	defer func() {
		if cerr := fd.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close %s: %w", path, cerr)
			f.Close()
			f = nil
		}
	}()
	st, err := fd.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	size := st.Size()
	if size < 0 || uint64(size) > math.MaxInt {
		return nil, fmt.Errorf("%s: size %d does not fit in memory", path, size)
	}
	if size == 0 {
		// A zero-length mapping is an error on every OS; nothing to map.
		return &File{data: []byte{}}, nil
	}
	if !Disabled {
		if b, err := mapFile(fd, int(size)); err == nil {
			return &File{data: b, mapped: true}, nil
		}
	}
	b, err := readAligned(fd, int(size))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return &File{data: b}, nil
}

// readAligned reads n bytes into a buffer whose first byte is 8-byte aligned.
func readAligned(r io.Reader, n int) ([]byte, error) {
	words := make([]uint64, (n+7)/8)
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(words))), len(words)*8)[:n:n]
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

// Bytes returns the file's content. It is valid until Close; writing to it
// faults when the file is mapped.
func (f *File) Bytes() []byte { return f.data }

// Mapped reports whether the bytes come from a memory mapping.
func (f *File) Mapped() bool { return f.mapped }

// Close releases the mapping. Slices obtained from Bytes must not be used
// afterwards.
func (f *File) Close() error {
	if f == nil || f.data == nil {
		return nil
	}
	var err error
	if f.mapped {
		err = unmap(f.data)
	}
	f.data, f.mapped = nil, false
	return err
}
