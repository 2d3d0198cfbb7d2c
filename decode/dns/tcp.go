package dns

import (
	"encoding/binary"

	"github.com/spotctl/spotctl/decode/flow"
)

// StreamKey names one direction of one TCP connection.
type StreamKey struct {
	Src, Dst         flow.Addr
	SrcPort, DstPort uint16
	VLAN             uint16
}

// TCPStats counts what the reassembler did. Every payload byte it was given
// ends up in an emitted message, is a copy of a byte already seen (see
// Retransmitted), is still buffered, or is counted in DroppedBytes.
type TCPStats struct {
	Segments      uint64 // calls to Add
	Messages      uint64 // messages emitted
	Retransmitted uint64 // segments whose payload (or a part of it) had already been seen; the old part is ignored
	OutOfOrder    uint64 // segments held because they arrived ahead of missing bytes
	Gaps          uint64 // times missing bytes were given up on (window full, FIN behind a gap, Flush)
	Resyncs       uint64 // times a stream was (re)started on a message boundary without its SYN
	Jumps         uint64 // segments so far from the expected sequence number that they start over as a new connection
	Oversize      uint64 // messages longer than the buffer that had to be buffered: skipped, framing kept
	Evicted       uint64 // streams dropped to stay within maxStreams
	DroppedBytes  uint64 // payload bytes discarded: unsynced, gap, oversize, eviction, close with a partial message
	Streams       int    // streams tracked now (including closed ones kept to spot late retransmissions)
}

// Reassembly limits that are not parameters.
const (
	// maxPending is the out-of-order window: segments held ahead of a hole.
	maxPending = 16
	// maxSeqJump: a segment further than this from the expected sequence
	// number (either way) cannot be a retransmission or reordering within
	// one DNS connection; it is a new connection on the same 4-tuple whose
	// SYN we did not see.
	maxSeqJump = 1 << 20
)

type streamState uint8

const (
	stateUnsynced streamState = iota // start unknown: waiting for a plausible message boundary
	stateSynced                      // next is the sequence number of the next byte of a message stream
	stateClosed                      // FIN or RST seen; kept so late copies are recognised
)

type heldSegment struct {
	seq  uint32
	data []byte // own copy
	fin  bool
}

type tcpStream struct {
	key        StreamKey
	prev, next *tcpStream // LRU list, head = most recently used
	state      streamState
	haveISN    bool
	isn        uint32
	nextSeq    uint32
	buf        []byte // start of a message that is not complete yet (length prefix included)
	skip       int    // bytes still to skip of an oversize message
	held       []heldSegment
	heldBytes  int
}

// TCPReassembler rebuilds DNS messages from TCP segments on port 53: each
// direction of each connection is a byte stream of 2-byte-length-prefixed
// messages (RFC 1035 §4.2.2).
//
// Memory is bounded: at most maxStreams streams (least recently used evicted;
// closed streams stay as small tombstones until evicted) and per stream at
// most maxBuffer bytes of an incomplete message plus at most maxBuffer bytes
// of out-of-order segments (maxPending of them). A message longer than
// maxBuffer is still emitted when one segment carries it whole; otherwise it
// is skipped (Oversize) without losing the framing of the ones after it. Use
// 65537 for maxBuffer to reassemble every possible message.
//
// Sequence handling: a segment that starts before the expected byte is a
// retransmission; only its new bytes are used, so no message is emitted twice.
// A segment that starts after it is held until the hole fills. The hole is
// given up on (Gaps) when the window is full (maxPending segments or
// maxBuffer bytes), when a FIN arrives behind it, or at Flush; the partial
// message before it is dropped and the stream resyncs on the held segments.
//
// Resync heuristic, used when a stream's start was not seen (capture began
// mid-connection, SYN lost) or after a gap: a segment is taken as the start
// of a message if its payload begins with a length prefix of at least 12 and
// a DNS header that could be real: opcode 0, 1, 2, 4, 5 or 6, QDCOUNT ≤ 1,
// and counts that fit in the length (5 bytes per question, 11 per record).
// Senders write one message per segment in practice, so the next segment is
// tried when one fails; bytes of segments that fail are dropped and counted.
//
// Emit order follows Add order and is deterministic. A TCPReassembler is not
// safe for concurrent use, and emit must not call back into it.
type TCPReassembler struct {
	maxStreams, maxBuffer int
	streams               map[StreamKey]*tcpStream
	head, tail            *tcpStream
	spare                 *tcpStream // last evicted stream, reused
	stats                 TCPStats
}

// NewTCPReassembler returns a reassembler tracking at most maxStreams
// stream directions (at least 1) with at most maxBuffer buffered bytes each
// (at least 2, enough for a split length prefix).
func NewTCPReassembler(maxStreams, maxBuffer int) *TCPReassembler {
	if maxStreams < 1 {
		maxStreams = 1
	}
	if maxBuffer < 2 {
		maxBuffer = 2
	}
	return &TCPReassembler{
		maxStreams: maxStreams,
		maxBuffer:  maxBuffer,
		streams:    make(map[StreamKey]*tcpStream),
	}
}

// Stats returns the counters so far.
func (r *TCPReassembler) Stats() TCPStats {
	s := r.stats
	s.Streams = len(r.streams)
	return s
}

// Add feeds one TCP segment of the stream key (seq is the segment's sequence
// number; syn, fin and rst its flags). emit receives each complete message
// without its length prefix, in stream order; the slice is valid only during
// the call.
func (r *TCPReassembler) Add(key StreamKey, seq uint32, syn, fin, rst bool, payload []byte, emit func(msg []byte)) {
	r.stats.Segments++
	s := r.streams[key]
	if s == nil {
		if !syn && len(payload) == 0 {
			return // an ACK, FIN or RST of a stream we know nothing of teaches nothing
		}
		s = r.newStream(key)
	} else {
		r.touch(s)
	}
	if rst {
		r.stats.DroppedBytes += uint64(len(payload))
		r.close(s, seq)
		return
	}
	if syn {
		if !(s.haveISN && s.isn == seq) { // not a retransmitted SYN: a (new) connection starts
			r.reset(s)
			s.state, s.haveISN, s.isn, s.nextSeq = stateSynced, true, seq, seq+1
		}
		seq++ // data of a SYN segment starts after the SYN's sequence number
	}
	r.process(s, seq, payload, fin, emit)
}

// process routes one segment by the stream's state.
func (r *TCPReassembler) process(s *tcpStream, seq uint32, data []byte, fin bool, emit func([]byte)) {
	if len(data) == 0 && !fin {
		return
	}
	switch s.state {
	case stateUnsynced:
		r.resync(s, seq, data, fin, emit)
	case stateClosed:
		if d := int32(seq - s.nextSeq); len(data) > 0 && (d > maxSeqJump || d < -maxSeqJump) {
			r.stats.Jumps++
			r.reset(s)
			r.resync(s, seq, data, fin, emit)
			return
		}
		r.stats.DroppedBytes += uint64(len(data)) // late copy of a closed stream's bytes
	case stateSynced:
		r.inWindow(s, seq, data, fin, emit)
		r.drain(s, emit)
	}
}

// inWindow handles a segment of a synced stream.
func (r *TCPReassembler) inWindow(s *tcpStream, seq uint32, data []byte, fin bool, emit func([]byte)) {
	d := int32(seq - s.nextSeq)
	if d > maxSeqJump || d < -maxSeqJump {
		r.stats.Jumps++
		r.reset(s)
		r.resync(s, seq, data, fin, emit)
		return
	}
	if d < 0 {
		old := -int(d)
		if old >= len(data) {
			if len(data) > 0 {
				r.stats.Retransmitted++
			}
			// A FIN at or before the expected byte closes the stream even
			// if its data was a retransmission.
			if fin && int32(seq+uint32(len(data))-s.nextSeq) >= 0 {
				r.close(s, s.nextSeq)
			}
			return
		}
		r.stats.Retransmitted++
		data = data[old:]
		seq = s.nextSeq
	}
	if d > 0 {
		r.hold(s, seq, data, fin, emit)
		return
	}
	r.feed(s, data, emit)
	if fin {
		r.close(s, s.nextSeq)
	}
}

// drain feeds held segments that the stream has caught up with.
func (r *TCPReassembler) drain(s *tcpStream, emit func([]byte)) {
	for s.state == stateSynced && len(s.held) > 0 && int32(s.held[0].seq-s.nextSeq) <= 0 {
		h := s.held[0]
		copy(s.held, s.held[1:])
		s.held[len(s.held)-1] = heldSegment{}
		s.held = s.held[:len(s.held)-1]
		s.heldBytes -= len(h.data)
		r.inWindow(s, h.seq, h.data, h.fin, emit)
	}
}

// hold keeps a segment that arrived ahead of missing bytes.
func (r *TCPReassembler) hold(s *tcpStream, seq uint32, data []byte, fin bool, emit func([]byte)) {
	if len(s.held) >= maxPending || len(s.buf)+s.heldBytes+len(data) > r.maxBuffer {
		// Window full: the hole will not be filled in time.
		r.giveUpGap(s, emit)
		r.process(s, seq, data, fin, emit)
		return
	}
	i := len(s.held)
	for i > 0 && int32(s.held[i-1].seq-seq) > 0 {
		i--
	}
	if i > 0 && s.held[i-1].seq == seq && len(s.held[i-1].data) >= len(data) && (s.held[i-1].fin || !fin) {
		r.stats.Retransmitted++ // a copy of a segment already held
		return
	}
	r.stats.OutOfOrder++
	s.held = append(s.held, heldSegment{})
	copy(s.held[i+1:], s.held[i:])
	s.held[i] = heldSegment{seq: seq, data: append([]byte(nil), data...), fin: fin}
	s.heldBytes += len(data)
	if fin {
		// The sender has finished; a capture that missed a segment will
		// never show it, so do not wait for it.
		r.giveUpGap(s, emit)
	}
}

// giveUpGap abandons the bytes missing before the held segments: the
// partial message is dropped and the held segments are replayed as a stream
// whose start is unknown.
//
// It always leaves the stream unsynced or past the held segments, so a caller
// that retries a segment after it cannot end up here again with the same
// state.
func (r *TCPReassembler) giveUpGap(s *tcpStream, emit func([]byte)) {
	r.stats.Gaps++
	r.stats.DroppedBytes += uint64(len(s.buf))
	s.buf = s.buf[:0]
	s.skip = 0
	s.state = stateUnsynced
	held := s.held
	s.held, s.heldBytes = nil, 0
	for _, h := range held {
		r.process(s, h.seq, h.data, h.fin, emit)
	}
}

// resync starts an unsynced stream at data if it plausibly begins a message.
func (r *TCPReassembler) resync(s *tcpStream, seq uint32, data []byte, fin bool, emit func([]byte)) {
	if !plausibleStart(data) {
		r.stats.DroppedBytes += uint64(len(data))
		if fin {
			r.close(s, seq+uint32(len(data)))
		}
		return
	}
	r.stats.Resyncs++
	s.state, s.nextSeq = stateSynced, seq
	r.feed(s, data, emit)
	if fin {
		r.close(s, s.nextSeq)
	}
}

// plausibleStart reports whether b could begin a length-prefixed DNS message.
func plausibleStart(b []byte) bool {
	if len(b) < 2+headerLen {
		return false
	}
	l := int(binary.BigEndian.Uint16(b))
	if l < headerLen {
		return false
	}
	op := b[4] >> 3 & 0xf
	if op == 3 || op > 6 {
		return false
	}
	qd := int(binary.BigEndian.Uint16(b[6:]))
	rrs := int(binary.BigEndian.Uint16(b[8:])) + int(binary.BigEndian.Uint16(b[10:])) + int(binary.BigEndian.Uint16(b[12:]))
	return qd <= 1 && headerLen+5*qd+11*rrs <= l
}

// feed consumes in-order stream bytes and emits every message they complete.
// Complete messages inside data are emitted straight from it (no copy); only
// the start of an unfinished message is buffered.
func (r *TCPReassembler) feed(s *tcpStream, data []byte, emit func([]byte)) {
	s.nextSeq += uint32(len(data))
	for len(data) > 0 {
		if s.skip > 0 {
			n := min(s.skip, len(data))
			s.skip -= n
			r.stats.DroppedBytes += uint64(n)
			data = data[n:]
			continue
		}
		if len(s.buf) > 0 {
			if len(s.buf) == 1 {
				s.buf = append(s.buf, data[0])
				data = data[1:]
			}
			if len(s.buf) < 2 {
				break
			}
			need := 2 + int(binary.BigEndian.Uint16(s.buf))
			if need > r.maxBuffer {
				r.oversize(s, need-len(s.buf))
				continue
			}
			if cap(s.buf) < need {
				s.buf = append(make([]byte, 0, need), s.buf...)
			}
			n := min(need-len(s.buf), len(data))
			s.buf = append(s.buf, data[:n]...)
			data = data[n:]
			if len(s.buf) == need {
				r.stats.Messages++
				emit(s.buf[2:])
				s.buf = s.buf[:0]
			}
			continue
		}
		if len(data) < 2 {
			s.buf = append(s.buf, data...)
			break
		}
		need := 2 + int(binary.BigEndian.Uint16(data))
		if len(data) >= need {
			r.stats.Messages++
			emit(data[2:need])
			data = data[need:]
			continue
		}
		if need > r.maxBuffer {
			r.stats.DroppedBytes += uint64(len(data))
			r.oversize(s, need-len(data))
			break
		}
		if cap(s.buf) < need {
			s.buf = make([]byte, 0, need)
		}
		s.buf = append(s.buf, data...)
		break
	}
}

// oversize skips the rest of a message too long to buffer.
func (r *TCPReassembler) oversize(s *tcpStream, rest int) {
	r.stats.Oversize++
	r.stats.DroppedBytes += uint64(len(s.buf))
	s.buf = s.buf[:0]
	s.skip = rest
}

// close ends a stream: what is buffered or held is dropped, and the stream
// stays as a tombstone at sequence number end so late copies are ignored.
func (r *TCPReassembler) close(s *tcpStream, end uint32) {
	r.stats.DroppedBytes += uint64(len(s.buf) + s.heldBytes)
	s.buf, s.held, s.heldBytes, s.skip = nil, nil, 0, 0
	s.state, s.nextSeq = stateClosed, end
}

// reset forgets everything about a stream except its key and list position.
func (r *TCPReassembler) reset(s *tcpStream) {
	r.stats.DroppedBytes += uint64(len(s.buf) + s.heldBytes)
	s.buf, s.held, s.heldBytes, s.skip = s.buf[:0], nil, 0, 0
	s.state, s.haveISN, s.isn, s.nextSeq = stateUnsynced, false, 0, 0
}

// Flush gives up every open stream's gaps (emitting what the held segments
// complete, with the stream's key) and then forgets all streams. Call it at
// the end of the evidence, not between files of a rotated capture set.
// Streams are visited from least to most recently used.
func (r *TCPReassembler) Flush(emit func(key StreamKey, msg []byte)) {
	for s := r.tail; s != nil; s = s.prev {
		if len(s.held) > 0 {
			key := s.key
			r.giveUpGap(s, func(msg []byte) { emit(key, msg) })
		}
		r.stats.DroppedBytes += uint64(len(s.buf) + s.heldBytes)
	}
	clear(r.streams)
	r.head, r.tail, r.spare = nil, nil, nil
}

func (r *TCPReassembler) newStream(key StreamKey) *tcpStream {
	if len(r.streams) >= r.maxStreams {
		r.evict()
	}
	s := r.spare
	r.spare = nil
	if s == nil {
		s = &tcpStream{}
	} else {
		*s = tcpStream{buf: s.buf[:0]}
	}
	s.key = key
	r.streams[key] = s
	r.pushFront(s)
	return s
}

func (r *TCPReassembler) evict() {
	s := r.tail
	if s == nil {
		return
	}
	r.stats.Evicted++
	r.stats.DroppedBytes += uint64(len(s.buf) + s.heldBytes)
	r.unlink(s)
	delete(r.streams, s.key)
	r.spare = s
}

func (r *TCPReassembler) touch(s *tcpStream) {
	if r.head == s {
		return
	}
	r.unlink(s)
	r.pushFront(s)
}

func (r *TCPReassembler) pushFront(s *tcpStream) {
	s.prev, s.next = nil, r.head
	if r.head != nil {
		r.head.prev = s
	}
	r.head = s
	if r.tail == nil {
		r.tail = s
	}
}

func (r *TCPReassembler) unlink(s *tcpStream) {
	if s.prev != nil {
		s.prev.next = s.next
	} else {
		r.head = s.next
	}
	if s.next != nil {
		s.next.prev = s.prev
	} else {
		r.tail = s.prev
	}
	s.prev, s.next = nil, nil
}
