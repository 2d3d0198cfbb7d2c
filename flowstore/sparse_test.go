package flowstore

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/spotctl/spotctl/decode/flow"
)

// TestFlowSchema pins the flows columns: names (the CLI's JSON names),
// types, order and which are sparse.
func TestFlowSchema(t *testing.T) {
	want := []ColumnSpec{
		{"first", TypeInt64, false}, {"last", TypeInt64, false},
		{"src_ip", TypeAddr, false}, {"dst_ip", TypeAddr, false},
		{"src_port", TypeUint16, false}, {"dst_port", TypeUint16, false},
		{"proto", TypeUint8, false}, {"tcp_flags", TypeUint8, false}, {"tos", TypeUint8, false},
		{"vlan", TypeUint16, false}, {"packets", TypeUint64, false}, {"bytes", TypeUint64, false},
		{"evidence", TypeUint32, false},
		{"out_packets", TypeUint64, true}, {"out_bytes", TypeUint64, true},
		{"exporter", TypeAddr, true}, {"obs_domain", TypeUint32, true},
		{"src_as", TypeUint32, true}, {"dst_as", TypeUint32, true},
		{"in_if", TypeUint32, true}, {"out_if", TypeUint32, true},
		{"next_hop", TypeAddr, true},
		{"src_mask", TypeUint8, true}, {"dst_mask", TypeUint8, true}, {"end_reason", TypeUint8, true},
		{"sampling", TypeUint32, true},
	}
	got := FlowSchema()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("FlowSchema()\n got %v\nwant %v", got, want)
	}
	got[0].Name = "changed"
	if FlowSchema()[0].Name != ColFirst {
		t.Error("FlowSchema returns the package's slice")
	}
	if len(flowSchema) != fCount || flowSchema[fSparse-1].Sparse || !flowSchema[fSparse].Sparse {
		t.Error("index constants do not match flowSchema")
	}
	// Every sparse column maps to a distinct flow.Record field.
	var r flow.Record
	randExport(newRand(1), &r, false)
	seen := map[any]string{}
	for _, col := range flowSchema[fSparse:] {
		v, nonZero := sparseField(&r, col.Name)
		if !nonZero {
			t.Errorf("%s: zero after randExport", col.Name)
		}
		if other, dup := seen[v]; dup {
			t.Errorf("%s and %s read the same value", col.Name, other)
		}
		seen[v] = col.Name
	}
}

// TestSparseColumns writes segments of packet-capture rows, flow-export
// rows and mixes of both and reads them back: every field round-trips, and
// a sparse column is in a segment's file exactly when some row of the
// segment has a non-zero value in it (checkSegment checks both).
func TestSparseColumns(t *testing.T) {
	only := func(d segmentData, set func(i int, r *flow.Record)) segmentData {
		for i := range d.flows {
			set(i, &d.flows[i])
		}
		return d
	}
	for _, tc := range []struct {
		name     string
		chunk    int
		segments []segmentData
		sparse   []int // number of sparse columns expected per segment
	}{
		{
			name:     "packet capture: no sparse column",
			segments: []segmentData{genSegment(1, 3000, 10, 5)},
			sparse:   []int{0},
		},
		{
			name:     "flow export: every field set",
			segments: []segmentData{withExport(genSegment(2, 3000, 0, 0), 2, 1)},
			sparse:   []int{13},
		},
		{
			name:     "mixed: one flow in seven from an exporter",
			segments: []segmentData{withExport(genSegment(3, 3000, 0, 0), 3, 7)},
			sparse:   []int{13},
		},
		{
			name:  "first non-zero values after many zero rows, tiny chunks",
			chunk: 24,
			segments: []segmentData{only(genSegment(4, 3000, 0, 0), func(i int, r *flow.Record) {
				if i == 2500 || i == 2990 {
					randExport(newRand(uint64(i)), r, false)
				}
			})},
			sparse: []int{13},
		},
		{
			name: "NetFlow v5 style: exporter, sampling and masks only",
			segments: []segmentData{only(genSegment(5, 2000, 0, 0), func(i int, r *flow.Record) {
				r.Exporter = flow.AddrFrom4([4]byte{192, 0, 2, byte(i % 3)})
				r.Sampling = 100
				r.SrcMask, r.DstMask = uint8(i%33), 24
			})},
			sparse: []int{4},
		},
		{
			name: "a single non-zero value in the last row",
			segments: []segmentData{only(genSegment(6, 5000, 0, 0), func(i int, r *flow.Record) {
				if i == 4999 {
					r.EndReason = 2
				}
			})},
			sparse: []int{1},
		},
		{
			name:  "pcap, export, empty and pcap segments in one case",
			chunk: 40,
			segments: []segmentData{
				genSegment(7, 500, 20, 5),
				withExport(genSegment(8, 700, 0, 0), 8, 2),
				{},
				genSegment(9, 300, 0, 0),
			},
			sparse: []int{0, 13, 0, 0},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.chunk > 0 {
				defer func(old int) { chunkSize = old }(chunkSize)
				chunkSize = tc.chunk
			}
			c := newCase(t)
			for _, d := range tc.segments {
				writeSegment(t, c, d)
			}
			for pass, cc := range []*Case{c, reopen(t, c)} {
				for i, s := range cc.Segments() {
					checkSegment(t, s, tc.segments[i])
					ft, _ := s.Flows()
					if n := len(ft.Columns()) - fSparse; n != tc.sparse[i] {
						t.Errorf("pass %d segment %d: %d sparse columns, want %d", pass, s.Number, n, tc.sparse[i])
					}
				}
				if errs := cc.Verify(); errs != nil {
					t.Fatalf("pass %d: verify: %v", pass, errs)
				}
			}
			var all []flow.Record
			for _, d := range tc.segments {
				all = append(all, d.flows...)
			}
			var got []flow.Record
			if err := c.EachFlow(func(_ *Segment, _ int, r *flow.Record) error {
				got = append(got, *r)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, all) {
				t.Error("EachFlow differs from what was written")
			}
		})
	}
}

// TestSparsePcapUnchanged: a packet-capture segment's flows file is the
// file this package wrote before the sparse columns existed — same
// columns, same layout, same size — for any row count. (The golden
// flows.col.txt pins the bytes of a small one.)
func TestSparsePcapUnchanged(t *testing.T) {
	for _, rows := range []int{0, 1, 511, 512, 513, 40_000} {
		c := newCase(t)
		writeSegment(t, c, genSegment(uint64(rows), rows, 0, 0))
		ft, err := c.Segments()[0].Flows()
		if err != nil {
			t.Fatal(err)
		}
		for _, col := range flowSchema[fSparse:] {
			if ft.Has(col.Name) {
				t.Fatalf("%d rows: sparse column %s written", rows, col.Name)
			}
		}
		// The version-1 layout of the 13 core columns: header page, each
		// part at the next page boundary, file ends with the last part.
		size := uint64(headerLen(fSparse))
		for i, col := range flowSchema[:fSparse] {
			if i > 0 {
				size = alignUp(size)
			}
			size += uint64(rows * col.Type.Width())
		}
		st, err := os.Stat(ft.Path())
		if err != nil {
			t.Fatal(err)
		}
		if uint64(st.Size()) != size {
			t.Errorf("%d rows: flows.col is %d bytes, the core layout is %d", rows, st.Size(), size)
		}
	}
}

// TestSparseNotMaterialised: while packet-capture rows are written, no
// spill file or chunk exists for a sparse column; the first non-zero
// value creates exactly the columns it needs.
func TestSparseNotMaterialised(t *testing.T) {
	c := newCase(t)
	w, err := c.NewSegment()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	rng := newRand(70)
	for i := 0; i < 10_000; i++ {
		r := randFlow(rng)
		if err := w.AddFlow(&r); err != nil {
			t.Fatal(err)
		}
	}
	spills := func() []string {
		ents, err := os.ReadDir(w.spillDir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		return names
	}
	for _, col := range flowSchema[fSparse:] {
		if slices.Contains(spills(), "flows."+col.Name) || w.flows[slices.Index(flowSchema, col)] != nil {
			t.Fatalf("sparse column %s materialised by zero rows", col.Name)
		}
	}
	r := randFlow(rng)
	r.SrcAS = 65001
	if err := w.AddFlow(&r); err != nil {
		t.Fatal(err)
	}
	if w.sparseOn != 1 || w.flows[fSrcAS] == nil || !slices.Contains(spills(), "flows."+ColSrcAS) {
		t.Fatalf("src_as not created: %d sparse columns, spills %v", w.sparseOn, spills())
	}
	if got, want := w.flows[fSrcAS].n+uint64(4*w.chunkRows), uint64(10_001*4); got != want {
		t.Fatalf("src_as has %d bytes spilled and buffered, want %d", got, want)
	}
	if w.chunkRows == 10_001 {
		t.Fatal("no chunk was spilled: the zero padding of the file is not exercised")
	}
}

// TestSparseAllocs: AddFlow with every export field set and FlowAt over
// every column allocate nothing once the columns exist.
func TestSparseAllocs(t *testing.T) {
	c := newCase(t)
	w, err := c.NewSegment()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	r := randFlow(newRand(71))
	randExport(newRand(72), &r, false)
	w.AddFlow(&r) // creates the sparse columns
	if n := testing.AllocsPerRun(1000, func() { r.Bytes++; w.AddFlow(&r) }); n != 0 {
		t.Errorf("AddFlow: %v allocations per row", n)
	}
	if err := w.Commit(nil); err != nil {
		t.Fatal(err)
	}
	ft, err := c.Segments()[0].Flows()
	if err != nil {
		t.Fatal(err)
	}
	var got flow.Record
	ft.FlowAt(0, &got)
	if n := testing.AllocsPerRun(1000, func() { ft.FlowAt(5, &got) }); n != 0 {
		t.Errorf("FlowAt: %v allocations per row", n)
	}
	if got.Sampling != r.Sampling || got.NextHop != r.NextHop {
		t.Errorf("row 5: %+v", got)
	}
}

// TestSparseForgedType: a sparse column stored with another type of the
// same width passes the file checks (the shape fits) but is never read as
// the wrong type: its accessor and FlowAt fail with ErrColumnType, Optional
// passes the error on, and the core columns still read.
func TestSparseForgedType(t *testing.T) {
	flows, _ := goodColumnFiles(t)
	i := entryIndex(t, flows, ColOutBytes, 0)
	flows[entryAt(i)+entType] = byte(TypeInt64)
	fixHeaderCRC(flows)
	p := filepath.Join(t.TempDir(), "flows.col")
	if err := os.WriteFile(p, flows, 0o644); err != nil {
		t.Fatal(err)
	}
	tb, err := OpenColumnFile(p)
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	if errs := tb.Verify(); errs != nil {
		t.Fatalf("Verify: %v", errs)
	}
	if _, err := Optional(tb.Uint64(ColOutBytes)); !errors.Is(err, ErrColumnType) {
		t.Errorf("Optional(Uint64(out_bytes)): %v", err)
	}
	var r flow.Record
	if err := tb.FlowAt(0, &r); !errors.Is(err, ErrColumnType) {
		t.Errorf("FlowAt: %v", err)
	}
	if b, err := tb.Uint64(ColBytes); err != nil || len(b) != 300 {
		t.Errorf("core column: %v", err)
	}
	if v, err := tb.Int64(ColOutBytes); err != nil || len(v) != 300 {
		t.Errorf("as stored: %v", err)
	}
}

// TestSparseCommitChecksShape: a sparse spill whose length disagrees with
// the row count (a writer bug) fails Commit instead of producing a file
// the reader would reject, and leaves no segment.
func TestSparseCommitChecksShape(t *testing.T) {
	c := newCase(t)
	w, err := c.NewSegment()
	if err != nil {
		t.Fatal(err)
	}
	r := randFlow(newRand(73))
	r.InIf = 7
	w.AddFlow(&r)
	w.flows[fInIf].put([]byte{1, 0, 0, 0}) // as if a row had been written twice
	err = w.Commit(nil)
	if err == nil || err.Error() != "commit segment 1: flows column in_if has 8 bytes, want 4 for 1 rows" {
		t.Fatalf("Commit: %v", err)
	}
	if n := len(reopen(t, c).Segments()); n != 0 {
		t.Fatalf("%d segments after a failed commit", n)
	}
}

// TestSparseBigEndianPath reads sparse columns through the decoding path a
// big-endian host takes.
func TestSparseBigEndianPath(t *testing.T) {
	c := newCase(t)
	d := withExport(genSegment(74, 2000, 0, 0), 74, 3)
	writeSegment(t, c, d)
	nativeLE = false
	defer func() { nativeLE = true }()
	s := reopen(t, c).Segments()[0]
	checkSegment(t, s, d)
	ft, _ := s.Flows()
	as, err := ft.Uint32(ColDstAS)
	if err != nil {
		t.Fatal(err)
	}
	for i := range d.flows {
		if as[i] != d.flows[i].DstAS {
			t.Fatalf("row %d: dst_as %d, want %d", i, as[i], d.flows[i].DstAS)
		}
	}
}
