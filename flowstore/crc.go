package flowstore

import (
	"runtime"
	"sync"
)

// parallelCRCMin is the part size from which checkColumn spreads the
// CRC32C over several cores. On a mapped file the first pass over a part
// is dominated by page faults (about 25 ms per 100 MB here), which
// parallelise as well as the arithmetic does.
var parallelCRCMin = 8 << 20

// crc32cParallel computes crc32c(b) on up to GOMAXPROCS goroutines and
// joins the pieces with crc32cCombine.
func crc32cParallel(b []byte) uint32 {
	k := min(runtime.GOMAXPROCS(0), 8)
	if len(b) < parallelCRCMin || k < 2 {
		return crc32c(b)
	}
	chunk := (len(b) + k - 1) / k
	crcs := make([]uint32, k)
	var wg sync.WaitGroup
	for i := 0; i < k; i++ {
		lo, hi := min(i*chunk, len(b)), min((i+1)*chunk, len(b))
		wg.Add(1)
		go func() {
			defer wg.Done()
			crcs[i] = crc32c(b[lo:hi])
		}()
	}
	wg.Wait()
	crc := crcs[0]
	for i := 1; i < k; i++ {
		lo, hi := min(i*chunk, len(b)), min((i+1)*chunk, len(b))
		crc = crc32cCombine(crc, crcs[i], uint64(hi-lo))
	}
	return crc
}

// crc32cCombine returns the CRC32C of A‖B given crc(A), crc(B) and len(B),
// by applying len(B) zero bytes to crc(A) with GF(2) matrix squaring
// (the method of zlib's crc32_combine).
func crc32cCombine(crcA, crcB uint32, lenB uint64) uint32 {
	if lenB == 0 {
		return crcA
	}
	var even, odd [32]uint32
	odd[0] = 0x82f63b78 // Castagnoli polynomial, reflected
	row := uint32(1)
	for n := 1; n < 32; n++ {
		odd[n] = row
		row <<= 1
	}
	gf2Square(&even, &odd) // operator for two zero bits
	gf2Square(&odd, &even) // four zero bits
	for {
		gf2Square(&even, &odd) // one zero byte, then 4, 16, …
		if lenB&1 != 0 {
			crcA = gf2Times(&even, crcA)
		}
		lenB >>= 1
		if lenB == 0 {
			break
		}
		gf2Square(&odd, &even)
		if lenB&1 != 0 {
			crcA = gf2Times(&odd, crcA)
		}
		lenB >>= 1
		if lenB == 0 {
			break
		}
	}
	return crcA ^ crcB
}

func gf2Times(mat *[32]uint32, vec uint32) uint32 {
	var sum uint32
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
	}
	return sum
}

func gf2Square(square, mat *[32]uint32) {
	for n := 0; n < 32; n++ {
		square[n] = gf2Times(mat, mat[n])
	}
}
