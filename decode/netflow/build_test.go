package netflow

import "encoding/binary"

// Builders for crafted export datagrams. Each returns wire bytes.

// fld is a field specifier: element id, length and enterprise number.
type fld struct {
	id  uint16
	len uint16
	pen uint32
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func u8(v uint8) []byte   { return []byte{v} }
func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// flowset wraps a body in a flowset/set header.
func flowset(id uint16, body ...[]byte) []byte {
	b := cat(body...)
	return cat(u16(id), u16(uint16(4+len(b))), b)
}

func specs(fields []fld) []byte {
	var out []byte
	for _, f := range fields {
		if f.pen != 0 {
			out = cat(out, u16(f.id|0x8000), u16(f.len), u32(f.pen))
		} else {
			out = cat(out, u16(f.id), u16(f.len))
		}
	}
	return out
}

// tmpl is a (v9 or IPFIX) template record.
func tmpl(id uint16, fields ...fld) []byte {
	return cat(u16(id), u16(uint16(len(fields))), specs(fields))
}

// v9OptTmpl is a v9 options template record.
func v9OptTmpl(id uint16, scope, opts []fld) []byte {
	return cat(u16(id), u16(uint16(4*len(scope))), u16(uint16(4*len(opts))), specs(scope), specs(opts))
}

// ipfixOptTmpl is an IPFIX options template record; the first nScope
// fields are scope fields.
func ipfixOptTmpl(id uint16, nScope int, fields ...fld) []byte {
	return cat(u16(id), u16(uint16(len(fields))), u16(uint16(nScope)), specs(fields))
}

// v9Msg is a NetFlow v9 datagram.
func v9Msg(count uint16, sysUptime, secs, srcID uint32, sets ...[]byte) []byte {
	return cat(u16(9), u16(count), u32(sysUptime), u32(secs), u32(1), u32(srcID), cat(sets...))
}

// ipfixMsg is an IPFIX message.
func ipfixMsg(exportSecs, domain uint32, sets ...[]byte) []byte {
	b := cat(sets...)
	return cat(u16(10), u16(uint16(16+len(b))), u32(exportSecs), u32(1), u32(domain), b)
}

// v5Rec is one NetFlow v5 record.
type v5Rec struct {
	src, dst, hop    [4]byte
	in, out          uint16
	pkts, octets     uint32
	first, last      uint32
	sport, dport     uint16
	flags, prot, tos uint8
	srcAS, dstAS     uint16
	srcMask, dstMask uint8
}

func v5Msg(sysUptime, secs, nsecs uint32, engType, engID uint8, sampling uint16, recs ...v5Rec) []byte {
	b := cat(u16(5), u16(uint16(len(recs))), u32(sysUptime), u32(secs), u32(nsecs), u32(7), u8(engType), u8(engID), u16(sampling))
	for _, r := range recs {
		b = cat(b, r.src[:], r.dst[:], r.hop[:], u16(r.in), u16(r.out), u32(r.pkts), u32(r.octets), u32(r.first), u32(r.last),
			u16(r.sport), u16(r.dport), u8(0), u8(r.flags), u8(r.prot), u8(r.tos), u16(r.srcAS), u16(r.dstAS), u8(r.srcMask), u8(r.dstMask), u16(0))
	}
	return b
}

// benchFields is a typical IPv4 data template (softflowd/pmacctd-like,
// with the router fields Cisco adds).
var benchFields = []fld{
	{8, 4, 0}, {12, 4, 0}, {7, 2, 0}, {11, 2, 0}, {4, 1, 0}, {6, 1, 0}, {5, 1, 0},
	{1, 8, 0}, {2, 8, 0}, {152, 8, 0}, {153, 8, 0}, {10, 4, 0}, {14, 4, 0},
	{16, 4, 0}, {17, 4, 0}, {9, 1, 0}, {13, 1, 0}, {15, 4, 0}, {58, 2, 0}, {136, 1, 0},
}

// benchRecord is one record for benchFields, varied by i.
func benchRecord(i int) []byte {
	return cat(u32(0x0a000000|uint32(i)), u32(0xc0a80001), u16(uint16(40000+i)), u16(443), u8(6), u8(0x1b), u8(0),
		u64(uint64(1000+i)), u64(uint64(10+i%7)), u64(1700000000000+uint64(i)), u64(1700000001000+uint64(i)),
		u32(3), u32(4), u32(64512), u32(15169), u8(24), u8(16), u32(0x0a0000fe), u16(100), u8(3))
}
