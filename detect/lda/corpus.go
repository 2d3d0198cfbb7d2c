// Package lda fits the latent Dirichlet allocation model Apache Spot ran:
// Spark MLlib's EM optimizer (MAP-EM of Asuncion et al., spot-method.md
// §2.5), on a sparse document × word count matrix. It is pure math: no I/O.
//
// Unlike Spark, the result is reproducible: initialisation depends only on
// the seed and the order of the non-zero cells (sorted by document, then
// word), and the parallel sums are taken in a fixed order, so θ and φ are
// bit-identical for any number of workers or GOMAXPROCS.
package lda

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Corpus is a sparse document × word count matrix in compressed-row form.
// The cells of document d are Word[DocStart[d]:DocStart[d+1]] with counts
// Count[…]; within a document words are strictly ascending.
type Corpus struct {
	NumWords int       // vocabulary size W; word ids are 0..W-1
	DocStart []int     // len = documents+1, DocStart[0] = 0, non-decreasing
	Word     []int32   // word id of each non-zero cell
	Count    []float64 // count of each cell, finite and > 0
}

// NumDocs is the number of documents D.
func (c *Corpus) NumDocs() int {
	if len(c.DocStart) == 0 {
		return 0
	}
	return len(c.DocStart) - 1
}

// NNZ is the number of non-zero cells.
func (c *Corpus) NNZ() int { return len(c.Word) }

// Tokens is the total count over all cells.
func (c *Corpus) Tokens() float64 {
	t := 0.0
	for _, n := range c.Count {
		t += n
	}
	return t
}

// ErrBadCorpus marks a structurally invalid corpus.
var ErrBadCorpus = errors.New("invalid corpus")

// Validate checks the structure: DocStart shape, word ids in range and
// strictly ascending within each document, counts finite and positive.
func (c *Corpus) Validate() error {
	if c.NumWords < 0 || c.NumWords > math.MaxInt32 {
		return fmt.Errorf("%w: vocabulary size %d", ErrBadCorpus, c.NumWords)
	}
	if len(c.Word) != len(c.Count) {
		return fmt.Errorf("%w: %d word ids but %d counts", ErrBadCorpus, len(c.Word), len(c.Count))
	}
	if len(c.DocStart) == 0 {
		if len(c.Word) != 0 {
			return fmt.Errorf("%w: %d cells but no documents", ErrBadCorpus, len(c.Word))
		}
		return nil
	}
	if c.DocStart[0] != 0 || c.DocStart[len(c.DocStart)-1] != len(c.Word) {
		return fmt.Errorf("%w: DocStart runs %d..%d, want 0..%d", ErrBadCorpus, c.DocStart[0], c.DocStart[len(c.DocStart)-1], len(c.Word))
	}
	for d := 0; d+1 < len(c.DocStart); d++ {
		lo, hi := c.DocStart[d], c.DocStart[d+1]
		if hi < lo {
			return fmt.Errorf("%w: document %d ends (%d) before it starts (%d)", ErrBadCorpus, d, hi, lo)
		}
		for i := lo; i < hi; i++ {
			w := c.Word[i]
			if w < 0 || int(w) >= c.NumWords {
				return fmt.Errorf("%w: document %d cell %d: word %d outside 0..%d", ErrBadCorpus, d, i, w, c.NumWords-1)
			}
			if i > lo && w <= c.Word[i-1] {
				return fmt.Errorf("%w: document %d cell %d: word %d not above %d", ErrBadCorpus, d, i, w, c.Word[i-1])
			}
			if n := c.Count[i]; !(n > 0) || math.IsInf(n, 1) {
				return fmt.Errorf("%w: document %d cell %d: count %v", ErrBadCorpus, d, i, n)
			}
		}
	}
	return nil
}

// Triple is one (document, word, count) observation.
type Triple struct {
	Doc, Word int32
	Count     float64
}

// FromTriples builds a corpus of numDocs documents over numWords words from
// observations in any order; repeated (document, word) pairs are summed in
// input order. Documents without observations are allowed (empty rows).
func FromTriples(numDocs, numWords int, t []Triple) (*Corpus, error) {
	if numDocs < 0 || numWords < 0 || numWords > math.MaxInt32 {
		return nil, fmt.Errorf("%w: %d documents, %d words", ErrBadCorpus, numDocs, numWords)
	}
	s := slices.Clone(t)
	for i, x := range s {
		if x.Doc < 0 || int(x.Doc) >= numDocs || x.Word < 0 || int(x.Word) >= numWords {
			return nil, fmt.Errorf("%w: triple %d (%d, %d) outside %d×%d", ErrBadCorpus, i, x.Doc, x.Word, numDocs, numWords)
		}
	}
	slices.SortStableFunc(s, func(a, b Triple) int {
		if a.Doc != b.Doc {
			return int(a.Doc) - int(b.Doc)
		}
		return int(a.Word) - int(b.Word)
	})
	c := &Corpus{NumWords: numWords, DocStart: make([]int, numDocs+1)}
	for i := 0; i < len(s); {
		j := i
		n := 0.0
		for ; j < len(s) && s[j].Doc == s[i].Doc && s[j].Word == s[i].Word; j++ {
			n += s[j].Count
		}
		c.Word = append(c.Word, s[i].Word)
		c.Count = append(c.Count, n)
		c.DocStart[s[i].Doc+1]++
		i = j
	}
	for d := 0; d < numDocs; d++ {
		c.DocStart[d+1] += c.DocStart[d]
	}
	return c, c.Validate()
}
