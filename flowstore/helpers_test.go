package flowstore

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/spotctl/spotctl/decode/flow"
)

var testInfo = CaseInfo{CreatedBy: "spotctl test", Created: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}

func newCase(t testing.TB) *Case {
	t.Helper()
	c, err := Create(t.TempDir(), testInfo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func randAddr(r *rand.Rand) flow.Addr {
	if r.IntN(4) == 0 {
		var a flow.Addr
		for i := range a {
			a[i] = byte(r.Uint32())
		}
		return a
	}
	return flow.AddrFrom4([4]byte{10, byte(r.IntN(4)), byte(r.IntN(256)), byte(r.IntN(256))})
}

// randFlow fills r deterministically from rng, using every bit of every
// field somewhere so that a swapped or truncated column shows.
func randFlow(rng *rand.Rand) flow.Record {
	first := int64(1_700_000_000_000_000_000) + rng.Int64N(1e15)
	return flow.Record{
		First: first, Last: first + rng.Int64N(1e12),
		Src: randAddr(rng), Dst: randAddr(rng),
		SrcPort: uint16(rng.Uint32()), DstPort: uint16(rng.Uint32()),
		Proto: uint8(rng.Uint32()), TCPFlags: uint8(rng.Uint32()), ToS: uint8(rng.Uint32()),
		VLAN:    uint16(rng.IntN(4096)),
		Packets: rng.Uint64() >> rng.IntN(64), Bytes: rng.Uint64() >> rng.IntN(64),
		Evidence: uint32(rng.IntN(3)),
	}
}

// randExport sets every flow-export field of r (the sparse columns) from
// rng, again using every bit somewhere. With zeros, each field is zero one
// time in ten, so that zeros inside a present column are exercised too;
// without, every field is non-zero.
func randExport(rng *rand.Rand, r *flow.Record, zeros bool) {
	some := func(v uint64) uint64 {
		if zeros && rng.IntN(10) == 0 {
			return 0
		}
		return max(v, 1)
	}
	addr := func() flow.Addr {
		if zeros && rng.IntN(10) == 0 {
			return flow.Addr{}
		}
		return randAddr(rng)
	}
	r.OutPackets = some(rng.Uint64() >> rng.IntN(64))
	r.OutBytes = some(rng.Uint64() >> rng.IntN(64))
	r.Exporter = addr()
	r.ObsDomain = uint32(some(uint64(rng.Uint32())))
	r.SrcAS = uint32(some(uint64(rng.Uint32())))
	r.DstAS = uint32(some(uint64(rng.Uint32())))
	r.InIf = uint32(some(uint64(rng.Uint32())))
	r.OutIf = uint32(some(uint64(rng.Uint32())))
	r.NextHop = addr()
	r.SrcMask = uint8(some(uint64(rng.IntN(256))))
	r.DstMask = uint8(some(uint64(rng.IntN(256))))
	r.EndReason = uint8(some(uint64(rng.IntN(256))))
	r.Sampling = uint32(some(uint64(rng.Uint32())))
}

// withExport gives every every-th flow of d flow-export fields (from a
// fixed seed), as a segment ingested from NetFlow/IPFIX, or from NetFlow
// and pcap files together, holds. It modifies and returns d.
func withExport(d segmentData, seed uint64, every int) segmentData {
	rng := newRand(seed ^ 0xe8)
	for i := range d.flows {
		if i%every == 0 {
			randExport(rng, &d.flows[i], true)
		}
	}
	return d
}

// sparseField returns the value of sparse column name in r, and whether
// it is non-zero.
func sparseField(r *flow.Record, name string) (any, bool) {
	var v any
	switch name {
	case ColOutPackets:
		v = r.OutPackets
	case ColOutBytes:
		v = r.OutBytes
	case ColExporter:
		v = r.Exporter
	case ColObsDomain:
		v = r.ObsDomain
	case ColSrcAS:
		v = r.SrcAS
	case ColDstAS:
		v = r.DstAS
	case ColInIf:
		v = r.InIf
	case ColOutIf:
		v = r.OutIf
	case ColNextHop:
		v = r.NextHop
	case ColSrcMask:
		v = r.SrcMask
	case ColDstMask:
		v = r.DstMask
	case ColEndReason:
		v = r.EndReason
	case ColSampling:
		v = r.Sampling
	default:
		panic("not a sparse column: " + name)
	}
	return v, !reflect.ValueOf(v).IsZero()
}

// wantColumns is the flows columns a segment of these rows must have, in
// file order: the core ones and the sparse ones some row sets.
func wantColumns(flows []flow.Record) []ColumnSpec {
	var out []ColumnSpec
	for _, col := range flowSchema {
		keep := !col.Sparse
		for i := 0; i < len(flows) && !keep; i++ {
			_, keep = sparseField(&flows[i], col.Name)
		}
		if keep {
			out = append(out, col)
		}
	}
	return out
}

// randDNS draws qnames from a pool of poolSize names (0: every name unique).
func randDNS(rng *rand.Rand, seq, poolSize int) flow.DNSMessage {
	var qname string
	if poolSize > 0 {
		qname = fmt.Sprintf("host%d.example.com", rng.IntN(poolSize))
	} else {
		qname = fmt.Sprintf("%x.t%d.tunnel.example", rng.Uint64(), seq)
	}
	if rng.IntN(50) == 0 {
		qname = "" // root / empty question
	}
	if rng.IntN(40) == 0 {
		qname = "\x1b[31mevil\x00name\xff" // raw evidence: any bytes survive
	}
	m := flow.DNSMessage{
		TS:     int64(1_700_000_000_000_000_000) + rng.Int64N(1e15),
		Client: randAddr(rng), Server: randAddr(rng),
		ClientPort: uint16(rng.Uint32()), ServerPort: 53,
		Transport: []uint8{flow.ProtoUDP, flow.ProtoTCP}[rng.IntN(2)],
		ID:        uint16(rng.Uint32()), Response: rng.IntN(2) == 1,
		Opcode: uint8(rng.IntN(16)), Rcode: uint8(rng.IntN(16)), Flags: uint8(rng.IntN(64)),
		QName: qname, QType: uint16(rng.Uint32()), QClass: 1,
		TTL: rng.Uint32(), FrameLen: uint32(rng.IntN(1500)), Evidence: uint32(rng.IntN(3)),
	}
	if m.Response {
		n := rng.IntN(4)
		for i := 0; i < n; i++ {
			m.Answers = append(m.Answers, flow.Answer{Type: uint16(rng.IntN(300)), Data: fmt.Sprintf("10.0.%d.%d", rng.IntN(256), i)})
		}
		m.ANCount = uint16(n)
		if rng.IntN(30) == 0 {
			// One big answer (TXT) crossing spill chunk boundaries.
			m.Answers = append(m.Answers, flow.Answer{Type: 16, Data: string(make([]byte, 3000+rng.IntN(3000)))})
		}
	}
	return m
}

func sameDNS(a, b flow.DNSMessage) bool {
	if len(a.Answers) == 0 && len(b.Answers) == 0 {
		a.Answers, b.Answers = nil, nil
	}
	return reflect.DeepEqual(a, b)
}

// segmentData is what a test wrote into one segment.
type segmentData struct {
	flows []flow.Record
	dns   []flow.DNSMessage
}

func genSegment(seed uint64, nFlows, nDNS, pool int) segmentData {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	var d segmentData
	for i := 0; i < nFlows; i++ {
		d.flows = append(d.flows, randFlow(rng))
	}
	for i := 0; i < nDNS; i++ {
		d.dns = append(d.dns, randDNS(rng, i, pool))
	}
	return d
}

func testManifest() *Manifest {
	return &Manifest{
		SpotctlVersion: "v0.0.0-test",
		IngestFlags:    []string{"--strict"},
		Evidence: []EvidenceFile{
			{Path: "a.pcap", Size: 100, SHA256: "00", Format: "pcap", LinkTypes: []uint16{1}, Packets: 10},
			{Path: "b.pcapng.gz", Size: 200, SHA256: "01", Format: "pcapng", Compression: "gzip", LinkTypes: []uint16{1, 113},
				Packets: 20, ErrorCount: 1, Errors: []EvidenceError{{Offset: 1234, Message: "truncated"}}},
			{Path: "c.nf", Size: 300, SHA256: "02", Format: "netflow-v9"},
		},
	}
}

func writeSegment(t testing.TB, c *Case, d segmentData) *Manifest {
	t.Helper()
	w, err := c.NewSegment()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for i := range d.flows {
		if err := w.AddFlow(&d.flows[i]); err != nil {
			t.Fatal(err)
		}
	}
	for i := range d.dns {
		if err := w.AddDNS(&d.dns[i]); err != nil {
			t.Fatal(err)
		}
	}
	m := testManifest()
	if err := w.Commit(m); err != nil {
		t.Fatal(err)
	}
	return m
}

// checkSegment compares a committed segment with what was written, both
// through the row materialisers and through the typed column accessors.
func checkSegment(t *testing.T, s *Segment, d segmentData) {
	t.Helper()
	ft, err := s.Flows()
	if err != nil {
		t.Fatal(err)
	}
	if ft.Rows() != len(d.flows) {
		t.Fatalf("segment %d: %d flow rows, want %d", s.Number, ft.Rows(), len(d.flows))
	}
	var r flow.Record
	for i, want := range d.flows {
		if err := ft.FlowAt(i, &r); err != nil {
			t.Fatal(err)
		}
		if r != want {
			t.Fatalf("segment %d flow %d:\n got %+v\nwant %+v", s.Number, i, r, want)
		}
	}
	// Sparse columns: present exactly when some row is non-zero, in
	// schema order after the core columns.
	want := wantColumns(d.flows)
	cols := ft.Columns()
	if len(cols) != len(want) {
		t.Fatalf("segment %d: flows has %d columns, want %d (%v)", s.Number, len(cols), len(want), want)
	}
	for i, ci := range cols {
		if ci.Name != want[i].Name || ci.Type != want[i].Type || ci.Encoding != EncodingPlain {
			t.Fatalf("segment %d: flows column %d is %s %s %s, want %s %s plain", s.Number, i, ci.Name, ci.Type, ci.Encoding, want[i].Name, want[i].Type)
		}
	}
	for _, col := range flowSchema[fSparse:] {
		if ft.Has(col.Name) != slices.Contains(want, col) {
			t.Fatalf("segment %d: Has(%s) = %v", s.Number, col.Name, ft.Has(col.Name))
		}
	}
	outBytes, err := Optional(ft.Uint64(ColOutBytes))
	if err != nil {
		t.Fatal(err)
	}
	exporter, err := Optional(ft.Addr(ColExporter))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range d.flows {
		if (outBytes != nil && outBytes[i] != want.OutBytes) || (outBytes == nil && want.OutBytes != 0) ||
			(exporter != nil && exporter[i] != want.Exporter) || (exporter == nil && want.Exporter != flow.Addr{}) {
			t.Fatalf("segment %d flow %d: typed sparse columns differ", s.Number, i)
		}
	}
	bytesCol, err := ft.Uint64(ColBytes)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := ft.Addr(ColDstIP)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range d.flows {
		if bytesCol[i] != want.Bytes || dst[i] != want.Dst {
			t.Fatalf("segment %d flow %d: typed columns differ", s.Number, i)
		}
	}
	dt, err := s.DNS()
	if err != nil {
		t.Fatal(err)
	}
	if dt.Rows() != len(d.dns) {
		t.Fatalf("segment %d: %d dns rows, want %d", s.Number, dt.Rows(), len(d.dns))
	}
	var m flow.DNSMessage
	for i, want := range d.dns {
		if err := dt.DNSAt(i, &m); err != nil {
			t.Fatal(err)
		}
		if !sameDNS(m, want) {
			t.Fatalf("segment %d dns %d:\n got %+v\nwant %+v", s.Number, i, m, want)
		}
	}
	qn, err := dt.Strings(ColQName)
	if err != nil {
		t.Fatal(err)
	}
	if qn.Len() != len(d.dns) {
		t.Fatalf("qname view has %d rows", qn.Len())
	}
	for i, want := range d.dns {
		if got := string(qn.Bytes(i)); got != want.QName {
			t.Fatalf("segment %d qname %d: %q, want %q", s.Number, i, got, want.QName)
		}
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }
