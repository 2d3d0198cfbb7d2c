// Package words turns flows and DNS messages into the "words" of Apache
// Spot's suspicious-connects model (spot-method.md §2.3 and §3.2–3.3). It is
// bit-exact with Spot's word strings: every token is computed with integer
// math where Spot's floating formula is exact for realistic inputs, so no
// libm rounding can move a value across a bin edge.
//
// Words have two forms: a compact uint64 key (for interning millions of
// records without building strings) and the Spot text form (for output and
// for the vocabulary order).
package words

import (
	"math/bits"
	"strconv"
)

// Port tokens Spot uses when neither side of a flow is the single service
// port (spot-method.md §2.3, rows 4 and 7).
const (
	PortLowLow   = 111111 // both ports in 1..1024
	PortHighHigh = 333333 // both ports above 1024
)

// lowPortMax is Spot's fixed boundary: ports ≤ 1024 are "low" (service) ports.
const lowPortMax = 1024

// FlowWord is one side's word of a flow. Its text form is
// [-1_]<Port>_<Proto>_<Hour>_<BytesBin>_<PacketsBin>.
type FlowWord struct {
	Server     bool   // "-1_" prefix: this side owns Port (server or non-zero side)
	Port       uint32 // 0, a port number, PortLowLow or PortHighHigh
	Proto      uint8  // IP protocol number, rendered with ProtoName; FlowWords stores the smallest number of that name
	Hour       uint8  // 0..23
	BytesBin   uint8  // bit length of the byte count, 0..64
	PacketsBin uint8  // bit length of the packet count, 0..64
}

// CountBin is Spot's ceil(log2(x+1)) byte/packet bin. For integers it is
// exactly the bit length of x (0→0, 1→1, 2–3→2, 4–7→3, …); Spot's floating
// formula agrees for every count below 2^48, and a float formula in Go does
// not (Go's Log10 is not correctly rounded), hence the integer form.
func CountBin(x uint64) uint8 { return uint8(bits.Len64(x)) }

// FlowWords returns the source-side word (for the source IP's document) and
// the destination-side word (for the destination IP's document) of one flow,
// following Spot's port rule table: the first matching row wins.
func FlowWords(srcPort, dstPort uint16, proto uint8, hour int, bytes, packets uint64) (src, dst FlowWord) {
	base := FlowWord{Proto: canonicalProto[proto], Hour: uint8(hour), BytesBin: CountBin(bytes), PacketsBin: CountBin(packets)}
	src, dst = base, base
	sp, dp := uint32(srcPort), uint32(dstPort)
	switch {
	case sp == 0 && dp == 0:
		src.Port, dst.Port = 0, 0
	case dp == 0: // sport > 0
		src.Port, dst.Port = sp, sp
		src.Server = true
	case sp == 0: // dport > 0
		src.Port, dst.Port = dp, dp
		dst.Server = true
	case sp <= lowPortMax && dp <= lowPortMax:
		src.Port, dst.Port = PortLowLow, PortLowLow
	case sp <= lowPortMax: // dport high
		src.Port, dst.Port = sp, sp
		src.Server = true
	case dp <= lowPortMax: // sport high
		src.Port, dst.Port = dp, dp
		dst.Server = true
	default:
		src.Port, dst.Port = PortHighHigh, PortHighHigh
	}
	return src, dst
}

// Key packs the word into 64 bits; distinct words have distinct keys and
// FlowWordFromKey inverts it. Layout (low to high): PacketsBin 8, BytesBin 8,
// Hour 8, Proto 8, Port 24, Server 1.
func (w FlowWord) Key() uint64 {
	k := uint64(w.PacketsBin) | uint64(w.BytesBin)<<8 | uint64(w.Hour)<<16 | uint64(w.Proto)<<24 | uint64(w.Port&0xffffff)<<32
	if w.Server {
		k |= 1 << 56
	}
	return k
}

// FlowWordFromKey is the inverse of FlowWord.Key.
func FlowWordFromKey(k uint64) FlowWord {
	return FlowWord{
		PacketsBin: uint8(k),
		BytesBin:   uint8(k >> 8),
		Hour:       uint8(k >> 16),
		Proto:      uint8(k >> 24),
		Port:       uint32(k>>32) & 0xffffff,
		Server:     k>>56&1 == 1,
	}
}

// Append appends Spot's text form of the word to b.
func (w FlowWord) Append(b []byte) []byte {
	if w.Server {
		b = append(b, "-1_"...)
	}
	b = strconv.AppendUint(b, uint64(w.Port), 10)
	b = append(b, '_')
	b = append(b, ProtoName(w.Proto)...)
	b = append(b, '_')
	b = strconv.AppendUint(b, uint64(w.Hour), 10)
	b = append(b, '_')
	b = strconv.AppendUint(b, uint64(w.BytesBin), 10)
	b = append(b, '_')
	return strconv.AppendUint(b, uint64(w.PacketsBin), 10)
}

// String returns Spot's text form, e.g. "-1_23_UDP_12_8_2".
func (w FlowWord) String() string {
	return string(w.Append(make([]byte, 0, 32)))
}
