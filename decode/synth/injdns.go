package synth

import (
	"encoding/binary"
	"math/rand/v2"
)

// Injected DNS traffic uses names outside the fixed world (tunnel
// subdomains, DGA names), so its messages are built here from wire-form
// names and kept as bytes in a rawUDP script, rather than described by a
// dnsMsg like the background's.

const dnsTypeNULL = 10

// injMsg is one injected DNS message.
type injMsg struct {
	id    uint16
	resp  bool
	ra    bool
	nx    bool   // NXDOMAIN with an SOA of the zone in the authority section
	qname []byte // wire form, root label included
	zone  int    // offset in qname of the zone (CNAME targets and the SOA point there)
	qtype uint16
	edns  uint16 // advertised UDP payload size; 0 = no OPT record
	do    bool
	ttl   uint32
	// ans is the answer's data: TXT text (split into 255-byte strings),
	// NULL bytes, CNAME target labels (wire form, the zone follows by
	// pointer) or an IPv4 address for A. Empty: no answer.
	ans []byte
}

// appendInjDNS appends the wire form of m to b (which may already hold
// other messages: compression offsets are relative to where m starts).
func appendInjDNS(b []byte, m *injMsg) []byte {
	base := len(b)
	var flags uint16 = 1 << 8 // RD
	if m.resp {
		flags |= 1 << 15
		if m.ra {
			flags |= 1 << 7
		}
		if m.nx {
			flags |= rcodeNXDomain
		}
	}
	b = binary.BigEndian.AppendUint16(b, m.id)
	b = binary.BigEndian.AppendUint16(b, flags)
	b = append(b, 0, 1, 0, 0, 0, 0, 0, 0)
	b = append(b, m.qname...)
	b = binary.BigEndian.AppendUint16(b, m.qtype)
	b = binary.BigEndian.AppendUint16(b, 1)
	zonePtr := uint16(12 + m.zone)
	var an, ns, ar uint16
	if m.resp && !m.nx && len(m.ans) > 0 {
		b = appendRR(b, 12, m.qtype, m.ttl)
		b = append(b, 0, 0)
		s := len(b)
		switch m.qtype {
		case dnsTypeTXT:
			for d := m.ans; len(d) > 0; {
				k := min(len(d), 255)
				b = append(b, byte(k))
				b = append(b, d[:k]...)
				d = d[k:]
			}
		case dnsTypeCNAME:
			b = append(b, m.ans...)
			b = binary.BigEndian.AppendUint16(b, 0xc000|zonePtr)
		default: // NULL, A: the bytes as they are
			b = append(b, m.ans...)
		}
		b = rdlen(b, s)
		an = 1
	}
	if m.resp && m.nx {
		b = appendRR(b, zonePtr, dnsTypeSOA, min(m.ttl, 900))
		b = append(b, 0, 0)
		s := len(b)
		b = append(b, 1, 'a', 3, 'n', 'i', 'c')
		b = binary.BigEndian.AppendUint16(b, 0xc000|zonePtr)
		b = append(b, 10)
		b = append(b, "hostmaster"...)
		b = append(b, 3, 'n', 'i', 'c')
		b = binary.BigEndian.AppendUint16(b, 0xc000|zonePtr)
		b = binary.BigEndian.AppendUint32(b, 1772409600)
		b = binary.BigEndian.AppendUint32(b, 1800)
		b = binary.BigEndian.AppendUint32(b, 900)
		b = binary.BigEndian.AppendUint32(b, 604800)
		b = binary.BigEndian.AppendUint32(b, 900)
		b = rdlen(b, s)
		ns = 1
	}
	if m.edns != 0 {
		b = append(b, 0)
		b = binary.BigEndian.AppendUint16(b, dnsTypeOPT)
		b = binary.BigEndian.AppendUint16(b, m.edns)
		var ext uint32
		if m.do {
			ext = 1 << 15
		}
		b = binary.BigEndian.AppendUint32(b, ext)
		b = append(b, 0, 0)
		ar = 1
	}
	binary.BigEndian.PutUint16(b[base+6:], an)
	binary.BigEndian.PutUint16(b[base+8:], ns)
	binary.BigEndian.PutUint16(b[base+10:], ar)
	return b
}

// Alphabets of encoded tunnel data: base32 as RFC 4648 in lower case (DNS
// names are case-insensitive, so tunnels avoid case) and base64 for TXT.
const (
	base32Set = "abcdefghijklmnopqrstuvwxyz234567"
	base64Set = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

func appendEncoded(b []byte, r *rand.Rand, set string, n int) []byte {
	for i := 0; i < n; i++ {
		b = append(b, set[r.IntN(len(set))])
	}
	return b
}

// rawPkt is one packet of a rawUDP script: a UDP datagram whose payload is
// arena[off:off+n].
type rawPkt struct {
	at           int64
	p            *path
	sport, dport uint16
	off, n       int32
	dns          uint8 // rawQuery, rawAnswer, rawNXAnswer: counted in Stats
	newFlow      bool
}

const (
	rawQuery = 1 + iota
	rawAnswer
	rawNXAnswer
)

// rawUDP is a script of prebuilt UDP datagrams, emitted in time order:
// an injected DNS exchange with the resolver and its upstream query.
type rawUDP struct {
	inj   int
	pk    []rawPkt
	arena []byte
	paths [4]path // legs owned by the exchange; longer-lived ones are pointed to
	i     int
}

func (g *gen) newRaw(inj int) *rawUDP {
	var s *rawUDP
	if n := len(g.raws); n > 0 {
		s = g.raws[n-1]
		g.raws = g.raws[:n-1]
	} else {
		s = &rawUDP{}
	}
	s.inj, s.pk, s.arena, s.i = inj, s.pk[:0], s.arena[:0], 0
	return s
}

// add appends a datagram whose payload is the arena from off on.
func (s *rawUDP) add(at int64, p *path, sport, dport uint16, off int, dns uint8, newFlow bool) {
	s.pk = append(s.pk, rawPkt{at: at, p: p, sport: sport, dport: dport, off: int32(off), n: int32(len(s.arena) - off), dns: dns, newFlow: newFlow})
}

// start sorts the datagrams by time (stable) and schedules the script.
func (g *gen) startRaw(s *rawUDP) {
	for i := 1; i < len(s.pk); i++ {
		for j := i; j > 0 && s.pk[j].at < s.pk[j-1].at; j-- {
			s.pk[j], s.pk[j-1] = s.pk[j-1], s.pk[j]
		}
	}
	if len(s.pk) == 0 {
		g.raws = append(g.raws, s)
		return
	}
	g.schedule(s, s.pk[0].at)
}

func (s *rawUDP) fire(g *gen, now int64) int64 {
	g.inj = s.inj
	p := &s.pk[s.i]
	s.i++
	if p.newFlow {
		g.flowStarted(protoUDP)
	}
	switch p.dns {
	case rawQuery:
		g.stats.DNSQueries++
	case rawAnswer:
		g.stats.DNSResponses++
	case rawNXAnswer:
		g.stats.DNSResponses++
		g.stats.NXDomains++
	}
	n := copy(g.buf[l4Off+8:], s.arena[p.off:p.off+p.n])
	g.emitUDP(now, p.p, p.sport, p.dport, n)
	if s.i < len(s.pk) {
		return s.pk[s.i].at
	}
	g.raws = append(g.raws, s)
	return -1
}
