package lzo

// A small greedy LZO1X compressor, for tests only: it lets the round-trip
// property test and FuzzLZO produce valid streams that use every
// instruction the decoder knows (long and short literal runs, trailing
// literals folded into the previous match, M2, M3 and M4 matches with and
// without extended lengths, overlapping matches, the first-byte literal
// form). It is written from the stream format the decoder documents, not
// from any existing encoder, and favours coverage over ratio: maxDist lets
// tests force far (M4) matches.

const (
	m2MaxLen  = 8
	m2MaxDist = 0x0800
	m3MaxLen  = 33
	m3MaxDist = 0x4000
	m4MaxLen  = 9
	m4MaxDist = 0xBFFF
	minMatch  = 3
)

// compress returns an LZO1X stream for src. Matches are searched up to
// maxDist back (at most m4MaxDist).
func compress(src []byte, maxDist int) []byte {
	maxDist = min(maxDist, m4MaxDist)
	var out []byte
	last := make(map[uint32]int) // 3-byte prefix -> latest position
	lit := 0                     // start of pending literals
	first := true                // nothing emitted yet
	for i := 0; i+minMatch <= len(src); {
		key := uint32(src[i]) | uint32(src[i+1])<<8 | uint32(src[i+2])<<16
		cand, ok := last[key]
		last[key] = i
		if !ok || i-cand > maxDist || i-cand == 0 {
			i++
			continue
		}
		n := 0
		for i+n < len(src) && src[cand+n] == src[i+n] {
			n++
		}
		if n < minMatch {
			i++
			continue
		}
		dist := i - cand
		out = literals(out, src[lit:i], first)
		first = false
		out = match(out, n, dist)
		for k := i + 1; k < i+n && k+minMatch <= len(src); k++ {
			last[uint32(src[k])|uint32(src[k+1])<<8|uint32(src[k+2])<<16] = k
		}
		i += n
		lit = i
	}
	out = literals(out, src[lit:], first)
	return append(out, 0x11, 0, 0) // end of stream: M4 with distance 0
}

// literals appends a literal run.
func literals(out, l []byte, first bool) []byte {
	n := len(l)
	switch {
	case n == 0:
		return out
	case first && n <= 238:
		// The first byte may carry the run: 17+n.
		out = append(out, byte(17+n))
	case !first && n <= 3:
		// Folded into the low two bits of the previous match's byte.
		out[len(out)-2] |= byte(n)
	case n <= 18:
		out = append(out, byte(n-3))
	default:
		out = append(out, 0)
		out = extLen(out, n-18)
	}
	return append(out, l...)
}

// extLen appends an extended length: zero bytes for each 255, then the rest
// (1..255).
func extLen(out []byte, n int) []byte {
	for n > 255 {
		out = append(out, 0)
		n -= 255
	}
	return append(out, byte(n))
}

// match appends a match of length n at distance dist.
func match(out []byte, n, dist int) []byte {
	switch {
	case n <= m2MaxLen && dist <= m2MaxDist:
		d := dist - 1
		return append(out, byte((n-1)<<5|(d&7)<<2), byte(d>>3))
	case dist <= m3MaxDist:
		d := dist - 1
		if n <= m3MaxLen {
			out = append(out, byte(32|(n-2)))
		} else {
			out = append(out, 32)
			out = extLen(out, n-m3MaxLen)
		}
		return append(out, byte(d<<2), byte(d>>6))
	default:
		d := dist - 0x4000
		hi := byte(d>>11) & 8
		if n <= m4MaxLen {
			out = append(out, 16|hi|byte(n-2))
		} else {
			out = append(out, 16|hi)
			out = extLen(out, n-m4MaxLen)
		}
		return append(out, byte(d<<2), byte(d>>6))
	}
}
