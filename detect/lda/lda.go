package lda

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// DefaultSeed is the seed used when none is chosen: 0xdeadbeef, the seed of
// Spot's own LDA wrapper tests. Spot passed no seed in production, so Spark
// drew a random one per run; spotctl always has one, and prints it.
const DefaultSeed uint64 = 0xdeadbeef

// DefaultBlockSize is the most non-zero cells per document block (a block
// also holds at most 512 documents). It is a constant of the algorithm, not
// of the machine: the blocks fix the summation order, so results do not
// depend on how many goroutines run.
const DefaultBlockSize = 1 << 16

// Options are the LDA parameters. The zero value of a field means its Spot
// default (DefaultOptions).
type Options struct {
	Topics     int     // K; Spot: 20
	Iterations int     // EM iterations; Spot: 20. Negative means 0 (initialisation only).
	Alpha      float64 // symmetric document concentration, must be > 1; Spot: 1.02
	Eta        float64 // symmetric topic concentration (β), must be > 1; Spot: 1.001
	Seed       uint64  // initialisation seed; 0 means DefaultSeed
	Workers    int     // goroutines; ≤ 0 means runtime.GOMAXPROCS(0). Never changes results.
	BlockSize  int     // non-zero cells per document block; ≤ 0 means DefaultBlockSize. Changes the summation order (last bits) of results.
}

// DefaultOptions returns Spot's settings: K = 20, 20 iterations, α = 1.02,
// η = 1.001, and DefaultSeed.
func DefaultOptions() Options {
	return Options{Topics: 20, Iterations: 20, Alpha: 1.02, Eta: 1.001, Seed: DefaultSeed}
}

// withDefaults fills zero fields with DefaultOptions' values.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Topics == 0 {
		o.Topics = d.Topics
	}
	if o.Iterations == 0 {
		o.Iterations = d.Iterations
	}
	if o.Iterations < 0 {
		o.Iterations = 0
	}
	if o.Alpha == 0 {
		o.Alpha = d.Alpha
	}
	if o.Eta == 0 {
		o.Eta = d.Eta
	}
	if o.Seed == 0 {
		o.Seed = d.Seed
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.BlockSize <= 0 {
		o.BlockSize = DefaultBlockSize
	}
	return o
}

// ErrOptions marks invalid LDA parameters.
var ErrOptions = errors.New("invalid LDA options")

// Model is a fitted LDA model. Rows are contiguous: the K values of document
// d are Theta[d*K:(d+1)*K], those of word w are Phi[w*K:(w+1)*K].
type Model struct {
	K, NumDocs, NumWords int

	// Theta[d*K+k] = N_dk / Σ_k N_dk: the topic mixture of document d,
	// normalised counts without α smoothing, as Spark's topicDistributions.
	Theta []float64
	// Phi[w*K+k] = N_wk / Σ_w N_wk: P(word | topic), Spot's column-normalised
	// topicsMatrix without η smoothing.
	Phi []float64

	DocTopic   []float64 // N_dk, the final expected counts (D×K)
	WordTopic  []float64 // N_wk (W×K)
	TopicTotal []float64 // N_k = Σ_w N_wk (K)
}

// Score is Spot's score of word w in document d: Σ_k θ_d[k]·φ_k(w), the
// model's P(w | d), summed from k = 0 upwards as Scala's sum did.
func (m *Model) Score(d, w int) float64 {
	return Dot(m.Theta[d*m.K:(d+1)*m.K], m.Phi[w*m.K:(w+1)*m.K])
}

// Dot is Σ a[k]·b[k] summed left to right from 0.0 (Spot's score function).
func Dot(a, b []float64) float64 {
	b = b[:len(a)]
	s := 0.0
	for k, x := range a {
		s += x * b[k]
	}
	return s
}

// RoundThetaFloat32 rounds every θ value through float32, reproducing Spot's
// --precision 32 (topic mixtures stored as Float, widened for the score).
func (m *Model) RoundThetaFloat32() {
	for i, x := range m.Theta {
		m.Theta[i] = float64(float32(x))
	}
}

// Perplexity is exp(−Σ n·log P(w|d) / Σ n) over the corpus cells, with
// P(w|d) = Score(d, w). Lower is better; +Inf if some cell has probability 0.
func (m *Model) Perplexity(c *Corpus) float64 {
	ll, tok := 0.0, 0.0
	for d := 0; d < c.NumDocs(); d++ {
		for i := c.DocStart[d]; i < c.DocStart[d+1]; i++ {
			ll += c.Count[i] * math.Log(m.Score(d, int(c.Word[i])))
			tok += c.Count[i]
		}
	}
	if tok == 0 {
		return math.NaN()
	}
	return math.Exp(-ll / tok)
}

// Fit runs the EM optimizer on c. It checks ctx between iterations.
//
// Initialisation: every non-zero cell (d, w) draws K uniforms from a
// counter-based generator keyed by (Seed, d, w), normalises them to γ,
// and adds count·γ to N_d· and N_w·. Each iteration then, for every cell
// (d, w, n) at once, from the previous iteration's counts:
//
//	γ_k ∝ (N_wk + η − 1)·(N_dk + α − 1) / (N_k + W·(η − 1))
//	new N_dk = Σ_w n·γ_k,  new N_wk = Σ_d n·γ_k,  N_k = Σ_w N_wk
//
// Cost per iteration is O(non-zeros × K). Results are bit-identical for any
// Workers and GOMAXPROCS.
func Fit(ctx context.Context, c *Corpus, opt Options) (*Model, error) {
	o := opt.withDefaults()
	if o.Topics < 1 || o.Topics > 1<<16 {
		return nil, fmt.Errorf("%w: %d topics", ErrOptions, o.Topics)
	}
	if !(o.Alpha > 1) || math.IsInf(o.Alpha, 0) || !(o.Eta > 1) || math.IsInf(o.Eta, 0) {
		// Spark's EM optimizer has the same constraint: with α or η ≤ 1 the
		// MAP update can produce negative weights.
		return nil, fmt.Errorf("%w: EM needs alpha > 1 and eta > 1 (got %v, %v)", ErrOptions, o.Alpha, o.Eta)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	e := newEngine(c, o)
	e.step(true)
	for it := 0; it < o.Iterations; it++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e.step(false)
	}
	return e.model(), nil
}

// engine holds the EM state. Documents are cut into blocks of about
// BlockSize cells; each block owns its documents' N_d· rows and computes a
// partial N_w· for the words it touches. Blocks are handed out in order and
// their partials are added into N_w· strictly in block order (a block waits
// for its predecessor's commit), so every sum has one fixed order while only
// one partial buffer per worker exists.
//
// Topic vectors are stored with a stride of K rounded up to a multiple of 4
// (zero padding), so the per-cell kernels work on 4-wide lanes; the lanes
// fix the summation order of Σ_k γ_k (four partial sums), which the AVX2
// and the portable kernels share exactly.
type engine struct {
	c       *Corpus
	k, s    int // topics and row stride
	o       Options
	blocks  []block
	wmDoc   []int32     // cells of each block in word-major order: document − block's first document
	wmCount []float64   // … and their counts
	maxRows int         // most distinct words in one block
	scratch [][]float64 // per worker: γ (one row) and a partial buffer (maxRows rows), reused across iterations
	ndk     []float64   // N_dk of the previous iteration
	ndkNew  []float64
	nwk     []float64 // N_wk of the previous iteration
	nwkNew  []float64
	nk      []float64 // N_k of the previous iteration
	inv     []float64 // 1 / (N_k + W(η−1))
	wf      []float64 // word factor (N_wk + η − 1)·inv[k] of the previous iteration
}

type block struct {
	doc0, doc1 int     // documents [doc0, doc1)
	words      []int32 // sorted distinct words of the block's cells
	wordStart  []int32 // word-major cells of words[j] are wm*[lo+wordStart[j] : lo+wordStart[j+1]]
}

// maxBlockDocs caps the documents of a block so that their two N_d· row
// sets (read and written per cell, in word-major order) stay cache-resident.
const maxBlockDocs = 512

// wordChunk is the number of vocabulary rows one word-factor task handles.
const wordChunk = 2048

func newEngine(c *Corpus, o Options) *engine {
	k := o.Topics
	st := (k + 3) &^ 3
	D, W := c.NumDocs(), c.NumWords
	e := &engine{c: c, k: k, s: st, o: o,
		ndk: make([]float64, D*st), ndkNew: make([]float64, D*st),
		nwk: make([]float64, W*st), nwkNew: make([]float64, W*st), wf: make([]float64, W*st),
		nk: make([]float64, st), inv: make([]float64, st),
		wmDoc: make([]int32, c.NNZ()), wmCount: make([]float64, c.NNZ()),
	}
	for d := 0; d < D; {
		b := block{doc0: d}
		start := c.DocStart[d]
		for d < D && (d == b.doc0 || c.DocStart[d+1]-start <= o.BlockSize && d-b.doc0 < maxBlockDocs) {
			d++
		}
		b.doc1 = d
		e.blocks = append(e.blocks, b)
	}
	// Per block: its distinct words and its cells in word-major order
	// (a counting sort on the word; documents stay ascending within a word).
	parallel(len(e.blocks), o.Workers, func() func(int) {
		mark := make([]int32, W)
		for i := range mark {
			mark[i] = -1
		}
		return func(bi int) {
			b := &e.blocks[bi]
			lo, hi := c.DocStart[b.doc0], c.DocStart[b.doc1]
			var words []int32
			for _, w := range c.Word[lo:hi] {
				if mark[w] < 0 {
					mark[w] = 0
					words = append(words, w)
				}
			}
			slices.Sort(words)
			for j, w := range words {
				mark[w] = int32(j)
			}
			ws := make([]int32, len(words)+1)
			for _, w := range c.Word[lo:hi] {
				ws[mark[w]+1]++
			}
			for j := range words {
				ws[j+1] += ws[j]
			}
			fill := slices.Clone(ws[:len(words)])
			for d := b.doc0; d < b.doc1; d++ {
				for i := c.DocStart[d]; i < c.DocStart[d+1]; i++ {
					l := mark[c.Word[i]]
					p := lo + int(fill[l])
					fill[l]++
					e.wmDoc[p] = int32(d - b.doc0)
					e.wmCount[p] = c.Count[i]
				}
			}
			for _, w := range words {
				mark[w] = -1
			}
			b.words, b.wordStart = words, ws
		}
	})
	for i := range e.blocks {
		e.maxRows = max(e.maxRows, len(e.blocks[i].words))
	}
	return e
}

// step runs one synchronous update (or the random initialisation) and
// leaves the new counts in ndk, nwk and nk.
func (e *engine) step(init bool) {
	c, k, st := e.c, e.k, e.s
	a1 := e.o.Alpha - 1
	if !init {
		// The word factor (N_wk + η − 1)/(N_k + W(η − 1)) depends only on the
		// previous iteration: compute it once per word instead of per cell.
		// Padding lanes stay 0, so they contribute nothing anywhere.
		wEta := float64(c.NumWords) * (e.o.Eta - 1)
		for t := 0; t < k; t++ {
			e.inv[t] = 1 / (e.nk[t] + wEta)
		}
		e1, inv := e.o.Eta-1, e.inv
		parallel((c.NumWords+wordChunk-1)/wordChunk, e.o.Workers, func() func(int) {
			return func(ci int) {
				for w := ci * wordChunk; w < min((ci+1)*wordChunk, c.NumWords); w++ {
					src, dst := e.nwk[w*st:][:k], e.wf[w*st:][:k]
					for t, v := range src {
						dst[t] = (v + e1) * inv[t]
					}
				}
			}
		})
	}
	clear(e.nwkNew)
	var (
		next      atomic.Int64
		mu        sync.Mutex
		turn      = sync.NewCond(&mu)
		committed int
		wg        sync.WaitGroup
	)
	workers := max(1, min(e.o.Workers, len(e.blocks)))
	for len(e.scratch) < workers {
		e.scratch = append(e.scratch, make([]float64, (1+e.maxRows)*st))
	}
	for wi := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g, part := e.scratch[wi][:st], e.scratch[wi][st:]
			for {
				bi := int(next.Add(1) - 1)
				if bi >= len(e.blocks) {
					return
				}
				b := &e.blocks[bi]
				e.runBlock(b, init, g, part, a1)
				// Commit in block order: wait for the predecessor.
				mu.Lock()
				for committed != bi {
					turn.Wait()
				}
				mu.Unlock()
				for j, w := range b.words {
					dst, src := e.nwkNew[int(w)*st:][:k], part[j*st:][:k]
					for t, v := range src {
						dst[t] += v
					}
				}
				mu.Lock()
				committed++
				turn.Broadcast()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	clear(e.nk)
	for w := 0; w < c.NumWords; w++ {
		for t, v := range e.nwkNew[w*st:][:k] {
			e.nk[t] += v
		}
	}
	e.ndk, e.ndkNew = e.ndkNew, e.ndk
	e.nwk, e.nwkNew = e.nwkNew, e.nwk
}

// runBlock computes one block: its documents' new N_d· rows (written in
// place) and its partial N_w· rows (into part, row j for b.words[j]).
//
// Word-major: a word's factor row and partial row stay in L1 while its
// cells stream by, and the block's few document rows stay in L2. Each
// document's sum still runs in ascending word order and each word's in
// ascending document order.
func (e *engine) runBlock(b *block, init bool, g, part []float64, a1 float64) {
	c, k, st := e.c, e.k, e.s
	clear(e.ndkNew[b.doc0*st : b.doc1*st])
	lo := c.DocStart[b.doc0]
	ndk, ndkNew := e.ndk[b.doc0*st:b.doc1*st], e.ndkNew[b.doc0*st:b.doc1*st]
	for j, w := range b.words {
		wf := e.wf[int(w)*st:][:st]
		row := part[j*st:][:st]
		clear(row)
		for p := lo + int(b.wordStart[j]); p < lo+int(b.wordStart[j+1]); p++ {
			dr := int(e.wmDoc[p]) * st
			var sum float64
			if init {
				sum = initGamma(e.o.Seed, b.doc0+int(e.wmDoc[p]), int(w), g[:k])
			} else {
				sum = gammaRow(g, wf, ndk[dr:dr+st], a1)
			}
			scaleInto(ndkNew[dr:dr+st], row, g, e.wmCount[p]/sum)
		}
	}
}

func (e *engine) model() *Model {
	c, k, st := e.c, e.k, e.s
	D, W := c.NumDocs(), c.NumWords
	m := &Model{K: k, NumDocs: D, NumWords: W,
		Theta: make([]float64, D*k), Phi: make([]float64, W*k),
		DocTopic: make([]float64, D*k), WordTopic: make([]float64, W*k), TopicTotal: slices.Clone(e.nk[:k])}
	for d := 0; d < D; d++ {
		row := e.ndk[d*st:][:k]
		copy(m.DocTopic[d*k:], row)
		s := 0.0
		for _, v := range row {
			s += v
		}
		if s > 0 {
			for t, v := range row {
				m.Theta[d*k+t] = v / s
			}
		}
	}
	for w := 0; w < W; w++ {
		row := e.nwk[w*st:][:k]
		copy(m.WordTopic[w*k:], row)
		for t, v := range row {
			if e.nk[t] > 0 {
				m.Phi[w*k+t] = v / e.nk[t]
			}
		}
	}
	return m
}

// initGamma fills g with K uniforms in [0, 1) for the cell (doc, word) and
// returns their sum. The generator is SplitMix64 keyed by (seed, doc, word),
// so a cell's draw depends only on the seed and the sorted document and word
// order, never on which goroutine or block handles it.
func initGamma(seed uint64, doc, word int, g []float64) float64 {
	const golden = 0x9e3779b97f4a7c15
	s := mix64(seed ^ mix64((uint64(doc)<<32|uint64(uint32(word)))+golden))
	sum := 0.0
	for t := range g {
		s += golden
		u := float64(mix64(s)>>11) * 0x1p-53
		g[t] = u
		sum += u
	}
	if sum == 0 { // all K draws exactly 0: practically impossible, but stay finite
		for t := range g {
			g[t] = 1
		}
		sum = float64(len(g))
	}
	return sum
}

func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// parallel runs task(i) for i in [0, n) on up to workers goroutines. Each
// goroutine calls newWorker once to get its task function (with private
// scratch space). Which goroutine runs which i never affects results.
func parallel(n, workers int, newWorker func() func(int)) {
	if n == 0 {
		return
	}
	workers = min(workers, n)
	if workers <= 1 {
		task := newWorker()
		for i := 0; i < n; i++ {
			task(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			task := newWorker()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				task(i)
			}
		}()
	}
	wg.Wait()
}
