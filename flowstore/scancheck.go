package flowstore

import (
	"fmt"
	"hash/crc32"
)

// ScanCheck checks fixed-width columns while a scan reads them instead of
// before: a full scan that checks first reads every column twice, once
// from memory for the CRC32C and once more for the scan, and on a large
// case the first pass is most of the cost. The scan calls Through as it
// goes, so the bytes are checksummed while they are still in the CPU
// cache, and must call Finish before it uses (prints, writes, returns) anything
// computed from the columns: Finish reports a column whose checksum does
// not match with the same error an accessor gives, and from then on its
// accessors return that error too.
//
// Values of a column under a ScanCheck may be garbage until Finish; fixed
// width columns are plain integers and addresses, so computing on them
// cannot go out of bounds, only give a result that Finish then rejects.
// Variable-length columns (strings) are still checked before use, since
// their offsets must be valid to be read at all.
type ScanCheck struct {
	t    *Table
	cols []*scanCol
}

type scanCol struct {
	c     *column
	data  []byte
	width int
	done  int // bytes checksummed
	crc   uint32
}

// CheckWhileScanning starts a ScanCheck: the fixed-width columns the table
// hands out from now until Finish are checked by it. A column already
// checked stays checked; one that already failed still fails.
func (t *Table) CheckWhileScanning() *ScanCheck {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := &ScanCheck{t: t}
	t.scan = s
	return s
}

// take registers c with the table's ScanCheck, if there is one and c is a
// single-part fixed-width column not yet checked; t.mu is held.
func (s *ScanCheck) take(c *column) bool {
	if s == nil || c.checked || c.err != nil || c.typ.variable() || len(c.parts) != 1 {
		return false
	}
	for _, sc := range s.cols {
		if sc.c == c {
			return true
		}
	}
	s.cols = append(s.cols, &scanCol{c: c, data: s.t.part(c.parts[0]), width: c.typ.Width()})
	return true
}

// Through checksums the columns up to row rows (exclusive); rows only
// ever grows, and a smaller value than before does nothing.
func (s *ScanCheck) Through(rows int) {
	for _, sc := range s.cols {
		end := min(rows*sc.width, len(sc.data))
		if end > sc.done {
			sc.crc = crc32.Update(sc.crc, castagnoli, sc.data[sc.done:end])
			sc.done = end
		}
	}
}

// Finish checksums what the scan did not reach and compares every column
// with its stored CRC32C. It returns the first mismatch as a *CorruptError
// and ends the ScanCheck: later accessors check columns before use again.
func (s *ScanCheck) Finish() error {
	s.Through(s.t.rows)
	t := s.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.scan == s {
		t.scan = nil
	}
	var first error
	for _, sc := range s.cols {
		c, p := sc.c, sc.c.parts[0]
		if c.err != nil || c.checked {
			continue
		}
		if sc.crc != p.crc {
			c.err = &CorruptError{Path: t.path, Segment: t.seg, Table: t.name, Column: c.name, Part: 0, Offset: int64(p.offset),
				Err: fmt.Errorf("%w: stored %#08x, computed %#08x over %d bytes", ErrChecksum, p.crc, sc.crc, p.length)}
			if first == nil {
				first = c.err
			}
			continue
		}
		c.checked = true
	}
	s.cols = nil
	return first
}
