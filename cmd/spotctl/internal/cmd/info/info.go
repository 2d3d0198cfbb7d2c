// Package info is `spotctl info`: what a case holds and where it came from.
package info

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmdutil"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/iostreams"
	"github.com/spotctl/spotctl/flowstore"
	"github.com/spotctl/spotctl/report"
	"github.com/spotctl/spotctl/report/table"
	"github.com/spotctl/spotctl/report/textsafe"
)

// Options are the parsed flags of `spotctl info`.
type Options struct {
	IO     *iostreams.IOStreams
	Case   string
	Format string
}

// NewCmd builds `spotctl info`.
func NewCmd(ios *iostreams.IOStreams, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "info CASE",
		Short: "Show what a case holds: evidence, hashes, counts, time span",
		Long: `Show what a case holds: every evidence file with its size, SHA-256, detected
format, link types, packets, time span and the problems found in it; totals of
flows and DNS messages; and flows per hour (by the hour of their first packet, UTC).

On a terminal this is a summary with tables; in a pipe (or with --format json)
one JSON object (docs/json.md).`,
		Example: `  spotctl info case1
  spotctl info case1 --format json | jq -r '.evidence[] | "\(.sha256)  \(.path)"'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Case = args[0]
			switch opts.Format {
			case "", "table", "json", "jsonl":
			default:
				return cmdutil.FlagErrorf("info prints a table or one JSON object: --format table, json or jsonl")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "", "table or json (default: table on a terminal, json in a pipe)")
	return cmd
}

// Summary is the JSON shape of `spotctl info` (docs/json.md).
type Summary struct {
	Case          string      `json:"case"`
	Format        string      `json:"format"`
	FormatVersion int         `json:"format_version"`
	CreatedBy     string      `json:"created_by"`
	Segments      int         `json:"segments"`
	Flows         uint64      `json:"flows"`
	DNS           uint64      `json:"dns"`
	Packets       uint64      `json:"packets"`
	Bytes         uint64      `json:"bytes"`
	First         string      `json:"first,omitempty"`
	Last          string      `json:"last,omitempty"`
	Evidence      []Evidence  `json:"evidence"`
	FlowsPerHour  []HourCount `json:"flows_per_hour"`
	Problems      uint64      `json:"problems"`
	Notes         uint64      `json:"note_count"`
}

// Evidence is one evidence file of the case.
type Evidence struct {
	Segment     int                       `json:"segment"`
	Index       int                       `json:"index"`
	Path        string                    `json:"path"`
	Size        int64                     `json:"size"`
	SHA256      string                    `json:"sha256"`
	Format      string                    `json:"format"`
	Compression string                    `json:"compression"`
	LinkTypes   []string                  `json:"link_types"`
	Packets     uint64                    `json:"packets"`
	First       string                    `json:"first,omitempty"`
	Last        string                    `json:"last,omitempty"`
	ErrorCount  uint64                    `json:"error_count"`
	Errors      []flowstore.EvidenceError `json:"errors"`
	// Notes are malformed traffic the file recorded intact (not-DNS on
	// port 53, inconsistent fragments): not problems of the evidence.
	NoteCount uint64                    `json:"note_count"`
	Notes     []flowstore.EvidenceError `json:"notes"`
}

// HourCount is the number of flows whose first packet falls in one hour.
type HourCount struct {
	Hour  string `json:"hour"`
	Flows uint64 `json:"flows"`
}

// Run prints the summary.
func Run(ctx context.Context, opts *Options) error {
	c, err := cmdutil.OpenCase(opts.Case)
	if err != nil {
		return err
	}
	defer c.Close()
	s, err := Summarize(c, opts.Case)
	if err != nil {
		return err
	}
	format := opts.Format
	if format == "" {
		format = "json"
		if opts.IO.IsStdoutTTY() {
			format = "table"
		}
	}
	if format == "table" {
		return printTable(opts.IO.Out, s)
	}
	return writeJSON(opts.IO.Out, s)
}

// Summarize gathers the summary of a case.
func Summarize(c *flowstore.Case, name string) (*Summary, error) {
	ci := c.Info()
	s := &Summary{Case: name, Format: ci.Format, FormatVersion: ci.FormatVersion, CreatedBy: ci.CreatedBy,
		Evidence: []Evidence{}, FlowsPerHour: []HourCount{}}
	var first, last int64
	perHour := map[int64]uint64{}
	for _, seg := range c.Segments() {
		s.Segments++
		m := seg.Manifest
		for i, e := range m.Evidence {
			ev := Evidence{Segment: seg.Number, Index: i, Path: e.Path, Size: e.Size, SHA256: e.SHA256,
				Format: e.Format, Compression: e.Compression, LinkTypes: []string{}, Packets: e.Packets,
				ErrorCount: e.ErrorCount, Errors: e.Errors, NoteCount: e.NoteCount, Notes: e.Notes}
			for _, lt := range e.LinkTypes {
				ev.LinkTypes = append(ev.LinkTypes, report.LinkTypeName(lt))
			}
			if e.Packets > 0 {
				ev.First, ev.Last = report.FormatTime(e.First), report.FormatTime(e.Last)
			}
			if ev.Errors == nil {
				ev.Errors = []flowstore.EvidenceError{}
			}
			if ev.Notes == nil {
				ev.Notes = []flowstore.EvidenceError{}
			}
			s.Problems += e.ErrorCount
			s.Notes += e.NoteCount
			s.Evidence = append(s.Evidence, ev)
		}
		t, err := seg.Flows()
		if err != nil {
			return nil, err
		}
		firsts, err := t.Int64("first")
		if err != nil {
			return nil, err
		}
		lasts, err := t.Int64("last")
		if err != nil {
			return nil, err
		}
		pk, err := t.Uint64("packets")
		if err != nil {
			return nil, err
		}
		by, err := t.Uint64("bytes")
		if err != nil {
			return nil, err
		}
		s.Flows += uint64(len(firsts))
		for i, f := range firsts {
			if first == 0 || f < first {
				first = f
			}
			if lasts[i] > last {
				last = lasts[i]
			}
			s.Packets += pk[i]
			s.Bytes += by[i]
			perHour[floorHour(f)]++
		}
		d, err := seg.DNS()
		if err != nil {
			return nil, err
		}
		s.DNS += uint64(d.Rows())
	}
	if s.Flows > 0 {
		s.First, s.Last = report.FormatTime(first), report.FormatTime(last)
	}
	hours := slices.Sorted(maps.Keys(perHour))
	for _, h := range hours {
		s.FlowsPerHour = append(s.FlowsPerHour, HourCount{Hour: time.Unix(h, 0).UTC().Format(time.RFC3339), Flows: perHour[h]})
	}
	return s, nil
}

// floorHour is the Unix second of the start of the UTC hour holding ns
// (correct for times before 1970 too).
func floorHour(ns int64) int64 {
	sec := ns / 1e9
	if ns%1e9 < 0 {
		sec--
	}
	h := sec / 3600
	if sec%3600 < 0 {
		h--
	}
	return h * 3600
}

func writeJSON(w io.Writer, s *Summary) error {
	b := []byte("{")
	field := func(name string, v []byte) {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = report.AppendJSONString(b, name)
		b = append(b, ':')
		b = append(b, v...)
	}
	str := func(v string) []byte { return report.AppendJSONString(nil, v) }
	num := func(v uint64) []byte { return fmt.Appendf(nil, "%d", v) }
	field("case", str(s.Case))
	field("format", str(s.Format))
	field("format_version", num(uint64(s.FormatVersion)))
	field("created_by", str(s.CreatedBy))
	field("segments", num(uint64(s.Segments)))
	field("flows", num(s.Flows))
	field("dns", num(s.DNS))
	field("packets", num(s.Packets))
	field("bytes", num(s.Bytes))
	field("first", str(s.First))
	field("last", str(s.Last))
	field("problems", num(s.Problems))
	field("note_count", num(s.Notes))
	ev := []byte("[")
	for i, e := range s.Evidence {
		if i > 0 {
			ev = append(ev, ',')
		}
		ev = fmt.Appendf(ev, `{"segment":%d,"index":%d,"path":`, e.Segment, e.Index)
		ev = report.AppendJSONString(ev, e.Path)
		ev = fmt.Appendf(ev, `,"size":%d,"sha256":`, e.Size)
		ev = report.AppendJSONString(ev, e.SHA256)
		ev = append(ev, `,"format":`...)
		ev = report.AppendJSONString(ev, e.Format)
		ev = append(ev, `,"compression":`...)
		ev = report.AppendJSONString(ev, e.Compression)
		ev = append(ev, `,"link_types":[`...)
		for j, lt := range e.LinkTypes {
			if j > 0 {
				ev = append(ev, ',')
			}
			ev = report.AppendJSONString(ev, lt)
		}
		ev = fmt.Appendf(ev, `],"packets":%d,"first":`, e.Packets)
		ev = report.AppendJSONString(ev, e.First)
		ev = append(ev, `,"last":`...)
		ev = report.AppendJSONString(ev, e.Last)
		ev = fmt.Appendf(ev, `,"error_count":%d,"errors":`, e.ErrorCount)
		ev = appendEvidenceErrors(ev, e.Errors)
		ev = fmt.Appendf(ev, `,"note_count":%d,"notes":`, e.NoteCount)
		ev = appendEvidenceErrors(ev, e.Notes)
		ev = append(ev, '}')
	}
	field("evidence", append(ev, ']'))
	hs := []byte("[")
	for i, h := range s.FlowsPerHour {
		if i > 0 {
			hs = append(hs, ',')
		}
		hs = fmt.Appendf(hs, `{"hour":%q,"flows":%d}`, h.Hour, h.Flows)
	}
	field("flows_per_hour", append(hs, ']'))
	b = append(b, "}\n"...)
	_, err := w.Write(b)
	return err
}

// appendEvidenceErrors appends a JSON array of {"offset": N, "message": "…"}.
func appendEvidenceErrors(b []byte, es []flowstore.EvidenceError) []byte {
	b = append(b, '[')
	for j, er := range es {
		if j > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"offset":%d,"message":`, er.Offset)
		b = report.AppendJSONString(b, er.Message)
		b = append(b, '}')
	}
	return append(b, ']')
}

func printTable(w io.Writer, s *Summary) error {
	safe := textsafe.Terminal
	fmt.Fprintf(w, "case        %s (%s v%d, created by %s)\n", safe(s.Case), s.Format, s.FormatVersion, safe(s.CreatedBy))
	fmt.Fprintf(w, "segments    %d\n", s.Segments)
	fmt.Fprintf(w, "flows       %d (%d packets, %d bytes)\n", s.Flows, s.Packets, s.Bytes)
	fmt.Fprintf(w, "dns         %d messages\n", s.DNS)
	if s.First != "" {
		fmt.Fprintf(w, "time span   %s .. %s\n", s.First, s.Last)
	}
	fmt.Fprintf(w, "problems    %d\n", s.Problems)
	fmt.Fprintf(w, "notes       %d (malformed traffic recorded intact; no exit code)\n\nevidence\n", s.Notes)
	cols := []report.Column{
		{Name: "seg", Kind: report.Uint}, {Name: "#", Kind: report.Uint}, {Name: "path", Kind: report.String},
		{Name: "format", Kind: report.String}, {Name: "link_types", Kind: report.String},
		{Name: "size", Kind: report.Uint}, {Name: "packets", Kind: report.Uint},
		{Name: "first", Kind: report.String}, {Name: "last", Kind: report.String},
		{Name: "errors", Kind: report.Uint}, {Name: "notes", Kind: report.Uint}, {Name: "sha256", Kind: report.String},
	}
	tw := table.New(w, cols, table.Options{})
	for _, e := range s.Evidence {
		format := e.Format
		if e.Compression != "" {
			format += "+" + e.Compression
		}
		tw.WriteRow([]report.Value{
			{U: uint64(e.Segment)}, {U: uint64(e.Index)}, {S: e.Path}, {S: format},
			{S: strings.Join(e.LinkTypes, ",")}, {U: uint64(e.Size)}, {U: e.Packets},
			{S: shortTime(e.First)}, {S: shortTime(e.Last)}, {U: e.ErrorCount}, {U: e.NoteCount}, {S: e.SHA256},
		})
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, e := range s.Evidence {
		for _, er := range e.Errors {
			fmt.Fprintf(w, "  problem in %s at offset %d: %s\n", safe(e.Path), er.Offset, safe(er.Message))
		}
		for _, er := range e.Notes {
			fmt.Fprintf(w, "  note on %s at offset %d: %s\n", safe(e.Path), er.Offset, safe(er.Message))
		}
	}
	if len(s.FlowsPerHour) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nflows per hour (UTC, by first packet)\n")
	var max uint64
	for _, h := range s.FlowsPerHour {
		max = maxU(max, h.Flows)
	}
	hcols := []report.Column{{Name: "hour", Kind: report.String}, {Name: "flows", Kind: report.Uint}, {Name: "", Kind: report.String}}
	hw := table.New(w, hcols, table.Options{})
	for _, h := range s.FlowsPerHour {
		bar := strings.Repeat("#", int((h.Flows*40+max-1)/max))
		hw.WriteRow([]report.Value{{S: strings.TrimSuffix(strings.Replace(h.Hour, "T", " ", 1), ":00Z")}, {U: h.Flows}, {S: bar}})
	}
	return hw.Flush()
}

func shortTime(s string) string {
	if len(s) >= 19 {
		return strings.Replace(s[:19], "T", " ", 1)
	}
	return s
}

func maxU(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}
