package pcap

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/spotctl/spotctl/decode/decodetest"
)

// sharedSeeds returns the small real captures of the shared folder whose
// magic matches want, without skipping when the folder is absent (the
// crafted seeds still run).
func sharedSeeds(tb testing.TB, pcapng bool) [][]byte {
	dir := filepath.Join(filepath.Dir(decodetest.RepoRoot(tb)), "shared", "testdata", "pcap")
	ents, _ := os.ReadDir(dir)
	var out [][]byte
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil || len(b) > 8<<10 || len(b) < 4 {
			continue
		}
		if (le.Uint32(b) == blockSHB) == pcapng {
			out = append(out, b)
		}
	}
	return out
}

// fuzzOne checks what must hold for any input: no panic, an end within a
// bounded number of calls, only *decode.Error values, a repeating fatal
// error, and a clean end only at the end of the input (all via readAll).
func fuzzOne(t *testing.T, b []byte) {
	res, err := readAll(t, b)
	if err != nil {
		return
	}
	for _, p := range res.Packets {
		if p.Offset < 0 || p.Offset >= int64(len(b)) || len(p.Data) > len(b) {
			t.Fatalf("packet at %d with %d bytes from a %d-byte input", p.Offset, len(p.Data), len(b))
		}
	}
	for _, e := range res.Errors {
		if e.Offset < 0 || e.Offset > int64(len(b)) {
			t.Fatalf("error offset %d outside a %d-byte input", e.Offset, len(b))
		}
	}
}

func FuzzPcap(f *testing.F) {
	for _, s := range sharedSeeds(f, false) {
		f.Add(s)
	}
	f.Add(classicFile(le, magicMicro, 65535, 1, okRec(1, 2, 60), okRec(3, 4, 0)))
	f.Add(classicFile(be, magicNano, 0, 0xF4000000|1, okRec(1, 999999999, 20)))
	f.Add(classicFile(le, magicMicro, math.MaxUint32, 1, rec{1, 0, math.MaxUint32, 0, nil}))
	f.Fuzz(fuzzOne)
}

func FuzzPcapng(f *testing.F) {
	for _, s := range sharedSeeds(f, true) {
		f.Add(s)
	}
	g := newNG(le)
	g.idb(1, 0, g.tsresol(9), g.tsoffset(-5)).idb(101, 64, g.tsresol(0x80|20)).epb(0, 1e18, pattern(61, 1)).epb(1, 1<<40, pattern(3, 2)).spb(70, pattern(64, 3))
	g.block(5, make([]byte, 12)).pb(1, 7, pattern(5, 4))
	g.shb(be, 1, 0).idb(113, 0).epb(0, 12345, pattern(9, 5)).shb(le, 2, 0).idb(1, 0).epb(0, 1, nil)
	f.Add(g.b)
	h := newNG(be).idb(1, 0)
	h.rawBlock(0x80000002, 15, []byte{1, 2, 3}, 15)
	f.Add(h.b)
	f.Fuzz(fuzzOne)
}
