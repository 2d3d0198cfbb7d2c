package filter

import (
	"encoding/binary"
	"net/netip"
	"slices"

	"github.com/spotctl/spotctl/decode/flow"
)

// u128 is an address as a 128-bit big-endian number, so that address
// order is numeric order and a prefix is one closed range.
type u128 struct{ hi, lo uint64 }

func toU128(a flow.Addr) u128 {
	return u128{binary.BigEndian.Uint64(a[0:8]), binary.BigEndian.Uint64(a[8:16])}
}

func (a u128) less(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

func (a u128) succ() (u128, bool) {
	if a.lo != ^uint64(0) {
		return u128{a.hi, a.lo + 1}, true
	}
	if a.hi != ^uint64(0) {
		return u128{a.hi + 1, 0}, true
	}
	return a, false
}

type addrRange struct{ lo, hi u128 }

// prefixRange is the closed address range of a prefix, IPv4 in the mapped
// space (a /8 becomes a /104 there).
func prefixRange(p netip.Prefix) addrRange {
	a := flow.AddrFromNetip(p.Addr())
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	lo, hi := a, a
	for i := bits; i < 128; i++ {
		lo[i/8] &^= 0x80 >> (i % 8)
		hi[i/8] |= 0x80 >> (i % 8)
	}
	return addrRange{toU128(lo), toU128(hi)}
}

// addrSet is a sorted list of disjoint, non-adjacent ranges.
type addrSet []addrRange

// normalize sorts and merges overlapping or adjacent ranges, so that a
// lookup is one binary search however many entries the list had.
func (s addrSet) normalize() addrSet {
	s = slices.Clone(s)
	slices.SortFunc(s, func(a, b addrRange) int {
		switch {
		case a.lo.less(b.lo):
			return -1
		case b.lo.less(a.lo):
			return 1
		}
		return 0
	})
	out := s[:0]
	for _, r := range s {
		if n := len(out); n > 0 {
			last := &out[n-1]
			next, ok := last.hi.succ()
			if !ok || !next.less(r.lo) { // overlaps or touches
				if last.hi.less(r.hi) {
					last.hi = r.hi
				}
				continue
			}
		}
		out = append(out, r)
	}
	return out
}

// contains reports whether a lies in one of the ranges (binary search).
func (s addrSet) contains(a *flow.Addr) bool {
	v := toU128(*a)
	lo, hi := 0, len(s)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s[m].hi.less(v) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo < len(s) && !v.less(s[lo].lo)
}
