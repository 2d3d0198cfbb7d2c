package netflow

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/spotctl/spotctl/decode/flow"
)

// op is what record decoding does with one field.
type op uint8

const (
	opSkip op = iota
	opSrc4
	opDst4
	opSrc6
	opDst6
	opHop4
	opHop6
	opBGPHop4
	opBGPHop6
	opSrcPort
	opDstPort
	opProto
	opTCPFlags
	opToS
	opBytes
	opBytesTotal
	opBytesPost
	opBytesInit // NSEL initiatorOctets (231)
	opPackets
	opPacketsTotal
	opPacketsPost
	opPacketsInit // NSEL initiatorPackets (298)
	opRevBytes
	opRevBytesTotal
	opBytesResp // NSEL responderOctets (232)
	opRevPackets
	opRevPacketsTotal
	opPacketsResp // NSEL responderPackets (299)
	opInIf
	opOutIf
	opSrcAS
	opDstAS
	opSrcMask
	opDstMask
	opVLAN
	opVLANDot1q
	opVLANPost
	opEndReason
	opICMP
	opICMPType
	opICMPCode
	opStartSysUp
	opEndSysUp
	opStartSec
	opEndSec
	opStartMs
	opEndMs
	opStartUs
	opEndUs
	opStartNs
	opEndNs
	opStartDeltaUs
	opEndDeltaUs
	opDurMs
	opDurUs
	opSysInit
	opSampInterval
	opSampPacketInterval
	opSampPacketSpace
	opSampSize
	opSampPopulation
	opSamplerID
	opSelectorID
	opCount
)

// timeKind says how a start or end value is to be read.
type timeKind uint8

const (
	tkNone    timeKind = iota
	tkSysUp            // ms of sysUptime (v5/v9) or after systemInitTime (IPFIX)
	tkSec              // Unix seconds
	tkMs               // Unix milliseconds
	tkUs               // NTP timestamp (microsecond precision)
	tkNs               // NTP timestamp
	tkDeltaUs          // microseconds before the export time
)

// sampKind says how a record's own sampling fields give the interval.
type sampKind uint8

const (
	skNone                sampKind = iota
	skInterval                     // 1 in N
	skPacketIntervalSpace          // N selected, M skipped: (N+M)/N
	skSizePopulation               // n out of N: N/n
)

// opFor maps an information element (with enterprise number and declared
// length) to its op; lengths that make no sense for the element give opSkip
// so that record decoding never needs to check them.
func opFor(id uint16, pen uint32, length uint16) op {
	if pen == penReverse {
		if length < 1 || length > 8 {
			return opSkip
		}
		switch id {
		case 1:
			return opRevBytes
		case 85:
			return opRevBytesTotal
		case 2:
			return opRevPackets
		case 86:
			return opRevPacketsTotal
		}
		return opSkip
	}
	if pen != 0 {
		return opSkip
	}
	if length == 4 {
		switch id {
		case 8:
			return opSrc4
		case 12:
			return opDst4
		case 15:
			return opHop4
		case 18:
			return opBGPHop4
		}
	}
	if length == 16 {
		switch id {
		case 27:
			return opSrc6
		case 28:
			return opDst6
		case 62:
			return opHop6
		case 63:
			return opBGPHop6
		}
	}
	switch id {
	case 8, 12, 15, 18, 27, 28, 62, 63:
		return opSkip // an address of the wrong size
	}
	if length < 1 || length > 8 {
		return opSkip
	}
	switch id {
	case 1:
		return opBytes
	case 2:
		return opPackets
	case 4:
		return opProto
	case 5:
		return opToS
	case 6:
		return opTCPFlags
	case 7:
		return opSrcPort
	case 9, 29:
		return opSrcMask
	case 10:
		return opInIf
	case 11:
		return opDstPort
	case 13, 30:
		return opDstMask
	case 14:
		return opOutIf
	case 16:
		return opSrcAS
	case 17:
		return opDstAS
	case 21:
		return opEndSysUp
	case 22:
		return opStartSysUp
	case 23:
		return opBytesPost
	case 24:
		return opPacketsPost
	case 32, 139:
		return opICMP
	case 34, 50:
		return opSampInterval
	case 48:
		return opSamplerID
	case 58:
		return opVLAN
	case 59:
		return opVLANPost
	case 85:
		return opBytesTotal
	case 86:
		return opPacketsTotal
	case 136:
		return opEndReason
	case 150:
		return opStartSec
	case 151:
		return opEndSec
	case 152:
		return opStartMs
	case 153:
		return opEndMs
	case 154:
		return opStartUs
	case 155:
		return opEndUs
	case 156:
		return opStartNs
	case 157:
		return opEndNs
	case 158:
		return opStartDeltaUs
	case 159:
		return opEndDeltaUs
	case 160:
		return opSysInit
	case 161:
		return opDurMs
	case 162:
		return opDurUs
	case 176, 178:
		return opICMPType
	case 177, 179:
		return opICMPCode
	case 231:
		return opBytesInit
	case 232:
		return opBytesResp
	case 243:
		return opVLANDot1q
	case 298:
		return opPacketsInit
	case 299:
		return opPacketsResp
	case 302:
		return opSelectorID
	case 305:
		return opSampPacketInterval
	case 306:
		return opSampPacketSpace
	case 309:
		return opSampSize
	case 310:
		return opSampPopulation
	}
	return opSkip
}

// optionsOp keeps, in an options template, only what options records are
// read for: sampling and the system init time.
func optionsOp(o op) op {
	switch o {
	case opSysInit, opSampInterval, opSampPacketInterval, opSampPacketSpace,
		opSampSize, opSampPopulation, opSamplerID, opSelectorID:
		return o
	}
	return opSkip
}

// scratch holds what a record says that is not copied straight into the
// flow record.
type scratch struct {
	start, end, dur uint64
	sampA, sampB    uint64
	samplerID       uint64
	sysInit         uint64
	icmp            uint16
	icmpType        uint8
	icmpCode        uint8
}

// be reads a big-endian unsigned integer of 1 to 8 bytes.
func be(b []byte) uint64 {
	switch len(b) {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.BigEndian.Uint16(b))
	case 4:
		return uint64(binary.BigEndian.Uint32(b))
	case 8:
		return binary.BigEndian.Uint64(b)
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

func nonZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return true
		}
	}
	return false
}

// apply runs the steps of one record. Every step's bytes lie within rec
// (checked when the template was compiled, or by layout for variable ones).
func apply(t *template, steps []step, rec []byte, r *flow.Record, sc *scratch) {
	for _, st := range steps {
		b := rec[st.off : int(st.off)+int(st.len)]
		switch st.op {
		case opSrc4:
			if !t.dualSrc || nonZero(b) {
				r.Src = flow.AddrFromSlice(b)
			}
		case opDst4:
			if !t.dualDst || nonZero(b) {
				r.Dst = flow.AddrFromSlice(b)
			}
		case opSrc6:
			if !t.dualSrc || nonZero(b) {
				r.Src = flow.Addr(b)
			}
		case opDst6:
			if !t.dualDst || nonZero(b) {
				r.Dst = flow.Addr(b)
			}
		case opHop4, opBGPHop4:
			if !t.dualHop || nonZero(b) {
				r.NextHop = flow.AddrFromSlice(b)
			}
		case opHop6, opBGPHop6:
			if !t.dualHop || nonZero(b) {
				r.NextHop = flow.Addr(b)
			}
		case opSrcPort:
			r.SrcPort = uint16(be(b))
		case opDstPort:
			r.DstPort = uint16(be(b))
		case opProto:
			r.Proto = uint8(be(b))
		case opTCPFlags:
			r.TCPFlags = uint8(be(b))
		case opToS:
			r.ToS = uint8(be(b))
		case opBytes, opBytesTotal, opBytesPost, opBytesInit:
			r.Bytes = be(b)
		case opPackets, opPacketsTotal, opPacketsPost, opPacketsInit:
			r.Packets = be(b)
		case opRevBytes, opRevBytesTotal, opBytesResp:
			r.OutBytes = be(b)
		case opRevPackets, opRevPacketsTotal, opPacketsResp:
			r.OutPackets = be(b)
		case opInIf:
			r.InIf = uint32(be(b))
		case opOutIf:
			r.OutIf = uint32(be(b))
		case opSrcAS:
			r.SrcAS = uint32(be(b))
		case opDstAS:
			r.DstAS = uint32(be(b))
		case opSrcMask:
			if v := uint8(be(b)); v != 0 {
				r.SrcMask = v
			}
		case opDstMask:
			if v := uint8(be(b)); v != 0 {
				r.DstMask = v
			}
		case opVLAN, opVLANDot1q, opVLANPost:
			r.VLAN = uint16(be(b)) & 0x0fff
		case opEndReason:
			r.EndReason = uint8(be(b))
		case opICMP:
			sc.icmp = uint16(be(b))
		case opICMPType:
			sc.icmpType = uint8(be(b))
		case opICMPCode:
			sc.icmpCode = uint8(be(b))
		case opStartSysUp, opStartSec, opStartMs, opStartUs, opStartNs, opStartDeltaUs:
			sc.start = be(b)
		case opEndSysUp, opEndSec, opEndMs, opEndUs, opEndNs, opEndDeltaUs:
			sc.end = be(b)
		case opDurMs, opDurUs:
			sc.dur = be(b)
		case opSysInit:
			sc.sysInit = be(b)
		case opSampInterval, opSampPacketInterval, opSampSize:
			sc.sampA = be(b)
		case opSampPacketSpace, opSampPopulation:
			sc.sampB = be(b)
		case opSamplerID, opSelectorID:
			sc.samplerID = be(b)
		}
	}
}

// mulSat returns v*m as an int64 (m > 0), saturating at MaxInt64.
func mulSat(v uint64, m uint64) int64 {
	if v > math.MaxInt64/m {
		return math.MaxInt64
	}
	return int64(v * m)
}

// ntpEpoch is the Unix time of the NTP epoch (1900-01-01) in seconds.
const ntpEpoch = -2208988800

// ntpNs converts a 64-bit NTP timestamp to Unix ns. Seconds with the top
// bit clear are NTP era 1 (2036-02-07 onwards), as RFC 4330 reads them; 0
// stays 0 (an unset field shows as the Unix epoch, as with ms fields).
func ntpNs(v uint64, micro bool) int64 {
	if v == 0 {
		return 0
	}
	secs := int64(v >> 32)
	frac := v & 0xffffffff
	if micro {
		frac &^= 0x7ff // RFC 7011 6.1.9: the low 11 bits are not significant
	}
	if secs < 1<<31 {
		secs += 1 << 32
	}
	return (secs+ntpEpoch)*1e9 + int64(frac*1e9>>32)
}

// timeNs converts a raw start/end value. ok is false when the value cannot
// be placed (IPFIX relative time with no system init time).
func timeNs(k timeKind, raw uint64, h *msgHeader, s *session) (int64, bool) {
	switch k {
	case tkSysUp:
		if h.version == 10 {
			if s == nil || !s.haveSysInit {
				return 0, false
			}
			return satAdd(s.sysInitNs, mulSat(raw, 1e6)), true
		}
		// Done in uint32: the uptime counter wraps every 49.7 days.
		return h.exportNs - int64(h.sysUptime-uint32(raw))*1e6, true
	case tkSec:
		return mulSat(raw, 1e9), true
	case tkMs:
		return mulSat(raw, 1e6), true
	case tkUs:
		return ntpNs(raw, true), true
	case tkNs:
		return ntpNs(raw, false), true
	case tkDeltaUs:
		return satAdd(h.exportNs, -mulSat(raw, 1e3)), true
	}
	return 0, false
}

func satAdd(a, b int64) int64 {
	c := a + b
	if (b > 0 && c < a) || (b < 0 && c > a) {
		if b > 0 {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	return c
}

// finish completes a flow record after apply: times, ICMP, sampling.
func (d *Decoder) finish(t *template, sc *scratch, h *msgHeader, s *session, r *flow.Record) {
	if t.sysInit && sc.sysInit != 0 && s != nil {
		s.sysInitNs, s.haveSysInit = mulSat(sc.sysInit, 1e6), true
	}
	first, okS := timeNs(t.start, sc.start, h, s)
	last, okE := timeNs(t.end, sc.end, h, s)
	var dur int64
	if t.dur == tkMs {
		dur = mulSat(sc.dur, 1e6)
	} else if t.dur == tkUs {
		dur = mulSat(sc.dur, 1e3)
	}
	if (t.start == tkSysUp && !okS) || (t.end == tkSysUp && !okE) {
		d.stats.NoTimeBase++
	}
	switch {
	case okS && okE:
	case okS:
		last = satAdd(first, dur)
	case okE:
		first = satAdd(last, -dur)
	default:
		first = h.exportNs
		last = satAdd(first, dur)
	}
	r.First, r.Last = first, last

	if t.icmp && (r.Proto == flow.ProtoICMP || r.Proto == flow.ProtoICMPv6) {
		// The type/code element wins over ports: exporters that send both
		// (Cisco ASA) put the ICMP identifier in a port.
		v := sc.icmp
		if t.icmpSplit {
			v = uint16(sc.icmpType)<<8 | uint16(sc.icmpCode)
		}
		r.SrcPort, r.DstPort = 0, v
	}
	if t.dualSrc && r.Src == (flow.Addr{}) {
		r.Src = flow.AddrFrom4([4]byte{})
	}
	if t.dualDst && r.Dst == (flow.Addr{}) {
		r.Dst = flow.AddrFrom4([4]byte{})
	}

	samp := recordSampling(t, sc)
	if samp == 0 && s != nil {
		if t.sampler {
			samp = s.samplers[sc.samplerID]
		}
		if samp == 0 {
			samp = s.sampling
		}
	}
	r.Sampling = samp
	if d.opts.ApplySampling && samp > 1 {
		scaleCounters(r, samp)
	}
}

// recordSampling is the interval a record (data or options) states itself.
func recordSampling(t *template, sc *scratch) uint32 {
	var v uint64
	switch t.samp {
	case skInterval:
		v = sc.sampA
	case skPacketIntervalSpace:
		if sc.sampA > 0 {
			v = (sc.sampA + sc.sampB) / sc.sampA
		}
	case skSizePopulation:
		if sc.sampA > 0 {
			v = sc.sampB / sc.sampA
		}
	}
	if v > math.MaxUint32 {
		v = math.MaxUint32
	}
	return uint32(v)
}

func scaleCounters(r *flow.Record, n uint32) {
	m := uint64(n)
	r.Packets = mulSat64(r.Packets, m)
	r.Bytes = mulSat64(r.Bytes, m)
	r.OutPackets = mulSat64(r.OutPackets, m)
	r.OutBytes = mulSat64(r.OutBytes, m)
}

func mulSat64(v, m uint64) uint64 {
	if m != 0 && v > math.MaxUint64/m {
		return math.MaxUint64
	}
	return v * m
}

// options takes what an options record says into the session.
func (d *Decoder) options(t *template, sc *scratch, s *session) {
	d.stats.OptionsRecords++
	if s == nil {
		return
	}
	if t.sysInit && sc.sysInit != 0 {
		s.sysInitNs, s.haveSysInit = mulSat(sc.sysInit, 1e6), true
	}
	samp := recordSampling(t, sc)
	if samp == 0 {
		return
	}
	s.sampling = samp
	if t.sampler {
		if _, ok := s.samplers[sc.samplerID]; ok || len(s.samplers) < maxSamplers {
			if s.samplers == nil {
				s.samplers = make(map[uint64]uint32)
			}
			s.samplers[sc.samplerID] = samp
		}
	}
}

// dataSet decodes the records of one data flowset body with template t.
// It returns the records decoded (flows, non-flow and options records) and,
// when a variable-length record runs past the set (the rest of the set is
// then not trusted), an error and that record's offset within body. Bytes
// after the last record shorter than a record are padding.
func (d *Decoder) dataSet(s *session, t *template, body []byte, h *msgHeader, emit func(*flow.Record)) (int, int, error) {
	n := 0
	r := &d.rec
	for off := 0; len(body)-off >= t.recLen; {
		steps := t.steps
		var rec []byte
		if t.variable {
			var ok bool
			steps, rec, ok = d.layout(t, body[off:])
			if !ok {
				return n, off, fmt.Errorf("%w: template %d: variable-length field of record %d runs past the flowset", ErrMalformed, t.id, n+1)
			}
		} else {
			rec = body[off : off+t.recLen]
		}
		off += len(rec)
		n++
		var sc scratch
		if t.options {
			apply(t, steps, rec, r, &sc)
			d.options(t, &sc, s)
			continue
		}
		if !t.isFlow {
			d.stats.NonFlowRecords++
			continue
		}
		*r = flow.Record{}
		apply(t, steps, rec, r, &sc)
		d.finish(t, &sc, h, s, r)
		if s != nil {
			r.Exporter = s.key.addr
			r.ObsDomain = s.key.domain
		}
		r.Evidence = h.evidence
		d.stats.Records++
		emit(r)
	}
	return n, 0, nil
}

// layout finds the field offsets of one record of a variable-length
// template at the start of b. It returns the steps with their offsets
// filled in and the record's bytes, or ok=false when a length runs past b.
func (d *Decoder) layout(t *template, b []byte) ([]step, []byte, bool) {
	d.varOps = append(d.varOps[:0], t.steps...)
	off := 0
	for i, l := range t.lens {
		n := int(l)
		if l == varLen {
			if off >= len(b) {
				return nil, nil, false
			}
			n = int(b[off])
			off++
			if n == 255 {
				if len(b)-off < 2 {
					return nil, nil, false
				}
				n = int(binary.BigEndian.Uint16(b[off:]))
				off += 2
			}
		}
		if len(b)-off < n {
			return nil, nil, false
		}
		if j := t.stepOf[i]; j >= 0 {
			d.varOps[j].off = uint16(off)
		}
		off += n
	}
	if off == 0 || off > 65535 {
		return nil, nil, false
	}
	return d.varOps, b[:off], true
}
