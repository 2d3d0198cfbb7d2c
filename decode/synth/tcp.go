package synth

import (
	"encoding/binary"
	"math/rand/v2"
)

// msgKind says how the bytes of a message after its prefix are produced.
type msgKind uint8

const (
	mkRaw msgKind = iota // filler bytes
	mkTLS                // TLS 1.3 application-data records whose bodies are filler
)

// message is one application message: everything one side sends before it
// waits for the other. Its bytes are the prefix (protocol headers built when
// the conversation is planned, kept in the connection's arena) followed by
// generated body bytes, so a multi-megabyte response costs no memory.
type message struct {
	dir      uint8 // 0: client → server, 1: server → client
	kind     msgKind
	pre, end int   // prefix = arena[pre:end]
	n        int   // total length in bytes
	delay    int64 // wait before its first byte, after the previous message ends (ns)
	fill     int   // offset into the filler
	dns      uint8 // dnsQueryMsg / dnsAnswerMsg: counted in Stats when it starts
}

const (
	dnsQueryMsg = 1 + iota
	dnsAnswerMsg
)

// TLS 1.3 record framing of mkTLS bodies: full records carry 16384 bytes of
// plaintext plus a content-type byte and a 16-byte AEAD tag.
const (
	tlsRecPlain = 16384
	tlsRecLen   = tlsRecPlain + 17
	tlsRecSpan  = 5 + tlsRecLen
)

// tlsWireLen is the number of record bytes that carry plain bytes of
// application data.
func tlsWireLen(plain int) int {
	recs := (plain + tlsRecPlain - 1) / tlsRecPlain
	return plain + recs*22
}

// Close modes of a TCP connection.
const (
	closeClientFin = iota // client FIN, server FIN, client ACK
	closeServerFin        // server FIN (idle timeout), client ACK, client FIN, server ACK
	closeClientRst        // client aborts with RST
	closeServerRst        // server aborts with RST
)

// States of a TCP connection.
const (
	stSyn = iota
	stSynAck
	stAck
	stData
	stClose1
	stClose2
	stClose3
	stClose4
	stDone
)

// After an ACK, the connection either continues the current flight, waits
// for the next flight or moves to the next message.
const (
	afterFlight = iota
	afterNewFlight
	afterMsg
)

// tcpConn is one TCP connection as a state machine: every fire emits one
// segment and says when the next one is due. The capture point sits next to
// the client; "near" sides answer within microseconds, "far" ones after a
// round trip.
type tcpConn struct {
	h       *host // client host: owns the ephemeral port and the session count
	rng     *rand.Rand
	p       [2]path
	port    [2]uint16
	seq     [2]uint32
	lastTS  [2]uint32 // last TSval sent by each side
	tsBase  [2]uint32
	win     [2]uint16 // window after the handshake
	synWin  [2]uint16
	wscale  [2]uint8
	os      [2]osKind
	near    [2]bool
	useTS   bool
	refused bool // the server answers the SYN with RST
	mss     int
	rtt     int64 // round trip from the capture point to the server
	nsByte  int64 // serialisation time per byte (link bottleneck), ns
	msgs    []message
	arena   []byte
	cur     int // current message
	off     int // bytes of the current message sent
	st      int
	cwnd    [2]int     // segments per flight, per sender
	flight  int        // segments sent in the current flight
	unacked int        // segments the receiver has not acknowledged yet
	ackPts  [40]uint32 // a far receiver's cumulative ACK points for the flight, one per two segments
	nAck    int        // ACK points recorded
	iAck    int        // ACK points emitted
	after   int        // what follows the pending ACK
	pending bool       // an ACK (or a burst of them) is due before more data
	fstart  int64      // time the current flight started
	close   int
	idle    int64 // time between the last message and the close
	inj     int   // 1-based injector the connection belongs to; 0 for background
	opt     [40]byte
}

// tsOpt returns the option bytes of a segment from side (after the
// handshake): NOP, NOP, timestamps when negotiated.
func (c *tcpConn) tsOpt(side int, now int64, g *gen) []byte {
	if !c.useTS {
		return nil
	}
	o := c.opt[:12]
	o[0], o[1], o[2], o[3] = 1, 1, 8, 10
	v := c.tsBase[side] + uint32((now-g.start)/1e6)
	binary.BigEndian.PutUint32(o[4:], v)
	binary.BigEndian.PutUint32(o[8:], c.lastTS[1-side])
	c.lastTS[side] = v
	return o
}

// synOpt returns the SYN or SYN-ACK options in the order the side's OS uses.
func (c *tcpConn) synOpt(side int, now int64, g *gen) []byte {
	o := c.opt[:0]
	mss := uint16(1460) // Ethernet MTU minus IPv4 and TCP headers
	if c.p[0].v6 {
		mss = 1440
	}
	if c.useTS {
		v := c.tsBase[side] + uint32((now-g.start)/1e6)
		var ecr uint32
		if side == 1 {
			ecr = c.lastTS[0]
		}
		c.lastTS[side] = v
		o = append(o, 2, 4, byte(mss>>8), byte(mss), 4, 2, 8, 10)
		o = binary.BigEndian.AppendUint32(o, v)
		o = binary.BigEndian.AppendUint32(o, ecr)
		o = append(o, 1, 3, 3, c.wscale[side])
		return o
	}
	o = append(o, 2, 4, byte(mss>>8), byte(mss), 1, 3, 3, c.wscale[side], 1, 1, 4, 2)
	return o
}

// reply is the delay before side reacts to a packet of the other side, as
// seen at the capture point.
func (c *tcpConn) reply(side int) int64 {
	switch {
	case c.near[side] && !c.near[1-side]:
		return 20_000 + c.rng.Int64N(80_000)
	case c.near[side]:
		// Both on the LAN: the switch sees each reaction half a round trip
		// after the packet it answers.
		return c.rtt/2 + c.rng.Int64N(c.rtt/8+1)
	}
	return c.rtt + c.rng.Int64N(c.rtt/8+1)
}

// segGap is the spacing of back-to-back segments of n bytes.
func (c *tcpConn) segGap(n int) int64 { return int64(n+54)*c.nsByte + 1000 }

// send emits one segment from side with flags and n payload bytes taken
// from the current message at offset off.
func (c *tcpConn) send(g *gen, now int64, side int, flags uint8, n int, opts []byte) {
	h := tcpHdr{
		sport: c.port[side], dport: c.port[1-side],
		seq: c.seq[side], flags: flags, win: c.win[side], opts: opts,
	}
	if flags&tcpAck != 0 {
		h.ack = c.seq[1-side]
	}
	if n > 0 {
		c.fill(g, g.tcpPayload(len(opts))[:n], &c.msgs[c.cur], c.off)
	}
	g.emitTCP(now, &c.p[side], &h, n)
	c.seq[side] += uint32(n)
	if flags&(tcpSyn|tcpFin) != 0 {
		c.seq[side]++
	}
}

const (
	tcpFin = 0x01
	tcpSyn = 0x02
	tcpRst = 0x04
	tcpPsh = 0x08
	tcpAck = 0x10
)

// fire emits the connection's next segment.
func (c *tcpConn) fire(g *gen, now int64) int64 {
	g.inj = c.inj
	switch c.st {
	case stSyn:
		g.flowStarted(protoTCP)
		h := tcpHdr{sport: c.port[0], dport: c.port[1], seq: c.seq[0], flags: tcpSyn, win: c.synWin[0], opts: c.synOpt(0, now, g)}
		g.emitTCP(now, &c.p[0], &h, 0)
		c.seq[0]++
		c.st = stSynAck
		return now + c.reply(1)
	case stSynAck:
		if c.refused {
			h := tcpHdr{sport: c.port[1], dport: c.port[0], ack: c.seq[0], flags: tcpRst | tcpAck}
			g.emitTCP(now, &c.p[1], &h, 0)
			return c.done(g)
		}
		h := tcpHdr{sport: c.port[1], dport: c.port[0], seq: c.seq[1], ack: c.seq[0], flags: tcpSyn | tcpAck, win: c.synWin[1], opts: c.synOpt(1, now, g)}
		g.emitTCP(now, &c.p[1], &h, 0)
		c.seq[1]++
		c.st = stAck
		return now + c.reply(0)
	case stAck:
		c.send(g, now, 0, tcpAck, 0, c.tsOpt(0, now, g))
		c.st = stData
		c.startMsg()
		if len(c.msgs) == 0 {
			c.st = stClose1
			return now + c.idle
		}
		return now + c.msgs[0].delay
	case stData:
		return c.data(g, now)
	default:
		return c.closing(g, now)
	}
}

func (c *tcpConn) startMsg() {
	c.off, c.flight, c.unacked, c.nAck, c.iAck, c.pending = 0, 0, 0, 0, 0, false
	if c.cur < len(c.msgs) {
		d := c.msgs[c.cur].dir
		if c.cwnd[d] == 0 {
			c.cwnd[d] = 10
		}
	}
}

// data emits the next data segment or acknowledgement.
func (c *tcpConn) data(g *gen, now int64) int64 {
	m := &c.msgs[c.cur]
	snd := int(m.dir)
	rcv := 1 - snd
	if c.pending {
		return c.ack(g, now, snd, rcv)
	}
	if c.flight == 0 {
		c.fstart = now
		c.nAck, c.iAck = 0, 0
	}
	if c.off == 0 && m.dns != 0 {
		g.stats.DNSQueries += int(2 - m.dns)
		g.stats.DNSResponses += int(m.dns - 1)
	}
	n := min(c.mss, m.n-c.off)
	flags := uint8(tcpAck)
	if c.off+n == m.n {
		flags |= tcpPsh
	}
	c.send(g, now, snd, flags, n, c.tsOpt(snd, now, g))
	c.off += n
	c.flight++
	c.unacked++
	if !c.near[rcv] && c.unacked%2 == 0 && c.nAck < len(c.ackPts) {
		c.ackPts[c.nAck] = c.seq[snd]
		c.nAck++
	}
	switch {
	case c.off == m.n && c.cur+1 < len(c.msgs) && c.msgs[c.cur+1].dir == m.dir:
		// The same side goes on talking (TLS Finished, then the request):
		// no ACK in between.
		c.cur++
		c.off = 0
		return now + c.msgs[c.cur].delay
	case c.off == m.n:
		c.after = afterMsg
	case c.flight >= c.cwnd[snd]:
		c.after = afterNewFlight
		c.cwnd[snd] = min(2*c.cwnd[snd], 64)
	case c.near[rcv] && c.unacked >= 2:
		// Delayed ACK: a near receiver acknowledges every second segment.
		c.after = afterFlight
		c.pending = true
		return now + min(c.reply(rcv), c.segGap(n)/2+1)
	default:
		return now + c.segGap(n)
	}
	c.pending = true
	if c.near[rcv] {
		return now + c.reply(rcv)
	}
	// A far receiver's ACKs for the flight arrive one round trip after the
	// flight started, one per two segments.
	if c.unacked%2 == 1 || c.nAck == 0 {
		if c.nAck == len(c.ackPts) {
			c.nAck--
		}
		c.ackPts[c.nAck] = c.seq[snd]
		c.nAck++
	}
	return max(now+1000, c.fstart+c.rtt)
}

// ack emits a pure ACK from the receiver of the current message and
// decides what follows it.
func (c *tcpConn) ack(g *gen, now int64, snd, rcv int) int64 {
	h := tcpHdr{sport: c.port[rcv], dport: c.port[snd], seq: c.seq[rcv], flags: tcpAck, win: c.win[rcv], opts: c.tsOpt(rcv, now, g)}
	h.ack = c.seq[snd]
	if c.iAck < c.nAck {
		// A far receiver: cumulative ACKs progress through the flight.
		h.ack = c.ackPts[c.iAck]
		c.iAck++
	}
	g.emitTCP(now, &c.p[rcv], &h, 0)
	if c.iAck < c.nAck {
		return now + 2*c.segGap(c.mss)
	}
	c.nAck, c.iAck = 0, 0
	c.pending = false
	c.unacked = 0
	switch c.after {
	case afterMsg:
		c.cur++
		c.startMsg()
		if c.cur == len(c.msgs) {
			c.st = stClose1
			return now + c.idle
		}
		d := c.msgs[c.cur].delay
		if !c.near[rcv] && int(c.msgs[c.cur].dir) == rcv {
			// The far side's answer was planned from the end of the
			// message it answers; its ACKs already took the round trip.
			d = max(1000, d-c.rtt)
		}
		return now + d
	case afterNewFlight:
		c.flight = 0
		// The sender's next flight follows the ACK: after a round trip
		// when the sender is far, at once when it is near.
		return now + c.reply(snd)
	}
	return now + c.segGap(c.mss)/2 + 1
}

// closing emits the teardown.
func (c *tcpConn) closing(g *gen, now int64) int64 {
	switch c.close {
	case closeClientRst, closeServerRst:
		side := 0
		if c.close == closeServerRst {
			side = 1
		}
		c.send(g, now, side, tcpRst|tcpAck, 0, nil)
		return c.done(g)
	case closeClientFin:
		switch c.st {
		case stClose1:
			c.send(g, now, 0, tcpFin|tcpAck, 0, c.tsOpt(0, now, g))
			c.st = stClose2
			return now + c.reply(1)
		case stClose2:
			c.send(g, now, 1, tcpFin|tcpAck, 0, c.tsOpt(1, now, g))
			c.st = stClose3
			return now + c.reply(0)
		default:
			c.send(g, now, 0, tcpAck, 0, c.tsOpt(0, now, g))
			return c.done(g)
		}
	default: // closeServerFin
		switch c.st {
		case stClose1:
			c.send(g, now, 1, tcpFin|tcpAck, 0, c.tsOpt(1, now, g))
			c.st = stClose2
			return now + c.reply(0)
		case stClose2:
			c.send(g, now, 0, tcpAck, 0, c.tsOpt(0, now, g))
			c.st = stClose3
			return now + 10_000 + c.rng.Int64N(200_000)
		case stClose3:
			c.send(g, now, 0, tcpFin|tcpAck, 0, c.tsOpt(0, now, g))
			c.st = stClose4
			return now + c.reply(1)
		default:
			c.send(g, now, 1, tcpAck, 0, c.tsOpt(1, now, g))
			return c.done(g)
		}
	}
}

func (c *tcpConn) done(g *gen) int64 {
	c.st = stDone
	if c.h != nil {
		c.h.active--
	}
	g.freeConn(c)
	return -1
}

// fill writes the bytes [off, off+len(dst)) of message m into dst.
func (c *tcpConn) fill(g *gen, dst []byte, m *message, off int) {
	pre := m.end - m.pre
	if off < pre {
		k := copy(dst, c.arena[m.pre+off:m.end])
		dst = dst[k:]
		off += k
	}
	body := m.n - pre
	for len(dst) > 0 {
		bo := off - pre
		if m.kind == mkTLS {
			pos := bo % tlsRecSpan
			if pos < 5 {
				recStart := bo - pos
				l := min(tlsRecLen, body-recStart-5)
				hdr := [5]byte{0x17, 3, 3, byte(l >> 8), byte(l)}
				k := copy(dst, hdr[pos:])
				dst = dst[k:]
				off += k
				continue
			}
			run := min(len(dst), tlsRecSpan-pos)
			g.filler(dst[:run], m.fill+bo)
			dst = dst[run:]
			off += run
			continue
		}
		g.filler(dst, m.fill+bo)
		return
	}
}
