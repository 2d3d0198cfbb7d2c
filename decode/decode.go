// Package decode holds the contract every evidence reader follows: how a
// problem in the evidence is reported (file and byte offset), and how the
// caller decides between "count and carry on" and "stop". Decoders never
// print.
package decode

import (
	"errors"
	"fmt"
)

// Severity says what a problem means for the results built from the
// evidence.
type Severity uint8

const (
	// Warning: part of the evidence could not be read or fully analysed:
	// the file is damaged or cut, or a bound spotctl keeps against hostile
	// input was reached (a template cache, the fragment tracker). The
	// results are partial: ingest exits 3, and --strict makes it fatal.
	Warning Severity = iota
	// Note: the evidence was read completely, but traffic it records is
	// malformed (a payload on port 53 that is not well-formed DNS,
	// fragments that overlap with different bytes). It was handled as a
	// receiving host would and kept as far as it decoded; nothing was lost,
	// so a note is reported and counted but changes no exit status. Why not
	// a warning: the sender of the traffic, not the evidence, chose these
	// bytes; an attacker must not be able to make every ingest of a capture
	// "partial" (or abort --strict) with one crafted packet, and port 53
	// carries non-DNS protocols (VPNs, tunnels) in ordinary captures.
	Note
)

func (s Severity) String() string {
	if s == Note {
		return "note"
	}
	return "warning"
}

// Error is a problem at a place in one evidence file. Offset is the byte
// offset in the file's (decompressed) content where the bad record starts
// (for traffic inside a capture: the record of the packet that carried or
// completed it); -1 when unknown.
type Error struct {
	File   string
	Offset int64
	Err    error
	// Kind is a short fixed name for this kind of problem ("malformed
	// DNS", "fragment tracker full"), under which repeated problems are
	// grouped and counted when they are reported; "" lets KindName derive
	// one from Err.
	Kind     string
	Severity Severity
}

// KindName returns Kind or, when it is empty, the text of the innermost
// error wrapped by Err (following the first branch of a joined error).
// Decoders wrap a sentinel per kind of problem ("malformed export",
// "template refused", "bad record"), so that text is stable across
// records; an error without one yields its own, varying, text.
func (e *Error) KindName() string {
	if e.Kind != "" {
		return e.Kind
	}
	err := e.Err
	// Bounded: an error chain is built by our own code, but a cycle must
	// still not hang a report.
	for hops := 0; err != nil && hops < 64; hops++ {
		var next error
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			next = u.Unwrap()
		case interface{ Unwrap() []error }:
			if errs := u.Unwrap(); len(errs) > 0 {
				next = errs[0]
			}
		}
		if next == nil {
			return err.Error()
		}
		err = next
	}
	return "problem"
}

func (e *Error) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("%s: offset %d: %v", e.File, e.Offset, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorFunc receives each problem as it is found. Returning nil means carry
// on with the rest of the evidence; a non-nil error aborts the read and is
// returned by the reader.
type ErrorFunc func(*Error) error

// ErrTruncated marks evidence that ends in the middle of a record.
var ErrTruncated = errors.New("truncated")

// ErrNotEvidence marks a file whose content is no format spotctl reads.
var ErrNotEvidence = errors.New("not evidence")

// Packet is one captured frame as a framing reader hands it out. Data is
// only valid until the reader's next call.
type Packet struct {
	TS       int64  // Unix nanoseconds
	LinkType uint16 // LINKTYPE_* value of the interface the frame came from
	Data     []byte // captured bytes
	WireLen  uint32 // original length on the wire
	Offset   int64  // byte offset of the record in the file's content
}
