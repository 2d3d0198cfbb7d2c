package suspicious

import (
	"bytes"
	"cmp"
	"container/heap"
	"slices"
)

// DefaultThreshold is Spot's operational score threshold (ml_ops.sh TOL).
const DefaultThreshold = 1e-6

// Selected reports whether Spot keeps a score: −1 < score ≤ threshold (−1
// marks records whose word could not be built; NaN is never kept).
func Selected(score, threshold float64) bool { return score > -1 && score <= threshold }

// selectOrdered returns the indices i with Selected(scores[i], threshold),
// ordered by ascending score, then tie(i, j), then index; at most max of
// them (max ≤ 0: all). Spot sorted by score only and left ties in Spark's
// arbitrary order; the tie-break makes the ranking reproducible.
func selectOrdered(scores []float64, threshold float64, max int, tie func(i, j int) int) []int {
	less := func(i, j int) int {
		if c := cmp.Compare(scores[i], scores[j]); c != 0 {
			return c
		}
		if c := tie(i, j); c != 0 {
			return c
		}
		return cmp.Compare(i, j)
	}
	if max > 0 {
		// Keep the max best in a bounded max-heap: O(n log max), not a sort
		// of every candidate.
		h := &boundedHeap{less: less}
		for i, s := range scores {
			if !Selected(s, threshold) {
				continue
			}
			if len(h.idx) < max {
				heap.Push(h, i)
			} else if less(i, h.idx[0]) < 0 {
				h.idx[0] = i
				heap.Fix(h, 0)
			}
		}
		out := h.idx
		slices.SortFunc(out, less)
		return out
	}
	var out []int
	for i, s := range scores {
		if Selected(s, threshold) {
			out = append(out, i)
		}
	}
	slices.SortFunc(out, less)
	return out
}

// boundedHeap is a max-heap of indices under less (worst on top).
type boundedHeap struct {
	idx  []int
	less func(i, j int) int
}

func (h *boundedHeap) Len() int           { return len(h.idx) }
func (h *boundedHeap) Less(a, b int) bool { return h.less(h.idx[a], h.idx[b]) > 0 }
func (h *boundedHeap) Swap(a, b int)      { h.idx[a], h.idx[b] = h.idx[b], h.idx[a] }
func (h *boundedHeap) Push(x any)         { h.idx = append(h.idx, x.(int)) }
func (h *boundedHeap) Pop() any {
	x := h.idx[len(h.idx)-1]
	h.idx = h.idx[:len(h.idx)-1]
	return x
}

// CompareFlows is the flow tie-break: time, then source address,
// destination address, source port, destination port, protocol.
func CompareFlows(a, b Flow) int {
	if c := cmp.Compare(a.Time, b.Time); c != 0 {
		return c
	}
	if c := bytes.Compare(a.Src[:], b.Src[:]); c != 0 {
		return c
	}
	if c := bytes.Compare(a.Dst[:], b.Dst[:]); c != 0 {
		return c
	}
	if c := cmp.Compare(a.SrcPort, b.SrcPort); c != 0 {
		return c
	}
	if c := cmp.Compare(a.DstPort, b.DstPort); c != 0 {
		return c
	}
	return cmp.Compare(a.Proto, b.Proto)
}

// SelectFlows returns the indices of the flows Spot reports: scores with
// −1 < score ≤ threshold, ascending, ties ordered by CompareFlows and then by
// index, at most maxResults (≤ 0: all).
func SelectFlows(fl Flows, scores []float64, threshold float64, maxResults int) []int {
	return selectOrdered(scores, threshold, maxResults, func(i, j int) int { return CompareFlows(fl.Flow(i), fl.Flow(j)) })
}

// CompareDNS is the DNS tie-break: time, client, server, client port,
// server port, query name, record type, response code.
func CompareDNS(a, b DNSEvent) int {
	if c := cmp.Compare(a.Time, b.Time); c != 0 {
		return c
	}
	if c := bytes.Compare(a.Client[:], b.Client[:]); c != 0 {
		return c
	}
	if c := bytes.Compare(a.Server[:], b.Server[:]); c != 0 {
		return c
	}
	if c := cmp.Compare(a.ClientPort, b.ClientPort); c != 0 {
		return c
	}
	if c := cmp.Compare(a.ServerPort, b.ServerPort); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Type, b.Type); c != 0 {
		return c
	}
	return cmp.Compare(a.Rcode, b.Rcode)
}

// SelectDNS is SelectFlows for DNS events, ties ordered by CompareDNS.
func SelectDNS(ev DNSEvents, scores []float64, threshold float64, maxResults int) []int {
	return selectOrdered(scores, threshold, maxResults, func(i, j int) int { return CompareDNS(ev.Event(i), ev.Event(j)) })
}
