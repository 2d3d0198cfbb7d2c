package synth

import (
	"encoding/binary"
	"strconv"
)

// DNS types and codes the model uses.
const (
	dnsTypeA     = 1
	dnsTypeNS    = 2
	dnsTypeCNAME = 5
	dnsTypeSOA   = 6
	dnsTypePTR   = 12
	dnsTypeMX    = 15
	dnsTypeTXT   = 16
	dnsTypeAAAA  = 28
	dnsTypeOPT   = 41

	rcodeNoError  = 0
	rcodeNXDomain = 3
)

// dnsMsg describes one DNS message; the bytes are produced by appendDNS.
type dnsMsg struct {
	id     uint16
	resp   bool
	name   int // index into world.names; -1 for a PTR query of an internal host
	ptr    int // host index of a PTR query when name < 0
	qtype  uint16
	rd, ra bool
	aa, tc bool
	edns   uint16 // advertised UDP payload size; 0 = no OPT record
	do     bool
	ttl    uint32 // answer TTL (the remaining TTL for a cached answer)
	rot    int    // rotation of multi-address answers (resolvers rotate them)
}

// rcode returns the response code of m's answer.
func (g *gen) rcode(m *dnsMsg) uint8 {
	if m.name < 0 {
		return rcodeNoError
	}
	if g.w.names[m.name].nx {
		return rcodeNXDomain
	}
	return rcodeNoError
}

// ptrName appends the wire form of the in-addr.arpa name of ip4.
func ptrName(b []byte, ip4 [4]byte) []byte {
	for i := 3; i >= 0; i-- {
		s := strconv.Itoa(int(ip4[i]))
		b = append(b, byte(len(s)))
		b = append(b, s...)
	}
	b = append(b, 7)
	b = append(b, "in-addr"...)
	b = append(b, 4)
	b = append(b, "arpa"...)
	return append(b, 0)
}

func appendRR(b []byte, owner uint16, typ uint16, ttl uint32) []byte {
	b = binary.BigEndian.AppendUint16(b, 0xc000|owner)
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, 1) // IN
	return binary.BigEndian.AppendUint32(b, ttl)
}

// rdlen back-fills the RDLENGTH of the record whose data started at start.
func rdlen(b []byte, start int) []byte {
	binary.BigEndian.PutUint16(b[start-2:], uint16(len(b)-start))
	return b
}

// appendDNS appends the wire form of m to b. Offsets for name compression
// are relative to len(b) on entry, where the message starts.
func (g *gen) appendDNS(b []byte, m *dnsMsg) []byte {
	base := len(b)
	w := &g.w
	var flags uint16
	if m.resp {
		flags |= 1 << 15
	}
	if m.aa {
		flags |= 1 << 10
	}
	if m.tc {
		flags |= 1 << 9
	}
	if m.rd {
		flags |= 1 << 8
	}
	if m.ra {
		flags |= 1 << 7
	}
	if m.resp {
		flags |= uint16(g.rcode(m))
	}
	b = binary.BigEndian.AppendUint16(b, m.id)
	b = binary.BigEndian.AppendUint16(b, flags)
	b = append(b, 0, 1, 0, 0, 0, 0, 0, 0) // QD=1; AN, NS, AR back-filled
	var apex int                          // offset of the zone apex inside the question name
	var ptrHost *host
	if m.name < 0 {
		ptrHost = w.hosts[m.ptr]
		nb := len(b)
		b = ptrName(b, ptrHost.ip4)
		apex = int(b[nb]) + 1 // the /24 reverse zone
	} else {
		b = append(b, w.names[m.name].wire...)
		apex = w.names[m.name].apex
	}
	b = binary.BigEndian.AppendUint16(b, m.qtype)
	b = binary.BigEndian.AppendUint16(b, 1)

	var an, ns, ar uint16
	if m.resp && !m.tc {
		b, an, ns = g.appendAnswers(b, m, base, apex, ptrHost)
	}
	if m.edns != 0 {
		b = append(b, 0) // root owner
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

// appendAnswers appends the answer and authority sections of a response
// and returns their counts. Compression offsets are relative to base, the
// start of the message; the question name is at offset 12.
func (g *gen) appendAnswers(b []byte, m *dnsMsg, base, apex int, ptrHost *host) (_ []byte, an, ns uint16) {
	w := &g.w
	q := uint16(12) // the question name
	soa := func() {
		b = appendRR(b, q+uint16(apex), dnsTypeSOA, min(m.ttl, 900))
		b = append(b, 0, 0)
		s := len(b)
		b = append(b, 3, 'n', 's', '1')
		b = binary.BigEndian.AppendUint16(b, 0xc000|(q+uint16(apex)))
		b = append(b, 10)
		b = append(b, "hostmaster"...)
		b = binary.BigEndian.AppendUint16(b, 0xc000|(q+uint16(apex)))
		b = binary.BigEndian.AppendUint32(b, 2026030101)
		b = binary.BigEndian.AppendUint32(b, 7200)
		b = binary.BigEndian.AppendUint32(b, 3600)
		b = binary.BigEndian.AppendUint32(b, 1209600)
		b = binary.BigEndian.AppendUint32(b, 300)
		b = rdlen(b, s)
		ns = 1
	}
	if ptrHost != nil {
		if m.qtype == dnsTypePTR {
			b = appendRR(b, q, dnsTypePTR, m.ttl)
			b = append(b, 0, 0)
			s := len(b)
			b = append(b, byte(len(ptrHost.name)))
			b = append(b, ptrHost.name...)
			b = append(b, wireName(internalZone)...)
			b = rdlen(b, s)
			an = 1
		} else {
			soa()
		}
		return b, an, ns
	}
	n := &w.names[m.name]
	if n.nx {
		soa()
		return b, an, ns
	}
	addrs := func(owner uint16, d *dname, ttl uint32) {
		if n.local {
			h := w.hosts[d.host]
			switch {
			case m.qtype == dnsTypeA:
				b = appendRR(b, owner, dnsTypeA, ttl)
				b = append(b, 0, 4)
				b = append(b, h.ip4[:]...)
				an++
			case m.qtype == dnsTypeAAAA && h.has6:
				b = appendRR(b, owner, dnsTypeAAAA, ttl)
				b = append(b, 0, 16)
				b = append(b, h.ip6[:]...)
				an++
			}
			return
		}
		list := d.a
		if m.qtype == dnsTypeAAAA {
			list = d.aaaa
		}
		for j := range list {
			e := &w.ext[list[(j+m.rot)%len(list)]]
			if m.qtype == dnsTypeA {
				b = appendRR(b, owner, dnsTypeA, ttl)
				b = append(b, 0, 4)
				b = append(b, e.ip4[:]...)
			} else {
				b = appendRR(b, owner, dnsTypeAAAA, ttl)
				b = append(b, 0, 16)
				b = append(b, e.ip6[:]...)
			}
			an++
		}
	}
	switch m.qtype {
	case dnsTypeA, dnsTypeAAAA:
		if n.cname >= 0 {
			t := &w.names[n.cname]
			b = appendRR(b, q, dnsTypeCNAME, m.ttl)
			b = append(b, 0, 0)
			s := len(b)
			b = append(b, t.wire...)
			b = rdlen(b, s)
			an++
			addrs(uint16(s-base), t, min(m.ttl, t.ttl))
		} else {
			addrs(q, n, m.ttl)
		}
	case dnsTypeMX:
		if n.mx {
			for k := 1; k <= 2; k++ {
				b = appendRR(b, q, dnsTypeMX, m.ttl)
				b = append(b, 0, 0)
				s := len(b)
				b = binary.BigEndian.AppendUint16(b, uint16(10*k))
				b = append(b, 3, 'm', 'x', byte('0'+k))
				b = binary.BigEndian.AppendUint16(b, 0xc000|(q+uint16(apex)))
				b = rdlen(b, s)
				an++
			}
		}
	case dnsTypeTXT:
		for _, t := range w.txt[m.name] {
			b = appendRR(b, q, dnsTypeTXT, m.ttl)
			b = append(b, 0, 0)
			s := len(b)
			b = append(b, byte(len(t)))
			b = append(b, t...)
			b = rdlen(b, s)
			an++
		}
	}
	if an == 0 {
		soa() // NODATA
	}
	return b, an, ns
}
