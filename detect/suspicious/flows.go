package suspicious

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/detect/lda"
	"github.com/spotctl/spotctl/detect/words"
)

// Flow is what the flow model reads of one flow.
type Flow struct {
	Time             int64 // Unix ns; gives the hour token and orders ties
	Duration         int64 // ns (last − first); only for Spot's tdur output column
	Src, Dst         flow.Addr
	SrcPort, DstPort uint16
	Proto            uint8
	Packets, Bytes   uint64 // source → destination; these make the words (Spot's ipkt, ibyt)
	OutPackets       uint64 // reverse direction of a biflow; only for Spot's opkt output column
	OutBytes         uint64 // … and obyt
}

// Flows is random access to the flows being analysed. Implementations must
// be safe for concurrent reads.
type Flows interface {
	Len() int
	Flow(i int) Flow
}

// Records adapts a record slice. The word time is the flow's First time:
// Spot used the collector's receive time (≈ the flow's end, export delay
// included), which a capture does not have; the start is what a responder
// reads in every other view.
type Records []flow.Record

func (r Records) Len() int { return len(r) }

func (r Records) Flow(i int) Flow {
	x := &r[i]
	return Flow{Time: x.First, Duration: x.Last - x.First, Src: x.Src, Dst: x.Dst,
		SrcPort: x.SrcPort, DstPort: x.DstPort, Proto: x.Proto, Packets: x.Packets, Bytes: x.Bytes,
		OutPackets: x.OutPackets, OutBytes: x.OutBytes}
}

// Columns adapts parallel column slices (one element per flow), e.g. the
// columns of a case file. Duration, OutPackets and OutBytes are only read
// for Spot's output columns and may be nil (zeros).
type Columns struct {
	Time                 []int64
	Duration             []int64
	Src, Dst             []flow.Addr
	SrcPort, DstPort     []uint16
	Proto                []uint8
	Packets, Bytes       []uint64
	OutPackets, OutBytes []uint64
}

func (c *Columns) Len() int { return len(c.Time) }

func (c *Columns) Flow(i int) Flow {
	f := Flow{Time: c.Time[i], Src: c.Src[i], Dst: c.Dst[i], SrcPort: c.SrcPort[i], DstPort: c.DstPort[i],
		Proto: c.Proto[i], Packets: c.Packets[i], Bytes: c.Bytes[i]}
	if c.Duration != nil {
		f.Duration = c.Duration[i]
	}
	if c.OutPackets != nil {
		f.OutPackets = c.OutPackets[i]
	}
	if c.OutBytes != nil {
		f.OutBytes = c.OutBytes[i]
	}
	return f
}

// Validate checks that all columns have the same length.
func (c *Columns) Validate() error {
	n := len(c.Time)
	for name, l := range map[string]int{"src": len(c.Src), "dst": len(c.Dst), "srcport": len(c.SrcPort),
		"dstport": len(c.DstPort), "proto": len(c.Proto), "packets": len(c.Packets), "bytes": len(c.Bytes)} {
		if l != n {
			return fmt.Errorf("flow columns: %s has %d rows, time has %d", name, l, n)
		}
	}
	for name, col := range map[string]int{"duration": len(c.Duration), "outpackets": len(c.OutPackets), "outbytes": len(c.OutBytes)} {
		if col != 0 && col != n {
			return fmt.Errorf("flow columns: %s has %d rows, time has %d", name, col, n)
		}
	}
	return nil
}

// FlowCorpus is the flow data turned into Spot's corpus: one document per
// IP address, holding the source-side word of every flow the IP sent and the
// destination-side word of every flow it received.
type FlowCorpus struct {
	Docs   []flow.Addr      // document d is the address Docs[d]; ascending
	Words  []words.FlowWord // word w; ascending by Spot text
	Corpus *lda.Corpus

	// Per flow: the documents and words of its two sides.
	SrcDoc, DstDoc, SrcWord, DstWord []int32
}

// minInternChunk is the smallest number of flows interned by one task (a
// variable so tests can exercise the merge on small inputs).
var minInternChunk = 1 << 16

// BuildFlowCorpus computes both words of every flow (hour in loc; nil means
// UTC) and counts them into per-IP documents. Document and word ids are
// assigned in sorted order, so the corpus depends only on the data, never on
// workers (≤ 0: GOMAXPROCS). It checks ctx every 64 Ki flows.
//
// Flows are interned in parallel: each chunk of flows gets private tables,
// which are merged afterwards (the merge touches each chunk's distinct
// addresses and words once, not every flow).
func BuildFlowCorpus(ctx context.Context, fl Flows, loc *time.Location, workers int) (*FlowCorpus, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	n := fl.Len()
	fc := &FlowCorpus{SrcDoc: make([]int32, n), DstDoc: make([]int32, n), SrcWord: make([]int32, n), DstWord: make([]int32, n)}
	// A few chunks per worker balance the load; the chunking affects speed only.
	chunk := max(minInternChunk, (n+4*workers-1)/(4*workers))
	nchunks := (n + chunk - 1) / chunk
	type local struct {
		docs  *addrTable
		vocab *keyTable
		err   error
	}
	locals := make([]local, nchunks)
	forChunks(n, chunk, workers, func(lo, hi int) {
		docs, vocab := newAddrTable(), newKeyTable()
		clock := words.NewClock(loc)
		l := &locals[lo/chunk]
		l.docs, l.vocab = docs, vocab
		for i := lo; i < hi; i++ {
			if (i-lo)&0xffff == 0 && ctx.Err() != nil {
				l.err = ctx.Err()
				return
			}
			f := fl.Flow(i)
			src, dst := words.FlowWords(f.SrcPort, f.DstPort, f.Proto, clock.Hour(f.Time), f.Bytes, f.Packets)
			// Chunks hold far fewer than 2^31 flows, so local ids cannot overflow.
			fc.SrcDoc[i], _ = docs.id(f.Src)
			fc.DstDoc[i], _ = docs.id(f.Dst)
			fc.SrcWord[i], _ = vocab.id(src.Key())
			fc.DstWord[i], _ = vocab.id(dst.Key())
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Merge the chunk tables into global ones, in chunk order.
	docs, vocab := newAddrTable(), newKeyTable()
	docOf, wordOf := make([][]int32, nchunks), make([][]int32, nchunks)
	for c := range locals {
		if locals[c].err != nil {
			return nil, locals[c].err
		}
		docOf[c] = make([]int32, len(locals[c].docs.addrs))
		for j, a := range locals[c].docs.addrs {
			id, err := docs.id(a)
			if err != nil {
				return nil, err
			}
			docOf[c][j] = id
		}
		wordOf[c] = make([]int32, len(locals[c].vocab.keys))
		for j, k := range locals[c].vocab.keys {
			id, err := vocab.id(k)
			if err != nil {
				return nil, err
			}
			wordOf[c][j] = id
		}
		locals[c] = local{}
	}
	var docMap, wordMap []int32
	fc.Docs, docMap = docs.sorted()
	keys, wordMap := vocab.sortedBy(func(k uint64) string { return words.FlowWordFromKey(k).String() })
	fc.Words = make([]words.FlowWord, len(keys))
	for i, k := range keys {
		fc.Words[i] = words.FlowWordFromKey(k)
	}
	// local id → global id → sorted id, per chunk.
	forChunks(n, chunk, workers, func(lo, hi int) {
		c := lo / chunk
		dm, wm := docOf[c], wordOf[c]
		for i := lo; i < hi; i++ {
			fc.SrcDoc[i] = docMap[dm[fc.SrcDoc[i]]]
			fc.DstDoc[i] = docMap[dm[fc.DstDoc[i]]]
			fc.SrcWord[i] = wordMap[wm[fc.SrcWord[i]]]
			fc.DstWord[i] = wordMap[wm[fc.DstWord[i]]]
		}
	})
	fc.Corpus = buildCorpus(len(fc.Docs), len(fc.Words), workers,
		docWords{fc.SrcDoc, fc.SrcWord}, docWords{fc.DstDoc, fc.DstWord})
	return fc, nil
}

// ScoreFlows scores every flow as Spot did: min(P(srcWord | src IP),
// P(dstWord | dst IP)) under the model fitted on fc.Corpus.
func ScoreFlows(fc *FlowCorpus, m *lda.Model, workers int) []float64 {
	scores := make([]float64, len(fc.SrcDoc))
	forChunks(len(scores), 1<<14, workers, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			scores[i] = min(m.Score(int(fc.SrcDoc[i]), int(fc.SrcWord[i])), m.Score(int(fc.DstDoc[i]), int(fc.DstWord[i])))
		}
	})
	return scores
}

// SideScores returns the two scores whose minimum is flow i's score: the
// source side P(srcWord | src IP) and the destination side.
func (fc *FlowCorpus) SideScores(m *lda.Model, i int) (src, dst float64) {
	return m.Score(int(fc.SrcDoc[i]), int(fc.SrcWord[i])), m.Score(int(fc.DstDoc[i]), int(fc.DstWord[i]))
}
