package flowstore

import (
	"encoding/binary"
	"hash/crc32"
	"strconv"
)

// Column file layout constants. docs/flowstore.md is the normative
// description; these are the same numbers.
const (
	// ColumnFileVersion is the only column file format version this build
	// reads and writes. See "Version policy" in docs/flowstore.md.
	ColumnFileVersion = 1

	// PageSize is the alignment of the header region and of every column
	// part: mmap hands out page-aligned memory, so an aligned part can be
	// viewed as a typed slice with no copy.
	PageSize = 4096

	fileMagic      = "SPCF" // 0x53 0x50 0x43 0x46: spotctl column file
	fixedHeaderLen = 64     // magic … reserved, before the directory
	dirEntryLen    = 64     // one directory entry
	nameFieldLen   = 32     // table and column names, NUL padded
	crcLen         = 4
	maxDirEntries  = 1 << 16 // far above any real table; bounds header parsing
)

// castagnoli is built once: crc32.MakeTable is cheap, but building the
// table in package init keeps the polynomial defined in exactly one place
// and lets crc32 pick its SSE4.2/ARMv8 implementation up front.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// Type is the logical type of a column. Persisted: values are append-only,
// never renumbered or reused.
type Type uint8

const (
	TypeInvalid Type = 0
	TypeInt64   Type = 1 // little-endian two's complement, 8 bytes
	TypeUint64  Type = 2 // little-endian, 8 bytes
	TypeUint32  Type = 3 // little-endian, 4 bytes
	TypeUint16  Type = 4 // little-endian, 2 bytes
	TypeUint8   Type = 5 // 1 byte
	TypeAddr    Type = 6 // 16 bytes, IPv4 stored IPv4-mapped (flow.Addr)
	TypeString  Type = 7 // variable length text (raw evidence, any bytes)
	TypeBytes   Type = 8 // variable length binary
)

var typeNames = [...]string{"invalid", "int64", "uint64", "uint32", "uint16", "uint8", "addr", "string", "bytes"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "<unknown type " + strconv.Itoa(int(t)) + ">"
}

// IsValid reports whether this build knows t.
func (t Type) IsValid() bool { return t > TypeInvalid && int(t) < len(typeNames) }

// Width is the size in bytes of one value of a fixed-width type, 0 for
// variable-length and unknown types.
func (t Type) Width() int {
	switch t {
	case TypeInt64, TypeUint64:
		return 8
	case TypeUint32:
		return 4
	case TypeUint16:
		return 2
	case TypeUint8:
		return 1
	case TypeAddr:
		return 16
	}
	return 0
}

func (t Type) variable() bool { return t == TypeString || t == TypeBytes }

// Encoding says how a column's values are laid out in its parts.
// Persisted: values are append-only, never renumbered or reused.
type Encoding uint8

const (
	EncodingInvalid Encoding = 0
	// EncodingPlain: fixed-width types are one part of rows×width bytes;
	// variable-length types are part 0 = rows+1 uint64 offsets into part 1,
	// the heap (value i is heap[off[i]:off[i+1]]).
	EncodingPlain Encoding = 1
	// EncodingDict (variable-length types only): part 0 = rows uint32 ids,
	// part 1 = n+1 uint64 offsets into part 2, the heap of the n distinct
	// values (value i is entry ids[i]).
	EncodingDict Encoding = 2
)

var encodingNames = [...]string{"invalid", "plain", "dict"}

func (e Encoding) String() string {
	if int(e) < len(encodingNames) {
		return encodingNames[e]
	}
	return "<unknown encoding " + strconv.Itoa(int(e)) + ">"
}

// IsValid reports whether this build knows e.
func (e Encoding) IsValid() bool { return e > EncodingInvalid && int(e) < len(encodingNames) }

// partCount is the number of parts a (type, encoding) pair has, or 0 when
// this build cannot read the pair.
func partCount(t Type, e Encoding) int {
	switch {
	case t.Width() > 0 && e == EncodingPlain:
		return 1
	case t.variable() && e == EncodingPlain:
		return 2
	case t.variable() && e == EncodingDict:
		return 3
	}
	return 0
}

// dirEntry is one directory entry: one part of one column.
type dirEntry struct {
	name   string
	typ    Type
	enc    Encoding
	part   uint8
	crc    uint32
	offset uint64
	length uint64
}

func alignUp(n uint64) uint64 { return (n + PageSize - 1) &^ (PageSize - 1) }

// headerLen is the size of the header region for n directory entries.
func headerLen(n int) uint64 {
	return alignUp(uint64(fixedHeaderLen + dirEntryLen*n + crcLen))
}

// encodeHeader renders the header region (zero padded to headerLen).
func encodeHeader(table string, rows uint64, ents []dirEntry) []byte {
	hl := headerLen(len(ents))
	b := make([]byte, hl)
	le := binary.LittleEndian
	copy(b[0:4], fileMagic)
	le.PutUint32(b[4:], ColumnFileVersion)
	le.PutUint32(b[8:], uint32(hl))
	le.PutUint32(b[12:], uint32(len(ents)))
	le.PutUint64(b[16:], rows)
	copy(b[24:24+nameFieldLen], table)
	// b[56:64] reserved, zero.
	for i, e := range ents {
		p := b[fixedHeaderLen+dirEntryLen*i:]
		copy(p[0:nameFieldLen], e.name)
		p[32] = byte(e.typ)
		p[33] = byte(e.enc)
		p[34] = e.part
		// p[35] reserved, zero.
		le.PutUint32(p[36:], e.crc)
		le.PutUint64(p[40:], e.offset)
		le.PutUint64(p[48:], e.length)
		// p[56:64] reserved, zero.
	}
	end := fixedHeaderLen + dirEntryLen*len(ents)
	le.PutUint32(b[end:], crc32c(b[:end]))
	return b
}

// validName reports whether a table or column name can be stored: 1 to 32
// bytes of printable ASCII without spaces.
func validName(s string) bool {
	if len(s) == 0 || len(s) > nameFieldLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
