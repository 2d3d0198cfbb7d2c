package filter

import (
	"math"
	"strings"

	"github.com/spotctl/spotctl/decode/flow"
)

// The compiled form is a tree of closures over a row type R: a flowRow, a
// dnsRow or a colRow. Each backend supplies getters per field; a getter
// that is nil means the record kind lacks the field, and a term on it is
// false. Rows are passed by value and getters return values or pointers
// into the record, so evaluation never allocates.

type flowRow struct {
	r   *flow.Record
	res Result
}

type dnsRow struct {
	m   *flow.DNSMessage
	res Result
}

type colRow struct {
	c *FlowColumns
	i int
}

// zero values stand in for the part of a row a caller did not pass, so
// getters need no nil checks. They are never written.
var (
	zeroRecord flow.Record
	zeroResult Result
)

type access[R any] struct {
	num  func(field) func(R) uint64
	addr func(field) func(R) *flow.Addr
	str  func(field) func(R) string
	flt  func(field) func(R) float64
	flag func(field) func(R) bool
}

func build[R any](n *node, acc access[R]) func(R) bool {
	if n == nil {
		return func(R) bool { return true }
	}
	switch n.op {
	case nAny:
		return func(R) bool { return true }
	case nNot:
		k := build(n.kids[0], acc)
		return func(r R) bool { return !k(r) }
	case nAnd, nOr:
		kids := make([]func(R) bool, len(n.kids))
		for i, k := range n.kids {
			kids[i] = build(k, acc)
		}
		if len(kids) == 2 {
			a, b := kids[0], kids[1]
			if n.op == nAnd {
				return func(r R) bool { return a(r) && b(r) }
			}
			return func(r R) bool { return a(r) || b(r) }
		}
		if n.op == nAnd {
			return func(r R) bool {
				for _, k := range kids {
					if !k(r) {
						return false
					}
				}
				return true
			}
		}
		return func(r R) bool {
			for _, k := range kids {
				if k(r) {
					return true
				}
			}
			return false
		}
	}
	l := n.leaf
	var preds []func(R) bool
	for _, f := range l.fields {
		if p := buildLeaf(l, f, acc); p != nil {
			preds = append(preds, p)
		}
	}
	var pred func(R) bool
	switch len(preds) {
	case 0:
		return func(R) bool { return false }
	case 1:
		pred = preds[0]
	default:
		a, b := preds[0], preds[1]
		pred = func(r R) bool { return a(r) || b(r) }
	}
	if l.icmp || l.test == tkFlags {
		// icmp-type/code imply proto icmp or icmp6, flags implies tcp, as in nfdump.
		proto := acc.num(fProto)
		if proto == nil {
			return func(R) bool { return false }
		}
		inner := pred
		if l.icmp {
			pred = func(r R) bool {
				p := proto(r)
				return (p == flow.ProtoICMP || p == flow.ProtoICMPv6) && inner(r)
			}
		} else {
			pred = func(r R) bool { return proto(r) == flow.ProtoTCP && inner(r) }
		}
	}
	return pred
}

func buildLeaf[R any](l *leaf, f field, acc access[R]) func(R) bool {
	switch l.test {
	case tkCmp:
		g := acc.num(f)
		if g == nil {
			return nil
		}
		return compare(g, l.cmp, l.n)
	case tkSet:
		g := acc.num(f)
		if g == nil {
			return nil
		}
		set := l.set
		if len(set) <= 8 {
			return func(r R) bool {
				x := g(r)
				for _, v := range set {
					if v == x {
						return true
					}
				}
				return false
			}
		}
		return func(r R) bool {
			x := g(r)
			lo, hi := 0, len(set)
			for lo < hi {
				m := int(uint(lo+hi) >> 1)
				if set[m] < x {
					lo = m + 1
				} else {
					hi = m
				}
			}
			return lo < len(set) && set[lo] == x
		}
	case tkFlags:
		g := acc.num(f)
		if g == nil {
			return nil
		}
		mask := l.n
		return func(r R) bool { return g(r)&mask == mask }
	case tkAddr:
		g := acc.addr(f)
		if g == nil {
			return nil
		}
		set := l.addrs
		if len(set) == 1 {
			lo, hi := set[0].lo, set[0].hi
			if lo == hi {
				return func(r R) bool { return toU128(*g(r)) == lo }
			}
			return func(r R) bool {
				v := toU128(*g(r))
				return !v.less(lo) && !hi.less(v)
			}
		}
		return func(r R) bool { return set.contains(g(r)) }
	case tkBool:
		g := acc.flag(f)
		if g == nil {
			return nil
		}
		return g
	case tkStrEq:
		g := acc.str(f)
		if g == nil {
			return nil
		}
		s := l.s
		return func(r R) bool { return strings.EqualFold(trimDot(g(r)), s) }
	case tkSuffix:
		g := acc.str(f)
		if g == nil {
			return nil
		}
		s := l.s
		return func(r R) bool { return hasDomainSuffix(trimDot(g(r)), s) }
	case tkRegex:
		g := acc.str(f)
		if g == nil {
			return nil
		}
		re := l.re
		return func(r R) bool { return re.MatchString(g(r)) }
	case tkFloat:
		g := acc.flt(f)
		if g == nil {
			return nil
		}
		// NaN compares false everywhere, so a missing score never matches.
		return compare(g, l.cmp, l.f)
	}
	return nil
}

func trimDot(s string) string {
	if n := len(s); n > 1 && s[n-1] == '.' {
		return s[:n-1]
	}
	return s
}

// hasDomainSuffix reports whether name is suffix or a subdomain of it,
// ignoring ASCII case: "a.example.com" has suffix "example.com",
// "badexample.com" does not.
func hasDomainSuffix(name, suffix string) bool {
	if len(name) < len(suffix) || !strings.EqualFold(name[len(name)-len(suffix):], suffix) {
		return false
	}
	return len(name) == len(suffix) || name[len(name)-len(suffix)-1] == '.'
}

// Derived flow values, computed as nfdump does (nftree.c): duration in ms
// as an unsigned difference (a record whose end precedes its start wraps
// to a huge duration, as in nfdump), rates 0 when the duration is 0.

func msOf(ns int64) int64 {
	q := ns / 1e6
	if ns%1e6 < 0 {
		q--
	}
	return q
}

func durationMs(first, last int64) uint64 { return uint64(msOf(last) - msOf(first)) }

func pps(first, last int64, packets uint64) uint64 {
	if d := durationMs(first, last); d != 0 {
		return 1000 * packets / d
	}
	return 0
}

func bps(first, last int64, bytes uint64) uint64 {
	if d := durationMs(first, last); d != 0 {
		return 8000 * bytes / d
	}
	return 0
}

func bpp(packets, bytes uint64) uint64 {
	if packets != 0 {
		return bytes / packets
	}
	return 0
}

func isV4(a *flow.Addr) bool { return a.Is4() }

var flowAccess = access[flowRow]{
	num: func(f field) func(flowRow) uint64 {
		switch f {
		case fFirst:
			return func(x flowRow) uint64 { return uint64(msOf(x.r.First)) }
		case fLast:
			return func(x flowRow) uint64 { return uint64(msOf(x.r.Last)) }
		case fSrcPort:
			return func(x flowRow) uint64 { return uint64(x.r.SrcPort) }
		case fDstPort:
			return func(x flowRow) uint64 { return uint64(x.r.DstPort) }
		case fProto:
			return func(x flowRow) uint64 { return uint64(x.r.Proto) }
		case fFlags:
			return func(x flowRow) uint64 { return uint64(x.r.TCPFlags) }
		case fToS:
			return func(x flowRow) uint64 { return uint64(x.r.ToS) }
		case fVLAN:
			return func(x flowRow) uint64 { return uint64(x.r.VLAN) }
		case fPackets:
			return func(x flowRow) uint64 { return x.r.Packets }
		case fBytes:
			return func(x flowRow) uint64 { return x.r.Bytes }
		case fOutPackets:
			return func(x flowRow) uint64 { return x.r.OutPackets }
		case fOutBytes:
			return func(x flowRow) uint64 { return x.r.OutBytes }
		case fSrcAS:
			return func(x flowRow) uint64 { return uint64(x.r.SrcAS) }
		case fDstAS:
			return func(x flowRow) uint64 { return uint64(x.r.DstAS) }
		case fInIf:
			return func(x flowRow) uint64 { return uint64(x.r.InIf) }
		case fOutIf:
			return func(x flowRow) uint64 { return uint64(x.r.OutIf) }
		case fSrcMask:
			return func(x flowRow) uint64 { return uint64(x.r.SrcMask) }
		case fDstMask:
			return func(x flowRow) uint64 { return uint64(x.r.DstMask) }
		case fDuration:
			return func(x flowRow) uint64 { return durationMs(x.r.First, x.r.Last) }
		case fPPS:
			return func(x flowRow) uint64 { return pps(x.r.First, x.r.Last, x.r.Packets) }
		case fBPS:
			return func(x flowRow) uint64 { return bps(x.r.First, x.r.Last, x.r.Bytes) }
		case fBPP:
			return func(x flowRow) uint64 { return bpp(x.r.Packets, x.r.Bytes) }
		case fICMPType:
			return func(x flowRow) uint64 { return uint64(x.r.DstPort >> 8) }
		case fICMPCode:
			return func(x flowRow) uint64 { return uint64(x.r.DstPort & 0xff) }
		}
		return nil
	},
	addr: func(f field) func(flowRow) *flow.Addr {
		switch f {
		case fSrcIP:
			return func(x flowRow) *flow.Addr { return &x.r.Src }
		case fDstIP:
			return func(x flowRow) *flow.Addr { return &x.r.Dst }
		case fExporter:
			return func(x flowRow) *flow.Addr { return &x.r.Exporter }
		case fNextHop:
			return func(x flowRow) *flow.Addr { return &x.r.NextHop }
		}
		return nil
	},
	str: func(f field) func(flowRow) string {
		if f == fKind {
			return func(x flowRow) string { return x.res.Kind }
		}
		return nil
	},
	flt: func(f field) func(flowRow) float64 {
		if f == fScore {
			return func(x flowRow) float64 { return x.res.Score }
		}
		return nil
	},
	flag: func(f field) func(flowRow) bool {
		switch f {
		case fIPv4:
			return func(x flowRow) bool { return isV4(&x.r.Src) }
		case fIPv6:
			return func(x flowRow) bool { return !isV4(&x.r.Src) }
		}
		return nil
	},
}

var dnsAccess = access[dnsRow]{
	num: func(f field) func(dnsRow) uint64 {
		switch f {
		case fQType:
			return func(x dnsRow) uint64 { return uint64(x.m.QType) }
		case fRcode:
			return func(x dnsRow) uint64 { return uint64(x.m.Rcode) }
		case fClientPort:
			return func(x dnsRow) uint64 { return uint64(x.m.ClientPort) }
		case fServerPort:
			return func(x dnsRow) uint64 { return uint64(x.m.ServerPort) }
		}
		return nil
	},
	addr: func(f field) func(dnsRow) *flow.Addr {
		switch f {
		case fClient:
			return func(x dnsRow) *flow.Addr { return &x.m.Client }
		case fServer:
			return func(x dnsRow) *flow.Addr { return &x.m.Server }
		}
		return nil
	},
	str: func(f field) func(dnsRow) string {
		switch f {
		case fQName:
			return func(x dnsRow) string { return x.m.QName }
		case fKind:
			return func(x dnsRow) string { return x.res.Kind }
		}
		return nil
	},
	flt: func(f field) func(dnsRow) float64 {
		if f == fScore {
			return func(x dnsRow) float64 { return x.res.Score }
		}
		return nil
	},
	flag: func(f field) func(dnsRow) bool {
		switch f {
		case fResponse:
			return func(x dnsRow) bool { return x.m.Response }
		case fQuery:
			return func(x dnsRow) bool { return !x.m.Response }
		}
		return nil
	},
}

// at returns s[i], or zero when the column is missing or short.
func at[T any](s []T, i int) T {
	if uint(i) < uint(len(s)) {
		return s[i]
	}
	var z T
	return z
}

var zeroAddr flow.Addr

func atAddr(s []flow.Addr, i int) *flow.Addr {
	if uint(i) < uint(len(s)) {
		return &s[i]
	}
	return &zeroAddr
}

var colAccess = access[colRow]{
	num: func(f field) func(colRow) uint64 {
		switch f {
		case fFirst:
			return func(x colRow) uint64 { return uint64(msOf(at(x.c.First, x.i))) }
		case fLast:
			return func(x colRow) uint64 { return uint64(msOf(at(x.c.Last, x.i))) }
		case fSrcPort:
			return func(x colRow) uint64 { return uint64(at(x.c.SrcPort, x.i)) }
		case fDstPort:
			return func(x colRow) uint64 { return uint64(at(x.c.DstPort, x.i)) }
		case fProto:
			return func(x colRow) uint64 { return uint64(at(x.c.Proto, x.i)) }
		case fFlags:
			return func(x colRow) uint64 { return uint64(at(x.c.TCPFlags, x.i)) }
		case fToS:
			return func(x colRow) uint64 { return uint64(at(x.c.ToS, x.i)) }
		case fVLAN:
			return func(x colRow) uint64 { return uint64(at(x.c.VLAN, x.i)) }
		case fPackets:
			return func(x colRow) uint64 { return at(x.c.Packets, x.i) }
		case fBytes:
			return func(x colRow) uint64 { return at(x.c.Bytes, x.i) }
		case fOutPackets:
			return func(x colRow) uint64 { return at(x.c.OutPackets, x.i) }
		case fOutBytes:
			return func(x colRow) uint64 { return at(x.c.OutBytes, x.i) }
		case fSrcAS:
			return func(x colRow) uint64 { return uint64(at(x.c.SrcAS, x.i)) }
		case fDstAS:
			return func(x colRow) uint64 { return uint64(at(x.c.DstAS, x.i)) }
		case fInIf:
			return func(x colRow) uint64 { return uint64(at(x.c.InIf, x.i)) }
		case fOutIf:
			return func(x colRow) uint64 { return uint64(at(x.c.OutIf, x.i)) }
		case fSrcMask:
			return func(x colRow) uint64 { return uint64(at(x.c.SrcMask, x.i)) }
		case fDstMask:
			return func(x colRow) uint64 { return uint64(at(x.c.DstMask, x.i)) }
		case fDuration:
			return func(x colRow) uint64 { return durationMs(at(x.c.First, x.i), at(x.c.Last, x.i)) }
		case fPPS:
			return func(x colRow) uint64 {
				return pps(at(x.c.First, x.i), at(x.c.Last, x.i), at(x.c.Packets, x.i))
			}
		case fBPS:
			return func(x colRow) uint64 {
				return bps(at(x.c.First, x.i), at(x.c.Last, x.i), at(x.c.Bytes, x.i))
			}
		case fBPP:
			return func(x colRow) uint64 { return bpp(at(x.c.Packets, x.i), at(x.c.Bytes, x.i)) }
		case fICMPType:
			return func(x colRow) uint64 { return uint64(at(x.c.DstPort, x.i) >> 8) }
		case fICMPCode:
			return func(x colRow) uint64 { return uint64(at(x.c.DstPort, x.i) & 0xff) }
		}
		return nil
	},
	addr: func(f field) func(colRow) *flow.Addr {
		switch f {
		case fSrcIP:
			return func(x colRow) *flow.Addr { return atAddr(x.c.Src, x.i) }
		case fDstIP:
			return func(x colRow) *flow.Addr { return atAddr(x.c.Dst, x.i) }
		case fExporter:
			return func(x colRow) *flow.Addr { return atAddr(x.c.Exporter, x.i) }
		case fNextHop:
			return func(x colRow) *flow.Addr { return atAddr(x.c.NextHop, x.i) }
		}
		return nil
	},
	str: func(f field) func(colRow) string {
		if f == fKind {
			return func(x colRow) string { return x.c.Kind }
		}
		return nil
	},
	flt: func(f field) func(colRow) float64 {
		if f == fScore {
			return func(x colRow) float64 {
				if uint(x.i) < uint(len(x.c.Score)) {
					return x.c.Score[x.i]
				}
				return math.NaN()
			}
		}
		return nil
	},
	flag: func(f field) func(colRow) bool {
		switch f {
		case fIPv4:
			return func(x colRow) bool { return isV4(atAddr(x.c.Src, x.i)) }
		case fIPv6:
			return func(x colRow) bool { return !isV4(atAddr(x.c.Src, x.i)) }
		}
		return nil
	},
}

// compare builds the predicate "g(r) op v" for an integer or float field.
func compare[R any, T uint64 | float64](g func(R) T, op cmpOp, v T) func(R) bool {
	switch op {
	case opEQ:
		return func(r R) bool { return g(r) == v }
	case opGT:
		return func(r R) bool { return g(r) > v }
	case opLT:
		return func(r R) bool { return g(r) < v }
	case opGE:
		return func(r R) bool { return g(r) >= v }
	default:
		return func(r R) bool { return g(r) <= v }
	}
}
