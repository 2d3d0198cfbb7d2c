package synth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
)

// quicConn is a QUIC v1 (HTTP/3) connection on UDP/443 as the wire shows
// it: the client's Initial (a real ClientHello with SNI, padded to 1250
// bytes), the server's Initial (ServerHello) coalesced with its Handshake
// flight, the client's Initial ACK, then short-header 1-RTT packets:
// requests, paced response data and the client's ACK-only packets. Initial
// packets are protected exactly as RFC 9001 says, so a dissector decrypts
// them; Handshake and 1-RTT packets carry filler (their keys would come from
// the key exchange).
type quicConn struct {
	h      *host
	rng    *rand.Rand
	p      [2]path
	port   [2]uint16
	odcid  [8]byte    // the client's first, random destination connection id
	cid    [2][8]byte // connection IDs chosen by client and server
	keys   [2]quicKeys
	hello  []byte // ClientHello and ServerHello handshake messages
	chEnd  int    // hello[:chEnd] is the ClientHello
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
	*q = quicConn{msgs: q.msgs[:0], hello: q.hello[:0], h: h, rng: r}
	h.active++
	q.p[0], q.p[1] = g.pathPair(h, srv, six)
	q.port = [2]uint16{h.ephemeral(), 443}
	binary.BigEndian.PutUint64(q.odcid[:], r.Uint64())
	for i := range q.cid {
		binary.BigEndian.PutUint64(q.cid[i][:], r.Uint64())
	}
	q.keys[0], q.keys[1] = initialKeys(q.odcid[:])
	q.hello, _ = appendHello(q.hello, r, sni, false, q.cid[0][:])
	q.chEnd = len(q.hello)
	q.hello = appendServerHelloMsg(q.hello, r, nil)
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
	return q
}

func (q *quicConn) fire(g *gen, now int64) int64 {
	r := q.rng
	if q.state == 1 {
		// CONNECTION_CLOSE from the client.
		q.datagram(g, now, 0, quicShort, 30+r.IntN(20))
		return q.done(g)
	}
	m := &q.msgs[q.cur]
	if q.ackDue {
		// ACK-only 1-RTT packet from the client.
		q.datagram(g, now, 0, quicShort, 38+r.IntN(8))
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
	kind := quicShort
	switch {
	case q.cur == 0:
		kind = quicClientHello
	case q.cur == 1 && q.pkts == 0:
		kind = quicServerHello
	case q.cur == 1:
		kind = quicHandshakeOnly
	case q.cur == 2:
		kind = quicClientAck
	}
	q.datagram(g, now, int(m.dir), kind, size)
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

// Datagram kinds.
const (
	quicShort         = iota // 1-RTT short-header packet
	quicClientHello          // protected Initial with the ClientHello, padded
	quicServerHello          // protected Initial (ACK, ServerHello) + Handshake packet
	quicHandshakeOnly        // Handshake packet
	quicClientAck            // protected Initial (ACK) + Handshake packet (client Finished)
)

// datagram emits one UDP datagram of size bytes from side.
func (q *quicConn) datagram(g *gen, now int64, side, kind, size int) {
	b := g.buf[l4Off+8 : l4Off+8+size]
	r := q.rng
	dcid, scid := q.cid[1-side][:], q.cid[side][:]
	var fr [64]byte
	switch kind {
	case quicShort:
		b[0] = 0x40 | byte(r.Uint32()&0x3f)
		copy(b[1:9], dcid)
		g.filler(b[9:], int(r.Uint32()))
	case quicClientHello:
		q.keys[0].sealInitial(b, q.odcid[:], scid, 0, nil, q.hello[:q.chEnd])
	case quicServerHello:
		frames := append(fr[:0], 2, 0, 0x40|0, 25, 0, 0) // ACK: largest 0, delay 25, no more ranges
		sh := q.hello[q.chEnd:]
		n := initialOverhead(len(dcid), len(scid)) + len(frames) + 4 + len(sh)
		q.keys[1].sealInitial(b[:n], dcid, scid, 0, frames, sh)
		q.handshake(g, b[n:], dcid, scid)
	case quicClientAck:
		frames := append(fr[:0], 2, 0, 0x40|0, 10, 0, 0)
		n := initialOverhead(len(dcid), len(scid)) + len(frames)
		q.keys[0].sealInitial(b[:n], dcid, scid, 1, frames, nil)
		q.handshake(g, b[n:], dcid, scid)
	default:
		q.handshake(g, b, dcid, scid)
	}
	g.emitUDP(now, &q.p[side], q.port[side], q.port[1-side], size)
}

// handshake fills b with a Handshake packet whose protected part is
// filler.
func (q *quicConn) handshake(g *gen, b []byte, dcid, scid []byte) {
	r := q.rng
	b[0] = 0xc0 | quicHandshake<<4 | byte(r.Uint32()&0x0f) // low bits are header-protected
	binary.BigEndian.PutUint32(b[1:], 1)
	b[5] = byte(len(dcid))
	h := 6 + copy(b[6:], dcid)
	b[h] = byte(len(scid))
	h += 1 + copy(b[h+1:], scid)
	binary.BigEndian.PutUint16(b[h:], 0x4000|uint16(len(b)-h-2))
	g.filler(b[h+2:], int(r.Uint32()))
}

// QUIC v1 Initial protection (RFC 9001 section 5).
var quicV1Salt = []byte{0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a}

type quicKeys struct {
	aead cipher.AEAD
	iv   [12]byte
	hp   cipher.Block
}

// expandLabel is TLS 1.3's HKDF-Expand-Label with an empty context.
func expandLabel(secret []byte, label string, n int) []byte {
	info := binary.BigEndian.AppendUint16(nil, uint16(n))
	info = append(info, byte(6+len(label)))
	info = append(info, "tls13 "...)
	info = append(info, label...)
	info = append(info, 0)
	out, err := hkdf.Expand(sha256.New, secret, string(info), n)
	if err != nil {
		panic(err) // only for n > 255*32
	}
	return out
}

// initialKeys derives the client's and the server's Initial keys from
// the client's first destination connection id.
func initialKeys(odcid []byte) (client, server quicKeys) {
	ini, err := hkdf.Extract(sha256.New, odcid, quicV1Salt)
	if err != nil {
		panic(err)
	}
	keys := [2]*quicKeys{&client, &server}
	for i, label := range []string{"client in", "server in"} {
		sec := expandLabel(ini, label, 32)
		blk, err := aes.NewCipher(expandLabel(sec, "quic key", 16))
		if err != nil {
			panic(err)
		}
		if keys[i].aead, err = cipher.NewGCM(blk); err != nil {
			panic(err)
		}
		copy(keys[i].iv[:], expandLabel(sec, "quic iv", 12))
		if keys[i].hp, err = aes.NewCipher(expandLabel(sec, "quic hp", 16)); err != nil {
			panic(err)
		}
	}
	return client, server
}

// initialOverhead is the size of an Initial packet without its frames: the
// long header with an empty token and a 2-byte length, a 2-byte packet
// number and the 16-byte AEAD tag.
func initialOverhead(dcid, scid int) int { return 1 + 4 + 1 + dcid + 1 + scid + 1 + 2 + 2 + 16 }

// sealInitial writes a protected Initial packet filling all of b: frames,
// then a CRYPTO frame at offset 0 carrying crypto (when not nil), then
// PADDING. b must leave room for 16 bytes of tag and the 16-byte header
// protection sample.
func (k *quicKeys) sealInitial(b, dcid, scid []byte, pn uint16, frames, crypto []byte) {
	b[0] = 0xc0 | quicInitial<<4 | 1 // 2-byte packet number
	binary.BigEndian.PutUint32(b[1:], 1)
	b[5] = byte(len(dcid))
	h := 6 + copy(b[6:], dcid)
	b[h] = byte(len(scid))
	h += 1 + copy(b[h+1:], scid)
	b[h] = 0 // no token
	h++
	binary.BigEndian.PutUint16(b[h:], 0x4000|uint16(len(b)-h-2))
	h += 2
	pnOff := h
	binary.BigEndian.PutUint16(b[pnOff:], pn)
	p := b[pnOff+2 : len(b)-16]
	n := copy(p, frames)
	if crypto != nil {
		p[n] = 0x06 // CRYPTO, offset 0
		p[n+1] = 0
		binary.BigEndian.PutUint16(p[n+2:], 0x4000|uint16(len(crypto)))
		n += 4 + copy(p[n+4:], crypto)
	}
	clear(p[n:]) // PADDING frames
	nonce := k.iv
	nonce[10] ^= byte(pn >> 8)
	nonce[11] ^= byte(pn)
	k.aead.Seal(p[:0], nonce[:], p, b[:pnOff+2])
	var mask [16]byte
	k.hp.Encrypt(mask[:], b[pnOff+4:pnOff+20])
	b[0] ^= mask[0] & 0x0f
	b[pnOff] ^= mask[1]
	b[pnOff+1] ^= mask[2]
}
