//go:build amd64 && !purego

package lda

import "golang.org/x/sys/cpu"

// useAVX2 selects the assembly kernels. They give the same bits as the
// portable ones; only speed differs.
var useAVX2 = cpu.X86.HasAVX2

//go:noescape
func gammaRowAVX2(out, wf, nd *float64, n int, a1 float64) float64

//go:noescape
func scaleIntoAVX2(acc, row, gam *float64, n int, scale float64)

// setAVX2 switches the assembly kernels on (when the CPU has AVX2) or off
// and returns the previous setting; for tests.
func setAVX2(on bool) bool {
	old := useAVX2
	useAVX2 = on && cpu.X86.HasAVX2
	return old
}
