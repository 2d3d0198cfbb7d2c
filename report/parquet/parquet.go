// Package parquet writes report rows as an Apache Parquet file, so that
// DuckDB, pandas and Spark read a case without spotctl. It takes the same
// columns (report.Column) and cells (report.Value) as the JSON and CSV
// writers: the Parquet column names are the JSON field names and every value
// means what JSON prints, in a typed form (docs/export.md):
//
//	report kind   Parquet type
//	Uint          INT32 or INT64 with the UINT(bits) logical type
//	Int           INT64
//	Float         DOUBLE
//	Bool          BOOLEAN
//	Time          INT64 TIMESTAMP(NANOS, isAdjustedToUTC=true)
//	String        BYTE_ARRAY STRING (invalid UTF-8 bytes as the text \xNN, as in JSON)
//	IP            BYTE_ARRAY STRING, the address as JSON prints it
//	OptIP         optional BYTE_ARRAY STRING: NULL where JSON prints ""
//	Answers       LIST<STRUCT<type STRING, data STRING>>
//
// Rows are streamed: the writer holds one row group (RowGroupRows rows,
// compressed column pages) at a time. Output bytes depend only on the rows
// and the options.
package parquet

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"
	"unsafe"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/snappy"
	"github.com/parquet-go/parquet-go/compress/uncompressed"
	"github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/parquet-go/parquet-go/encoding"

	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/report"
)

// Field is one Parquet column: a report column plus, for unsigned
// integers, the width of the UINT logical type.
type Field struct {
	Name string
	Kind report.Kind
	// Bits is the width of a Uint column: 8, 16, 32 or 64 (0 means 64). A
	// value that does not fit is an error, never a silent truncation.
	Bits int
}

// Fields turns report columns into Parquet fields. bits, when not nil,
// gives the width of each Uint column by name (0 for 64).
func Fields(cols []report.Column, bits func(name string) int) []Field {
	fs := make([]Field, len(cols))
	for i, c := range cols {
		fs[i] = Field{Name: c.Name, Kind: c.Kind}
		if c.Kind == report.Uint && bits != nil {
			fs[i].Bits = bits(c.Name)
		}
	}
	return fs
}

// Compression names a page compression codec.
type Compression string

const (
	Zstd   Compression = "zstd"   // the default: about 20 % smaller than snappy, as fast to write
	Snappy Compression = "snappy" // for readers that only know snappy
	None   Compression = "none"
)

// Compressions lists the accepted codec names.
var Compressions = []Compression{Zstd, Snappy, None}

// ParseCompression validates a codec name ("" is Zstd).
func ParseCompression(s string) (Compression, error) {
	switch c := Compression(strings.ToLower(s)); c {
	case "":
		return Zstd, nil
	case Zstd, Snappy, None:
		return c, nil
	}
	return "", fmt.Errorf("unknown compression %q (valid: zstd, snappy, none)", s)
}

// The codecs are shared: each keeps a pool of encoders, and a zstd encoder
// allocates its history buffers once; a codec per file would allocate them
// again for every partition.
var (
	// The fastest level: the default one made flow files 1 % smaller for
	// 1.6× the compression time. One goroutine per encoder: output never
	// depends on scheduling.
	zstdCodec   = &zstd.Codec{Level: zstd.SpeedFastest, Concurrency: 1}
	snappyCodec = &snappy.Codec{}
	noneCodec   = &uncompressed.Codec{}
)

func (c Compression) codec() (compress.Codec, error) {
	switch c {
	case Zstd, "":
		return zstdCodec, nil
	case Snappy:
		return snappyCodec, nil
	case None:
		return noneCodec, nil
	}
	return nil, fmt.Errorf("unknown compression %q", string(c))
}

// DefaultRowGroupRows is the number of rows per row group: large enough for
// fast scans (DuckDB parallelises over row groups), small enough that the
// writer's memory stays in the tens of megabytes for any case size.
const DefaultRowGroupRows = 128 << 10

// Options shape the file.
type Options struct {
	Compression  Compression // "" means Zstd
	RowGroupRows int         // rows per row group; ≤ 0 means DefaultRowGroupRows
	CreatedBy    string      // the file's created_by, e.g. "spotctl version 1.2.3"
}

// batchRows is how many rows are handed to parquet-go at once: one call per
// row would cost a call per column per row.
const batchRows = 256

// Writer writes one Parquet file. It is a report.RowWriter: Flush finishes
// the file (row group, footer) and must be called exactly once, at the end.
type Writer struct {
	w      *pq.GenericWriter[any]
	fields []Field
	leaf   []int // first leaf column index of each field
	rows   []pq.Row
	n      int    // rows buffered in rows
	arena  []byte // text of the buffered rows' IP addresses and repaired strings
	done   bool
	err    error
}

// NewWriter starts a Parquet file on w with the given columns.
func NewWriter(w io.Writer, fields []Field, o Options) (*Writer, error) {
	if len(fields) == 0 {
		return nil, errors.New("parquet: no columns")
	}
	root, leaf, err := schemaOf(fields)
	if err != nil {
		return nil, err
	}
	codec, err := o.Compression.codec()
	if err != nil {
		return nil, err
	}
	rg := o.RowGroupRows
	if rg <= 0 {
		rg = DefaultRowGroupRows
	}
	opts := []pq.WriterOption{
		pq.NewSchema("spotctl", root),
		pq.Compression(codec),
		pq.MaxRowsPerRowGroup(int64(rg)),
		pq.DataPageStatistics(true),
	}
	if o.CreatedBy != "" {
		// As given: pq.CreatedBy would add " version (build )".
		opts = append(opts, &pq.WriterConfig{CreatedBy: o.CreatedBy})
	}
	cfg, err := pq.NewWriterConfig(opts...)
	if err != nil {
		return nil, fmt.Errorf("parquet: %w", err)
	}
	return &Writer{
		w:      pq.NewGenericWriter[any](w, cfg),
		fields: fields,
		leaf:   leaf,
		rows:   make([]pq.Row, batchRows),
	}, nil
}

// schemaOf builds the root group, with the columns in the given order (a
// parquet.Group would sort them by name), and the first leaf index of each
// field.
func schemaOf(fields []Field) (pq.Node, []int, error) {
	g := &group{}
	leaf := make([]int, len(fields))
	next := 0
	seen := make(map[string]bool, len(fields))
	for i, f := range fields {
		if f.Name == "" || seen[f.Name] {
			return nil, nil, fmt.Errorf("parquet: column name %q is empty or repeated", f.Name)
		}
		seen[f.Name] = true
		n, leaves, err := nodeOf(f)
		if err != nil {
			return nil, nil, err
		}
		leaf[i] = next
		next += leaves
		g.fields = append(g.fields, &field{Node: n, name: f.Name})
	}
	return g, leaf, nil
}

// nodeOf is a field's Parquet node and its number of leaf columns.
func nodeOf(f Field) (pq.Node, int, error) {
	switch f.Kind {
	case report.String, report.IP:
		return pq.String(), 1, nil
	case report.OptIP:
		return pq.Optional(pq.String()), 1, nil
	case report.Int:
		return pq.Int(64), 1, nil
	case report.Uint:
		switch f.Bits {
		case 0:
			return pq.Uint(64), 1, nil
		case 8, 16, 32, 64:
			return pq.Uint(f.Bits), 1, nil
		}
		return nil, 0, fmt.Errorf("parquet: column %s: %d is not an unsigned width (8, 16, 32 or 64)", f.Name, f.Bits)
	case report.Float:
		return pq.Leaf(pq.DoubleType), 1, nil
	case report.Bool:
		return pq.Leaf(pq.BooleanType), 1, nil
	case report.Time:
		return pq.Timestamp(pq.Nanosecond), 1, nil
	case report.Answers:
		elem := &group{fields: []pq.Field{
			&field{Node: pq.String(), name: "type"},
			&field{Node: pq.String(), name: "data"},
		}}
		return pq.List(elem), 2, nil
	}
	return nil, 0, fmt.Errorf("parquet: column %s: no Parquet type for kind %d", f.Name, f.Kind)
}

// WriteRow adds one row (one Value per field, in field order).
func (w *Writer) WriteRow(row []report.Value) error {
	if w.err != nil {
		return w.err
	}
	if w.done {
		return errors.New("parquet: row written after Flush")
	}
	if len(row) != len(w.fields) {
		return fmt.Errorf("parquet: row has %d values for %d columns", len(row), len(w.fields))
	}
	r := w.rows[w.n][:0]
	for i, f := range w.fields {
		c := w.leaf[i]
		v := &row[i]
		switch f.Kind {
		case report.String:
			r = append(r, w.text(v.S).Level(0, 0, c))
		case report.IP:
			r = append(r, w.addr(v.P).Level(0, 0, c))
		case report.OptIP:
			if v.P == (flow.Addr{}) {
				r = append(r, pq.Value{}.Level(0, 0, c))
			} else {
				r = append(r, w.addr(v.P).Level(0, 1, c))
			}
		case report.Int:
			r = append(r, pq.Int64Value(v.I).Level(0, 0, c))
		case report.Uint:
			if f.Bits != 0 && f.Bits < 64 && v.U>>f.Bits != 0 {
				w.err = fmt.Errorf("parquet: column %s: %d does not fit in %d bits", f.Name, v.U, f.Bits)
				return w.err
			}
			if f.Bits == 0 || f.Bits == 64 {
				r = append(r, pq.Int64Value(int64(v.U)).Level(0, 0, c))
			} else {
				r = append(r, pq.Int32Value(int32(uint32(v.U))).Level(0, 0, c))
			}
		case report.Float:
			r = append(r, pq.DoubleValue(v.F).Level(0, 0, c))
		case report.Bool:
			r = append(r, pq.BooleanValue(v.B).Level(0, 0, c))
		case report.Time:
			r = append(r, pq.Int64Value(v.I).Level(0, 0, c))
		case report.Answers:
			// Column-major: every type of the list, then every data. An
			// empty list is one null at definition level 0; an element is
			// at level 1, repetition 0 for the first and 1 after.
			if len(v.A) == 0 {
				r = append(r, pq.Value{}.Level(0, 0, c), pq.Value{}.Level(0, 0, c+1))
				break
			}
			for k, a := range v.A {
				r = append(r, w.text(report.TypeName(a.Type)).Level(min(k, 1), 1, c))
			}
			for k, a := range v.A {
				r = append(r, w.text(a.Data).Level(min(k, 1), 1, c+1))
			}
		}
	}
	w.rows[w.n] = r
	w.n++
	if w.n == len(w.rows) {
		return w.writeBatch()
	}
	return nil
}

func (w *Writer) writeBatch() error {
	if w.n == 0 {
		return nil
	}
	_, err := w.w.WriteRows(w.rows[:w.n])
	w.n = 0
	// parquet-go copied every value into its column buffers: the text the
	// values pointed at may be reused.
	w.arena = w.arena[:0]
	if err != nil {
		w.err = fmt.Errorf("parquet: %w", err)
	}
	return w.err
}

// Flush writes the buffered rows, the last row group and the footer. The
// file is complete only after Flush returns nil.
func (w *Writer) Flush() error {
	if w.done {
		return w.err
	}
	w.done = true
	if err := w.writeBatch(); err != nil {
		return err
	}
	if err := w.w.Close(); err != nil {
		w.err = fmt.Errorf("parquet: %w", err)
	}
	return w.err
}

// addr renders an address into the arena, as JSON prints it.
func (w *Writer) addr(a flow.Addr) pq.Value {
	start := len(w.arena)
	w.arena = a.Netip().AppendTo(w.arena)
	return pq.ByteArrayValue(w.arena[start:len(w.arena):len(w.arena)])
}

// text is a STRING value for s. Parquet strings must be UTF-8: an invalid
// byte becomes the visible text \xNN, the string JSON carries for it. Valid
// strings are not copied (parquet-go copies them into its column buffer).
func (w *Writer) text(s string) pq.Value {
	if utf8.ValidString(s) {
		return pq.ByteArrayValue(unsafe.Slice(unsafe.StringData(s), len(s)))
	}
	const hex = "0123456789abcdef"
	start := len(w.arena)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			w.arena = append(w.arena, '\\', 'x', hex[s[i]>>4], hex[s[i]&0xf])
		} else {
			w.arena = append(w.arena, s[i:i+size]...)
		}
		i += size
	}
	return pq.ByteArrayValue(w.arena[start:len(w.arena):len(w.arena)])
}

// group is a Parquet group whose fields keep the order they were given in,
// so that a Parquet file lists its columns as JSON does.
type group struct{ fields []pq.Field }

func (g *group) ID() int { return 0 }
func (g *group) String() string {
	names := make([]string, len(g.fields))
	for i, f := range g.fields {
		names[i] = f.Name()
	}
	return "group(" + strings.Join(names, ", ") + ")"
}
func (g *group) Type() pq.Type               { return pq.Group{}.Type() }
func (g *group) Optional() bool              { return false }
func (g *group) Repeated() bool              { return false }
func (g *group) Required() bool              { return true }
func (g *group) Leaf() bool                  { return false }
func (g *group) Fields() []pq.Field          { return g.fields }
func (g *group) Encoding() encoding.Encoding { return nil }
func (g *group) Compression() compress.Codec { return nil }

// GoType is only used to read rows into Go values; the struct of a
// parquet.Group with the same fields serves.
func (g *group) GoType() reflect.Type {
	m := make(pq.Group, len(g.fields))
	for _, f := range g.fields {
		m[f.Name()] = f
	}
	return m.GoType()
}

// field names a node inside a group. Values are never read from Go
// structs (rows are built as Parquet values), so Value is never used.
type field struct {
	pq.Node
	name string
}

func (f *field) Name() string                      { return f.name }
func (f *field) Value(reflect.Value) reflect.Value { return reflect.Value{} }
