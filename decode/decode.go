// Package decode holds the contract every evidence reader follows: how a
// problem in the evidence is reported (file and byte offset), and how the
// caller decides between "count and carry on" and "stop". Decoders never
// print.
package decode

import (
	"errors"
	"fmt"
)

// Error is a problem at a place in one evidence file. Offset is the byte
// offset in the file's (decompressed) content where the bad record starts;
// -1 when unknown.
type Error struct {
	File   string
	Offset int64
	Err    error
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
