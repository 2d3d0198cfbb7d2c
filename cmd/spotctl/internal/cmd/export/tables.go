package export

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmd/flows"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmd/score"
	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/detect/filter"
	"github.com/spotctl/spotctl/detect/suspicious"
	"github.com/spotctl/spotctl/flowstore"
	"github.com/spotctl/spotctl/report"
)

// columnsOf is a table's columns: those spotctl flows, dns and score print.
func columnsOf(table string) []report.Column {
	switch table {
	case TableFlows:
		return report.FlowColumns
	case TableDNS:
		return report.DNSColumns
	case TableFlowScores:
		return score.FlowColumns
	}
	return score.DNSColumns
}

// ctxEvery is how many rows pass between two looks at the context.
const ctxEvery = 4096

// exportFlows writes the flows in the order spotctl flows prints them.
func exportFlows(ctx context.Context, c *flowstore.Case, o *Options, tw *tableWriter) error {
	tables, order, err := flows.TimeOrder(c)
	if err != nil {
		return err
	}
	flt := o.filters[TableFlows]
	row := make([]report.Value, len(tw.cols))
	var r flow.Record
	for k, ref := range order {
		if k%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := tables[ref.Seg].FlowAt(int(ref.Row), &r); err != nil {
			return err
		}
		if !o.Window.Overlaps(r.First, r.Last) || (flt != nil && !flt.MatchFlow(&r)) {
			continue
		}
		report.FlowRow(&r, row)
		if err := tw.write(r.First, row); err != nil {
			return err
		}
	}
	return nil
}

// dnsRef is one DNS message of the case.
type dnsRef struct {
	ts  int64
	t   *flowstore.Table
	row int
}

// dnsOrder lists the DNS messages whose time keep accepts in spotctl dns's
// order: by time, ties in segment and row order (ingest order).
func dnsOrder(c *flowstore.Case, keep func(ts int64) bool) ([]dnsRef, error) {
	var refs []dnsRef
	for _, s := range c.Segments() {
		t, err := s.DNS()
		if err != nil {
			return nil, err
		}
		ts, err := t.Int64(flowstore.ColTS)
		if err != nil {
			return nil, err
		}
		for i, v := range ts {
			if keep(v) {
				refs = append(refs, dnsRef{v, t, i})
			}
		}
	}
	// Stable: equal times keep segment and row order. Already sorted
	// (the usual case) costs one pass.
	slices.SortStableFunc(refs, func(a, b dnsRef) int { return cmp.Compare(a.ts, b.ts) })
	return refs, nil
}

// exportDNS writes the DNS messages in the order spotctl dns prints them.
func exportDNS(ctx context.Context, c *flowstore.Case, o *Options, tw *tableWriter) error {
	refs, err := dnsOrder(c, o.Window.Contains)
	if err != nil {
		return err
	}
	flt := o.filters[TableDNS]
	row := make([]report.Value, len(tw.cols))
	var m flow.DNSMessage
	for k, ref := range refs {
		if k%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		m.Answers = m.Answers[:0]
		if err := ref.t.DNSAt(ref.row, &m); err != nil {
			return err
		}
		if flt != nil && !flt.MatchDNS(&m) {
			continue
		}
		report.DNSRow(&m, row)
		if err := tw.write(m.TS, row); err != nil {
			return err
		}
	}
	return nil
}

// scoreOptions are the score flags with every scored row kept: the
// threshold is spotctl score's default (1), above every probability.
func scoreOptions(o *Options) *score.Options {
	so := o.Score
	so.Threshold = 1
	return &so
}

// ranks maps a result index to its 1-based rank (0: not scored).
func ranks(n int, selected []int) []uint64 {
	r := make([]uint64, n)
	for pos, i := range selected {
		r[i] = uint64(pos + 1)
	}
	return r
}

// exportFlowScores scores the flows as spotctl score flows does and writes
// every scored flow, in time order, with its rank and words.
func exportFlowScores(ctx context.Context, c *flowstore.Case, o *Options, tw *tableWriter) error {
	cf, err := score.LoadFlows(c)
	if err != nil {
		return err
	}
	if cf.Cols.Len() == 0 {
		return nil
	}
	so := scoreOptions(o)
	res, err := suspicious.RunFlows(ctx, &cf.Cols, so.FlowRunOptions(0))
	if err != nil {
		return err
	}
	rank := ranks(len(res.Scores), res.Selected)
	tables, order, err := flows.TimeOrder(c)
	if err != nil {
		return err
	}
	// Global flow index of each segment's first row, in LoadFlows' order.
	starts := make([]int, len(tables))
	for k := 1; k < len(tables); k++ {
		starts[k] = starts[k-1] + tables[k-1].Rows()
	}
	flt := o.filters[TableFlowScores]
	fc := res.Corpus
	row := make([]report.Value, len(tw.cols))
	nf := len(report.FlowColumns)
	var r flow.Record
	for k, ref := range order {
		if k%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		i := starts[ref.Seg] + int(ref.Row)
		if i >= len(rank) {
			return fmt.Errorf("internal error: flow %d of %d scored", i, len(rank))
		}
		if rank[i] == 0 {
			continue
		}
		if err := tables[ref.Seg].FlowAt(int(ref.Row), &r); err != nil {
			return err
		}
		if !o.Window.Overlaps(r.First, r.Last) ||
			(flt != nil && !flt.MatchFlowResult(&r, filter.Result{Score: res.Scores[i], Kind: "flow"})) {
			continue
		}
		row[0] = report.Value{U: rank[i]}
		row[1] = report.Value{F: res.Scores[i]}
		report.FlowRow(&r, row[2:2+nf])
		row[2+nf] = report.Value{S: fc.Words[fc.SrcWord[i]].String()}
		row[3+nf] = report.Value{S: fc.Words[fc.DstWord[i]].String()}
		if err := tw.write(r.First, row); err != nil {
			return err
		}
	}
	return nil
}

// exportDNSScores scores the DNS responses as spotctl score dns does and
// writes every scored response, in time order, with its rank and word.
func exportDNSScores(ctx context.Context, c *flowstore.Case, o *Options, tw *tableWriter) error {
	so := scoreOptions(o)
	popular, err := so.LoadPopular()
	if err != nil {
		return err
	}
	evs, refs, err := score.LoadDNS(c)
	if err != nil {
		return err
	}
	if len(evs) == 0 {
		return nil
	}
	res, err := suspicious.RunDNS(ctx, evs, so.DNSRunOptions(popular, 0))
	if err != nil {
		return err
	}
	rank := ranks(len(res.Scores), res.Selected)
	// Events come in segment and row order; a stable sort by time gives
	// spotctl dns's order.
	idx := make([]int, 0, len(res.Selected))
	for i := range evs {
		if rank[i] != 0 && o.Window.Contains(evs[i].Time) {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(evs[a].Time, evs[b].Time) })
	flt := o.filters[TableDNSScores]
	row := make([]report.Value, len(tw.cols))
	nd := len(report.DNSColumns)
	var m flow.DNSMessage
	for k, i := range idx {
		if k%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		m.Answers = m.Answers[:0]
		if err := refs[i].T.DNSAt(refs[i].Row, &m); err != nil {
			return err
		}
		if flt != nil && !flt.MatchDNSResult(&m, filter.Result{Score: res.Scores[i], Kind: "dns"}) {
			continue
		}
		row[0] = report.Value{U: rank[i]}
		row[1] = report.Value{F: res.Scores[i]}
		report.DNSRow(&m, row[2:2+nd])
		row[2+nd] = report.Value{S: res.Corpus.Words[res.Corpus.Word[i]].String()}
		if err := tw.write(m.TS, row); err != nil {
			return err
		}
	}
	return nil
}
