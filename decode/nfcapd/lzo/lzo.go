// Package lzo decompresses LZO1X streams, the block compression nfdump uses
// for nfcapd files written with -z (and by default in 1.6.x). Only
// decompression exists: spotctl reads evidence, it never writes nfcapd
// files.
//
// The decoder follows the LZO1X bit-stream format (the same stream
// lzo1x_1_compress and lzo1x_999_compress produce). Every read from the
// input, every write to the output and every back-reference is checked
// before it happens, so hostile input gives an error, never a panic or a
// write outside dst; every step consumes at least one input byte, so it
// cannot loop forever.
package lzo

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Errors returned by Decompress. They are wrapped in *Error, which carries
// the input offset where decoding stopped.
var (
	// ErrInputOverrun means the stream ended before its end marker.
	ErrInputOverrun = errors.New("lzo: input overrun")
	// ErrOutputOverrun means the stream decodes to more bytes than dst holds.
	ErrOutputOverrun = errors.New("lzo: output overrun")
	// ErrLookBehind means a match refers to bytes before the start of the output.
	ErrLookBehind = errors.New("lzo: look-behind overrun")
	// ErrInputNotConsumed means bytes follow the end marker.
	ErrInputNotConsumed = errors.New("lzo: input not consumed")
)

// Error reports where in the compressed input decoding failed.
type Error struct {
	Offset int // offset in src of the instruction that failed
	Err    error
}

func (e *Error) Error() string { return fmt.Sprintf("%v at input offset %d", e.Err, e.Offset) }

func (e *Error) Unwrap() error { return e.Err }

// Decompress decodes the LZO1X stream src into dst and returns the number of
// bytes written. len(dst) is the hard limit on the output size: a stream
// that would produce more fails with ErrOutputOverrun and nothing is written
// beyond dst. Bytes of dst after the first n may be overwritten (short
// copies move 8 bytes at a time when dst has room). On error n is the
// number of bytes decoded so far.
//
// The code follows the structure of the format's reference decoder, whose
// states are jump targets; labels and gotos keep that structure readable
// (and fast) in Go. Every path reads at least one input byte before
// looping, and every length is checked against what is left of src and dst
// before it is used.
func Decompress(dst, src []byte) (n int, err error) {
	var (
		ip, op int // next input byte, next output byte
		t      int // instruction byte, then a length
		mpos   int // match source position in dst
		length int // match length
		instr  int // offset of the current instruction, for errors
		e      error
	)
	if len(src) == 0 {
		return 0, &Error{Offset: 0, Err: ErrInputOverrun}
	}
	if src[0] > 17 {
		t = int(src[0]) - 17
		ip = 1
		if t < 4 {
			goto matchNext
		}
		if t > len(dst)-op {
			goto outputOverrun
		}
		if t+1 > len(src)-ip {
			goto inputOverrun
		}
		copy(dst[op:op+t], src[ip:ip+t])
		op += t
		ip += t
		goto firstLiteralRun
	}

loop: // an instruction at the top level
	instr = ip
	if ip >= len(src) {
		goto inputOverrun
	}
	t = int(src[ip])
	ip++
	if t >= 16 {
		goto match
	}
	// A literal run of t+3 bytes; t == 0 announces an extended length.
	if t == 0 {
		for {
			if ip >= len(src) {
				goto inputOverrun
			}
			if src[ip] != 0 {
				break
			}
			t += 255
			ip++
		}
		t += 15 + int(src[ip])
		ip++
	}
	t += 3
	if t > len(dst)-op {
		goto outputOverrun
	}
	if t+1 > len(src)-ip { // the literals and the next instruction
		goto inputOverrun
	}
	if t <= 16 && len(dst)-op >= 16 && len(src)-ip >= 16 {
		// Short run with room to spare: two 8-byte moves, which may
		// write up to 16-t bytes past the run, inside dst; they are
		// overwritten by what follows or lie beyond the returned n.
		binary.LittleEndian.PutUint64(dst[op:], binary.LittleEndian.Uint64(src[ip:]))
		binary.LittleEndian.PutUint64(dst[op+8:], binary.LittleEndian.Uint64(src[ip+8:]))
	} else {
		copy(dst[op:op+t], src[ip:ip+t])
	}
	op += t
	ip += t

firstLiteralRun: // the instruction right after a literal run
	instr = ip
	if ip >= len(src) {
		goto inputOverrun
	}
	t = int(src[ip])
	ip++
	if t >= 16 {
		goto match
	}
	// A 3-byte match 2049..3072 bytes back, only allowed here.
	if ip >= len(src) {
		goto inputOverrun
	}
	mpos = op - (1 + 0x0800) - t>>2 - int(src[ip])<<2
	ip++
	length = 3
	goto copyMatch

match: // t is a match instruction (>= 16, or < 16 after trailing literals)
	switch {
	case t >= 64: // M2: length 3..8, distance 1..2048
		if ip >= len(src) {
			goto inputOverrun
		}
		mpos = op - 1 - (t>>2)&7 - int(src[ip])<<3
		ip++
		length = t>>5 + 1
	case t >= 32: // M3: distance 1..16384
		t &= 31
		if t == 0 {
			for {
				if ip >= len(src) {
					goto inputOverrun
				}
				if src[ip] != 0 {
					break
				}
				t += 255
				ip++
			}
			t += 31 + int(src[ip])
			ip++
		}
		if 2 > len(src)-ip {
			goto inputOverrun
		}
		mpos = op - 1 - int(uint16(src[ip])|uint16(src[ip+1])<<8)>>2
		ip += 2
		length = t + 2
	case t >= 16: // M4: distance 16385..49151, or the end marker
		mpos = op - (t&8)<<11
		t &= 7
		if t == 0 {
			for {
				if ip >= len(src) {
					goto inputOverrun
				}
				if src[ip] != 0 {
					break
				}
				t += 255
				ip++
			}
			t += 7 + int(src[ip])
			ip++
		}
		if 2 > len(src)-ip {
			goto inputOverrun
		}
		mpos -= int(uint16(src[ip])|uint16(src[ip+1])<<8) >> 2
		ip += 2
		if mpos == op {
			// End of stream.
			if ip < len(src) {
				return op, &Error{Offset: ip, Err: ErrInputNotConsumed}
			}
			return op, nil
		}
		mpos -= 0x4000
		length = t + 2
	default: // M1: a 2-byte match after trailing literals, distance 1..1024
		if ip >= len(src) {
			goto inputOverrun
		}
		mpos = op - 1 - t>>2 - int(src[ip])<<2
		ip++
		length = 2
	}

copyMatch:
	if mpos < 0 {
		e = ErrLookBehind
		goto fail
	}
	if length > len(dst)-op {
		goto outputOverrun
	}
	if d := op - mpos; d >= 8 && length <= 16 && len(dst)-op >= 16 {
		// As for short literal runs: 8-byte moves that may spill past
		// the match inside dst. d >= 8 keeps every read behind op.
		binary.LittleEndian.PutUint64(dst[op:], binary.LittleEndian.Uint64(dst[mpos:]))
		if length > 8 {
			binary.LittleEndian.PutUint64(dst[op+8:], binary.LittleEndian.Uint64(dst[mpos+8:]))
		}
		op += length
	} else if d >= length {
		copy(dst[op:op+length], dst[mpos:mpos+length])
		op += length
	} else {
		// Overlapping match: a run repeating the last d bytes; copy in
		// growing, non-overlapping chunks.
		end := op + length
		for op < end {
			op += copy(dst[op:end], dst[mpos:op])
		}
	}
	// The low two bits of the instruction's last-but-one byte give 0..3
	// literals that follow the match.
	if t = int(src[ip-2]) & 3; t == 0 {
		goto loop
	}

matchNext: // t (1..3) literals, then the next instruction is a match
	if t > len(dst)-op {
		goto outputOverrun
	}
	if t+1 > len(src)-ip {
		goto inputOverrun
	}
	for i := 0; i < t; i++ {
		dst[op+i] = src[ip+i]
	}
	op += t
	ip += t
	instr = ip
	t = int(src[ip])
	ip++
	goto match

inputOverrun:
	e = ErrInputOverrun
	goto fail
outputOverrun:
	e = ErrOutputOverrun
fail:
	return op, &Error{Offset: instr, Err: e}
}
