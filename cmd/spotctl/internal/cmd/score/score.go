// Package score is `spotctl score flows|dns`: Apache Spot's suspicious
// connects on a case (or on evidence, through a temporary case), ranked,
// reproducible byte for byte.
package score

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmd/ingest"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmdutil"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/iostreams"
	"github.com/spotctl/spotctl/decode/evidence"
	"github.com/spotctl/spotctl/detect/filter"
	"github.com/spotctl/spotctl/detect/lda"
	"github.com/spotctl/spotctl/detect/suspicious"
	"github.com/spotctl/spotctl/detect/words"
	"github.com/spotctl/spotctl/flowstore"
	"github.com/spotctl/spotctl/report"
)

// Options are the flags both score commands share.
type Options struct {
	IO        *iostreams.IOStreams
	Inputs    []string
	Top       int
	All       bool
	Threshold float64
	LDA       lda.Options
	TZ        string
	Loc       *time.Location
	Precision int
	Output    cmdutil.OutputFlags
	Spot      bool // --format spot

	// DNS only
	TopDomains string
	UserDomain string

	// Result filters and the CI gate.
	Filter      cmdutil.FilterFlags
	FailOn      string
	FailOnCount int
	flt, failOn *filter.Filter
	filterKind  filter.Kind
}

// NewCmd builds `spotctl score` and its two subcommands.
func NewCmd(ios *iostreams.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "score <flows|dns> CASE|EVIDENCE...",
		Short: "Rank flows or DNS queries by how unusual they are (Spot's suspicious connects)",
		Long: `Score every flow or DNS response with Apache Spot's "suspicious connects" method
and print the least probable first.

Every IP address becomes a document of words (for flows: port class, protocol,
hour, byte and packet bins; for DNS: domain popularity, frame length, hour,
subdomain length and entropy, label count, type and rcode). An LDA topic model
learns what is usual for each address; the score of an event is the probability
of its word under its address's topics, so the lowest scores are the rarest.

The model is seeded (--seed) and its sums are reduced in a fixed order, so the
same case and flags give byte-identical output on any machine and thread
count. See docs/algorithms.md.`,
	}
	cmd.AddCommand(newFlowsCmd(ios), newDNSCmd(ios))
	return cmd
}

func addCommonFlags(fs *pflag.FlagSet, o *Options) {
	fs.IntVarP(&o.Top, "top", "n", 50, "print the N lowest scores")
	fs.BoolVar(&o.All, "all", false, "print every result at or under the threshold (no --top limit)")
	fs.Float64Var(&o.Threshold, "threshold", 1, fmt.Sprintf("keep only scores in (-1, T]; Spot's operational TOL was %g", suspicious.DefaultThreshold))
	AddModelFlags(fs, o)
	o.Output.AddFlags(fs)
	o.Filter.AddFlags(fs)
	fs.StringVar(&o.FailOn, "fail-on", "", "exit 4 when printed results match this filter, e.g. 'score < 1e-6' (see --fail-on-count)")
	fs.IntVar(&o.FailOnCount, "fail-on-count", 1, "with --fail-on: exit 4 only when at least N printed results match")
}

func (o *Options) validate(args []string) error {
	// The filter is the trailing argument as in nfdump: the last argument
	// is taken as a filter when there are several and it is not a path.
	var filterArgs []string
	if o.Filter.Check {
		filterArgs, args = args, nil // --check: every argument is filter text
	} else if len(args) > 1 {
		if _, err := os.Stat(args[len(args)-1]); err != nil {
			filterArgs, args = args[len(args)-1:], args[:len(args)-1]
		}
	}
	flt, err := o.Filter.Compile(filterArgs, o.filterKind|filter.Score)
	if err != nil {
		return err
	}
	if o.Filter.Check {
		if err := cmdutil.CheckOnly(o.IO.Out, flt); err != nil {
			return err
		}
		return errChecked
	}
	o.flt = flt
	if strings.TrimSpace(o.FailOn) != "" {
		if o.failOn, err = filter.CompileNamed("--fail-on", o.FailOn, o.filterKind|filter.Score); err != nil {
			return &cmdutil.FlagError{Err: err}
		}
	}
	if o.FailOnCount < 1 {
		return cmdutil.FlagErrorf("--fail-on-count must be at least 1")
	}
	o.Inputs = args
	if len(args) == 0 {
		return cmdutil.FlagErrorf("give a CASE or evidence files")
	}
	if o.Top < 0 {
		return cmdutil.FlagErrorf("--top must not be negative")
	}
	if o.All {
		o.Top = 0
	}
	if math.IsNaN(o.Threshold) {
		return cmdutil.FlagErrorf("--threshold must be a number")
	}
	if err := o.ValidateModel(); err != nil {
		return err
	}
	if strings.EqualFold(o.Output.Format, "spot") {
		o.Spot = true
		o.Output.Format = "tsv"
	}
	return nil
}

// AddModelFlags registers the flags that shape the model and so the scores
// (--seed, --topics, --iterations, --alpha, --eta, --tz, --precision, and
// for DNS --top-domains, --user-domain). spotctl export takes the same ones
// so that its scores are those of spotctl score.
func AddModelFlags(fs *pflag.FlagSet, o *Options) {
	d := lda.DefaultOptions()
	fs.Uint64Var(&o.LDA.Seed, "seed", d.Seed, "LDA initialisation seed")
	fs.IntVar(&o.LDA.Topics, "topics", d.Topics, "LDA topics (K)")
	fs.IntVar(&o.LDA.Iterations, "iterations", d.Iterations, "EM iterations")
	fs.Float64Var(&o.LDA.Alpha, "alpha", d.Alpha, "document concentration (> 1)")
	fs.Float64Var(&o.LDA.Eta, "eta", d.Eta, "topic concentration (> 1)")
	fs.StringVar(&o.TZ, "tz", "UTC", "time zone of the hour in the words (IANA name, e.g. Europe/Berlin)")
	fs.IntVar(&o.Precision, "precision", 64, "64, or 32 to round the topic mixtures through float32 as Spot's --precision 32 did")
}

// AddDNSModelFlags registers the DNS model's flags (--top-domains,
// --user-domain).
func AddDNSModelFlags(fs *pflag.FlagSet, o *Options) {
	fs.StringVar(&o.TopDomains, "top-domains", "", "popular domains: a rank,domain list (Tranco, Umbrella, Alexa)")
	fs.StringVar(&o.UserDomain, "user-domain", "", "your organisation's own domain label (e.g. example for example.com): scored as its own class")
}

// ValidateModel checks the model flags and resolves --tz.
func (o *Options) ValidateModel() error {
	if o.LDA.Topics < 1 {
		return cmdutil.FlagErrorf("--topics must be at least 1")
	}
	if o.LDA.Iterations < 0 {
		return cmdutil.FlagErrorf("--iterations must not be negative")
	}
	if !(o.LDA.Alpha > 1) || !(o.LDA.Eta > 1) {
		return cmdutil.FlagErrorf("--alpha and --eta must be greater than 1 (MAP estimation)")
	}
	if o.LDA.Seed == 0 {
		return cmdutil.FlagErrorf("--seed 0 is reserved; pick any other value")
	}
	if o.Precision != 32 && o.Precision != 64 {
		return cmdutil.FlagErrorf("--precision must be 32 or 64")
	}
	loc, err := time.LoadLocation(o.TZ)
	if err != nil {
		return cmdutil.FlagErrorf("--tz %q: %v", o.TZ, err)
	}
	o.Loc = loc
	return nil
}

// FlowRunOptions are the detector's options for these flags: at most
// maxResults selected (≤ 0: every score in (-1, --threshold]).
func (o *Options) FlowRunOptions(maxResults int) suspicious.FlowOptions {
	return suspicious.FlowOptions{
		Loc:          o.Loc,
		LDA:          o.LDA,
		Float32Theta: o.Precision == 32,
		Threshold:    o.suspiciousThreshold(),
		MaxResults:   maxResults,
	}
}

// DNSRunOptions is FlowRunOptions for DNS, with the popular domains of
// LoadPopular.
func (o *Options) DNSRunOptions(popular words.Popular, maxResults int) suspicious.DNSRunOptions {
	return suspicious.DNSRunOptions{
		DNSOptions:   suspicious.DNSOptions{Loc: o.Loc, UserDomain: o.UserDomain, Popular: popular},
		LDA:          o.LDA,
		Float32Theta: o.Precision == 32,
		Threshold:    o.suspiciousThreshold(),
		MaxResults:   maxResults,
	}
}

// LoadPopular reads --top-domains; without it the popular domains are
// learned from the case (nil).
func (o *Options) LoadPopular() (words.Popular, error) {
	if o.TopDomains == "" {
		return nil, nil
	}
	f, err := os.Open(o.TopDomains)
	if err != nil {
		return nil, cmdutil.FlagErrorf("--top-domains: %v", err)
	}
	defer f.Close()
	popular, err := words.ReadPopular(f)
	if err != nil {
		return nil, fmt.Errorf("--top-domains %s: %w", o.TopDomains, err)
	}
	return popular, nil
}

func (o *Options) suspiciousThreshold() float64 {
	if o.Threshold == 0 {
		// 0 keeps nothing but exact zeros; suspicious treats 0 as "default".
		return math.SmallestNonzeroFloat64
	}
	return o.Threshold
}

// openInputs opens the case named by a single directory argument, or
// ingests evidence files into a temporary case that is removed afterwards.
// The returned error may be a PartialError from the ingest: the caller goes
// on and reports it at the end.
func openInputs(ctx context.Context, o *Options) (c *flowstore.Case, cleanup func(), partial error, err error) {
	if len(o.Inputs) == 1 {
		if st, serr := os.Stat(o.Inputs[0]); serr == nil && st.IsDir() && isCase(o.Inputs[0]) {
			c, err := cmdutil.OpenCase(o.Inputs[0])
			return c, func() { c.Close() }, nil, err
		}
	}
	tmp, err := os.MkdirTemp("", "spotctl-score-*")
	if err != nil {
		return nil, nil, nil, err
	}
	remove := func() { os.RemoveAll(tmp) }
	dir := tmp + "/case"
	iopts := &ingest.Options{IO: o.IO, Paths: o.Inputs, Case: dir, Evidence: evidence.DefaultOptions(), Quiet: true, Now: time.Now}
	ierr := ingest.Run(ctx, iopts)
	if ierr != nil && cmdutil.ExitCode(ierr) != cmdutil.ExitPartial {
		remove()
		return nil, nil, nil, ierr
	}
	c, err = flowstore.Open(dir)
	if err != nil {
		remove()
		return nil, nil, nil, err
	}
	return c, func() { c.Close(); remove() }, ierr, nil
}

func isCase(dir string) bool {
	_, err := os.Stat(dir + "/case.json")
	return err == nil
}

// scoreDisplay shows a score with four significant digits on a terminal;
// machine formats keep every digit.
func scoreDisplay(v report.Value) string { return strconv.FormatFloat(v.F, 'e', 3, 64) }

// errChecked ends a --check run successfully without scoring anything.
var errChecked = errors.New("filter checked")

// gate applies --fail-on to the number of printed results that matched it.
func (o *Options) gate(matched int) error {
	if o.failOn == nil || matched < o.FailOnCount {
		return nil
	}
	fmt.Fprintf(o.IO.ErrOut, "--fail-on: %d result(s) match %q (threshold %d)\n", matched, o.FailOn, o.FailOnCount)
	return &cmdutil.SilentError{Code: cmdutil.ExitFindings}
}

func (o *Options) filtering() bool { return o.flt != nil && o.flt.String() != "" }

// pick walks a ranking (best first) and keeps, in order, the positions of
// the results that pass the trailing filter, at most --top of them, and
// counts how many kept ones match --fail-on. match(f, i) loads result i
// (once per i; pick calls it for the filter first) and tests f on it.
func (o *Options) pick(selected []int, load func(i int) error, match func(f *filter.Filter) bool) (picked []int, matched int, err error) {
	for pos, i := range selected {
		if o.Top > 0 && len(picked) >= o.Top {
			break
		}
		if err := load(i); err != nil {
			return nil, 0, err
		}
		if o.filtering() && !match(o.flt) {
			continue
		}
		picked = append(picked, pos)
		if o.failOn != nil && match(o.failOn) {
			matched++
		}
	}
	return picked, matched, nil
}

// indexes maps picked positions back to result indexes.
func indexes(selected, picked []int) []int {
	idx := make([]int, len(picked))
	for k, pos := range picked {
		idx[k] = selected[pos]
	}
	return idx
}
