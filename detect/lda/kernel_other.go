//go:build !amd64 || purego

package lda

const useAVX2 = false

func gammaRowAVX2(out, wf, nd *float64, n int, a1 float64) float64 { panic("unreachable") }

func scaleIntoAVX2(acc, row, gam *float64, n int, scale float64) { panic("unreachable") }

func setAVX2(bool) bool { return false }
