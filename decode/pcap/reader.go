package pcap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/spotctl/spotctl/decode"
)

// Limits on what the wire may ask for. They bound memory, never correctness
// of real captures: libpcap's own maximum snap length is 262144, and no
// writer we know of emits pcapng blocks anywhere near 64 MiB.
const (
	// MaxCaplen is the largest captured length of a classic record, whatever
	// the file's snap length says.
	MaxCaplen = 16 << 20
	// MaxBlockLen is the largest pcapng block accepted.
	MaxBlockLen = 64 << 20
	// snapFloor is accepted as a captured length even when the file's snap
	// length is smaller: writers often record a snap length they then exceed.
	snapFloor = 262144
	// maxInterfaces bounds the interface table of one pcapng section.
	maxInterfaces = 1 << 16
	// initialBuf is the read buffer's starting size; it grows only for
	// records that do not fit.
	initialBuf = 64 << 10
	// maxEmptyReads is how many (0, nil) reads in a row we tolerate from the
	// source before giving up with io.ErrNoProgress.
	maxEmptyReads = 100
)

// ErrFatal is wrapped by every error after which the rest of the file
// cannot be read: truncation, a framing field that cannot be trusted, or a
// failing source. Next returns the same error from then on. Errors that do
// not wrap ErrFatal concern one block only, and the next call to Next
// carries on after it.
var ErrFatal = errors.New("rest of file unreadable")

// fatalError keeps the message of its cause and adds ErrFatal to the chain.
type fatalError struct{ err error }

func (e *fatalError) Error() string   { return e.err.Error() }
func (e *fatalError) Unwrap() []error { return []error{e.err, ErrFatal} }

// Reader frames one capture. It is not safe for concurrent use.
type Reader struct {
	src  io.Reader
	name string

	// buf[pos:end] holds bytes read from src and not consumed yet; base is
	// the content offset of buf[0].
	buf        []byte
	pos, end   int
	base       int64
	srcEOF     bool
	srcErr     error // sticky non-EOF error from src
	emptyReads int

	err     error // sticky fatal *decode.Error
	pending error // a non-fatal error found by NewReader, returned by the first Next

	format    string
	ng        bool
	be        bool // byte order of the file (pcap) or of the current section (pcapng)
	linkTypes []uint16

	// classic pcap
	nano      bool
	snaplen   uint32
	snapLimit uint32
	linkType  uint16

	// pcapng
	ifaces      []iface
	skipSection bool  // the current section has an unsupported version
	lastTS      int64 // timestamp for Simple Packet Blocks
}

// NewReader reads pcap or pcapng content (already decompressed) from src.
// name is used in errors. It reads the file header (pcap) or the first
// section header (pcapng). Content that starts with neither magic gives an
// error wrapping decode.ErrNotEvidence.
func NewReader(src io.Reader, name string) (*Reader, error) {
	r := &Reader{src: src, name: name, buf: make([]byte, initialBuf)}
	if err := r.fill(4); err != nil {
		if r.srcErr != nil {
			return nil, &decode.Error{File: name, Offset: 0, Err: fmt.Errorf("read: %w", r.srcErr)}
		}
		return nil, fmt.Errorf("%s: %d bytes, too short for a capture: %w", name, r.end, decode.ErrNotEvidence)
	}
	m := r.buf[r.pos : r.pos+4]
	le, be := binary.LittleEndian.Uint32(m), binary.BigEndian.Uint32(m)
	switch {
	case le == magicMicro || be == magicMicro:
		r.format, r.be = "pcap", be == magicMicro
		if err := r.readPcapHeader(); err != nil {
			return nil, err
		}
		return r, nil
	case le == magicNano || be == magicNano:
		r.format, r.be, r.nano = "pcap-ns", be == magicNano, true
		if err := r.readPcapHeader(); err != nil {
			return nil, err
		}
		return r, nil
	case le == blockSHB:
		r.format, r.ng = "pcapng", true
		if err := r.fill(12); err == nil {
			// The first block must really be a section header; anything else
			// that happens to start with "\n\r\r\n" (text) is not a capture.
			bom := binary.LittleEndian.Uint32(r.buf[r.pos+8:])
			if bom != byteOrderMagic && bom != byteOrderMagicSwapped {
				return nil, fmt.Errorf("%s: starts like pcapng but byte-order magic is 0x%08x: %w", name, binary.BigEndian.Uint32(r.buf[r.pos+8:]), decode.ErrNotEvidence)
			}
		}
		if err := r.readSHB(0); err != nil {
			if errors.Is(err, ErrFatal) {
				return nil, err
			}
			r.pending = err
		}
		return r, nil
	}
	return nil, fmt.Errorf("%s: magic 0x%08x is neither pcap nor pcapng: %w", name, be, decode.ErrNotEvidence)
}

// Next returns the next captured frame. It returns io.EOF at a clean end
// of the content and a *decode.Error otherwise; see the package comment for
// which errors end the file (they wrap ErrFatal and repeat) and which skip
// one block. Packet.Data is only valid until the next call.
func (r *Reader) Next() (decode.Packet, error) {
	if r.err != nil {
		return decode.Packet{}, r.err
	}
	if r.pending != nil {
		err := r.pending
		r.pending = nil
		return decode.Packet{}, err
	}
	if r.ng {
		return r.nextNg()
	}
	return r.nextPcap()
}

// Format names the framing: "pcap" (microsecond timestamps), "pcap-ns" or
// "pcapng".
func (r *Reader) Format() string { return r.format }

// LinkTypes returns the distinct link types of the interfaces seen so far,
// sorted.
func (r *Reader) LinkTypes() []uint16 { return slices.Clone(r.linkTypes) }

// Offset returns how many bytes of content have been consumed so far.
func (r *Reader) Offset() int64 { return r.base + int64(r.pos) }

func (r *Reader) addLinkType(lt uint16) {
	i, found := slices.BinarySearch(r.linkTypes, lt)
	if !found {
		r.linkTypes = slices.Insert(r.linkTypes, i, lt)
	}
}

func (r *Reader) u16(b []byte) uint16 {
	if r.be {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (r *Reader) u32(b []byte) uint32 {
	if r.be {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (r *Reader) u64(b []byte) uint64 {
	if r.be {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}

// fill makes at least n unconsumed bytes available in buf[pos:end]. It
// returns io.EOF if the source ended with nothing unconsumed,
// io.ErrUnexpectedEOF if it ended with fewer than n bytes, or the source's
// error. The buffer grows by doubling, one step per read, so its size stays
// within twice the bytes the source really delivered. Callers bound n.
func (r *Reader) fill(n int) error {
	for r.end-r.pos < n {
		if r.srcErr != nil {
			return r.srcErr
		}
		if r.srcEOF {
			if r.end == r.pos {
				return io.EOF
			}
			return io.ErrUnexpectedEOF
		}
		if len(r.buf)-r.pos < n && r.pos > 0 {
			copy(r.buf, r.buf[r.pos:r.end])
			r.base += int64(r.pos)
			r.end -= r.pos
			r.pos = 0
		}
		if r.end == len(r.buf) {
			nb := make([]byte, min(2*len(r.buf), max(n, initialBuf)))
			copy(nb, r.buf[r.pos:r.end])
			r.base += int64(r.pos)
			r.end -= r.pos
			r.pos = 0
			r.buf = nb
		}
		m, err := r.src.Read(r.buf[r.end:])
		r.end += m
		switch {
		case err == io.EOF:
			r.srcEOF = true
		case err != nil:
			r.srcErr = err
		case m == 0:
			r.emptyReads++
			if r.emptyReads >= maxEmptyReads {
				r.srcErr = io.ErrNoProgress
			}
		default:
			r.emptyReads = 0
		}
	}
	return nil
}

// skip consumes n bytes without keeping them, so a large block we do not
// need never grows the buffer.
func (r *Reader) skip(n int) error {
	for n > 0 {
		if r.end == r.pos {
			if err := r.fill(1); err != nil {
				return err
			}
		}
		k := min(n, r.end-r.pos)
		r.pos += k
		n -= k
	}
	return nil
}

// fatal records a sync-ending error at offset off and returns it.
func (r *Reader) fatal(off int64, err error) error {
	r.err = &decode.Error{File: r.name, Offset: off, Err: &fatalError{err}}
	return r.err
}

// fatalFill turns a failed fill for a record of need bytes starting at off
// (of which the first have bytes are available) into the sticky error.
func (r *Reader) fatalFill(off int64, what string, err error, need int) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		have := r.base + int64(r.end) - off
		return r.fatal(off, fmt.Errorf("%s: %w: content ends %d bytes into %d", what, decode.ErrTruncated, have, need))
	}
	return r.fatal(off, fmt.Errorf("%s: read: %w", what, err))
}

// blockError reports a problem confined to one block (sync is kept).
func (r *Reader) blockError(off int64, format string, args ...any) error {
	return &decode.Error{File: r.name, Offset: off, Err: fmt.Errorf(format, args...)}
}
