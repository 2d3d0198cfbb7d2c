package lda

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchCorpus synthesizes a Spot-sized corpus: D documents whose lengths and
// word choices are Zipf-skewed, as IP documents are (a few servers with huge
// vocabularies, many clients with a handful of words).
func benchCorpus(D, W, nnzPerDoc int) *Corpus {
	rng := rand.New(rand.NewPCG(3, 4))
	zw := rand.NewZipf(rng, 1.1, 1, uint64(W-1))
	c := &Corpus{NumWords: W, DocStart: make([]int, 1, D+1)}
	seen := make(map[int32]bool)
	var ws []int32
	for d := 0; d < D; d++ {
		n := 1 + rng.IntN(2*nnzPerDoc)
		if d%100 == 0 {
			n *= 20
		}
		clear(seen)
		ws = ws[:0]
		for j := 0; j < n; j++ {
			w := int32(zw.Uint64())
			if !seen[w] {
				seen[w] = true
				ws = append(ws, w)
			}
		}
		sortInt32(ws)
		for _, w := range ws {
			c.Word = append(c.Word, w)
			c.Count = append(c.Count, float64(1+rng.IntN(20)))
		}
		c.DocStart = append(c.DocStart, len(c.Word))
	}
	return c
}

func sortInt32(a []int32) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// BenchmarkEMIteration times one EM iteration (K = 20) and reports the cost
// per non-zero cell, the figure that scales to any corpus size.
func BenchmarkEMIteration(b *testing.B) {
	for _, size := range []struct{ D, W, per int }{{5000, 5000, 40}, {50000, 50000, 60}} {
		c := benchCorpus(size.D, size.W, size.per)
		b.Run(fmt.Sprintf("D=%d/W=%d/nnz=%d", size.D, size.W, c.NNZ()), func(b *testing.B) {
			o := DefaultOptions().withDefaults()
			e := newEngine(c, o)
			e.step(true)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				e.step(false)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(c.NNZ()), "ns/nnz")
		})
	}
}

// BenchmarkFit is a whole Spot-default fit (initialisation + 20 iterations).
func BenchmarkFit(b *testing.B) {
	c := benchCorpus(5000, 5000, 40)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Fit(context.Background(), c, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
