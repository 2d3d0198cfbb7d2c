package packet

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/flow"
)

var (
	a4 = flow.AddrFromSlice(v4a)
	b4 = flow.AddrFromSlice(v4b)
	a6 = flow.AddrFromSlice(v6a)
	b6 = flow.AddrFromSlice(v6b)
)

// expect is an Info without its slices, plus what the slices should hold.
type expect struct {
	info        Info // slices ignored
	l4Len       int
	payload     string
	fragDataLen int
}

func strip(i Info) Info {
	i.L4, i.Payload, i.FragData = nil, nil, nil
	return i
}

func v4info(proto uint8, sp, dp uint16, iplen uint32) Info {
	return Info{Src: a4, Dst: b4, Proto: proto, SrcPort: sp, DstPort: dp, IPLen: iplen, ToS: 0x10}
}

func v6info(proto uint8, sp, dp uint16, iplen uint32) Info {
	return Info{Src: a6, Dst: b6, Proto: proto, SrcPort: sp, DstPort: dp, IPLen: iplen, ToS: 0xb8, IPv6: true}
}

func with(i Info, f func(*Info)) Info { f(&i); return i }

func TestDecodeCrafted(t *testing.T) {
	udp4 := ipv4(17, udp(5353, 53, []byte("hello")))         // 20+8+5 = 33
	tcp4 := ipv4(6, tcp(40000, 443, 7, 0x18, []byte("GET"))) // 20+20+3 = 43
	udp6 := ipv6(17, udp(5353, 53, []byte("hello")))         // plen 13 → 53
	wantUDP4 := expect{info: v4info(17, 5353, 53, 33), l4Len: 13, payload: "hello"}
	wantTCP4 := expect{info: with(v4info(6, 40000, 443, 43), func(i *Info) { i.TCPFlags = 0x18; i.TCPSeq = 7 }), l4Len: 23, payload: "GET"}
	wantUDP6 := expect{info: v6info(17, 5353, 53, 53), l4Len: 13, payload: "hello"}
	vlan := func(e expect, id uint16) expect { e.info.VLAN = id; return e }

	tests := []struct {
		name  string
		link  uint16
		frame []byte
		want  expect
		err   error  // errors.Is target; nil = success
		msg   string // substring of the error text
	}{
		// Link types.
		{name: "ethernet ipv4 udp", link: LinkTypeEthernet, frame: eth(0x0800, udp4), want: wantUDP4},
		{name: "ethernet ipv4 tcp", link: LinkTypeEthernet, frame: eth(0x0800, tcp4), want: wantTCP4},
		{name: "ethernet ipv6 udp", link: LinkTypeEthernet, frame: eth(0x86dd, udp6), want: wantUDP6},
		{name: "ethernet padding not payload", link: LinkTypeEthernet, frame: eth(0x0800, cat(udp4, make([]byte, 18))), want: wantUDP4},
		{name: "null little-endian inet", link: LinkTypeNull, frame: cat([]byte{2, 0, 0, 0}, udp4), want: wantUDP4},
		{name: "null big-endian inet", link: LinkTypeNull, frame: cat([]byte{0, 0, 0, 2}, udp4), want: wantUDP4},
		{name: "null inet6 24", link: LinkTypeNull, frame: cat([]byte{24, 0, 0, 0}, udp6), want: wantUDP6},
		{name: "null inet6 28", link: LinkTypeNull, frame: cat([]byte{28, 0, 0, 0}, udp6), want: wantUDP6},
		{name: "null inet6 30", link: LinkTypeNull, frame: cat([]byte{30, 0, 0, 0}, udp6), want: wantUDP6},
		{name: "null unknown family", link: LinkTypeNull, frame: cat([]byte{7, 0, 0, 0}, udp4), err: ErrNotIP},
		{name: "loop network order inet6", link: LinkTypeLoop, frame: cat([]byte{0, 0, 0, 24}, udp6), want: wantUDP6},
		{name: "loop network order inet", link: LinkTypeLoop, frame: cat([]byte{0, 0, 0, 2}, tcp4), want: wantTCP4},
		{name: "raw 101 v4", link: LinkTypeRaw, frame: udp4, want: wantUDP4},
		{name: "raw 101 v6", link: LinkTypeRaw, frame: udp6, want: wantUDP6},
		{name: "raw 12", link: LinkTypeRawOld, frame: tcp4, want: wantTCP4},
		{name: "raw 14", link: LinkTypeRawOpenBSD, frame: udp6, want: wantUDP6},
		{name: "raw bad version", link: LinkTypeRaw, frame: cat([]byte{0x50}, udp4[1:]), err: ErrMalformed, msg: "version 5"},
		{name: "ipv4 link", link: LinkTypeIPv4, frame: udp4, want: wantUDP4},
		{name: "ipv4 link given v6", link: LinkTypeIPv4, frame: udp6, err: ErrMalformed, msg: "version 6, want 4"},
		{name: "ipv6 link", link: LinkTypeIPv6, frame: udp6, want: wantUDP6},
		{name: "sll ipv4", link: LinkTypeLinuxSLL, frame: sll(0x0800, 6, udp4), want: wantUDP4},
		{name: "sll oversized address length", link: LinkTypeLinuxSLL, frame: sll(0x0800, 40, tcp4), want: wantTCP4},
		{name: "sll ipv6", link: LinkTypeLinuxSLL, frame: sll(0x86dd, 6, udp6), want: wantUDP6},
		{name: "sll vlan", link: LinkTypeLinuxSLL, frame: sll(0x8100, 6, cat(vlanTag(12, 0x0800), udp4)), want: vlan(wantUDP4, 12)},
		{name: "sll 802.2", link: LinkTypeLinuxSLL, frame: sll(0x0004, 6, udp4), err: ErrNotIP},
		{name: "sll2 ipv4", link: LinkTypeLinuxSLL2, frame: sll2(0x0800, tcp4), want: wantTCP4},
		{name: "sll2 ipv6", link: LinkTypeLinuxSLL2, frame: sll2(0x86dd, udp6), want: wantUDP6},
		{name: "sll2 arp", link: LinkTypeLinuxSLL2, frame: sll2(0x0806, make([]byte, 28)), err: ErrNotIP},
		{name: "unknown link type", link: 147, frame: udp4, err: ErrLinkType, msg: "link type 147"},

		// VLAN stacks: the outermost id is reported, PCP/DEI bits dropped.
		{name: "802.1q", link: LinkTypeEthernet, frame: eth(0x8100, cat(vlanTag(0xe064, 0x0800), udp4)), want: vlan(wantUDP4, 100)},
		{name: "802.1ad + 802.1q", link: LinkTypeEthernet, frame: eth(0x88a8, cat(vlanTag(200, 0x8100), vlanTag(300, 0x86dd), udp6)), want: vlan(wantUDP6, 200)},
		{name: "legacy 0x9100 q-in-q-in-q", link: LinkTypeEthernet, frame: eth(0x9100, cat(vlanTag(1, 0x8100), vlanTag(2, 0x8100), vlanTag(3, 0x0800), tcp4)), want: vlan(wantTCP4, 1)},
		{name: "vlan id 0", link: LinkTypeEthernet, frame: eth(0x8100, cat(vlanTag(0x2000, 0x0800), udp4)), want: wantUDP4},
		{name: "eight tags is the bound", link: LinkTypeEthernet, frame: eth(0x8100, cat(
			vlanTag(1, 0x8100), vlanTag(2, 0x8100), vlanTag(3, 0x8100), vlanTag(4, 0x8100),
			vlanTag(5, 0x8100), vlanTag(6, 0x8100), vlanTag(7, 0x8100), vlanTag(8, 0x0800), udp4)), want: vlan(wantUDP4, 1)},
		{name: "nine tags", link: LinkTypeEthernet, frame: eth(0x8100, cat(
			vlanTag(1, 0x8100), vlanTag(2, 0x8100), vlanTag(3, 0x8100), vlanTag(4, 0x8100),
			vlanTag(5, 0x8100), vlanTag(6, 0x8100), vlanTag(7, 0x8100), vlanTag(8, 0x8100), vlanTag(9, 0x0800), udp4)),
			err: ErrMalformed, msg: "more than 8"},
		{name: "vlan tag cut", link: LinkTypeEthernet, frame: eth(0x8100, []byte{0, 1}), err: decode.ErrTruncated, msg: "2 captured bytes, tag needs 4"},
		{name: "vlan then arp", link: LinkTypeEthernet, frame: eth(0x8100, cat(vlanTag(5, 0x0806), make([]byte, 28))), err: ErrNotIP},

		// MPLS.
		{name: "mpls one label", link: LinkTypeEthernet, frame: eth(0x8847, cat(mplsLabel(100, true), udp4)), want: wantUDP4},
		{name: "mpls three labels v6", link: LinkTypeEthernet, frame: eth(0x8847, cat(mplsLabel(1, false), mplsLabel(2, false), mplsLabel(3, true), udp6)), want: wantUDP6},
		{name: "vlan mpls multicast", link: LinkTypeEthernet, frame: eth(0x8100, cat(vlanTag(7, 0x8848), mplsLabel(1, true), tcp4)), want: vlan(wantTCP4, 7)},
		{name: "mpls pseudowire", link: LinkTypeEthernet, frame: eth(0x8847, cat(mplsLabel(1, true), []byte{0, 0, 0, 0}, eth(0x0800, udp4))), err: ErrNotIP},
		{name: "mpls no bottom", link: LinkTypeEthernet, frame: eth(0x8847, cat(mplsLabel(1, false), mplsLabel(2, false))), err: decode.ErrTruncated, msg: "label 3: 0 captured bytes"},
		{name: "mpls endless stack", link: LinkTypeEthernet, frame: eth(0x8847, cat(make([]byte, 4*17), udp4)), err: ErrMalformed, msg: "within 16 labels"},
		{name: "mpls empty payload", link: LinkTypeEthernet, frame: eth(0x8847, mplsLabel(1, true)), err: decode.ErrTruncated},

		// PPPoE and LLC/SNAP.
		{name: "pppoe ipv4", link: LinkTypeEthernet, frame: eth(0x8864, pppoe(be16(0x0021), udp4)), want: wantUDP4},
		{name: "pppoe ipv6", link: LinkTypeEthernet, frame: eth(0x8864, pppoe(be16(0x0057), udp6)), want: wantUDP6},
		{name: "pppoe compressed protocol", link: LinkTypeEthernet, frame: eth(0x8864, pppoe([]byte{0x21}, tcp4)), want: wantTCP4},
		{name: "pppoe lcp", link: LinkTypeEthernet, frame: eth(0x8864, pppoe(be16(0xc021), make([]byte, 10))), err: ErrNotIP},
		{name: "pppoe discovery", link: LinkTypeEthernet, frame: eth(0x8863, make([]byte, 20)), err: ErrNotIP},
		{name: "pppoe cut", link: LinkTypeEthernet, frame: eth(0x8864, []byte{0x11, 0, 0, 1}), err: decode.ErrTruncated},
		{name: "802.3 snap ipv4", link: LinkTypeEthernet, frame: eth(uint16(8+len(udp4)), cat([]byte{0xaa, 0xaa, 3, 0, 0, 0}, be16(0x0800), udp4)), want: wantUDP4},
		{name: "802.3 stp", link: LinkTypeEthernet, frame: eth(38, cat([]byte{0x42, 0x42, 3}, make([]byte, 35))), err: ErrNotIP},

		// IPv4 header checks.
		{name: "ipv4 options", link: LinkTypeIPv4, frame: cat(ipv4Hdr(17, 20+8+8+2, 0, 1, 0x10, []byte{1, 1, 1, 0, 0x94, 4, 0, 0}), udp(1, 2, []byte("hi"))),
			want: expect{info: v4info(17, 1, 2, 38), l4Len: 10, payload: "hi"}},
		{name: "ipv4 snaplen cut keeps header length", link: LinkTypeIPv4, frame: cat(ipv4Hdr(6, 1500, 0x4000, 1, 0x10, nil), tcp(80, 1234, 9, 0x10, []byte("abcdef"))),
			want: expect{info: with(v4info(6, 80, 1234, 1500), func(i *Info) { i.TCPFlags = 0x10; i.TCPSeq = 9 }), l4Len: 26, payload: "abcdef"}},
		{name: "ipv4 short header", link: LinkTypeEthernet, frame: eth(0x0800, udp4[:19]), err: decode.ErrTruncated, msg: "19 captured bytes, header needs 20"},
		{name: "ipv4 ihl 4", link: LinkTypeIPv4, frame: cat([]byte{0x44}, udp4[1:]), err: ErrMalformed, msg: "header length 16 below the minimum 20"},
		{name: "ipv4 ihl beyond capture", link: LinkTypeIPv4, frame: cat([]byte{0x4f}, udp4[1:]), err: decode.ErrTruncated, msg: "header length 60 exceeds the 33 captured bytes"},
		{name: "ipv4 total below ihl", link: LinkTypeIPv4, frame: cat(ipv4Hdr(17, 19, 0, 1, 0, nil), udp(1, 2, nil)), err: ErrMalformed, msg: "total length 19 below the header length 20"},
		{name: "ipv4 total zero", link: LinkTypeIPv4, frame: cat(ipv4Hdr(17, 0, 0, 1, 0, nil), udp(1, 2, nil)), err: ErrMalformed, msg: "total length 0"},
		{name: "ipv4 header only", link: LinkTypeIPv4, frame: ipv4Hdr(6, 20, 0, 1, 0x10, nil), want: expect{info: v4info(6, 0, 0, 20)}},

		// Transport cut short or odd: still an IP packet.
		{name: "tcp 3 bytes", link: LinkTypeIPv4, frame: cat(ipv4Hdr(6, 60, 0, 1, 0x10, nil), []byte{1, 2, 3}), want: expect{info: v4info(6, 0, 0, 60), l4Len: 3}},
		{name: "tcp ports only", link: LinkTypeIPv4, frame: cat(ipv4Hdr(6, 60, 0, 1, 0x10, nil), be16(1), be16(2), be16(0)), want: expect{info: v4info(6, 1, 2, 60), l4Len: 6}},
		{name: "tcp 14 bytes has flags", link: LinkTypeIPv4, frame: cat(ipv4Hdr(6, 60, 0, 1, 0x10, nil), tcp(1, 2, 3, 0x02, nil)[:14]),
			want: expect{info: with(v4info(6, 1, 2, 60), func(i *Info) { i.TCPFlags = 2; i.TCPSeq = 3 }), l4Len: 14}},
		{name: "tcp data offset beyond capture", link: LinkTypeIPv4, frame: cat(ipv4Hdr(6, 40, 0, 1, 0x10, nil), func() []byte { b := tcp(1, 2, 3, 0x11, nil); b[12] = 0xf0; return b }()),
			want: expect{info: with(v4info(6, 1, 2, 40), func(i *Info) { i.TCPFlags = 0x11; i.TCPSeq = 3 }), l4Len: 20}},
		{name: "tcp data offset 4", link: LinkTypeIPv4, frame: cat(ipv4Hdr(6, 40, 0, 1, 0x10, nil), func() []byte { b := tcp(1, 2, 3, 0x04, nil); b[12] = 0x40; return b }()),
			want: expect{info: with(v4info(6, 1, 2, 40), func(i *Info) { i.TCPFlags = 0x04; i.TCPSeq = 3 }), l4Len: 20}},
		{name: "udp 5 bytes", link: LinkTypeIPv4, frame: cat(ipv4Hdr(17, 25, 0, 1, 0x10, nil), udp(7, 8, nil)[:5]), want: expect{info: v4info(17, 7, 8, 25), l4Len: 5}},
		{name: "udp length trims payload", link: LinkTypeIPv4, frame: ipv4(17, func() []byte { b := udp(7, 8, []byte("abcdef")); b[5] = 10; return b }()),
			want: expect{info: v4info(17, 7, 8, 34), l4Len: 14, payload: "ab"}},
		{name: "udp length too small ignored", link: LinkTypeIPv4, frame: ipv4(17, func() []byte { b := udp(7, 8, []byte("abc")); b[5] = 3; return b }()),
			want: expect{info: v4info(17, 7, 8, 31), l4Len: 11, payload: "abc"}},
		{name: "icmp echo request", link: LinkTypeIPv4, frame: ipv4(1, icmp(8, 0)), want: expect{info: v4info(1, 0, 0x0800, 28), l4Len: 8}},
		{name: "icmp port unreachable", link: LinkTypeIPv4, frame: ipv4(1, icmp(3, 3)), want: expect{info: v4info(1, 0, 0x0303, 28), l4Len: 8}},
		{name: "icmp 1 byte", link: LinkTypeIPv4, frame: cat(ipv4Hdr(1, 28, 0, 1, 0x10, nil), []byte{8}), want: expect{info: v4info(1, 0, 0, 28), l4Len: 1}},
		{name: "icmpv6 echo reply", link: LinkTypeIPv6, frame: ipv6(58, icmp(129, 0)), want: expect{info: v6info(58, 0, 129*256, 48), l4Len: 8}},
		{name: "gre not descended", link: LinkTypeIPv4, frame: ipv4(47, cat([]byte{0, 0, 8, 0}, udp4)), want: expect{info: v4info(47, 0, 0, 57), l4Len: 37}},
		{name: "ip in ip outermost only", link: LinkTypeIPv4, frame: ipv4(4, udp4), want: expect{info: v4info(4, 0, 0, 53), l4Len: 33}},

		// IPv4 fragments.
		{name: "ipv4 first fragment", link: LinkTypeIPv4, frame: cat(ipv4Hdr(17, 20+16, 0x2000, 77, 0x10, nil), udp(9, 53, []byte("12345678"))[:16]),
			want: expect{info: with(v4info(17, 9, 53, 36), func(i *Info) { i.Fragment, i.MoreFrags, i.FragID = true, true, 77 }), l4Len: 16, payload: "12345678", fragDataLen: 16}},
		{name: "ipv4 middle fragment", link: LinkTypeIPv4, frame: cat(ipv4Hdr(17, 20+16, 0x2000|3, 77, 0x10, nil), []byte("0123456789abcdef")),
			want: expect{info: with(v4info(17, 0, 0, 36), func(i *Info) { i.Fragment, i.MoreFrags, i.FragID, i.FragOffset = true, true, 77, 24 }), l4Len: 16, fragDataLen: 16}},
		{name: "ipv4 last fragment", link: LinkTypeIPv4, frame: cat(ipv4Hdr(6, 20+5, 0x1fff, 78, 0x10, nil), []byte("01234")),
			want: expect{info: with(v4info(6, 0, 0, 25), func(i *Info) { i.Fragment, i.FragID, i.FragOffset = true, 78, 0xfff8 }), l4Len: 5, fragDataLen: 5}},
		{name: "ipv4 DF is not a fragment", link: LinkTypeIPv4, frame: udp4, want: wantUDP4},

		// IPv6 extension headers.
		{name: "hop-by-hop icmpv6", link: LinkTypeIPv6, frame: ipv6(0, cat(ext(58, 0), icmp(143, 0))),
			want: expect{info: v6info(58, 0, 143*256, 56), l4Len: 8}},
		{name: "hop routing dest tcp", link: LinkTypeIPv6, frame: ipv6(0, cat(ext(43, 0), ext(60, 2), ext(6, 1), tcp(22, 5000, 1, 0x12, nil))),
			want: expect{info: with(v6info(6, 22, 5000, 40+8+24+16+20), func(i *Info) { i.TCPFlags, i.TCPSeq = 0x12, 1 }), l4Len: 20, payload: ""}},
		{name: "ah then udp", link: LinkTypeIPv6, frame: ipv6(51, cat(ah(17, 4), udp(500, 500, []byte("ike")))),
			want: expect{info: v6info(17, 500, 500, 40+24+11), l4Len: 11, payload: "ike"}},
		{name: "esp stops", link: LinkTypeIPv6, frame: ipv6(0, cat(ext(50, 0), []byte("spi-and-ciphertext"))),
			want: expect{info: v6info(50, 0, 0, 40+8+18), l4Len: 18}},
		{name: "no next header", link: LinkTypeIPv6, frame: ipv6(59, nil), want: expect{info: v6info(59, 0, 0, 40)}},
		{name: "mobility header", link: LinkTypeIPv6, frame: ipv6(135, cat(ext(59, 1))), want: expect{info: v6info(59, 0, 0, 56)}},
		{name: "truncated hop-by-hop", link: LinkTypeIPv6, frame: ipv6(0, []byte{17}), want: expect{info: v6info(0, 0, 0, 41)}},
		{name: "hop-by-hop longer than packet", link: LinkTypeIPv6, frame: ipv6(0, cat(ext(17, 0)[:2], []byte{0xff, 0xff}, make([]byte, 4), udp(1, 2, nil))),
			want: expect{info: v6info(17, 1, 2, 56), l4Len: 8, payload: ""}},
		{name: "ext header length beyond capture", link: LinkTypeIPv6, frame: ipv6(60, []byte{17, 3, 0, 0, 0, 0, 0, 0}), want: expect{info: v6info(60, 0, 0, 48)}},
		{name: "endless ext chain", link: LinkTypeIPv6, frame: ipv6(60, func() []byte {
			var b []byte
			for range 20 {
				b = append(b, ext(60, 0)...)
			}
			return append(b, udp(1, 2, nil)...)
		}()), want: expect{info: v6info(60, 0, 0, 40+160+8)}},
		{name: "plen beyond capture", link: LinkTypeIPv6, frame: func() []byte { b := ipv6(17, udp(1, 2, []byte("x"))); b[4], b[5] = 5, 0xdc; return b }(),
			want: expect{info: v6info(17, 1, 2, 1540), l4Len: 9, payload: "x"}},
		{name: "plen zero jumbo", link: LinkTypeIPv6, frame: func() []byte { b := ipv6(17, udp(1, 2, []byte("x"))); b[4], b[5] = 0, 0; return b }(),
			want: expect{info: v6info(17, 1, 2, 40), l4Len: 9, payload: "x"}},
		{name: "ipv6 short", link: LinkTypeEthernet, frame: eth(0x86dd, udp6[:39]), err: decode.ErrTruncated, msg: "39 captured bytes, header needs 40"},
		{name: "ipv6 wrong version", link: LinkTypeEthernet, frame: eth(0x86dd, ipv4(17, udp(1, 2, make([]byte, 20)))), err: ErrMalformed, msg: "version 4, want 6"},

		// IPv6 fragments.
		{name: "v6 first fragment", link: LinkTypeIPv6, frame: ipv6(44, cat(frag6(17, 0, true, 0xdeadbeef), udp(53, 3333, []byte("answer")))),
			want: expect{info: with(v6info(17, 53, 3333, 40+8+14), func(i *Info) { i.Fragment, i.MoreFrags, i.FragID = true, true, 0xdeadbeef }), l4Len: 14, payload: "answer", fragDataLen: 14}},
		{name: "v6 last fragment", link: LinkTypeIPv6, frame: ipv6(0, cat(ext(44, 0), frag6(17, 1448, false, 9), []byte("tail"))),
			want: expect{info: with(v6info(17, 0, 0, 40+8+8+4), func(i *Info) { i.Fragment, i.FragOffset, i.FragID = true, 1448, 9 }), l4Len: 4, fragDataLen: 4}},
		{name: "v6 atomic fragment", link: LinkTypeIPv6, frame: ipv6(44, cat(frag6(6, 0, false, 1), tcp(1, 2, 3, 0x02, nil))),
			want: expect{info: with(v6info(6, 1, 2, 40+8+20), func(i *Info) { i.Fragment, i.FragID, i.TCPFlags, i.TCPSeq = true, 1, 2, 3 }), l4Len: 20, payload: "", fragDataLen: 20}},
		{name: "v6 first fragment then dest opts", link: LinkTypeIPv6, frame: ipv6(44, cat(frag6(60, 0, true, 5), ext(17, 0), udp(1, 2, nil))),
			want: expect{info: with(v6info(17, 1, 2, 40+8+8+8), func(i *Info) { i.Fragment, i.MoreFrags, i.FragID = true, true, 5 }), l4Len: 8, payload: "", fragDataLen: 16}},
		{name: "v6 second fragment header", link: LinkTypeIPv6, frame: ipv6(44, cat(frag6(44, 0, false, 5), frag6(17, 0, false, 6), udp(1, 2, nil))),
			want: expect{info: with(v6info(44, 0, 0, 40+8+8+8), func(i *Info) { i.Fragment, i.FragID = true, 5 }), fragDataLen: 16}},
		{name: "v6 fragment header cut", link: LinkTypeIPv6, frame: ipv6(44, []byte{17, 0, 0, 8}), want: expect{info: v6info(44, 0, 0, 44)}},

		// Frames that are not IP, or too short for their link header.
		{name: "arp", link: LinkTypeEthernet, frame: eth(0x0806, make([]byte, 28)), err: ErrNotIP},
		{name: "lldp", link: LinkTypeEthernet, frame: eth(0x88cc, make([]byte, 30)), err: ErrNotIP},
		{name: "ethernet 13 bytes", link: LinkTypeEthernet, frame: make([]byte, 13), err: decode.ErrTruncated, msg: "13 captured bytes, header needs 14"},
		{name: "empty ethernet", link: LinkTypeEthernet, frame: nil, err: decode.ErrTruncated},
		{name: "null 3 bytes", link: LinkTypeNull, frame: []byte{2, 0, 0}, err: decode.ErrTruncated},
		{name: "sll 15 bytes", link: LinkTypeLinuxSLL, frame: make([]byte, 15), err: decode.ErrTruncated, msg: "header needs 16"},
		{name: "sll2 19 bytes", link: LinkTypeLinuxSLL2, frame: make([]byte, 19), err: decode.ErrTruncated, msg: "header needs 20"},
		{name: "raw empty", link: LinkTypeRaw, frame: nil, err: decode.ErrTruncated},
	}
	var d Decoder
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info := Info{SrcPort: 99, L4: []byte("stale")} // must be reset
			err := d.Decode(tc.link, tc.frame, &info)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				if !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("err = %q, want it to contain %q", err, tc.msg)
				}
				if !reflect.DeepEqual(info, Info{}) {
					t.Fatalf("info not reset on error: %+v", info)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if got := strip(info); !reflect.DeepEqual(got, tc.want.info) {
				t.Fatalf("info mismatch\n got  %+v\n want %+v", got, tc.want.info)
			}
			if len(info.L4) != tc.want.l4Len {
				t.Errorf("len(L4) = %d, want %d", len(info.L4), tc.want.l4Len)
			}
			if string(info.Payload) != tc.want.payload {
				t.Errorf("Payload = %q, want %q", info.Payload, tc.want.payload)
			}
			if len(info.FragData) != tc.want.fragDataLen {
				t.Errorf("len(FragData) = %d, want %d", len(info.FragData), tc.want.fragDataLen)
			}
			checkWithin(t, tc.frame, info)
		})
	}
}

// checkWithin asserts that the slices of info alias frame, in order
// (Payload inside L4), so nothing was copied or read out of bounds.
func checkWithin(t testing.TB, frame []byte, info Info) {
	t.Helper()
	in := func(name string, outer, inner []byte) {
		if inner == nil {
			return
		}
		if len(outer) == 0 && len(inner) == 0 {
			return
		}
		if len(inner) > len(outer) {
			t.Fatalf("%s longer than its container (%d > %d)", name, len(inner), len(outer))
		}
		// Find inner's start inside outer by capacity arithmetic.
		off := cap(outer) - cap(inner)
		if off < 0 || off+len(inner) > len(outer) {
			t.Fatalf("%s (offset %d, len %d) outside its container of %d bytes", name, off, len(inner), len(outer))
		}
		if len(inner) > 0 && &outer[off] != &inner[0] {
			t.Fatalf("%s does not alias its container", name)
		}
	}
	in("L4", frame, info.L4)
	in("FragData", frame, info.FragData)
	in("Payload", info.L4, info.Payload)
}

func TestDecodeNoAllocs(t *testing.T) {
	frames := []struct {
		link  uint16
		frame []byte
	}{
		{LinkTypeEthernet, eth(0x8100, cat(vlanTag(3, 0x0800), ipv4(6, tcp(1, 2, 3, 0x18, []byte("data")))))},
		{LinkTypeEthernet, eth(0x8847, cat(mplsLabel(1, true), ipv6(0, cat(ext(17, 0), udp(1, 53, []byte("q"))))))},
		{LinkTypeLinuxSLL2, sll2(0x86dd, ipv6(44, cat(frag6(17, 8, true, 1), []byte("12345678"))))},
		{LinkTypeEthernet, eth(0x0806, make([]byte, 28))}, // ErrNotIP is a sentinel
	}
	var d Decoder
	var info Info
	for i, f := range frames {
		n := testing.AllocsPerRun(100, func() { _ = d.Decode(f.link, f.frame, &info) })
		if n != 0 {
			t.Errorf("frame %d: %v allocations per Decode, want 0", i, n)
		}
	}
}

func TestSupported(t *testing.T) {
	for _, lt := range []uint16{0, 1, 12, 14, 101, 108, 113, 228, 229, 276} {
		if !Supported(lt) {
			t.Errorf("Supported(%d) = false", lt)
		}
	}
	for _, lt := range []uint16{9, 105, 127, 147, 1000} {
		if Supported(lt) {
			t.Errorf("Supported(%d) = true", lt)
		}
	}
}
