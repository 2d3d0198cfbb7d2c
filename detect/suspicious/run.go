package suspicious

import (
	"context"
	"fmt"
	"time"

	"github.com/spotctl/spotctl/detect/lda"
)

// FlowOptions are the parameters of a flow analysis (Spot's flow run).
type FlowOptions struct {
	Loc          *time.Location // hour zone of the words; nil means UTC
	LDA          lda.Options    // zero fields take Spot's defaults (K 20, 20 iterations, α 1.02, η 1.001)
	Float32Theta bool           // Spot's --precision 32: θ rounded through float32 before scoring
	Threshold    float64        // keep −1 < score ≤ Threshold; 0 means DefaultThreshold
	MaxResults   int            // at most this many selected flows; ≤ 0 means all
	Workers      int            // goroutines; ≤ 0 means GOMAXPROCS. Never changes results.
}

// FlowResult is the outcome of RunFlows.
type FlowResult struct {
	Corpus   *FlowCorpus
	Model    *lda.Model
	Scores   []float64 // per flow
	Selected []int     // indices of the reported flows, best (lowest score) first
}

// RunFlows is Spot's flow pipeline: words → per-IP corpus → LDA → score
// every flow → select.
func RunFlows(ctx context.Context, fl Flows, o FlowOptions) (*FlowResult, error) {
	fc, err := BuildFlowCorpus(ctx, fl, o.Loc, o.Workers)
	if err != nil {
		return nil, fmt.Errorf("flow corpus: %w", err)
	}
	m, err := fit(ctx, fc.Corpus, o.LDA, o.Workers, o.Float32Theta)
	if err != nil {
		return nil, err
	}
	r := &FlowResult{Corpus: fc, Model: m, Scores: ScoreFlows(fc, m, o.Workers)}
	r.Selected = SelectFlows(fl, r.Scores, threshold(o.Threshold), o.MaxResults)
	return r, nil
}

// DNSRunOptions are the parameters of a DNS analysis.
type DNSRunOptions struct {
	DNSOptions
	LDA          lda.Options
	Float32Theta bool
	Threshold    float64 // 0 means DefaultThreshold
	MaxResults   int
}

// DNSResult is the outcome of RunDNS.
type DNSResult struct {
	Corpus   *DNSCorpus
	Model    *lda.Model
	Scores   []float64
	Selected []int
}

// RunDNS is Spot's DNS pipeline on events (see SpotEvents).
func RunDNS(ctx context.Context, ev DNSEvents, o DNSRunOptions) (*DNSResult, error) {
	dc, err := BuildDNSCorpus(ctx, ev, o.DNSOptions)
	if err != nil {
		return nil, fmt.Errorf("dns corpus: %w", err)
	}
	m, err := fit(ctx, dc.Corpus, o.LDA, o.Workers, o.Float32Theta)
	if err != nil {
		return nil, err
	}
	r := &DNSResult{Corpus: dc, Model: m, Scores: ScoreDNS(dc, m, o.Workers)}
	r.Selected = SelectDNS(ev, r.Scores, threshold(o.Threshold), o.MaxResults)
	return r, nil
}

func fit(ctx context.Context, c *lda.Corpus, o lda.Options, workers int, f32 bool) (*lda.Model, error) {
	if o.Workers == 0 {
		o.Workers = workers
	}
	m, err := lda.Fit(ctx, c, o)
	if err != nil {
		return nil, fmt.Errorf("lda: %w", err)
	}
	if f32 {
		m.RoundThetaFloat32()
	}
	return m, nil
}

func threshold(t float64) float64 {
	if t == 0 {
		return DefaultThreshold
	}
	return t
}
