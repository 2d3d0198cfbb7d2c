// Package packet turns one captured frame into the few facts flow assembly
// needs: the outermost IP header's addresses, protocol, NetFlow byte count,
// ports, TCP flags and fragment fields. It is hand-written rather than built
// on gopacket's DecodingLayerParser because it runs once per packet on the
// hot path (no allocation, no interface calls, no layer bookkeeping) and
// because it must cover encapsulations DLP lacks: MPLS label stacks, Linux
// SLL2, any number of stacked VLAN tags and PPPoE sessions.
//
// The parser only ever slices the frame it is given; every length read from
// the wire is checked against the captured bytes before it is used, and
// every loop is bounded.
//
// Counting rule: what tshark calls an IPv4 or IPv6 packet is an IP packet
// here. Once a valid outermost IP header is found Decode returns nil, even
// when the transport header is cut short or nonsensical (ports and flags are
// then 0), so that packet and byte totals match tshark's.
package packet

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/flow"
)

// LINKTYPE_* values (https://www.tcpdump.org/linktypes.html) Decode accepts.
const (
	LinkTypeNull       = 0   // BSD loopback: 4-byte address family in host byte order
	LinkTypeEthernet   = 1   // Ethernet II / 802.3
	LinkTypeRawOld     = 12  // DLT_RAW as written by some older libpcap builds
	LinkTypeRawOpenBSD = 14  // DLT_RAW on OpenBSD
	LinkTypeRaw        = 101 // raw IPv4 or IPv6, told apart by the version nibble
	LinkTypeLoop       = 108 // OpenBSD loopback: address family in network byte order
	LinkTypeLinuxSLL   = 113 // Linux cooked capture v1, 16-byte header
	LinkTypeIPv4       = 228 // raw IPv4 only
	LinkTypeIPv6       = 229 // raw IPv6 only
	LinkTypeLinuxSLL2  = 276 // Linux cooked capture v2, 20-byte header
)

// Bounds on encapsulation depth. Real traffic uses one or two VLAN tags and
// a handful of MPLS labels; the bounds only stop crafted frames from making
// the parser walk the whole frame four bytes at a time.
const (
	MaxVLANTags       = 8  // stacked 802.1Q/802.1ad tags
	MaxMPLSLabels     = 16 // MPLS label stack entries
	MaxIPv6ExtHeaders = 16 // IPv6 extension headers walked before giving up
)

// ErrNotIP is returned for a well-formed frame that carries no IP packet
// (ARP, LLDP, STP, PPPoE discovery, MPLS pseudowires…). It is not a problem
// in the evidence: such frames are simply not counted in flows.
var ErrNotIP = errors.New("not an IP packet")

// ErrMalformed marks a header whose fields contradict each other or the
// protocol (wrong IP version, header length below the minimum, too many
// VLAN tags). Short captures wrap decode.ErrTruncated instead.
var ErrMalformed = errors.New("malformed header")

// ErrLinkType marks a link type Decode does not handle; see Supported.
var ErrLinkType = errors.New("unsupported link type")

// Info describes the outermost IP packet of a frame. Slices point into the
// frame passed to Decode and are valid only as long as that frame is.
type Info struct {
	Src, Dst flow.Addr
	// Proto is the IP protocol of the outermost IP header's payload; for
	// IPv6 it is the upper-layer protocol after the extension headers (as
	// softflowd and tshark report it, not nfpcapd's 0). ESP (50) and "no
	// next header" (59) end the walk. When the walk cannot finish (an
	// extension header cut short, or more than MaxIPv6ExtHeaders) Proto is
	// the type of the extension header it stopped at.
	Proto uint8
	// SrcPort and DstPort are the TCP/UDP ports. For ICMP and ICMPv6
	// SrcPort is 0 and DstPort is type*256+code (nfdump's convention). They
	// are 0 for other protocols, for non-first fragments and when the
	// transport header was not captured.
	SrcPort, DstPort uint16
	// IPLen is the NetFlow byte count: the IPv4 total length field, or the
	// IPv6 payload length + 40. It comes from the header, so it can exceed
	// the captured bytes (snaplen) and it ignores Ethernet padding.
	IPLen    uint32
	TCPFlags uint8
	ToS      uint8 // IPv4 ToS byte / IPv6 traffic class
	// VLAN is the id (low 12 bits) of the outermost 802.1Q/802.1ad tag, 0
	// when untagged. Outermost because that is the tag the capturing link
	// belongs to (the service VLAN in Q-in-Q) and the one a switch or
	// exporter on that link would report.
	VLAN uint16
	IPv6 bool

	// Fragment is set when the IPv4 header has MF set or a non-zero
	// offset, or when an IPv6 fragment header is present (an "atomic"
	// IPv6 fragment, offset 0 without M, is a whole datagram: check
	// FragOffset and MoreFrags).
	Fragment   bool
	FragOffset uint16 // in bytes
	MoreFrags  bool
	FragID     uint32 // IPv4 identification or IPv6 fragment identification
	// FragData is, for fragments, the fragment's data as it travels: the
	// IPv4 payload, or the IPv6 bytes after the fragment header. It is
	// what reassembly concatenates. Nil when Fragment is false.
	FragData []byte

	// L4 holds the captured bytes from the transport header on (for a
	// non-first fragment: the fragment's payload). It is bounded by the IP
	// length fields, so Ethernet padding is never part of it.
	L4 []byte
	// Payload is the captured TCP or UDP payload (UDP: bounded by the UDP
	// length field too). Nil when the transport header is incomplete.
	Payload []byte
	TCPSeq  uint32
}

// Decoder parses frames. The zero value is ready to use; a Decoder holds no
// per-frame state and Decode does not allocate except to build an error for
// a damaged or unsupported frame.
type Decoder struct{}

// Supported reports whether Decode understands frames of the link type, so
// a caller can reject an interface once instead of erroring on each frame.
func Supported(linkType uint16) bool {
	switch linkType {
	case LinkTypeNull, LinkTypeEthernet, LinkTypeRawOld, LinkTypeRawOpenBSD, LinkTypeRaw,
		LinkTypeLoop, LinkTypeLinuxSLL, LinkTypeIPv4, LinkTypeIPv6, LinkTypeLinuxSLL2:
		return true
	}
	return false
}

// Decode fills info from frame, a capture of link type linkType. It returns
// nil for an IP packet, ErrNotIP for a frame without one, and otherwise an
// error that wraps decode.ErrTruncated (a header cut short by the capture),
// ErrMalformed (contradictory fields) or ErrLinkType, naming the header and
// the numbers that disagree. info is reset first, also on error.
func (d *Decoder) Decode(linkType uint16, frame []byte, info *Info) error {
	*info = Info{}
	switch linkType {
	case LinkTypeEthernet:
		if len(frame) < 14 {
			return fmt.Errorf("ethernet: %d captured bytes, header needs 14: %w", len(frame), decode.ErrTruncated)
		}
		return d.etherType(binary.BigEndian.Uint16(frame[12:]), frame[14:], info)
	case LinkTypeNull, LinkTypeLoop:
		if len(frame) < 4 {
			return fmt.Errorf("loopback: %d captured bytes, header needs 4: %w", len(frame), decode.ErrTruncated)
		}
		// DLT_NULL is in the capturing host's byte order and some LOOP
		// writers got the order wrong too; families are small numbers, so
		// a value with high bits set is the other order.
		fam := binary.LittleEndian.Uint32(frame)
		if fam&0xffff0000 != 0 {
			fam = binary.BigEndian.Uint32(frame)
		}
		switch fam {
		case 2: // AF_INET everywhere
			return d.ipv4(frame[4:], info)
		case 24, 28, 30: // AF_INET6 on NetBSD/OpenBSD, FreeBSD, Darwin
			return d.ipv6(frame[4:], info)
		}
		return ErrNotIP
	case LinkTypeRaw, LinkTypeRawOld, LinkTypeRawOpenBSD:
		return d.rawIP(frame, info)
	case LinkTypeIPv4:
		return d.ipv4(frame, info)
	case LinkTypeIPv6:
		return d.ipv6(frame, info)
	case LinkTypeLinuxSLL:
		// The protocol field sits at a fixed offset whatever the address
		// length field says (it may exceed the 8 address bytes).
		if len(frame) < 16 {
			return fmt.Errorf("linux sll: %d captured bytes, header needs 16: %w", len(frame), decode.ErrTruncated)
		}
		return d.sllProto(binary.BigEndian.Uint16(frame[14:]), frame[16:], info)
	case LinkTypeLinuxSLL2:
		if len(frame) < 20 {
			return fmt.Errorf("linux sll2: %d captured bytes, header needs 20: %w", len(frame), decode.ErrTruncated)
		}
		return d.sllProto(binary.BigEndian.Uint16(frame[0:]), frame[20:], info)
	}
	return fmt.Errorf("link type %d: %w", linkType, ErrLinkType)
}

// sllProto handles the Linux cooked protocol field: an Ethernet type, or one
// of the small pseudo-values for 802.3/802.2 frames, which carry no IP.
func (d *Decoder) sllProto(proto uint16, b []byte, info *Info) error {
	if proto < 0x0600 {
		return ErrNotIP
	}
	return d.etherType(proto, b, info)
}

func (d *Decoder) rawIP(b []byte, info *Info) error {
	if len(b) == 0 {
		return fmt.Errorf("raw ip: empty frame: %w", decode.ErrTruncated)
	}
	switch b[0] >> 4 {
	case 4:
		return d.ipv4(b, info)
	case 6:
		return d.ipv6(b, info)
	}
	return fmt.Errorf("raw ip: version %d, want 4 or 6: %w", b[0]>>4, ErrMalformed)
}

// etherType dispatches on an Ethernet type, peeling VLAN tags and an
// 802.2 SNAP header on the way. Each turn of the loop consumes bytes or
// returns, and VLAN tags are counted, so it ends.
func (d *Decoder) etherType(et uint16, b []byte, info *Info) error {
	tags, snap := 0, false
	var vlan uint16
	for {
		var err error
		switch et {
		case 0x0800:
			err = d.ipv4(b, info)
		case 0x86dd:
			err = d.ipv6(b, info)
		case 0x8847, 0x8848: // MPLS unicast, multicast
			err = d.mpls(b, info)
		case 0x8864: // PPPoE session stage
			err = d.pppoe(b, info)
		case 0x8100, 0x88a8, 0x9100, 0x9200: // 802.1Q, 802.1ad, legacy Q-in-Q
			if tags == MaxVLANTags {
				return fmt.Errorf("vlan: more than %d stacked tags: %w", MaxVLANTags, ErrMalformed)
			}
			if len(b) < 4 {
				return fmt.Errorf("vlan tag %d: %d captured bytes, tag needs 4: %w", tags+1, len(b), decode.ErrTruncated)
			}
			if tags == 0 {
				vlan = binary.BigEndian.Uint16(b) & 0x0fff
			}
			tags++
			et = binary.BigEndian.Uint16(b[2:])
			b = b[4:]
			continue
		default:
			if et >= 0x0600 || snap {
				return ErrNotIP
			}
			// An 802.3 length field: only LLC/SNAP with a zero OUI (RFC
			// 1042 encapsulation) can carry IP.
			snap = true
			if len(b) < 8 || b[0] != 0xaa || b[1] != 0xaa || b[2] != 0x03 || b[3]|b[4]|b[5] != 0 {
				return ErrNotIP
			}
			et = binary.BigEndian.Uint16(b[6:])
			b = b[8:]
			continue
		}
		if err == nil {
			info.VLAN = vlan // only now, so a failed frame leaves info zero
		}
		return err
	}
}

func (d *Decoder) mpls(b []byte, info *Info) error {
	for i := 0; ; i++ {
		if i == MaxMPLSLabels {
			return fmt.Errorf("mpls: no bottom of stack within %d labels: %w", MaxMPLSLabels, ErrMalformed)
		}
		if len(b) < 4 {
			return fmt.Errorf("mpls label %d: %d captured bytes, entry needs 4: %w", i+1, len(b), decode.ErrTruncated)
		}
		bottom := b[2]&1 != 0
		b = b[4:]
		if bottom {
			break
		}
	}
	// MPLS does not say what follows; like tshark, guess from the first
	// nibble (0 would be a pseudowire control word: not IP).
	if len(b) == 0 {
		return fmt.Errorf("mpls: no payload after the label stack: %w", decode.ErrTruncated)
	}
	switch b[0] >> 4 {
	case 4:
		return d.ipv4(b, info)
	case 6:
		return d.ipv6(b, info)
	}
	return ErrNotIP
}

func (d *Decoder) pppoe(b []byte, info *Info) error {
	// 6-byte PPPoE header, then the PPP protocol field (1 byte when
	// protocol-field compression left it odd, else 2).
	if len(b) < 7 {
		return fmt.Errorf("pppoe: %d captured bytes, header needs 8: %w", len(b), decode.ErrTruncated)
	}
	b = b[6:]
	var proto uint16
	if b[0]&1 != 0 {
		proto, b = uint16(b[0]), b[1:]
	} else {
		if len(b) < 2 {
			return fmt.Errorf("pppoe: %d captured bytes, header needs 8: %w", len(b)+6, decode.ErrTruncated)
		}
		proto, b = binary.BigEndian.Uint16(b), b[2:]
	}
	switch proto {
	case 0x0021:
		return d.ipv4(b, info)
	case 0x0057:
		return d.ipv6(b, info)
	}
	return ErrNotIP
}

func (d *Decoder) ipv4(b []byte, info *Info) error {
	if len(b) < 20 {
		return fmt.Errorf("ipv4: %d captured bytes, header needs 20: %w", len(b), decode.ErrTruncated)
	}
	if v := b[0] >> 4; v != 4 {
		return fmt.Errorf("ipv4: version %d, want 4: %w", v, ErrMalformed)
	}
	hl := int(b[0]&0x0f) * 4
	if hl < 20 {
		return fmt.Errorf("ipv4: header length %d below the minimum 20: %w", hl, ErrMalformed)
	}
	if hl > len(b) {
		return fmt.Errorf("ipv4: header length %d exceeds the %d captured bytes: %w", hl, len(b), decode.ErrTruncated)
	}
	tl := int(binary.BigEndian.Uint16(b[2:]))
	if tl < hl {
		return fmt.Errorf("ipv4: total length %d below the header length %d: %w", tl, hl, ErrMalformed)
	}
	info.IPLen = uint32(tl)
	info.ToS = b[1]
	info.Proto = b[9]
	info.Src[10], info.Src[11] = 0xff, 0xff
	copy(info.Src[12:], b[12:16])
	info.Dst[10], info.Dst[11] = 0xff, 0xff
	copy(info.Dst[12:], b[16:20])
	// The captured total length, not the frame, bounds the payload: it
	// drops Ethernet padding and tolerates snaplen cuts.
	p := b[hl:min(tl, len(b))]
	ff := binary.BigEndian.Uint16(b[6:])
	if ff&0x3fff != 0 {
		info.Fragment = true
		info.MoreFrags = ff&0x2000 != 0
		info.FragOffset = (ff & 0x1fff) * 8
		info.FragID = uint32(binary.BigEndian.Uint16(b[4:]))
		info.FragData = p
		if info.FragOffset != 0 {
			info.L4 = p
			return nil
		}
	}
	transport(p, info)
	return nil
}

func (d *Decoder) ipv6(b []byte, info *Info) error {
	if len(b) < 40 {
		return fmt.Errorf("ipv6: %d captured bytes, header needs 40: %w", len(b), decode.ErrTruncated)
	}
	if v := b[0] >> 4; v != 6 {
		return fmt.Errorf("ipv6: version %d, want 6: %w", v, ErrMalformed)
	}
	plen := int(binary.BigEndian.Uint16(b[4:]))
	info.IPv6 = true
	info.IPLen = uint32(plen) + 40
	info.ToS = uint8(binary.BigEndian.Uint16(b) >> 4)
	copy(info.Src[:], b[8:24])
	copy(info.Dst[:], b[24:40])
	end := 40 + plen
	if plen == 0 || end > len(b) { // 0: jumbogram (or TSO); the capture bounds it
		end = len(b)
	}
	p := b[40:end]
	nh := b[6]
	sawFrag := false
	for i := 0; ; i++ {
		var n int
		switch nh {
		case 0, 43, 60, 135, 139, 140, 253, 254: // hop-by-hop, routing, dest opts, mobility, HIP, shim6, experiments
			if i == MaxIPv6ExtHeaders || len(p) < 2 {
				info.Proto = nh
				return nil
			}
			n = (int(p[1]) + 1) * 8
		case 51: // AH: length in 4-byte units, minus 2
			if i == MaxIPv6ExtHeaders || len(p) < 2 {
				info.Proto = nh
				return nil
			}
			n = (int(p[1]) + 2) * 4
		case 44:
			if i == MaxIPv6ExtHeaders || len(p) < 8 || sawFrag {
				info.Proto = nh
				return nil
			}
			sawFrag = true
			fo := binary.BigEndian.Uint16(p[2:])
			info.Fragment = true
			info.FragOffset = fo &^ 7
			info.MoreFrags = fo&1 != 0
			info.FragID = binary.BigEndian.Uint32(p[4:])
			nh = p[0]
			p = p[8:]
			info.FragData = p
			if info.FragOffset != 0 {
				// The rest belongs to the middle of the datagram; the
				// fragment header's next header names its first part.
				info.Proto = nh
				info.L4 = p
				return nil
			}
			continue
		default: // upper layer, ESP (50) or no next header (59)
			info.Proto = nh
			transport(p, info)
			return nil
		}
		if n > len(p) {
			info.Proto = nh
			return nil
		}
		nh = p[0]
		p = p[n:]
	}
}

// transport reads what it can of the transport header. It never fails: a
// short or odd transport header leaves the fields it needs at 0.
func transport(p []byte, info *Info) {
	info.L4 = p
	switch info.Proto {
	case flow.ProtoTCP:
		if len(p) < 20 {
			if len(p) >= 4 {
				info.SrcPort = binary.BigEndian.Uint16(p)
				info.DstPort = binary.BigEndian.Uint16(p[2:])
			}
			if len(p) >= 8 {
				info.TCPSeq = binary.BigEndian.Uint32(p[4:])
			}
			if len(p) >= 14 {
				info.TCPFlags = p[13]
			}
			return
		}
		info.SrcPort = binary.BigEndian.Uint16(p)
		info.DstPort = binary.BigEndian.Uint16(p[2:])
		info.TCPSeq = binary.BigEndian.Uint32(p[4:])
		info.TCPFlags = p[13]
		if off := int(p[12]>>4) * 4; off >= 20 && off <= len(p) {
			info.Payload = p[off:]
		}
	case flow.ProtoUDP:
		if len(p) < 8 {
			if len(p) >= 4 {
				info.SrcPort = binary.BigEndian.Uint16(p)
				info.DstPort = binary.BigEndian.Uint16(p[2:])
			}
			return
		}
		info.SrcPort = binary.BigEndian.Uint16(p)
		info.DstPort = binary.BigEndian.Uint16(p[2:])
		end := len(p)
		if ul := int(binary.BigEndian.Uint16(p[4:])); ul >= 8 && ul < end {
			end = ul
		}
		info.Payload = p[8:end]
	case flow.ProtoICMP, flow.ProtoICMPv6:
		if len(p) >= 2 {
			info.DstPort = uint16(p[0])<<8 | uint16(p[1])
		}
	}
}
