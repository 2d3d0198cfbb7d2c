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
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
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
	// Count each document's distinct words with a dense scratch counter (a
	// pass over the observations, no sorting), then write them sorted.
	uniq := make([]int, numDocs+1)
	forChunksScratch(numDocs, 256, workers, func() []int32 { return make([]int32, numWords) }, func(cnt []int32, lo, hi int) {
		for d := lo; d < hi; d++ {
			n := 0
			seg := bucket[start[d]:start[d+1]]
			for _, w := range seg {
				if cnt[w] == 0 {
					n++
				}
				cnt[w]++
			}
			for _, w := range seg {
				cnt[w] = 0
			}
			uniq[d+1] = n
		}
	})
	for d := 0; d < numDocs; d++ {
		uniq[d+1] += uniq[d]
	}
	c := &lda.Corpus{NumWords: numWords, DocStart: uniq,
		Word: make([]int32, uniq[numDocs]), Count: make([]float64, uniq[numDocs])}
	forChunksScratch(numDocs, 256, workers, func() []int32 { return make([]int32, numWords) }, func(cnt []int32, lo, hi int) {
		for d := lo; d < hi; d++ {
			words := c.Word[uniq[d]:uniq[d+1]]
			j := 0
			for _, w := range bucket[start[d]:start[d+1]] {
				if cnt[w] == 0 {
					words[j] = w
					j++
				}
				cnt[w]++
			}
			slices.Sort(words)
			counts := c.Count[uniq[d]:uniq[d+1]]
			for j, w := range words {
				counts[j] = float64(cnt[w])
				cnt[w] = 0
			}
		}
	})
	return c
}

// forChunksScratch is forChunks with per-goroutine scratch space.
func forChunksScratch[S any](n, chunk, workers int, scratch func() S, f func(s S, lo, hi int)) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	chunks := (n + chunk - 1) / chunk
	workers = max(1, min(workers, chunks))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := scratch()
			for {
				c := int(next.Add(1) - 1)
				if c >= chunks {
					return
				}
				f(s, c*chunk, min((c+1)*chunk, n))
			}
		}()
	}
	wg.Wait()
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

// addrTable interns addresses to dense ids. IPv4 addresses (the bulk of
// the evidence) go through a flat open-addressing table on 32-bit keys,
// which stays cache-resident; others through a Go map.
type addrTable struct {
	v4    u64Table
	other map[flow.Addr]int32
	addrs []flow.Addr
}

func newAddrTable() *addrTable { return &addrTable{other: make(map[flow.Addr]int32)} }

func (t *addrTable) id(a flow.Addr) (int32, error) {
	if a.Is4() {
		k := uint64(binary.BigEndian.Uint32(a[12:]))
		if id, ok := t.v4.get(k); ok {
			return id, nil
		}
		id, err := t.add(a)
		if err == nil {
			t.v4.put(k, id)
		}
		return id, err
	}
	if id, ok := t.other[a]; ok {
		return id, nil
	}
	id, err := t.add(a)
	if err == nil {
		t.other[a] = id
	}
	return id, err
}

func (t *addrTable) add(a flow.Addr) (int32, error) {
	if len(t.addrs) == math.MaxInt32 {
		return 0, fmt.Errorf("more than %d distinct addresses", math.MaxInt32)
	}
	t.addrs = append(t.addrs, a)
	return int32(len(t.addrs) - 1), nil
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
	ids  u64Table
	keys []uint64
}

func newKeyTable() *keyTable { return &keyTable{} }

func (t *keyTable) id(k uint64) (int32, error) {
	if id, ok := t.ids.get(k); ok {
		return id, nil
	}
	if len(t.keys) == math.MaxInt32 {
		return 0, fmt.Errorf("more than %d distinct words", math.MaxInt32)
	}
	id := int32(len(t.keys))
	t.ids.put(k, id)
	t.keys = append(t.keys, k)
	return id, nil
}

// u64Table is an open-addressing hash table from uint64 keys to int32 ids
// (linear probing, load ≤ 1/2). Slots store key+1 so that 0 marks an empty
// slot; key 2^64−1 has its own field.
type u64Table struct {
	slots  []u64Slot
	n      int
	shift  uint
	maxID  int32
	hasMax bool
}

type u64Slot struct {
	key uint64 // key+1; 0 = empty
	id  int32
}

func (t *u64Table) get(k uint64) (int32, bool) {
	if k == math.MaxUint64 {
		return t.maxID, t.hasMax
	}
	if t.slots == nil {
		return 0, false
	}
	mask := uint64(len(t.slots) - 1)
	for i := (k + 1) * 0x9e3779b97f4a7c15 >> t.shift; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.key == k+1 {
			return s.id, true
		}
		if s.key == 0 {
			return 0, false
		}
	}
}

// put inserts a key known to be absent.
func (t *u64Table) put(k uint64, id int32) {
	if k == math.MaxUint64 {
		t.maxID, t.hasMax = id, true
		return
	}
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	mask := uint64(len(t.slots) - 1)
	i := (k + 1) * 0x9e3779b97f4a7c15 >> t.shift
	for t.slots[i].key != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = u64Slot{key: k + 1, id: id}
	t.n++
}

func (t *u64Table) grow() {
	old := t.slots
	size := max(1024, 2*len(old))
	t.slots = make([]u64Slot, size)
	t.shift = uint(64 - bits.TrailingZeros(uint(size)))
	t.n = 0
	for _, s := range old {
		if s.key != 0 {
			t.put(s.key-1, s.id)
		}
	}
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
