package report

import (
	"bufio"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/report/textsafe"
)

// Options shape machine output.
type Options struct {
	NoHeader bool // CSV/TSV: leave out the header line
}

// NewJSONL writes one JSON object per row and line. Keys appear in column
// order.
func NewJSONL(w io.Writer, cols []Column) RowWriter {
	return &jsonWriter{w: bufio.NewWriterSize(w, 64<<10), cols: cols}
}

// NewJSON writes one JSON array holding an object per row.
func NewJSON(w io.Writer, cols []Column) RowWriter {
	return &jsonWriter{w: bufio.NewWriterSize(w, 64<<10), cols: cols, array: true}
}

type jsonWriter struct {
	w     *bufio.Writer
	cols  []Column
	array bool
	n     int
	buf   []byte
}

func (j *jsonWriter) WriteRow(row []Value) error {
	b := j.buf[:0]
	if j.array {
		if j.n == 0 {
			b = append(b, "[\n"...)
		} else {
			b = append(b, ",\n"...)
		}
	}
	b = AppendJSONObject(b, j.cols, row)
	if !j.array {
		b = append(b, '\n')
	}
	j.n++
	j.buf = b
	_, err := j.w.Write(b)
	return err
}

func (j *jsonWriter) Flush() error {
	if j.array {
		if j.n == 0 {
			j.w.WriteString("[]\n")
		} else {
			j.w.WriteString("\n]\n")
		}
	}
	return j.w.Flush()
}

// AppendJSONObject appends {"name":value,...} for one row.
func AppendJSONObject(b []byte, cols []Column, row []Value) []byte {
	b = append(b, '{')
	for i, c := range cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendJSONString(b, c.Name)
		b = append(b, ':')
		b = AppendJSONValue(b, c.Kind, row[i])
	}
	return append(b, '}')
}

// AppendJSONValue appends one value in JSON.
func AppendJSONValue(b []byte, k Kind, v Value) []byte {
	switch k {
	case String:
		return AppendJSONString(b, v.S)
	case Int, Uint, Float, Bool:
		return AppendText(b, k, v)
	case Time, IP, OptIP:
		// Their text needs no escaping (digits, punctuation, hex).
		b = append(b, '"')
		b = AppendText(b, k, v)
		return append(b, '"')
	case Answers:
		b = append(b, '[')
		for i, a := range v.A {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"type":`...)
			b = AppendJSONString(b, TypeName(a.Type))
			b = append(b, `,"data":`...)
			b = AppendJSONString(b, a.Data)
			b = append(b, '}')
		}
		return append(b, ']')
	}
	return append(b, "null"...)
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string that is always valid UTF-8.
// Evidence strings may hold any byte: an invalid UTF-8 byte is written as
// the visible text \xNN (JSON "\\xNN") rather than dropped or replaced
// silently, and control characters use \u escapes. HTML characters are not
// escaped (this is not HTML).
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"':
				b = append(b, `\"`...)
			case '\\':
				b = append(b, `\\`...)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			case '\t':
				b = append(b, `\t`...)
			default:
				b = append(b, `\u00`...)
				b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\\x`...)
			b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// Text renders a value as plain text for CSV and TSV (not escaped).
func Text(k Kind, v Value) string {
	switch k {
	case String:
		return v.S
	case Int:
		return strconv.FormatInt(v.I, 10)
	case Uint:
		return strconv.FormatUint(v.U, 10)
	case Float:
		return strconv.FormatFloat(v.F, 'g', -1, 64)
	case Bool:
		return strconv.FormatBool(v.B)
	case Time:
		return FormatTime(v.I)
	case IP:
		return v.P.String()
	case OptIP:
		if v.P == (flow.Addr{}) {
			return ""
		}
		return v.P.String()
	case Answers:
		return AnswersText(v.A)
	}
	return ""
}

// AnswersText renders answers as "A 192.0.2.1; CNAME www.example.com".
func AnswersText(as []flow.Answer) string {
	var b []byte
	for i, a := range as {
		if i > 0 {
			b = append(b, "; "...)
		}
		b = append(b, TypeName(a.Type)...)
		if a.Data != "" {
			b = append(b, ' ')
			b = append(b, a.Data...)
		}
	}
	return string(b)
}

// NewCSV writes RFC 4180 CSV with a header line. String cells are made
// inert for spreadsheets (a leading = + - @ gets a quote) and quoted as
// encoding/csv would quote them.
func NewCSV(w io.Writer, cols []Column, opts Options) RowWriter {
	return &delimWriter{bw: bufio.NewWriterSize(w, 64<<10), cols: cols, header: !opts.NoHeader}
}

// NewTSV writes tab-separated values with a header line; tabs, newlines,
// backslashes and control characters inside a cell are escaped.
func NewTSV(w io.Writer, cols []Column, opts Options) RowWriter {
	return &delimWriter{bw: bufio.NewWriterSize(w, 64<<10), cols: cols, header: !opts.NoHeader, tsv: true}
}

// delimWriter renders CSV and TSV by appending into one line buffer: no
// string per cell, so that millions of rows stream at memory speed.
type delimWriter struct {
	bw     *bufio.Writer
	cols   []Column
	header bool
	tsv    bool
	line   []byte
}

func (d *delimWriter) sep() byte {
	if d.tsv {
		return '\t'
	}
	return ','
}

func (d *delimWriter) writeHeader() error {
	d.header = false
	b := d.line[:0]
	for i, c := range d.cols {
		if i > 0 {
			b = append(b, d.sep())
		}
		b = d.appendString(b, c.Name)
	}
	d.line = append(b, '\n')
	_, err := d.bw.Write(d.line)
	return err
}

func (d *delimWriter) WriteRow(row []Value) error {
	if d.header {
		if err := d.writeHeader(); err != nil {
			return err
		}
	}
	b := d.line[:0]
	for i, c := range d.cols {
		if i > 0 {
			b = append(b, d.sep())
		}
		switch c.Kind {
		case String:
			b = d.appendString(b, row[i].S)
		case Answers:
			b = d.appendString(b, AnswersText(row[i].A))
		default:
			b = AppendText(b, c.Kind, row[i])
		}
	}
	d.line = append(b, '\n')
	_, err := d.bw.Write(d.line)
	return err
}

// appendString appends an untrusted string cell: escaped for TSV; for CSV
// made valid UTF-8, defused for spreadsheets and quoted where RFC 4180 (and
// encoding/csv) would quote it.
func (d *delimWriter) appendString(b []byte, s string) []byte {
	if d.tsv {
		return append(b, textsafe.TSV(s)...)
	}
	s = textsafe.Spreadsheet(validUTF8(s))
	if !csvNeedsQuotes(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

// csvNeedsQuotes is encoding/csv's rule: quote a field that holds the
// separator, a quote, CR or LF, that starts with a space or tab, or that
// is exactly \. (a PostgreSQL end-of-data marker).
func csvNeedsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s == `\.` || s[0] == ' ' || s[0] == '\t' {
		return true
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', '"', '\r', '\n':
			return true
		}
	}
	return false
}

func (d *delimWriter) Flush() error {
	if d.header {
		if err := d.writeHeader(); err != nil {
			return err
		}
	}
	return d.bw.Flush()
}

// AppendText appends a non-string value as plain text (the Text form).
func AppendText(b []byte, k Kind, v Value) []byte {
	switch k {
	case String:
		return append(b, v.S...)
	case Int:
		return strconv.AppendInt(b, v.I, 10)
	case Uint:
		return strconv.AppendUint(b, v.U, 10)
	case Float:
		return strconv.AppendFloat(b, v.F, 'g', -1, 64)
	case Bool:
		return strconv.AppendBool(b, v.B)
	case Time:
		return AppendTime(b, v.I)
	case IP:
		return v.P.Netip().AppendTo(b)
	case OptIP:
		if v.P == (flow.Addr{}) {
			return b
		}
		return v.P.Netip().AppendTo(b)
	case Answers:
		return append(b, AnswersText(v.A)...)
	}
	return b
}

// validUTF8 replaces each invalid byte with the visible text \xNN so that a
// CSV file is always valid UTF-8 and nothing is silently lost.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b []byte
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, '\\', 'x', hexDigits[s[i]>>4], hexDigits[s[i]&0xf])
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}
