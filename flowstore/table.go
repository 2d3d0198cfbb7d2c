package flowstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/flowstore/internal/mmap"
)

// nativeLE is true on little-endian hosts, where numeric columns are
// handed out as views of the file's bytes. Tests flip it to exercise the
// decoding path a big-endian host takes.
var nativeLE = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// Table is one column file: a row count and named columns. Column data is
// checked (CRC32C and structure) the first time a column is accessed; an
// accessor never returns data that failed a check.
//
// Slices and views returned by a Table point into a read-only memory map:
// they must not be written to, and must not be used after the Table's case
// (or the Table itself, for OpenColumnFile) is closed. Copy what outlives
// it. A Table is safe for concurrent use.
type Table struct {
	path string
	seg  int
	name string
	rows int
	file *mmap.File // nil when parsed from a caller's buffer
	data []byte

	mu     sync.Mutex
	closed bool
	cols   []*column
	index  map[string]*column
	flows  *flowView
	dns    *dnsView
	scan   *ScanCheck // checks fixed-width columns during a scan (CheckWhileScanning)
}

type column struct {
	name    string
	typ     Type
	enc     Encoding
	parts   []dirEntry
	entry   int   // index of the first directory entry
	checked bool  // CRC and structure verified
	err     error // first failed check, remembered
	view    any   // cached typed slice or Strings
}

// ColumnInfo describes one column as stored.
type ColumnInfo struct {
	Name     string
	Type     Type
	Encoding Encoding
	Parts    []PartInfo
}

// PartInfo is one page-aligned byte range of a column.
type PartInfo struct {
	Offset uint64
	Length uint64
	CRC    uint32
}

// OpenColumnFile opens a single column file outside a case (for inspection
// tools and tests). Close it when done.
func OpenColumnFile(path string) (*Table, error) {
	return openTable(path, 0, "")
}

func openTable(path string, seg int, want string) (*Table, error) {
	f, err := mmap.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open column file: %w", err)
	}
	t, err := parseTable(f.Bytes(), path, seg, want)
	if err != nil {
		return nil, errors.Join(err, f.Close())
	}
	t.file = f
	return t, nil
}

// decbuf reads little-endian fields from a header with a sticky error: once
// a read runs past the end, every later read yields zero and the error
// stays set, so a run of fields is checked once.
type decbuf struct {
	b   []byte
	off int
	err error
}

func (d *decbuf) bytes(n int) []byte {
	if d.err != nil || n > len(d.b)-d.off {
		if d.err == nil {
			d.err = fmt.Errorf("%w: need %d bytes at offset %d, file has %d", ErrTruncated, n, d.off, len(d.b))
		}
		return make([]byte, n)
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

func (d *decbuf) u8() uint8   { return d.bytes(1)[0] }
func (d *decbuf) u32() uint32 { return binary.LittleEndian.Uint32(d.bytes(4)) }
func (d *decbuf) u64() uint64 { return binary.LittleEndian.Uint64(d.bytes(8)) }

// name decodes a NUL-padded name field.
func decodeName(b []byte) (string, bool) {
	s := string(b)
	if i := strings.IndexByte(s, 0); i >= 0 {
		if strings.Trim(s[i:], "\x00") != "" {
			return "", false
		}
		s = s[:i]
	}
	return s, validName(s)
}

// parseTable checks the header and the directory of a column file held in
// data. Every number read from the file is range-checked as uint64 against
// the bytes that exist before it is converted or used as an index.
func parseTable(data []byte, path string, seg int, want string) (*Table, error) {
	t := &Table{path: path, seg: seg, name: want, data: data, index: map[string]*column{}}
	size := uint64(len(data))
	hdrErr := func(off uint64, err error) error {
		return &CorruptError{Path: path, Segment: seg, Table: t.name, Part: -1, Offset: int64(off), Err: err}
	}
	// A file that is not a column file at all says so, however short.
	if len(data) >= len(fileMagic) && string(data[:len(fileMagic)]) != fileMagic {
		return nil, hdrErr(0, fmt.Errorf("%w: %#x, want %#x (%q)", ErrBadMagic, data[:len(fileMagic)], fileMagic, fileMagic))
	}
	d := &decbuf{b: data}
	magic := d.bytes(4)
	version := d.u32()
	hlen := uint64(d.u32())
	nents := uint64(d.u32())
	rows := d.u64()
	tname := d.bytes(nameFieldLen)
	if d.err != nil {
		return nil, hdrErr(0, d.err)
	}
	if string(magic) != fileMagic {
		return nil, hdrErr(0, fmt.Errorf("%w: %#x, want %#x (%q)", ErrBadMagic, magic, fileMagic, fileMagic))
	}
	if version != ColumnFileVersion {
		return nil, hdrErr(4, fmt.Errorf("%w: column file version %d, this build reads version %d", ErrUnsupportedVersion, version, ColumnFileVersion))
	}
	if hlen < PageSize || hlen%PageSize != 0 {
		return nil, hdrErr(8, fmt.Errorf("%w: header length %d is not a positive multiple of %d", ErrCorrupt, hlen, PageSize))
	}
	if hlen > size {
		return nil, hdrErr(8, fmt.Errorf("%w: header length %d, file has %d bytes", ErrTruncated, hlen, size))
	}
	if nents > maxDirEntries || fixedHeaderLen+dirEntryLen*nents+crcLen > hlen {
		return nil, hdrErr(12, fmt.Errorf("%w: %d directory entries do not fit a %d-byte header", ErrCorrupt, nents, hlen))
	}
	dirEnd := fixedHeaderLen + dirEntryLen*nents
	stored := binary.LittleEndian.Uint32(data[dirEnd:])
	if got := crc32c(data[:dirEnd]); got != stored {
		return nil, hdrErr(dirEnd, fmt.Errorf("%w: header CRC32C stored %#08x, computed %#08x", ErrChecksum, stored, got))
	}
	name, ok := decodeName(tname)
	if !ok {
		return nil, hdrErr(24, fmt.Errorf("%w: invalid table name %q", ErrCorrupt, tname))
	}
	if want != "" && name != want {
		return nil, hdrErr(24, fmt.Errorf("%w: table name %q, expected %q", ErrCorrupt, name, want))
	}
	t.name = name
	// Every column with a known type holds at least one byte per row, so a
	// row count above the file size is a lie; this also keeps rows an int.
	if rows > size {
		return nil, hdrErr(16, fmt.Errorf("%w: row count %d exceeds file size %d", ErrCorrupt, rows, size))
	}
	t.rows = int(rows)

	prevEnd := hlen
	var cur *column
	for i := uint64(0); i < nents; i++ {
		eoff := fixedHeaderLen + dirEntryLen*i
		d := &decbuf{b: data, off: int(eoff)}
		rawName := d.bytes(nameFieldLen)
		e := dirEntry{typ: Type(d.u8()), enc: Encoding(d.u8()), part: d.u8()}
		d.u8() // reserved
		e.crc = d.u32()
		e.offset = d.u64()
		e.length = d.u64()
		entErr := func(col string, err error) error {
			return &CorruptError{Path: path, Segment: seg, Table: t.name, Column: col, Part: int(e.part), Offset: int64(eoff), Err: err}
		}
		var ok bool
		if e.name, ok = decodeName(rawName); !ok {
			return nil, entErr("", fmt.Errorf("%w: directory entry %d has invalid column name %q", ErrCorrupt, i, rawName))
		}
		switch {
		case e.offset%PageSize != 0:
			return nil, entErr(e.name, fmt.Errorf("%w: offset %d is not %d-aligned", ErrCorrupt, e.offset, PageSize))
		case e.offset < prevEnd:
			return nil, entErr(e.name, fmt.Errorf("%w: offset %d overlaps the header or the previous part (ends at %d)", ErrCorrupt, e.offset, prevEnd))
		case e.offset > size || e.length > size-e.offset:
			return nil, entErr(e.name, fmt.Errorf("%w: part [%d, +%d) runs past the end of the %d-byte file", ErrTruncated, e.offset, e.length, size))
		}
		prevEnd = e.offset + e.length
		if cur != nil && cur.name == e.name {
			if int(e.part) != len(cur.parts) || e.typ != cur.typ || e.enc != cur.enc {
				return nil, entErr(e.name, fmt.Errorf("%w: entry %d is part %d (%s/%s) of a column with %d parts (%s/%s)", ErrCorrupt, i, e.part, e.typ, e.enc, len(cur.parts), cur.typ, cur.enc))
			}
			cur.parts = append(cur.parts, e)
			continue
		}
		if _, dup := t.index[e.name]; dup {
			return nil, entErr(e.name, fmt.Errorf("%w: column appears twice in the directory", ErrCorrupt))
		}
		if e.part != 0 {
			return nil, entErr(e.name, fmt.Errorf("%w: column starts with part %d", ErrCorrupt, e.part))
		}
		cur = &column{name: e.name, typ: e.typ, enc: e.enc, parts: []dirEntry{e}, entry: int(i)}
		t.cols = append(t.cols, cur)
		t.index[e.name] = cur
	}
	for _, c := range t.cols {
		if err := t.checkShape(c); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// checkShape verifies part count and part lengths of a column whose type
// and encoding this build knows. Columns of unknown type or encoding are
// kept (a newer writer added them) and only fail when accessed.
func (t *Table) checkShape(c *column) error {
	n := partCount(c.typ, c.enc)
	if n == 0 {
		return nil
	}
	shapeErr := func(part int, err error) error {
		return &CorruptError{Path: t.path, Segment: t.seg, Table: t.name, Column: c.name, Part: part,
			Offset: int64(fixedHeaderLen + dirEntryLen*(c.entry+part)), Err: err}
	}
	if len(c.parts) != n {
		return shapeErr(-1, fmt.Errorf("%w: %s/%s column has %d parts, want %d", ErrCorrupt, c.typ, c.enc, len(c.parts), n))
	}
	rows := uint64(t.rows)
	var want [3]uint64 // expected length per part; ^0 = any
	switch {
	case c.typ.Width() > 0:
		want[0] = rows * uint64(c.typ.Width()) // rows ≤ file size < 2^63: no overflow
	case c.enc == EncodingPlain:
		want[0], want[1] = (rows+1)*8, ^uint64(0)
	case c.enc == EncodingDict:
		want[0], want[1], want[2] = rows*4, ^uint64(0), ^uint64(0)
		if l := c.parts[1].length; l < 8 || l%8 != 0 {
			return shapeErr(1, fmt.Errorf("%w: dictionary offsets part is %d bytes, want a positive multiple of 8", ErrCorrupt, l))
		}
	}
	for i := 0; i < n; i++ {
		if want[i] != ^uint64(0) && c.parts[i].length != want[i] {
			return shapeErr(i, fmt.Errorf("%w: part is %d bytes, want %d for %d rows of %s/%s", ErrCorrupt, c.parts[i].length, want[i], rows, c.typ, c.enc))
		}
	}
	return nil
}

// Name is the table name from the header ("flows", "dns").
func (t *Table) Name() string { return t.name }

// Path is the column file.
func (t *Table) Path() string { return t.path }

// Rows is the number of rows.
func (t *Table) Rows() int { return t.rows }

// Has reports whether the table has a column of that name.
func (t *Table) Has(name string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.index[name]
	return ok
}

// Columns lists the columns in file order, including ones this build
// cannot read.
func (t *Table) Columns() []ColumnInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]ColumnInfo, 0, len(t.cols))
	for _, c := range t.cols {
		ci := ColumnInfo{Name: c.name, Type: c.typ, Encoding: c.enc}
		for _, p := range c.parts {
			ci.Parts = append(ci.Parts, PartInfo{Offset: p.offset, Length: p.length, CRC: p.crc})
		}
		out = append(out, ci)
	}
	return out
}

// Close releases the table's mapping. Tables obtained from a Segment are
// closed by Case.Close; closing them directly is allowed.
func (t *Table) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	t.cols, t.index, t.flows, t.dns, t.data = nil, nil, nil, nil, nil
	return t.file.Close()
}

func (t *Table) errorf(format string, args ...any) error {
	return fmt.Errorf("%s: table %s: "+format, append([]any{t.path, t.name}, args...)...)
}

func (t *Table) part(p dirEntry) []byte {
	return t.data[p.offset : p.offset+p.length : p.offset+p.length]
}

// lookup finds a column of the given type and runs its checks once.
// t.mu must be held.
func (t *Table) lookup(name string, typ Type) (*column, error) {
	if t.closed {
		return nil, t.errorf("%w", ErrClosed)
	}
	c := t.index[name]
	if c == nil {
		return nil, t.errorf("column %q: %w", name, ErrNoColumn)
	}
	if c.typ != typ {
		return nil, t.errorf("column %q is %s, not %s: %w", name, c.typ, typ, ErrColumnType)
	}
	if partCount(c.typ, c.enc) == 0 {
		return nil, t.errorf("column %q has type %s, encoding %s: %w", name, c.typ, c.enc, ErrUnsupported)
	}
	if !c.checked && c.err == nil && !t.scan.take(c) {
		if errs := t.checkColumn(c, false); len(errs) > 0 {
			c.err = errs[0]
		} else {
			c.checked = true
		}
	}
	if c.err != nil {
		return nil, c.err
	}
	return c, nil
}

// checkColumn verifies the CRC32C of every part and, for variable-length
// encodings, that offsets and ids stay inside their heaps, so that views
// never slice out of range. With all it keeps going after the first
// problem.
func (t *Table) checkColumn(c *column, all bool) []error {
	var errs []error
	for i, p := range c.parts {
		if got := crc32cParallel(t.part(p)); got != p.crc {
			errs = append(errs, &CorruptError{Path: t.path, Segment: t.seg, Table: t.name, Column: c.name, Part: i, Offset: int64(p.offset),
				Err: fmt.Errorf("%w: stored %#08x, computed %#08x over %d bytes", ErrChecksum, p.crc, got, p.length)})
			if !all {
				return errs
			}
		}
	}
	if len(errs) > 0 || !c.typ.variable() || partCount(c.typ, c.enc) == 0 {
		return errs
	}
	structErr := func(part int, format string, args ...any) []error {
		return append(errs, &CorruptError{Path: t.path, Segment: t.seg, Table: t.name, Column: c.name, Part: part,
			Offset: int64(c.parts[part].offset), Err: fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)})
	}
	offPart, heapPart := 0, 1
	if c.enc == EncodingDict {
		offPart, heapPart = 1, 2
	}
	offs, heapLen := t.part(c.parts[offPart]), c.parts[heapPart].length
	prev := uint64(0)
	for i := 0; i < len(offs); i += 8 {
		o := binary.LittleEndian.Uint64(offs[i:])
		if (i == 0 && o != 0) || o < prev || o > heapLen {
			return structErr(offPart, "offset %d is %d (previous %d, heap %d bytes)", i/8, o, prev, heapLen)
		}
		prev = o
	}
	if prev != heapLen {
		return structErr(offPart, "last offset %d, heap is %d bytes", prev, heapLen)
	}
	if c.enc == EncodingDict {
		n := uint64(len(offs)/8 - 1)
		ids := t.part(c.parts[0])
		for i := 0; i < len(ids); i += 4 {
			if id := binary.LittleEndian.Uint32(ids[i:]); uint64(id) >= n {
				return structErr(0, "row %d has id %d, dictionary has %d entries", i/4, id, n)
			}
		}
	}
	return errs
}

type fixedValue interface {
	int64 | uint64 | uint32 | uint16 | uint8
}

// fixedView returns a column as a []T over the file's bytes when the host
// is little-endian and the part aligned (always, for mapped files), and a
// decoded copy otherwise. The result is cached per column.
func fixedView[T fixedValue](t *Table, name string, typ Type) ([]T, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c, err := t.lookup(name, typ)
	if err != nil {
		return nil, err
	}
	if v, ok := c.view.([]T); ok {
		return v, nil
	}
	v := asSlice[T](t.part(c.parts[0]), t.rows)
	c.view = v
	return v, nil
}

func asSlice[T fixedValue](b []byte, n int) []T {
	var zero T
	if n == 0 {
		return []T{}
	}
	if nativeLE && uintptr(unsafe.Pointer(unsafe.SliceData(b)))%unsafe.Alignof(zero) == 0 {
		return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)
	}
	out := make([]T, n)
	le := binary.LittleEndian
	switch o := any(out).(type) {
	case []int64:
		for i := range o {
			o[i] = int64(le.Uint64(b[8*i:]))
		}
	case []uint64:
		for i := range o {
			o[i] = le.Uint64(b[8*i:])
		}
	case []uint32:
		for i := range o {
			o[i] = le.Uint32(b[4*i:])
		}
	case []uint16:
		for i := range o {
			o[i] = le.Uint16(b[2*i:])
		}
	case []uint8:
		copy(o, b)
	}
	return out
}

// Int64 returns an int64 column (e.g. first, last, ts).
func (t *Table) Int64(name string) ([]int64, error) { return fixedView[int64](t, name, TypeInt64) }

// Uint64 returns a uint64 column (e.g. packets, bytes).
func (t *Table) Uint64(name string) ([]uint64, error) { return fixedView[uint64](t, name, TypeUint64) }

// Uint32 returns a uint32 column (e.g. evidence, ttl).
func (t *Table) Uint32(name string) ([]uint32, error) { return fixedView[uint32](t, name, TypeUint32) }

// Uint16 returns a uint16 column (e.g. src_port, qtype).
func (t *Table) Uint16(name string) ([]uint16, error) { return fixedView[uint16](t, name, TypeUint16) }

// Uint8 returns a uint8 column (e.g. proto, rcode).
func (t *Table) Uint8(name string) ([]uint8, error) { return fixedView[uint8](t, name, TypeUint8) }

// Addr returns an address column (e.g. src_ip). Addresses have no byte
// order, so this is a view of the file on every host.
func (t *Table) Addr(name string) ([]flow.Addr, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c, err := t.lookup(name, TypeAddr)
	if err != nil {
		return nil, err
	}
	if v, ok := c.view.([]flow.Addr); ok {
		return v, nil
	}
	v := []flow.Addr{}
	if t.rows > 0 {
		v = unsafe.Slice((*flow.Addr)(unsafe.Pointer(unsafe.SliceData(t.part(c.parts[0])))), t.rows)
	}
	c.view = v
	return v, nil
}

// Strings returns a string column (e.g. qname), whatever its encoding.
func (t *Table) Strings(name string) (Strings, error) { return t.varView(name, TypeString) }

// Bytes returns a bytes column (e.g. answers).
func (t *Table) Bytes(name string) (Strings, error) { return t.varView(name, TypeBytes) }

func (t *Table) varView(name string, typ Type) (Strings, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c, err := t.lookup(name, typ)
	if err != nil {
		return Strings{}, err
	}
	if v, ok := c.view.(Strings); ok {
		return v, nil
	}
	var s Strings
	s.n = t.rows
	switch c.enc {
	case EncodingPlain:
		s.offs = asSlice[uint64](t.part(c.parts[0]), t.rows+1)
		s.heap = t.part(c.parts[1])
	case EncodingDict:
		s.ids = asSlice[uint32](t.part(c.parts[0]), t.rows)
		s.offs = asSlice[uint64](t.part(c.parts[1]), int(c.parts[1].length/8))
		s.heap = t.part(c.parts[2])
	}
	c.view = s
	return s, nil
}

// Strings is a read-only view of a variable-length column. Offsets and ids
// were validated when the view was created, so At and Bytes only panic for
// an index outside [0, Len()), like a slice.
type Strings struct {
	n    int
	ids  []uint32 // nil for plain encoding
	offs []uint64
	heap []byte
}

// Len is the number of rows.
func (s Strings) Len() int { return s.n }

// Bytes returns row i without copying. The slice points into the file's
// mapping: do not modify it or keep it past Close. Its capacity is capped,
// so appending to it copies.
func (s Strings) Bytes(i int) []byte {
	if uint(i) >= uint(s.n) {
		panic(fmt.Sprintf("flowstore: row %d out of range [0,%d)", i, s.n))
	}
	j := i
	if s.ids != nil {
		j = int(s.ids[i])
	}
	a, b := s.offs[j], s.offs[j+1]
	return s.heap[a:b:b]
}

// At returns row i as a string (a copy, safe to keep).
func (s Strings) At(i int) string { return string(s.Bytes(i)) }

// IDs returns the per-row dictionary ids of a dictionary-encoded column
// (nil for plain encoding). Equal ids mean equal values, which lets a
// detector group rows without comparing strings.
func (s Strings) IDs() []uint32 { return s.ids }

// DictLen is the number of dictionary entries (0 for plain encoding).
func (s Strings) DictLen() int {
	if s.ids == nil {
		return 0
	}
	return len(s.offs) - 1
}

// DictEntry returns dictionary entry j without copying.
func (s Strings) DictEntry(j int) []byte {
	if s.ids == nil || uint(j) >= uint(len(s.offs)-1) {
		panic(fmt.Sprintf("flowstore: dictionary entry %d out of range [0,%d)", j, s.DictLen()))
	}
	a, b := s.offs[j], s.offs[j+1]
	return s.heap[a:b:b]
}

// Verify checks every column, including ones this build cannot interpret
// (their CRC32C only), and returns every problem found.
func (t *Table) Verify() []error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return []error{t.errorf("%w", ErrClosed)}
	}
	var errs []error
	for _, c := range t.cols {
		cerrs := t.checkColumn(c, true)
		if len(cerrs) == 0 {
			c.checked = true
			continue
		}
		if c.err == nil {
			c.err = cerrs[0]
		}
		errs = append(errs, cerrs...)
	}
	return errs
}
