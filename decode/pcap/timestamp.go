package pcap

import (
	"fmt"
	"math"
	"math/bits"
)

// tsConv turns a pcapng timestamp (a count of if_tsresol units since the
// epoch, plus if_tsoffset seconds) into Unix nanoseconds, refusing results
// that do not fit an int64 instead of wrapping.
type tsConv struct {
	mode   uint8
	k      uint64 // multiplier, divisor or shift, by mode
	resol  byte   // the if_tsresol byte, for messages
	offSec int64  // if_tsoffset, for messages
	offNs  int64
	offBad bool // offSec * 1e9 does not fit an int64
}

const (
	tsMul   = iota // units of 10^-e s, e <= 9: multiply by 10^(9-e)
	tsDiv          // units of 10^-e s, 9 < e <= 28: divide by 10^(e-9)
	tsZero         // units of 10^-e s, e > 28: every 64-bit count is < 1 ns
	tsShift        // units of 2^-e s: multiply by 1e9, shift right by e
)

func newTSConv(resol byte, offSec int64) tsConv {
	c := tsConv{resol: resol, offSec: offSec}
	if resol&0x80 != 0 {
		c.mode, c.k = tsShift, uint64(resol&0x7f)
	} else {
		switch e := uint64(resol); {
		case e <= 9:
			c.mode, c.k = tsMul, pow10(9-e)
		case e-9 <= 19: // 10^19 is the largest power of 10 in a uint64
			c.mode, c.k = tsDiv, pow10(e-9)
		default:
			c.mode = tsZero
		}
	}
	if offSec > math.MaxInt64/int64(1e9) || offSec < math.MinInt64/int64(1e9) {
		c.offBad = true
	} else {
		c.offNs = offSec * 1e9
	}
	return c
}

func pow10(e uint64) uint64 {
	p := uint64(1)
	for ; e > 0; e-- {
		p *= 10
	}
	return p
}

// toNs converts a count of units; ok is false when the result does not fit
// an int64.
func (c *tsConv) toNs(units uint64) (ns int64, ok bool) {
	var v uint64
	switch c.mode {
	case tsMul:
		if units > math.MaxInt64/c.k {
			return 0, false
		}
		v = units * c.k
	case tsDiv:
		v = units / c.k
	case tsShift:
		hi, lo := bits.Mul64(units, 1e9)
		switch k := c.k; {
		case k == 0:
			if hi != 0 {
				return 0, false
			}
			v = lo
		case k < 64:
			if hi>>k != 0 {
				return 0, false
			}
			v = hi<<(64-k) | lo>>k
		default:
			v = hi >> (k - 64)
		}
	}
	if v > math.MaxInt64 || c.offBad {
		return 0, false
	}
	ns = int64(v)
	if c.offNs > 0 && ns > math.MaxInt64-c.offNs {
		return 0, false
	}
	return ns + c.offNs, true // ns >= 0, so a negative offset cannot underflow
}

func (c *tsConv) unit() string {
	if c.resol&0x80 != 0 {
		return fmt.Sprintf("2^-%d s", c.resol&0x7f)
	}
	return fmt.Sprintf("10^-%d s", c.resol)
}

func (c *tsConv) offsetString() string { return fmt.Sprintf("%d s", c.offSec) }
