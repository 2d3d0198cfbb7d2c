package flowstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/spotctl/spotctl/decode/flow"
)

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name     string
		chunk    int // spill chunk size; small values cross chunk boundaries constantly
		segments []segmentData
		qnameEnc []Encoding // expected qname encoding per segment
	}{
		{
			name:     "empty segment",
			segments: []segmentData{{}},
			qnameEnc: []Encoding{EncodingPlain},
		},
		{
			name:     "one row each",
			segments: []segmentData{genSegment(1, 1, 1, 10)},
			qnameEnc: []Encoding{EncodingPlain},
		},
		{
			name:  "multiple segments incl. empty, tiny chunks",
			chunk: 24,
			segments: []segmentData{
				genSegment(2, 1000, 700, 20),
				{},
				genSegment(3, 17, 0, 0),
				genSegment(4, 0, 300, 0),
			},
			qnameEnc: []Encoding{EncodingDict, EncodingPlain, EncodingPlain, EncodingPlain},
		},
		{
			name:     "many rows across chunk boundaries",
			segments: []segmentData{genSegment(5, 100_000, 40_000, 5000)},
			qnameEnc: []Encoding{EncodingDict},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.chunk > 0 {
				old := chunkSize
				chunkSize = tc.chunk
				defer func() { chunkSize = old }()
			}
			c := newCase(t)
			for _, d := range tc.segments {
				writeSegment(t, c, d)
			}
			// Through the writing Case, then through a fresh Open.
			for pass, cc := range []*Case{c, reopen(t, c)} {
				segs := cc.Segments()
				if len(segs) != len(tc.segments) {
					t.Fatalf("pass %d: %d segments, want %d", pass, len(segs), len(tc.segments))
				}
				for i, s := range segs {
					if s.Number != i+1 {
						t.Fatalf("pass %d: segment %d has number %d", pass, i, s.Number)
					}
					if s.Manifest.Flows != uint64(len(tc.segments[i].flows)) || s.Manifest.DNS != uint64(len(tc.segments[i].dns)) || s.Manifest.Segment != s.Number {
						t.Fatalf("pass %d: manifest %+v", pass, s.Manifest)
					}
					checkSegment(t, s, tc.segments[i])
					dt, _ := s.DNS()
					if enc := columnInfo(t, dt, ColQName).Encoding; enc != tc.qnameEnc[i] {
						t.Errorf("segment %d: qname encoding %s, want %s", s.Number, enc, tc.qnameEnc[i])
					}
				}
				if errs := cc.Verify(); len(errs) > 0 {
					t.Fatalf("pass %d: verify: %v", pass, errs)
				}
			}
		})
	}
}

func reopen(t *testing.T, c *Case) *Case {
	t.Helper()
	cc, err := Open(c.Dir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

func columnInfo(t *testing.T, tb *Table, name string) ColumnInfo {
	t.Helper()
	for _, ci := range tb.Columns() {
		if ci.Name == name {
			return ci
		}
	}
	t.Fatalf("no column %q", name)
	return ColumnInfo{}
}

func TestLayoutInvariants(t *testing.T) {
	c := newCase(t)
	pcap := genSegment(9, 5000, 3000, 50)
	writeSegment(t, c, pcap)
	export := withExport(genSegment(10, 5000, 0, 0), 10, 5)
	if n := len(wantColumns(export.flows)); n != len(flowSchema) {
		t.Fatalf("export segment sets %d columns, want all %d", n, len(flowSchema))
	}
	writeSegment(t, c, export)
	for _, s := range c.Segments() {
		checkLayout(t, s, []segmentData{pcap, export}[s.Number-1])
	}
}

// checkLayout checks the columns of both tables of s against the schema
// (for flows: the core columns and the sparse columns d sets) and the
// placement of their parts.
func checkLayout(t *testing.T, s *Segment, d segmentData) {
	t.Helper()
	for _, open := range []func() (*Table, error){s.Flows, s.DNS} {
		tb, err := open()
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(tb.Path())
		if err != nil {
			t.Fatal(err)
		}
		schema := wantColumns(d.flows)
		if tb.Name() == TableDNS {
			schema = dnsSchema
		}
		cols := tb.Columns()
		if len(cols) != len(schema) {
			t.Fatalf("%s: %d columns, want %d", tb.Name(), len(cols), len(schema))
		}
		prevEnd := uint64(PageSize)
		for i, ci := range cols {
			if ci.Name != schema[i].Name || ci.Type != schema[i].Type {
				t.Errorf("%s column %d: %s %s, want %s %s", tb.Name(), i, ci.Name, ci.Type, schema[i].Name, schema[i].Type)
			}
			for _, p := range ci.Parts {
				if p.Offset%PageSize != 0 || p.Offset < prevEnd || p.Offset+p.Length > uint64(st.Size()) {
					t.Errorf("%s %s: part [%d,+%d) breaks alignment/order (prev end %d, size %d)", tb.Name(), ci.Name, p.Offset, p.Length, prevEnd, st.Size())
				}
				prevEnd = p.Offset + p.Length
			}
		}
		if tb.Rows() > 0 && prevEnd != uint64(st.Size()) {
			t.Errorf("%s: file is %d bytes, last part ends at %d", tb.Name(), st.Size(), prevEnd)
		}
	}
}

func TestManifestAndInfo(t *testing.T) {
	c := newCase(t)
	writeSegment(t, c, genSegment(1, 3, 2, 1))
	cc := reopen(t, c)
	if got := cc.Info(); got.Format != CaseFormat || got.FormatVersion != CaseFormatVersion || got.CreatedBy != testInfo.CreatedBy || !got.Created.Equal(testInfo.Created) {
		t.Errorf("info %+v", got)
	}
	want := testManifest()
	want.Segment, want.Flows, want.DNS = 1, 3, 2
	want.normalize()
	if got := cc.Segments()[0].Manifest; !reflect.DeepEqual(got, *want) {
		t.Errorf("manifest\n got %+v\nwant %+v", got, *want)
	}
	// Shape of manifest.json: snake_case names, [] never null.
	b, err := os.ReadFile(filepath.Join(c.Dir(), "seg-000001", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"segment", "spotctl_version", "ingest_flags", "flows", "dns", "evidence"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("manifest.json lacks %q: %s", k, b)
		}
	}
	ev := raw["evidence"].([]any)[0].(map[string]any)
	for _, k := range []string{"path", "size", "sha256", "format", "compression", "link_types", "packets", "first", "last", "error_count", "errors"} {
		if _, ok := ev[k]; !ok {
			t.Errorf("evidence entry lacks %q", k)
		}
	}
	if ev["errors"] == nil {
		t.Errorf("errors is null, want []")
	}
}

func TestEachFlowEachDNS(t *testing.T) {
	c := newCase(t)
	a, b := genSegment(1, 50, 20, 5), genSegment(2, 30, 10, 5)
	writeSegment(t, c, a)
	writeSegment(t, c, b)
	var flows []flow.Record
	var segs []int
	if err := c.EachFlow(func(s *Segment, row int, r *flow.Record) error {
		flows = append(flows, *r)
		segs = append(segs, s.Number)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := append(append([]flow.Record{}, a.flows...), b.flows...)
	if !reflect.DeepEqual(flows, want) || segs[0] != 1 || segs[len(segs)-1] != 2 {
		t.Fatalf("EachFlow order or content differs")
	}
	var n int
	wantDNS := append(append([]flow.DNSMessage{}, a.dns...), b.dns...)
	if err := c.EachDNS(func(s *Segment, row int, m *flow.DNSMessage) error {
		if !sameDNS(*m, wantDNS[n]) {
			t.Fatalf("dns %d differs", n)
		}
		n++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != len(wantDNS) {
		t.Fatalf("EachDNS visited %d rows, want %d", n, len(wantDNS))
	}
	stop := errors.New("stop")
	if err := c.EachFlow(func(*Segment, int, *flow.Record) error { return stop }); err != stop {
		t.Fatalf("EachFlow did not return the callback's error: %v", err)
	}
}

func TestDictionaryBounds(t *testing.T) {
	defer func(e, b int) { maxDictEntries, maxDictBytes = e, b }(maxDictEntries, maxDictBytes)
	for _, tc := range []struct {
		name       string
		entries    int
		bytes      int
		pool       int
		wantEnc    Encoding
		wantDictSz int
	}{
		{"repetitive names use the dictionary", 1 << 18, 16 << 20, 30, EncodingDict, 30},
		{"unique names: plain is smaller", 1 << 18, 16 << 20, 0, EncodingPlain, 0},
		{"entry cap exceeded falls back to plain", 10, 16 << 20, 30, EncodingPlain, 0},
		{"byte cap exceeded falls back to plain", 1 << 18, 100, 30, EncodingPlain, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			maxDictEntries, maxDictBytes = tc.entries, tc.bytes
			c := newCase(t)
			d := genSegment(7, 0, 2000, tc.pool)
			for i := range d.dns { // keep the pool exact: no special names
				if tc.pool > 0 && (d.dns[i].QName == "" || d.dns[i].QName[0] == 0x1b) {
					d.dns[i].QName = "host0.example.com"
				}
			}
			writeSegment(t, c, d)
			s := reopen(t, c).Segments()[0]
			checkSegment(t, s, d)
			dt, _ := s.DNS()
			if enc := columnInfo(t, dt, ColQName).Encoding; enc != tc.wantEnc {
				t.Fatalf("encoding %s, want %s", enc, tc.wantEnc)
			}
			qn, _ := dt.Strings(ColQName)
			if qn.DictLen() != tc.wantDictSz {
				t.Fatalf("dictionary has %d entries, want %d", qn.DictLen(), tc.wantDictSz)
			}
			if tc.wantEnc == EncodingDict {
				ids := qn.IDs()
				for i := range ids {
					if string(qn.DictEntry(int(ids[i]))) != d.dns[i].QName {
						t.Fatalf("row %d: dictionary entry differs", i)
					}
				}
			}
		})
	}
}

// TestBigEndianPath runs the decoding path a big-endian host (or an
// unaligned buffer) takes, on this host.
func TestBigEndianPath(t *testing.T) {
	c := newCase(t)
	d := genSegment(11, 3000, 2000, 40)
	writeSegment(t, c, d)
	nativeLE = false
	defer func() { nativeLE = true }()
	s := reopen(t, c).Segments()[0]
	checkSegment(t, s, d)
	ft, _ := s.Flows()
	first, err := ft.Int64(ColFirst)
	if err != nil {
		t.Fatal(err)
	}
	for i := range d.flows {
		if first[i] != d.flows[i].First {
			t.Fatalf("row %d: first %d, want %d", i, first[i], d.flows[i].First)
		}
	}
}

func TestAccessorErrors(t *testing.T) {
	c := newCase(t)
	writeSegment(t, c, genSegment(1, 10, 10, 3))
	s := c.Segments()[0]
	ft, _ := s.Flows()
	if _, err := ft.Uint64("out_packets"); !errors.Is(err, ErrNoColumn) {
		t.Errorf("missing column: %v", err)
	}
	if ft.Has("out_packets") || !ft.Has(ColBytes) {
		t.Errorf("Has is wrong")
	}
	if _, err := ft.Uint32(ColBytes); !errors.Is(err, ErrColumnType) {
		t.Errorf("wrong type: %v", err)
	}
	if _, err := ft.Strings(ColSrcIP); !errors.Is(err, ErrColumnType) {
		t.Errorf("wrong type: %v", err)
	}
	var r flow.Record
	if err := ft.FlowAt(10, &r); err == nil {
		t.Errorf("FlowAt past the end: no error")
	}
	if err := ft.FlowAt(-1, &r); err == nil {
		t.Errorf("FlowAt(-1): no error")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := ft.Uint64(ColBytes); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	if _, err := s.Flows(); !errors.Is(err, ErrClosed) {
		t.Errorf("segment after Close: %v", err)
	}
	if _, err := c.NewSegment(); !errors.Is(err, ErrClosed) {
		t.Errorf("NewSegment after Close: %v", err)
	}
}

// TestConcurrentReaders: tables are shared by detectors running in
// parallel; run with -race.
func TestConcurrentReaders(t *testing.T) {
	c := newCase(t)
	d := genSegment(60, 2000, 1000, 30)
	writeSegment(t, c, d)
	cc := reopen(t, c)
	s := cc.Segments()[0]
	errc := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func() {
			ft, err := s.Flows()
			if err != nil {
				errc <- err
				return
			}
			dt, err := s.DNS()
			if err != nil {
				errc <- err
				return
			}
			var r flow.Record
			var m flow.DNSMessage
			for i := g; i < len(d.flows); i += 8 {
				if err := ft.FlowAt(i, &r); err != nil || r != d.flows[i] {
					errc <- fmt.Errorf("flow %d: %v", i, err)
					return
				}
			}
			for i := g; i < len(d.dns); i += 8 {
				if err := dt.DNSAt(i, &m); err != nil || !sameDNS(m, d.dns[i]) {
					errc <- fmt.Errorf("dns %d: %v", i, err)
					return
				}
			}
			if g%2 == 0 {
				ft.Verify()
			}
			errc <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}
