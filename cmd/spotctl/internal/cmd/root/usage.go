package root

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmdutil"
)

// markUsageErrors makes cobra's own argument errors usage errors (exit 2),
// as spotctl help exit-codes promises: a wrong argument count, and an
// unknown subcommand of a command that only groups others (score), which
// cobra would otherwise answer with its help and exit 0. The root's
// unknown command is found before any validator runs; Main handles it.
func markUsageErrors(c *cobra.Command) {
	if c.HasParent() && c.HasSubCommands() && !c.Runnable() {
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return c.Help()
			}
			return cmdutil.FlagErrorf("unknown command %q for %q", args[0], c.CommandPath())
		}
	} else if validate := c.Args; validate != nil {
		c.Args = func(c *cobra.Command, args []string) error {
			err := validate(c, args)
			var fe *cmdutil.FlagError
			if err != nil && !errors.As(err, &fe) {
				err = &cmdutil.FlagError{Err: err}
			}
			return err
		}
	}
	for _, sub := range c.Commands() {
		markUsageErrors(sub)
	}
}

// newHelpCommand replaces cobra's help command, which answers an unknown
// topic with the usage and exit 0 (here a usage error, exit 2) and shows a
// help topic with a usage line and flags as if it were a command.
func newHelpCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command|topic]",
		Short: "Help about any command or topic",
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := c.Root().Find(args)
			if err != nil || target == nil || len(rest) > 0 {
				return cmdutil.FlagErrorf("unknown help topic %q (spotctl help lists the commands and topics)", strings.Join(args, " "))
			}
			if target.Annotations["helpTopic"] == "true" {
				c.Print(target.Long)
				return nil
			}
			target.InitDefaultHelpFlag()
			target.InitDefaultVersionFlag()
			return target.Help()
		},
	}
}
