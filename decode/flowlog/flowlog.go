package flowlog

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/flow"
)

// Format names one text flow-log layout. The values are stable: they are
// written into case manifests.
type Format string

// The formats this package reads.
const (
	NfdumpCSV    Format = "nfdump-csv"     // nfdump -o csv
	SpotCSV      Format = "spot-csv"       // Apache Spot's spot-nfdump CSV (27 columns)
	ArgusCSV     Format = "argus-csv"      // Argus ra -c , / -c '\t' listings, CTU binetflow
	ZeekConn     Format = "zeek-conn"      // Zeek conn.log, TSV
	ZeekConnJSON Format = "zeek-conn-json" // Zeek conn.log, JSON lines
	ZeekDNS      Format = "zeek-dns"       // Zeek dns.log, TSV
	ZeekDNSJSON  Format = "zeek-dns-json"  // Zeek dns.log, JSON lines
)

// Formats lists every Format, in a fixed order.
var Formats = []Format{NfdumpCSV, SpotCSV, ArgusCSV, ZeekConn, ZeekConnJSON, ZeekDNS, ZeekDNSJSON}

// DefaultMaxLine is the longest line read; a longer one is reported and
// skipped.
const DefaultMaxLine = 1 << 20

// Errors wrapped by the *decode.Error values this package reports.
var (
	ErrBadRecord   = errors.New("bad record")
	ErrLineTooLong = errors.New("line too long")
	ErrBadHeader   = errors.New("bad header")
)

// Meta carries per-record facts that have no column in flow.Record.
type Meta struct {
	// Label is the ground-truth label of a labelled data set: the CTU
	// "Label" column of Argus binetflow files, or Zeek's "label" column
	// (with "detailed-label" appended after a space when set), as in
	// IoT-23. Empty when the evidence has none.
	Label string
}

// Stats counts what one Read saw.
type Stats struct {
	Bytes   int64 // content bytes consumed
	Lines   int64 // lines, including headers, comments, trailers and blank lines
	Flows   int64 // flow records emitted
	DNS     int64 // DNS messages emitted
	Errors  int64 // problems reported through onErr
	Skipped int64 // records deliberately not emitted (Argus management and non-IP records, Zeek logs other than conn and dns)
	// First and Last are the earliest flow start (or DNS time) and the
	// latest flow end (or DNS time) emitted, Unix nanoseconds; both 0 when
	// nothing was emitted.
	First, Last int64
}

// Options change how Read interprets the evidence. The zero value is valid.
type Options struct {
	// Location is the time zone of wall-clock times without an offset:
	// nfdump CSV ts/te (nfdump prints the local time of the machine that
	// ran it), Spot CSV tr (Spot's fork forced UTC) and Argus date-time
	// columns. nil means UTC. Epoch times (Zeek, Argus -u) are absolute.
	Location *time.Location
	// MaxLine bounds one line in bytes; 0 means DefaultMaxLine.
	MaxLine int
}

// Read is Options{}.Read: times without an offset are taken as UTC.
func Read(r io.Reader, name string, f Format, evidence uint32, emitFlow func(*flow.Record, Meta), emitDNS func(*flow.DNSMessage), onErr decode.ErrorFunc) (Stats, error) {
	return Options{}.Read(r, name, f, evidence, emitFlow, emitDNS, onErr)
}

// Read decodes one flow log of format f from r (already decompressed).
// name is used in errors; evidence is stored in every record.
//
// Flow records go to emitFlow, DNS messages to emitDNS (either may be nil
// to drop that kind). The *flow.Record, the *flow.DNSMessage and its Answers
// slice are reused for the next record: copy what you keep (strings may be
// kept as they are).
//
// Every problem goes to onErr as a *decode.Error whose Offset is the byte
// offset of the line's start and whose message names the line number; the
// bad line is skipped and reading goes on (a nil onErr only counts problems
// in Stats.Errors). If onErr returns an error, Read stops and returns it. A
// header that is missing or does not fit f is reported (wrapping
// decode.ErrNotEvidence) and ends the read; so does a failing source. Read
// itself returns nil unless onErr asked to stop.
func (o Options) Read(r io.Reader, name string, f Format, evidence uint32, emitFlow func(*flow.Record, Meta), emitDNS func(*flow.DNSMessage), onErr decode.ErrorFunc) (Stats, error) {
	rd := &reader{
		name: name, evidence: evidence, loc: o.Location,
		emitFlow: emitFlow, emitDNS: emitDNS, onErr: onErr,
	}
	if rd.loc == nil {
		rd.loc = time.UTC
	}
	if rd.onErr == nil { // count problems, carry on
		rd.onErr = func(*decode.Error) error { return nil }
	}
	maxLine := o.MaxLine
	if maxLine <= 0 {
		maxLine = DefaultMaxLine
	}
	rd.lr = newLineReader(r, maxLine)
	switch f {
	case NfdumpCSV:
		rd.readNfdump(false)
	case SpotCSV:
		rd.readNfdump(true)
	case ArgusCSV:
		rd.readArgus()
	case ZeekConn, ZeekDNS:
		rd.readZeekTSV(f == ZeekDNS)
	case ZeekConnJSON, ZeekDNSJSON:
		rd.readZeekJSON(f == ZeekDNSJSON)
	default:
		rd.fatal(0, 0, fmt.Errorf("unknown flow-log format %q: %w", f, decode.ErrNotEvidence))
	}
	if rd.abort == nil && rd.lr.err != nil {
		rd.fatal(rd.lr.offset(), 0, fmt.Errorf("read: %w", rd.lr.err))
	}
	rd.st.Bytes = rd.lr.offset()
	return rd.st, rd.abort
}

// reader is the state shared by the format parsers.
type reader struct {
	name     string
	evidence uint32
	loc      *time.Location
	emitFlow func(*flow.Record, Meta)
	emitDNS  func(*flow.DNSMessage)
	onErr    decode.ErrorFunc
	lr       lineReader
	st       Stats
	abort    error // what onErr returned; ends the read
	done     bool  // a fatal problem ended the read

	rec      flow.Record
	msg      flow.DNSMessage
	fields   [][]byte          // split line, reused
	labels   map[string]string // intern table for Meta.Label
	labelBuf []byte            // label + detailed label
	scratch  []byte            // unescaped Zeek values of the current line
	keyBuf   []byte            // dotted key of a nested JSON member
	ansBuf   []byte            // answer texts of the current DNS record
	lastName string            // last QName, reused while names repeat
}

// nextLine returns the next line, reporting over-long lines itself. It
// returns false at the end, after a fatal problem, or once onErr aborted.
func (r *reader) nextLine() (line, bool) {
	for !r.done && r.abort == nil {
		ln, ok := r.lr.next()
		if !ok {
			return ln, false
		}
		r.st.Lines++
		if ln.tooLong {
			r.bad(ln, ErrLineTooLong, "longer than %d bytes", r.lr.max)
			continue
		}
		if r.st.Lines == 1 {
			ln.b = trimBOM(ln.b)
		}
		return ln, true
	}
	return line{}, false
}

func trimBOM(b []byte) []byte {
	if len(b) >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf {
		return b[3:]
	}
	return b
}

// bad reports a problem with one line; reading goes on unless onErr says
// stop.
func (r *reader) bad(ln line, kind error, format string, args ...any) {
	r.st.Errors++
	err := fmt.Errorf("line %d: %w: %s", ln.no, kind, fmt.Sprintf(format, args...))
	if e := r.onErr(&decode.Error{File: r.name, Offset: ln.off, Err: err}); e != nil {
		r.abort = e
	}
}

// fatal reports a problem that ends the read.
func (r *reader) fatal(off, lineNo int64, err error) {
	r.st.Errors++
	r.done = true
	if lineNo > 0 {
		err = fmt.Errorf("line %d: %w", lineNo, err)
	}
	if e := r.onErr(&decode.Error{File: r.name, Offset: off, Err: err}); e != nil {
		r.abort = e
	}
}

// flow hands r.rec out.
func (r *reader) flow(label []byte) {
	r.rec.Evidence = r.evidence
	r.st.Flows++
	r.span(r.rec.First, r.rec.Last)
	if r.emitFlow != nil {
		r.emitFlow(&r.rec, Meta{Label: r.intern(label)})
	}
}

// dns hands r.msg out.
func (r *reader) dns() {
	r.msg.Evidence = r.evidence
	r.st.DNS++
	r.span(r.msg.TS, r.msg.TS)
	if r.emitDNS != nil {
		r.emitDNS(&r.msg)
	}
}

func (r *reader) span(first, last int64) {
	if r.st.Flows+r.st.DNS == 1 {
		r.st.First, r.st.Last = first, last
		return
	}
	r.st.First = min(r.st.First, first)
	r.st.Last = max(r.st.Last, last)
}

// maxLabels bounds the label intern table; labelled data sets have tens of
// distinct labels, so a file with more is not worth caching.
const maxLabels = 4096

// intern returns label as a string, sharing one copy per distinct label.
func (r *reader) intern(label []byte) string {
	if len(label) == 0 {
		return ""
	}
	if s, ok := r.labels[string(label)]; ok {
		return s
	}
	s := string(label)
	if r.labels == nil {
		r.labels = make(map[string]string)
	}
	if len(r.labels) < maxLabels {
		r.labels[s] = s
	}
	return s
}
