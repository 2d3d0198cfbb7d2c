package flowstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// goodColumnFiles writes a small real segment and returns the bytes of its
// two column files. Every third flow has flow-export fields, so the flows
// file has every column, sparse ones included.
func goodColumnFiles(t testing.TB) (flows, dns []byte) {
	t.Helper()
	c := newCase(t)
	writeSegment(t, c, withExport(genSegment(21, 300, 200, 25), 21, 3))
	dir := c.Segments()[0].Dir()
	var err error
	if flows, err = os.ReadFile(filepath.Join(dir, "flows.col")); err != nil {
		t.Fatal(err)
	}
	if dns, err = os.ReadFile(filepath.Join(dir, "dns.col")); err != nil {
		t.Fatal(err)
	}
	return flows, dns
}

// Directory entry field offsets, relative to the entry.
const (
	entType   = 32
	entEnc    = 33
	entPart   = 34
	entOffset = 40
	entLength = 48
)

func entryAt(i int) int { return fixedHeaderLen + dirEntryLen*i }

// fixHeaderCRC recomputes the header checksum, as a forger would.
func fixHeaderCRC(b []byte) {
	n := int(binary.LittleEndian.Uint32(b[12:]))
	end := fixedHeaderLen + dirEntryLen*n
	binary.LittleEndian.PutUint32(b[end:], crc32c(b[:end]))
}

func entryIndex(t testing.TB, b []byte, name string, part int) int {
	t.Helper()
	n := int(binary.LittleEndian.Uint32(b[12:]))
	for i := 0; i < n; i++ {
		e := b[entryAt(i):]
		if got, _ := decodeName(e[:nameFieldLen]); got == name && int(e[entPart]) == part {
			return i
		}
	}
	t.Fatalf("no entry %s part %d", name, part)
	return -1
}

func entryOffset(b []byte, i int) uint64 { return binary.LittleEndian.Uint64(b[entryAt(i)+entOffset:]) }

// openBytes writes b to a file and opens it, then touches every column the
// way a command would, returning the first error.
func openBytes(t *testing.T, b []byte) error {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.col")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	tb, err := OpenColumnFile(p)
	if err != nil {
		return errors.New(strings.ReplaceAll(err.Error(), p, "FILE"))
	}
	defer tb.Close()
	if err := touchAll(tb); err != nil {
		return errors.New(strings.ReplaceAll(err.Error(), p, "FILE"))
	}
	return nil
}

func touchAll(tb *Table) error {
	for _, ci := range tb.Columns() {
		if err := touchOne(tb, ci); err != nil {
			return err
		}
	}
	return nil
}

// touchOne accesses a column through its typed accessor.
func touchOne(tb *Table, ci ColumnInfo) error {
	var err error
	switch ci.Type {
	case TypeInt64:
		_, err = tb.Int64(ci.Name)
	case TypeUint64:
		_, err = tb.Uint64(ci.Name)
	case TypeUint32:
		_, err = tb.Uint32(ci.Name)
	case TypeUint16:
		_, err = tb.Uint16(ci.Name)
	case TypeUint8:
		_, err = tb.Uint8(ci.Name)
	case TypeAddr:
		_, err = tb.Addr(ci.Name)
	case TypeString:
		_, err = tb.Strings(ci.Name)
	case TypeBytes:
		_, err = tb.Bytes(ci.Name)
	default:
		err = fmt.Errorf("column %q: type %s not handled by the test", ci.Name, ci.Type)
	}
	return err
}

func TestCorruptColumnFile(t *testing.T) {
	flows, dns := goodColumnFiles(t)
	bytesIdx := entryIndex(t, flows, ColBytes, 0)
	bytesOff := entryOffset(flows, bytesIdx)
	qnameIDs := entryIndex(t, dns, ColQName, 0)
	ansOffs := entryIndex(t, dns, ColAnswers, 0)
	nFlowEnts := len(flowSchema)
	if n := int(binary.LittleEndian.Uint32(flows[12:])); n != nFlowEnts {
		t.Fatalf("flows file has %d entries, want all %d columns", n, nFlowEnts)
	}
	outBytesIdx := entryIndex(t, flows, ColOutBytes, 0)
	outBytesOff := entryOffset(flows, outBytesIdx)
	exporterIdx := entryIndex(t, flows, ColExporter, 0)
	flowCRCAt := fixedHeaderLen + dirEntryLen*nFlowEnts
	hexCRC := `0x[0-9a-f]{8}`

	for _, tc := range []struct {
		name   string
		base   []byte
		mutate func(b []byte) []byte
		want   string // regexp, anchored
		is     error
	}{
		{"truncated to 0 bytes", flows, func(b []byte) []byte { return b[:0] },
			`FILE: header at offset 0: truncated: need 4 bytes at offset 0, file has 0`, ErrTruncated},
		{"short text file", flows, func([]byte) []byte { return []byte("hello\n") },
			`FILE: header at offset 0: bad magic: 0x68656c6c, want 0x53504346 \("SPCF"\)`, ErrBadMagic},
		{"truncated inside the fixed header", flows, func(b []byte) []byte { return b[:10] },
			`FILE: header at offset 0: truncated: need 4 bytes at offset 8, file has 10`, ErrTruncated},
		{"truncated inside the header page", flows, func(b []byte) []byte { return b[:100] },
			`FILE: header at offset 8: truncated: header length 4096, file has 100 bytes`, ErrTruncated},
		{"truncated inside column bytes", flows, func(b []byte) []byte { return b[:bytesOff+100] },
			fmt.Sprintf(`FILE: table flows, column "bytes" part 0 at offset %d: truncated: part \[%d, \+2400\) runs past the end of the %d-byte file`, entryAt(bytesIdx), bytesOff, bytesOff+100), ErrTruncated},
		{"truncated by one byte", flows, func(b []byte) []byte { return b[:len(b)-1] },
			fmt.Sprintf(`FILE: table flows, column "sampling" part 0 at offset %d: truncated: .* runs past the end of the %d-byte file`, entryAt(nFlowEnts-1), len(flows)-1), ErrTruncated},
		{"truncated inside a sparse column", flows, func(b []byte) []byte { return b[:outBytesOff+8] },
			fmt.Sprintf(`FILE: table flows, column "out_bytes" part 0 at offset %d: truncated: part \[%d, \+2400\) runs past the end of the %d-byte file`, entryAt(outBytesIdx), outBytesOff, outBytesOff+8), ErrTruncated},
		{"zeroed magic", flows, func(b []byte) []byte { copy(b, "\x00\x00\x00\x00"); return b },
			`FILE: header at offset 0: bad magic: 0x00000000, want 0x53504346 \("SPCF"\)`, ErrBadMagic},
		{"future version", flows, func(b []byte) []byte { b[4] = 2; return b },
			`FILE: header at offset 4: unsupported format version: column file version 2, this build reads version 1`, ErrUnsupportedVersion},
		{"header CRC wrong", flows, func(b []byte) []byte { b[flowCRCAt] ^= 0xff; return b },
			fmt.Sprintf(`FILE: header at offset %d: checksum mismatch: header CRC32C stored %s, computed %s`, flowCRCAt, hexCRC, hexCRC), ErrChecksum},
		{"row count changed without fixing the CRC", flows, func(b []byte) []byte { b[16]++; return b },
			fmt.Sprintf(`FILE: header at offset %d: checksum mismatch: .*`, flowCRCAt), ErrChecksum},
		{"header length not page multiple", flows, func(b []byte) []byte { b[8] = 1; return b },
			`FILE: header at offset 8: corrupt: header length 4097 is not a positive multiple of 4096`, ErrCorrupt},
		{"entry count beyond the header", flows, func(b []byte) []byte { binary.LittleEndian.PutUint32(b[12:], 1000); return b },
			`FILE: header at offset 12: corrupt: 1000 directory entries do not fit a 4096-byte header`, ErrCorrupt},
		{"entry count 2^32-1", flows, func(b []byte) []byte { binary.LittleEndian.PutUint32(b[12:], ^uint32(0)); return b },
			`FILE: header at offset 12: corrupt: 4294967295 directory entries do not fit a 4096-byte header`, ErrCorrupt},
		// Forged headers with valid CRCs: lying numbers must be caught by
		// range checks, not by the checksum.
		{"forged: row count above file size", flows, func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[16:], 1<<62)
			fixHeaderCRC(b)
			return b
		}, fmt.Sprintf(`FILE: table flows, header at offset 16: corrupt: row count 4611686018427387904 exceeds file size %d`, len(flows)), ErrCorrupt},
		{"forged: one row more", flows, func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[16:], 301)
			fixHeaderCRC(b)
			return b
		}, fmt.Sprintf(`FILE: table flows, column "first" part 0 at offset %d: corrupt: part is 2400 bytes, want 2408 for 301 rows of int64/plain`, entryAt(0)), ErrCorrupt},
		{"forged: length 2^64-1", flows, func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[entryAt(bytesIdx)+entLength:], ^uint64(0))
			fixHeaderCRC(b)
			return b
		}, fmt.Sprintf(`FILE: table flows, column "bytes" part 0 at offset %d: truncated: part \[%d, \+18446744073709551615\) runs past the end`, entryAt(bytesIdx), bytesOff), ErrTruncated},
		{"forged: offset 2^64-4096", flows, func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[entryAt(bytesIdx)+entOffset:], ^uint64(PageSize-1))
			fixHeaderCRC(b)
			return b
		}, `FILE: table flows, column "bytes" part 0 at offset \d+: truncated: part \[18446744073709547520, \+2400\) runs past the end`, ErrTruncated},
		{"forged: sparse column one row short", flows, func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[entryAt(exporterIdx)+entLength:], 299*16)
			fixHeaderCRC(b)
			return b
		}, fmt.Sprintf(`FILE: table flows, column "exporter" part 0 at offset %d: corrupt: part is 4784 bytes, want 4800 for 300 rows of addr/plain`, entryAt(exporterIdx)), ErrCorrupt},
		{"forged: unaligned offset", flows, func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[entryAt(bytesIdx)+entOffset:], bytesOff+8)
			fixHeaderCRC(b)
			return b
		}, fmt.Sprintf(`FILE: table flows, column "bytes" part 0 at offset %d: corrupt: offset %d is not 4096-aligned`, entryAt(bytesIdx), bytesOff+8), ErrCorrupt},
		{"forged: offset inside the header", flows, func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[entryAt(0)+entOffset:], 0)
			fixHeaderCRC(b)
			return b
		}, `FILE: table flows, column "first" part 0 at offset 64: corrupt: offset 0 overlaps the header or the previous part \(ends at 4096\)`, ErrCorrupt},
		{"forged: overlapping parts", flows, func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[entryAt(1)+entOffset:], entryOffset(b, 0))
			fixHeaderCRC(b)
			return b
		}, `FILE: table flows, column "last" part 0 at offset 128: corrupt: offset 4096 overlaps the header or the previous part \(ends at 6496\)`, ErrCorrupt},
		{"forged: duplicate column", flows, func(b []byte) []byte {
			copy(b[entryAt(2):entryAt(2)+nameFieldLen], b[entryAt(0):entryAt(0)+nameFieldLen])
			fixHeaderCRC(b)
			return b
		}, `FILE: table flows, column "first" part 0 at offset 192: corrupt: column appears twice in the directory`, ErrCorrupt},
		{"forged: name not NUL padded", flows, func(b []byte) []byte {
			b[entryAt(0)+31] = 'x'
			b[entryAt(0)+30] = 0
			fixHeaderCRC(b)
			return b
		}, `FILE: table flows, header at offset 64: corrupt: directory entry 0 has invalid column name`, ErrCorrupt},
		{"forged: part number skips", dns, func(b []byte) []byte {
			b[entryAt(ansOffs+1)+entPart] = 2
			fixHeaderCRC(b)
			return b
		}, `FILE: table dns, column "answers" part 2 at offset \d+: corrupt: entry \d+ is part 2 \(bytes/plain\) of a column with 1 parts \(bytes/plain\)`, ErrCorrupt},
		{"forged: string column with one part", dns, func(b []byte) []byte {
			copy(b[entryAt(ansOffs+1):entryAt(ansOffs+1)+nameFieldLen], "answers2\x00")
			b[entryAt(ansOffs+1)+entPart] = 0
			fixHeaderCRC(b)
			return b
		}, `FILE: table dns, column "answers" at offset \d+: corrupt: bytes/plain column has 1 parts, want 2`, ErrCorrupt},
		{"forged: string offsets past the heap (valid CRCs)", dns, func(b []byte) []byte {
			off := entryOffset(b, ansOffs)
			binary.LittleEndian.PutUint64(b[off+8:], 1<<40)
			fixPartCRC(b, ansOffs)
			return b
		}, `FILE: table dns, column "answers" part 0 at offset \d+: corrupt: offset 1 is 1099511627776 \(previous 0, heap \d+ bytes\)`, ErrCorrupt},
		{"forged: decreasing string offsets (valid CRCs)", dns, func(b []byte) []byte {
			off := entryOffset(b, ansOffs)
			binary.LittleEndian.PutUint64(b[off+16:], 0)
			binary.LittleEndian.PutUint64(b[off+8:], 5)
			fixPartCRC(b, ansOffs)
			return b
		}, `FILE: table dns, column "answers" part 0 at offset \d+: corrupt: offset 2 is 0 \(previous 5, heap \d+ bytes\)`, ErrCorrupt},
		{"forged: dictionary id out of range (valid CRCs)", dns, func(b []byte) []byte {
			off := entryOffset(b, qnameIDs)
			binary.LittleEndian.PutUint32(b[off+4*7:], 1e6)
			fixPartCRC(b, qnameIDs)
			return b
		}, `FILE: table dns, column "qname" part 0 at offset \d+: corrupt: row 7 has id 1000000, dictionary has \d+ entries`, ErrCorrupt},
		{"forged: unknown encoding of a known column", flows, func(b []byte) []byte {
			b[entryAt(bytesIdx)+entEnc] = 77
			fixHeaderCRC(b)
			return b
		}, `FILE: table flows: column "bytes" has type uint64, encoding <unknown encoding 77>: column type or encoding not supported by this build`, ErrUnsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.mutate(append([]byte(nil), tc.base...))
			err := openBytes(t, b)
			if err == nil {
				t.Fatal("no error")
			}
			if !regexp.MustCompile(`^` + tc.want).MatchString(err.Error()) {
				t.Errorf("error\n got %s\nwant %s", err, tc.want)
			}
			// Errors come back as the opened error text here; check the
			// sentinel on a direct open.
			p := filepath.Join(t.TempDir(), "y.col")
			os.WriteFile(p, b, 0o644)
			tb, oerr := OpenColumnFile(p)
			if oerr == nil {
				oerr = touchAll(tb)
				tb.Close()
			}
			if !errors.Is(oerr, tc.is) {
				t.Errorf("error %v is not %v", oerr, tc.is)
			}
		})
	}
	if err := openBytes(t, flows); err != nil {
		t.Fatalf("control: good file fails: %v", err)
	}
	if err := openBytes(t, dns); err != nil {
		t.Fatalf("control: good file fails: %v", err)
	}
}

func fixPartCRC(b []byte, i int) {
	e := b[entryAt(i):]
	off, n := binary.LittleEndian.Uint64(e[entOffset:]), binary.LittleEndian.Uint64(e[entLength:])
	binary.LittleEndian.PutUint32(e[36:], crc32c(b[off:off+n]))
	fixHeaderCRC(b)
}

// TestFlippedByteInEveryColumn flips one byte in every part of every column
// of a committed segment, in place, and expects the exact error from the
// column's accessor, from Verify, and no effect on the other columns.
func TestFlippedByteInEveryColumn(t *testing.T) {
	c := newCase(t)
	writeSegment(t, c, withExport(genSegment(22, 300, 200, 25), 22, 2))
	segDir := c.Segments()[0].Dir()
	c.Close()
	flipped := map[string]int{}
	defer func() {
		if flipped[TableFlows] != len(flowSchema) || flipped[TableDNS] < len(dnsSchema) {
			t.Errorf("flipped %v parts, want every column of both tables", flipped)
		}
	}()
	for _, table := range []string{TableFlows, TableDNS} {
		path := filepath.Join(segDir, table+".col")
		good, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		n := int(binary.LittleEndian.Uint32(good[12:]))
		for i := 0; i < n; i++ {
			e := good[entryAt(i):]
			name, _ := decodeName(e[:nameFieldLen])
			part := int(e[entPart])
			off, length := binary.LittleEndian.Uint64(e[entOffset:]), binary.LittleEndian.Uint64(e[entLength:])
			if length == 0 {
				continue
			}
			flipped[table]++
			t.Run(fmt.Sprintf("%s/%s/%d", table, name, part), func(t *testing.T) {
				bad := append([]byte(nil), good...)
				bad[off+length/2] ^= 0x10
				if err := os.WriteFile(path, bad, 0o644); err != nil {
					t.Fatal(err)
				}
				defer os.WriteFile(path, good, 0o644)
				cc, err := Open(c.Dir())
				if err != nil {
					t.Fatal(err)
				}
				defer cc.Close()
				s := cc.Segments()[0]
				tb, err := s.table(table)
				if err != nil {
					t.Fatal(err)
				}
				want := fmt.Sprintf(`%s: segment 1, table %s, column %q part %d at offset %d: checksum mismatch: stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8} over %d bytes`,
					regexp.QuoteMeta(path), table, name, part, off, length)
				err = touchAll(tb)
				if err == nil || !regexp.MustCompile("^"+want+"$").MatchString(err.Error()) || !errors.Is(err, ErrChecksum) {
					t.Fatalf("accessor error\n got %v\nwant %s", err, want)
				}
				var ce *CorruptError
				if !errors.As(err, &ce) || ce.Segment != 1 || ce.Table != table || ce.Column != name || ce.Offset != int64(off) {
					t.Fatalf("CorruptError fields %+v", ce)
				}
				// The other columns still read.
				for _, ci := range tb.Columns() {
					if err := touchOne(tb, ci); (err != nil) != (ci.Name == name) {
						t.Fatalf("column %s: %v", ci.Name, err)
					}
				}
				errs := cc.Verify()
				if len(errs) != 1 || !regexp.MustCompile("^"+want+"$").MatchString(errs[0].Error()) {
					t.Fatalf("Verify: %v", errs)
				}
				// Row materialisation refuses to run on the corrupt column.
				if table == TableFlows {
					var r = randFlow(newRand(1))
					if err := tb.FlowAt(0, &r); !errors.Is(err, ErrChecksum) {
						t.Fatalf("FlowAt over a corrupt column: %v", err)
					}
				}
			})
		}
	}
}

// TestVerifyReportsEverything corrupts two segments and a manifest count
// and expects every problem, not only the first.
func TestVerifyReportsEverything(t *testing.T) {
	c := newCase(t)
	for i := uint64(0); i < 3; i++ {
		writeSegment(t, c, genSegment(30+i, 100, 50, 5))
	}
	if errs := c.Verify(); errs != nil {
		t.Fatalf("clean case: %v", errs)
	}
	flip := func(seg, table, col string) {
		p := filepath.Join(c.Dir(), seg, table+".col")
		b, _ := os.ReadFile(p)
		i := entryIndex(t, b, col, 0)
		b[entryOffset(b, i)+3] ^= 1
		os.WriteFile(p, b, 0o644)
	}
	flip("seg-000001", TableFlows, ColPackets)
	flip("seg-000001", TableFlows, ColVLAN)
	flip("seg-000003", TableDNS, ColTTL)
	// Header of seg 2's dns: unreadable table.
	p := filepath.Join(c.Dir(), "seg-000002", "dns.col")
	b, _ := os.ReadFile(p)
	copy(b, "XXXX")
	os.WriteFile(p, b, 0o644)
	cc := reopen(t, c)
	errs := cc.Verify()
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	wants := []string{
		`segment 1, table flows, column "vlan" part 0 at offset \d+: checksum mismatch`,
		`segment 1, table flows, column "packets" part 0 at offset \d+: checksum mismatch`,
		`segment 2, table dns, header at offset 0: bad magic`,
		`segment 3, table dns, column "ttl" part 0 at offset \d+: checksum mismatch`,
	}
	if len(got) != len(wants) {
		t.Fatalf("got %d problems, want %d:\n%s", len(got), len(wants), strings.Join(got, "\n"))
	}
	for i, w := range wants {
		if !regexp.MustCompile(w).MatchString(got[i]) {
			t.Errorf("problem %d\n got %s\nwant %s", i, got[i], w)
		}
	}
}

func TestVerifySemantics(t *testing.T) {
	c := newCase(t)
	d := genSegment(40, 10, 0, 0)
	d.flows[4].Evidence = 3 // testManifest lists 3 files: 0..2
	writeSegment(t, c, d)
	errs := c.Verify()
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "row 4: evidence index 3, manifest lists 3 evidence files") {
		t.Fatalf("Verify: %v", errs)
	}
	// A manifest row count that disagrees with the table.
	p := filepath.Join(c.Dir(), "seg-000001", "manifest.json")
	b, _ := os.ReadFile(p)
	os.WriteFile(p, []byte(strings.Replace(string(b), `"flows": 10`, `"flows": 11`, 1)), 0o644)
	errs = reopen(t, c).Verify()
	if len(errs) != 2 || !strings.Contains(errs[0].Error(), "has 10 rows, manifest says 11") {
		t.Fatalf("Verify: %v", errs)
	}
}

// TestTableNameMismatch: a dns.col copied over flows.col is caught.
func TestTableNameMismatch(t *testing.T) {
	c := newCase(t)
	writeSegment(t, c, genSegment(1, 3, 3, 3))
	dir := c.Segments()[0].Dir()
	b, _ := os.ReadFile(filepath.Join(dir, "dns.col"))
	os.WriteFile(filepath.Join(dir, "flows.col"), b, 0o644)
	_, err := reopen(t, c).Segments()[0].Flows()
	if err == nil || !strings.Contains(err.Error(), `table flows, header at offset 24: corrupt: table name "dns", expected "flows"`) {
		t.Fatalf("got %v", err)
	}
}
