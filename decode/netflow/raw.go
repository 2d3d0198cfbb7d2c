package netflow

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/flow"
)

// maxMessage is the longest export message a raw file may hold: one UDP
// datagram.
const maxMessage = 65535

// Format names returned by Detect.
const (
	FormatV5    = "netflow-v5"
	FormatV9    = "netflow-v9"
	FormatIPFIX = "ipfix"
)

func validSetID(version, id uint16) bool {
	return id >= 256 || isTemplateSet(version, id)
}

// IsExport reports whether payload is one whole NetFlow v5, v9 or IPFIX
// export datagram: a known version, and lengths that agree — v5: count 1..30,
// 24+48*count bytes (less than one record of padding after), unix_nsecs
// below one second; v9 and IPFIX: at least one flowset, every flowset id
// legal for the version and at least 4 bytes long, the flowsets tiling the
// datagram to its end (v9: up to 3 zero bytes after); IPFIX: the header's
// message length equal to the payload's. It is the check that finds exports
// on any UDP port; it allocates nothing.
func IsExport(payload []byte) bool {
	p := payload
	if len(p) < 4 {
		return false
	}
	switch be16(p) {
	case 5:
		if len(p) < v5HeaderLen {
			return false
		}
		c := int(be16(p[2:]))
		need := v5HeaderLen + c*v5RecordLen
		return c >= 1 && c <= 30 && len(p) >= need && len(p)-need < v5RecordLen && be32(p[12:]) < 1e9
	case 9:
		return len(p) >= v9HeaderLen+4 && setsTile(9, p[v9HeaderLen:])
	case 10:
		return len(p) >= ipfixHeaderLen+4 && int(be16(p[2:])) == len(p) && setsTile(10, p[ipfixHeaderLen:])
	}
	return false
}

func setsTile(version uint16, b []byte) bool {
	n := 0
	for len(b) >= 4 {
		id, l := be16(b), int(be16(b[2:]))
		if !validSetID(version, id) || l < 4 || l > len(b) {
			return false
		}
		b = b[l:]
		n++
	}
	if version == 10 && len(b) != 0 {
		return false
	}
	return n > 0 && !nonZero(b)
}

// Detect recognises a raw export datagram file from its first bytes (as
// many as the caller has; 64 or more is plenty). It returns FormatV5,
// FormatV9 or FormatIPFIX. The first message's header must be consistent
// as far as head reaches, and where head reaches the next message, that
// one must start with an export version too.
func Detect(head []byte) (format string, ok bool) {
	p := head
	if len(p) < 4 {
		return "", false
	}
	if looksText(p[2:min(len(p), 64)]) {
		// A header of counts, times and ids is never all text; without
		// this a text file starting with a NUL could pass the v9/IPFIX
		// checks when its first flowset claims to run past head.
		return "", false
	}
	switch be16(p) {
	case 5:
		if len(p) < v5HeaderLen {
			return "", false
		}
		c := int(be16(p[2:]))
		if c < 1 || c > 30 || be32(p[12:]) >= 1e9 {
			return "", false
		}
		if next := v5HeaderLen + c*v5RecordLen; len(p) >= next+2 && !knownVersion(be16(p[next:])) {
			return "", false
		}
		return FormatV5, true
	case 9:
		if len(p) < v9HeaderLen+4 {
			return "", false
		}
		b := p[v9HeaderLen:]
		for i := 0; len(b) >= 4; i++ {
			id, l := be16(b), int(be16(b[2:]))
			if i > 0 && id >= 2 && id < 256 {
				if !knownVersion(id) {
					return "", false
				}
				break // the next message
			}
			if !validSetID(9, id) || l < 4 {
				return "", false
			}
			if l > len(b) {
				break // beyond what we were given
			}
			b = b[l:]
		}
		return FormatV9, true
	case 10:
		if len(p) < ipfixHeaderLen+4 {
			return "", false
		}
		length := int(be16(p[2:]))
		if length < ipfixHeaderLen+4 {
			return "", false
		}
		end := min(length, len(p))
		for off := ipfixHeaderLen; end-off >= 4; {
			id, l := be16(p[off:]), int(be16(p[off+2:]))
			if !validSetID(10, id) || l < 4 || off+l > length {
				return "", false
			}
			off += l
			if off == length && len(p) >= length+2 && !knownVersion(be16(p[length:])) {
				return "", false
			}
		}
		return FormatIPFIX, true
	}
	return "", false
}

func knownVersion(v uint16) bool { return v == 5 || v == 9 || v == 10 }

// looksText reports whether b is all printable ASCII or white space.
func looksText(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 || c > 0x7e) && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// ReadRaw decodes a raw datagram file: export messages back to back, no
// framing (what collectors and test suites save). It frames each message
// (v5: 24+48*count bytes; IPFIX: the header's length; v9: flowsets up to the
// next one whose id is in 2..255 — the next header — or the end) and hands it
// to d.Datagram with no exporter address and the header's export time.
// Problems go to onErr as *decode.Error with the byte offset in the file's
// content; nil from onErr carries on. A message that cannot be framed (not
// an export version, a length that is impossible) ends the file after being
// reported. It returns the decoder's counters for this file alone and the
// error that aborted the read (from onErr, or from reading), else nil.
// emit's record is valid only during the call.
func ReadRaw(r io.Reader, name string, evidence uint32, d *Decoder, emit func(*flow.Record), onErr decode.ErrorFunc) (Stats, error) {
	before := d.Stats()
	br := bufio.NewReaderSize(r, 2*maxMessage)
	var off int64
	report := func(at int64, err error) error {
		e := &decode.Error{File: name, Offset: at, Err: err}
		if onErr == nil {
			return e
		}
		return onErr(e)
	}
	for {
		n, ferr := frame(br)
		if ferr == io.EOF {
			break
		}
		if ferr != nil && !errors.Is(ferr, decode.ErrTruncated) {
			var fe *frameError
			if errors.As(ferr, &fe) {
				d.stats.Errors++
				return d.Stats().Sub(before), report(off+int64(fe.off), fe.err)
			}
			return d.Stats().Sub(before), report(off, fmt.Errorf("read %s: %w", name, ferr))
		}
		msg, _ := br.Peek(n)
		err := d.Datagram(flow.Addr{}, 0, 0, msg, evidence, emit)
		if err != nil {
			var de *DatagramError
			at := off
			if errors.As(err, &de) {
				at += int64(de.Offset)
				err = de.Err
			}
			if abort := report(at, err); abort != nil {
				return d.Stats().Sub(before), abort
			}
		}
		if ferr != nil {
			// The content ended inside this message: what it held was
			// decoded above; say so unless the decoder already did.
			if !errors.Is(err, decode.ErrTruncated) {
				d.stats.Errors++
				if abort := report(off+int64(n), ferr); abort != nil {
					return d.Stats().Sub(before), abort
				}
			}
			break
		}
		if _, err := br.Discard(n); err != nil {
			return d.Stats().Sub(before), report(off, fmt.Errorf("read %s: %w", name, err))
		}
		off += int64(n)
	}
	return d.Stats().Sub(before), nil
}

// frameError is a message that cannot be framed, at an offset within it.
type frameError struct {
	off int
	err error
}

func (e *frameError) Error() string { return e.err.Error() }

// frame finds the length of the next message in br without consuming it.
// It returns io.EOF at a clean end, an error wrapping decode.ErrTruncated
// with the length available when the content ends inside the message (that
// partial message is still worth decoding), a *frameError when the bytes
// cannot be a message, or a read error.
func frame(br *bufio.Reader) (int, error) {
	hdr, err := br.Peek(4)
	if len(hdr) == 0 {
		if err == io.EOF || err == nil {
			return 0, io.EOF
		}
		return 0, err
	}
	if len(hdr) < 4 {
		if err != nil && err != io.EOF {
			return 0, err
		}
		return partial(len(hdr))
	}
	var n int
	switch v := be16(hdr); v {
	case 5:
		n = v5HeaderLen + int(be16(hdr[2:]))*v5RecordLen
		if n > maxMessage {
			return 0, &frameError{2, fmt.Errorf("%w: v5 count %d makes a %d-byte message, longer than a datagram", ErrMalformed, be16(hdr[2:]), n)}
		}
	case 10:
		n = int(be16(hdr[2:]))
		if n < ipfixHeaderLen {
			return 0, &frameError{2, fmt.Errorf("%w: IPFIX message length %d is shorter than its header", ErrMalformed, n)}
		}
	case 9:
		n = v9HeaderLen
		for {
			b, err := br.Peek(n + 4)
			if len(b) < n+4 {
				if len(b) == n && (err == io.EOF || err == nil) {
					return n, nil // the file ends with this message
				}
				if err != io.EOF && err != nil {
					return 0, err
				}
				return partial(len(b))
			}
			id, l := be16(b[n:]), int(be16(b[n+2:]))
			if n > v9HeaderLen && id >= 2 && id < 256 {
				return n, nil // the next message's version
			}
			if l < 4 {
				return 0, &frameError{n + 2, fmt.Errorf("%w: v9 flowset %d has length %d", ErrMalformed, id, l)}
			}
			if n+l > maxMessage {
				return 0, &frameError{n, fmt.Errorf("%w: v9 message longer than a datagram (%d bytes)", ErrMalformed, n+l)}
			}
			n += l
		}
	default:
		return 0, &frameError{0, fmt.Errorf("%w: version %d", ErrNotExport, v)}
	}
	b, err := br.Peek(n)
	if len(b) < n {
		if err != io.EOF && err != nil {
			return 0, err
		}
		return partial(len(b))
	}
	return n, nil
}

func partial(n int) (int, error) {
	return n, fmt.Errorf("%w: content ends inside a message", decode.ErrTruncated)
}
