package lda

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// The assembly and portable kernels must agree bit for bit: results may not
// depend on the CPU.
func TestKernelsAgree(t *testing.T) {
	if !setAVX2(true) {
		setAVX2(false)
		if !useAVX2 {
			t.Log("no AVX2 kernels on this machine; checking the portable kernels only")
		}
	}
	defer setAVX2(true)
	rng := rand.New(rand.NewPCG(11, 12))
	for trial := 0; trial < 2000; trial++ {
		n := 4 * (1 + rng.IntN(8))
		wf, nd := make([]float64, n), make([]float64, n)
		for i := range wf {
			wf[i] = rng.Float64() * math.Pow(10, float64(rng.IntN(12)-6))
			nd[i] = rng.Float64() * math.Pow(10, float64(rng.IntN(8)))
		}
		a1 := rng.Float64()
		g1, g2 := make([]float64, n), make([]float64, n)
		s1 := gammaRowGo(g1, wf, nd, a1)
		setAVX2(true)
		s2 := gammaRow(g2, wf, nd, a1)
		if math.Float64bits(s1) != math.Float64bits(s2) {
			t.Fatalf("gamma sums differ: %v vs %v", s1, s2)
		}
		acc1, row1 := append([]float64(nil), nd...), append([]float64(nil), wf...)
		acc2, row2 := append([]float64(nil), nd...), append([]float64(nil), wf...)
		scaleIntoGo(acc1, row1, g1, 3.7/s1)
		scaleInto(acc2, row2, g2, 3.7/s2)
		for i := range g1 {
			if math.Float64bits(g1[i]) != math.Float64bits(g2[i]) || math.Float64bits(acc1[i]) != math.Float64bits(acc2[i]) ||
				math.Float64bits(row1[i]) != math.Float64bits(row2[i]) {
				t.Fatalf("lane %d differs: g %v/%v acc %v/%v row %v/%v", i, g1[i], g2[i], acc1[i], acc2[i], row1[i], row2[i])
			}
		}
	}
	// And whole fits.
	_, c := randomCorpus(rng)
	setAVX2(false)
	a, err := Fit(context.Background(), c, Options{Topics: 7, BlockSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	setAVX2(true)
	b, _ := Fit(context.Background(), c, Options{Topics: 7, BlockSize: 5})
	requireIdentical(t, a, b)
}
