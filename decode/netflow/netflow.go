package netflow

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spotctl/spotctl/decode/flow"
)

// Default caps, used when an Options field is zero or negative.
const (
	DefaultMaxTemplates = 4096
	DefaultMaxFields    = 512
	DefaultMaxExporters = 4096
	DefaultMaxPending   = 16 << 20
)

// maxSamplers caps the sampler table of one session (options records that
// describe samplers by id).
const maxSamplers = 256

// heldOverhead is what one held flowset is charged against MaxPending on
// top of its bytes (the bookkeeping), so that a flood of tiny flowsets is
// bounded too.
const heldOverhead = 96

// Options sets the decoder's caps and behaviour. Zero values mean the
// defaults above.
type Options struct {
	// MaxTemplates bounds the templates (data and options) held at once
	// over all exporters. A new template beyond it is refused and counted.
	MaxTemplates int
	// MaxFields bounds the fields of one template; larger templates are
	// refused before anything is allocated.
	MaxFields int
	// MaxExporters bounds the sessions (exporter address and port, version,
	// observation domain) that may hold templates or options state.
	MaxExporters int
	// MaxPending bounds the bytes of data flowsets held while their
	// template is unknown.
	MaxPending int
	// ApplySampling multiplies packet and byte counters by the sampling
	// interval in force.
	ApplySampling bool
}

func (o Options) withDefaults() Options {
	if o.MaxTemplates <= 0 {
		o.MaxTemplates = DefaultMaxTemplates
	}
	if o.MaxFields <= 0 {
		o.MaxFields = DefaultMaxFields
	}
	if o.MaxExporters <= 0 {
		o.MaxExporters = DefaultMaxExporters
	}
	if o.MaxPending <= 0 {
		o.MaxPending = DefaultMaxPending
	}
	return o
}

// Stats counts what the decoder saw. Counters are cumulative over the
// decoder's life.
type Stats struct {
	V5Datagrams    uint64 // export datagrams with a valid header, per version
	V9Datagrams    uint64
	IPFIXDatagrams uint64
	Records        uint64 // flow records emitted (DecodedLate included)
	NonFlowRecords uint64 // data records of templates without any address element, not emitted
	OptionsRecords uint64 // options data records decoded

	Templates        uint64 // data template records received, refreshes included
	OptionsTemplates uint64 // options template records received, refreshes included
	Withdrawals      uint64 // IPFIX template withdrawals
	TemplatesRefused uint64 // templates malformed or over a cap

	HeldFlowsets uint64 // data flowsets held because their template was unknown
	HeldBytes    uint64
	DecodedLate  uint64 // records decoded from held flowsets once the template came

	// Undecodable* count data that never met its template: flowsets still
	// held at Flush, and flowsets that could not be held (MaxPending
	// reached, or no session slot). UndecodableRecords is an estimate from
	// v9 header counts; IPFIX flowsets add nothing to it.
	UndecodableFlowsets uint64
	UndecodableBytes    uint64
	UndecodableRecords  uint64

	NoTimeBase    uint64 // IPFIX records with sysUpTime-relative times and no systemInitTime: export time used
	TrailingBytes uint64 // bytes after the last complete message/flowset of a datagram
	Errors        uint64 // problems reported (each datagram returns its first)
}

// Datagrams returns the number of export datagrams decoded, all versions.
func (s Stats) Datagrams() uint64 { return s.V5Datagrams + s.V9Datagrams + s.IPFIXDatagrams }

// Sub returns s - o field by field: the counters of one file or one
// stretch of evidence, from two snapshots.
func (s Stats) Sub(o Stats) Stats {
	return Stats{
		V5Datagrams:         s.V5Datagrams - o.V5Datagrams,
		V9Datagrams:         s.V9Datagrams - o.V9Datagrams,
		IPFIXDatagrams:      s.IPFIXDatagrams - o.IPFIXDatagrams,
		Records:             s.Records - o.Records,
		NonFlowRecords:      s.NonFlowRecords - o.NonFlowRecords,
		OptionsRecords:      s.OptionsRecords - o.OptionsRecords,
		Templates:           s.Templates - o.Templates,
		OptionsTemplates:    s.OptionsTemplates - o.OptionsTemplates,
		Withdrawals:         s.Withdrawals - o.Withdrawals,
		TemplatesRefused:    s.TemplatesRefused - o.TemplatesRefused,
		HeldFlowsets:        s.HeldFlowsets - o.HeldFlowsets,
		HeldBytes:           s.HeldBytes - o.HeldBytes,
		DecodedLate:         s.DecodedLate - o.DecodedLate,
		UndecodableFlowsets: s.UndecodableFlowsets - o.UndecodableFlowsets,
		UndecodableBytes:    s.UndecodableBytes - o.UndecodableBytes,
		UndecodableRecords:  s.UndecodableRecords - o.UndecodableRecords,
		NoTimeBase:          s.NoTimeBase - o.NoTimeBase,
		TrailingBytes:       s.TrailingBytes - o.TrailingBytes,
		Errors:              s.Errors - o.Errors,
	}
}

// Errors wrapped by DatagramError.
var (
	// ErrNotExport: the payload is no NetFlow v5/v9/IPFIX message.
	ErrNotExport = errors.New("not a NetFlow v5/v9/IPFIX export")
	// ErrMalformed: fields that contradict each other or the datagram.
	ErrMalformed = errors.New("malformed export")
	// ErrTemplate: a template that was refused (malformed or over a cap).
	ErrTemplate = errors.New("template refused")
)

// DatagramError is a problem at a byte offset within one export datagram
// (or, from ReadRaw, one message of a raw file).
type DatagramError struct {
	Offset int
	Err    error
}

func (e *DatagramError) Error() string {
	return fmt.Sprintf("export datagram byte %d: %v", e.Offset, e.Err)
}

func (e *DatagramError) Unwrap() error { return e.Err }

// UndecodableError is what Flush reports about data that never met its
// template.
type UndecodableError struct {
	Records  uint64 // estimated from v9 header counts
	Flowsets uint64
	Bytes    uint64
	// Uncounted is how many of the flowsets are IPFIX: its header has no
	// record count, so they add nothing to Records.
	Uncounted uint64
	// Missing lists the sessions and template ids concerned (sorted; at most
	// 16 entries, MoreMissing counts the rest).
	Missing     []MissingTemplate
	MoreMissing int
}

// MissingTemplate names a template that data referred to and that never came.
type MissingTemplate struct {
	Exporter   flow.Addr
	Port       uint16
	Version    uint16
	Domain     uint32
	TemplateID uint16
	Flowsets   int
}

func (e *UndecodableError) Error() string {
	var b strings.Builder
	switch {
	case e.Uncounted == 0:
		fmt.Fprintf(&b, "undecodable: %d data records in %d flowsets (%d bytes) without template", e.Records, e.Flowsets, e.Bytes)
	case e.Uncounted == e.Flowsets:
		fmt.Fprintf(&b, "undecodable: %d data flowsets (%d bytes) without template", e.Flowsets, e.Bytes)
	default:
		fmt.Fprintf(&b, "undecodable: %d data records in %d flowsets and %d flowsets of unknown record count (%d bytes) without template",
			e.Records, e.Flowsets-e.Uncounted, e.Uncounted, e.Bytes)
	}
	for i, m := range e.Missing {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		ver := "v9"
		if m.Version == 10 {
			ver = "IPFIX"
		}
		fmt.Fprintf(&b, "%s %s:%d domain %d template %d (%d flowsets)", ver, m.Exporter, m.Port, m.Domain, m.TemplateID, m.Flowsets)
	}
	if e.MoreMissing > 0 {
		fmt.Fprintf(&b, " and %d more", e.MoreMissing)
	}
	return b.String()
}

// sessionKey identifies one template space.
type sessionKey struct {
	addr    flow.Addr
	port    uint16
	version uint16
	domain  uint32
}

type session struct {
	key         sessionKey
	templates   map[uint16]*template
	sysInitNs   int64 // systemInitTimeMilliseconds (IE 160) in ns
	haveSysInit bool
	sampling    uint32            // last interval an options record gave
	samplers    map[uint64]uint32 // sampler/selector id -> interval
}

// pendKey names the data a missing template would decode.
type pendKey struct {
	s  *session
	id uint16
}

// held is one data flowset waiting for its template.
type held struct {
	data     []byte
	hdr      msgHeader
	estimate uint64 // v9: records estimated from the header count
}

// msgHeader is what record decoding needs from the message header.
type msgHeader struct {
	version   uint16
	exportNs  int64  // export time, Unix ns
	sysUptime uint32 // v5/v9: ms since boot at export time
	evidence  uint32
}

// Decoder decodes export datagrams of one ingest. It is not safe for
// concurrent use. The record handed to emit is reused: it is valid only
// during the call.
type Decoder struct {
	opts       Options
	sessions   map[sessionKey]*session
	last       *session
	nTemplates int

	pending      map[pendKey][]held
	pendingBytes int

	rec    flow.Record
	varOps []step      // per-record steps of a variable-length template
	specs  []fieldSpec // template parsing scratch
	stats  Stats

	// per-datagram accounting for v9 held-record estimates
	dgRecords, dgTemplates int
	dgHeld                 []pendKey
}

// NewDecoder returns a decoder with the given caps.
func NewDecoder(opts Options) *Decoder {
	return &Decoder{
		opts:     opts.withDefaults(),
		sessions: make(map[sessionKey]*session),
		pending:  make(map[pendKey][]held),
	}
}

// Stats returns the counters so far.
func (d *Decoder) Stats() Stats { return d.stats }

// Datagram decodes one export datagram (a UDP payload) from exporter:port
// (the IP source address and UDP source port of the datagram; zero for raw
// files), received at recvNs (Unix ns; 0 when unknown), found in evidence
// file number evidence. Each flow record is passed to emit (valid during the call
// only). It returns the first problem as a *DatagramError; everything decoded
// before and after it (where the framing allows) is emitted.
func (d *Decoder) Datagram(exporter flow.Addr, port uint16, recvNs int64, payload []byte, evidence uint32, emit func(*flow.Record)) error {
	if len(payload) < 2 {
		return d.fail(0, fmt.Errorf("%w: %d bytes", ErrNotExport, len(payload)))
	}
	switch v := binary.BigEndian.Uint16(payload); v {
	case 5:
		return d.v5(exporter, port, recvNs, payload, evidence, emit)
	case 9:
		return d.v9(exporter, port, recvNs, payload, evidence, emit)
	case 10:
		return d.ipfix(exporter, port, recvNs, payload, evidence, emit)
	default:
		return d.fail(0, fmt.Errorf("%w: version %d", ErrNotExport, v))
	}
}

// fail counts a problem and builds its error.
func (d *Decoder) fail(off int, err error) error {
	d.stats.Errors++
	return &DatagramError{Offset: off, Err: err}
}

// session returns the session for key, creating it unless the cap is
// reached (then nil).
func (d *Decoder) session(k sessionKey) *session {
	if s := d.last; s != nil && s.key == k {
		return s
	}
	s := d.sessions[k]
	if s == nil {
		if len(d.sessions) >= d.opts.MaxExporters {
			return nil
		}
		s = &session{key: k, templates: make(map[uint16]*template)}
		d.sessions[k] = s
	}
	d.last = s
	return s
}

// lookup returns the session for k if it exists, without creating it.
func (d *Decoder) lookup(k sessionKey) *session {
	if s := d.last; s != nil && s.key == k {
		return s
	}
	s := d.sessions[k]
	if s != nil {
		d.last = s
	}
	return s
}

// Flush ends the evidence: whatever data is still held will never meet its
// template. It is counted as undecodable, released, and described by the
// returned *UndecodableError (nil when nothing was held).
func (d *Decoder) Flush() error {
	if len(d.pending) == 0 {
		return nil
	}
	keys := make([]pendKey, 0, len(d.pending))
	for k := range d.pending {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return pendLess(keys[i], keys[j]) })
	e := &UndecodableError{}
	for _, k := range keys {
		hs := d.pending[k]
		for _, h := range hs {
			e.Flowsets++
			e.Bytes += uint64(len(h.data))
			e.Records += h.estimate
			if h.hdr.version == 10 {
				e.Uncounted++
			}
		}
		m := MissingTemplate{Exporter: k.s.key.addr, Port: k.s.key.port, Version: k.s.key.version,
			Domain: k.s.key.domain, TemplateID: k.id, Flowsets: len(hs)}
		if len(e.Missing) < 16 {
			e.Missing = append(e.Missing, m)
		} else {
			e.MoreMissing++
		}
		delete(d.pending, k)
	}
	d.pendingBytes = 0
	d.stats.UndecodableFlowsets += e.Flowsets
	d.stats.UndecodableBytes += e.Bytes
	d.stats.UndecodableRecords += e.Records
	d.stats.Errors++
	return e
}

func pendLess(a, b pendKey) bool {
	x, y := a.s.key, b.s.key
	if c := compareAddr(x.addr, y.addr); c != 0 {
		return c < 0
	}
	if x.port != y.port {
		return x.port < y.port
	}
	if x.version != y.version {
		return x.version < y.version
	}
	if x.domain != y.domain {
		return x.domain < y.domain
	}
	return a.id < b.id
}

func compareAddr(a, b flow.Addr) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// hold keeps a data flowset until its template comes. It reports whether
// the flowset was held; if not it was counted as undecodable.
func (d *Decoder) hold(s *session, id uint16, body []byte, h msgHeader) bool {
	cost := len(body) + heldOverhead
	if s == nil || d.pendingBytes+cost > d.opts.MaxPending {
		d.stats.UndecodableFlowsets++
		d.stats.UndecodableBytes += uint64(len(body))
		return false
	}
	k := pendKey{s, id}
	d.pending[k] = append(d.pending[k], held{data: append([]byte(nil), body...), hdr: h})
	d.pendingBytes += cost
	d.stats.HeldFlowsets++
	d.stats.HeldBytes += uint64(len(body))
	if h.version == 9 {
		d.dgHeld = append(d.dgHeld, k)
	}
	return true
}

// release decodes the data held for template t of session s, if any. It
// returns the first problem found in it.
func (d *Decoder) release(s *session, t *template, emit func(*flow.Record)) error {
	k := pendKey{s, t.id}
	hs, ok := d.pending[k]
	if !ok {
		return nil
	}
	delete(d.pending, k)
	var first error
	for _, h := range hs {
		d.pendingBytes -= len(h.data) + heldOverhead
		n, bad, err := d.dataSet(s, t, h.data, &h.hdr, emit)
		d.stats.DecodedLate += uint64(n)
		if err != nil && first == nil {
			first = fmt.Errorf("data held for template %d (evidence %d, flowset byte %d): %w", t.id, h.hdr.evidence, bad, err)
		}
	}
	return first
}

// addEstimate spreads a v9 datagram's unaccounted header count over the
// flowsets it left held (by bytes, remainder to the last one), so that
// Flush can say how many records never decoded.
func (d *Decoder) addEstimate(count int) {
	if len(d.dgHeld) == 0 {
		return
	}
	unaccounted := count - d.dgRecords - d.dgTemplates
	if unaccounted <= 0 {
		// softflowd and others count data records only (reftools S3).
		unaccounted = count - d.dgRecords
	}
	if unaccounted <= 0 {
		d.dgHeld = d.dgHeld[:0]
		return
	}
	// Collect the still-pending flowsets of this datagram: each key's
	// trailing entries (those added by this datagram, in order).
	type ref struct {
		k pendKey
		i int
	}
	var refs []ref
	seen := map[pendKey]int{}
	for _, k := range d.dgHeld {
		seen[k]++
	}
	total := 0
	for _, k := range d.dgHeld {
		n := seen[k]
		if n == 0 {
			continue
		}
		seen[k] = 0
		hs := d.pending[k]
		if len(hs) < n { // released within the datagram
			n = len(hs)
		}
		for i := len(hs) - n; i < len(hs); i++ {
			refs = append(refs, ref{k, i})
			total += len(hs[i].data)
		}
	}
	d.dgHeld = d.dgHeld[:0]
	if total == 0 {
		return
	}
	left := uint64(unaccounted)
	for j, r := range refs {
		hs := d.pending[r.k]
		var e uint64
		if j == len(refs)-1 {
			e = left
		} else {
			e = uint64(unaccounted) * uint64(len(hs[r.i].data)) / uint64(total)
		}
		hs[r.i].estimate = e
		left -= e
	}
}
