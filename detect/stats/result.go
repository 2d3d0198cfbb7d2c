package stats

import (
	"cmp"
	"encoding/binary"
	"slices"
	"strings"

	"github.com/spotctl/spotctl/decode/flow"
)

// Value is one grouping value: Addr for address fields, S for qname and
// domain, U for the rest.
type Value struct {
	Addr flow.Addr
	U    uint64
	S    string
}

// Row is one aggregated group.
type Row struct {
	Bin   int64   // start of the time bin, Unix ns (0 without a bin)
	Key   []Value // one per Spec.Parts, in order
	Flows uint64  // flows (DNS: messages); an either-side field counts a flow on both sides
	// Packets and Bytes are sums; zero for DNS.
	Packets, Bytes uint64
	First, Last    int64 // earliest first packet, latest last packet (DNS: timestamps)
	// PPS, BPS and BPP are nfdump's rates over the group: packets and bits
	// per second over its duration (Last - First, in ms, unsigned as in
	// nfdump: 0 when the duration is 0; computed in float64 and truncated,
	// as nfdump prints them) and bytes per packet, as integers.
	PPS, BPS, BPP uint64
}

// DurationMs is the group's duration in milliseconds computed as nfdump
// does: whole milliseconds, an unsigned difference.
func DurationMs(first, last int64) uint64 { return uint64(msOf(last) - msOf(first)) }

func msOf(ns int64) int64 {
	q := ns / 1e6
	if ns%1e6 < 0 {
		q--
	}
	return q
}

// rate is nfdump's group rate: k*n per second over a duration of d ms,
// computed as nfdump does in double precision (n*k/1000 / (d/1000.0))
// and truncated, so that 28 packets over 140 ms is 199 pps as nfdump
// prints it; 0 when d is 0.
func rate(k, n, d uint64) uint64 {
	if d == 0 {
		return 0
	}
	v := float64(n) * float64(k/1000) / (float64(d) / 1000.0)
	if v >= 1<<64 {
		return ^uint64(0)
	}
	return uint64(v)
}

func (a *Aggregator) metric(g int, o Order) uint64 {
	ac := &a.accs[g]
	switch o {
	case OrderPackets:
		return ac.packets
	case OrderBytes:
		return ac.bytes
	case OrderPPS:
		return rate(1000, ac.packets, DurationMs(ac.first, ac.last))
	case OrderBPS:
		return rate(8000, ac.bytes, DurationMs(ac.first, ac.last))
	case OrderBPP:
		if ac.packets == 0 {
			return 0
		}
		return ac.bytes / ac.packets
	}
	return ac.flows
}

// compareKey orders two groups by key, ascending, part by part.
func (a *Aggregator) compareKey(g, h int) int {
	w := a.width
	kg, kh := a.keys[g*w:g*w+w], a.keys[h*w:h*w+w]
	if a.binOff >= 0 {
		if c := cmp.Compare(kg[0], kh[0]); c != 0 {
			return c
		}
	}
	for _, p := range a.parts {
		if p.Field.IsString() {
			if c := strings.Compare(a.strs[kg[p.off]], a.strs[kh[p.off]]); c != 0 {
				return c
			}
			continue
		}
		n := 1
		if p.Field.IsAddr() {
			n = 2
		}
		for i := p.off; i < p.off+n; i++ {
			if c := cmp.Compare(kg[i], kh[i]); c != 0 {
				return c
			}
		}
	}
	return 0
}

// Top returns the ranked groups: by the spec's order, largest first, ties
// by key ascending; with a time bin, bins in time order and up to Limit
// groups in each. Groups the Post filter rejects are left out before the
// ranking, as with nfdump's -P.
func (a *Aggregator) Top() []Row {
	order := a.spec.Order
	a.finish()
	var gs []int32
	for g := range len(a.accs) {
		if a.spec.Post == nil || a.spec.Post.match(a, g) {
			gs = append(gs, int32(g))
		}
	}
	metric := make([]uint64, len(a.accs))
	for _, g := range gs {
		metric[g] = a.metric(int(g), order)
	}
	less := func(x, y int32) int {
		if a.binOff >= 0 {
			if c := cmp.Compare(a.keys[int(x)*a.width], a.keys[int(y)*a.width]); c != 0 {
				return c
			}
		}
		if c := cmp.Compare(metric[y], metric[x]); c != 0 {
			return c
		}
		return a.compareKey(int(x), int(y))
	}
	limit := a.spec.Limit
	if a.binOff < 0 && limit > 0 && len(gs) > 4*limit {
		gs = topK(gs, limit, less)
	} else {
		slices.SortFunc(gs, less)
	}
	rows := make([]Row, 0, min(len(gs), 1<<16))
	var curBin uint64
	inBin := 0
	for _, g := range gs {
		if a.binOff >= 0 {
			b := a.keys[int(g)*a.width]
			if inBin == 0 || b != curBin {
				curBin, inBin = b, 0
			}
			inBin++
			if limit > 0 && inBin > limit {
				continue
			}
		} else if limit > 0 && len(rows) >= limit {
			break
		}
		rows = append(rows, a.row(int(g)))
	}
	return rows
}

// topK keeps the k smallest by less in a small sorted slice: most groups
// are rejected with one comparison against the current k-th.
func topK(gs []int32, k int, less func(x, y int32) int) []int32 {
	top := make([]int32, 0, k+1)
	for _, g := range gs {
		if len(top) == k && less(g, top[k-1]) >= 0 {
			continue
		}
		i, _ := slices.BinarySearchFunc(top, g, less)
		top = slices.Insert(top, i, g)
		if len(top) > k {
			top = top[:k]
		}
	}
	return top
}

func (a *Aggregator) row(g int) Row {
	ac := &a.accs[g]
	k := a.keys[g*a.width : (g+1)*a.width]
	r := Row{Flows: ac.flows, Packets: ac.packets, Bytes: ac.bytes, First: ac.first, Last: ac.last,
		PPS: a.metric(g, OrderPPS), BPS: a.metric(g, OrderBPS), BPP: a.metric(g, OrderBPP)}
	if a.binOff >= 0 {
		r.Bin = int64(k[0] ^ 1<<63)
	}
	r.Key = make([]Value, len(a.parts))
	for i, p := range a.parts {
		r.Key[i] = a.value(&p, k)
	}
	return r
}

func (a *Aggregator) value(p *part, k []uint64) Value {
	switch {
	case p.Field.IsAddr():
		var v Value
		binary.BigEndian.PutUint64(v.Addr[:8], k[p.off])
		binary.BigEndian.PutUint64(v.Addr[8:], k[p.off+1])
		return v
	case p.Field.IsString():
		return Value{S: a.strs[k[p.off]]}
	}
	return Value{U: k[p.off]}
}
