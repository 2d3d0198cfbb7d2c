package flowstore

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/spotctl/spotctl/decode/flow"
)

func bytesPart(name string, typ Type, enc Encoding, part uint8, b []byte) filePart {
	return filePart{e: dirEntry{name: name, typ: typ, enc: enc, part: part}, gen: func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}}
}

// TestForwardCompatibility builds a flows file the way an older writer
// (fewer columns) and a newer writer (extra columns, a type this build
// does not know) would, and reads it.
func TestForwardCompatibility(t *testing.T) {
	const rows = 5
	le := binary.LittleEndian
	col := func(width int, f func(i int, b []byte)) []byte {
		b := make([]byte, rows*width)
		for i := 0; i < rows; i++ {
			f(i, b[i*width:])
		}
		return b
	}
	parts := []filePart{
		bytesPart(ColFirst, TypeInt64, EncodingPlain, 0, col(8, func(i int, b []byte) { le.PutUint64(b, uint64(1000+i)) })),
		bytesPart(ColSrcIP, TypeAddr, EncodingPlain, 0, col(16, func(i int, b []byte) { a := flow.AddrFrom4([4]byte{10, 0, 0, byte(i)}); copy(b, a[:]) })),
		// A column from the future with a type this build does not know.
		bytesPart("exporter_blob", Type(200), Encoding(9), 0, []byte("opaque future bytes")),
		bytesPart("exporter_blob", Type(200), Encoding(9), 1, []byte("more")),
		// A column from the future with a known type.
		bytesPart("future_counter", TypeUint64, EncodingPlain, 0, col(8, func(i int, b []byte) { le.PutUint64(b, uint64(7*i)) })),
		// One sparse column of the thirteen; the others are absent.
		bytesPart(ColSrcAS, TypeUint32, EncodingPlain, 0, col(4, func(i int, b []byte) { le.PutUint32(b, uint32(65000+i)) })),
		bytesPart(ColBytes, TypeUint64, EncodingPlain, 0, col(8, func(i int, b []byte) { le.PutUint64(b, uint64(100*i)) })),
	}
	path := filepath.Join(t.TempDir(), "flows.col")
	if err := writeColumnFile(path, TableFlows, rows, parts); err != nil {
		t.Fatal(err)
	}
	tb, err := OpenColumnFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	if errs := tb.Verify(); errs != nil {
		t.Fatalf("Verify: %v", errs)
	}
	// Absent columns (vlan, dst_ip, out_bytes, …): ErrNoColumn, nil
	// through Optional, and zero in FlowAt.
	if _, err := tb.Uint16(ColVLAN); !errors.Is(err, ErrNoColumn) {
		t.Errorf("absent column: %v", err)
	}
	if v, err := Optional(tb.Uint64(ColOutBytes)); v != nil || err != nil {
		t.Errorf("Optional on an absent column: %v, %v", v, err)
	}
	if v, err := Optional(tb.Uint32(ColBytes)); v != nil || !errors.Is(err, ErrColumnType) {
		t.Errorf("Optional keeps other errors: %v, %v", v, err)
	}
	var r flow.Record
	for i := 0; i < rows; i++ {
		if err := tb.FlowAt(i, &r); err != nil {
			t.Fatal(err)
		}
		want := flow.Record{First: int64(1000 + i), Src: flow.AddrFrom4([4]byte{10, 0, 0, byte(i)}), Bytes: uint64(100 * i), SrcAS: uint32(65000 + i)}
		if r != want {
			t.Errorf("row %d: %+v, want %+v", i, r, want)
		}
	}
	// Unknown-to-FlowAt column of a known type reads fine.
	out, err := tb.Uint64("future_counter")
	if err != nil || out[4] != 28 {
		t.Errorf("future_counter: %v %v", out, err)
	}
	// The unknown type fails only when asked for.
	if _, err := tb.Uint64("exporter_blob"); !errors.Is(err, ErrColumnType) {
		t.Errorf("unknown type column: %v", err)
	}
	cols := tb.Columns()
	if len(cols) != 6 || cols[2].Type.String() != "<unknown type 200>" || cols[2].Encoding.String() != "<unknown encoding 9>" || len(cols[2].Parts) != 2 {
		t.Errorf("columns: %+v", cols)
	}
	// Verify still checksums the column it cannot interpret.
	b, _ := os.ReadFile(path)
	b[cols[2].Parts[1].Offset] ^= 1
	os.WriteFile(path, b, 0o644)
	tb2, err := OpenColumnFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer tb2.Close()
	if errs := tb2.Verify(); len(errs) != 1 || !errors.Is(errs[0], ErrChecksum) {
		t.Errorf("Verify of a corrupt unknown column: %v", errs)
	}
}

func TestEnumStrings(t *testing.T) {
	// Persisted values: these numbers are on disk and must never change.
	for _, tc := range []struct {
		got  any
		want string
	}{
		{TypeInvalid, "invalid"}, {Type(1), "int64"}, {Type(2), "uint64"}, {Type(3), "uint32"},
		{Type(4), "uint16"}, {Type(5), "uint8"}, {Type(6), "addr"}, {Type(7), "string"}, {Type(8), "bytes"},
		{Type(9), "<unknown type 9>"},
		{Encoding(0), "invalid"}, {Encoding(1), "plain"}, {Encoding(2), "dict"}, {Encoding(3), "<unknown encoding 3>"},
	} {
		if s := tc.got.(interface{ String() string }).String(); s != tc.want {
			t.Errorf("%v: %q, want %q", tc.got, s, tc.want)
		}
	}
	if Type(9).IsValid() || !TypeBytes.IsValid() || TypeInvalid.IsValid() || !EncodingDict.IsValid() || Encoding(3).IsValid() {
		t.Error("IsValid")
	}
}
