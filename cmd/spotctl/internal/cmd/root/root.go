// Package root assembles the command tree, the help topics, and the single
// place where an error becomes an exit code.
package root

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmdutil"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/iostreams"
)

// NewCmdRoot builds the spotctl command tree.
func NewCmdRoot(ios *iostreams.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "spotctl <command> [flags]",
		Short: "Find what is suspicious in network evidence",
		Long: `spotctl reads network evidence (pcap and pcapng captures, NetFlow v5/v9/IPFIX,
nfdump nfcapd files, nfdump/Argus/Spot CSV, Zeek logs; gzip'd or zstd'd) into a
memory-mapped columnar case, ranks what is unusual with Apache Spot's suspicious
connects, and prints tables on a terminal and JSON Lines in a pipe.

Start with:  spotctl synth --inject all -o demo.pcap && spotctl ingest demo.pcap -o demo.case && spotctl score flows demo.case`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       cmdutil.Version(),
	}
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	cmd.SetIn(ios.In)
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &cmdutil.FlagError{Err: err}
	})
	cmd.CompletionOptions.DisableDefaultCmd = true
	cmd.AddGroup(&cobra.Group{ID: "commands", Title: "Commands:"}, &cobra.Group{ID: "topics", Title: "Help topics (spotctl help TOPIC):"})
	for _, add := range commands {
		c := add(ios)
		c.GroupID = "commands"
		cmd.AddCommand(c)
	}
	for _, t := range helpTopics {
		c := newHelpTopic(t)
		c.GroupID = "topics"
		cmd.AddCommand(c)
	}
	cmd.SetHelpCommand(newHelpCommand())
	cmd.SetHelpCommandGroupID("topics")
	markUsageErrors(cmd)
	return cmd
}

// commands lists the constructors of the subcommands; each subcommand
// package registers itself here through commands.go.
var commands []func(*iostreams.IOStreams) *cobra.Command

// Main runs spotctl with args and returns the process exit code. It is the
// one place that turns errors into exit codes and messages.
func Main(ios *iostreams.IOStreams, args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cmd := NewCmdRoot(ios)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return cmdutil.ExitOK
	}
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		fmt.Fprintln(ios.ErrOut, "spotctl: interrupted")
		return cmdutil.ExitInterrupted
	}
	if strings.HasPrefix(err.Error(), "unknown command ") {
		// Cobra's text for an unknown command of the root (its Find
		// returns it before any validator runs): a usage error.
		err = &cmdutil.FlagError{Err: err}
	}
	var silent *cmdutil.SilentError
	if !errors.As(err, &silent) {
		fmt.Fprintf(ios.ErrOut, "spotctl: %v\n", err)
	}
	var fe *cmdutil.FlagError
	if errors.As(err, &fe) {
		if c, _, ferr := cmd.Find(args); ferr == nil && c != nil {
			fmt.Fprintf(ios.ErrOut, "Usage: %s\nRun '%s --help' for more.\n", c.UseLine(), c.CommandPath())
		}
	}
	return cmdutil.ExitCode(err)
}
