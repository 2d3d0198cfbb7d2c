// Package flows is `spotctl flows`: the flow records of a case, in time order.
package flows

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/spf13/cobra"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmdutil"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/iostreams"
	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/detect/filter"
	"github.com/spotctl/spotctl/flowstore"
	"github.com/spotctl/spotctl/report"
)

// Options are the parsed flags of `spotctl flows`.
type Options struct {
	IO     *iostreams.IOStreams
	Case   string
	Limit  int
	Window cmdutil.TimeRange
	Output cmdutil.OutputFlags
	Filter cmdutil.FilterFlags
	flt    *filter.Filter
}

// NewCmd builds `spotctl flows`.
func NewCmd(ios *iostreams.IOStreams, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "flows CASE [FILTER]",
		Short: "List the flows of a case",
		Long: `List the flow records of a case in time order (first packet, then the order
they were ingested in).

--since and --until select flows that were active in [since, until): a flow
that started before --since but was still running is included.

FILTER is an nfdump-style expression (docs/filter.md), e.g.
'src net 10.0.0.0/8 and dst port 443 and bytes > 1M'; all arguments after CASE
are joined into it, or -f FILE reads it. --check only checks its syntax.`,
		Example: `  spotctl flows case1 --limit 20
  spotctl flows case1 --since 2026-03-02T09:00:00Z --until 2026-03-02T10:00:00Z --format csv
  spotctl flows case1 'proto udp and dst port 53 and not dst net 10.0.0.0/8'
  spotctl flows case1 --fields src_ip,dst_ip,dst_port,bytes | jq -s 'max_by(.bytes)'`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			casePath, flt, checked, err := opts.Filter.CaseAndFilter(opts.IO.Out, "flows", args, filter.Flow)
			if err != nil || checked {
				return err
			}
			opts.Case, opts.flt = casePath, flt
			if opts.Limit < 0 {
				return cmdutil.FlagErrorf("--limit must not be negative")
			}
			if err := opts.Window.Parse(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.IntVarP(&opts.Limit, "limit", "n", 0, "print at most N flows (0: all)")
	f.StringVar(&opts.Window.SinceFlag, "since", "", "only flows active at or after this time (RFC 3339 or date, UTC)")
	f.StringVar(&opts.Window.UntilFlag, "until", "", "only flows active before this time")
	opts.Output.AddFlags(f)
	opts.Filter.AddFlags(f)
	return cmd
}

// Run prints the flows.
func Run(ctx context.Context, opts *Options) error {
	w, _, err := opts.Output.NewRowWriter(opts.IO, report.FlowColumns)
	if err != nil {
		return err
	}
	c, err := cmdutil.OpenCase(opts.Case)
	if err != nil {
		return err
	}
	defer c.Close()
	tables, order, err := TimeOrder(c)
	if err != nil {
		return err
	}
	row := make([]report.Value, len(report.FlowColumns))
	var r flow.Record
	n := 0
	for _, ref := range order {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := tables[ref.Seg].FlowAt(int(ref.Row), &r); err != nil {
			return err
		}
		if !opts.Window.Overlaps(r.First, r.Last) || (opts.flt != nil && !opts.flt.MatchFlow(&r)) {
			continue
		}
		report.FlowRow(&r, row)
		if err := w.WriteRow(row); err != nil {
			return err
		}
		n++
		if opts.Limit > 0 && n >= opts.Limit {
			break
		}
	}
	return w.Flush()
}

// RowRef names one row of one segment's flows table, with the flow's
// first-packet time.
type RowRef struct {
	First int64
	Seg   int32
	Row   int32
}

// TimeOrder returns the flows tables of the case's segments and every flow
// ordered by first packet time, ties broken by segment and row (ingest
// order), so the order is total and deterministic. When the flows already
// are in that order it costs one linear pass and no sort.
//
// Every column FlowAt reads is checked (CRC32C) before TimeOrder returns:
// a caller that streams rows in this order would otherwise print the rows
// of sound segments and only then meet a corrupt column of a later one.
func TimeOrder(c *flowstore.Case) ([]*flowstore.Table, []RowRef, error) {
	var refs []RowRef
	var tables []*flowstore.Table
	sorted := true
	last := int64(math.MinInt64)
	var probe flow.Record
	for si, s := range c.Segments() {
		t, err := s.Flows()
		if err != nil {
			return nil, nil, err
		}
		if t.Rows() > 0 {
			if err := t.FlowAt(0, &probe); err != nil {
				return nil, nil, err
			}
		}
		if t.Rows() > math.MaxInt32 {
			return nil, nil, fmt.Errorf("segment %d: %d flows is more than this command can order", s.Number, t.Rows())
		}
		tables = append(tables, t)
		first, err := t.Int64(flowstore.ColFirst)
		if err != nil {
			return nil, nil, err
		}
		for i, f := range first {
			if f < last {
				sorted = false
			}
			last = f
			refs = append(refs, RowRef{f, int32(si), int32(i)})
		}
	}
	if !sorted {
		slices.SortFunc(refs, func(a, b RowRef) int {
			if c := cmp.Compare(a.First, b.First); c != 0 {
				return c
			}
			if c := cmp.Compare(a.Seg, b.Seg); c != 0 {
				return c
			}
			return cmp.Compare(a.Row, b.Row)
		})
	}
	return tables, refs, nil
}
