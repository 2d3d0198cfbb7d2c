package packet

import (
	"errors"
	"reflect"
	"testing"

	"github.com/spotctl/spotctl/decode"
)

// fuzzLinks maps the fuzzer's first byte to a link type, so every link
// type gets explored (plus one unsupported value).
var fuzzLinks = []uint16{
	LinkTypeEthernet, LinkTypeNull, LinkTypeLoop, LinkTypeRaw, LinkTypeRawOld, LinkTypeRawOpenBSD,
	LinkTypeIPv4, LinkTypeIPv6, LinkTypeLinuxSLL, LinkTypeLinuxSLL2, 147,
}

func linkIndex(lt uint16) uint8 {
	for i, l := range fuzzLinks {
		if l == lt {
			return uint8(i)
		}
	}
	panic("link type not in fuzzLinks")
}

// FuzzDecode checks that no input panics, that errors fall in the
// documented classes, that every slice aliases the frame, that results are
// deterministic and that the fields obey their documented invariants. The
// committed corpus in testdata/fuzz/FuzzDecode holds real frames of every
// link type and encapsulation found in the shared captures.
func FuzzDecode(f *testing.F) {
	udp4 := ipv4(17, udp(5353, 53, []byte("hello")))
	for _, s := range []struct {
		lt    uint16
		frame []byte
	}{
		{LinkTypeEthernet, eth(0x88a8, cat(vlanTag(200, 0x8100), vlanTag(300, 0x8847), mplsLabel(1, true), udp4))},
		{LinkTypeEthernet, eth(0x8864, pppoe(be16(0x0057), ipv6(0, cat(ext(43, 0), ext(44, 0)[:8], frag6(17, 0, true, 7), udp(1, 2, nil)))))},
		{LinkTypeEthernet, eth(uint16(8+len(udp4)), cat([]byte{0xaa, 0xaa, 3, 0, 0, 0}, be16(0x0800), udp4))},
		{LinkTypeNull, cat([]byte{30, 0, 0, 0}, ipv6(51, cat(ah(6, 1), tcp(1, 2, 3, 0x3f, []byte("x")))))},
		{LinkTypeLoop, cat([]byte{0, 0, 0, 2}, ipv4(1, icmp(3, 3)))},
		{LinkTypeRaw, cat(ipv4Hdr(17, 36, 0x2001, 5, 0, []byte{1, 1, 1, 0}), []byte("fragment"))},
		{LinkTypeIPv6, ipv6(44, cat(frag6(17, 8, false, 9), []byte("tail")))},
		{LinkTypeLinuxSLL, sll(0x8100, 40, cat(vlanTag(12, 0x0800), udp4))},
		{LinkTypeLinuxSLL2, sll2(0x86dd, ipv6(58, icmp(128, 0)))},
		{147, udp4},
	} {
		f.Add(linkIndex(s.lt), s.frame)
	}
	f.Fuzz(func(t *testing.T, li uint8, frame []byte) {
		lt := fuzzLinks[int(li)%len(fuzzLinks)]
		var d Decoder
		var info, again Info
		err := d.Decode(lt, frame, &info)
		err2 := d.Decode(lt, frame, &again)
		if (err == nil) != (err2 == nil) || !reflect.DeepEqual(info, again) {
			t.Fatalf("not deterministic: %v / %v", err, err2)
		}
		if err != nil {
			switch {
			case errors.Is(err, ErrNotIP), errors.Is(err, ErrMalformed), errors.Is(err, decode.ErrTruncated), errors.Is(err, ErrLinkType):
			default:
				t.Fatalf("error outside the documented classes: %v", err)
			}
			if !reflect.DeepEqual(info, Info{}) {
				t.Fatalf("info not zero after error %v: %+v", err, info)
			}
			return
		}
		checkWithin(t, frame, info)
		if info.IPv6 {
			if info.IPLen < 40 {
				t.Fatalf("IPv6 IPLen %d < 40", info.IPLen)
			}
		} else {
			if info.IPLen < 20 || !info.Src.Is4() || !info.Dst.Is4() {
				t.Fatalf("IPv4 IPLen %d, src %v, dst %v", info.IPLen, info.Src, info.Dst)
			}
			if int(info.IPLen) < len(info.L4)+20 {
				t.Fatalf("IPv4 L4 of %d bytes exceeds total length %d", len(info.L4), info.IPLen)
			}
		}
		if info.Fragment && info.FragOffset != 0 && info.SrcPort|info.DstPort != 0 {
			t.Fatalf("non-first fragment with ports %d/%d", info.SrcPort, info.DstPort)
		}
		if !info.Fragment && (info.FragData != nil || info.FragOffset != 0 || info.MoreFrags) {
			t.Fatalf("fragment fields set on a whole packet: %+v", info)
		}
		if info.Payload != nil && info.Proto != 6 && info.Proto != 17 {
			t.Fatalf("payload for protocol %d", info.Proto)
		}
	})
}
