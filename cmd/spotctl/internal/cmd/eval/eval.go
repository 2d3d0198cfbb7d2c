// Package eval is `spotctl eval`: how well does scoring find attacks? It
// writes synthetic captures with labelled injected attacks over several
// seeds, ingests and scores them exactly as a user would, and measures
// where the injected flows and DNS messages rank.
package eval

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmd/ingest"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmd/score"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmdutil"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/iostreams"
	"github.com/spotctl/spotctl/decode/evidence"
	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/decode/synth"
	"github.com/spotctl/spotctl/detect/lda"
	"github.com/spotctl/spotctl/detect/suspicious"
	"github.com/spotctl/spotctl/flowstore"
)

// Options are the parsed flags of `spotctl eval`.
type Options struct {
	IO       *iostreams.IOStreams
	Seeds    []uint64
	Hosts    int
	Duration time.Duration
	Inject   string
	LDASeeds int
	Output   string // markdown file to update between markers, or "" for stdout
	WorkDir  string
}

// NewCmd builds `spotctl eval`.
func NewCmd(ios *iostreams.IOStreams) *cobra.Command {
	o := &Options{IO: ios}
	var seeds string
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Measure how scoring ranks labelled synthetic attacks",
		Long: `Write synthetic captures with injected, labelled attacks (one per --seeds
value), ingest them, score flows and DNS with the default model, and report
for each kind of attack: the rank of its first flow, precision at 10, 50 and
100, and ROC AUC against background traffic. Also reports how stable the top
50 is across LDA seeds.

The report is Markdown. With -o FILE it replaces the text between the lines
"<!-- eval:begin -->" and "<!-- eval:end -->" of FILE (make eval keeps
docs/detection.md this way), so the prose around it stays.`,
		Example: `  spotctl eval
  spotctl eval --seeds 1,2,3,4,5 -o docs/detection.md`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, f := range strings.Split(seeds, ",") {
				v, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
				if err != nil || v == 0 {
					return cmdutil.FlagErrorf("--seeds: %q is not a positive integer", f)
				}
				o.Seeds = append(o.Seeds, v)
			}
			if o.LDASeeds < 2 {
				return cmdutil.FlagErrorf("--lda-seeds must be at least 2")
			}
			return Run(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&seeds, "seeds", "1,2,3", "synthetic capture seeds, comma-separated")
	f.IntVar(&o.Hosts, "hosts", 20, "internal hosts per capture")
	f.DurationVar(&o.Duration, "duration", 24*time.Hour, "time span per capture")
	f.StringVar(&o.Inject, "inject", "all", "attacks to inject (see spotctl synth --help)")
	f.IntVar(&o.LDASeeds, "lda-seeds", 10, "LDA seeds for the top-50 stability measurement")
	f.StringVarP(&o.Output, "output", "o", "", "Markdown file whose eval section to replace (default: print the report)")
	f.StringVar(&o.WorkDir, "work", "", "keep captures and cases in this directory (default: a temporary one, removed)")
	return cmd
}

// kindStats are one kind's figures in one capture.
type kindStats struct {
	n         int     // labelled items
	firstRank int     // 1-based rank of the best-ranked labelled item; 0 when none
	prec      [3]int  // labelled items among the top 10, 50, 100
	auc       float64 // NaN when undefined
}

var precAt = [3]int{10, 50, 100}

// Run performs the evaluation.
func Run(ctx context.Context, o *Options) error {
	injs, err := synth.ParseInjections(o.Inject)
	if err != nil {
		return cmdutil.FlagErrorf("--inject: %v", err)
	}
	work := o.WorkDir
	if work == "" {
		tmp, err := os.MkdirTemp("", "spotctl-eval-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		work = tmp
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	flowRes := map[string][]kindStats{}
	dnsRes := map[string][]kindStats{}
	var kindsSeen []string
	var totals [][3]int // flows, dns responses, injected flows per seed
	var firstCase *flowstore.Case
	for _, seed := range o.Seeds {
		fmt.Fprintf(o.IO.ErrOut, "eval: seed %d: synth, ingest, score\n", seed)
		pcap := filepath.Join(work, fmt.Sprintf("seed-%d.pcap", seed))
		st, err := writeCapture(pcap, synth.Options{Seed: seed, Hosts: o.Hosts, Duration: o.Duration, Inject: injs})
		if err != nil {
			return err
		}
		casePath := filepath.Join(work, fmt.Sprintf("seed-%d.case", seed))
		os.RemoveAll(casePath)
		iopts := &ingest.Options{IO: quietIO(o.IO), Paths: []string{pcap}, Case: casePath, Evidence: evidence.DefaultOptions(), Quiet: true, Now: time.Now}
		if err := ingest.Run(ctx, iopts); err != nil {
			return fmt.Errorf("ingest seed %d: %w", seed, err)
		}
		c, err := flowstore.Open(casePath)
		if err != nil {
			return err
		}
		fk, nFlows, nInj, err := evalFlows(ctx, c, st.Truth)
		if err != nil {
			c.Close()
			return err
		}
		dk, nDNS, err := evalDNS(ctx, c, st.Truth)
		if err != nil {
			c.Close()
			return err
		}
		totals = append(totals, [3]int{nFlows, nDNS, nInj})
		for _, a := range st.Truth.Activities {
			k := string(a.Kind)
			if !slices.Contains(kindsSeen, k) {
				kindsSeen = append(kindsSeen, k)
			}
		}
		for _, k := range kindsSeen {
			flowRes[k] = append(flowRes[k], fk[k])
			dnsRes[k] = append(dnsRes[k], dk[k])
		}
		if firstCase == nil {
			firstCase = c
			defer c.Close()
		} else {
			c.Close()
		}
	}
	fmt.Fprintf(o.IO.ErrOut, "eval: LDA seed stability on seed %d\n", o.Seeds[0])
	stab, err := stability(ctx, firstCase, o.LDASeeds)
	if err != nil {
		return err
	}
	var md bytes.Buffer
	report(&md, o, kindsSeen, flowRes, dnsRes, totals, stab)
	if o.Output == "" {
		_, err := o.IO.Out.Write(md.Bytes())
		return err
	}
	return replaceSection(o.Output, md.Bytes())
}

func quietIO(ios *iostreams.IOStreams) *iostreams.IOStreams {
	q, _, _, _ := iostreams.Test()
	q.ErrOut = ios.ErrOut
	return q
}

func writeCapture(path string, opts synth.Options) (synth.Stats, error) {
	f, err := os.Create(path)
	if err != nil {
		return synth.Stats{}, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	st, err := synth.Write(w, opts)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return st, err
}

// evalFlows scores every flow with the default model and measures each
// injected kind against background flows.
func evalFlows(ctx context.Context, c *flowstore.Case, truth synth.Truth) (map[string]kindStats, int, int, error) {
	cf, err := score.LoadFlows(c)
	if err != nil {
		return nil, 0, 0, err
	}
	res, err := suspicious.RunFlows(ctx, &cf.Cols, suspicious.FlowOptions{Threshold: 1})
	if err != nil {
		return nil, 0, 0, err
	}
	n := cf.Cols.Len()
	labels := make([]string, n)
	injected := 0
	var r flow.Record
	for i := 0; i < n; i++ {
		t, row := cf.At(i)
		if err := t.FlowAt(row, &r); err != nil {
			return nil, 0, 0, err
		}
		if k, ok := truth.LabelFlow(&r); ok {
			labels[i] = string(k)
			injected++
		}
	}
	return measure(res.Selected, res.Scores, labels), n, injected, nil
}

// evalDNS does the same for DNS responses (Spot's DNS events).
func evalDNS(ctx context.Context, c *flowstore.Case, truth synth.Truth) (map[string]kindStats, int, error) {
	evs, refs, err := score.LoadDNS(c)
	if err != nil {
		return nil, 0, err
	}
	if len(evs) == 0 {
		return map[string]kindStats{}, 0, nil
	}
	res, err := suspicious.RunDNS(ctx, evs, suspicious.DNSRunOptions{Threshold: 1})
	if err != nil {
		return nil, 0, err
	}
	labels := make([]string, len(evs))
	var m flow.DNSMessage
	for i, ref := range refs {
		m.Answers = m.Answers[:0]
		if err := ref.T.DNSAt(ref.Row, &m); err != nil {
			return nil, 0, err
		}
		if k, ok := truth.LabelDNS(&m); ok {
			labels[i] = string(k)
		}
	}
	return measure(res.Selected, res.Scores, labels), len(evs), nil
}

// measure computes per-kind figures from a ranking (indices, best first),
// the scores and a label per item ("" = background).
func measure(ranking []int, scores []float64, labels []string) map[string]kindStats {
	out := map[string]kindStats{}
	for pos, i := range ranking {
		k := labels[i]
		if k == "" {
			continue
		}
		s := out[k]
		if s.firstRank == 0 {
			s.firstRank = pos + 1
		}
		for j, at := range precAt {
			if pos < at {
				s.prec[j]++
			}
		}
		out[k] = s
	}
	var bg []float64
	byKind := map[string][]float64{}
	for i, k := range labels {
		if k == "" {
			bg = append(bg, scores[i])
		} else {
			byKind[k] = append(byKind[k], scores[i])
		}
	}
	slices.Sort(bg)
	for k, pos := range byKind {
		s := out[k]
		s.n = len(pos)
		s.auc = auc(pos, bg)
		out[k] = s
	}
	return out
}

// auc is the probability that a labelled item scores lower (more
// suspicious) than a background one, ties counting half: the area under the
// ROC curve of "low score means attack". bg must be sorted.
func auc(pos, bg []float64) float64 {
	if len(pos) == 0 || len(bg) == 0 {
		return math.NaN()
	}
	var sum float64
	for _, p := range pos {
		lo := sort.SearchFloat64s(bg, p)
		hi := lo
		for hi < len(bg) && bg[hi] == p {
			hi++
		}
		sum += float64(len(bg)-hi) + 0.5*float64(hi-lo)
	}
	return sum / (float64(len(pos)) * float64(len(bg)))
}

// stability fits the flow and DNS models with n LDA seeds and compares
// their top-50 sets pairwise: the mean and smallest overlap (|A∩B|/50).
func stability(ctx context.Context, c *flowstore.Case, n int) ([2][2]float64, error) {
	var out [2][2]float64
	cf, err := score.LoadFlows(c)
	if err != nil {
		return out, err
	}
	evs, _, err := score.LoadDNS(c)
	if err != nil {
		return out, err
	}
	var flowTops, dnsTops [][]int
	for s := 1; s <= n; s++ {
		opt := lda.Options{Seed: uint64(s)}
		fr, err := suspicious.RunFlows(ctx, &cf.Cols, suspicious.FlowOptions{LDA: opt, Threshold: 1, MaxResults: 50})
		if err != nil {
			return out, err
		}
		flowTops = append(flowTops, fr.Selected)
		dr, err := suspicious.RunDNS(ctx, evs, suspicious.DNSRunOptions{LDA: opt, Threshold: 1, MaxResults: 50})
		if err != nil {
			return out, err
		}
		dnsTops = append(dnsTops, dr.Selected)
	}
	out[0][0], out[0][1] = overlap(flowTops)
	out[1][0], out[1][1] = overlap(dnsTops)
	return out, nil
}

func overlap(tops [][]int) (mean, min float64) {
	min = 1
	var sum float64
	pairs := 0
	for a := 0; a < len(tops); a++ {
		for b := a + 1; b < len(tops); b++ {
			common := 0
			for _, x := range tops[a] {
				if slices.Contains(tops[b], x) {
					common++
				}
			}
			size := max(len(tops[a]), 1)
			v := float64(common) / float64(size)
			sum += v
			min = math.Min(min, v)
			pairs++
		}
	}
	return sum / float64(pairs), min
}

func report(w io.Writer, o *Options, kinds []string, flowRes, dnsRes map[string][]kindStats, totals [][3]int, stab [2][2]float64) {
	seeds := make([]string, len(o.Seeds))
	for i, s := range o.Seeds {
		seeds[i] = strconv.FormatUint(s, 10)
	}
	fmt.Fprintf(w, "Generated by `spotctl eval --seeds %s --hosts %d --duration %s --inject %s --lda-seeds %d` "+
		"(default model: K=20, 20 iterations, α=1.02, η=1.001, LDA seed 0xdeadbeef, hours in UTC; "+
		"DNS popularity learned from each capture).\n\n", strings.Join(seeds, ","), o.Hosts, o.Duration, o.Inject, o.LDASeeds)
	fmt.Fprintf(w, "| seed | flows | injected flows | DNS responses scored |\n|---:|---:|---:|---:|\n")
	for i, t := range totals {
		fmt.Fprintf(w, "| %s | %d | %d | %d |\n", seeds[i], t[0], t[2], t[1])
	}
	section := func(title string, res map[string][]kindStats) {
		fmt.Fprintf(w, "\n%s\n\n| kind | labelled (mean) | rank of first, per seed | P@10 | P@50 | P@100 | ROC AUC (mean) |\n|---|---:|---|---:|---:|---:|---:|\n", title)
		for _, k := range kinds {
			ss := res[k]
			var n, aucSum float64
			aucN := 0
			var prec [3]float64
			var ranks []string
			for _, s := range ss {
				n += float64(s.n)
				for j := range prec {
					prec[j] += float64(s.prec[j]) / float64(precAt[j])
				}
				if s.firstRank == 0 {
					ranks = append(ranks, "–")
				} else {
					ranks = append(ranks, strconv.Itoa(s.firstRank))
				}
				if !math.IsNaN(s.auc) {
					aucSum += s.auc
					aucN++
				}
			}
			if n == 0 {
				continue
			}
			m := float64(len(ss))
			aucText := "–"
			if aucN > 0 {
				aucText = fmt.Sprintf("%.3f", aucSum/float64(aucN))
			}
			fmt.Fprintf(w, "| %s | %.0f | %s | %.2f | %.2f | %.2f | %s |\n", k, n/m, strings.Join(ranks, ", "),
				prec[0]/m, prec[1]/m, prec[2]/m, aucText)
		}
	}
	section("**Flows** (`spotctl score flows`; a flow is labelled by the truth file's conversation rules):", flowRes)
	section("**DNS responses** (`spotctl score dns`; labelled by client and domain suffix):", dnsRes)
	fmt.Fprintf(w, "\n**Stability across LDA seeds** (seed %d capture, seeds 1–%d, all %d pairs): top-50 overlap |A∩B|/50 — "+
		"flows mean %.2f, min %.2f; DNS mean %.2f, min %.2f.\n", o.Seeds[0], o.LDASeeds, o.LDASeeds*(o.LDASeeds-1)/2,
		stab[0][0], stab[0][1], stab[1][0], stab[1][1])
}

const beginMarker, endMarker = "<!-- eval:begin -->", "<!-- eval:end -->"

// replaceSection puts body between the markers of the Markdown file,
// creating the file (or the markers at its end) when absent.
func replaceSection(path string, body []byte) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	s := string(old)
	block := beginMarker + "\n" + string(body) + endMarker + "\n"
	i, j := strings.Index(s, beginMarker), strings.Index(s, endMarker)
	if i >= 0 && j > i {
		s = s[:i] + block + strings.TrimPrefix(s[j+len(endMarker):], "\n")
	} else {
		if s != "" && !strings.HasSuffix(s, "\n") {
			s += "\n"
		}
		s += block
	}
	return os.WriteFile(path, []byte(s), 0o644)
}
