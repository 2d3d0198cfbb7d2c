package parquet_test

import (
	"bytes"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/report"
	"github.com/spotctl/spotctl/report/parquet"
	"github.com/spotctl/spotctl/report/parquet/parquettest"
)

// every kind of column, with the widths the export gives ports and protocol.
var testCols = []report.Column{
	{Name: "ts", Kind: report.Time},
	{Name: "src_ip", Kind: report.IP},
	{Name: "src_port", Kind: report.Uint},
	{Name: "proto", Kind: report.Uint},
	{Name: "bytes", Kind: report.Uint},
	{Name: "as", Kind: report.Uint},
	{Name: "delta", Kind: report.Int},
	{Name: "score", Kind: report.Float},
	{Name: "response", Kind: report.Bool},
	{Name: "exporter", Kind: report.OptIP},
	{Name: "qname", Kind: report.String},
	{Name: "answers", Kind: report.Answers},
	{Name: "word", Kind: report.String},
}

func testBits(name string) int {
	switch name {
	case "src_port":
		return 16
	case "proto":
		return 8
	case "as":
		return 32
	}
	return 0
}

func addr(s string) flow.Addr { return flow.AddrFromNetip(netip.MustParseAddr(s)) }

// testRows covers the edges: extreme integers, times before 1970 and after
// 2262's int64 limit is not reachable, invalid UTF-8 and control bytes,
// empty and multi-element answer lists, unknown and IPv6 addresses.
func testRows() [][]report.Value {
	return [][]report.Value{
		{{I: 1772442000123456789}, {P: addr("10.0.0.1")}, {U: 443}, {U: 6}, {U: math.MaxUint64}, {U: math.MaxUint32}, {I: math.MinInt64}, {F: 1.5e-300}, {B: true},
			{P: addr("192.0.2.9")}, {S: "www.example.com"}, {A: []flow.Answer{{Type: 1, Data: "192.0.2.1"}, {Type: 5, Data: "cname.example."}}}, {S: "=cmd"}},
		{{I: -1}, {P: addr("2001:db8::1")}, {U: 0}, {U: 255}, {U: 0}, {U: 0}, {I: math.MaxInt64}, {F: -0.25}, {B: false},
			{}, {S: "bad\xff\xfe\x1b[31m\"q\"\\"}, {}, {S: ""}},
		{{I: 0}, {P: addr("::ffff:10.1.2.3")}, {U: 65535}, {U: 17}, {U: 1 << 40}, {U: 7}, {I: 0}, {F: 1}, {B: true},
			{P: addr("2001:db8::53")}, {S: "\u2028line\nsep"}, {A: []flow.Answer{{Type: 16, Data: "v=spf1 \xff"}}}, {S: "x"}},
	}
}

func writeParquet(t *testing.T, rows [][]report.Value, o parquet.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := parquet.NewWriter(&buf, parquet.Fields(testCols, testBits), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.WriteRow(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func jsonl(t *testing.T, rows [][]report.Value) string {
	t.Helper()
	var buf bytes.Buffer
	w := report.NewJSONL(&buf, testCols)
	for _, r := range rows {
		if err := w.WriteRow(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestRoundTripMatchesJSON reads the file back with parquet-go and renders
// it as JSON Lines: every value must be what report.NewJSONL prints.
func TestRoundTripMatchesJSON(t *testing.T) {
	for _, c := range parquet.Compressions {
		t.Run(string(c), func(t *testing.T) {
			rows := testRows()
			b := writeParquet(t, rows, parquet.Options{Compression: c, CreatedBy: "spotctl test"})
			f, err := parquettest.Read(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := string(f.JSONL), jsonl(t, rows); got != want {
				t.Errorf("read back:\n%s\nwant (JSON Lines):\n%s", got, want)
			}
			var names []string
			for _, c := range testCols {
				names = append(names, c.Name)
			}
			if got := strings.Join(f.Columns, ","); got != strings.Join(names, ",") {
				t.Errorf("columns %s, want the JSON order %s", got, strings.Join(names, ","))
			}
			if f.Rows != 3 || f.CreatedBy != "spotctl test" {
				t.Errorf("rows %d, created_by %q", f.Rows, f.CreatedBy)
			}
		})
	}
}

func TestLogicalTypes(t *testing.T) {
	b := writeParquet(t, testRows(), parquet.Options{})
	path := filepath.Join(t.TempDir(), "t.parquet")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	types, err := parquettest.LogicalTypes(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"ts":                        "INT64 TIMESTAMP(isAdjustedToUTC=true,unit=NANOS) REQUIRED",
		"src_ip":                    "BYTE_ARRAY STRING REQUIRED",
		"src_port":                  "INT32 INT(16,false) REQUIRED",
		"proto":                     "INT32 INT(8,false) REQUIRED",
		"bytes":                     "INT64 INT(64,false) REQUIRED",
		"as":                        "INT32 INT(32,false) REQUIRED",
		"delta":                     "INT64 INT(64,true) REQUIRED",
		"score":                     "DOUBLE REQUIRED",
		"response":                  "BOOLEAN REQUIRED",
		"exporter":                  "BYTE_ARRAY STRING OPTIONAL",
		"qname":                     "BYTE_ARRAY STRING REQUIRED",
		"answers.list.element.type": "BYTE_ARRAY STRING REQUIRED",
		"answers.list.element.data": "BYTE_ARRAY STRING REQUIRED",
		"word":                      "BYTE_ARRAY STRING REQUIRED",
	}
	for k, v := range want {
		if types[k] != v {
			t.Errorf("%s: %q, want %q", k, types[k], v)
		}
	}
	if len(types) != len(want) {
		t.Errorf("leaf columns %v", types)
	}
}

// TestDeterministic: the same rows give the same bytes, and several row
// groups read back in order.
func TestDeterministicRowGroups(t *testing.T) {
	var rows [][]report.Value
	for i := range 1000 {
		r := testRows()[i%3]
		r[0] = report.Value{I: int64(i) * 1e9}
		rows = append(rows, r)
	}
	o := parquet.Options{RowGroupRows: 300}
	a := writeParquet(t, rows, o)
	b := writeParquet(t, rows, o)
	if !bytes.Equal(a, b) {
		t.Fatal("two writes of the same rows differ")
	}
	f, err := parquettest.Read(bytes.NewReader(a), int64(len(a)))
	if err != nil {
		t.Fatal(err)
	}
	if f.RowGroups != 4 || f.Rows != 1000 {
		t.Errorf("%d row groups, %d rows; want 4 and 1000", f.RowGroups, f.Rows)
	}
	if string(f.JSONL) != jsonl(t, rows) {
		t.Error("rows read back differ from the JSON Lines")
	}
}

func TestEmptyFile(t *testing.T) {
	b := writeParquet(t, nil, parquet.Options{})
	f, err := parquettest.Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if f.Rows != 0 || len(f.JSONL) != 0 || len(f.Columns) != len(testCols) {
		t.Fatalf("empty file: %+v", f)
	}
}

func TestErrors(t *testing.T) {
	var buf bytes.Buffer
	w, err := parquet.NewWriter(&buf, parquet.Fields(testCols, testBits), parquet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	row := testRows()[0]
	row[2] = report.Value{U: 65536} // src_port is 16 bits
	if err := w.WriteRow(row); err == nil || !strings.Contains(err.Error(), "src_port: 65536 does not fit in 16 bits") {
		t.Errorf("overflow: %v", err)
	}
	if err := w.WriteRow(testRows()[1]); err == nil {
		t.Error("a writer that failed must keep failing")
	}
	if err := w.WriteRow(row[:3]); err == nil {
		t.Error("short row accepted")
	}

	for _, fs := range [][]parquet.Field{
		nil,
		{{Name: "a", Kind: report.Uint, Bits: 12}},
		{{Name: "a", Kind: report.Uint}, {Name: "a", Kind: report.Int}},
		{{Name: "", Kind: report.Int}},
		{{Name: "k", Kind: report.Kind(200)}},
	} {
		if _, err := parquet.NewWriter(&buf, fs, parquet.Options{}); err == nil {
			t.Errorf("fields %v accepted", fs)
		}
	}
	if _, err := parquet.NewWriter(&buf, parquet.Fields(testCols, nil), parquet.Options{Compression: "lzma"}); err == nil {
		t.Error("unknown compression accepted")
	}
	if _, err := parquet.ParseCompression("LZMA"); err == nil {
		t.Error("ParseCompression accepted lzma")
	}
	if c, err := parquet.ParseCompression(""); err != nil || c != parquet.Zstd {
		t.Errorf("default compression %q, %v", c, err)
	}

	w, _ = parquet.NewWriter(&buf, parquet.Fields(testCols, nil), parquet.Options{})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteRow(testRows()[0]); err == nil {
		t.Error("row after Flush accepted")
	}
}

// failWriter fails after n bytes: the error must come back, not vanish.
type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n < len(p) {
		return 0, os.ErrClosed
	}
	f.n -= len(p)
	return len(p), nil
}

func TestWriteErrorReturned(t *testing.T) {
	w, err := parquet.NewWriter(&failWriter{n: 10}, parquet.Fields(testCols, testBits), parquet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range testRows() {
		if err := w.WriteRow(r); err != nil {
			return
		}
	}
	if err := w.Flush(); err == nil {
		t.Fatal("a failing output gave no error")
	}
}
