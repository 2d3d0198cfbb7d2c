// Package dns decodes DNS messages from hostile bytes: a bounded wire parser
// (Parse) that fills the shared flow.DNSMessage, and a bounded reassembler
// for DNS over TCP (TCPReassembler).
//
// We do not use gopacket's DNS layer: it has read past its input and cannot
// strip the TCP length prefix (see docs on dependencies, §1). Every length and
// count in a message is attacker-controlled; nothing here sizes an
// allocation from one, and every loop consumes input bytes or a capped budget.
//
// Presentation rules for names (QName and names inside answer data):
//   - labels are joined with '.', no trailing dot;
//   - the root name is "." (what dig prints); "" in QName means the message
//     had no question (QDCOUNT 0);
//   - a '.' inside a label is written `\.` and a backslash `\\`, so label
//     boundaries survive; every other byte is kept raw (control bytes, UTF-8,
//     spaces): this is evidence, and the output layer escapes it.
package dns

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/flow"
)

// MaxAnswers is how many answer records Parse keeps in DNSMessage.Answers.
// Records beyond it are still walked (framing checked, TTL counted) but
// their data is not rendered, so a message cannot make us build thousands
// of strings.
const MaxAnswers = 64

const (
	headerLen = 12
	// maxNameWire is the RFC 1035 §2.3.4 limit on a name's wire form:
	// length octets plus label octets plus the terminating root label.
	maxNameWire = 255
	// maxPointers caps compression-pointer hops per name (as miekg/dns
	// does): a 255-octet name has at most 127 labels, so more hops than
	// that can only be a loop. Forward pointers are allowed (RFC 1035 does
	// not forbid them); the cap alone guarantees termination.
	maxPointers = 126
)

// Sentinel errors wrapped by *Error. Truncation wraps decode.ErrTruncated.
var (
	ErrLabelType   = errors.New("reserved label type")
	ErrNameTooLong = errors.New("name longer than 255 octets")
	ErrPointerLoop = errors.New("too many compression pointers")
	ErrBadPointer  = errors.New("compression pointer past the end of the message")
	ErrBadRData    = errors.New("malformed rdata")
)

// Error is a malformed DNS message. Offset is the byte offset, inside the
// message (without a TCP length prefix), of the field that could not be
// decoded; Where names the part of the message ("header", "question 1",
// "answer 3 rdata", ...). Callers add file and packet offset.
type Error struct {
	Offset int
	Where  string
	Err    error
}

func (e *Error) Error() string {
	return fmt.Sprintf("dns offset %d: %s: %v", e.Offset, e.Where, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Parse decodes one DNS message (without the TCP 2-byte length prefix) into
// the DNS fields of m: ID, Response, Opcode, Rcode, Flags, QName/QType/QClass
// (first question), ANCount (from the header), Answers and TTL. It leaves TS,
// addresses, ports, Transport, FrameLen and Evidence alone and reuses the
// backing array of m.Answers.
//
// Only the answer section becomes Answers (at most MaxAnswers of them, in
// wire order); the authority and additional sections are walked for framing
// only, so a message whose records run past its end is reported. Bytes after
// the last record are ignored. TTL is the minimum TTL (raw uint32, as sent)
// over every answer record that decoded cleanly, including those beyond
// MaxAnswers; 0 when there is none. Opcode and Rcode are the header's 4-bit
// fields (EDNS extended rcode is not merged in).
//
// On a malformed message Parse returns an *Error and keeps in m what was
// decoded cleanly before it: the header, the first question's name when the
// name itself decoded (even if its type and class are cut off), and the
// answers before the bad one.
//
// Allocations: one string for QName and one string shared by every
// Answer.Data of the message (Data strings are slices of it).
func Parse(msg []byte, m *flow.DNSMessage) error {
	m.ID, m.Response, m.Opcode, m.Rcode, m.Flags = 0, false, 0, 0, 0
	m.QName, m.QType, m.QClass, m.ANCount, m.TTL = "", 0, 0, 0, 0
	m.Answers = m.Answers[:0]

	if len(msg) < headerLen {
		return &Error{0, "header", fmt.Errorf("%d bytes, need %d: %w", len(msg), headerLen, decode.ErrTruncated)}
	}
	m.ID = binary.BigEndian.Uint16(msg[0:])
	fl := binary.BigEndian.Uint16(msg[2:])
	m.Response = fl&0x8000 != 0
	m.Opcode = uint8(fl>>11) & 0xf
	m.Rcode = uint8(fl) & 0xf
	var f uint8
	if fl&0x0400 != 0 {
		f |= flow.DNSFlagAA
	}
	if fl&0x0200 != 0 {
		f |= flow.DNSFlagTC
	}
	if fl&0x0100 != 0 {
		f |= flow.DNSFlagRD
	}
	if fl&0x0080 != 0 {
		f |= flow.DNSFlagRA
	}
	if fl&0x0020 != 0 {
		f |= flow.DNSFlagAD
	}
	if fl&0x0010 != 0 {
		f |= flow.DNSFlagCD
	}
	m.Flags = f
	qd := int(binary.BigEndian.Uint16(msg[4:]))
	an := int(binary.BigEndian.Uint16(msg[6:]))
	ns := int(binary.BigEndian.Uint16(msg[8:]))
	ar := int(binary.BigEndian.Uint16(msg[10:]))
	m.ANCount = uint16(an)

	off := headerLen
	var err error
	// The counts are only loop bounds: every iteration consumes at least
	// 5 (question) or 11 (record) bytes or returns an error, so a count of
	// 65535 backed by no data stops at the first missing entry.
	for i := 0; i < qd; i++ {
		if i == 0 {
			var scratch [256]byte
			var name []byte
			name, off, err = readName(msg, off, len(msg), scratch[:0])
			if err != nil {
				return wrap(err, "question 1")
			}
			m.QName = string(name)
		} else if off, err = skipName(msg, off); err != nil {
			return wrap(err, where("question", i))
		}
		if len(msg)-off < 4 {
			return &Error{off, where("question", i), fmt.Errorf("type and class need 4 bytes, %d left: %w", len(msg)-off, decode.ErrTruncated)}
		}
		if i == 0 {
			m.QType = binary.BigEndian.Uint16(msg[off:])
			m.QClass = binary.BigEndian.Uint16(msg[off+2:])
		}
		off += 4
	}

	// Answer data is rendered into one scratch buffer (on the stack for
	// typical responses) and turned into a single string at the end;
	// ends[i] is where answer i's text stops.
	var dataArr [512]byte
	data := dataArr[:0]
	var ends [MaxAnswers]int
	haveTTL := false
	for i := 0; i < an; i++ {
		var r rr
		if r, off, err = readRR(msg, off); err != nil {
			finish(m, data, &ends)
			return wrap(err, where("answer", i))
		}
		if len(m.Answers) < MaxAnswers {
			before := len(data)
			if data, err = appendRData(data, msg, r); err != nil {
				finish(m, data[:before], &ends)
				return wrap(err, where("answer", i)+" rdata")
			}
			m.Answers = append(m.Answers, flow.Answer{Type: r.typ})
			ends[len(m.Answers)-1] = len(data)
		}
		if !haveTTL || r.ttl < m.TTL {
			m.TTL, haveTTL = r.ttl, true
		}
	}
	finish(m, data, &ends)

	for i := 0; i < ns+ar; i++ {
		if _, off, err = readRR(msg, off); err != nil {
			if i < ns {
				return wrap(err, where("authority", i))
			}
			return wrap(err, where("additional", i-ns))
		}
	}
	return nil
}

// finish gives every kept answer its Data as a slice of one string.
func finish(m *flow.DNSMessage, data []byte, ends *[MaxAnswers]int) {
	if len(data) == 0 {
		return // every kept answer has empty Data; no allocation
	}
	s := string(data)
	start := 0
	for i := range m.Answers {
		m.Answers[i].Data = s[start:ends[i]]
		start = ends[i]
	}
}

// where names the i-th (0-based) entry of a section, 1-based for humans.
func where(section string, i int) string {
	return section + " " + strconv.Itoa(i+1)
}

// posError is an internal error with its position; wrap turns it into
// *Error with the part of the message it happened in.
type posError struct {
	off int
	err error
}

func (e *posError) Error() string { return e.err.Error() }

func wrap(err error, w string) error {
	var pe *posError
	if errors.As(err, &pe) {
		return &Error{pe.off, w, pe.err}
	}
	return &Error{-1, w, err}
}

func truncAt(off int, format string, args ...any) error {
	return &posError{off, fmt.Errorf(format+": %w", append(args, decode.ErrTruncated)...)}
}

// rr is the fixed part of a resource record; the rdata is msg[rd:rd+rdlen].
type rr struct {
	typ   uint16
	ttl   uint32
	rd    int
	rdlen int
}

// readRR walks one resource record: owner name (skipped, pointers not
// followed: it is not kept), type, class, TTL, RDLENGTH, RDATA bounds.
func readRR(msg []byte, off int) (rr, int, error) {
	var r rr
	off, err := skipName(msg, off)
	if err != nil {
		return r, off, err
	}
	if len(msg)-off < 10 {
		return r, off, truncAt(off, "type, class, ttl and rdlength need 10 bytes, %d left", len(msg)-off)
	}
	r.typ = binary.BigEndian.Uint16(msg[off:])
	r.ttl = binary.BigEndian.Uint32(msg[off+4:])
	r.rdlen = int(binary.BigEndian.Uint16(msg[off+8:]))
	r.rd = off + 10
	if r.rdlen > len(msg)-r.rd {
		return r, off, truncAt(off+8, "rdlength %d exceeds the %d bytes left", r.rdlen, len(msg)-r.rd)
	}
	return r, r.rd + r.rdlen, nil
}
