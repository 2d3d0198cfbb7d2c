package packet

import "encoding/binary"

// Hand-written frame builders for the crafted-frame tables. They are kept
// independent of gopacket on purpose: gopacket is the oracle for the real
// captures, so the crafted cases check the parser against the RFC layouts
// written out a second time.

var (
	v4a = []byte{10, 0, 0, 1}
	v4b = []byte{192, 0, 2, 7}
	v6a = []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
	v6b = []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xef}
)

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// ipv4Hdr builds an IPv4 header (IHL from len(opts), which must be a
// multiple of 4) with the given total length.
func ipv4Hdr(proto uint8, total uint16, fragField uint16, id uint16, tos uint8, opts []byte) []byte {
	hl := 20 + len(opts)
	h := make([]byte, 20, hl)
	h[0] = 0x40 | uint8(hl/4)
	h[1] = tos
	binary.BigEndian.PutUint16(h[2:], total)
	binary.BigEndian.PutUint16(h[4:], id)
	binary.BigEndian.PutUint16(h[6:], fragField)
	h[8] = 64
	h[9] = proto
	copy(h[12:], v4a)
	copy(h[16:], v4b)
	return append(h, opts...)
}

// ipv4 builds a whole unfragmented IPv4 packet around payload.
func ipv4(proto uint8, payload []byte) []byte {
	return cat(ipv4Hdr(proto, uint16(20+len(payload)), 0x4000, 0x1234, 0x10, nil), payload)
}

// ipv6 builds an IPv6 packet whose payload (extension headers included)
// is payload and whose first next-header value is nh.
func ipv6(nh uint8, payload []byte) []byte {
	h := make([]byte, 40)
	binary.BigEndian.PutUint32(h, 6<<28|0xb8<<20|0x12345)
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	h[6] = nh
	h[7] = 64
	copy(h[8:], v6a)
	copy(h[24:], v6b)
	return append(h, payload...)
}

// ext builds a generic IPv6 extension header (hop-by-hop, routing,
// destination options) of 8*(units+1) bytes.
func ext(nh uint8, units uint8) []byte {
	h := make([]byte, 8*(int(units)+1))
	h[0], h[1] = nh, units
	if len(h) > 2 {
		h[2] = 1 // PadN option covering the rest
		h[3] = uint8(len(h) - 4)
	}
	return h
}

// ah builds an authentication header with 4*(units+2) bytes.
func ah(nh uint8, units uint8) []byte {
	h := make([]byte, 4*(int(units)+2))
	h[0], h[1] = nh, units
	return h
}

func frag6(nh uint8, offset uint16, more bool, id uint32) []byte {
	f := offset &^ 7
	if more {
		f |= 1
	}
	return cat([]byte{nh, 0}, be16(f), be32(id))
}

func udp(sp, dp uint16, payload []byte) []byte {
	return cat(be16(sp), be16(dp), be16(uint16(8+len(payload))), be16(0), payload)
}

func tcp(sp, dp uint16, seq uint32, flags uint8, payload []byte) []byte {
	return cat(be16(sp), be16(dp), be32(seq), be32(0), []byte{5 << 4, flags}, be16(65535), be16(0), be16(0), payload)
}

func icmp(typ, code uint8) []byte { return []byte{typ, code, 0, 0, 0, 1, 0, 1} }

var (
	macs = []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
)

func eth(et uint16, payload []byte) []byte { return cat(macs, be16(et), payload) }

func vlanTag(tci uint16, et uint16) []byte { return cat(be16(tci), be16(et)) }

func mplsLabel(label uint32, bottom bool) []byte {
	v := label<<12 | 64
	if bottom {
		v |= 1 << 8
	}
	return be32(v)
}

func sll(proto uint16, addrLen uint16, payload []byte) []byte {
	h := cat(be16(0), be16(1), be16(addrLen), []byte{1, 2, 3, 4, 5, 6, 7, 8}, be16(proto))
	return cat(h, payload)
}

func sll2(proto uint16, payload []byte) []byte {
	h := cat(be16(proto), be16(0), be32(2), be16(1), []byte{0, 6}, []byte{1, 2, 3, 4, 5, 6, 0, 0})
	return cat(h, payload)
}

func pppoe(pppProto []byte, payload []byte) []byte {
	return cat([]byte{0x11, 0}, be16(0x0042), be16(uint16(len(pppProto)+len(payload))), pppProto, payload)
}
