// Package dns is `spotctl dns`: the DNS messages of a case, in time order.
package dns

import (
	"context"
	"slices"

	"github.com/spf13/cobra"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmdutil"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/iostreams"
	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/detect/filter"
	"github.com/spotctl/spotctl/flowstore"
	"github.com/spotctl/spotctl/report"
)

// Options are the parsed flags of `spotctl dns`.
type Options struct {
	IO     *iostreams.IOStreams
	Case   string
	Limit  int
	Window cmdutil.TimeRange
	Output cmdutil.OutputFlags
	Filter cmdutil.FilterFlags
	flt    *filter.Filter
}

// NewCmd builds `spotctl dns`.
func NewCmd(ios *iostreams.IOStreams, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "dns CASE [FILTER]",
		Short: "List the DNS queries and responses of a case",
		Long: `List every DNS message (queries and responses, UDP and TCP, port 53) of a case
in time order, with client, server, id, flags, rcode, question and answers.

Names and TXT data come from the evidence and may be hostile: on a terminal
control characters are shown escaped; JSON is always valid UTF-8.

FILTER selects messages (docs/filter.md), e.g. 'response and rcode NXDOMAIN'
or 'qname suffix example.com and client net 10.0.0.0/8'; -f FILE reads it,
--check only checks its syntax.`,
		Example: `  spotctl dns case1 --limit 20
  spotctl dns case1 --fields ts,client_ip,qname,rcode --format tsv
  spotctl dns case1 | jq -r 'select(.response and .rcode == 3) | .qname' | sort | uniq -c`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			casePath, flt, checked, err := opts.Filter.CaseAndFilter(opts.IO.Out, "dns", args, filter.DNS)
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
	f.IntVarP(&opts.Limit, "limit", "n", 0, "print at most N messages (0: all)")
	f.StringVar(&opts.Window.SinceFlag, "since", "", "only messages at or after this time (RFC 3339 or date, UTC)")
	f.StringVar(&opts.Window.UntilFlag, "until", "", "only messages before this time")
	opts.Output.AddFlags(f)
	opts.Filter.AddFlags(f)
	return cmd
}

// Run prints the messages.
func Run(ctx context.Context, opts *Options) error {
	w, _, err := opts.Output.NewRowWriter(opts.IO, report.DNSColumns)
	if err != nil {
		return err
	}
	c, err := cmdutil.OpenCase(opts.Case)
	if err != nil {
		return err
	}
	defer c.Close()
	type ref struct {
		ts  int64
		t   *flowstore.Table
		row int
	}
	var refs []ref
	sorted := true
	last := int64(-1 << 63)
	var probe flow.DNSMessage
	for _, s := range c.Segments() {
		t, err := s.DNS()
		if err != nil {
			return err
		}
		// Check every column DNSAt reads now, before any row is printed:
		// a corrupt column of a later segment must not surface after the
		// rows of the sound ones went out.
		if t.Rows() > 0 {
			if err := t.DNSAt(0, &probe); err != nil {
				return err
			}
		}
		ts, err := t.Int64("ts")
		if err != nil {
			return err
		}
		for i, v := range ts {
			if v < last {
				sorted = false
			}
			last = v
			if opts.Window.Contains(v) {
				refs = append(refs, ref{v, t, i})
			}
		}
	}
	if !sorted {
		// Stable: equal times keep segment and row order.
		slices.SortStableFunc(refs, func(a, b ref) int {
			switch {
			case a.ts < b.ts:
				return -1
			case a.ts > b.ts:
				return 1
			}
			return 0
		})
	}
	row := make([]report.Value, len(report.DNSColumns))
	var m flow.DNSMessage
	n := 0
	for _, r := range refs {
		if opts.Limit > 0 && n >= opts.Limit {
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		m.Answers = m.Answers[:0]
		if err := r.t.DNSAt(r.row, &m); err != nil {
			return err
		}
		if opts.flt != nil && !opts.flt.MatchDNS(&m) {
			continue
		}
		n++
		report.DNSRow(&m, row)
		if err := w.WriteRow(row); err != nil {
			return err
		}
	}
	return w.Flush()
}
