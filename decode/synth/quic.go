package synth

import (
	"encoding/binary"
	"math/rand/v2"
)

// quicConn is a QUIC (HTTP/3) connection on UDP/443 as the wire shows it:
// a long-header handshake (client Initial padded to 1250 bytes, the
// server's Initial and Handshake flight), then short-header 1-RTT packets:
// requests, paced response data, and the client's ACK-only packets. The
// protected parts are filler.
type quicConn struct {
	h      *host
	rng    *rand.Rand
	p      [2]path
	port   [2]uint16
	cid    [2][8]byte // connection IDs chosen by client and server
	nsByte int64
	msgs   []message
	cur    int
	off    int // bytes of the current message sent
	pkts   int // datagrams of the current message sent
	unack  int // datagrams the client has not acknowledged
	ackDue bool
	close  bool // the client sends CONNECTION_CLOSE at the end (else idle timeout: silence)
	idle   int64
	rtt    int64
	state  int
}

const (
	quicMaxDatagram = 1252
	quicInitialSize = 1250 // client Initials are padded to at least 1200
)

// QUIC long-header packet types.
const (
	quicInitial   = 0
	quicHandshake = 2
)

func (g *gen) newQUIC(h *host, srv *node, six bool, sni string) *quicConn {
	var q *quicConn
	if n := len(g.quics); n > 0 {
		q = g.quics[n-1]
		g.quics = g.quics[:n-1]
	} else {
		q = &quicConn{}
	}
	r := h.rng
	*q = quicConn{msgs: q.msgs[:0], h: h, rng: r}
	h.active++
	q.p[0], q.p[1] = g.pathPair(h, srv, six)
	q.port = [2]uint16{h.ephemeral(), 443}
	for i := range q.cid {
		binary.BigEndian.PutUint64(q.cid[i][:], r.Uint64())
	}
	q.rtt = srv.rtt
	q.nsByte = int64(40 + r.IntN(360))
	add := func(dir uint8, n int, delay int64) {
		q.msgs = append(q.msgs, message{dir: dir, n: n, delay: max(delay, 1000), fill: int(r.Uint32())})
	}
	// Handshake: one padded client Initial; the server's Initial +
	// Handshake flight (certificates) of 2–4 datagrams; the client's
	// Initial ACK + Handshake Finished, padded as it holds an Initial.
	add(0, quicInitialSize, 0)
	add(1, 2*quicMaxDatagram+300+r.IntN(1800), q.rtt+r.Int64N(3e6))
	add(0, quicInitialSize, 30_000+r.Int64N(300_000))
	n := min(12, 1+int(r.ExpFloat64()*2))
	for i := 0; i < n; i++ {
		delay := int64(20_000 + r.Int64N(100_000))
		if i > 0 {
			delay = think(r, 300e6, 1.2)
		}
		add(0, 60+r.IntN(400), delay)
		add(1, 40+respSize(r, false), q.rtt+think(r, 8e6, 1))
	}
	q.close = r.IntN(10) < 6
	q.idle = 100e6 + r.Int64N(20e9)
	_ = sni // the SNI is inside the encrypted Initial; kept for future use
	return q
}

func (q *quicConn) fire(g *gen, now int64) int64 {
	r := q.rng
	if q.state == 1 {
		// CONNECTION_CLOSE from the client.
		q.datagram(g, now, 0, 0, 30+r.IntN(20), false)
		return q.done(g)
	}
	m := &q.msgs[q.cur]
	if q.ackDue {
		// ACK-only 1-RTT packet from the client.
		q.datagram(g, now, 0, 0, 38+r.IntN(8), false)
		q.ackDue = false
		q.unack = 0
		if q.off == m.n {
			return q.next(g, now)
		}
		return now + 20_000
	}
	if q.cur == 0 && q.off == 0 {
		g.flowStarted(protoUDP)
	}
	size := min(quicMaxDatagram, m.n-q.off)
	if rest := m.n - q.off - size; rest > 0 && rest < 40 {
		size -= 40 - rest // keep the last datagram of a message a plausible size
	}
	hand := q.cur < 3
	typ := quicInitial
	if hand && q.pkts > 0 {
		typ = quicHandshake
	}
	q.datagram(g, now, int(m.dir), typ, size, hand)
	q.off += size
	q.pkts++
	if m.dir == 1 {
		q.unack++
	}
	if m.dir == 1 && (q.unack >= 2 || q.off == m.n) {
		q.ackDue = true
		return now + 20_000 + r.Int64N(80_000)
	}
	if q.off == m.n {
		return q.next(g, now)
	}
	return now + int64(size+50)*q.nsByte
}

func (q *quicConn) next(g *gen, now int64) int64 {
	q.cur++
	q.off, q.pkts, q.unack = 0, 0, 0
	if q.cur == len(q.msgs) {
		if !q.close {
			return q.done(g)
		}
		q.state = 1
		return now + q.idle
	}
	return now + q.msgs[q.cur].delay
}

func (q *quicConn) done(g *gen) int64 {
	q.h.active--
	q.h, q.rng = nil, nil
	g.quics = append(g.quics, q)
	return -1
}

// datagram emits one UDP datagram of size bytes from side: a long-header
// packet of type typ when long, else a short-header (1-RTT) packet.
func (q *quicConn) datagram(g *gen, now int64, side, typ, size int, long bool) {
	b := g.buf[l4Off+8 : l4Off+8+size]
	r := q.rng
	dcid, scid := q.cid[1-side], q.cid[side]
	var h int
	if long {
		// Header protection masks the low four bits of the first byte.
		b[0] = 0xc0 | byte(typ)<<4 | byte(r.Uint32()&0x0f)
		binary.BigEndian.PutUint32(b[1:], 1) // QUIC v1
		b[5] = 8
		copy(b[6:14], dcid[:])
		b[14] = 8
		copy(b[15:23], scid[:])
		h = 23
		if typ == quicInitial {
			b[h] = 0 // no token
			h++
		}
		binary.BigEndian.PutUint16(b[h:], 0x4000|uint16(size-h-2))
		h += 2
	} else {
		b[0] = 0x40 | byte(r.Uint32()&0x3f)
		copy(b[1:9], dcid[:])
		h = 9
	}
	g.filler(b[h:], int(r.Uint32()))
	g.emitUDP(now, &q.p[side], q.port[side], q.port[1-side], size)
}
