package filter

import (
	"slices"
	"sync"

	"github.com/spotctl/spotctl/decode/flow"
)

// Select evaluates column tables a block at a time: a selection vector of
// row indexes is narrowed by each term of a top-level "and" in turn, and
// the common terms (number comparisons on one column, an address range on
// src or dst) run as tight loops over the column slices instead of one
// closure call per row. Anything else narrows the vector through the row
// closure, so the result always equals MatchFlowColumns row by row.

// vecFn narrows sel (rows of block [lo, hi)) to the rows that pass,
// reusing sel's storage.
type vecFn func(c *FlowColumns, sel []int32) []int32

const vecBlock = 4096

func buildVec(n *node, row func(colRow) bool) vecFn {
	if n == nil || n.op == nAny {
		return func(_ *FlowColumns, sel []int32) []int32 { return sel }
	}
	if n.op == nAnd {
		// Terms are pure, so their order is free: narrow with the cheap
		// column loops first (a stable sort keeps the user's order otherwise).
		kids := slices.Clone(n.kids)
		slices.SortStableFunc(kids, func(a, b *node) int { return vecCost(a) - vecCost(b) })
		fns := make([]vecFn, len(kids))
		for i, k := range kids {
			fns[i] = buildVec(k, build(k, colAccess))
		}
		return func(c *FlowColumns, sel []int32) []int32 {
			for _, fn := range fns {
				if len(sel) == 0 {
					break
				}
				sel = fn(c, sel)
			}
			return sel
		}
	}
	if n.op == nOr {
		// Each term tests only the rows no earlier term took; the result
		// is the input minus the rows none took, in input order.
		fns := make([]vecFn, len(n.kids))
		for i, k := range n.kids {
			fns[i] = buildVec(k, build(k, colAccess))
		}
		return func(c *FlowColumns, sel []int32) []int32 {
			bufs := scratchPool.Get().(*[2][vecBlock]int32)
			defer scratchPool.Put(bufs)
			rest := append(bufs[0][:0], sel...)
			for _, fn := range fns {
				if len(rest) == 0 {
					break
				}
				took := fn(c, append(bufs[1][:0], rest...))
				rest = minus(rest, took)
			}
			return minus(sel, rest)
		}
	}
	if n.op == nNot {
		fn := buildVec(n.kids[0], build(n.kids[0], colAccess))
		return func(c *FlowColumns, sel []int32) []int32 {
			bufs := scratchPool.Get().(*[2][vecBlock]int32)
			defer scratchPool.Put(bufs)
			return minus(sel, fn(c, append(bufs[1][:0], sel...)))
		}
	}
	if n.op == nLeaf && len(n.leaf.fields) == 1 && !n.leaf.icmp {
		if fn := vecLeaf(n.leaf, row); fn != nil {
			return fn
		}
	}
	return func(c *FlowColumns, sel []int32) []int32 {
		out := sel[:0]
		for _, i := range sel {
			if row(colRow{c: c, i: int(i)}) {
				out = append(out, i)
			}
		}
		return out
	}
}

// vecCost ranks a term by the work per row of its column loop.
func vecCost(n *node) int {
	if n.op != nLeaf || len(n.leaf.fields) != 1 || n.leaf.icmp {
		return 4
	}
	switch n.leaf.test {
	case tkCmp:
		switch n.leaf.fields[0] {
		case fSrcPort, fDstPort, fProto:
			return 1
		case fPackets, fBytes:
			return 2
		}
	case tkAddr:
		if len(n.leaf.addrs) == 1 && (n.leaf.fields[0] == fSrcIP || n.leaf.fields[0] == fDstIP) {
			return 3
		}
	}
	return 4
}

// vecLeaf returns a column loop for a one-field leaf, or nil.
func vecLeaf(l *leaf, row func(colRow) bool) vecFn {
	switch l.test {
	case tkCmp:
		op, v := l.cmp, l.n
		switch l.fields[0] {
		case fSrcPort:
			return vecCmp(func(c *FlowColumns) []uint16 { return c.SrcPort }, op, v, row)
		case fDstPort:
			return vecCmp(func(c *FlowColumns) []uint16 { return c.DstPort }, op, v, row)
		case fProto:
			return vecCmp(func(c *FlowColumns) []uint8 { return c.Proto }, op, v, row)
		case fPackets:
			return vecCmp(func(c *FlowColumns) []uint64 { return c.Packets }, op, v, row)
		case fBytes:
			return vecCmp(func(c *FlowColumns) []uint64 { return c.Bytes }, op, v, row)
		}
	case tkAddr:
		if len(l.addrs) != 1 {
			return nil
		}
		var col func(c *FlowColumns) []flow.Addr
		switch l.fields[0] {
		case fSrcIP:
			col = func(c *FlowColumns) []flow.Addr { return c.Src }
		case fDstIP:
			col = func(c *FlowColumns) []flow.Addr { return c.Dst }
		default:
			return nil
		}
		lo, hi := l.addrs[0].lo, l.addrs[0].hi
		return func(c *FlowColumns, sel []int32) []int32 {
			s := col(c)
			if len(sel) == 0 || int(sel[len(sel)-1]) >= len(s) {
				return rowFilter(c, sel, row) // short column: rows past it read as zero
			}
			out := sel[:0]
			for _, i := range sel {
				v := toU128(s[i])
				if !v.less(lo) && !hi.less(v) {
					out = append(out, i)
				}
			}
			return out
		}
	}
	return nil
}

// minus removes from a the rows of b, a subsequence of a, in place. Both
// hold rows of one block (selectVec), so a row's offset from a[0] is below
// vecBlock and indexes a mark array; the compaction has no branch to
// mispredict.
func minus(a, b []int32) []int32 {
	if len(b) == 0 || len(a) == 0 {
		return a
	}
	if len(b) == len(a) {
		return a[:0]
	}
	var drop [vecBlock]bool
	base := a[0]
	for _, v := range b {
		drop[uint32(v-base)&(vecBlock-1)] = true
	}
	n := 0
	for _, v := range a {
		a[n] = v
		if !drop[uint32(v-base)&(vecBlock-1)] {
			n++
		}
	}
	return a[:n]
}

// scratchPool holds the two block buffers of an "or" or "not" term.
var scratchPool = sync.Pool{New: func() any { return new([2][vecBlock]int32) }}

func rowFilter(c *FlowColumns, sel []int32, row func(colRow) bool) []int32 {
	out := sel[:0]
	for _, i := range sel {
		if row(colRow{c: c, i: int(i)}) {
			out = append(out, i)
		}
	}
	return out
}

func vecCmp[T uint8 | uint16 | uint64](col func(*FlowColumns) []T, op cmpOp, v uint64, row func(colRow) bool) vecFn {
	return func(c *FlowColumns, sel []int32) []int32 {
		s := col(c)
		if len(sel) == 0 || int(sel[len(sel)-1]) >= len(s) {
			return rowFilter(c, sel, row)
		}
		// Keep-or-skip without a branch: every row is written, the
		// count advances only for a match (out never overtakes sel).
		n := 0
		switch op {
		case opEQ:
			for _, i := range sel {
				sel[n] = i
				n += b2i(uint64(s[i]) == v)
			}
		case opGT:
			for _, i := range sel {
				sel[n] = i
				n += b2i(uint64(s[i]) > v)
			}
		case opLT:
			for _, i := range sel {
				sel[n] = i
				n += b2i(uint64(s[i]) < v)
			}
		case opGE:
			for _, i := range sel {
				sel[n] = i
				n += b2i(uint64(s[i]) >= v)
			}
		default:
			for _, i := range sel {
				sel[n] = i
				n += b2i(uint64(s[i]) <= v)
			}
		}
		return sel[:n]
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// selPool recycles selection vectors: one escapes to the heap per Select
// call otherwise (the vecFn calls are indirect).
var selPool = sync.Pool{New: func() any { return new([vecBlock]int32) }}

// selectVec runs fn over [lo, hi) in blocks, appending matches to dst.
func selectVec(fn vecFn, c *FlowColumns, lo, hi int, dst []int32) []int32 {
	buf := selPool.Get().(*[vecBlock]int32)
	defer selPool.Put(buf)
	for b := lo; b < hi; b += vecBlock {
		e := min(b+vecBlock, hi)
		sel := buf[:e-b]
		for j := range sel {
			sel[j] = int32(b + j)
		}
		dst = append(dst, fn(c, sel)...)
	}
	return dst
}
