package nfcapd

import (
	"encoding/binary"
	"fmt"

	"github.com/spotctl/spotctl/decode/flow"
)

// nfdump 1.6 ("V1") flow records (nffile.h of 1.6.x). A common record —
// type 10 with a 32-byte head, or the older type 1 with a 28-byte head —
// is followed by the three required extensions (addresses, packets, bytes;
// their widths are set by the record's flags) and then by the optional
// extensions its extension map lists, in the map's order, each with a fixed
// size. Extension maps (record type 2) arrive in the file before the
// records that use them.
const (
	v1CommonSize   = 32 // type 10
	v1CommonV0Size = 28 // type 1
)

// Common record flags.
const (
	v1FlagIPv6    = 0x01
	v1FlagPkts64  = 0x02
	v1FlagBytes64 = 0x04
	v1FlagSampled = 0x80
)

// Optional extension ids used for flow.Record fields.
const (
	v1IOSNMP2      = 4  // input, output u16
	v1IOSNMP4      = 5  // input, output u32
	v1AS2          = 6  // src, dst AS u16
	v1AS4          = 7  // src, dst AS u32
	v1Multiple     = 8  // dst tos, dir, src mask, dst mask
	v1NextHopV4    = 9  // u32
	v1NextHopV6    = 10 // 2×u64
	v1VLAN         = 13 // src, dst vlan u16
	v1OutPkts4     = 14
	v1OutPkts8     = 15
	v1OutBytes4    = 16
	v1OutBytes8    = 17
	v1RouterIPv4   = 23 // exporting router
	v1RouterIPv6   = 24
	v1MaxExtension = 49
)

// v1ExtSize is the size of each optional extension (nfx.c's
// extension_descriptor of nfdump 1.6.x); ids 1-3 are the required
// extensions, sized by the record flags, and reserved ids have size 0.
var v1ExtSize = [v1MaxExtension + 1]uint8{
	0, 0, 0, 0, // common record, addresses, packets, bytes
	4, 8, 4, 8, 4, // 4-8: interfaces 2/4, AS 2/4, multiple
	4, 16, 4, 16, // 9-12: next hop v4/v6, BGP next hop v4/v6
	4, 4, 8, 4, 8, // 13-17: vlan, out packets 4/8, out bytes 4/8
	4, 8, 16, 16, 40, // 18-22: aggregated flows 4/8, MAC 1/2, MPLS
	4, 16, 4, 8, 8, // 23-27: router IP v4/v6, router id, BGP adjacent, received
	0, 0, 0, 0, 0, 0, 0, 0, 0, // 28-36: reserved
	20, 4, 8, 32, 24, 24, 72, // 37-43: NSEL common, xlate ports, xlate v4/v6, ACL, user, user max
	0,  // 44: reserved
	24, // 45: latency
	12, // 46: NEL common
	0,  // 47: compat NEL IPv4 (no data)
	8,  // 48: port block allocation
	0,  // 49: reserved
}

// extMap is one extension map: the optional extension ids in record order.
type extMap struct {
	ids  []uint8
	size int // bytes of optional extension data
}

// v1State holds the extension maps of a layout-1 file, by map id (16 bits,
// so at most 65536 maps of at most maxMapFields ids each).
type v1State struct {
	maps    map[uint16]*extMap
	missing map[uint16]bool // undefined map ids already reported
}

const skipNoMap = "flow record with undefined extension map"

// addMap decodes an extension map record: {type, size, map_id u16,
// extension_size u16, ex_id u16 … 0}.
func (v *v1State) addMap(p []byte) error {
	le := binary.LittleEndian
	if len(p) < 10 {
		return fmt.Errorf("%w: extension map of %d bytes", ErrCorrupt, len(p))
	}
	id := le.Uint16(p[4:])
	if id == 0xFFFF { // INIT_ID
		id = 0
	}
	m := &extMap{}
	for pos := 8; pos+2 <= len(p); pos += 2 {
		x := le.Uint16(p[pos:])
		if x == 0 {
			break
		}
		if x < v1IOSNMP2 || x > v1MaxExtension {
			return fmt.Errorf("%w: extension map %d names extension %d, outside 4..%d", ErrCorrupt, id, x, v1MaxExtension)
		}
		if len(m.ids) == maxMapFields {
			return fmt.Errorf("%w: extension map %d lists more than %d extensions", ErrCorrupt, id, maxMapFields)
		}
		m.ids = append(m.ids, uint8(x))
		m.size += int(v1ExtSize[x])
	}
	if v.maps == nil {
		v.maps = make(map[uint16]*extMap)
	}
	v.maps[id] = m
	return nil
}

// v1Common decodes a layout-1 common record (type 10 or 1) and emits it.
func (rd *reader) v1Common(typ uint16, p []byte) error {
	le := binary.LittleEndian
	head := v1CommonSize
	if typ == recCommonV0 {
		head = v1CommonV0Size
	}
	if len(p) < head {
		return fmt.Errorf("%w: flow record type %d of %d bytes, below its %d-byte head", ErrCorrupt, typ, len(p), head)
	}
	var (
		flags uint16
		sysid uint16
	)
	if typ == recCommon {
		flags = le.Uint16(p[4:])
		sysid = le.Uint16(p[28:])
	} else {
		flags = uint16(p[4])
		sysid = uint16(p[5])
	}
	mapID := le.Uint16(p[6:])
	m := rd.v1.maps[mapID]
	if m == nil {
		// Usually the block that defined the map was lost; report the
		// first record per map and count the rest, instead of one error
		// per record.
		rd.st.skip(skipNoMap)
		if rd.v1.missing[mapID] {
			return nil
		}
		if rd.v1.missing == nil {
			rd.v1.missing = make(map[uint16]bool)
		}
		rd.v1.missing[mapID] = true
		return fmt.Errorf("%w: flow record uses extension map %d, which the file has not defined (further such records are counted as %q)", ErrCorrupt, mapID, skipNoMap)
	}
	ipSize, pktSize, byteSize := 8, 4, 4
	if flags&v1FlagIPv6 != 0 {
		ipSize = 32
	}
	if flags&v1FlagPkts64 != 0 {
		pktSize = 8
	}
	if flags&v1FlagBytes64 != 0 {
		byteSize = 8
	}
	if want := head + ipSize + pktSize + byteSize + m.size; len(p) < want {
		return fmt.Errorf("%w: flow record of %d bytes, its flags and extension map %d need %d", ErrCorrupt, len(p), mapID, want)
	}

	rec := &rd.rec
	*rec = flow.Record{Evidence: rd.evidence}
	ms := func(sec uint32, msec uint16) int64 { return msToNs(uint64(sec)*1000 + uint64(msec)) }
	rec.First = ms(le.Uint32(p[12:]), le.Uint16(p[8:]))
	rec.Last = ms(le.Uint32(p[16:]), le.Uint16(p[10:]))
	rec.TCPFlags = p[21]
	rec.Proto = p[22]
	rec.ToS = p[23]
	rec.SrcPort = le.Uint16(p[24:])
	rec.DstPort = le.Uint16(p[26:])

	d := p[head:]
	if ipSize == 32 {
		rec.Src, rec.Dst = ip6(d[0:]), ip6(d[16:])
	} else {
		rec.Src, rec.Dst = ip4(d[0:]), ip4(d[4:])
	}
	d = d[ipSize:]
	if pktSize == 8 {
		rec.Packets = le.Uint64(d)
	} else {
		rec.Packets = uint64(le.Uint32(d))
	}
	d = d[pktSize:]
	if byteSize == 8 {
		rec.Bytes = le.Uint64(d)
	} else {
		rec.Bytes = uint64(le.Uint32(d))
	}
	d = d[byteSize:]

	haveRouter := false
	for _, x := range m.ids {
		e := d[:v1ExtSize[x]]
		d = d[v1ExtSize[x]:]
		switch x {
		case v1IOSNMP2:
			rec.InIf, rec.OutIf = uint32(le.Uint16(e)), uint32(le.Uint16(e[2:]))
		case v1IOSNMP4:
			rec.InIf, rec.OutIf = le.Uint32(e), le.Uint32(e[4:])
		case v1AS2:
			rec.SrcAS, rec.DstAS = uint32(le.Uint16(e)), uint32(le.Uint16(e[2:]))
		case v1AS4:
			rec.SrcAS, rec.DstAS = le.Uint32(e), le.Uint32(e[4:])
		case v1Multiple:
			rec.SrcMask, rec.DstMask = e[2], e[3]
		case v1NextHopV4:
			rec.NextHop = ip4(e)
		case v1NextHopV6:
			rec.NextHop = ip6(e)
		case v1VLAN:
			rec.VLAN = le.Uint16(e)
		case v1OutPkts4:
			rec.OutPackets = uint64(le.Uint32(e))
		case v1OutPkts8:
			rec.OutPackets = le.Uint64(e)
		case v1OutBytes4:
			rec.OutBytes = uint64(le.Uint32(e))
		case v1OutBytes8:
			rec.OutBytes = le.Uint64(e)
		case v1RouterIPv4:
			rec.Exporter, haveRouter = ip4(e), true
		case v1RouterIPv6:
			rec.Exporter, haveRouter = ip6(e), true
		}
	}

	if ex := rd.tabs.get(sysid); ex != nil {
		if !haveRouter {
			rec.Exporter = ex.addr
		}
		rec.ObsDomain = ex.domain
		rec.Sampling = ex.rate
	}
	if flags&v1FlagSampled != 0 {
		rd.st.Scaled++
	}
	rd.flow()
	return nil
}
