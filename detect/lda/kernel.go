package lda

// The per-cell kernels. Slices have a length that is a multiple of 4 (the
// padded topic stride). Both the portable code below and the AVX2 assembly
// compute every element with the same IEEE operations in the same order
// (four lane sums, combined as (s0+s1)+(s2+s3); no fused multiply-add), so
// they return bit-identical results.

// gammaRow sets g[t] = wf[t]·(nd[t] + a1) and returns Σ g.
func gammaRow(g, wf, nd []float64, a1 float64) float64 {
	n := len(g)
	if useAVX2 && n >= 4 {
		return gammaRowAVX2(&g[0], &wf[:n][0], &nd[:n][0], n, a1)
	}
	return gammaRowGo(g, wf, nd, a1)
}

// scaleInto adds g·scale to both acc and row.
func scaleInto(acc, row, g []float64, scale float64) {
	n := len(g)
	if useAVX2 && n >= 4 {
		scaleIntoAVX2(&acc[:n][0], &row[:n][0], &g[0], n, scale)
		return
	}
	scaleIntoGo(acc, row, g, scale)
}

func gammaRowGo(g, wf, nd []float64, a1 float64) float64 {
	n := len(g) &^ 3
	g, wf, nd = g[:n], wf[:n], nd[:n]
	var s0, s1, s2, s3 float64
	for t := 0; t < n; t += 4 {
		w, d, o := wf[t:t+4:t+4], nd[t:t+4:t+4], g[t:t+4:t+4]
		v0, v1, v2, v3 := w[0]*(d[0]+a1), w[1]*(d[1]+a1), w[2]*(d[2]+a1), w[3]*(d[3]+a1)
		o[0], o[1], o[2], o[3] = v0, v1, v2, v3
		s0 += v0
		s1 += v1
		s2 += v2
		s3 += v3
	}
	return (s0 + s1) + (s2 + s3)
}

func scaleIntoGo(acc, row, g []float64, scale float64) {
	n := len(g) &^ 3
	acc, row, g = acc[:n], row[:n], g[:n]
	for t := 0; t < n; t += 4 {
		a, r, x := acc[t:t+4:t+4], row[t:t+4:t+4], g[t:t+4:t+4]
		v0, v1, v2, v3 := x[0]*scale, x[1]*scale, x[2]*scale, x[3]*scale
		a[0] += v0
		a[1] += v1
		a[2] += v2
		a[3] += v3
		r[0] += v0
		r[1] += v1
		r[2] += v2
		r[3] += v3
	}
}
