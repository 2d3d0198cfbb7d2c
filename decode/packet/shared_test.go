package packet

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/spotctl/spotctl/decode/decodetest"
	"github.com/spotctl/spotctl/decode/flow"
)

type frame struct {
	link uint16
	data []byte
}

// readCapture reads every frame of a pcap or pcapng file with gopacket's
// pure-Go readers (chosen by the magic number, not the extension).
func readCapture(tb testing.TB, path string) []frame {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	var out []frame
	if bytes.HasPrefix(raw, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		r, err := pcapgo.NewNgReader(bytes.NewReader(raw), pcapgo.DefaultNgReaderOptions)
		if err != nil {
			tb.Fatalf("pcapng %s: %v", path, err)
		}
		for {
			data, ci, err := r.ReadPacketData()
			if err == io.EOF {
				return out
			}
			if err != nil {
				tb.Fatalf("pcapng %s: frame %d: %v", path, len(out)+1, err)
			}
			iface, err := r.Interface(ci.InterfaceIndex)
			if err != nil {
				tb.Fatalf("pcapng %s: %v", path, err)
			}
			out = append(out, frame{uint16(iface.LinkType), data})
		}
	}
	r, err := pcapgo.NewReader(bytes.NewReader(raw))
	if err != nil {
		tb.Fatalf("pcap %s: %v", path, err)
	}
	for {
		data, _, err := r.ReadPacketData()
		if err == io.EOF {
			return out
		}
		if err != nil {
			tb.Fatalf("pcap %s: frame %d: %v", path, len(out)+1, err)
		}
		out = append(out, frame{uint16(r.LinkType()), data})
	}
}

// tsharkTotals are the IP packet counts and NetFlow byte sums (ip.len, or
// ipv6.plen+40, of the outermost IP header) that tshark 4.0.17 reports for
// every shared capture, computed with
//
//	tshark -r F -T fields -e frame.protocols -e ip.len -e ipv6.plen -E occurrence=f
//
// taking the first of ip/ipv6 in frame.protocols. They agree with the
// reference column of generated/README.md where that table has the file.
var tsharkTotals = map[string]struct{ frames, ip, bytes int }{
	"arkime_dns-udp.pcap":                      {5, 5, 682},
	"arkime_twovlan.pcap":                      {6, 6, 4785},
	"arkime_v6.pcap":                           {161, 161, 23397},
	"gopacket_linux_sll_oversized_addr.pcapng": {209, 209, 90980},
	"gopacket_test_dns.pcap":                   {10, 10, 677},
	"gopacket_test_ethernet.pcap":              {10, 10, 986},
	"gopacket_test_loopback.pcap":              {24, 24, 58083},
	"ndpi_android.pcap":                        {500, 475, 125304},
	"ndpi_dns-google-nsid.pcapng":              {14, 14, 1974},
	"ndpi_dns.pcap":                            {5, 5, 434},
	"ndpi_iphone.pcap":                         {500, 486, 214148},
	"tcpdump_802.1ad_QinQ.pcap":                {2, 0, 0},
	"tcpdump_LINKTYPE_RAW_ipv6.pcap":           {1, 1, 77},
	"tcpdump_OSPFv2_Capture_FINAL.pcapng":      {30, 30, 4824},
	"tcpdump_dns_tcp.pcap":                     {11, 11, 748},
	"tcpdump_dns_udp.pcap":                     {2, 2, 336},
	"zeek_communityid_ipv6.pcap":               {17, 17, 1294},
	"zeek_dns53.pcap":                          {1, 1, 461},
	"zeek_http-vlan-0.pcap":                    {14, 14, 5891},
	"zeek_http_bro.org.pcap":                   {751, 751, 483623},
	"zeek_icmp_dot1q.pcap":                     {15, 9, 900},
	"zeek_ipv6-fragmented-dns.pcap":            {8, 8, 4508},
	"zeek_pcapng-multi-interface.pcapng":       {6, 6, 714},
	"zeek_var-services-std-ports.pcap":         {263, 259, 45779},
	"zeek_vlan-pcp-dei.pcapng":                 {9, 9, 360},
	"zeek_vlan-qinqinq.pcap":                   {14, 14, 5891},
	"zeek_wikipedia.pcap":                      {136, 126, 22896},
	// generated/inputs: the team's own loopback capture (README reference).
	"spotctl_loopback.pcap": {2560, 2560, 1744788},
}

// TestSharedCapturesMatchTshark decodes every frame of every shared
// capture: no damaged-header errors, and IP packet count and byte sum equal
// tshark's.
func TestSharedCapturesMatchTshark(t *testing.T) {
	files := append(decodetest.SharedFiles(t, "pcap"), decodetest.SharedFiles(t, "generated/inputs")...)
	seen := 0
	for _, path := range files {
		name := filepath.Base(path)
		want, ok := tsharkTotals[name]
		if !ok {
			t.Errorf("%s: no tshark reference; add it to tsharkTotals", name)
			continue
		}
		seen++
		t.Run(name, func(t *testing.T) {
			var d Decoder
			var info Info
			ip, sum := 0, 0
			frames := readCapture(t, path)
			for i, f := range frames {
				err := d.Decode(f.link, f.data, &info)
				if errors.Is(err, ErrNotIP) {
					continue
				}
				if err != nil {
					t.Errorf("frame %d: %v", i+1, err)
					continue
				}
				checkWithin(t, f.data, info)
				ip++
				sum += int(info.IPLen)
			}
			if len(frames) != want.frames || ip != want.ip || sum != want.bytes {
				t.Errorf("frames %d, IP packets %d, bytes %d; tshark: %d, %d, %d",
					len(frames), ip, sum, want.frames, want.ip, want.bytes)
			}
		})
	}
	if seen != len(tsharkTotals) {
		t.Errorf("found %d of the %d reference captures", seen, len(tsharkTotals))
	}
}

// TestSharedCapturesMatchGopacket compares every field with gopacket's full
// decoder, frame by frame, wherever gopacket finds an IP layer.
func TestSharedCapturesMatchGopacket(t *testing.T) {
	compared := 0
	for _, path := range append(decodetest.SharedFiles(t, "pcap"), decodetest.SharedFiles(t, "generated/inputs")...) {
		frames := readCapture(t, path)
		var d Decoder
		for i, f := range frames {
			var info Info
			err := d.Decode(f.link, f.data, &info)
			want, ok := gopacketView(f)
			if !ok {
				continue
			}
			compared++
			if err != nil {
				t.Errorf("%s frame %d: gopacket finds IP, we get %v", filepath.Base(path), i+1, err)
				continue
			}
			if got := stripView(info); got != want {
				t.Errorf("%s frame %d:\n got  %+v\n want %+v", filepath.Base(path), i+1, got, want)
			}
		}
	}
	if compared < 5000 {
		t.Errorf("compared only %d frames", compared)
	}
}

// view is the comparable part of Info.
type view = struct {
	Src, Dst         flow.Addr
	Proto            uint8
	SrcPort, DstPort uint16
	IPLen            uint32
	TCPFlags, ToS    uint8
	VLAN             uint16
	IPv6, Fragment   bool
	FragOffset       uint16
	MoreFrags        bool
	FragID           uint32
	TCPSeq           uint32
}

func stripView(i Info) view {
	return view{i.Src, i.Dst, i.Proto, i.SrcPort, i.DstPort, i.IPLen, i.TCPFlags, i.ToS, i.VLAN,
		i.IPv6, i.Fragment, i.FragOffset, i.MoreFrags, i.FragID, i.TCPSeq}
}

// gopacketView derives the expected Info fields from gopacket's layers.
func gopacketView(f frame) (view, bool) {
	pkt := gopacket.NewPacket(f.data, layers.LinkType(f.link), gopacket.DecodeOptions{Lazy: false, NoCopy: true})
	var v view
	found, tagged := false, false
	for _, l := range pkt.Layers() {
		switch l := l.(type) {
		case *layers.Dot1Q:
			if !tagged && !found { // outermost tag only
				tagged = true
				v.VLAN = l.VLANIdentifier
			}
		case *layers.IPv4:
			if found {
				continue
			}
			found = true
			v.Src, v.Dst = flow.AddrFromSlice(l.SrcIP.To4()), flow.AddrFromSlice(l.DstIP.To4())
			v.Proto = uint8(l.Protocol)
			v.IPLen = uint32(l.Length)
			v.ToS = l.TOS
			if l.Flags&layers.IPv4MoreFragments != 0 || l.FragOffset != 0 {
				v.Fragment, v.MoreFrags, v.FragOffset, v.FragID = true, l.Flags&layers.IPv4MoreFragments != 0, l.FragOffset*8, uint32(l.Id)
			}
		case *layers.IPv6:
			if found {
				continue
			}
			found = true
			v.IPv6 = true
			v.Src, v.Dst = flow.AddrFromSlice(l.SrcIP), flow.AddrFromSlice(l.DstIP)
			v.Proto = uint8(l.NextHeader)
			v.IPLen = uint32(l.Length) + 40
			v.ToS = l.TrafficClass
		case *layers.IPv6HopByHop:
			v.Proto = uint8(l.NextHeader)
		case *layers.IPv6Destination:
			v.Proto = uint8(l.NextHeader)
		case *layers.IPv6Routing:
			v.Proto = uint8(l.NextHeader)
		case *layers.IPv6Fragment:
			v.Proto = uint8(l.NextHeader)
			v.Fragment, v.MoreFrags, v.FragOffset, v.FragID = true, l.MoreFragments, l.FragmentOffset*8, l.Identification
			// gopacket stops at any fragment header; a first fragment
			// still starts with the transport header, so decode it here.
			if l.FragmentOffset == 0 && l.NextHeader == layers.IPProtocolUDP {
				var u layers.UDP
				if u.DecodeFromBytes(l.Payload, gopacket.NilDecodeFeedback) == nil {
					v.SrcPort, v.DstPort = uint16(u.SrcPort), uint16(u.DstPort)
				}
			}
		case *layers.TCP:
			if v.SrcPort|v.DstPort == 0 && v.Proto == flow.ProtoTCP {
				v.SrcPort, v.DstPort = uint16(l.SrcPort), uint16(l.DstPort)
				v.TCPSeq = l.Seq
				v.TCPFlags = tcpFlags(l)
			}
		case *layers.UDP:
			if v.SrcPort|v.DstPort == 0 && v.Proto == flow.ProtoUDP {
				v.SrcPort, v.DstPort = uint16(l.SrcPort), uint16(l.DstPort)
			}
		case *layers.ICMPv4:
			if v.DstPort == 0 && v.Proto == flow.ProtoICMP {
				v.DstPort = uint16(l.TypeCode)
			}
		case *layers.ICMPv6:
			if v.DstPort == 0 && v.Proto == flow.ProtoICMPv6 {
				v.DstPort = uint16(l.TypeCode)
			}
		}
	}
	return v, found
}

func tcpFlags(l *layers.TCP) uint8 {
	var f uint8
	for i, b := range []bool{l.FIN, l.SYN, l.RST, l.PSH, l.ACK, l.URG, l.ECE, l.CWR} {
		if b {
			f |= 1 << i
		}
	}
	return f
}
