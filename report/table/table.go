// Package table renders rows as an aligned ASCII table for a terminal. It is
// the only package that imports tablewriter. Every cell passes through
// textsafe.Terminal, so evidence strings cannot carry escape sequences to
// the screen; numbers are right-aligned.
package table

import (
	"io"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/spotctl/spotctl/report"
	"github.com/spotctl/spotctl/report/textsafe"
)

// Options shape the table.
type Options struct {
	NoHeader bool
}

// New returns a RowWriter that buffers rows and draws the table on Flush.
func New(w io.Writer, cols []report.Column, opts Options) report.RowWriter {
	return &writer{w: w, cols: cols, opts: opts}
}

type writer struct {
	w    io.Writer
	cols []report.Column
	opts Options
	rows [][]string
}

func (t *writer) WriteRow(row []report.Value) error {
	cells := make([]string, len(t.cols))
	for i, c := range t.cols {
		var s string
		if c.Display != nil {
			s = c.Display(row[i])
		} else {
			s = Cell(c.Kind, row[i])
		}
		cells[i] = truncate(textsafe.Terminal(s), MaxCell)
	}
	t.rows = append(t.rows, cells)
	return nil
}

// MaxCell is the widest cell a terminal table shows, in runes; longer text
// (TXT answers, tunnelled names) is cut with "…". Machine formats are never
// cut.
const MaxCell = 80

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// Cell is the default terminal rendering of a value: machine text, but
// times with millisecond precision to save width.
func Cell(k report.Kind, v report.Value) string {
	if k == report.Time {
		return report.FormatTime(v.I)[:23]
	}
	return report.Text(k, v)
}

func (t *writer) Flush() error {
	align := make([]tw.Align, len(t.cols))
	for i, c := range t.cols {
		// Numbers right, text left; a number shown as a name ("TCP") is text.
		switch {
		case c.Display != nil:
			align[i] = tw.AlignLeft
		case c.Kind == report.Int, c.Kind == report.Uint, c.Kind == report.Float:
			align[i] = tw.AlignRight
		default:
			align[i] = tw.AlignLeft
		}
	}
	cfg := tw.CellAlignment{PerColumn: align}
	tbl := tablewriter.NewTable(t.w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleASCII)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignmentConfig(cfg),
		tablewriter.WithRowAlignmentConfig(cfg),
	)
	if !t.opts.NoHeader {
		names := make([]any, len(t.cols))
		for i, c := range t.cols {
			names[i] = c.Name
		}
		tbl.Header(names...)
	}
	for _, r := range t.rows {
		if err := tbl.Append(r); err != nil {
			return err
		}
	}
	t.rows = nil
	return tbl.Render()
}
