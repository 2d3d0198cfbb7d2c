package nfcapd

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/spotctl/spotctl/decode/flow"
)

// V3 record (nfdump 1.7, nfxV3.h): a 12-byte header {type u16 = 11, size
// u16, numElements u16, engineType u8, engineID u8, exporterID u16, flags
// u8, nfversion u8}, then numElements elements {type u16, length u16
// (header included), payload}. All integers are host order (little-endian
// here); addresses are stored as host-order words.
const v3HdrSize = 12

// V3 header flags.
const v3FlagSampled = 0x2 // the exporter sampled and nfcapd scaled the counters

// Element ids of nfdump 1.7 (nfxV3.h). Only the ones that feed flow.Record
// are listed; the rest are skipped by their length.
const (
	exGeneric      = 1  // msecFirst, msecLast, msecReceived, inPackets, inBytes u64; srcPort, dstPort u16; proto, tcpFlags, fwdStatus, srcTos u8
	exIPv4         = 2  // src, dst u32
	exIPv6         = 3  // src, dst 2×u64 each
	exFlowMisc     = 4  // input, output u32; srcMask, dstMask, dir, dstTos, biFlowDir, flowEndReason, revTcpFlags, fragmentFlags u8
	exCntFlow      = 5  // flows, outPackets, outBytes u64
	exVLAN         = 6  // srcVlan, dstVlan u32
	exASRouting    = 7  // srcAS, dstAS u32
	exBGPNextHopV4 = 8  // not mapped: flow.Record has one next hop, the IP one
	exBGPNextHopV6 = 9  // not mapped
	exIPNextHopV4  = 10 // ip u32
	exIPNextHopV6  = 11 // ip 2×u64
	exIPReceivedV4 = 12 // address the flow was received from (the exporter)
	exIPReceivedV6 = 13
	exSamplerInfo  = 18 // sampler id in the first 4 bytes (see v3)
	exObservation  = 33 // pointID u64, domainID u32
)

// Minimum payload sizes of the mapped elements.
const (
	exGenericSize     = 48
	exFlowMiscMinSize = 12 // input..dstTos; flowEndReason follows at offset 13
	exCntFlowSize     = 24
	exObservationSize = 12
)

// msToNs converts Unix milliseconds to nanoseconds, saturating instead of
// wrapping for values no clock produces.
func msToNs(ms uint64) int64 {
	if ms > math.MaxInt64/1_000_000 {
		return math.MaxInt64
	}
	return int64(ms) * 1_000_000
}

func shortElement(typ uint16, got, want int) error {
	return fmt.Errorf("%w: element type %d has %d payload bytes, want at least %d", ErrCorrupt, typ, got, want)
}

// minElement is the smallest valid payload of each mapped element, by
// element id; 0 for ids we do not map. Shorter elements are corrupt.
var minElement = [exObservation + 1]uint8{
	exGeneric:      exGenericSize,
	exIPv4:         8,
	exIPv6:         32,
	exFlowMisc:     exFlowMiscMinSize,
	exCntFlow:      exCntFlowSize,
	exVLAN:         4,
	exASRouting:    8,
	exIPNextHopV4:  4,
	exIPNextHopV6:  16,
	exIPReceivedV4: 4,
	exIPReceivedV6: 16,
	exSamplerInfo:  4,
	exObservation:  exObservationSize,
}

// v3 decodes one V3 flow record and emits it. A first pass walks the
// elements, checks each mapped one against minElement and notes where it
// is; the second fills the record from those offsets in a fixed order, so
// the length checks live in one table and the decoding is straight-line.
func (rd *reader) v3(p []byte) error {
	le := binary.LittleEndian
	if len(p) < v3HdrSize {
		return fmt.Errorf("%w: V3 record of %d bytes, below its %d-byte header", ErrCorrupt, len(p), v3HdrSize)
	}
	numElements := int(le.Uint16(p[4:]))
	sysid := le.Uint16(p[8:])
	flags := p[10]

	// at[id] is the offset in p of element id's payload, 0 when absent (a
	// payload never starts before byte 16). Records are at most 65535
	// bytes, so offsets fit 16 bits. A repeated element: the last wins.
	var at [len(minElement)]uint16
	off := v3HdrSize
	for i := 0; i < numElements; i++ {
		if len(p)-off < 4 {
			return fmt.Errorf("%w: V3 record declares %d elements, element %d starts past its end", ErrCorrupt, numElements, i)
		}
		h := le.Uint32(p[off:]) // type u16, length u16
		typ, l := h&0xffff, int(h>>16)
		if l < 4 || l > len(p)-off {
			return fmt.Errorf("%w: element %d (type %d) length %d does not fit the %d bytes left in the record", ErrCorrupt, i, typ, l, len(p)-off)
		}
		if typ < uint32(len(at)) {
			if need := int(minElement[typ]); l-4 < need {
				return shortElement(uint16(typ), l-4, need)
			}
			at[typ] = uint16(off + 4)
		}
		off += l
	}

	rec := &rd.rec
	*rec = flow.Record{Evidence: rd.evidence}
	if o := int(at[exGeneric]); o != 0 {
		e := p[o : o+exGenericSize]
		rec.First = msToNs(le.Uint64(e[0:]))
		rec.Last = msToNs(le.Uint64(e[8:]))
		rec.Packets = le.Uint64(e[24:])
		rec.Bytes = le.Uint64(e[32:])
		rec.SrcPort = le.Uint16(e[40:])
		// For ICMP this holds type<<8 | code, as flow.Record wants.
		rec.DstPort = le.Uint16(e[42:])
		rec.Proto = e[44]
		rec.TCPFlags = e[45]
		rec.ToS = e[47]
	}
	if o := int(at[exIPv4]); o != 0 {
		setIP4(&rec.Src, p[o:o+4])
		setIP4(&rec.Dst, p[o+4:o+8])
	}
	if o := int(at[exIPv6]); o != 0 {
		setIP6(&rec.Src, p[o:o+16])
		setIP6(&rec.Dst, p[o+16:o+32])
	}
	if o := int(at[exFlowMisc]); o != 0 {
		e := p[o : o+exFlowMiscMinSize]
		rec.InIf = le.Uint32(e[0:])
		rec.OutIf = le.Uint32(e[4:])
		rec.SrcMask = e[8]
		rec.DstMask = e[9]
		// flowEndReason came with 1.7's longer element.
		if l := int(le.Uint16(p[o-2:])) - 4; l > 13 {
			rec.EndReason = p[o+13]
		}
	}
	if o := int(at[exCntFlow]); o != 0 {
		e := p[o : o+exCntFlowSize]
		rec.OutPackets = le.Uint64(e[8:])
		rec.OutBytes = le.Uint64(e[16:])
	}
	if o := int(at[exVLAN]); o != 0 {
		rec.VLAN = uint16(le.Uint32(p[o:]))
	}
	if o := int(at[exASRouting]); o != 0 {
		e := p[o : o+8]
		rec.SrcAS = le.Uint32(e[0:])
		rec.DstAS = le.Uint32(e[4:])
	}
	if o := int(at[exIPNextHopV4]); o != 0 {
		setIP4(&rec.NextHop, p[o:o+4])
	}
	if o := int(at[exIPNextHopV6]); o != 0 {
		setIP6(&rec.NextHop, p[o:o+16])
	}
	haveRecv := false
	if o := int(at[exIPReceivedV4]); o != 0 {
		setIP4(&rec.Exporter, p[o:o+4])
		haveRecv = true
	}
	if o := int(at[exIPReceivedV6]); o != 0 {
		setIP6(&rec.Exporter, p[o:o+16])
		haveRecv = true
	}
	// The sampler element changed shape within 1.7.x ({id i32, interval,
	// mode, exporter} then {selectorID i64, exporter}); the low 32 bits of
	// the id sit first in both.
	var sel int64
	hasSel := false
	if o := int(at[exSamplerInfo]); o != 0 {
		sel, hasSel = int64(int32(le.Uint32(p[o:]))), true
	}
	haveDomain := false
	if o := int(at[exObservation]); o != 0 {
		rec.ObsDomain, haveDomain = le.Uint32(p[o+8:]), true
	}

	if ex := rd.tabs.get(sysid); ex != nil {
		if !haveRecv {
			rec.Exporter = ex.addr
		}
		if !haveDomain {
			rec.ObsDomain = ex.domain
		}
		rec.Sampling = ex.sampling(sel, hasSel)
	}
	if flags&v3FlagSampled != 0 {
		rd.st.Scaled++
	}
	if rec.Sampling == 0 && p[11]&0xC0 == 0x40 {
		// nfversion 0x40|n marks a record nfpcapd built from a packet
		// capture ("PCAP v1" in nfdump -o raw): every packet was seen.
		rec.Sampling = 1
	}
	rd.flow()
	return nil
}

// flow finishes rd.rec and emits it.
func (rd *reader) flow() {
	rec := &rd.rec
	if rec.Sampling == 0 && rd.creator == creatorNfpcapd {
		rec.Sampling = 1 // nfpcapd builds flows from every captured packet
	}
	rd.st.Flows++
	if rec.First != 0 && (rd.st.First == 0 || rec.First < rd.st.First) {
		rd.st.First = rec.First
	}
	if rec.Last > rd.st.Last {
		rd.st.Last = rec.Last
	}
	rd.emit(rec)
}
