// Package stats is `spotctl stats`: nfdump-style top-N statistics over the
// flows and DNS messages of a case.
package stats

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmdutil"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/iostreams"
	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/detect/filter"
	"github.com/spotctl/spotctl/detect/stats"
	"github.com/spotctl/spotctl/flowstore"
	"github.com/spotctl/spotctl/report"
)

// Options are the parsed flags of `spotctl stats`.
type Options struct {
	IO      *iostreams.IOStreams
	Case    string
	Stats   []string // -s, repeatable
	GroupBy string   // --group-by FIELD[/MASK],...
	Order   string   // -O: order for --group-by and for -s without /ORDER
	Limit   int
	Post    string // -P
	BinFlag string
	Window  cmdutil.TimeRange
	Output  cmdutil.OutputFlags
	Filter  cmdutil.FilterFlags

	Specs   []stats.Spec
	flowFlt *filter.Filter
	dnsFlt  *filter.Filter
}

// NewCmd builds `spotctl stats`.
func NewCmd(ios *iostreams.IOStreams, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "stats CASE -s FIELD[/ORDER] [-s ...] [FILTER]",
		Short: "Top-N statistics over the flows or DNS messages of a case (nfdump -s)",
		Long: `Rank the flows of a case by a field, as nfdump -s does: each -s prints its own
table of the top -n groups.

Flow fields: srcip, dstip, ip (either side: a flow counts for its source and
for its destination), srcport, dstport, port (either side), proto, flags,
srcas, dstas, as (either side), vlan, exporter.
DNS fields (count messages): qname, domain (registered domain by the public
suffix list), client, qtype, rcode.

Orders: flows (default; messages for DNS), packets, bytes, pps, bps, bpp.
Rates are nfdump's: over each group's duration (its latest last packet minus
its earliest first packet, in ms), integers, 0 when the duration is 0. Ties
are broken by key, ascending.

Several fields make one combined key: -s srcip,dstport/bytes, or
--group-by srcip,dstport with -O bytes. Address fields take a mask:
srcip/24 (IPv4 /24; IPv6 addresses are cut to /24 as well), dstip/64
(IPv6 /64; IPv4 unchanged), srcip/24/64 (IPv4 /24 and IPv6 /64).

--bin 1m|1h|1d (any Go duration) adds the time bin of each record's first
packet to the key: the output is a timeline, bins in time order and the top
-n groups in each bin.

-P EXPR keeps only the aggregated groups that match (nfdump's -P), e.g.
'bytes > 1M and flows >= 10' or 'dstport < 1024 and not srcip 10.0.0.0/8';
names: flows, messages, packets, bytes, pps, bps, bpp, duration (ms) and the
statistic's own fields. See docs/json.md.

FILTER (trailing arguments, or -f FILE) selects flows — or DNS messages for
the DNS fields — before aggregation (docs/filter.md).`,
		Example: `  spotctl stats case1 -s srcip/bytes
  spotctl stats case1 -s dstport/bytes -s dstip/flows -n 20 'proto tcp'
  spotctl stats case1 --group-by srcip/24,dstport -O bytes -P 'bytes > 10M'
  spotctl stats case1 -s dstip/bytes --bin 1h -n 3
  spotctl stats case1 -s domain -n 20 'not rcode NOERROR'
  spotctl stats case1 -s srcip/bps | jq -r '.src_ip'`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Filter.Check {
				flt, err := opts.Filter.Compile(args, filter.Flow)
				if err != nil {
					return err
				}
				return cmdutil.CheckOnly(opts.IO.Out, flt)
			}
			if len(args) < 1 {
				return cmdutil.FlagErrorf("stats needs a CASE")
			}
			opts.Case = args[0]
			if err := opts.parse(args[1:]); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&opts.Stats, "stat", "s", nil, "statistic FIELD[/MASK][,FIELD...][/ORDER] (repeatable; fields: "+strings.Join(stats.FieldNames(), ", ")+")")
	f.StringVar(&opts.GroupBy, "group-by", "", "one statistic over a combined key, e.g. srcip/24,dstport (ordered by -O)")
	f.StringVarP(&opts.Order, "order", "O", "flows", "order when a statistic names none: flows, packets, bytes, pps, bps, bpp")
	f.IntVarP(&opts.Limit, "limit", "n", 10, "groups per statistic (per bin with --bin); 0: all")
	f.StringVarP(&opts.Post, "post-filter", "P", "", "keep only aggregated groups matching EXPR, e.g. 'bytes > 1M and flows > 10'")
	f.StringVar(&opts.BinFlag, "bin", "", "timeline: also group by time bin of the first packet (1m, 1h, 1d or a Go duration)")
	f.StringVar(&opts.Window.SinceFlag, "since", "", "only records active at or after this time (RFC 3339 or date, UTC)")
	f.StringVar(&opts.Window.UntilFlag, "until", "", "only records active before this time")
	opts.Output.AddFlags(f)
	opts.Filter.AddFlags(f)
	return cmd
}

// parse turns the flags and the trailing FILTER into specs and filters.
func (opts *Options) parse(filterArgs []string) error {
	if opts.Limit < 0 {
		return cmdutil.FlagErrorf("-n must not be negative")
	}
	order, ok := stats.ParseOrder(opts.Order)
	if !ok {
		return cmdutil.FlagErrorf("unknown order %q (valid: flows, packets, bytes, pps, bps, bpp)", opts.Order)
	}
	var bin time.Duration
	if opts.BinFlag != "" {
		var err error
		bin, err = parseBin(opts.BinFlag)
		if err != nil {
			return err
		}
	}
	texts := slices.Clone(opts.Stats)
	if opts.GroupBy != "" {
		texts = append(texts, opts.GroupBy)
	}
	if len(texts) == 0 {
		return cmdutil.FlagErrorf("stats needs at least one -s FIELD[/ORDER] or --group-by (fields: %s)", strings.Join(stats.FieldNames(), ", "))
	}
	opts.Specs = opts.Specs[:0]
	var flows, dns bool
	for _, t := range texts {
		sp, err := stats.ParseSpec(t, order)
		if err != nil {
			return &cmdutil.FlagError{Err: err}
		}
		sp.Limit, sp.Bin = opts.Limit, bin
		if opts.Post != "" {
			if sp.Post, err = stats.ParsePost(opts.Post, sp); err != nil {
				return &cmdutil.FlagError{Err: err}
			}
		}
		if sp.DNS() {
			dns = true
		} else {
			flows = true
		}
		opts.Specs = append(opts.Specs, sp)
	}
	var err error
	if flows {
		if opts.flowFlt, err = opts.Filter.Compile(filterArgs, filter.Flow); err != nil {
			return err
		}
	}
	if dns {
		if opts.dnsFlt, err = opts.Filter.Compile(filterArgs, filter.DNS); err != nil {
			return err
		}
	}
	return opts.Window.Parse()
}

func parseBin(s string) (time.Duration, error) {
	var d time.Duration
	var err error
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err = time.ParseDuration(n + "h")
		d *= 24
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d < time.Second {
		return 0, cmdutil.FlagErrorf("--bin %q: want a duration of at least 1s such as 1m, 1h or 1d", s)
	}
	return d, nil
}

// statsMemoryLimit is the Go heap's soft limit during stats (GOMEMLIMIT
// overrides it). Group tables grow by doubling; with millions of groups
// (a flood from spoofed sources) the garbage of each growth would otherwise
// double the resident size: with 3 M two-field groups the limit took peak
// RSS from 1.8 to 1.1 GB for 30 % more time. Ordinary cases stay far below
// it and never notice. A soft limit never fails an allocation.
const statsMemoryLimit = 512 << 20

// Run aggregates and prints every statistic.
func Run(ctx context.Context, opts *Options) error {
	if os.Getenv("GOMEMLIMIT") == "" {
		prev := debug.SetMemoryLimit(statsMemoryLimit)
		defer debug.SetMemoryLimit(prev)
	}
	format, err := opts.Output.Resolve(opts.IO)
	if err != nil {
		return err
	}
	// Check --fields against every statistic before any work.
	if strings.TrimSpace(opts.Output.Fields) != "" {
		for _, sp := range opts.Specs {
			if _, err := report.Select(Columns(sp), strings.Split(opts.Output.Fields, ",")); err != nil {
				return &cmdutil.FlagError{Err: fmt.Errorf("statistic %s: %w", sp.Name(), err)}
			}
		}
	}
	c, err := cmdutil.OpenCase(opts.Case)
	if err != nil {
		return err
	}
	defer c.Close()
	aggs := make([]*stats.Aggregator, len(opts.Specs))
	for i, sp := range opts.Specs {
		if aggs[i], err = stats.NewAggregator(sp); err != nil {
			return &cmdutil.FlagError{Err: err}
		}
	}
	if err := aggregate(ctx, c, opts, aggs); err != nil {
		return err
	}
	ios, output := opts.IO, opts.Output
	var array *jsonArray
	if format == report.FormatJSON {
		// One array for all statistics: JSON Lines framed by jsonArray.
		array = &jsonArray{w: opts.IO.Out}
		ios = &iostreams.IOStreams{In: opts.IO.In, Out: array, ErrOut: opts.IO.ErrOut}
		output.Format = string(report.FormatJSONL)
	}
	for i, a := range aggs {
		sp := opts.Specs[i]
		if format == report.FormatTable {
			if i > 0 {
				fmt.Fprintln(opts.IO.Out)
			}
			fmt.Fprintln(opts.IO.Out, Heading(sp))
		}
		cols := Columns(sp)
		w, _, err := output.NewRowWriter(ios, cols)
		if err != nil {
			return err
		}
		cells := make([]report.Value, len(cols))
		for _, r := range a.Top() {
			FillRow(sp, &r, cells)
			if err := w.WriteRow(cells); err != nil {
				return err
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	if array != nil {
		return array.Close()
	}
	return nil
}

// Heading is the table title of a statistic, as nfdump prints it.
func Heading(sp stats.Spec) string {
	names := make([]string, len(sp.Parts))
	for i, p := range sp.Parts {
		names[i] = p.String()
	}
	n := "all"
	if sp.Limit > 0 {
		n = fmt.Sprint(sp.Limit)
	}
	o := sp.Order.String()
	if sp.DNS() {
		o = "messages"
	}
	h := fmt.Sprintf("Top %s %s ordered by %s", n, strings.Join(names, ","), o)
	if sp.Bin > 0 {
		h += fmt.Sprintf(" per %s bin", sp.Bin)
	}
	if sp.Post != nil {
		h += fmt.Sprintf(", groups matching %q", sp.Post.String())
	}
	return h + ":"
}

// aggregate feeds every segment's flow and DNS columns to the aggregators.
func aggregate(ctx context.Context, c *flowstore.Case, opts *Options, aggs []*stats.Aggregator) error {
	var flowAggs, dnsAggs []*stats.Aggregator
	for _, a := range aggs {
		sp := a.Spec()
		if sp.DNS() {
			dnsAggs = append(dnsAggs, a)
		} else {
			flowAggs = append(flowAggs, a)
		}
	}
	// Only the columns the filter and the statistics read are mapped and
	// checksummed.
	need := filter.NeedFirst | filter.NeedLast
	if opts.flowFlt != nil {
		need |= opts.flowFlt.Needs()
	}
	for _, a := range flowAggs {
		need |= a.Spec().Needs()
	}
	var sel []int32
	for _, s := range c.Segments() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(flowAggs) > 0 {
			t, err := s.Flows()
			if err != nil {
				return err
			}
			// Filter and aggregate a chunk at a time, so that the columns
			// both read are still cached and the selection stays small,
			// and checksum each chunk then, not in a pass of its own;
			// nothing is printed unless every column's checksum holds.
			sc := t.CheckWhileScanning()
			cols, err := FlowColumns(t, need)
			if err == nil {
				for lo := 0; lo < cols.N && err == nil; lo += flowChunk {
					hi := min(lo+flowChunk, cols.N)
					sel = selectFlows(cols, opts, lo, hi, sel[:0])
					for _, a := range flowAggs {
						if err = a.AddFlows(cols, sel); err != nil {
							break
						}
					}
					sc.Through(hi)
				}
			}
			if ferr := sc.Finish(); err == nil {
				err = ferr
			}
			if err != nil {
				return err
			}
		}
		if len(dnsAggs) > 0 {
			t, err := s.DNS()
			if err != nil {
				return err
			}
			cols, err := DNSColumns(t)
			if err != nil {
				return err
			}
			if sel, err = selectDNS(t, cols, opts, sel[:0]); err != nil {
				return err
			}
			for _, a := range dnsAggs {
				if err := a.AddDNS(cols, sel); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// flowChunk is how many rows are filtered, then aggregated, at a time.
const flowChunk = 1 << 14

// selectFlows returns the rows of [lo, hi) that pass the filter and the
// time window.
func selectFlows(cols *filter.FlowColumns, opts *Options, lo, hi int, sel []int32) []int32 {
	if opts.flowFlt != nil {
		sel = opts.flowFlt.SelectRange(cols, lo, hi, sel)
	} else {
		for i := lo; i < hi; i++ {
			sel = append(sel, int32(i))
		}
	}
	if opts.Window.Since == 0 && opts.Window.Until == 0 {
		return sel
	}
	out := sel[:0]
	for _, i := range sel {
		var f, l int64
		if int(i) < len(cols.First) {
			f = cols.First[i]
		}
		if int(i) < len(cols.Last) {
			l = cols.Last[i]
		}
		if opts.Window.Overlaps(f, l) {
			out = append(out, i)
		}
	}
	return out
}

func selectDNS(t *flowstore.Table, cols *stats.DNSColumns, opts *Options, sel []int32) ([]int32, error) {
	var m flow.DNSMessage
	for i := 0; i < cols.N; i++ {
		if i < len(cols.TS) && !opts.Window.Contains(cols.TS[i]) {
			continue
		}
		if opts.dnsFlt != nil {
			m.Answers = m.Answers[:0]
			if err := t.DNSAt(i, &m); err != nil {
				return nil, err
			}
			if !opts.dnsFlt.MatchDNS(&m) {
				continue
			}
		}
		sel = append(sel, int32(i))
	}
	return sel, nil
}

// FlowColumns views the columns of a flows table that need names as
// filter columns (sparse columns that a segment left out read as zero).
func FlowColumns(t *flowstore.Table, need filter.Need) (*filter.FlowColumns, error) {
	c := &filter.FlowColumns{N: t.Rows()}
	var errs []error
	loadColumn(&errs, need.Has(filter.NeedFirst), &c.First, t.Int64, flowstore.ColFirst)
	loadColumn(&errs, need.Has(filter.NeedLast), &c.Last, t.Int64, flowstore.ColLast)
	loadColumn(&errs, need.Has(filter.NeedSrc), &c.Src, t.Addr, flowstore.ColSrcIP)
	loadColumn(&errs, need.Has(filter.NeedDst), &c.Dst, t.Addr, flowstore.ColDstIP)
	loadColumn(&errs, need.Has(filter.NeedSrcPort), &c.SrcPort, t.Uint16, flowstore.ColSrcPort)
	loadColumn(&errs, need.Has(filter.NeedDstPort), &c.DstPort, t.Uint16, flowstore.ColDstPort)
	loadColumn(&errs, need.Has(filter.NeedProto), &c.Proto, t.Uint8, flowstore.ColProto)
	loadColumn(&errs, need.Has(filter.NeedTCPFlags), &c.TCPFlags, t.Uint8, flowstore.ColTCPFlags)
	loadColumn(&errs, need.Has(filter.NeedToS), &c.ToS, t.Uint8, flowstore.ColToS)
	loadColumn(&errs, need.Has(filter.NeedVLAN), &c.VLAN, t.Uint16, flowstore.ColVLAN)
	loadColumn(&errs, need.Has(filter.NeedPackets), &c.Packets, t.Uint64, flowstore.ColPackets)
	loadColumn(&errs, need.Has(filter.NeedBytes), &c.Bytes, t.Uint64, flowstore.ColBytes)
	loadColumn(&errs, need.Has(filter.NeedOutPackets), &c.OutPackets, t.Uint64, flowstore.ColOutPackets)
	loadColumn(&errs, need.Has(filter.NeedOutBytes), &c.OutBytes, t.Uint64, flowstore.ColOutBytes)
	loadColumn(&errs, need.Has(filter.NeedExporter), &c.Exporter, t.Addr, flowstore.ColExporter)
	loadColumn(&errs, need.Has(filter.NeedNextHop), &c.NextHop, t.Addr, flowstore.ColNextHop)
	loadColumn(&errs, need.Has(filter.NeedSrcAS), &c.SrcAS, t.Uint32, flowstore.ColSrcAS)
	loadColumn(&errs, need.Has(filter.NeedDstAS), &c.DstAS, t.Uint32, flowstore.ColDstAS)
	loadColumn(&errs, need.Has(filter.NeedInIf), &c.InIf, t.Uint32, flowstore.ColInIf)
	loadColumn(&errs, need.Has(filter.NeedOutIf), &c.OutIf, t.Uint32, flowstore.ColOutIf)
	loadColumn(&errs, need.Has(filter.NeedSrcMask), &c.SrcMask, t.Uint8, flowstore.ColSrcMask)
	loadColumn(&errs, need.Has(filter.NeedDstMask), &c.DstMask, t.Uint8, flowstore.ColDstMask)
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return c, nil
}

// loadColumn sets *dst to the column name when want is set (nil when the
// segment left the sparse column out) and records the accessor's error.
func loadColumn[T any](errs *[]error, want bool, dst *[]T, get func(string) ([]T, error), name string) {
	if !want {
		return
	}
	v, err := flowstore.Optional(get(name))
	*dst = v
	*errs = append(*errs, err)
}

// DNSColumns views a DNS table as stats columns.
func DNSColumns(t *flowstore.Table) (*stats.DNSColumns, error) {
	c := &stats.DNSColumns{N: t.Rows()}
	var err error
	if c.TS, err = flowstore.Optional(t.Int64(flowstore.ColTS)); err != nil {
		return nil, err
	}
	if c.Client, err = flowstore.Optional(t.Addr(flowstore.ColClientIP)); err != nil {
		return nil, err
	}
	if c.QType, err = flowstore.Optional(t.Uint16(flowstore.ColQType)); err != nil {
		return nil, err
	}
	if c.Rcode, err = flowstore.Optional(t.Uint8(flowstore.ColRcode)); err != nil {
		return nil, err
	}
	if t.Has(flowstore.ColQName) {
		q, err := t.Strings(flowstore.ColQName)
		if err != nil {
			return nil, err
		}
		c.QName = q
	}
	return c, nil
}
