package flowstore

import (
	"github.com/spotctl/spotctl/flowstore/internal/atomicfile"

	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/spotctl/spotctl/decode/flow"
)

// FuzzOpenColumnFile feeds arbitrary bytes to the column file parser and
// then uses the table the way commands do. It must never panic or read out
// of range; and a file that Verify passes must serve every column.
//
// forge makes the fuzzer a forger: 1 recomputes the header CRC, 2 also
// every part's CRC, so that mutations get past the checksums and reach the
// range checks a crafted file meets. Run with -fuzzminimizetime=200x:
// inputs are page-sized, and minimising each new one for the default 60 s
// stalls a short run.
func FuzzOpenColumnFile(f *testing.F) {
	flows, dns := goodColumnFiles(f)
	for forge := uint8(0); forge < 3; forge++ {
		f.Add(flows, forge)
		f.Add(dns, forge)
	}
	f.Add(flows[:PageSize], uint8(0))
	f.Add(dns[:len(dns)-1], uint8(0))
	// A minimal one-column file: small, so mutations land on structure.
	small := filepath.Join(f.TempDir(), "small.col")
	if err := writeColumnFile(small, TableFlows, 2, []filePart{
		bytesPart(ColBytes, TypeUint64, EncodingPlain, 0, []byte{1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0}),
		bytesPart(ColQName, TypeString, EncodingDict, 0, []byte{0, 0, 0, 0, 1, 0, 0, 0}),
		bytesPart(ColQName, TypeString, EncodingDict, 1, []byte{0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0}),
		bytesPart(ColQName, TypeString, EncodingDict, 2, []byte("abc")),
	}); err != nil {
		f.Fatal(err)
	}
	f.Add(readFile(f, small), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, forge uint8) {
		forgeCRCs(data, forge%3)
		tb, err := parseTable(data, "fuzz.col", 1, "")
		if err != nil {
			return
		}
		// Checking while scanning refuses exactly the columns checking
		// first refuses (a fresh table each, as checks are remembered).
		if scan, err := parseTable(data, "fuzz.col", 1, ""); err == nil {
			sc := scan.CheckWhileScanning()
			for _, ci := range scan.Columns() {
				touchOne(scan, ci)
			}
			sc.Through(scan.Rows() / 2)
			sc.Finish()
			eager, _ := parseTable(data, "fuzz.col", 1, "")
			for _, ci := range scan.Columns() {
				if a, b := touchOne(scan, ci), touchOne(eager, ci); (a == nil) != (b == nil) {
					t.Fatalf("column %q: after a ScanCheck %v, checked first %v", ci.Name, a, b)
				}
			}
		}
		clean := len(tb.Verify()) == 0
		for _, ci := range tb.Columns() {
			err := touchOne(tb, ci)
			if clean && err != nil && partCount(ci.Type, ci.Encoding) > 0 {
				t.Fatalf("Verify passed but column %q fails: %v", ci.Name, err)
			}
			var s Strings
			switch ci.Type {
			case TypeString:
				s, err = tb.Strings(ci.Name)
			case TypeBytes:
				s, err = tb.Bytes(ci.Name)
			default:
				continue
			}
			if err != nil {
				continue
			}
			for i := 0; i < s.Len(); i++ {
				_ = s.Bytes(i)
			}
			for j := 0; j < s.DictLen(); j++ {
				_ = s.DictEntry(j)
			}
		}
		var r flow.Record
		var m flow.DNSMessage
		for _, i := range []int{0, 1, tb.Rows() - 1, tb.Rows()} {
			tb.FlowAt(i, &r)
			tb.DNSAt(i, &m)
		}
	})
}

func readFile(tb testing.TB, p string) []byte {
	tb.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// forgeCRCs rewrites checksums in place where the bytes allow it.
func forgeCRCs(b []byte, mode uint8) {
	if mode == 0 || len(b) < fixedHeaderLen {
		return
	}
	n := uint64(binary.LittleEndian.Uint32(b[12:]))
	end := fixedHeaderLen + dirEntryLen*n
	if n > maxDirEntries || end+crcLen > uint64(len(b)) {
		return
	}
	if mode == 2 {
		for i := uint64(0); i < n; i++ {
			e := b[fixedHeaderLen+dirEntryLen*i:]
			off, l := binary.LittleEndian.Uint64(e[40:]), binary.LittleEndian.Uint64(e[48:])
			if off <= uint64(len(b)) && l <= uint64(len(b))-off && (off >= end+crcLen || off+l <= fixedHeaderLen) {
				binary.LittleEndian.PutUint32(e[36:], crc32c(b[off:off+l]))
			}
		}
	}
	binary.LittleEndian.PutUint32(b[end:], crc32c(b[:end]))
}

// FuzzSparseRoundTrip writes segments in which the fuzzer chooses, row by
// row, which flow-export fields are non-zero (two bytes per row, one bit
// per sparse column) and how small the writer's chunks are, and checks
// that every row reads back and that exactly the columns with a non-zero
// value exist (checkSegment). Each input commits a segment (fsyncs), so
// run it with -fuzzminimizetime=10x.
func FuzzSparseRoundTrip(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	f.Add([]byte{0, 0, 0, 0, 0, 0}, uint8(0))                         // pcap only
	f.Add([]byte{0xff, 0x1f, 0xff, 0x1f}, uint8(8))                   // every field
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x10, 0, 0}, uint8(0)) // late first values
	f.Add(append(make([]byte, 200), 0x80, 0x00, 0x00, 0x01), uint8(1))
	// One segment is committed per input: without this the fsyncs make it
	// a few inputs a second, and the fuzzer's deadline can expire mid-input.
	atomicfile.NoSync = true
	defer func() { atomicfile.NoSync = false }()
	c := newCase(f)
	f.Fuzz(func(t *testing.T, pattern []byte, chunk uint8) {
		// At most 300 rows: with 16-value chunks an input makes thousands of
		// small writes, and slow inputs let the fuzzer's deadline expire
		// mid-input (a failure of the run, not of the code).
		if len(pattern) > 600 {
			pattern = pattern[:600]
		}
		defer func(old int) { chunkSize = old }(chunkSize)
		chunkSize = 16 + int(chunk) // chunks of 1 to 17 addr values
		rng := newRand(uint64(len(pattern)))
		var d segmentData
		for i := 0; i+1 < len(pattern); i += 2 {
			bits := uint16(pattern[i]) | uint16(pattern[i+1])<<8
			r := randFlow(rng)
			var e flow.Record
			randExport(rng, &e, false)
			set := func(bit int, dst, src any) {
				if bits&(1<<bit) != 0 {
					reflect.ValueOf(dst).Elem().Set(reflect.ValueOf(src))
				}
			}
			set(0, &r.OutPackets, e.OutPackets)
			set(1, &r.OutBytes, e.OutBytes)
			set(2, &r.Exporter, e.Exporter)
			set(3, &r.ObsDomain, e.ObsDomain)
			set(4, &r.SrcAS, e.SrcAS)
			set(5, &r.DstAS, e.DstAS)
			set(6, &r.InIf, e.InIf)
			set(7, &r.OutIf, e.OutIf)
			set(8, &r.NextHop, e.NextHop)
			set(9, &r.SrcMask, e.SrcMask)
			set(10, &r.DstMask, e.DstMask)
			set(11, &r.EndReason, e.EndReason)
			set(12, &r.Sampling, e.Sampling)
			d.flows = append(d.flows, r)
		}
		// One case for every input (a case per input costs more fsyncs
		// than the rest of the work); each input appends a segment.
		writeSegment(t, c, d)
		segs := c.Segments()
		s := segs[len(segs)-1]
		checkSegment(t, s, d)
		if errs := s.Verify(); errs != nil {
			t.Fatalf("verify: %v", errs)
		}
	})
}
