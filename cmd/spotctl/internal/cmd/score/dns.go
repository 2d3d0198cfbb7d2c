package score

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/iostreams"
	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/detect/filter"
	"github.com/spotctl/spotctl/detect/suspicious"
	"github.com/spotctl/spotctl/detect/words"
	"github.com/spotctl/spotctl/flowstore"
	"github.com/spotctl/spotctl/report"
	"github.com/spotctl/spotctl/report/textsafe"
)

func newDNSCmd(ios *iostreams.IOStreams) *cobra.Command {
	o := &Options{IO: ios, filterKind: filter.DNS}
	cmd := &cobra.Command{
		Use:   "dns CASE|EVIDENCE... [FILTER]",
		Short: "Rank DNS responses by how unusual they are for their client",
		Long: `Score every DNS response of a case with Spot's DNS model: the document is the
client, the word is built from the queried domain's popularity, the frame
length, the hour, the subdomain's length and entropy, the number of labels,
the answer type and the rcode. As in Spot, only responses are scored and the
type is that of the first answer.

Domain popularity comes from --top-domains FILE (a "rank,domain" list in the
Tranco, Umbrella or Alexa layout) or, without one, is learned from the case:
a domain queried by at least 3 distinct clients and 1 % of all clients is
popular. The source used is printed on stderr.

--format spot writes Spot's dns_results.csv layout (9 tab-separated columns).`,
		Example: `  spotctl score dns case1
  spotctl score dns case1 --top-domains tranco.csv --user-domain example
  spotctl score dns capture.pcap --format json | jq -r '.qname'`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.validate(args); err != nil {
				if errors.Is(err, errChecked) {
					return nil
				}
				return err
			}
			return runDNS(cmd.Context(), o)
		},
	}
	addCommonFlags(cmd.Flags(), o)
	AddDNSModelFlags(cmd.Flags(), o)
	return cmd
}

// DNSColumns are the fields of a DNS result row.
var DNSColumns = append(append([]report.Column{
	{Name: "rank", Kind: report.Uint},
	{Name: "score", Kind: report.Float, Display: scoreDisplay},
}, report.DNSColumns...),
	report.Column{Name: "word", Kind: report.String},
)

// EventRef names the case row of a DNS event.
type EventRef struct {
	T   *flowstore.Table
	Row int
}

// LoadDNS projects every DNS response of a case to Spot's DNS events
// (suspicious.SpotEvent) and says where each came from.
func LoadDNS(c *flowstore.Case) (suspicious.DNSEventSlice, []EventRef, error) {
	var evs suspicious.DNSEventSlice
	var refs []EventRef
	var m flow.DNSMessage
	for _, s := range c.Segments() {
		t, err := s.DNS()
		if err != nil {
			return nil, nil, err
		}
		resp, err := t.Uint8(flowstore.ColResponse)
		if err != nil {
			return nil, nil, err
		}
		for i := 0; i < t.Rows(); i++ {
			if resp[i] == 0 {
				continue
			}
			m.Answers = m.Answers[:0]
			if err := t.DNSAt(i, &m); err != nil {
				return nil, nil, err
			}
			if ev, ok := suspicious.SpotEvent(&m); ok {
				evs = append(evs, ev)
				refs = append(refs, EventRef{t, i})
			}
		}
	}
	return evs, refs, nil
}

func runDNS(ctx context.Context, o *Options) error {
	w, _, err := o.Output.NewRowWriter(o.IO, DNSColumns)
	if err != nil {
		return err
	}
	popular, err := o.LoadPopular()
	if err != nil {
		return err
	}
	c, cleanup, partial, err := openInputs(ctx, o)
	if err != nil {
		return err
	}
	defer cleanup()
	evs, refs, err := LoadDNS(c)
	if err != nil {
		return err
	}
	if len(evs) == 0 {
		fmt.Fprintln(o.IO.ErrOut, "no DNS responses to score")
		if err := w.Flush(); err != nil {
			return err
		}
		return partial
	}
	maxResults := o.Top
	if o.filtering() {
		maxResults = 0 // filter first, then cut to --top
	}
	res, err := suspicious.RunDNS(ctx, evs, o.DNSRunOptions(popular, maxResults))
	if err != nil {
		return err
	}
	if o.TopDomains != "" {
		fmt.Fprintf(o.IO.ErrOut, "popular domains: %d from %s\n", len(popular), textsafe.Terminal(o.TopDomains))
	} else {
		fmt.Fprintf(o.IO.ErrOut, "popular domains: %d learned from the case (queried by at least %d of %d clients)\n",
			len(res.Corpus.Popular), words.DefaultLearnRule.Threshold(len(res.Corpus.Docs)), len(res.Corpus.Docs))
	}
	var (
		m  flow.DNSMessage
		fr filter.Result
	)
	picked, matched, err := o.pick(res.Selected, func(i int) error {
		m.Answers = m.Answers[:0]
		fr = filter.Result{Score: res.Scores[i], Kind: "dns"}
		return refs[i].T.DNSAt(refs[i].Row, &m)
	}, func(f *filter.Filter) bool { return f.MatchDNSResult(&m, fr) })
	if err != nil {
		return err
	}
	if o.Spot {
		if err := suspicious.WriteDNSResults(o.IO.Out, evs, indexes(res.Selected, picked), res.Scores, o.Loc); err != nil {
			return err
		}
		if err := o.gate(matched); err != nil {
			return err
		}
		return partial
	}
	row := make([]report.Value, len(DNSColumns))
	for _, pos := range picked {
		i := res.Selected[pos]
		m.Answers = m.Answers[:0]
		if err := refs[i].T.DNSAt(refs[i].Row, &m); err != nil {
			return err
		}
		row[0] = report.Value{U: uint64(pos + 1)}
		row[1] = report.Value{F: res.Scores[i]}
		report.DNSRow(&m, row[2:2+len(report.DNSColumns)])
		row[len(row)-1] = report.Value{S: res.Corpus.Words[res.Corpus.Word[i]].String()}
		if err := w.WriteRow(row); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if o.IO.IsStdoutTTY() && len(picked) == 0 {
		fmt.Fprintf(o.IO.ErrOut, "no DNS response scored at or under %g matched (of %d)\n", o.Threshold, len(evs))
	}
	if err := o.gate(matched); err != nil {
		return err
	}
	return partial
}
