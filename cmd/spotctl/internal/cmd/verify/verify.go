// Package verify is `spotctl verify`: is the case intact, and is the
// evidence still what was ingested?
package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmdutil"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/iostreams"
	"github.com/spotctl/spotctl/flowstore"
	"github.com/spotctl/spotctl/report"
)

// Options are the parsed flags of `spotctl verify`.
type Options struct {
	IO         *iostreams.IOStreams
	Case       string
	NoEvidence bool
	Output     cmdutil.OutputFlags
}

// NewCmd builds `spotctl verify`.
func NewCmd(ios *iostreams.IOStreams, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "verify CASE",
		Short: "Check every column checksum and the evidence hashes of a case",
		Long: `Check a case: the header and CRC32C of every column of every segment, row
counts against the manifests, and the SHA-256 of every evidence file that is
still present at the path it was ingested from (files that are gone are
reported as "absent", which is not an error).

One row per check. Exit 0 when everything holds, 1 when anything is corrupt
or an evidence file has changed.`,
		Example: `  spotctl verify case1
  spotctl verify case1 --no-evidence --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Case = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.NoEvidence, "no-evidence", false, "skip re-hashing the evidence files")
	opts.Output.AddFlags(cmd.Flags())
	return cmd
}

// Columns of a verify row.
var Columns = []report.Column{
	{Name: "check", Kind: report.String},
	{Name: "segment", Kind: report.Uint},
	{Name: "target", Kind: report.String},
	{Name: "status", Kind: report.String},
	{Name: "detail", Kind: report.String},
}

// Run checks the case and prints one row per check.
func Run(ctx context.Context, opts *Options) error {
	w, _, err := opts.Output.NewRowWriter(opts.IO, Columns)
	if err != nil {
		return err
	}
	c, err := cmdutil.OpenCase(opts.Case)
	if err != nil {
		return err
	}
	defer c.Close()
	bad := 0
	emit := func(check string, seg int, target, status, detail string) error {
		if status != "ok" && status != "absent" {
			bad++
		}
		return w.WriteRow([]report.Value{{S: check}, {U: uint64(seg)}, {S: target}, {S: status}, {S: detail}})
	}
	for _, s := range c.Segments() {
		errs := s.Verify()
		if len(errs) == 0 {
			if err := emit("columns", s.Number, fmt.Sprintf("flows %d rows, dns %d rows", s.Manifest.Flows, s.Manifest.DNS), "ok", "CRC32C of every column matches"); err != nil {
				return err
			}
		}
		for _, e := range errs {
			target := "segment"
			var ce *flowstore.CorruptError
			if errors.As(e, &ce) {
				target = ce.Table
				if ce.Column != "" {
					target += "." + ce.Column
				}
			}
			if err := emit("columns", s.Number, target, "corrupt", e.Error()); err != nil {
				return err
			}
		}
		if opts.NoEvidence {
			continue
		}
		for _, ev := range s.Manifest.Evidence {
			if err := ctx.Err(); err != nil {
				return err
			}
			status, detail := checkEvidence(ev)
			if err := emit("evidence", s.Number, ev.Path, status, detail); err != nil {
				return err
			}
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if bad > 0 {
		fmt.Fprintf(opts.IO.ErrOut, "case %s: %d problem(s)\n", opts.Case, bad)
		return &cmdutil.SilentError{Code: cmdutil.ExitError}
	}
	return nil
}

// checkEvidence re-hashes one evidence file, opened read-only.
func checkEvidence(ev flowstore.EvidenceFile) (status, detail string) {
	if ev.Path == "-" || ev.Path == "" {
		return "absent", "read from standard input"
	}
	if ev.SHA256 == "" {
		return "absent", "no hash recorded (the file could not be read at ingest)"
	}
	f, err := os.Open(ev.Path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "absent", "not at its ingest path"
		}
		return "unreadable", err.Error()
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "unreadable", err.Error()
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if sum != ev.SHA256 || n != ev.Size {
		return "changed", fmt.Sprintf("sha256 %s (%d bytes), ingested as %s (%d bytes)", sum, n, ev.SHA256, ev.Size)
	}
	return "ok", "sha256 " + sum
}
