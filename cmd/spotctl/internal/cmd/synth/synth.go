// Package synth is `spotctl synth`: a seeded synthetic capture for demos,
// benchmarks and tests.
package synth

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
}

// NewCmd builds `spotctl synth`.
func NewCmd(ios *iostreams.IOStreams, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "synth -o FILE.pcap",
		Short: "Write a seeded synthetic capture",
		Long: `Write a realistic synthetic packet capture (classic pcap, nanosecond
timestamps, Ethernet): an internal network of workstations and servers with a
daily activity curve, browsing to a fixed set of external names resolved
through an internal DNS resolver (real DNS wire format), TCP with handshakes
and teardown, UDP, ICMP, and some IPv6.

The same seed and options always give a byte-identical file.`,
		Example: `  spotctl synth -o demo.pcap
  spotctl synth --seed 7 --hosts 200 --duration 48h -o big.pcap
  spotctl synth --packets 2000000 -o - | gzip > bench.pcap.gz`,
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
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "no summary on stderr")
	return cmd
}

// Run writes the capture.
func Run(ctx context.Context, opts *Options) error {
	var w io.Writer
	var finish func() error
	if opts.Output == "-" {
		bw := bufio.NewWriterSize(opts.IO.Out, 1<<20)
		w, finish = bw, bw.Flush
	} else {
		// Write beside the target and rename, so a killed run never leaves
		// a half capture under the final name.
		dir := filepath.Dir(opts.Output)
		tmp, err := os.CreateTemp(dir, "."+filepath.Base(opts.Output)+".tmp-*")
		if err != nil {
			return fmt.Errorf("synth: %w", err)
		}
		defer os.Remove(tmp.Name())
		bw := bufio.NewWriterSize(tmp, 1<<20)
		w = bw
		finish = func() error {
			if err := bw.Flush(); err != nil {
				tmp.Close()
				return err
			}
			if err := tmp.Chmod(0o644); err != nil {
				tmp.Close()
				return err
			}
			if err := tmp.Close(); err != nil {
				return err
			}
			return os.Rename(tmp.Name(), opts.Output)
		}
	}
	st, err := gen.Write(w, opts.Gen)
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	if err := finish(); err != nil {
		return fmt.Errorf("synth: write %s: %w", opts.Output, err)
	}
	if !opts.Quiet {
		fmt.Fprintf(opts.IO.ErrOut, "wrote %d packets (%d bytes), %s to %s, seed %d\n",
			st.Packets, st.Bytes, st.First.UTC().Format(time.RFC3339), st.Last.UTC().Format(time.RFC3339), opts.Gen.Seed)
	}
	return nil
}
