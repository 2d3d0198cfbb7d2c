package flowstore

import (
	"encoding/binary"
	"os"
	"path/filepath"
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
