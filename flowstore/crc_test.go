package flowstore

import (
	"hash/crc32"
	"testing"
)

func TestCRC32CParallel(t *testing.T) {
	// Known answer: CRC-32C of "123456789" is 0xe3069283 (RFC 3720 B.4).
	if got := crc32c([]byte("123456789")); got != 0xe3069283 {
		t.Fatalf("crc32c check value %#x", got)
	}
	rng := newRand(5)
	buf := make([]byte, 3<<20+17)
	for i := range buf {
		buf[i] = byte(rng.Uint32())
	}
	for _, split := range []int{0, 1, 7, 4096, len(buf) / 2, len(buf) - 1, len(buf)} {
		a, b := buf[:split], buf[split:]
		if got, want := crc32cCombine(crc32c(a), crc32c(b), uint64(len(b))), crc32c(buf); got != want {
			t.Errorf("combine at %d: %#x, want %#x", split, got, want)
		}
	}
	defer func(v int) { parallelCRCMin = v }(parallelCRCMin)
	parallelCRCMin = 1
	for _, n := range []int{1, 2, 3, 1000, len(buf)} {
		if got, want := crc32cParallel(buf[:n]), crc32.Checksum(buf[:n], crc32.MakeTable(crc32.Castagnoli)); got != want {
			t.Errorf("parallel over %d bytes: %#x, want %#x", n, got, want)
		}
	}
}
