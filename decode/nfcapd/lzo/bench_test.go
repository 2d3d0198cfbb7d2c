package lzo

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkDecompress decodes the LZO block of the shared 1.6 nfcapd file
// (38,635 bytes to 176,084), or a test-compressor stream without it.
func BenchmarkDecompress(b *testing.B) {
	var src []byte
	want := 0
	wd, _ := os.Getwd()
	if f, err := os.ReadFile(filepath.Join(wd, "..", "..", "..", "..", "shared", "testdata", "nfcapd", "chrispassas_nfcapd-small-lzo")); err == nil {
		// 276-byte 1.6 header and stat record, then one block.
		size := int(uint32(f[280]) | uint32(f[281])<<8 | uint32(f[282])<<16 | uint32(f[283])<<24)
		src, want = f[288:288+size], 176084
	} else {
		plain := roundTripInputs()["mixed structured"]
		src, want = compress(plain, m4MaxDist), len(plain)
	}
	dst := make([]byte, 5<<20)
	b.SetBytes(int64(want))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		n, err := Decompress(dst, src)
		if err != nil || n != want {
			b.Fatalf("n %d err %v", n, err)
		}
	}
}
