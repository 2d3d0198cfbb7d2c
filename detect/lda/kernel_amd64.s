//go:build amd64 && !purego

#include "textflag.h"

// func gammaRowAVX2(out, wf, nd *float64, n int, a1 float64) float64
// n is a positive multiple of 4. Lane i of Y1 accumulates out[t] for t ≡ i
// (mod 4), in order, exactly like the portable s0..s3.
TEXT ·gammaRowAVX2(SB), NOSPLIT, $0-48
	MOVQ out+0(FP), DI
	MOVQ wf+8(FP), SI
	MOVQ nd+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSD a1+32(FP), Y0
	VXORPD Y1, Y1, Y1

gammaloop:
	VADDPD  (DX), Y0, Y2 // nd + a1
	VMULPD  (SI), Y2, Y2 // wf · (nd + a1)
	VMOVUPD Y2, (DI)
	VADDPD  Y2, Y1, Y1
	ADDQ    $32, DI
	ADDQ    $32, SI
	ADDQ    $32, DX
	SUBQ    $4, CX
	JNZ     gammaloop

	VHADDPD      Y1, Y1, Y1 // [s0+s1, s0+s1, s2+s3, s2+s3]
	VEXTRACTF128 $1, Y1, X2
	VADDSD       X2, X1, X1 // (s0+s1) + (s2+s3)
	VMOVSD       X1, ret+40(FP)
	VZEROUPPER
	RET

// func scaleIntoAVX2(acc, row, gam *float64, n int, scale float64)
TEXT ·scaleIntoAVX2(SB), NOSPLIT, $0-40
	MOVQ acc+0(FP), DI
	MOVQ row+8(FP), SI
	MOVQ gam+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSD scale+32(FP), Y0

scaleloop:
	VMULPD  (DX), Y0, Y1 // g · scale
	VADDPD  (DI), Y1, Y2
	VMOVUPD Y2, (DI)
	VADDPD  (SI), Y1, Y3
	VMOVUPD Y3, (SI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	ADDQ    $32, DX
	SUBQ    $4, CX
	JNZ     scaleloop

	VZEROUPPER
	RET
