package synth

import (
	"bufio"
	"encoding/binary"
	"fmt"
)

// Classic pcap framing. The generator writes the file itself: a 24-byte
// global header and a 16-byte header per record, little-endian, nanosecond
// magic, so no dependency sits between the model and the bytes on disk.
const (
	pcapMagicNanos   = 0xa1b23c4d
	pcapSnaplen      = 262144
	linkTypeEthernet = 1
)

// Frame layout inside gen.buf: the L4 header always starts at l4Off, and the
// IP and Ethernet (+802.1Q) headers are written backwards in front of it
// once the L4 length is known, so the payload is produced in place and never
// copied.
const (
	l4Off    = 64 // ≥ 14 Ethernet + 4 802.1Q + 40 IPv6
	bufSize  = l4Off + 2048
	minFrame = 60 // Ethernet minimum without FCS: shorter frames are zero-padded as on a real wire
)

const (
	etherTypeIPv4 = 0x0800
	etherTypeIPv6 = 0x86dd
	etherTypeVLAN = 0x8100

	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
)

// path is everything constant about one direction of a conversation below
// the transport layer. ipid is the IPv4 identification of the next packet.
type path struct {
	srcMAC, dstMAC [6]byte
	vlan           uint16 // 802.1Q VLAN id; 0 = untagged
	v6             bool
	src, dst       [16]byte // IPv4 lives in [12:16]
	ttl            uint8    // TTL / hop limit as seen at the capture point
	df             bool     // IPv4 don't-fragment
	flowLabel      uint32   // IPv6 only
	ipid           uint16
}

// reverse returns the path of the opposite direction. TTL, IP ID and flow
// label belong to the sender, so the caller sets them.
func (p *path) reverse() path {
	return path{srcMAC: p.dstMAC, dstMAC: p.srcMAC, vlan: p.vlan, v6: p.v6, src: p.dst, dst: p.src, df: p.df}
}

// pcapWriter frames records onto a buffered writer with a sticky error.
type pcapWriter struct {
	w   *bufio.Writer
	err error
	hdr [24]byte
}

func (pw *pcapWriter) writeHeader() {
	h := pw.hdr[:24]
	binary.LittleEndian.PutUint32(h[0:], pcapMagicNanos)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[8:], 0)  // thiszone
	binary.LittleEndian.PutUint32(h[12:], 0) // sigfigs
	binary.LittleEndian.PutUint32(h[16:], pcapSnaplen)
	binary.LittleEndian.PutUint32(h[20:], linkTypeEthernet)
	pw.write(h)
}

func (pw *pcapWriter) writeRecord(ts int64, frame []byte) {
	h := pw.hdr[:16]
	binary.LittleEndian.PutUint32(h[0:], uint32(ts/1e9))
	binary.LittleEndian.PutUint32(h[4:], uint32(ts%1e9))
	binary.LittleEndian.PutUint32(h[8:], uint32(len(frame)))
	binary.LittleEndian.PutUint32(h[12:], uint32(len(frame)))
	pw.write(h)
	pw.write(frame)
}

func (pw *pcapWriter) write(b []byte) {
	if pw.err != nil {
		return
	}
	if _, err := pw.w.Write(b); err != nil {
		pw.err = fmt.Errorf("write pcap: %w", err)
	}
}

func (pw *pcapWriter) flush() {
	if pw.err != nil {
		return
	}
	if err := pw.w.Flush(); err != nil {
		pw.err = fmt.Errorf("write pcap: %w", err)
	}
}

// emitL4 finishes the frame whose transport header and payload of l4len
// bytes are already in g.buf at l4Off: it fills the transport checksum,
// writes the IP and Ethernet headers in front and records the frame at ts.
// The transport checksum field must be zero on entry.
func (g *gen) emitL4(ts int64, p *path, proto uint8, l4len int) {
	seg := g.buf[l4Off : l4Off+l4len]
	var acc uint64
	if proto != protoICMP {
		acc = pseudoSum(p, proto, l4len)
	}
	ck := fold(sum(seg, acc))
	switch proto {
	case protoTCP:
		binary.BigEndian.PutUint16(seg[16:], ck)
	case protoUDP:
		if ck == 0 {
			ck = 0xffff // zero means "no checksum" in UDP
		}
		binary.BigEndian.PutUint16(seg[6:], ck)
	case protoICMP, protoICMPv6:
		binary.BigEndian.PutUint16(seg[2:], ck)
	}

	start := l4Off
	var etype uint16
	if p.v6 {
		start -= 40
		h := g.buf[start:l4Off]
		binary.BigEndian.PutUint32(h[0:], 6<<28|p.flowLabel&0xfffff)
		binary.BigEndian.PutUint16(h[4:], uint16(l4len))
		h[6] = proto
		h[7] = p.ttl
		copy(h[8:24], p.src[:])
		copy(h[24:40], p.dst[:])
		etype = etherTypeIPv6
		g.stats.IPv6Packets++
	} else {
		start -= 20
		h := g.buf[start:l4Off]
		h[0] = 0x45
		h[1] = 0
		binary.BigEndian.PutUint16(h[2:], uint16(20+l4len))
		binary.BigEndian.PutUint16(h[4:], p.ipid)
		p.ipid++
		var frag uint16
		if p.df {
			frag = 0x4000
		}
		binary.BigEndian.PutUint16(h[6:], frag)
		h[8] = p.ttl
		h[9] = proto
		h[10], h[11] = 0, 0
		copy(h[12:16], p.src[12:16])
		copy(h[16:20], p.dst[12:16])
		binary.BigEndian.PutUint16(h[10:], fold(sum(h, 0)))
		etype = etherTypeIPv4
	}
	if p.vlan != 0 {
		start -= 18
		g.stats.VLANPackets++
	} else {
		start -= 14
	}
	e := g.buf[start:]
	copy(e[0:6], p.dstMAC[:])
	copy(e[6:12], p.srcMAC[:])
	if p.vlan != 0 {
		binary.BigEndian.PutUint16(e[12:], etherTypeVLAN)
		binary.BigEndian.PutUint16(e[14:], p.vlan&0x0fff)
		binary.BigEndian.PutUint16(e[16:], etype)
	} else {
		binary.BigEndian.PutUint16(e[12:], etype)
	}
	end := l4Off + l4len
	for end-start < minFrame {
		g.buf[end] = 0
		end++
	}
	g.record(ts, g.buf[start:end])
}

// pseudoSum is the unfolded sum of the TCP/UDP/ICMPv6 pseudo-header.
func pseudoSum(p *path, proto uint8, l4len int) uint64 {
	var acc uint64
	if p.v6 {
		acc = sum(p.src[:], 0)
		acc = sum(p.dst[:], acc)
	} else {
		acc = sum(p.src[12:16], 0)
		acc = sum(p.dst[12:16], acc)
	}
	return acc + uint64(proto) + uint64(l4len)
}

// sum adds b to acc as big-endian 16-bit words (one's complement, unfolded).
// It reads 32-bit words: 2^16 ≡ 1 modulo 0xffff, so folding the 32-bit
// sum later gives the same result with half the loop iterations.
func sum(b []byte, acc uint64) uint64 {
	for len(b) >= 16 {
		acc += uint64(binary.BigEndian.Uint32(b)) + uint64(binary.BigEndian.Uint32(b[4:])) +
			uint64(binary.BigEndian.Uint32(b[8:])) + uint64(binary.BigEndian.Uint32(b[12:]))
		b = b[16:]
	}
	for len(b) >= 4 {
		acc += uint64(binary.BigEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		acc += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint64(b[0]) << 8
	}
	return acc
}

// fold reduces an unfolded sum to the one's-complement checksum.
func fold(acc uint64) uint16 {
	for acc>>16 != 0 {
		acc = acc>>16 + acc&0xffff
	}
	return ^uint16(acc)
}

// emitUDP writes a UDP header in front of the n payload bytes already at
// g.buf[l4Off+8:] and emits the frame.
func (g *gen) emitUDP(ts int64, p *path, sport, dport uint16, n int) {
	h := g.buf[l4Off:]
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint16(h[4:], uint16(8+n))
	h[6], h[7] = 0, 0
	g.emitL4(ts, p, protoUDP, 8+n)
}

// tcpHdr is the variable part of one TCP segment.
type tcpHdr struct {
	sport, dport uint16
	seq, ack     uint32
	flags        uint8
	win          uint16
	opts         []byte // already padded to a multiple of 4
}

// tcpPayload returns the buffer a segment's payload is written into when
// its options take optLen bytes.
func (g *gen) tcpPayload(optLen int) []byte { return g.buf[l4Off+20+optLen:] }

// emitTCP writes the TCP header in front of the n payload bytes already at
// tcpPayload(len(h.opts)) and emits the frame.
func (g *gen) emitTCP(ts int64, p *path, h *tcpHdr, n int) {
	b := g.buf[l4Off:]
	hl := 20 + len(h.opts)
	binary.BigEndian.PutUint16(b[0:], h.sport)
	binary.BigEndian.PutUint16(b[2:], h.dport)
	binary.BigEndian.PutUint32(b[4:], h.seq)
	binary.BigEndian.PutUint32(b[8:], h.ack)
	b[12] = uint8(hl/4) << 4
	b[13] = h.flags
	binary.BigEndian.PutUint16(b[14:], h.win)
	b[16], b[17], b[18], b[19] = 0, 0, 0, 0
	copy(b[20:hl], h.opts)
	g.emitL4(ts, p, protoTCP, hl+n)
}
