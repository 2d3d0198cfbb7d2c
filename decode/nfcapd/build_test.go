package nfcapd

import (
	"encoding/binary"
	"net/netip"
)

// Builders for crafted nfcapd files. They follow the layouts documented in
// the package (nfdump's nffileV2.h, nfxV3.h, nffile.h of 1.6) and are
// checked against real files by TestBuilderMatchesNfdump.

var le = binary.LittleEndian

type blk struct {
	typ   uint16
	flags uint16
	recs  [][]byte
	// raw, when set, replaces the concatenated records as the payload
	// (e.g. a compressed block); n is then the record count.
	raw []byte
	n   uint32
}

func (b blk) payload() ([]byte, uint32) {
	if b.raw != nil {
		return b.raw, b.n
	}
	var p []byte
	for _, r := range b.recs {
		p = append(p, r...)
	}
	return p, uint32(len(b.recs))
}

func appendBlock(out []byte, b blk) []byte {
	p, n := b.payload()
	out = le.AppendUint32(out, n)
	out = le.AppendUint32(out, uint32(len(p)))
	out = le.AppendUint16(out, b.typ)
	out = le.AppendUint16(out, b.flags)
	return append(out, p...)
}

// v2File builds a layout-2 (nfdump 1.7) file.
func v2File(comp byte, creator uint32, blocks ...blk) []byte {
	h := make([]byte, headerV2Size)
	le.PutUint16(h[0:], magic)
	le.PutUint16(h[2:], 2)
	le.PutUint32(h[4:], 0xF1070100)
	le.PutUint64(h[8:], 1700000000)
	h[16] = comp
	le.PutUint32(h[20:], creator)
	le.PutUint32(h[36:], uint32(len(blocks)))
	for _, b := range blocks {
		h = appendBlock(h, b)
	}
	return h
}

// v1File builds a layout-1 (nfdump 1.6) file.
func v1File(flags uint32, ident string, declaredFlows uint64, blocks ...blk) []byte {
	h := make([]byte, headerV1Size+statV1Size)
	le.PutUint16(h[0:], magic)
	le.PutUint16(h[2:], 1)
	le.PutUint32(h[4:], flags)
	le.PutUint32(h[8:], uint32(len(blocks)))
	copy(h[12:headerV1Size-1], ident)
	le.PutUint64(h[headerV1Size:], declaredFlows)
	for _, b := range blocks {
		h = appendBlock(h, b)
	}
	return h
}

func rec(typ uint16, body []byte) []byte {
	r := le.AppendUint16(nil, typ)
	r = le.AppendUint16(r, uint16(4+len(body)))
	return append(r, body...)
}

// v3Rec builds a V3 record from elements.
func v3Rec(sysid uint16, flags, nfversion byte, elems ...[]byte) []byte {
	body := make([]byte, v3HdrSize-4)
	le.PutUint16(body[0:], uint16(len(elems)))
	le.PutUint16(body[4:], sysid)
	body[6], body[7] = flags, nfversion
	for _, e := range elems {
		body = append(body, e...)
	}
	return rec(recV3, body)
}

func elem(typ uint16, payload []byte) []byte {
	e := le.AppendUint16(nil, typ)
	e = le.AppendUint16(e, uint16(4+len(payload)))
	return append(e, payload...)
}

type generic struct {
	first, last, received uint64 // ms
	pkts, bytes           uint64
	sp, dp                uint16
	proto, flags, tos     uint8
}

func genericElem(g generic) []byte {
	p := le.AppendUint64(nil, g.first)
	p = le.AppendUint64(p, g.last)
	p = le.AppendUint64(p, g.received)
	p = le.AppendUint64(p, g.pkts)
	p = le.AppendUint64(p, g.bytes)
	p = le.AppendUint16(p, g.sp)
	p = le.AppendUint16(p, g.dp)
	p = append(p, g.proto, g.flags, 0, g.tos)
	return elem(exGeneric, p)
}

// host4 is an IPv4 address as nfdump stores it: a host-order word.
func host4(s string) []byte {
	a := netip.MustParseAddr(s).As4()
	return le.AppendUint32(nil, binary.BigEndian.Uint32(a[:]))
}

// host6 is an IPv6 address as two host-order 64-bit words.
func host6(s string) []byte {
	a := netip.MustParseAddr(s).As16()
	p := le.AppendUint64(nil, binary.BigEndian.Uint64(a[0:]))
	return le.AppendUint64(p, binary.BigEndian.Uint64(a[8:]))
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func ipv4Elem(src, dst string) []byte { return elem(exIPv4, cat(host4(src), host4(dst))) }
func ipv6Elem(src, dst string) []byte { return elem(exIPv6, cat(host6(src), host6(dst))) }

// exporterRec builds exporter_info_record_t.
func exporterRec(version uint32, addr string, sysid uint16, id uint32) []byte {
	ip := netip.MustParseAddr(addr)
	body := le.AppendUint32(nil, version)
	family := uint16(10)
	if ip.Is4() {
		body = append(body, make([]byte, 8)...)
		body = append(body, host4(addr)...)
		body = append(body, 0, 0, 0, 0)
		family = 2
	} else {
		body = append(body, host6(addr)...)
	}
	body = le.AppendUint16(body, family)
	body = le.AppendUint16(body, sysid)
	body = le.AppendUint32(body, id)
	return rec(recExporterInfo, body)
}

// samplerRec builds the 1.7 sampler record (type 15) for "1 in n".
func samplerRec(sysid uint16, id int64, n uint32) []byte {
	body := le.AppendUint16(nil, sysid)
	body = le.AppendUint16(body, 0)
	body = le.AppendUint64(body, uint64(id))
	body = le.AppendUint32(body, 1)
	body = le.AppendUint32(body, n-1)
	return rec(recSampler, body)
}

// samplerLegacyRec builds the 1.6 sampler record (type 9).
func samplerLegacyRec(id int32, interval uint32, sysid uint16) []byte {
	body := le.AppendUint32(nil, uint32(id))
	body = le.AppendUint32(body, interval)
	body = le.AppendUint16(body, 0)
	body = le.AppendUint16(body, sysid)
	return rec(recSamplerLegacy, body)
}

// extMapRec builds a 1.6 extension map.
func extMapRec(id uint16, ids ...uint16) []byte {
	body := le.AppendUint16(nil, id)
	size := 0
	for _, x := range ids {
		if int(x) < len(v1ExtSize) {
			size += int(v1ExtSize[x])
		}
	}
	body = le.AppendUint16(body, uint16(size))
	for _, x := range ids {
		body = le.AppendUint16(body, x)
	}
	body = le.AppendUint16(body, 0)
	if len(body)%4 != 0 {
		body = le.AppendUint16(body, 0)
	}
	return rec(recExtensionMap, body)
}

// v1Head describes the common head of a 1.6 flow record.
type v1Head struct {
	flags                uint16
	sysid                uint16
	mapID                uint16
	first, last          uint32 // seconds
	msFirst, msLast      uint16
	tcpFlags, proto, tos uint8
	sp, dp               uint16
}

// v1Rec builds a type-10 record (or type 1 when v0 is set) from its head
// and the already encoded data (addresses, counters, extensions).
func v1Rec(h v1Head, v0 bool, data ...[]byte) []byte {
	var body []byte
	if v0 {
		body = append(body, byte(h.flags), byte(h.sysid))
	} else {
		body = le.AppendUint16(body, h.flags)
	}
	body = le.AppendUint16(body, h.mapID)
	body = le.AppendUint16(body, h.msFirst)
	body = le.AppendUint16(body, h.msLast)
	body = le.AppendUint32(body, h.first)
	body = le.AppendUint32(body, h.last)
	body = append(body, 0, h.tcpFlags, h.proto, h.tos)
	body = le.AppendUint16(body, h.sp)
	body = le.AppendUint16(body, h.dp)
	if !v0 {
		body = le.AppendUint16(body, h.sysid)
		body = le.AppendUint16(body, 0)
	}
	body = append(body, cat(data...)...)
	if v0 {
		return rec(recCommonV0, body)
	}
	return rec(recCommon, body)
}

func u16s(v ...uint16) []byte {
	var p []byte
	for _, x := range v {
		p = le.AppendUint16(p, x)
	}
	return p
}

func u32s(v ...uint32) []byte {
	var p []byte
	for _, x := range v {
		p = le.AppendUint32(p, x)
	}
	return p
}

func u64s(v ...uint64) []byte {
	var p []byte
	for _, x := range v {
		p = le.AppendUint64(p, x)
	}
	return p
}
