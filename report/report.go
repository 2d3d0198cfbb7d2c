// Package report turns rows of results into output: the shared view model
// (columns with JSON names and kinds) and the machine formats (JSON, JSON
// Lines, CSV, TSV). The terminal table lives in report/table. Every string
// that came from evidence is treated as hostile: JSON is always valid UTF-8,
// TSV and tables escape control characters, CSV cells are made inert for
// spreadsheets.
package report

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spotctl/spotctl/decode/flow"
)

// Kind says how a column's values are typed and rendered.
type Kind uint8

const (
	String  Kind = iota // untrusted text
	Int                 // signed integer
	Uint                // unsigned integer
	Float               // float64, shortest round-trip form
	Bool                // true/false
	Time                // Unix nanoseconds, rendered RFC 3339 UTC with 9 fraction digits
	IP                  // flow.Addr
	Answers             // []flow.Answer: a JSON array of {type, data}
	OptIP               // flow.Addr that may be unknown: the zero address is rendered ""
)

// Column is one output field. Name is the stable snake_case JSON name.
// Display, when set, renders the value for the terminal table only (for
// example a protocol number as "TCP"): the terminal changes the shape of the
// output, never its truth, and machine formats always carry the raw value.
type Column struct {
	Name    string
	Kind    Kind
	Display func(Value) string
	// Extended columns are left out of the terminal table unless --fields
	// names them; machine formats always carry them.
	Extended bool
}

// Value is one cell. Only the field that matches the column's Kind is read.
type Value struct {
	S string
	I int64
	U uint64
	F float64
	B bool
	A []flow.Answer
	P flow.Addr
}

// Format is an output format name as given to --format.
type Format string

const (
	FormatTable Format = "table"
	FormatJSON  Format = "json"
	FormatJSONL Format = "jsonl"
	FormatCSV   Format = "csv"
	FormatTSV   Format = "tsv"
)

// Formats lists the formats every command accepts, in help order.
var Formats = []Format{FormatTable, FormatJSON, FormatJSONL, FormatCSV, FormatTSV}

// ParseFormat validates a --format value.
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(s))
	if slices.Contains(Formats, f) {
		return f, nil
	}
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown format %q (valid: %s)", s, strings.Join(names, ", "))
}

// RowWriter receives rows one at a time. Machine formats stream; the table
// buffers until Flush.
type RowWriter interface {
	WriteRow(row []Value) error
	Flush() error
}

// Select returns the columns named in fields, in that order. An unknown
// name is an error that lists the valid ones. Empty fields selects all.
func Select(cols []Column, fields []string) ([]int, error) {
	if len(fields) == 0 {
		idx := make([]int, len(cols))
		for i := range cols {
			idx[i] = i
		}
		return idx, nil
	}
	idx := make([]int, 0, len(fields))
	for _, f := range fields {
		f = strings.TrimSpace(f)
		i := slices.IndexFunc(cols, func(c Column) bool { return c.Name == f })
		if i < 0 {
			names := make([]string, len(cols))
			for j, c := range cols {
				names[j] = c.Name
			}
			return nil, fmt.Errorf("unknown field %q (valid: %s)", f, strings.Join(names, ", "))
		}
		idx = append(idx, i)
	}
	return idx, nil
}

// TimeLayout is the machine time format: RFC 3339, UTC, always nine
// fraction digits so that columns line up and sort as text.
const TimeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// FormatTime renders Unix nanoseconds in TimeLayout.
func FormatTime(ns int64) string {
	return time.Unix(0, ns).UTC().Format(TimeLayout)
}

// AppendTime appends Unix nanoseconds in TimeLayout. Years 0–9999 are
// written digit by digit (time.AppendFormat parses its layout on every
// call, a quarter of the cost of printing millions of flows); other years
// fall back to AppendFormat.
func AppendTime(dst []byte, ns int64) []byte {
	t := time.Unix(0, ns).UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, TimeLayout)
	}
	hour, minute, sec := t.Clock()
	nano := t.Nanosecond()
	dst = appendDigits(dst, year, 4)
	dst = append(dst, '-')
	dst = appendDigits(dst, int(month), 2)
	dst = append(dst, '-')
	dst = appendDigits(dst, day, 2)
	dst = append(dst, 'T')
	dst = appendDigits(dst, hour, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, minute, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, sec, 2)
	dst = append(dst, '.')
	dst = appendDigits(dst, nano, 9)
	return append(dst, 'Z')
}

// appendDigits appends v (≥ 0) zero-padded to width digits.
func appendDigits(dst []byte, v, width int) []byte {
	var buf [9]byte
	for i := width - 1; i >= 0; i-- {
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, buf[:width]...)
}
