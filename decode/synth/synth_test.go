package synth

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// generate runs Write into memory.
func generate(tb testing.TB, o Options) ([]byte, Stats) {
	tb.Helper()
	var buf bytes.Buffer
	st, err := Write(&buf, o)
	if err != nil {
		tb.Fatalf("Write(%+v): %v", o, err)
	}
	return buf.Bytes(), st
}

// frame is one record read back with gopacket's pcap reader.
type frame struct {
	ts   time.Time
	data []byte
	wire int
}

func readBack(tb testing.TB, b []byte) []frame {
	tb.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(b))
	if err != nil {
		tb.Fatalf("pcapgo.NewReader: %v", err)
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		tb.Fatalf("link type %v, want Ethernet", r.LinkType())
	}
	if r.Snaplen() != 262144 {
		tb.Fatalf("snaplen %d, want 262144", r.Snaplen())
	}
	if r.Resolution() != gopacket.TimestampResolutionNanosecond {
		tb.Fatalf("resolution %v, want nanoseconds", r.Resolution())
	}
	var out []frame
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return out
		}
		if err != nil {
			tb.Fatalf("record %d: %v", len(out), err)
		}
		if ci.CaptureLength != ci.Length {
			tb.Fatalf("record %d: captured %d of %d bytes", len(out), ci.CaptureLength, ci.Length)
		}
		out = append(out, frame{ts: ci.Timestamp, data: data, wire: ci.Length})
	}
}

// busy is a start time in office hours, so short captures hold every kind
// of traffic.
var busy = DefaultStart.Add(9*time.Hour + 30*time.Minute)

func TestPcapHeader(t *testing.T) {
	b, st := generate(t, Options{Seed: 1, Hosts: 8, Packets: 10})
	want := []byte{0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0}
	if !bytes.Equal(b[:24], want) {
		t.Fatalf("global header % x, want % x", b[:24], want)
	}
	if st.Packets != 10 || len(readBack(t, b)) != 10 {
		t.Fatalf("got %d packets (stats %d), want 10", len(readBack(t, b)), st.Packets)
	}
}

func TestDeterministic(t *testing.T) {
	for _, o := range []Options{
		{Seed: 42, Hosts: 20, Start: busy, Duration: 20 * time.Minute},
		{Seed: 42, Hosts: 12, Packets: 40000},
		{Seed: 7, Hosts: 9, IPv6Share: 0.9, Start: busy, Packets: 20000},
	} {
		a, sa := generate(t, o)
		b, sb := generate(t, o)
		if !bytes.Equal(a, b) || !reflect.DeepEqual(sa, sb) {
			t.Fatalf("%+v: two runs differ (%d vs %d bytes)", o, len(a), len(b))
		}
		o2 := o
		o2.Seed++
		c, _ := generate(t, o2)
		if bytes.Equal(a, c) {
			t.Fatalf("%+v: seeds %d and %d give the same capture", o, o.Seed, o2.Seed)
		}
	}
}

func TestPacketLimitExact(t *testing.T) {
	for _, o := range []Options{
		{Seed: 3, Hosts: 6, Packets: 1},
		{Seed: 3, Hosts: 30, Packets: 12345},
		{Seed: 3, Hosts: 30, Packets: 5000, Duration: 1000 * time.Hour},
		{Seed: 3, Hosts: 30, Packets: 5000, Start: time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC)}, // a Saturday night
	} {
		b, st := generate(t, o)
		if n := len(readBack(t, b)); n != o.Packets || st.Packets != o.Packets {
			t.Errorf("%+v: %d packets read back, stats %d, want exactly %d", o, n, st.Packets, o.Packets)
		}
	}
	// The end of classic pcap time ends a run too.
	late := time.Unix(1<<32, 0).Add(-10 * time.Minute)
	b, st := generate(t, Options{Seed: 3, Hosts: 10, Start: late, Packets: 1 << 30})
	if fr := readBack(t, b); len(fr) != st.Packets || len(fr) == 0 || fr[len(fr)-1].ts.Unix() >= 1<<32 {
		t.Fatalf("run near the end of pcap time: %d frames, stats %d", len(fr), st.Packets)
	}
	// A short duration ends first.
	o := Options{Seed: 3, Hosts: 10, Start: busy, Duration: time.Minute, Packets: 1 << 30}
	b, st = generate(t, o)
	fr := readBack(t, b)
	if len(fr) == 0 || len(fr) != st.Packets || !fr[len(fr)-1].ts.Before(busy.Add(time.Minute)) {
		t.Fatalf("duration-bounded run: %d packets, stats %d", len(fr), st.Packets)
	}
}

func TestOptionErrors(t *testing.T) {
	for _, o := range []Options{
		{Hosts: MinHosts - 1},
		{Hosts: -1},
		{Hosts: MaxHosts + 1},
		{Duration: -time.Second},
		{Packets: -1},
		{IPv6Share: 1.5},
		{IPv6Share: math.NaN()},
		{Start: time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC)},
		{Start: time.Date(2106, 3, 1, 0, 0, 0, 0, time.UTC)},
	} {
		var buf bytes.Buffer
		_, err := Write(&buf, o)
		if !errors.Is(err, ErrOptions) {
			t.Errorf("%+v: error %v, want ErrOptions", o, err)
		}
		if buf.Len() != 0 {
			t.Errorf("%+v: wrote %d bytes despite the error", o, buf.Len())
		}
	}
}

type failAfter struct {
	n   int
	err error
}

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k := f.n
		f.n = 0
		return k, f.err
	}
	f.n -= len(p)
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	boom := errors.New("disk full")
	st, err := Write(&failAfter{n: 3 << 20, err: boom}, Options{Seed: 1, Packets: 200000})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want wrapping %v", err, boom)
	}
	if st.Packets == 0 || st.Packets >= 200000 {
		t.Fatalf("stopped after %d packets; want a partial count", st.Packets)
	}
}

// checksum is a plain RFC 1071 sum, written independently of the
// generator's.
func checksum(parts ...[]byte) uint16 {
	var s uint32
	for _, p := range parts {
		for i := 0; i+1 < len(p); i += 2 {
			s += uint32(p[i])<<8 | uint32(p[i+1])
		}
		if len(p)%2 == 1 {
			s += uint32(p[len(p)-1]) << 8
		}
	}
	for s>>16 != 0 {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

func pseudo(src, dst []byte, proto byte, n int) []byte {
	var b []byte
	b = append(b, src...)
	b = append(b, dst...)
	if len(src) == 4 {
		b = append(b, 0, proto)
		return binary.BigEndian.AppendUint16(b, uint16(n))
	}
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	return append(b, 0, 0, 0, proto)
}

// decoded is one frame after gopacket and the checks every frame must pass.
type decoded struct {
	ts       time.Time
	v6, vlan bool
	src, dst netip.Addr
	proto    byte
	sport    uint16
	dport    uint16
	tcp      *layers.TCP
	payload  []byte // transport payload
	l4       []byte
	icmpType uint8
}

// decodeAll runs every frame through gopacket.NewPacket and verifies what
// holds for every frame: Ethernet + (802.1Q) + IPv4/IPv6 + TCP/UDP/ICMP,
// no decoding error below the application layer, correct lengths and
// checksums, minimum frame size, timestamps in order.
func decodeAll(t *testing.T, fr []frame, o Options) []decoded {
	t.Helper()
	o, _ = o.normalize()
	out := make([]decoded, 0, len(fr))
	var prev time.Time
	for i, f := range fr {
		if f.ts.Before(prev) {
			t.Fatalf("frame %d: time %v before %v", i+1, f.ts, prev)
		}
		prev = f.ts
		if f.ts.Before(o.Start) || o.Duration > 0 && !f.ts.Before(o.Start.Add(o.Duration)) {
			t.Fatalf("frame %d: time %v outside the capture window", i+1, f.ts)
		}
		if len(f.data) < 60 || len(f.data) > 1518 {
			t.Fatalf("frame %d: length %d outside 60..1518", i+1, len(f.data))
		}
		p := gopacket.NewPacket(f.data, layers.LinkTypeEthernet, gopacket.DecodeOptions{NoCopy: true})
		d := decoded{ts: f.ts}
		if p.Layer(layers.LayerTypeEthernet) == nil {
			t.Fatalf("frame %d: no Ethernet layer", i+1)
		}
		d.vlan = p.Layer(layers.LayerTypeDot1Q) != nil
		var l4proto byte
		var ipPayload []byte
		var srcB, dstB []byte
		switch ip := p.NetworkLayer().(type) {
		case *layers.IPv4:
			if got := checksum(ip.Contents); got != 0 {
				t.Fatalf("frame %d: bad IPv4 header checksum %#04x", i+1, ip.Checksum)
			}
			if int(ip.Length) != len(ip.Contents)+len(ip.Payload) {
				t.Fatalf("frame %d: IPv4 total length %d, have %d bytes", i+1, ip.Length, len(ip.Contents)+len(ip.Payload))
			}
			if ip.TTL == 0 || ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
				t.Fatalf("frame %d: TTL %d, flags %v, fragment offset %d", i+1, ip.TTL, ip.Flags, ip.FragOffset)
			}
			l4proto, ipPayload, srcB, dstB = byte(ip.Protocol), ip.Payload, ip.SrcIP.To4(), ip.DstIP.To4()
		case *layers.IPv6:
			if int(ip.Length) != len(ip.Payload) {
				t.Fatalf("frame %d: IPv6 payload length %d, have %d bytes", i+1, ip.Length, len(ip.Payload))
			}
			d.v6 = true
			l4proto, ipPayload, srcB, dstB = byte(ip.NextHeader), ip.Payload, ip.SrcIP.To16(), ip.DstIP.To16()
		default:
			t.Fatalf("frame %d: no IP layer: %v", i+1, p)
		}
		d.src, _ = netip.AddrFromSlice(srcB)
		d.dst, _ = netip.AddrFromSlice(dstB)
		d.src, d.dst = d.src.Unmap(), d.dst.Unmap()
		d.proto = l4proto
		d.l4 = ipPayload
		switch l4proto {
		case protoTCP:
			tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
			if !ok {
				t.Fatalf("frame %d: TCP did not decode: %v", i+1, p.ErrorLayer())
			}
			if checksum(pseudo(srcB, dstB, protoTCP, len(ipPayload)), ipPayload) != 0 {
				t.Fatalf("frame %d: bad TCP checksum", i+1)
			}
			d.tcp, d.sport, d.dport, d.payload = tcp, uint16(tcp.SrcPort), uint16(tcp.DstPort), tcp.Payload
		case protoUDP:
			udp, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
			if !ok {
				t.Fatalf("frame %d: UDP did not decode", i+1)
			}
			if int(udp.Length) != len(ipPayload) || udp.Checksum == 0 || checksum(pseudo(srcB, dstB, protoUDP, len(ipPayload)), ipPayload) != 0 {
				t.Fatalf("frame %d: bad UDP length %d or checksum %#04x", i+1, udp.Length, udp.Checksum)
			}
			d.sport, d.dport, d.payload = uint16(udp.SrcPort), uint16(udp.DstPort), udp.Payload
			if e := p.ErrorLayer(); e != nil && d.sport != 443 && d.dport != 443 {
				t.Fatalf("frame %d: UDP payload (ports %d→%d) failed to decode: %v", i+1, d.sport, d.dport, e.Error())
			}
		case protoICMP:
			if p.Layer(layers.LayerTypeICMPv4) == nil || checksum(ipPayload) != 0 {
				t.Fatalf("frame %d: bad ICMP", i+1)
			}
			d.icmpType = ipPayload[0]
		case protoICMPv6:
			if p.Layer(layers.LayerTypeICMPv6) == nil || checksum(pseudo(srcB, dstB, protoICMPv6, len(ipPayload)), ipPayload) != 0 {
				t.Fatalf("frame %d: bad ICMPv6", i+1)
			}
			d.icmpType = ipPayload[0]
		default:
			t.Fatalf("frame %d: unexpected IP protocol %d", i+1, l4proto)
		}
		out = append(out, d)
	}
	return out
}

// convKey names one direction of a conversation.
type convKey struct {
	src, dst     netip.Addr
	sport, dport uint16
}

func (k convKey) rev() convKey { return convKey{k.dst, k.src, k.dport, k.sport} }

func keyOf(d *decoded) convKey { return convKey{d.src, d.dst, d.sport, d.dport} }

// tcpConnState follows one connection through the capture.
type tcpConnState struct {
	client    convKey
	first     time.Time
	syn       bool
	synAck    bool
	refused   bool
	fin       [2]bool
	rst       bool
	next      [2]uint32 // next expected sequence number per direction (0 client, 1 server)
	started   [2]bool
	stream    [2][]byte // application bytes, kept for port 53 only
	firstData [2][]byte // first data segment payload of each side
}

func TestFramesDecode(t *testing.T) {
	o := Options{Seed: 11, Hosts: 40, Start: busy, Duration: 40 * time.Minute, IPv6Share: 0.3}
	b, st := generate(t, o)
	fr := readBack(t, b)
	if len(fr) < 20000 {
		t.Fatalf("only %d packets in 40 busy minutes", len(fr))
	}
	ds := decodeAll(t, fr, o)

	// Stats agree with what was read back.
	var bytesN, v6, vlan int
	for i := range fr {
		bytesN += len(fr[i].data)
		if ds[i].v6 {
			v6++
		}
		if ds[i].vlan {
			vlan++
		}
	}
	if st.Packets != len(fr) || st.Bytes != bytesN || st.IPv6Packets != v6 || st.VLANPackets != vlan {
		t.Errorf("stats %+v; read back %d packets, %d bytes, %d IPv6, %d VLAN", st, len(fr), bytesN, v6, vlan)
	}
	if !st.First.Equal(fr[0].ts) || !st.Last.Equal(fr[len(fr)-1].ts) {
		t.Errorf("stats first/last %v/%v, read back %v/%v", st.First, st.Last, fr[0].ts, fr[len(fr)-1].ts)
	}
	if v6 == 0 || vlan == 0 {
		t.Errorf("%d IPv6 and %d VLAN frames; want both", v6, vlan)
	}

	// DNS over UDP: every message parses; queries and responses pair up.
	queries, responses, nx := 0, 0, 0
	pending := map[[2]uint32]bool{} // (id, client port) of open queries
	qtypes := map[layers.DNSType]int{}
	rtypes := map[layers.DNSType]int{}
	for i := range ds {
		d := &ds[i]
		if d.proto != protoUDP || d.sport != 53 && d.dport != 53 {
			continue
		}
		var m layers.DNS
		if err := m.DecodeFromBytes(d.payload, gopacket.NilDecodeFeedback); err != nil {
			t.Fatalf("frame %d: DNS: %v", i+1, err)
		}
		if len(m.Questions) != 1 {
			t.Fatalf("frame %d: %d questions", i+1, len(m.Questions))
		}
		if !m.QR {
			queries++
			qtypes[m.Questions[0].Type]++
			pending[[2]uint32{uint32(m.ID), uint32(d.sport)}] = true
			continue
		}
		responses++
		key := [2]uint32{uint32(m.ID), uint32(d.dport)}
		if !pending[key] {
			t.Fatalf("frame %d: DNS response id %d to port %d without a query", i+1, m.ID, d.dport)
		}
		delete(pending, key)
		if m.ResponseCode == layers.DNSResponseCodeNXDomain {
			nx++
			if len(m.Authorities) != 1 || m.Authorities[0].Type != layers.DNSTypeSOA {
				t.Fatalf("frame %d: NXDOMAIN without an SOA authority record", i+1)
			}
		}
		if len(m.Answers) != int(m.ANCount) {
			t.Fatalf("frame %d: %d answers decoded, ANCOUNT %d", i+1, len(m.Answers), m.ANCount)
		}
		for _, a := range m.Answers {
			rtypes[a.Type]++
			if a.TTL == 0 {
				t.Fatalf("frame %d: answer with TTL 0", i+1)
			}
		}
	}
	if queries == 0 || responses == 0 || nx == 0 {
		t.Fatalf("%d DNS queries, %d responses, %d NXDOMAIN", queries, responses, nx)
	}
	for _, typ := range []layers.DNSType{layers.DNSTypeA, layers.DNSTypeAAAA} {
		if qtypes[typ] == 0 || rtypes[typ] == 0 {
			t.Errorf("no %v queries or answers (queries %v, answers %v)", typ, qtypes, rtypes)
		}
	}
	if rtypes[layers.DNSTypeCNAME] == 0 {
		t.Errorf("no CNAME answers: %v", rtypes)
	}

	// TCP: every connection starts with SYN, SYN-ACK; sequence numbers are
	// continuous; ACKs never run ahead of the peer; connections end.
	conns := map[convKey]*tcpConnState{}
	var all []*tcpConnState
	maxPayload := 0
	for i := range ds {
		d := &ds[i]
		if d.proto != protoTCP {
			continue
		}
		tc := d.tcp
		k := keyOf(d)
		if tc.SYN && !tc.ACK {
			if old := conns[k]; old != nil && !old.rst && !(old.fin[0] && old.fin[1]) {
				t.Fatalf("frame %d: SYN on %v while the previous connection is open", i+1, k)
			}
			if len(tc.Options) == 0 || tc.Options[0].OptionType != layers.TCPOptionKindMSS {
				t.Fatalf("frame %d: SYN without MSS option first", i+1)
			}
			c := &tcpConnState{client: k, first: d.ts, syn: true}
			c.next[0] = tc.Seq + 1
			c.started[0] = true
			conns[k], conns[k.rev()] = c, c
			all = append(all, c)
			continue
		}
		c := conns[k]
		if c == nil {
			t.Fatalf("frame %d: TCP segment %v without a SYN", i+1, k)
		}
		dir := 0
		if k != c.client {
			dir = 1
		}
		if tc.SYN {
			if dir != 1 || c.synAck {
				t.Fatalf("frame %d: unexpected SYN-ACK", i+1)
			}
			c.synAck = true
			c.next[1] = tc.Seq + 1
			c.started[1] = true
			if tc.Ack != c.next[0] {
				t.Fatalf("frame %d: SYN-ACK acks %d, want %d", i+1, tc.Ack, c.next[0])
			}
			continue
		}
		if tc.RST {
			c.rst = true
			if !c.synAck {
				c.refused = true
			}
			continue
		}
		if !c.synAck {
			t.Fatalf("frame %d: data before the handshake", i+1)
		}
		if tc.Seq != c.next[dir] {
			t.Fatalf("frame %d: seq %d, want %d (gap or overlap)", i+1, tc.Seq, c.next[dir])
		}
		if !tc.ACK || int32(tc.Ack-c.next[1-dir]) > 0 {
			t.Fatalf("frame %d: ACK %d runs ahead of the peer's %d", i+1, tc.Ack, c.next[1-dir])
		}
		n := len(d.payload)
		maxPayload = max(maxPayload, n)
		if n > 1460 {
			t.Fatalf("frame %d: %d payload bytes exceed the MSS", i+1, n)
		}
		if n > 0 && c.firstData[dir] == nil {
			c.firstData[dir] = d.payload
		}
		if n > 0 && (d.sport == 53 || d.dport == 53) {
			c.stream[dir] = append(c.stream[dir], d.payload...)
		}
		c.next[dir] += uint32(n)
		if tc.FIN {
			c.fin[dir] = true
			c.next[dir]++
		}
	}
	end := fr[len(fr)-1].ts.Add(-10 * time.Minute)
	var open, closed, refused, tcpDNS, hellos int
	ports := map[uint16]int{}
	for _, c := range all {
		ports[c.client.dport]++
		if c.refused {
			refused++
			continue
		}
		if !c.synAck {
			t.Errorf("connection %v: no SYN-ACK", c.client)
		}
		switch {
		case c.rst || c.fin[0] && c.fin[1]:
			closed++
		case c.first.Before(end):
			t.Errorf("connection %v from %v never closed", c.client, c.first)
		default:
			open++
		}
		if c.client.dport == 53 && c.fin[0] {
			tcpDNS++
			for dir, s := range c.stream {
				var m layers.DNS
				if len(s) < 2 || int(binary.BigEndian.Uint16(s))+2 != len(s) {
					t.Fatalf("DNS over TCP %v: stream of %d bytes is not one length-prefixed message", c.client, len(s))
				}
				if err := m.DecodeFromBytes(s[2:], gopacket.NilDecodeFeedback); err != nil || m.QR != (dir == 1) {
					t.Fatalf("DNS over TCP %v: %v", c.client, err)
				}
			}
		}
		if c.client.dport == 443 && c.firstData[0] != nil {
			var tls layers.TLS
			if err := tls.DecodeFromBytes(c.firstData[0], gopacket.NilDecodeFeedback); err != nil || len(tls.Handshake) != 1 {
				t.Fatalf("connection %v: first segment is no TLS handshake: %v", c.client, err)
			}
			hellos++
		}
	}
	if closed == 0 || hellos == 0 || maxPayload < 1400 {
		t.Errorf("%d closed connections, %d ClientHellos, largest payload %d", closed, hellos, maxPayload)
	}
	for _, p := range []uint16{443, 445, 80} {
		if ports[p] == 0 {
			t.Errorf("no TCP connections to port %d: %v", p, ports)
		}
	}
	if queries+tcpDNS != st.DNSQueries || responses+tcpDNS != st.DNSResponses || nx != st.NXDomains {
		t.Errorf("DNS read back: %d+%d queries, %d+%d responses, %d NXDOMAIN; stats %+v", queries, tcpDNS, responses, tcpDNS, nx, st)
	}
	if len(all) != st.TCPConns {
		t.Errorf("%d TCP connections read back, stats say %d", len(all), st.TCPConns)
	}
	t.Logf("%d frames, %d TCP connections (%d open at the end, %d refused, %d DNS over TCP), ports %v; DNS %d/%d (%d NXDOMAIN), query types %v",
		len(fr), len(all), open, refused, tcpDNS, ports, queries, responses, nx, qtypes)
}

// stream runs Write into a pipe and hands each frame to fn as it is read,
// so day-long captures are checked without holding them.
func stream(t *testing.T, o Options, fn func(ts time.Time, data []byte)) Stats {
	t.Helper()
	pr, pw := io.Pipe()
	var st Stats
	var werr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		st, werr = Write(pw, o)
		pw.CloseWithError(werr)
	}()
	r, err := pcapgo.NewReader(pr)
	if err != nil {
		t.Fatalf("pcapgo.NewReader: %v", err)
	}
	for {
		data, ci, err := r.ZeroCopyReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			pr.CloseWithError(err)
			<-done
			t.Fatalf("read: %v", err)
		}
		fn(ci.Timestamp, data)
	}
	<-done
	if werr != nil {
		t.Fatalf("Write: %v", werr)
	}
	return st
}

// isSYN reports whether an Ethernet frame is a TCP SYN (without ACK).
func isSYN(d []byte) bool {
	et, off := binary.BigEndian.Uint16(d[12:]), 14
	if et == etherTypeVLAN {
		et, off = binary.BigEndian.Uint16(d[16:]), 18
	}
	switch {
	case et == etherTypeIPv4 && d[off+9] == protoTCP:
		return d[off+int(d[off]&0x0f)*4+13] == tcpSyn
	case et == etherTypeIPv6 && d[off+6] == protoTCP:
		return d[off+40+13] == tcpSyn
	}
	return false
}

func TestDailyCurve(t *testing.T) {
	var pk, syn [24]int
	st := stream(t, Options{Seed: 5, Hosts: 25}, func(ts time.Time, d []byte) {
		h := ts.UTC().Hour()
		pk[h]++
		if isSYN(d) {
			syn[h]++
		}
	})
	mean := func(a [24]int, from, to int) float64 {
		s := 0
		for h := from; h < to; h++ {
			s += a[h]
		}
		return float64(s) / float64(to-from)
	}
	nightP, dayP := mean(pk, 1, 5), mean(pk, 10, 16)
	nightS, dayS := mean(syn, 1, 5), mean(syn, 10, 16)
	t.Logf("%d packets; per hour %v; SYNs per hour %v", st.Packets, pk, syn)
	if nightP == 0 {
		t.Errorf("no packets at night: machine traffic should keep it non-zero")
	}
	if !(nightP*4 < dayP) || !(nightS*6 < dayS) {
		t.Errorf("night/day packets %.0f/%.0f, SYNs %.1f/%.1f: the daily curve is not visible", nightP, dayP, nightS, dayS)
	}
	if !(mean(syn, 6, 7) < mean(syn, 9, 10)) || !(mean(syn, 20, 21) < mean(syn, 15, 16)) {
		t.Errorf("SYNs do not ramp up in the morning or down in the evening: %v", syn)
	}

	// The same office on a Saturday is much quieter.
	sat, err := Write(io.Discard, Options{Seed: 5, Hosts: 25, Start: time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if !(sat.TCPConns*3 < st.TCPConns) {
		t.Errorf("Saturday %d TCP connections vs Monday %d", sat.TCPConns, st.TCPConns)
	}
}

func TestCurveFollowsStartZone(t *testing.T) {
	// One instant, 2026-03-03 00:00 in Tokyo = 2026-03-02 15:00 UTC: with
	// the Tokyo location the first three hours are night; with UTC they
	// are office afternoon.
	tokyo := time.FixedZone("JST", 9*3600)
	at := time.Date(2026, 3, 3, 0, 0, 0, 0, tokyo)
	night, err := Write(io.Discard, Options{Seed: 2, Hosts: 30, Start: at, Duration: 3 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	day, err := Write(io.Discard, Options{Seed: 2, Hosts: 30, Start: at.UTC(), Duration: 3 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if !(night.TCPConns*4 < day.TCPConns) {
		t.Errorf("00:00–03:00 JST: %d connections; 15:00–18:00 UTC: %d", night.TCPConns, day.TCPConns)
	}
}

func TestIPv6Share(t *testing.T) {
	for _, share := range []float64{-1, 0, 0.5, 1} {
		o := Options{Seed: 9, Hosts: 20, Start: busy, Duration: 30 * time.Minute, IPv6Share: share}
		b, st := generate(t, o)
		ds := decodeAll(t, readBack(t, b), o)
		var v6, icmp6, tcp6, dns6 int
		for i := range ds {
			d := &ds[i]
			if !d.v6 {
				continue
			}
			v6++
			switch {
			case d.proto == protoICMPv6:
				icmp6++
			case d.proto == protoTCP:
				tcp6++
			case d.sport == 53 || d.dport == 53:
				dns6++
			}
			if !d.src.Is6() || d.src.Is4In6() {
				t.Fatalf("IPv6 frame with address %v", d.src)
			}
		}
		if v6 != st.IPv6Packets {
			t.Errorf("share %v: %d IPv6 frames read back, stats %d", share, v6, st.IPv6Packets)
		}
		switch {
		case share < 0 && v6 != 0:
			t.Errorf("share %v: %d IPv6 frames, want none", share, v6)
		case share >= 0 && (tcp6 == 0 || dns6 == 0):
			t.Errorf("share %v: IPv6 TCP %d, DNS %d, ICMPv6 %d; want TCP and DNS", share, tcp6, dns6, icmp6)
		}
		t.Logf("share %v: %d of %d frames IPv6 (TCP %d, DNS %d, ICMPv6 %d)", share, v6, len(ds), tcp6, dns6, icmp6)
	}
}

func TestProtocolMix(t *testing.T) {
	o := Options{Seed: 21, Hosts: 60, Start: busy, Duration: 30 * time.Minute, IPv6Share: 0.4}
	b, st := generate(t, o)
	ds := decodeAll(t, readBack(t, b), o)
	seen := map[string]int{}
	for i := range ds {
		d := &ds[i]
		switch {
		case d.proto == protoUDP && (d.sport == 123 || d.dport == 123):
			seen["ntp"]++
			if len(d.payload) != 48 || d.payload[0]&0x38 != 4<<3 {
				t.Fatalf("NTP payload of %d bytes, version %d", len(d.payload), d.payload[0]>>3&7)
			}
		case d.proto == protoUDP && (d.sport == 443 || d.dport == 443):
			seen["quic"]++
			if d.payload[0]&0x40 == 0 {
				t.Fatalf("QUIC packet without the fixed bit")
			}
		case d.proto == protoICMP || d.proto == protoICMPv6:
			seen[fmt.Sprintf("icmp%d", d.icmpType)]++
		case d.proto == protoTCP && (d.sport == 22 || d.dport == 22):
			seen["ssh"]++
			if bytes.HasPrefix(d.payload, []byte("SSH-2.0-")) {
				seen["ssh-banner"]++
			}
		case d.proto == protoTCP && (d.sport == 445 || d.dport == 445):
			seen["smb"]++
			if len(d.payload) > 8 && bytes.Equal(d.payload[4:8], []byte{0xfe, 'S', 'M', 'B'}) {
				seen["smb2-header"]++
			}
		case d.proto == protoTCP && (d.sport == 80 || d.dport == 80):
			seen["http"]++
			if bytes.HasPrefix(d.payload, []byte("GET ")) {
				seen["http-get"]++
			}
		}
	}
	for _, k := range []string{"ntp", "quic", "icmp8", "icmp0", "ssh-banner", "smb2-header", "http-get"} {
		if seen[k] == 0 {
			t.Errorf("no %s packets: %v", k, seen)
		}
	}
	if st.Pings == 0 || st.UDPFlows == 0 || st.Flows != st.TCPConns+st.UDPFlows+st.Pings {
		t.Errorf("flow stats %+v", st)
	}
	t.Logf("%v", seen)
}
