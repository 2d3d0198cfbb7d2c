package root

import (
	"github.com/spf13/cobra"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmd/dns"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmd/eval"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmd/export"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmd/flows"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmd/info"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmd/ingest"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmd/score"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmd/stats"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmd/synth"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmd/verify"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/iostreams"
)

func init() {
	commands = []func(*iostreams.IOStreams) *cobra.Command{
		func(ios *iostreams.IOStreams) *cobra.Command { return ingest.NewCmd(ios, nil) },
		func(ios *iostreams.IOStreams) *cobra.Command { return info.NewCmd(ios, nil) },
		func(ios *iostreams.IOStreams) *cobra.Command { return flows.NewCmd(ios, nil) },
		func(ios *iostreams.IOStreams) *cobra.Command { return dns.NewCmd(ios, nil) },
		func(ios *iostreams.IOStreams) *cobra.Command { return stats.NewCmd(ios, nil) },
		func(ios *iostreams.IOStreams) *cobra.Command { return score.NewCmd(ios) },
		func(ios *iostreams.IOStreams) *cobra.Command { return export.NewCmd(ios, nil) },
		func(ios *iostreams.IOStreams) *cobra.Command { return verify.NewCmd(ios, nil) },
		func(ios *iostreams.IOStreams) *cobra.Command { return synth.NewCmd(ios, nil) },
		func(ios *iostreams.IOStreams) *cobra.Command { return eval.NewCmd(ios) },
	}
}
