package pcap

import (
	"encoding/binary"
)

// order is a byte order we can append with.
type order interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// Builders for crafted captures. Every field is written explicitly so a
// test can lie about any of them.

type rec struct {
	sec, frac uint32
	caplen    uint32 // written as is; len(data) bytes follow
	wirelen   uint32
	data      []byte
}

// classicFile writes a pcap file header followed by recs.
func classicFile(bo order, magic uint32, snaplen, linkField uint32, recs ...rec) []byte {
	b := bo.AppendUint32(nil, magic)
	b = bo.AppendUint16(b, 2)
	b = bo.AppendUint16(b, 4)
	b = bo.AppendUint32(b, 0) // thiszone
	b = bo.AppendUint32(b, 0) // sigfigs
	b = bo.AppendUint32(b, snaplen)
	b = bo.AppendUint32(b, linkField)
	for _, r := range recs {
		b = bo.AppendUint32(b, r.sec)
		b = bo.AppendUint32(b, r.frac)
		b = bo.AppendUint32(b, r.caplen)
		b = bo.AppendUint32(b, r.wirelen)
		b = append(b, r.data...)
	}
	return b
}

// okRec is a consistent record of n bytes of pattern data.
func okRec(sec, frac uint32, n int) rec {
	return rec{sec: sec, frac: frac, caplen: uint32(n), wirelen: uint32(n), data: pattern(n, byte(sec))}
}

func pattern(n int, seed byte) []byte {
	d := make([]byte, n)
	for i := range d {
		d[i] = seed + byte(i)
	}
	return d
}

// ng builds pcapng content; each method appends one block in the byte
// order current at the time of the call.
type ng struct {
	bo order
	b  []byte
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// block appends a well-formed block: type, length, padded body, length.
func (g *ng) block(typ uint32, body []byte) *ng {
	body = pad4(append([]byte(nil), body...))
	n := uint32(12 + len(body))
	g.b = g.bo.AppendUint32(g.b, typ)
	g.b = g.bo.AppendUint32(g.b, n)
	g.b = append(g.b, body...)
	g.b = g.bo.AppendUint32(g.b, n)
	return g
}

// rawBlock appends a block with explicit leading and trailing lengths and
// an unpadded body.
func (g *ng) rawBlock(typ, lead uint32, body []byte, trail uint32) *ng {
	g.b = g.bo.AppendUint32(g.b, typ)
	g.b = g.bo.AppendUint32(g.b, lead)
	g.b = append(g.b, body...)
	g.b = g.bo.AppendUint32(g.b, trail)
	return g
}

func (g *ng) shb(bo order, major, minor uint16) *ng {
	g.bo = bo
	body := bo.AppendUint32(nil, byteOrderMagic)
	body = bo.AppendUint16(body, major)
	body = bo.AppendUint16(body, minor)
	body = bo.AppendUint64(body, ^uint64(0)) // section length unknown
	return g.block(blockSHB, body)
}

type opt struct {
	code uint16
	val  []byte
}

func (g *ng) options(opts []opt) []byte {
	var b []byte
	for _, o := range opts {
		b = g.bo.AppendUint16(b, o.code)
		b = g.bo.AppendUint16(b, uint16(len(o.val)))
		b = pad4(append(b, o.val...))
	}
	if len(opts) > 0 {
		b = g.bo.AppendUint32(b, 0) // opt_endofopt
	}
	return b
}

func (g *ng) idb(link uint16, snaplen uint32, opts ...opt) *ng {
	body := g.bo.AppendUint16(nil, link)
	body = g.bo.AppendUint16(body, 0)
	body = g.bo.AppendUint32(body, snaplen)
	body = append(body, g.options(opts)...)
	return g.block(blockIDB, body)
}

func (g *ng) tsresol(v byte) opt { return opt{optTSResol, []byte{v}} }

func (g *ng) tsoffset(sec int64) opt { return opt{optTSOffset, g.bo.AppendUint64(nil, uint64(sec))} }

func (g *ng) epbBody(id uint32, ts uint64, caplen, wire uint32, data []byte) []byte {
	body := g.bo.AppendUint32(nil, id)
	body = g.bo.AppendUint32(body, uint32(ts>>32))
	body = g.bo.AppendUint32(body, uint32(ts))
	body = g.bo.AppendUint32(body, caplen)
	body = g.bo.AppendUint32(body, wire)
	return append(body, data...)
}

func (g *ng) epb(id uint32, ts uint64, data []byte) *ng {
	return g.block(blockEPB, g.epbBody(id, ts, uint32(len(data)), uint32(len(data)), data))
}

func (g *ng) spb(wire uint32, data []byte) *ng {
	return g.block(blockSPB, append(g.bo.AppendUint32(nil, wire), data...))
}

// pb appends an obsolete Packet Block.
func (g *ng) pb(id uint16, ts uint64, data []byte) *ng {
	body := g.bo.AppendUint16(nil, id)
	body = g.bo.AppendUint16(body, 0) // drops
	body = g.bo.AppendUint32(body, uint32(ts>>32))
	body = g.bo.AppendUint32(body, uint32(ts))
	body = g.bo.AppendUint32(body, uint32(len(data)))
	body = g.bo.AppendUint32(body, uint32(len(data)))
	return g.block(blockPB, append(body, data...))
}

func newNG(bo order) *ng { return new(ng).shb(bo, 1, 0) }
