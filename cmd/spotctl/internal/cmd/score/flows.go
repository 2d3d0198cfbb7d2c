package score

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/spf13/cobra"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/iostreams"
	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/detect/filter"
	"github.com/spotctl/spotctl/detect/suspicious"
	"github.com/spotctl/spotctl/flowstore"
	"github.com/spotctl/spotctl/report"
)

func newFlowsCmd(ios *iostreams.IOStreams) *cobra.Command {
	o := &Options{IO: ios, filterKind: filter.Flow}
	cmd := &cobra.Command{
		Use:   "flows CASE|EVIDENCE... [FILTER]",
		Short: "Rank flows by how unusual they are for their two addresses",
		Long: `Score every flow of a case: each flow gives a word to its source address's
document and one to its destination's; the flow's score is the smaller of the
two word probabilities. Prints the lowest scores first, at most --top, among
those in (-1, --threshold].

Ties are broken by time, then source address, destination address, source
port, destination port and protocol, so the order is total.

Instead of a case, capture files may be given: they are ingested into a
temporary case first.

--format spot writes Spot's flow_results.csv layout (18 tab-separated
columns, no header) for tools that read Spot's output.`,
		Example: `  spotctl score flows case1
  spotctl score flows case1 --top 20 --seed 7 --format json
  spotctl score flows capture.pcap --threshold 1 --all --format spot > flow_results.csv`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.validate(args); err != nil {
				if errors.Is(err, errChecked) {
					return nil
				}
				return err
			}
			return runFlows(cmd.Context(), o)
		},
	}
	addCommonFlags(cmd.Flags(), o)
	return cmd
}

// FlowColumns are the fields of a flow result row.
var FlowColumns = append(append([]report.Column{
	{Name: "rank", Kind: report.Uint},
	{Name: "score", Kind: report.Float, Display: scoreDisplay},
}, report.FlowColumns...),
	report.Column{Name: "src_word", Kind: report.String},
	report.Column{Name: "dst_word", Kind: report.String},
)

// CaseFlows gathers the flow columns of every segment for the detector.
type CaseFlows struct {
	Cols   suspicious.Columns
	tables []*flowstore.Table
	starts []int // first global index of each table
}

// LoadFlows reads the flow columns of every segment of a case.
func LoadFlows(c *flowstore.Case) (*CaseFlows, error) {
	cf := &CaseFlows{}
	for _, s := range c.Segments() {
		t, err := s.Flows()
		if err != nil {
			return nil, err
		}
		cf.starts = append(cf.starts, len(cf.Cols.Time))
		cf.tables = append(cf.tables, t)
		first, err := t.Int64(flowstore.ColFirst)
		if err != nil {
			return nil, err
		}
		last, err := t.Int64(flowstore.ColLast)
		if err != nil {
			return nil, err
		}
		src, err := t.Addr(flowstore.ColSrcIP)
		if err != nil {
			return nil, err
		}
		dst, err := t.Addr(flowstore.ColDstIP)
		if err != nil {
			return nil, err
		}
		sp, err := t.Uint16(flowstore.ColSrcPort)
		if err != nil {
			return nil, err
		}
		dp, err := t.Uint16(flowstore.ColDstPort)
		if err != nil {
			return nil, err
		}
		proto, err := t.Uint8(flowstore.ColProto)
		if err != nil {
			return nil, err
		}
		pk, err := t.Uint64(flowstore.ColPackets)
		if err != nil {
			return nil, err
		}
		by, err := t.Uint64(flowstore.ColBytes)
		if err != nil {
			return nil, err
		}
		// Reverse counters exist only in segments from bidirectional
		// evidence; absent means zero (Spot's opkt/obyt output columns).
		opk, err := flowstore.Optional(t.Uint64(flowstore.ColOutPackets))
		if err != nil {
			return nil, err
		}
		oby, err := flowstore.Optional(t.Uint64(flowstore.ColOutBytes))
		if err != nil {
			return nil, err
		}
		// One segment: the mapped columns are used as they are.
		if len(c.Segments()) == 1 {
			cf.Cols = suspicious.Columns{Time: first, Src: src, Dst: dst, SrcPort: sp, DstPort: dp, Proto: proto, Packets: pk, Bytes: by,
				OutPackets: opk, OutBytes: oby}
		} else {
			cf.Cols.Time = append(cf.Cols.Time, first...)
			cf.Cols.Src = append(cf.Cols.Src, src...)
			cf.Cols.Dst = append(cf.Cols.Dst, dst...)
			cf.Cols.SrcPort = append(cf.Cols.SrcPort, sp...)
			cf.Cols.DstPort = append(cf.Cols.DstPort, dp...)
			cf.Cols.Proto = append(cf.Cols.Proto, proto...)
			cf.Cols.Packets = append(cf.Cols.Packets, pk...)
			cf.Cols.Bytes = append(cf.Cols.Bytes, by...)
			cf.Cols.OutPackets = appendOrZeros(cf.Cols.OutPackets, opk, len(first))
			cf.Cols.OutBytes = appendOrZeros(cf.Cols.OutBytes, oby, len(first))
		}
		for i := range first {
			cf.Cols.Duration = append(cf.Cols.Duration, last[i]-first[i])
		}
	}
	return cf, cf.Cols.Validate()
}

func appendOrZeros(dst, src []uint64, n int) []uint64 {
	if src == nil {
		return append(dst, make([]uint64, n)...)
	}
	return append(dst, src...)
}

// At returns the table and row of flow index i.
func (cf *CaseFlows) At(i int) (*flowstore.Table, int) {
	k := sort.Search(len(cf.starts), func(k int) bool { return cf.starts[k] > i }) - 1
	return cf.tables[k], i - cf.starts[k]
}

func runFlows(ctx context.Context, o *Options) error {
	w, _, err := o.Output.NewRowWriter(o.IO, FlowColumns)
	if err != nil {
		return err
	}
	c, cleanup, partial, err := openInputs(ctx, o)
	if err != nil {
		return err
	}
	defer cleanup()
	cf, err := LoadFlows(c)
	if err != nil {
		return err
	}
	if cf.Cols.Len() == 0 {
		fmt.Fprintln(o.IO.ErrOut, "no flows to score")
		if err := w.Flush(); err != nil {
			return err
		}
		return partial
	}
	maxResults := o.Top
	if o.filtering() {
		maxResults = 0 // filter first, then cut to --top
	}
	res, err := suspicious.RunFlows(ctx, &cf.Cols, o.FlowRunOptions(maxResults))
	if err != nil {
		return err
	}
	// Pick the rows to print: the filter over (record, score), then --top.
	var (
		r  flow.Record
		fr filter.Result
	)
	picked, matched, err := o.pick(res.Selected, func(i int) error {
		t, ri := cf.At(i)
		fr = filter.Result{Score: res.Scores[i], Kind: "flow"}
		return t.FlowAt(ri, &r)
	}, func(f *filter.Filter) bool { return f.MatchFlowResult(&r, fr) })
	if err != nil {
		return err
	}
	if o.Spot {
		if err := suspicious.WriteFlowResults(o.IO.Out, &cf.Cols, indexes(res.Selected, picked), res.Scores, o.Loc); err != nil {
			return err
		}
		if err := o.gate(matched); err != nil {
			return err
		}
		return partial
	}
	row := make([]report.Value, len(FlowColumns))
	for _, pos := range picked {
		i := res.Selected[pos]
		t, ri := cf.At(i)
		if err := t.FlowAt(ri, &r); err != nil {
			return err
		}
		row[0] = report.Value{U: uint64(pos + 1)}
		row[1] = report.Value{F: res.Scores[i]}
		report.FlowRow(&r, row[2:2+len(report.FlowColumns)])
		fc := res.Corpus
		row[len(row)-2] = report.Value{S: fc.Words[fc.SrcWord[i]].String()}
		row[len(row)-1] = report.Value{S: fc.Words[fc.DstWord[i]].String()}
		if err := w.WriteRow(row); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if o.IO.IsStdoutTTY() && len(picked) == 0 {
		fmt.Fprintf(o.IO.ErrOut, "no flow scored at or under %g matched (of %d)\n", o.Threshold, cf.Cols.Len())
	}
	if err := o.gate(matched); err != nil {
		return err
	}
	return partial
}
