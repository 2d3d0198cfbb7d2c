// Package parquettest reads a Parquet file written by report/parquet back
// into the JSON Lines that report.NewJSONL prints for the same rows, so that
// tests compare an export with `spotctl flows --format jsonl` byte for byte.
// It is imported by tests only.
package parquettest

import (
	"errors"
	"fmt"
	"io"
	"os"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/spotctl/spotctl/report"
)

// File is a Parquet file read back.
type File struct {
	Columns   []string // top-level columns, in file order
	Schema    string   // parquet-go's rendering of the schema
	RowGroups int
	Rows      int64
	CreatedBy string
	JSONL     []byte // one JSON object per row, as report.NewJSONL prints it
}

// ReadFile reads path.
func ReadFile(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	out, err := Read(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// column says how one top-level field is rendered.
type column struct {
	name   string
	leaf   int // first leaf column index
	kind   report.Kind
	list   bool // LIST<STRUCT<type, data>>: leaves leaf and leaf+1
	option bool // optional: NULL renders as ""
}

// Read reads a whole file from r.
func Read(r io.ReaderAt, size int64) (*File, error) {
	pf, err := pq.OpenFile(r, size)
	if err != nil {
		return nil, err
	}
	out := &File{
		Schema:    pf.Schema().String(),
		RowGroups: len(pf.RowGroups()),
		Rows:      pf.NumRows(),
		CreatedBy: pf.Metadata().CreatedBy,
	}
	var cols []column
	leaf := 0
	for _, fld := range pf.Schema().Fields() {
		c := column{name: fld.Name(), leaf: leaf, option: fld.Optional()}
		out.Columns = append(out.Columns, c.name)
		if !fld.Leaf() {
			c.list = true
			leaf += 2
			cols = append(cols, c)
			continue
		}
		leaf++
		var lv format.LogicalTypeValue
		if lt := fld.Type().LogicalType(); lt != nil {
			lv = lt.Value
		}
		it, isInt := lv.(*format.IntType)
		switch _, isTS := lv.(*format.TimestampType); {
		case isTS:
			c.kind = report.Time
		case isInt && !it.IsSigned:
			c.kind = report.Uint
		case isString(lv):
			c.kind = report.String
		case fld.Type().Kind() == pq.Int64:
			c.kind = report.Int
		case fld.Type().Kind() == pq.Double:
			c.kind = report.Float
		case fld.Type().Kind() == pq.Boolean:
			c.kind = report.Bool
		default:
			return nil, fmt.Errorf("column %s: unexpected type %v", c.name, fld.Type())
		}
		cols = append(cols, c)
	}
	rd := pq.NewReader(pf)
	defer rd.Close()
	buf := make([]pq.Row, 64)
	byCol := make([][]pq.Value, leaf)
	var line []byte
	for {
		n, err := rd.ReadRows(buf)
		for _, row := range buf[:n] {
			for i := range byCol {
				byCol[i] = byCol[i][:0]
			}
			for _, v := range row {
				byCol[v.Column()] = append(byCol[v.Column()], v)
			}
			line = append(line[:0], '{')
			for i, c := range cols {
				if i > 0 {
					line = append(line, ',')
				}
				line = report.AppendJSONString(line, c.name)
				line = append(line, ':')
				if line, err = appendValue(line, c, byCol); err != nil {
					return nil, err
				}
			}
			line = append(line, "}\n"...)
			out.JSONL = append(out.JSONL, line...)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func isString(v format.LogicalTypeValue) bool {
	_, ok := v.(*format.StringType)
	return ok
}

func appendValue(b []byte, c column, byCol [][]pq.Value) ([]byte, error) {
	if c.list {
		types, datas := byCol[c.leaf], byCol[c.leaf+1]
		if len(types) != len(datas) {
			return nil, fmt.Errorf("column %s: %d types for %d data", c.name, len(types), len(datas))
		}
		b = append(b, '[')
		for k := range types {
			if types[k].IsNull() {
				if len(types) != 1 || !datas[k].IsNull() {
					return nil, fmt.Errorf("column %s: null inside a list", c.name)
				}
				break // the empty list
			}
			if k > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"type":`...)
			b = report.AppendJSONString(b, string(types[k].ByteArray()))
			b = append(b, `,"data":`...)
			b = report.AppendJSONString(b, string(datas[k].ByteArray()))
			b = append(b, '}')
		}
		return append(b, ']'), nil
	}
	vs := byCol[c.leaf]
	if len(vs) != 1 {
		return nil, fmt.Errorf("column %s: %d values in one row", c.name, len(vs))
	}
	v := vs[0]
	if v.IsNull() {
		if !c.option {
			return nil, fmt.Errorf("column %s: null in a required column", c.name)
		}
		return append(b, `""`...), nil
	}
	var rv report.Value
	switch c.kind {
	case report.Time, report.Int:
		rv.I = v.Int64()
	case report.Uint:
		if v.Kind() == pq.Int32 {
			rv.U = uint64(v.Uint32())
		} else {
			rv.U = v.Uint64()
		}
	case report.String:
		rv.S = string(v.ByteArray())
	case report.Float:
		rv.F = v.Double()
	case report.Bool:
		rv.B = v.Boolean()
	}
	return report.AppendJSONValue(b, c.kind, rv), nil
}

// LogicalTypes maps each leaf column path (dot-joined) to its logical or
// physical type as written in the footer, e.g. "src_port" → "INT(16,false)".
func LogicalTypes(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	pf, err := pq.OpenFile(f, st.Size())
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	var walk func(prefix string, els []format.SchemaElement) []format.SchemaElement
	walk = func(prefix string, els []format.SchemaElement) []format.SchemaElement {
		if len(els) == 0 {
			return nil // a footer with fewer elements than it announced
		}
		e := els[0]
		els = els[1:]
		name := e.Name
		if prefix != "" {
			name = prefix + "." + e.Name
		}
		children, _ := e.NumChildren.Get()
		if children == 0 {
			t := ""
			if pt, ok := e.Type.Get(); ok {
				t = pt.String()
			}
			if lt := e.LogicalType.String(); lt != "" {
				t += " " + lt
			}
			if rt, ok := e.RepetitionType.Get(); ok {
				t += " " + rt.String()
			}
			out[name] = t
			return els
		}
		for range children {
			els = walk(name, els)
		}
		return els
	}
	schema := pf.Metadata().Schema
	if len(schema) > 0 {
		rest := schema[1:]
		children, _ := schema[0].NumChildren.Get()
		for range children {
			rest = walk("", rest)
		}
	}
	return out, nil
}
