package nfcapd

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/decodetest"
	"github.com/spotctl/spotctl/decode/flow"
)

// Fuzz input for FuzzNfcapdBlock: byte 0 picks the layout (bit 0) and byte
// 1 the compression (mod 5); bytes 2-5 are the block's record count; the
// rest is the block payload as stored.
func blockInput(layout int, comp byte, numRecords uint32, payload []byte) []byte {
	in := []byte{byte(layout - 1), comp}
	in = le.AppendUint32(in, numRecords)
	return append(in, payload...)
}

// blockSeeds are crafted blocks of each kind; realBlockSeeds adds blocks
// from the shared files when they are present.
func blockSeeds(tb testing.TB) [][]byte {
	v3 := cat(exporterRec(10, "192.0.2.1", 1, 7), samplerRec(1, -1, 10),
		v3Rec(1, v3FlagSampled, 10, genericElem(generic{first: 1, last: 2, pkts: 3, bytes: 4, sp: 5, dp: 6, proto: 6}),
			ipv6Elem("2001:db8::1", "2001:db8::2"), elem(exFlowMisc, make([]byte, 16)), elem(exCntFlow, make([]byte, 24)),
			elem(exIPReceivedV4, host4("192.0.2.1")), elem(exObservation, make([]byte, 12))))
	v1 := cat(exporterRec(9, "192.0.2.7", 2, 33), samplerLegacyRec(-1, 10, 2), extMapRec(1, 5, 7, 9, 15, 17, 23),
		v1Rec(v1Head{flags: v1FlagPkts64 | v1FlagBytes64, sysid: 2, mapID: 1, proto: 17}, false,
			host4("10.1.1.1"), host4("10.1.1.2"), u64s(1), u64s(2), u32s(3, 4), u32s(5, 6), host4("10.1.1.254"), u64s(5), u64s(6), host4("192.0.2.99")))
	lz := make([]byte, lz4.CompressBlockBound(len(v3)))
	n, err := lz4.CompressBlock(v3, lz, nil)
	if err != nil {
		tb.Fatal(err)
	}
	enc, _ := zstd.NewWriter(nil)
	defer enc.Close()
	return [][]byte{
		blockInput(2, compNone, 3, v3),
		blockInput(1, compNone, 4, v1),
		blockInput(2, compLZ4, 3, lz[:n]),
		blockInput(2, compZSTD, 3, enc.EncodeAll(v3, nil)),
		blockInput(1, compLZO, 3, []byte{0x11, 0, 0}),
		blockInput(2, compBZ2, 1, []byte("BZh91AY&SY")),
	}
}

// realBlockSeeds returns the first block of shared files of each layout and
// compression, when the shared data is there.
func realBlockSeeds() [][]byte {
	dir := sharedDirOptional()
	var seeds [][]byte
	add := func(rel string, layout int, hdr int, limit int) {
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil || len(b) < hdr+blockHdrSize {
			return
		}
		n := le.Uint32(b[hdr:])
		size := int(le.Uint32(b[hdr+4:]))
		if hdr+blockHdrSize+size > len(b) {
			return
		}
		p := b[hdr+blockHdrSize : hdr+blockHdrSize+size]
		comp := byte(0)
		if layout == 2 {
			comp = b[16]
		} else if le.Uint32(b[4:])&1 != 0 {
			comp = compLZO
		}
		if comp == compNone && len(p) > limit {
			// Keep whole records only, and fewer of them.
			pos, k := 0, uint32(0)
			for pos+4 <= limit && k < n {
				pos += int(le.Uint16(p[pos+2:]))
				k++
			}
			p, n = p[:min(pos, len(p))], k
		}
		seeds = append(seeds, blockInput(layout, comp, n, p))
	}
	add("nfcapd/chrispassas_nfcapd.sample", 2, headerV2Size, 4096)
	add("nfcapd/chrispassas_nfcapd-small-lzo", 1, headerV1Size+statV1Size, 0)
	add("nfcapd/chrispassas_nfcapd-empty", 1, headerV1Size+statV1Size, 4096)
	add("generated/ndpi_android/ndpi_android.sf-v10bi.nfcapd", 2, headerV2Size, 4096)
	return seeds
}

// sharedDirOptional is ../shared/testdata beside the repository, for fuzz
// seeds: unlike decodetest.SharedDir it never skips (a missing folder just
// means fewer seeds).
func sharedDirOptional() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	return filepath.Join(wd, "..", "..", "..", "shared", "testdata")
}

// fuzzBuf is the decompression buffer, shared by the sequential runs of a
// fuzz worker so that each run does not allocate MaxBlockSize.
var fuzzBuf = make([]byte, MaxBlockSize)

// FuzzNfcapdBlock decodes one block of either layout and any compression:
// no panic, no more records walked than the block declares or holds, every
// problem located, and the same result twice.
func FuzzNfcapdBlock(f *testing.F) {
	for _, s := range append(blockSeeds(f), realBlockSeeds()...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 6 {
			return
		}
		run := func() ([]flow.Record, Stats, []*decode.Error, error) {
			var recs []flow.Record
			var errs []*decode.Error
			rd := newReader("fuzz", 3, func(r *flow.Record) { recs = append(recs, *r) },
				func(e *decode.Error) error { errs = append(errs, e); return nil })
			rd.st.Layout = 1 + int(data[0]&1)
			rd.src.layout = rd.st.Layout
			rd.src.comp = int(data[1] % 5)
			defer rd.src.dec.close()
			rd.src.buf[0] = fuzzBuf
			j := job{b: block{off: 100, compressed: rd.src.comp != compNone}, typ: blockMixed, numRecords: le.Uint32(data[2:]), probOff: 100, counted: true}
			if rd.st.Layout == 1 {
				j.typ = blockV1
			}
			rd.src.prepare(&j, data[6:])
			err := rd.consume(j)
			return recs, rd.st, errs, err
		}
		recs, st, errs, err := run()
		if err != nil {
			t.Fatalf("block returned %v with a carry-on onErr", err)
		}
		numRecords := le.Uint32(data[2:])
		if st.Records > uint64(numRecords) || st.Records > MaxBlockSize/recHdrSize {
			t.Fatalf("walked %d records, block declares %d", st.Records, numRecords)
		}
		if st.Flows != uint64(len(recs)) || st.Flows > st.Records {
			t.Fatalf("flows %d, emitted %d, records %d", st.Flows, len(recs), st.Records)
		}
		if st.Errors != uint64(len(errs)) {
			t.Fatalf("%d errors counted, %d reported", st.Errors, len(errs))
		}
		for _, e := range errs {
			if e.File != "fuzz" || e.Offset < 100 || e.Err == nil {
				t.Fatalf("badly located problem %#v", e)
			}
		}
		for i := range recs {
			if recs[i].Evidence != 3 {
				t.Fatalf("record %d evidence %d", i, recs[i].Evidence)
			}
		}
		recs2, st2, errs2, _ := run()
		if !reflect.DeepEqual(recs, recs2) || !reflect.DeepEqual(st, st2) || len(errs) != len(errs2) {
			t.Fatal("second decode differs")
		}
	})
}

// FuzzRead reads whole files: no panic, problems located inside the file,
// emitted flows counted, deterministic.
func FuzzRead(f *testing.F) {
	f.Add([]byte{})
	f.Add(v2File(compNone, 1, blk{typ: blockMixed, recs: flowRecs(2, 1)}))
	f.Add(v1File(0, "x", 0, blk{typ: blockV1, recs: [][]byte{extMapRec(1, 5), rec(recCommon, make([]byte, 40))}}))
	for _, s := range blockSeeds(f) {
		if s[0] == 1 { // layout 2
			f.Add(v2File(s[1], 1, blk{typ: blockMixed, raw: s[6:], n: le.Uint32(s[2:])}))
		}
	}
	if b, err := os.ReadFile(filepath.Join(sharedDirOptional(), "nfcapd", "chrispassas_nfcapd-empty")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		run := func() ([]flow.Record, Stats, []*decode.Error, error) {
			return readFrom(bytes.NewReader(data), "f")
		}
		recs, st, errs, err := run()
		if err != nil {
			var de *decode.Error
			if !errors.As(err, &de) || de.Offset < 0 || de.Offset > int64(len(data)) {
				t.Fatalf("error %v not located in the %d-byte file", err, len(data))
			}
			if len(recs) != 0 {
				t.Fatalf("fatal error after %d flows", len(recs))
			}
		}
		if st.Flows != uint64(len(recs)) || st.Errors != uint64(len(errs)) {
			t.Fatalf("stats %+v, %d flows, %d problems", st, len(recs), len(errs))
		}
		for _, e := range errs {
			if e.Offset < 0 || e.Offset > int64(len(data)) {
				t.Fatalf("problem %v outside the %d-byte file", e, len(data))
			}
		}
		recs2, st2, _, err2 := run()
		if !reflect.DeepEqual(recs, recs2) || !reflect.DeepEqual(st, st2) || (err == nil) != (err2 == nil) {
			t.Fatal("second read differs")
		}
	})
}

// TestWriteFuzzSeeds refreshes the committed seed corpus (real blocks, so
// that fuzzing starts from real data even without the shared files):
//
//	SPOTCTL_WRITE_SEEDS=1 go test -run TestWriteFuzzSeeds ./decode/nfcapd/
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("SPOTCTL_WRITE_SEEDS") == "" {
		t.Skip("set SPOTCTL_WRITE_SEEDS=1 to rewrite testdata/fuzz")
	}
	decodetest.SharedDir(t)
	dir := filepath.Join("testdata", "fuzz", "FuzzNfcapdBlock")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, s := range realBlockSeeds() {
		body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(s)) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, "real-block-"+strconv.Itoa(i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
