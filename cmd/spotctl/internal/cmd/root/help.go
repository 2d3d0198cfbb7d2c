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
  1    error: nothing usable in the evidence, an I/O failure, or a corrupt
       case: a column that fails its checksum or structure check is refused
       by every command that reads it, with a message naming the file,
       table, column and byte offset (spotctl verify checks every column)
  2    usage: unknown command or flag, bad argument
  3    partial: some evidence was damaged or unreadable, or a bound spotctl
       keeps against hostile input was reached (NetFlow template cache,
       fragment tracker); everything readable was used and the results were
       written, and each problem was reported on stderr as a "warning:" line
       with its file and byte offset (use --strict to make it fatal)
  4    findings matched a gate (--fail-on; reserved for the scoring commands)
  130  interrupted (Ctrl-C); a case being written is left as it was before

Malformed traffic that the evidence recorded intact (a payload on port 53
that is not well-formed DNS, fragments overlapping with different bytes) is
reported as a "note:" line with file and offset and counted in the case
manifest, but changes no exit code: the sender of a packet, not the
evidence, chose those bytes, and one crafted packet must not make every
analysis of a capture "partial". At most 10 warnings and 10 notes of each
kind per file are printed; one more line per kind counts the rest.
`,
	},
	{
		name:  "filters",
		short: "The filter language of flows, dns, score and stats",
		long: `Filters follow nfdump's syntax (docs/filter.md has the grammar and every primitive):

  expr    := term | expr and expr | expr or expr | not expr | ( expr )
             not binds tightest, then and, then or; # starts a comment
  flows   [src|dst] ip A | net A/N | net A MASK | ip in [ A B C/N ... ]
          [src|dst] port [= < > <= >=] N | port in [ N ... ]
          proto tcp|udp|icmp|N   flags AFSRPUEC   ipv4 | ipv6
          packets|bytes|duration|pps|bps|bpp [cmp] N[k|M|G]
          first seen|last seen [cmp] 2026-03-02T09:00:00   icmp-type N  icmp-code N
          vlan N  tos N  [src|dst] as N  in if N  out if N  exporter A  next ip A
  dns     qname NAME | qname suffix NAME | qname ~ 'REGEX'  qtype A|AAAA|TXT|N
          rcode NOERROR|NXDOMAIN|N  client A|NET  server A|NET  response | query
  scored  score [cmp] X   kind flow|dns

Examples:
  spotctl flows case1 'src net 10.0.0.0/8 and dst port in [ 22 3389 ] and bytes > 1M'
  spotctl dns case1 'response and rcode NXDOMAIN and not qname suffix corp.example'
  spotctl score flows case1 --fail-on 'score < 1e-6'
  spotctl flows --check 'proto tcp and flags S and not flags A'
`,
	},
	{
		name:  "environment",
		short: "Environment variables that change spotctl's behaviour",
		long: `SPOTCTL_FORCE_TTY   when set, stdout and stderr count as terminals: tables instead
                    of JSON Lines, progress on stderr (screenshots, demos)
NO_COLOR            spotctl prints no colour (it prints none today either)
TZ                  does not change any output: machine formats are always UTC
SPOTCTL_CPUPROFILE  write a Go CPU profile of the run to this file (go tool pprof)
GOMEMLIMIT          replaces the soft limit of the Go heap that ingest (320 MiB)
                    and stats (512 MiB) set; it is soft: nothing fails at it
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

Whole tables for DuckDB, pandas or Spark: spotctl export CASE --parquet DIR
(also --csv DIR, --jsonl DIR): one file per table and UTC hour, Hive-style
directories, the same columns as the JSON output (docs/export.md).

Evidence (detected by content, never by file name; each may be gzip- or
zstd-compressed; docs/formats.md):
  pcap (microsecond and nanosecond, both byte orders), pcapng (several sections
  and interfaces). Link types: Ethernet (802.1Q, 802.1ad, stacked tags, MPLS),
  Linux SLL and SLL2, BSD loopback/NULL, raw IPv4/IPv6.
  NetFlow v5, v9 and IPFIX export datagrams, inside captures (any UDP port) or
  as raw datagram files.
  nfdump nfcapd files (1.6 and 1.7 layouts; LZO, BZ2, LZ4, ZSTD blocks).
  Text flow logs: nfdump CSV, Apache Spot flow CSV, Argus/CTU binetflow, Zeek
  conn.log and dns.log (TSV or JSON lines).
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
		Annotations: map[string]string{
			"helpTopic": "true",
		},
	}
}
