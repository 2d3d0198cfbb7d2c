package cmdutil

import (
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/iostreams"
	"github.com/spotctl/spotctl/report"
	"github.com/spotctl/spotctl/report/table"
)

// OutputFlags are the output options every command with results takes.
type OutputFlags struct {
	Format   string
	Fields   string
	NoHeader bool
}

// AddFlags registers --format, --fields and --no-header.
func (o *OutputFlags) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Format, "format", "", "output format: table, json, jsonl, csv, tsv (default: table on a terminal, jsonl in a pipe)")
	fs.StringVar(&o.Fields, "fields", "", "comma-separated fields to print, in this order (default: all)")
	fs.BoolVar(&o.NoHeader, "no-header", false, "leave out the header line (table, csv, tsv)")
}

// Resolve picks the format: an explicit --format wins, else a table on a
// terminal and JSON Lines in a pipe.
func (o *OutputFlags) Resolve(io *iostreams.IOStreams) (report.Format, error) {
	if o.Format == "" {
		if io.IsStdoutTTY() {
			return report.FormatTable, nil
		}
		return report.FormatJSONL, nil
	}
	f, err := report.ParseFormat(o.Format)
	if err != nil {
		return "", &FlagError{Err: err}
	}
	return f, nil
}

// NewRowWriter resolves the format and field selection and returns a writer
// over the selected columns plus the index of each selected column in cols.
func (o *OutputFlags) NewRowWriter(io *iostreams.IOStreams, cols []report.Column) (report.RowWriter, []int, error) {
	format, err := o.Resolve(io)
	if err != nil {
		return nil, nil, err
	}
	var fields []string
	if strings.TrimSpace(o.Fields) != "" {
		fields = strings.Split(o.Fields, ",")
	}
	idx, err := report.Select(cols, fields)
	if err != nil {
		return nil, nil, &FlagError{Err: err}
	}
	if format == report.FormatTable && len(fields) == 0 {
		// A terminal shows the core columns; --fields or a machine format
		// brings the extended ones.
		idx = slices.DeleteFunc(idx, func(i int) bool { return cols[i].Extended })
	}
	sel := make([]report.Column, len(idx))
	for i, j := range idx {
		sel[i] = cols[j]
	}
	var w report.RowWriter
	switch format {
	case report.FormatTable:
		w = table.New(io.Out, sel, table.Options{NoHeader: o.NoHeader})
	case report.FormatJSON:
		w = report.NewJSON(io.Out, sel)
	case report.FormatJSONL:
		w = report.NewJSONL(io.Out, sel)
	case report.FormatCSV:
		w = report.NewCSV(io.Out, sel, report.Options{NoHeader: o.NoHeader})
	case report.FormatTSV:
		w = report.NewTSV(io.Out, sel, report.Options{NoHeader: o.NoHeader})
	}
	identity := len(idx) == len(cols)
	for i, j := range idx {
		identity = identity && i == j
	}
	if identity {
		return w, idx, nil // every column in order: nothing to select
	}
	return &selectWriter{w: w, idx: idx}, idx, nil
}

// selectWriter passes on only the selected cells, in the selected order.
type selectWriter struct {
	w   report.RowWriter
	idx []int
	buf []report.Value
}

func (s *selectWriter) WriteRow(row []report.Value) error {
	s.buf = s.buf[:0]
	for _, i := range s.idx {
		s.buf = append(s.buf, row[i])
	}
	return s.w.WriteRow(s.buf)
}

func (s *selectWriter) Flush() error { return s.w.Flush() }
