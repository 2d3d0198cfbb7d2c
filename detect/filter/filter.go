// Package filter implements spotctl's record filter language: nfdump's
// filter grammar (and/or/not, direction qualifiers, ip/net/port/proto/flags,
// counters with k/M/G/T suffixes, ...) extended with DNS fields (qname,
// qtype, rcode, client, server, response/query) and score fields (score,
// kind). A filter is compiled once into a tree of typed closures that
// evaluates a record, a DNS message or one row of flow columns without
// allocating. docs/filter.md is the user's reference.
package filter

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/spotctl/spotctl/decode/flow"
)

// Kind says which record fields a filter may name. Kinds combine: a filter
// over scored flows is compiled with Flow|Score. Naming a field outside the
// kind is a compile error (a DNS primitive in a flow filter is a mistake,
// not an always-false term).
type Kind uint8

const (
	Flow  Kind = 1 << iota // flow.Record fields
	DNS                    // flow.DNSMessage fields
	Score                  // score and kind of a scored result
)

func (k Kind) String() string {
	var parts []string
	if k&Flow != 0 {
		parts = append(parts, "flow")
	}
	if k&DNS != 0 {
		parts = append(parts, "dns")
	}
	if k&Score != 0 {
		parts = append(parts, "score")
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "+")
}

// Result is the score part of a scored record: its score (lower is more
// suspicious, as in Apache Spot) and its kind ("flow", "dns", "beacon", ...).
type Result struct {
	Score float64
	Kind  string
}

// FlowColumns is a table of flows stored column by column, mirroring the
// case file's flow columns. N is the number of rows; a column that is nil or
// shorter than N reads as zero for the missing rows, so a caller only fills
// the columns it has. Times are Unix nanoseconds as in flow.Record.
type FlowColumns struct {
	N          int
	First      []int64
	Last       []int64
	Src        []flow.Addr
	Dst        []flow.Addr
	SrcPort    []uint16
	DstPort    []uint16
	Proto      []uint8
	TCPFlags   []uint8
	ToS        []uint8
	VLAN       []uint16
	Packets    []uint64
	Bytes      []uint64
	OutPackets []uint64
	OutBytes   []uint64
	Exporter   []flow.Addr
	NextHop    []flow.Addr
	SrcAS      []uint32
	DstAS      []uint32
	InIf       []uint32
	OutIf      []uint32
	SrcMask    []uint8
	DstMask    []uint8
	Score      []float64 // optional: the score of each row, for Score filters
	Kind       string    // the kind of every row, for Score filters (e.g. "flow")
}

// Filter is a compiled filter. It is immutable and safe for concurrent use.
type Filter struct {
	kind Kind
	root *node // nil: empty filter, matches everything
	text string

	flowFn func(flowRow) bool
	dnsFn  func(dnsRow) bool
	colFn  func(colRow) bool
	vecFn  vecFn
}

// Error is a compile error. Line and Col (1-based, Col counted in runes)
// point at the offending token; Text is that source line.
type Error struct {
	Name string // "filter", or the file the filter came from
	Line int
	Col  int
	Msg  string
	Text string
}

// Error formats the error gojq-style: "name:line:col: message", then the
// source line and a caret under the bad token.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%d: %s", e.Name, e.Line, e.Col, e.Msg)
	if e.Text != "" {
		b.WriteString("\n    ")
		b.WriteString(e.Text)
		b.WriteString("\n    ")
		// Keep tabs so the caret lines up under tabs in the line above.
		n := 0
		for _, r := range e.Text {
			if n >= e.Col-1 {
				break
			}
			if r == '\t' {
				b.WriteByte('\t')
			} else {
				b.WriteByte(' ')
			}
			n++
		}
		b.WriteByte('^')
	}
	return b.String()
}

// maxSource bounds the filter text (a generous limit: a 100 000-entry
// address list fits).
const maxSource = 16 << 20

// Compile parses and compiles a filter for records of the given kind. An
// empty filter (or one holding only comments) matches everything.
func Compile(src string, kind Kind) (*Filter, error) {
	return CompileNamed("filter", src, kind)
}

// CompileNamed is Compile with the name used in error messages (the file a
// filter was read from with -f).
func CompileNamed(name, src string, kind Kind) (*Filter, error) {
	if len(src) > maxSource {
		return nil, &Error{Name: name, Line: 1, Col: 1, Msg: fmt.Sprintf("filter is %d bytes, more than the %d allowed", len(src), maxSource)}
	}
	if !utf8.ValidString(src) {
		return nil, errorAt(name, src, firstInvalid(src), "filter is not valid UTF-8")
	}
	p := &parser{name: name, src: src, kind: kind, lx: lexer{src: src}}
	root, err := p.parse()
	if err != nil {
		return nil, err
	}
	f := &Filter{kind: kind, root: root}
	if root != nil {
		f.text = root.String()
	}
	f.flowFn = build(root, flowAccess)
	f.dnsFn = build(root, dnsAccess)
	f.colFn = build(root, colAccess)
	f.vecFn = buildVec(root, f.colFn)
	return f, nil
}

// Check validates a filter for the given kind without keeping it.
func Check(src string, kind Kind) error {
	_, err := Compile(src, kind)
	return err
}

// String returns the normalized expression: lower-case keywords, explicit
// comparators, numbers without suffixes, canonical addresses, and
// parentheses wherever precedence alone would not group the same way.
// Compiling the result gives the same filter. The empty filter prints "any".
func (f *Filter) String() string {
	if f.root == nil {
		return "any"
	}
	return f.text
}

// Kind returns the kind the filter was compiled for.
func (f *Filter) Kind() Kind { return f.kind }

// MatchFlow reports whether a flow (non-nil) matches. Score fields read as
// zero and kind as empty.
func (f *Filter) MatchFlow(r *flow.Record) bool {
	return f.flowFn(flowRow{r: r, res: zeroResult})
}

// MatchFlowResult reports whether a scored flow matches.
func (f *Filter) MatchFlowResult(r *flow.Record, res Result) bool {
	return f.flowFn(flowRow{r: r, res: res})
}

// MatchDNS reports whether a DNS message (non-nil) matches. Score fields
// read as zero and kind as empty.
func (f *Filter) MatchDNS(m *flow.DNSMessage) bool {
	return f.dnsFn(dnsRow{m: m, res: zeroResult})
}

// MatchDNSResult reports whether a scored DNS message matches.
func (f *Filter) MatchDNSResult(m *flow.DNSMessage, res Result) bool {
	return f.dnsFn(dnsRow{m: m, res: res})
}

// MatchResult evaluates a filter over a result that is neither a flow nor a
// DNS message (e.g. a beacon); flow fields read as zero.
func (f *Filter) MatchResult(res Result) bool {
	return f.flowFn(flowRow{r: &zeroRecord, res: res})
}

// MatchFlowColumns reports whether row i of the columns matches. Rows
// outside [0, c.N) never match.
func (f *Filter) MatchFlowColumns(c *FlowColumns, i int) bool {
	if i < 0 || i >= c.N {
		return false
	}
	return f.colFn(colRow{c: c, i: i})
}

// Select appends to dst the indexes of the rows of c that match, in order,
// and returns the extended slice. It allocates only when dst must grow.
func (f *Filter) Select(c *FlowColumns, dst []int32) []int32 {
	return f.SelectRange(c, 0, c.N, dst)
}

// SelectRange is Select over rows [lo, hi) (clipped to [0, c.N)), for
// callers that scan a table in chunks or in parallel.
func (f *Filter) SelectRange(c *FlowColumns, lo, hi int, dst []int32) []int32 {
	lo = max(lo, 0)
	hi = min(hi, c.N, 1<<31-1)
	if lo >= hi {
		return dst
	}
	return selectVec(f.vecFn, c, lo, hi, dst)
}

func firstInvalid(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
				return i
			}
		}
	}
	return 0
}

// errorAt builds an Error for byte offset pos of src.
func errorAt(name, src string, pos int, msg string) *Error {
	pos = min(max(pos, 0), len(src))
	line := 1 + strings.Count(src[:pos], "\n")
	ls := strings.LastIndexByte(src[:pos], '\n') + 1
	le := strings.IndexByte(src[pos:], '\n')
	if le < 0 {
		le = len(src)
	} else {
		le += pos
	}
	text := strings.TrimRight(src[ls:le], "\r")
	col := 1 + utf8.RuneCountInString(src[ls:pos])
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "?")
	}
	return &Error{Name: name, Line: line, Col: col, Msg: msg, Text: text}
}
