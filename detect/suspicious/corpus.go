// Package suspicious is Apache Spot's "suspicious connects" analysis
// (spot-method.md §2–3) on spotctl's records: build the per-IP bag-of-words
// corpus from flows or DNS messages, fit the LDA model, score every event as
// P(word | IP), and select the least likely events with a deterministic
// order. It also renders Spot's flow_results.csv / dns_results.csv layouts.
//
// Inputs are read through small interfaces (Flows, DNSEvents) so the caller
// can adapt column slices of a case file without materialising records.
// Words are interned to int32 ids through 64-bit keys; no per-event strings
// are built.
package suspicious

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/detect/lda"
)

// docWords is one stream of (document, word) observations, one per element.
type docWords struct{ docs, words []int32 }

// buildCorpus counts the (document, word) observations of all parts into a
// sparse corpus: documents in id order, words ascending within each. Work
// is split over documents, so the result does not depend on workers.
func buildCorpus(numDocs, numWords, workers int, parts ...docWords) *lda.Corpus {
	start := make([]int, numDocs+1)
	for _, p := range parts {
		for _, d := range p.docs {
			start[d+1]++
		}
	}
	for d := 0; d < numDocs; d++ {
		start[d+1] += start[d]
	}
	bucket := make([]int32, start[numDocs])
	fill := slices.Clone(start[:numDocs])
	for _, p := range parts {
		for i, d := range p.docs {
			bucket[fill[d]] = p.words[i]
			fill[d]++
		}
	}
	fill = nil
	// Sort each document's words and count the distinct ones.
	uniq := make([]int, numDocs+1)
	forChunks(numDocs, 256, workers, func(lo, hi int) {
		for d := lo; d < hi; d++ {
			seg := bucket[start[d]:start[d+1]]
			slices.Sort(seg)
			n := 0
			for i := range seg {
				if i == 0 || seg[i] != seg[i-1] {
					n++
				}
			}
			uniq[d+1] = n
		}
	})
	for d := 0; d < numDocs; d++ {
		uniq[d+1] += uniq[d]
	}
	c := &lda.Corpus{NumWords: numWords, DocStart: uniq,
		Word: make([]int32, uniq[numDocs]), Count: make([]float64, uniq[numDocs])}
	forChunks(numDocs, 256, workers, func(lo, hi int) {
		for d := lo; d < hi; d++ {
			seg := bucket[start[d]:start[d+1]]
			o := uniq[d] - 1
			for i, w := range seg {
				if i == 0 || w != seg[i-1] {
					o++
					c.Word[o] = w
				}
				c.Count[o]++
			}
		}
	})
	return c
}

// forChunks calls f on consecutive ranges [lo, hi) of at most chunk elements
// covering [0, n), on up to workers goroutines.
func forChunks(n, chunk, workers int, f func(lo, hi int)) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	chunks := (n + chunk - 1) / chunk
	workers = min(workers, chunks)
	if workers <= 1 {
		for lo := 0; lo < n; lo += chunk {
			f(lo, min(lo+chunk, n))
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c := int(next.Add(1) - 1)
				if c >= chunks {
					return
				}
				f(c*chunk, min((c+1)*chunk, n))
			}
		}()
	}
	wg.Wait()
}

// addrTable interns addresses to dense ids.
type addrTable struct {
	ids   map[flow.Addr]int32
	addrs []flow.Addr
}

func newAddrTable() *addrTable { return &addrTable{ids: make(map[flow.Addr]int32)} }

func (t *addrTable) id(a flow.Addr) (int32, error) {
	if id, ok := t.ids[a]; ok {
		return id, nil
	}
	if len(t.addrs) == math.MaxInt32 {
		return 0, fmt.Errorf("more than %d distinct addresses", math.MaxInt32)
	}
	id := int32(len(t.addrs))
	t.ids[a] = id
	t.addrs = append(t.addrs, a)
	return id, nil
}

// sorted returns the addresses in ascending byte order (numeric order within
// each family, IPv4-mapped first) and the map old id → new id.
func (t *addrTable) sorted() ([]flow.Addr, []int32) {
	order := make([]int32, len(t.addrs))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return bytes.Compare(t.addrs[a][:], t.addrs[b][:]) })
	return permute(t.addrs, order)
}

// keyTable interns 64-bit word keys to dense ids.
type keyTable struct {
	ids  map[uint64]int32
	keys []uint64
}

func newKeyTable() *keyTable { return &keyTable{ids: make(map[uint64]int32)} }

func (t *keyTable) id(k uint64) (int32, error) {
	if id, ok := t.ids[k]; ok {
		return id, nil
	}
	if len(t.keys) == math.MaxInt32 {
		return 0, fmt.Errorf("more than %d distinct words", math.MaxInt32)
	}
	id := int32(len(t.keys))
	t.ids[k] = id
	t.keys = append(t.keys, k)
	return id, nil
}

// sortedBy orders the keys by their text (Spot's word string), the
// vocabulary order the model's initialisation depends on, and returns them
// with the map old id → new id.
func (t *keyTable) sortedBy(text func(uint64) string) ([]uint64, []int32) {
	texts := make([]string, len(t.keys))
	for i, k := range t.keys {
		texts[i] = text(k)
	}
	order := make([]int32, len(t.keys))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(texts[a], texts[b]) })
	return permute(t.keys, order)
}

// permute returns the values in the given order and the inverse map.
func permute[T any](vals []T, order []int32) ([]T, []int32) {
	out := make([]T, len(vals))
	remap := make([]int32, len(vals))
	for newID, old := range order {
		out[newID] = vals[old]
		remap[old] = int32(newID)
	}
	return out, remap
}

// remapAll rewrites ids through remap in place, in parallel.
func remapAll(remap []int32, workers int, ids ...[]int32) {
	for _, s := range ids {
		forChunks(len(s), 1<<16, workers, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				s[i] = remap[s[i]]
			}
		})
	}
}
