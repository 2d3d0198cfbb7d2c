package root

import (
	"github.com/spf13/cobra"
)

type helpTopic struct {
	name, short, long string
}

var helpTopics = []helpTopic{
	{
		name:  "exit-codes",
		short: "What spotctl's exit codes mean",
		long: `spotctl exits with one of these codes. Scripts and CI jobs may rely on them;
an unknown code must be treated as a failure.

  0    success (this includes "nothing suspicious found")
  1    error: nothing usable in the evidence, a corrupt case, an I/O failure
  2    usage: unknown command or flag, bad argument
  3    partial: some evidence was damaged or unreadable; everything readable was
       used and the results were written, and each problem was reported on
       stderr with its file and byte offset (use --strict to make it fatal)
  4    findings matched a gate (--fail-on; reserved for the scoring commands)
  130  interrupted (Ctrl-C); a case being written is left as it was before
`,
	},
	{
		name:  "environment",
		short: "Environment variables that change spotctl's behaviour",
		long: `SPOTCTL_FORCE_TTY   when set, stdout and stderr count as terminals: tables instead
                    of JSON Lines, progress on stderr (screenshots, demos)
NO_COLOR            spotctl prints no colour (it prints none today either)
TZ                  does not change any output: machine formats are always UTC
`,
	},
	{
		name:  "formats",
		short: "Output formats and the evidence formats spotctl reads",
		long: `Output (every command with results):
  table   aligned ASCII table; the default when stdout is a terminal. Untrusted
          strings are shown with control characters escaped (\x1b, \u{202e}).
  jsonl   one JSON object per line; the default in a pipe. Field names are
          documented in docs/json.md.
  json    one JSON array of objects.
  csv     RFC 4180 with a header; cells that start with = + - @ get a leading '.
  tsv     tab-separated with a header; tabs, newlines and backslashes escaped.
  --fields a,b,c selects and orders fields; --no-header drops the header.

Evidence (detected by content, never by file name):
  pcap (microsecond and nanosecond, both byte orders), pcapng (several sections
  and interfaces), each optionally gzip- or zstd-compressed.
  Link types: Ethernet (802.1Q, 802.1ad, stacked tags, MPLS), Linux SLL and
  SLL2, BSD loopback/NULL, raw IPv4/IPv6.
`,
	},
}

func newHelpTopic(t helpTopic) *cobra.Command {
	return &cobra.Command{
		Use:   t.name,
		Short: t.short,
		Long:  t.long,
		Args:  cobra.NoArgs,
		Run: func(c *cobra.Command, _ []string) {
			c.Print(c.Long)
		},
		Hidden:  false,
		GroupID: "",
		Annotations: map[string]string{
			"helpTopic": "true",
		},
	}
}
