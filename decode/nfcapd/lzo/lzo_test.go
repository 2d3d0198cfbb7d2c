package lzo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spotctl/spotctl/decode/decodetest"
)

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// roundTripInputs covers every instruction and length encoding.
func roundTripInputs() map[string][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	rnd := randBytes(r, 70000)
	in := map[string][]byte{
		"empty":            {},
		"one":              {42},
		"three":            []byte("abc"),
		"four":             []byte("abcd"),
		"238 literals":     rnd[:238],
		"239 literals":     rnd[:239],
		"5000 literals":    rnd[:5000],
		"run":              bytes.Repeat([]byte{'a'}, 1000),
		"short period":     bytes.Repeat([]byte("xyz"), 700),
		"text":             []byte(strings.Repeat("the quick brown fox jumps over the lazy dog; ", 200)),
		"m3 distance":      append(append(append([]byte{}, rnd[:40]...), rnd[100:9000]...), rnd[:40]...),
		"m4 distance":      append(append(append([]byte{}, rnd[:300]...), rnd[1000:31000]...), rnd[:300]...),
		"max m4 distance":  append(append(append([]byte{}, rnd[:20]...), rnd[100:100+0xBFFF-20]...), rnd[:20]...),
		"trailing 1":       append(bytes.Repeat([]byte("ab"), 20), 'z'),
		"trailing 3":       append(bytes.Repeat([]byte("ab"), 20), 'x', 'y', 'z'),
		"match then lits":  append(append(bytes.Repeat([]byte("q"), 50), rnd[:2]...), bytes.Repeat([]byte("q"), 50)...),
		"long m4 match":    append(append(append([]byte{}, rnd[:2000]...), rnd[3000:23000]...), rnd[:2000]...),
		"mixed structured": nil,
	}
	var mixed []byte
	for i := 0; i < 3000; i++ {
		switch r.IntN(4) {
		case 0:
			mixed = append(mixed, rnd[r.IntN(1000):][:1+r.IntN(20)]...)
		case 1:
			if len(mixed) > 10 {
				start := r.IntN(len(mixed) - 5)
				mixed = append(mixed, mixed[start:start+1+r.IntN(len(mixed)-start-1)%300]...)
			}
		case 2:
			mixed = append(mixed, bytes.Repeat([]byte{byte(i)}, 1+r.IntN(600))...)
		default:
			mixed = append(mixed, byte(i))
		}
	}
	in["mixed structured"] = mixed
	return in
}

func TestRoundTrip(t *testing.T) {
	for name, src := range roundTripInputs() {
		for _, maxDist := range []int{m2MaxDist, m3MaxDist, m4MaxDist} {
			c := compress(src, maxDist)
			dst := make([]byte, len(src)+10)
			n, err := Decompress(dst, c)
			if err != nil {
				t.Fatalf("%s (max distance %d): %v", name, maxDist, err)
			}
			if !bytes.Equal(dst[:n], src) {
				t.Fatalf("%s (max distance %d): %d bytes differ from the %d-byte input", name, maxDist, n, len(src))
			}
			// An exactly sized output buffer is enough.
			if n, err := Decompress(make([]byte, len(src)), c); err != nil || n != len(src) {
				t.Fatalf("%s: exact buffer: n %d, err %v", name, n, err)
			}
		}
	}
}

// TestInstructionCoverage guards the test compressor: the inputs above must
// really produce every instruction form, or the round trip proves less
// than it claims.
func TestInstructionCoverage(t *testing.T) {
	seen := map[string]bool{}
	for _, src := range roundTripInputs() {
		for _, maxDist := range []int{m2MaxDist, m4MaxDist} {
			for k := range instructions(compress(src, maxDist)) {
				seen[k] = true
			}
		}
	}
	for _, k := range []string{"first-byte literals", "literals", "long literals", "folded literals", "M2", "M3", "long M3", "M4", "long M4", "overlap"} {
		if !seen[k] {
			t.Errorf("no %s instruction in the round-trip streams (saw %v)", k, seen)
		}
	}
}

// instructions walks a valid stream and names the instruction kinds in it.
func instructions(c []byte) map[string]bool {
	kinds := map[string]bool{}
	ip, op := 0, 0
	afterLit := false
	if c[0] > 17 {
		kinds["first-byte literals"] = true
		t := int(c[0]) - 17
		ip = 1 + t
		op = t
		afterLit = t >= 4
	}
	for ip < len(c) {
		t := int(c[ip])
		ip++
		if t < 16 {
			if afterLit {
				return kinds // M1: not produced by the test compressor
			}
			n := t + 3
			if t == 0 {
				kinds["long literals"] = true
				for c[ip] == 0 {
					n += 255
					ip++
				}
				n += 15 + int(c[ip])
				ip++
			} else {
				kinds["literals"] = true
			}
			ip += n
			op += n
			afterLit = true
			continue
		}
		afterLit = false
		var length, dist int
		switch {
		case t >= 64:
			kinds["M2"] = true
			dist = 1 + (t>>2)&7 + int(c[ip])<<3
			length = t>>5 + 1
			ip++
		case t >= 32:
			length = t&31 + 2
			if t&31 == 0 {
				kinds["long M3"] = true
				length = 33
				for c[ip] == 0 {
					length += 255
					ip++
				}
				length += int(c[ip])
				ip++
			} else {
				kinds["M3"] = true
			}
			dist = 1 + int(binary.LittleEndian.Uint16(c[ip:]))>>2
			ip += 2
		default:
			length = t&7 + 2
			if t&7 == 0 {
				kinds["long M4"] = true
				length = 9
				for c[ip] == 0 {
					length += 255
					ip++
				}
				length += int(c[ip])
				ip++
			} else {
				kinds["M4"] = true
			}
			dist = (t&8)<<11 + int(binary.LittleEndian.Uint16(c[ip:]))>>2
			ip += 2
			if dist == 0 {
				return kinds // end of stream
			}
			dist += 0x4000
		}
		if dist < length {
			kinds["overlap"] = true
		}
		op += length
		if s := int(c[ip-2]) & 3; s > 0 {
			kinds["folded literals"] = true
			ip += s
			op += s
		}
	}
	return kinds
}

// TestPropertyRandom: random structured inputs survive the round trip.
func TestPropertyRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 300; i++ {
		n := r.IntN(5000)
		src := make([]byte, n)
		alphabet := 1 + r.IntN(255)
		for j := range src {
			src[j] = byte(r.IntN(alphabet))
		}
		c := compress(src, []int{m2MaxDist, m3MaxDist, m4MaxDist}[i%3])
		dst := make([]byte, n)
		if got, err := Decompress(dst, c); err != nil || got != n || !bytes.Equal(dst, src) {
			t.Fatalf("input %d (%d bytes, alphabet %d): n %d err %v", i, n, alphabet, got, err)
		}
	}
}

func TestErrors(t *testing.T) {
	valid := compress([]byte(strings.Repeat("hello, hello, world! ", 40)), m4MaxDist)
	tests := []struct {
		name string
		src  []byte
		dst  int
		want error
	}{
		{"empty input", nil, 10, ErrInputOverrun},
		{"no end marker", valid[:len(valid)-3], 1000, ErrInputOverrun},
		{"cut end marker", valid[:len(valid)-1], 1000, ErrInputOverrun},
		{"trailing garbage", append(append([]byte{}, valid...), 0), 1000, ErrInputNotConsumed},
		{"output too small", valid, 100, ErrOutputOverrun},
		{"zero output", valid, 0, ErrOutputOverrun},
		// Literal run of 4, then an M2 match 2048+ bytes back.
		{"look-behind M2", []byte{21, 'a', 'b', 'c', 'd', 0xFC, 0xFF, 0x11, 0, 0}, 100, ErrLookBehind},
		// The 3-byte match after a literal run reaches 2049 bytes back.
		{"look-behind after literals", []byte{21, 'a', 'b', 'c', 'd', 0, 0, 0x11, 0, 0}, 100, ErrLookBehind},
		// First-byte literals (1), then an M1 match 5 bytes back.
		{"look-behind M1", []byte{18, 'a', 0x04, 0x01, 0x11, 0, 0}, 100, ErrLookBehind},
		{"long zero run", append([]byte{0}, bytes.Repeat([]byte{0}, 1000)...), 1 << 20, ErrInputOverrun},
		{"literal run past input", []byte{0x0F, 'a', 'b'}, 100, ErrInputOverrun},
		{"M4 distance past start", []byte{21, 'a', 'b', 'c', 'd', 0x11, 4, 0, 0x11, 0, 0}, 100, ErrLookBehind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := make([]byte, tt.dst)
			n, err := Decompress(dst, tt.src)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
			var le *Error
			if !errors.As(err, &le) || le.Offset < 0 || le.Offset > len(tt.src) {
				t.Fatalf("error %v has no sane offset", err)
			}
			if n > len(dst) {
				t.Fatalf("n %d beyond dst %d", n, len(dst))
			}
		})
	}
}

// TestEveryPrefix: no prefix of a valid stream decodes cleanly or panics.
func TestEveryPrefix(t *testing.T) {
	for name, src := range roundTripInputs() {
		if len(src) > 6000 {
			continue
		}
		c := compress(src, m4MaxDist)
		dst := make([]byte, len(src))
		for k := 0; k < len(c); k++ {
			if _, err := Decompress(dst, c[:k]); err == nil {
				t.Fatalf("%s: prefix %d of %d decoded without error", name, k, len(c))
			}
		}
	}
}

// TestRealBlocks decompresses LZO blocks nfdump wrote: the 1.6 file in the
// shared data, and an LZO (-z) rewrite of the 1.7 sample compared block by
// block with an uncompressed rewrite of the same file.
func TestRealBlocks(t *testing.T) {
	shared := decodetest.SharedDir(t)
	b, err := os.ReadFile(filepath.Join(shared, "nfcapd", "chrispassas_nfcapd-small-lzo"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := blocksOf(t, b, 276)
	if len(blocks) != 1 {
		t.Fatalf("%d blocks", len(blocks))
	}
	out := make([]byte, 5<<20)
	n, err := Decompress(out, blocks[0])
	if err != nil || n != 176084 {
		t.Fatalf("n %d err %v", n, err)
	}
	// The decompressed block is 7322 records whose sizes add up exactly.
	recs, pos := 0, 0
	for pos+4 <= n {
		size := int(binary.LittleEndian.Uint16(out[pos+2:]))
		if size < 4 {
			break
		}
		pos += size
		recs++
	}
	if recs != 7322 || pos != n {
		t.Fatalf("%d records ending at %d of %d", recs, pos, n)
	}

	nfdump := decodetest.Tool(t, "nfdump", "nfdump")
	dir := t.TempDir()
	sample := filepath.Join(shared, "nfcapd", "chrispassas_nfcapd.sample")
	plain, packed := filepath.Join(dir, "plain"), filepath.Join(dir, "lzo")
	for _, args := range [][]string{{"-r", sample, "-w", plain}, {"-r", sample, "-w", packed, "-z"}} {
		if out, err := exec.Command(nfdump, args...).CombinedOutput(); err != nil {
			t.Fatalf("nfdump %v: %v\n%s", args, err, out)
		}
	}
	pb, _ := os.ReadFile(plain)
	zb, _ := os.ReadFile(packed)
	if zb[16] != 1 {
		t.Fatalf("nfdump -z wrote compression %d, want 1 (LZO)", zb[16])
	}
	pblocks, zblocks := blocksOf(t, pb, 40), blocksOf(t, zb, 40)
	if len(pblocks) != len(zblocks) || len(zblocks) == 0 {
		t.Fatalf("%d plain blocks, %d LZO blocks", len(pblocks), len(zblocks))
	}
	for i := range zblocks {
		n, err := Decompress(out, zblocks[i])
		if err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		if !bytes.Equal(out[:n], pblocks[i]) {
			t.Fatalf("block %d: %d bytes decompressed, differ from the %d-byte plain block", i, n, len(pblocks[i]))
		}
	}
}

// blocksOf splits an nfcapd file into block payloads, starting at off.
func blocksOf(t *testing.T, b []byte, off int) [][]byte {
	t.Helper()
	var out [][]byte
	for off+12 <= len(b) {
		size := int(binary.LittleEndian.Uint32(b[off+4:]))
		if off+12+size > len(b) {
			t.Fatalf("block at %d overruns the file", off)
		}
		out = append(out, b[off+12:off+12+size])
		off += 12 + size
	}
	return out
}

// FuzzLZO: arbitrary input never panics, never reports more output than
// dst holds, and any input survives a round trip through the test
// compressor.
func FuzzLZO(f *testing.F) {
	for _, src := range roundTripInputs() {
		if len(src) < 4000 {
			f.Add(compress(src, m4MaxDist))
		}
	}
	f.Add([]byte{0x11, 0, 0})
	f.Add([]byte{21, 'a', 'b', 'c', 'd', 0xFC, 0xFF, 0x11, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		dst := make([]byte, 1<<16)
		n, err := Decompress(dst, data)
		if n < 0 || n > len(dst) {
			t.Fatalf("n %d outside dst", n)
		}
		if err != nil {
			var le *Error
			if !errors.As(err, &le) || le.Offset < 0 || le.Offset > len(data) {
				t.Fatalf("error %v without a sane offset", err)
			}
		}
		c := compress(data, m4MaxDist)
		out := make([]byte, len(data))
		if m, err := Decompress(out, c); err != nil || m != len(data) || !bytes.Equal(out, data) {
			t.Fatalf("round trip of %d bytes: n %d err %v", len(data), m, err)
		}
	})
}
