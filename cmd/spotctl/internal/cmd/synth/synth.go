// Package synth is `spotctl synth`: a seeded synthetic capture for demos,
// benchmarks and tests, optionally with labelled attacks and their truth
// file.
package synth

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmdutil"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/iostreams"
	gen "github.com/spotctl/spotctl/decode/synth"
)

// Options are the parsed flags of one synth run.
type Options struct {
	IO     *iostreams.IOStreams
	Output string
	Gen    gen.Options
	Start  string
	Quiet  bool
	// Inject holds the --inject values (each a comma list of specs);
	// RunE parses them into Gen.Inject.
	Inject []string
	// Truth is where the truth file goes: --truth, or <output>.truth.jsonl
	// when there are injections.
	Truth string
}

// TruthSuffix is appended to the capture's name for the default truth file.
const TruthSuffix = ".truth.jsonl"

// NewCmd builds `spotctl synth`.
func NewCmd(ios *iostreams.IOStreams, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "synth -o FILE.pcap",
		Short: "Write a seeded synthetic capture, optionally with labelled attacks",
		Long: `Write a realistic synthetic packet capture (classic pcap, nanosecond
timestamps, Ethernet): an internal network of workstations and servers with a
daily activity curve, browsing to a fixed set of external names resolved
through an internal DNS resolver (real DNS wire format), TCP with handshakes
and teardown, UDP, ICMP, and some IPv6.

--inject adds labelled malicious activity to that background, as real wire
traffic through the same machinery, and writes a truth file (JSON Lines, one
object per activity: kind, attacker, destinations, ports, time window, and
an exact rule that labels its flows and DNS messages; see docs/synth.md):

  beacon      a workstation checks in with a rare external address over TLS
              every interval (300s) ± jitter (10 %), day and night
  scan        a TCP connect scan of 1-1024 and common high ports on two
              workstations at 14:10; closed ports answer RST
  dns-tunnel  TXT/NULL/CNAME queries for long base32 subdomains of one domain
              through the resolver, one every 3s for 90m from 10:15
  exfil       a 200 MB upload to a rare external address over two TLS
              connections between 02:00 and 03:30
  dga         300 lookups of random names (NXDOMAIN) at 08:50; the last
              resolves and the malware connects to it
  lateral     SMB and SSH from one workstation to ten others at 15:20
  all         every kind above

A kind takes parameters after a colon, key=value, separated by colons:
src (ws-0007 or its address), at (HH:MM local, +DURATION or RFC 3339),
for, interval, jitter (0.2 or 20%), dst, port, domain, bytes (200MB, 1GiB),
conns, targets, ports (1-1024,3389) and count. Times of day follow the zone
of --start.

The same seed and options always give a byte-identical capture and truth file.`,
		Example: `  spotctl synth -o demo.pcap
  spotctl synth --seed 7 --hosts 200 --duration 48h -o big.pcap
  spotctl synth --packets 2000000 -o - | gzip > bench.pcap.gz
  spotctl synth --inject all -o attacks.pcap          # truth in attacks.pcap.truth.jsonl
  spotctl synth --inject beacon:interval=60s:jitter=20%,exfil:bytes=1GB -o c2.pcap
  spotctl synth --inject scan:at=+5m:ports=1-1024,3389 --duration 1h -o - --truth scan.jsonl > scan.pcap`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Output == "" {
				return cmdutil.FlagErrorf("missing -o FILE (use -o - for standard output)")
			}
			if opts.Gen.Hosts < 1 {
				return cmdutil.FlagErrorf("--hosts must be at least 1")
			}
			if opts.Gen.Duration <= 0 {
				return cmdutil.FlagErrorf("--duration must be positive")
			}
			if opts.Gen.Packets < 0 {
				return cmdutil.FlagErrorf("--packets must not be negative")
			}
			if opts.Start != "" {
				t, err := time.Parse(time.RFC3339, opts.Start)
				if err != nil {
					return cmdutil.FlagErrorf("--start: %v", err)
				}
				opts.Gen.Start = t
			}
			opts.Gen.Inject = nil
			for _, v := range opts.Inject {
				in, err := gen.ParseInjections(v)
				if err != nil {
					return cmdutil.FlagErrorf("--inject: %v", err)
				}
				opts.Gen.Inject = append(opts.Gen.Inject, in...)
			}
			if opts.Truth == "" && len(opts.Gen.Inject) > 0 {
				if opts.Output == "-" {
					return cmdutil.FlagErrorf("--inject with -o -: give --truth FILE for the truth file")
				}
				opts.Truth = opts.Output + TruthSuffix
			}
			if opts.Truth != "" && (opts.Truth == opts.Output || opts.Truth == "-" && opts.Output == "-") {
				return cmdutil.FlagErrorf("--truth must differ from -o")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Output, "output", "o", "", "file to write (- for standard output)")
	f.Uint64Var(&opts.Gen.Seed, "seed", 1, "random seed: the same seed gives the same file")
	f.IntVar(&opts.Gen.Hosts, "hosts", gen.DefaultHosts, fmt.Sprintf("internal hosts, including 5 servers (%d to %d)", gen.MinHosts, gen.MaxHosts))
	f.DurationVar(&opts.Gen.Duration, "duration", gen.DefaultDuration, "time span of the capture")
	f.IntVar(&opts.Gen.Packets, "packets", 0, "stop after this many packets (0: run the whole duration)")
	f.StringVar(&opts.Start, "start", gen.DefaultStart.Format(time.RFC3339), "capture start time (RFC 3339); the daily curve follows its zone")
	f.Float64Var(&opts.Gen.IPv6Share, "ipv6-share", gen.DefaultIPv6Share, "fraction of workstations that also use IPv6 (negative: none)")
	f.StringArrayVar(&opts.Inject, "inject", nil, "labelled attacks to add: comma list of "+kindNames()+" or all, each with optional :key=value parameters (repeatable)")
	f.StringVar(&opts.Truth, "truth", "", "truth file of the injected activities, JSON Lines (default with --inject: the capture's name + "+TruthSuffix+"; - for standard output)")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "no summary on stderr")
	return cmd
}

func kindNames() string {
	var s []string
	for _, k := range gen.Kinds() {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

// Run writes the capture and, with injections or --truth, the truth file.
// Both are written beside their targets and renamed into place only when
// complete, so a failed or killed run never leaves a half file (or a truth
// file without its capture) under the final name.
func Run(ctx context.Context, opts *Options) error {
	var w io.Writer
	var capFile *pending
	if opts.Output == "-" {
		w = bufio.NewWriterSize(opts.IO.Out, 1<<20)
	} else {
		p, err := newPending(opts.Output)
		if err != nil {
			return fmt.Errorf("synth: %w", err)
		}
		defer p.discard()
		capFile, w = p, p.w
	}
	st, err := gen.Write(w, opts.Gen)
	if err != nil {
		if errors.Is(err, gen.ErrOptions) {
			return cmdutil.FlagErrorf("%v", err)
		}
		return fmt.Errorf("synth: %w", err)
	}
	if capFile != nil {
		if err := capFile.finish(); err != nil {
			return fmt.Errorf("synth: write %s: %w", opts.Output, err)
		}
	} else if bw, ok := w.(*bufio.Writer); ok {
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("synth: write standard output: %w", err)
		}
	}
	var truthFile *pending
	switch opts.Truth {
	case "":
	case "-":
		if err := st.Truth.WriteJSONL(opts.IO.Out); err != nil {
			return fmt.Errorf("synth: %w", err)
		}
	default:
		p, err := newPending(opts.Truth)
		if err != nil {
			return fmt.Errorf("synth: %w", err)
		}
		defer p.discard()
		if err := st.Truth.WriteJSONL(p.w); err != nil {
			return fmt.Errorf("synth: write %s: %w", opts.Truth, err)
		}
		if err := p.finish(); err != nil {
			return fmt.Errorf("synth: write %s: %w", opts.Truth, err)
		}
		truthFile = p
	}
	if capFile != nil {
		if err := capFile.commit(); err != nil {
			return fmt.Errorf("synth: write %s: %w", opts.Output, err)
		}
	}
	if truthFile != nil {
		if err := truthFile.commit(); err != nil {
			return fmt.Errorf("synth: write %s: %w", opts.Truth, err)
		}
	}
	if !opts.Quiet {
		summary(opts, st)
	}
	return nil
}

func summary(opts *Options, st gen.Stats) {
	e := opts.IO.ErrOut
	fmt.Fprintf(e, "wrote %d packets (%d bytes), %s to %s, seed %d\n",
		st.Packets, st.Bytes, st.First.UTC().Format(time.RFC3339), st.Last.UTC().Format(time.RFC3339), opts.Gen.Seed)
	for _, a := range st.Truth.Activities {
		if a.Packets == 0 {
			fmt.Fprintf(e, "warning: injected %s (%s) has no traffic in the capture: it was due at %s\n",
				a.Kind, a.AttackerHost, a.Start.Format(time.RFC3339))
			continue
		}
		fmt.Fprintf(e, "injected %-10s %s (%v): %d flows, %d packets, %s to %s\n",
			a.Kind, a.AttackerHost, a.AttackerIP, a.Flows, a.Packets, a.Start.Format(time.RFC3339), a.End.Format(time.RFC3339))
	}
	if opts.Truth != "" && opts.Truth != "-" {
		fmt.Fprintf(e, "truth: %s (%d activities)\n", opts.Truth, len(st.Truth.Activities))
	}
}

// pending is a file being written beside its final name: finish flushes,
// sets the mode and closes it; commit renames it into place; discard removes
// whatever was not committed.
type pending struct {
	final string
	f     *os.File
	w     *bufio.Writer
	done  bool
}

func newPending(final string) (*pending, error) {
	dir := filepath.Dir(final)
	f, err := os.CreateTemp(dir, "."+filepath.Base(final)+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &pending{final: final, f: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

func (p *pending) finish() error {
	if err := p.w.Flush(); err != nil {
		p.f.Close()
		return err
	}
	if err := p.f.Chmod(0o644); err != nil {
		p.f.Close()
		return err
	}
	return p.f.Close()
}

func (p *pending) commit() error {
	if err := os.Rename(p.f.Name(), p.final); err != nil {
		return err
	}
	p.done = true
	return nil
}

func (p *pending) discard() {
	if !p.done {
		p.f.Close()
		os.Remove(p.f.Name())
	}
}
