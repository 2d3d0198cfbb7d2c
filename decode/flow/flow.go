// Package flow is the record model shared by every decoder, the case store and
// the detectors. It is a leaf package: it imports nothing of ours.
package flow

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// Addr is an IP address in 16 bytes. IPv4 is stored IPv4-mapped
// (::ffff:a.b.c.d) so that one fixed-width column holds both families and
// byte order equals numeric order within each family.
type Addr [16]byte

// AddrFrom4 returns the IPv4-mapped form of a 4-byte address.
func AddrFrom4(b [4]byte) Addr {
	var a Addr
	a[10], a[11] = 0xff, 0xff
	copy(a[12:], b[:])
	return a
}

// AddrFromSlice builds an Addr from a 4- or 16-byte slice; other lengths give the zero Addr.
func AddrFromSlice(b []byte) Addr {
	var a Addr
	switch len(b) {
	case 4:
		a[10], a[11] = 0xff, 0xff
		copy(a[12:], b)
	case 16:
		copy(a[:], b)
	}
	return a
}

// AddrFromNetip converts a netip.Addr (zone dropped).
func AddrFromNetip(ip netip.Addr) Addr {
	if ip.Is4() {
		return AddrFrom4(ip.As4())
	}
	return Addr(ip.As16())
}

// Is4 reports whether a is an IPv4-mapped address.
func (a Addr) Is4() bool {
	return a[0]|a[1]|a[2]|a[3]|a[4]|a[5]|a[6]|a[7]|a[8]|a[9] == 0 && a[10] == 0xff && a[11] == 0xff
}

// Netip returns the address as netip.Addr (unmapped for IPv4).
func (a Addr) Netip() netip.Addr {
	if a.Is4() {
		return netip.AddrFrom4([4]byte(a[12:16]))
	}
	return netip.AddrFrom16(a)
}

// String formats the address the way nfdump and tshark do (dotted quad for IPv4).
func (a Addr) String() string { return a.Netip().String() }

// Protocol numbers used across packages.
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoICMPv6 = 58
)

// TCP flag bits as in the TCP header (and NetFlow's tcp_flags byte).
const (
	TCPFin = 0x01
	TCPSyn = 0x02
	TCPRst = 0x04
	TCPPsh = 0x08
	TCPAck = 0x10
	TCPUrg = 0x20
	TCPEce = 0x40
	TCPCwr = 0x80
)

// Record is one unidirectional flow with NetFlow semantics. For ICMP and
// ICMPv6 DstPort carries type*256+code and SrcPort is 0, as nfdump does.
type Record struct {
	First    int64 // first packet, Unix nanoseconds
	Last     int64 // last packet, Unix nanoseconds
	Src      Addr
	Dst      Addr
	SrcPort  uint16
	DstPort  uint16
	Proto    uint8
	TCPFlags uint8 // OR of the flags of every packet
	ToS      uint8 // ToS / traffic class of the first packet
	VLAN     uint16
	Packets  uint64
	Bytes    uint64 // IPv4 total length; IPv6 payload length + 40
	Evidence uint32 // index of the evidence file the flow was first seen in

	// The fields below come from flow-export evidence (NetFlow v5/v9,
	// IPFIX, nfcapd files, flow logs); packet captures leave them zero.

	// OutPackets and OutBytes are the reverse direction of a bidirectional
	// record (IPFIX biflows per RFC 5103, Zeek conn.log, Argus): the source
	// of the record is the initiator, Packets/Bytes count what it sent and
	// Out* what it received. Unidirectional evidence leaves them 0.
	OutPackets uint64
	OutBytes   uint64
	Exporter   Addr   // address of the exporting device (zero when unknown)
	ObsDomain  uint32 // NetFlow v9 source id / IPFIX observation domain id
	SrcAS      uint32
	DstAS      uint32
	InIf       uint32 // SNMP/ifIndex of the input interface
	OutIf      uint32 // SNMP/ifIndex of the output interface
	NextHop    Addr
	SrcMask    uint8
	DstMask    uint8
	EndReason  uint8  // IPFIX flowEndReason (1 idle, 2 active, 3 end of flow, 4 forced, 5 lack of resources)
	Sampling   uint32 // packet sampling interval (1 in N) in force at the exporter; 0 unknown, 1 unsampled
}

// DNS flag bits kept in DNSMessage.Flags.
const (
	DNSFlagAA = 1 << 0
	DNSFlagTC = 1 << 1
	DNSFlagRD = 1 << 2
	DNSFlagRA = 1 << 3
	DNSFlagAD = 1 << 4
	DNSFlagCD = 1 << 5
)

// Answer is one resource record of a DNS answer section. Data is text for
// A, AAAA, CNAME, PTR, MX, NS, TXT and SOA and empty for other types.
// Data is raw evidence: it may hold any byte and must be escaped on output.
type Answer struct {
	Type uint16
	Data string
}

// DNSMessage is one DNS query or response seen on the wire. The client is
// the side that sent the query (the source of a query, the destination of a
// response).
type DNSMessage struct {
	TS         int64 // Unix nanoseconds
	Client     Addr
	Server     Addr
	ClientPort uint16
	ServerPort uint16
	Transport  uint8 // ProtoUDP or ProtoTCP
	ID         uint16
	Response   bool
	Opcode     uint8
	Rcode      uint8
	Flags      uint8  // DNSFlag* bits
	QName      string // first question, presentation form, no trailing dot; raw evidence
	QType      uint16
	QClass     uint16
	ANCount    uint16 // answer count from the header
	Answers    []Answer
	TTL        uint32 // minimum TTL over the decoded answers; 0 when none
	FrameLen   uint32 // captured frame length of the (last) packet carrying the message
	Evidence   uint32
}

// EncodeAnswers packs answers into one byte string for storage: for each
// answer a little-endian uint16 type, a uvarint length and the data bytes.
func EncodeAnswers(dst []byte, answers []Answer) []byte {
	for _, a := range answers {
		dst = binary.LittleEndian.AppendUint16(dst, a.Type)
		dst = binary.AppendUvarint(dst, uint64(len(a.Data)))
		dst = append(dst, a.Data...)
	}
	return dst
}

// ErrBadAnswers is returned by DecodeAnswers for a malformed encoding.
var ErrBadAnswers = errors.New("malformed answer encoding")

// DecodeAnswers reverses EncodeAnswers. It never reads past b.
func DecodeAnswers(b []byte) ([]Answer, error) {
	var out []Answer
	for len(b) > 0 {
		if len(b) < 2 {
			return out, ErrBadAnswers
		}
		t := binary.LittleEndian.Uint16(b)
		n, k := binary.Uvarint(b[2:])
		if k <= 0 || n > uint64(len(b)-2-k) {
			return out, ErrBadAnswers
		}
		start := 2 + k
		out = append(out, Answer{Type: t, Data: string(b[start : start+int(n)])})
		b = b[start+int(n):]
	}
	return out, nil
}
