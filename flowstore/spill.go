package flowstore

import (
	"github.com/spotctl/spotctl/flowstore/internal/atomicfile"

	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"github.com/spotctl/spotctl/decode/flow"
)

// chunkSize is the in-memory buffer of one dns column part while writing,
// and of the widest flows column (the flows columns hold chunkSize/16 rows
// each). Writer memory is therefore bounded whatever the row count. Tests
// shrink it to cross chunk boundaries often.
var chunkSize = 64 << 10

// spill accumulates one column part in a temp file. Values are either
// appended to the spill's own in-memory chunk, written out when full (dns
// columns), or handed over a chunk at a time with put (flows columns,
// which the writer buffers row-aligned). The CRC32C is computed as chunks
// leave memory, so the final file need not be read back.
type spill struct {
	f    *os.File
	path string
	buf  []byte
	n    uint64 // bytes appended, buffered or not
	crc  uint32
	err  *error // the segment writer's sticky error
}

// newSpill creates the spill file at path with an in-memory chunk of
// bufSize bytes (0 for a spill fed only by put).
func newSpill(path string, err *error, bufSize int) (*spill, error) {
	f, e := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if e != nil {
		return nil, fmt.Errorf("create spill file: %w", e)
	}
	return &spill{f: f, path: path, buf: make([]byte, 0, bufSize), err: err}, nil
}

func (s *spill) flush() {
	if len(s.buf) == 0 {
		return
	}
	s.write(s.buf)
	s.buf = s.buf[:0]
}

// write checksums b and writes it to the file (counted in n by the caller).
func (s *spill) write(b []byte) {
	if *s.err == nil {
		s.crc = crc32.Update(s.crc, castagnoli, b)
		if _, err := s.f.Write(b); err != nil {
			*s.err = fmt.Errorf("write %s: %w", s.path, err)
		}
	}
}

// put appends b, bypassing the in-memory chunk.
func (s *spill) put(b []byte) {
	s.flush()
	s.n += uint64(len(b))
	s.write(b)
}

func (s *spill) room(n int) {
	if cap(s.buf)-len(s.buf) < n {
		s.flush()
	}
	s.n += uint64(n)
}

func (s *spill) u8(v uint8)   { s.room(1); s.buf = append(s.buf, v) }
func (s *spill) u16(v uint16) { s.room(2); s.buf = binary.LittleEndian.AppendUint16(s.buf, v) }
func (s *spill) u32(v uint32) { s.room(4); s.buf = binary.LittleEndian.AppendUint32(s.buf, v) }
func (s *spill) u64(v uint64) { s.room(8); s.buf = binary.LittleEndian.AppendUint64(s.buf, v) }
func (s *spill) addr(a *flow.Addr) {
	s.room(16)
	s.buf = append(s.buf, a[:]...)
}

// str appends variable-length data, in chunk-sized pieces if it is large.
func (s *spill) str(v string) {
	for len(v) > 0 {
		if len(s.buf) == cap(s.buf) {
			s.flush()
		}
		k := copy(s.buf[len(s.buf):cap(s.buf)], v)
		s.buf = s.buf[:len(s.buf)+k]
		s.n += uint64(k)
		v = v[k:]
	}
}

// reader flushes the spill and returns its content for copying.
func (s *spill) reader() (io.Reader, error) {
	s.flush()
	if *s.err != nil {
		return nil, *s.err
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("seek %s: %w", s.path, err)
	}
	// A LimitedReader over an *os.File keeps io.Copy on copy_file_range.
	return &io.LimitedReader{R: s.f, N: int64(s.n)}, nil
}

func (s *spill) close() error {
	if s == nil || s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// varSpill writes a variable-length column in plain encoding: the offsets
// part starts with 0 and gets the heap length after every value.
type varSpill struct{ offs, heap *spill }

func (v *varSpill) add(s string) {
	v.heap.str(s)
	v.offs.u64(v.heap.n)
}

// filePart is one part of the column file being assembled: either a spill
// (length and CRC known) or bytes generated at assembly time.
type filePart struct {
	e     dirEntry
	spill *spill
	gen   func(w io.Writer) error
}

// countingCRC measures and checksums generated parts.
type countingCRC struct {
	w   io.Writer
	n   uint64
	crc uint32
}

func (c *countingCRC) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.crc = crc32.Update(c.crc, castagnoli, p[:n])
	c.n += uint64(n)
	return n, err
}

// writeColumnFile assembles a column file at path: parts page-aligned in
// order after the header, header written last, file fsynced. The caller
// removes path on error (it lives in the segment's temp directory).
func writeColumnFile(path, table string, rows uint64, parts []filePart) (err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close %s: %w", path, cerr)
		}
	}()
	ents := make([]dirEntry, len(parts))
	hl := headerLen(len(parts))
	cursor, end := hl, hl
	for i := range parts {
		p := &parts[i]
		e := p.e
		e.offset = cursor
		if _, err := f.Seek(int64(cursor), io.SeekStart); err != nil {
			return fmt.Errorf("seek %s: %w", path, err)
		}
		if p.spill != nil {
			r, err := p.spill.reader()
			if err != nil {
				return err
			}
			n, err := io.Copy(f, r)
			if err != nil {
				return fmt.Errorf("copy %s into %s: %w", p.spill.path, path, err)
			}
			if uint64(n) != p.spill.n {
				return fmt.Errorf("copy %s into %s: copied %d of %d bytes", p.spill.path, path, n, p.spill.n)
			}
			e.length, e.crc = p.spill.n, p.spill.crc
		} else {
			bw := bufio.NewWriterSize(f, 64<<10)
			cw := &countingCRC{w: bw}
			if err := p.gen(cw); err != nil {
				return fmt.Errorf("write %s column %s: %w", path, e.name, err)
			}
			if err := bw.Flush(); err != nil {
				return fmt.Errorf("write %s: %w", path, err)
			}
			e.length, e.crc = cw.n, cw.crc
		}
		ents[i] = e
		end = max(end, e.offset+e.length)
		cursor = alignUp(e.offset + e.length)
	}
	// A zero-length last part may sit past the last byte written; the
	// file must still reach every part's offset.
	if err := f.Truncate(int64(end)); err != nil {
		return fmt.Errorf("truncate %s: %w", path, err)
	}
	if _, err := f.WriteAt(encodeHeader(table, rows, ents), 0); err != nil {
		return fmt.Errorf("write header %s: %w", path, err)
	}
	if err := atomicfile.Sync(f); err != nil {
		return fmt.Errorf("fsync %s: %w", path, err)
	}
	return nil
}
