package packet

import (
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/spotctl/spotctl/decode/decodetest"
)

// craftedMix is a synthetic traffic mix that needs no shared data:
// mostly IPv4 TCP, some UDP, IPv6, a VLAN tag and a non-IP frame.
func craftedMix() []frame {
	payload := make([]byte, 512)
	return []frame{
		{LinkTypeEthernet, eth(0x0800, ipv4(6, tcp(40000, 443, 1, 0x18, payload)))},
		{LinkTypeEthernet, eth(0x0800, ipv4(6, tcp(443, 40000, 1, 0x10, nil)))},
		{LinkTypeEthernet, eth(0x0800, ipv4(6, tcp(40001, 80, 1, 0x02, nil)))},
		{LinkTypeEthernet, eth(0x0800, ipv4(17, udp(5353, 53, payload[:40])))},
		{LinkTypeEthernet, eth(0x86dd, ipv6(6, tcp(40000, 443, 1, 0x18, payload[:200])))},
		{LinkTypeEthernet, eth(0x8100, cat(vlanTag(10, 0x0800), ipv4(17, udp(123, 123, payload[:48]))))},
		{LinkTypeEthernet, eth(0x0800, ipv4(1, icmp(8, 0)))},
		{LinkTypeEthernet, eth(0x0806, make([]byte, 28))},
	}
}

func sharedFrames(b *testing.B) []frame {
	var out []frame
	for _, p := range append(decodetest.SharedFiles(b, "pcap"), decodetest.SharedFiles(b, "generated/inputs")...) {
		out = append(out, readCapture(b, p)...)
	}
	return out
}

func benchDecode(b *testing.B, frames []frame) {
	var d Decoder
	var info Info
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		f := frames[n]
		_ = d.Decode(f.link, f.data, &info)
		if n++; n == len(frames) {
			n = 0
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}

// BenchmarkDecode measures frames/s over the crafted mix and over every
// frame of the shared captures (all link types, as they come).
func BenchmarkDecode(b *testing.B) {
	b.Run("crafted", func(b *testing.B) { benchDecode(b, craftedMix()) })
	b.Run("shared", func(b *testing.B) { benchDecode(b, sharedFrames(b)) })
}

// BenchmarkEthernetVsDLP compares Decode with gopacket's
// DecodingLayerParser (preallocated layers, the fastest gopacket path) on
// the Ethernet frames of the shared captures.
func BenchmarkEthernetVsDLP(b *testing.B) {
	var eth []frame
	for _, f := range sharedFrames(b) {
		if f.link == LinkTypeEthernet {
			eth = append(eth, f)
		}
	}
	b.Run("packet", func(b *testing.B) { benchDecode(b, eth) })
	b.Run("gopacket-dlp", func(b *testing.B) {
		var (
			e    layers.Ethernet
			q    layers.Dot1Q
			ip4  layers.IPv4
			ip6  layers.IPv6
			tcp  layers.TCP
			udp  layers.UDP
			icmp layers.ICMPv4
			pl   gopacket.Payload
		)
		p := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &e, &q, &ip4, &ip6, &tcp, &udp, &icmp, &pl)
		p.IgnoreUnsupported = true
		decoded := make([]gopacket.LayerType, 0, 8)
		b.ReportAllocs()
		b.ResetTimer()
		n := 0
		for b.Loop() {
			_ = p.DecodeLayers(eth[n].data, &decoded)
			if n++; n == len(eth) {
				n = 0
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
	})
}
