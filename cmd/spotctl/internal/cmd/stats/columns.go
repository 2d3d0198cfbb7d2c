package stats

import (
	"slices"

	"github.com/spotctl/spotctl/detect/stats"
	"github.com/spotctl/spotctl/report"
)

// Columns are the output fields of a statistic (docs/json.md): stat (the
// statistic, so that rows of several -s stay apart in one stream), bin with
// --bin, the grouped fields under the names flows/dns use, then the totals:
// flows, packets, bytes, pps, bps, bpp for flows, messages for DNS; first
// and last are the group's time span.
func Columns(sp stats.Spec) []report.Column {
	cols := []report.Column{{Name: "stat", Kind: report.String, Extended: true}}
	if sp.Bin > 0 {
		cols = append(cols, report.Column{Name: "bin", Kind: report.Time})
	}
	for _, p := range sp.Parts {
		c := report.Column{Name: p.Field.Column(), Kind: report.Uint}
		switch {
		case p.Field == stats.Exporter:
			c.Kind = report.OptIP
		case p.Field.IsAddr():
			c.Kind = report.IP
		case p.Field.IsString():
			c.Kind = report.String
		}
		c.Display = display(p.Field)
		cols = append(cols, c)
	}
	if sp.DNS() {
		cols = append(cols, report.Column{Name: "messages", Kind: report.Uint})
	} else {
		for _, n := range []string{"flows", "packets", "bytes", "pps", "bps", "bpp"} {
			cols = append(cols, report.Column{Name: n, Kind: report.Uint})
		}
	}
	return append(cols,
		report.Column{Name: "first", Kind: report.Time, Extended: true},
		report.Column{Name: "last", Kind: report.Time, Extended: true})
}

// display borrows the terminal rendering of the same field in flows/dns
// (TCP for 6, NXDOMAIN for 3, ...).
func display(f stats.Field) func(report.Value) string {
	var name string
	switch f {
	case stats.Proto:
		name = "proto"
	case stats.Flags:
		name = "tcp_flags"
	case stats.QType:
		name = "qtype"
	case stats.Rcode:
		name = "rcode"
	default:
		return nil
	}
	for _, cols := range [][]report.Column{report.FlowColumns, report.DNSColumns} {
		if i := slices.IndexFunc(cols, func(c report.Column) bool { return c.Name == name }); i >= 0 {
			return cols[i].Display
		}
	}
	return nil
}

// FillRow fills cells (len(Columns(sp))) from one aggregated row.
func FillRow(sp stats.Spec, r *stats.Row, cells []report.Value) {
	i := 0
	put := func(v report.Value) { cells[i] = v; i++ }
	put(report.Value{S: sp.Name()})
	if sp.Bin > 0 {
		put(report.Value{I: r.Bin})
	}
	for k, p := range sp.Parts {
		v := r.Key[k]
		switch {
		case p.Field.IsAddr():
			put(report.Value{P: v.Addr})
		case p.Field.IsString():
			put(report.Value{S: v.S})
		default:
			put(report.Value{U: v.U})
		}
	}
	if sp.DNS() {
		put(report.Value{U: r.Flows})
	} else {
		put(report.Value{U: r.Flows})
		put(report.Value{U: r.Packets})
		put(report.Value{U: r.Bytes})
		put(report.Value{U: r.PPS})
		put(report.Value{U: r.BPS})
		put(report.Value{U: r.BPP})
	}
	put(report.Value{I: r.First})
	put(report.Value{I: r.Last})
}
