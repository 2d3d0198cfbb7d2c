package synth

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/capture"
	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/decode/input"
)

// allKinds puts every scenario into a short busy capture, scaled down so
// the tests run in seconds.
const allKinds = "beacon:interval=30s,scan:at=+5m:ports=1-300,3389,dns-tunnel:at=+6m:for=10m:interval=1s," +
	"exfil:at=+8m:for=5m:bytes=10MB,dga:at=+2m:count=40:interval=500ms,lateral:at=+12m:targets=5"

func mustInject(t testing.TB, spec string) []Injection {
	t.Helper()
	in, err := ParseInjections(spec)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// tapped runs Write in memory with the tap on: every frame and the
// injector it belongs to.
type tappedFrame struct {
	ts  int64
	inj int
	k   fkey
	ok  bool // k holds an IP packet
}

type fkey struct {
	src, dst     netip.Addr
	sport, dport uint16
	proto        uint8
}

func generateTapped(t testing.TB, o Options) ([]byte, Stats, []tappedFrame) {
	t.Helper()
	o, err := o.normalize()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	g := newGen(&buf, o)
	var frames []tappedFrame
	g.tap = func(ts int64, frame []byte, inj int) {
		k, ok := frameKey(frame)
		frames = append(frames, tappedFrame{ts: ts, inj: inj, k: k, ok: ok})
	}
	g.run()
	if g.pw.err != nil {
		t.Fatal(g.pw.err)
	}
	return buf.Bytes(), g.result(), frames
}

// frameKey reads addresses, ports and protocol of an Ethernet frame the
// generator wrote.
func frameKey(d []byte) (fkey, bool) {
	var k fkey
	et, off := binary.BigEndian.Uint16(d[12:]), 14
	if et == etherTypeVLAN {
		et, off = binary.BigEndian.Uint16(d[16:]), 18
	}
	ip := d[off:]
	var l4 []byte
	switch et {
	case etherTypeIPv4:
		k.src, k.dst = netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))
		k.proto = ip[9]
		l4 = ip[int(ip[0]&15)*4:]
	case etherTypeIPv6:
		k.src, k.dst = netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40]))
		k.proto = ip[6]
		l4 = ip[40:]
	default:
		return k, false
	}
	if k.proto == protoTCP || k.proto == protoUDP {
		k.sport, k.dport = binary.BigEndian.Uint16(l4), binary.BigEndian.Uint16(l4[2:])
	}
	return k, true
}

// ingest reads a capture through the repository's own pipeline, as
// `spotctl ingest` does.
func ingest(t *testing.T, b []byte) ([]flow.Record, []flow.DNSMessage) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "synth.pcap")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var flows []flow.Record
	var msgs []flow.DNSMessage
	p := capture.New(capture.DefaultOptions(),
		func(r *flow.Record) { flows = append(flows, *r) },
		func(m *flow.DNSMessage) {
			c := *m
			c.Answers = slices.Clone(m.Answers)
			msgs = append(msgs, c)
		})
	ev, err := input.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	if _, err := p.ReadFile(ev.Content(), path, 0, func(e *decode.Error) error { return e }); err != nil {
		t.Fatal(err)
	}
	p.Flush()
	return flows, msgs
}

// TestLabelsExact ingests a capture with every kind and checks that the
// truth file labels exactly the injected traffic: every flow holding an
// injected packet is labelled with its activity, no flow holding a
// background packet is, and likewise for DNS messages.
func TestLabelsExact(t *testing.T) {
	o := Options{Seed: 3, Hosts: 20, Start: busy, Duration: 25 * time.Minute, IPv6Share: 0.3, Inject: mustInject(t, allKinds)}
	b, st, frames := generateTapped(t, o)
	// The truth file is what evaluation reads: go through it.
	var tb bytes.Buffer
	if err := st.Truth.WriteJSONL(&tb); err != nil {
		t.Fatal(err)
	}
	truth, err := ReadTruth(&tb)
	if err != nil {
		t.Fatal(err)
	}
	if len(truth.Activities) != len(Kinds()) {
		t.Fatalf("%d activities, want %d", len(truth.Activities), len(Kinds()))
	}
	byKey := map[fkey][]tappedFrame{}
	injected := 0
	perInj := map[int]int{}
	for _, f := range frames {
		if !f.ok {
			continue
		}
		byKey[f.k] = append(byKey[f.k], f)
		if f.inj != 0 {
			injected++
			perInj[f.inj]++
		}
	}
	for _, a := range truth.Activities {
		if a.Packets == 0 || a.Packets != perInj[a.ID] {
			t.Errorf("activity %d (%s): truth says %d packets, the tap saw %d", a.ID, a.Kind, a.Packets, perInj[a.ID])
		}
	}

	flows, msgs := ingest(t, b)
	labelled, labelledPkts := 0, map[int]uint64{}
	for i := range flows {
		r := &flows[i]
		a := truth.FlowActivity(r)
		kind, ok := truth.LabelFlow(r)
		if ok != (a != nil) || ok && kind != a.Kind {
			t.Fatalf("LabelFlow and FlowActivity disagree on %+v", r)
		}
		k := fkey{r.Src.Netip(), r.Dst.Netip(), r.SrcPort, r.DstPort, r.Proto}
		if r.Proto != protoTCP && r.Proto != protoUDP {
			if ok {
				t.Errorf("flow %v labelled %s", k, kind)
			}
			continue
		}
		var inj, bg uint64
		for _, f := range byKey[k] {
			if f.ts < r.First || f.ts > r.Last {
				continue
			}
			if f.inj != 0 {
				inj++
				if a != nil && f.inj != a.ID {
					t.Errorf("flow %v labelled activity %d holds a packet of activity %d", k, a.ID, f.inj)
				}
			} else {
				bg++
			}
		}
		switch {
		case ok && (bg != 0 || inj != r.Packets):
			t.Errorf("flow %v labelled %s holds %d background and %d injected of %d packets", k, kind, bg, inj, r.Packets)
		case !ok && inj != 0:
			t.Errorf("flow %v (%d packets) holds %d injected packets but is not labelled", k, r.Packets, inj)
		}
		if ok {
			labelled++
			labelledPkts[a.ID] += r.Packets
		}
	}
	var sum uint64
	for _, a := range truth.Activities {
		sum += labelledPkts[a.ID]
		if labelledPkts[a.ID] != uint64(a.Packets) {
			t.Errorf("activity %d (%s): labelled flows hold %d packets, truth says %d", a.ID, a.Kind, labelledPkts[a.ID], a.Packets)
		}
	}
	if sum != uint64(injected) {
		t.Errorf("labelled flows hold %d packets; %d were injected", sum, injected)
	}

	// DNS: a message is labelled exactly when its frame was injected.
	type mkey struct {
		ts int64
		k  fkey
	}
	injFrame := map[mkey]int{}
	injDNS := 0
	for _, f := range frames {
		if f.ok && f.k.proto == protoUDP && (f.k.sport == 53 || f.k.dport == 53) && f.inj != 0 {
			injFrame[mkey{f.ts, f.k}] = f.inj
			injDNS++
		}
	}
	dnsLabelled := 0
	for i := range msgs {
		m := &msgs[i]
		src, dst, sp, dp := m.Client, m.Server, m.ClientPort, m.ServerPort
		if m.Response {
			src, dst, sp, dp = dst, src, dp, sp
		}
		id := injFrame[mkey{m.TS, fkey{src.Netip(), dst.Netip(), sp, dp, m.Transport}}]
		a := truth.DNSActivity(m)
		kind, ok := truth.LabelDNS(m)
		if ok != (a != nil) {
			t.Fatalf("LabelDNS and DNSActivity disagree on %+v", m)
		}
		switch {
		case ok && a.ID != id:
			t.Errorf("DNS %s %q from %v labelled %s (activity %d); its frame belongs to %d", map[bool]string{false: "query", true: "response"}[m.Response], m.QName, m.Client, kind, a.ID, id)
		case !ok && id != 0:
			t.Errorf("injected DNS message %q (activity %d) not labelled", m.QName, id)
		}
		if ok {
			dnsLabelled++
		}
	}
	if dnsLabelled != injDNS || injDNS == 0 {
		t.Errorf("%d DNS messages labelled, %d injected", dnsLabelled, injDNS)
	}
	t.Logf("%d frames, %d injected; %d flows, %d labelled; %d DNS messages, %d labelled", len(frames), injected, len(flows), labelled, len(msgs), dnsLabelled)
}

// busyRun generates o and decodes every frame with gopacket (the checks of
// decodeAll apply to injected frames too).
func busyRun(t *testing.T, o Options) ([]decoded, Stats) {
	t.Helper()
	b, st := generate(t, o)
	return decodeAll(t, readBack(t, b), o), st
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// TestBeaconRegular: the beacon's connections start every Interval ±
// Jitter, all night long, with near-constant sizes.
func TestBeaconRegular(t *testing.T) {
	o := Options{Seed: 4, Hosts: 8, Duration: 6 * time.Hour, Inject: mustInject(t, "beacon")}
	var syns []time.Time
	var bytesOut []int
	var st Stats
	c2 := addr("203.0.113.147")
	cur := -1
	st = stream(t, o, func(ts time.Time, d []byte) {
		k, ok := frameKey(d)
		if !ok || k.proto != protoTCP || k.dst != c2 && k.src != c2 {
			return
		}
		if isSYN(d) {
			syns = append(syns, ts)
			bytesOut = append(bytesOut, 0)
			cur++
		}
		if k.dst == c2 && cur >= 0 {
			bytesOut[cur] += len(d)
		}
	})
	a := st.Truth.Activities[0]
	if a.Kind != Beacon || a.Flows != len(syns) {
		t.Fatalf("truth %+v; %d SYNs", a, len(syns))
	}
	if n := len(syns); n < 68 || n > 76 {
		t.Fatalf("%d check-ins in 6 h at 300 s, want about 72", n)
	}
	var sum float64
	for i := 1; i < len(syns); i++ {
		gap := syns[i].Sub(syns[i-1]).Seconds()
		if gap < 269 || gap > 331 {
			t.Errorf("gap %d: %.1f s outside 300 s ± 10 %%", i, gap)
		}
		sum += gap
	}
	if mean := sum / float64(len(syns)-1); math.Abs(mean-300) > 15 {
		t.Errorf("mean gap %.1f s", mean)
	}
	var night [6]int
	for _, s := range syns {
		night[s.UTC().Hour()]++
	}
	for h, n := range night {
		if n < 10 {
			t.Errorf("hour %02d: %d check-ins; a beacon does not sleep", h, n)
		}
	}
	slices.Sort(bytesOut)
	if med := bytesOut[len(bytesOut)/2]; bytesOut[len(bytesOut)/10] < med*8/10 || bytesOut[len(bytesOut)*8/10] > med*12/10 {
		t.Errorf("client bytes per check-in vary too much: %v", bytesOut)
	}
	if a.AttackerIP.Is4() && !a.AttackerIP.IsPrivate() {
		t.Errorf("attacker %v is not internal", a.AttackerIP)
	}
}

// TestScanPattern: SYNs to every listed port of each victim in a short
// burst; closed ports answer RST-ACK, open ones SYN-ACK, then the scanner
// completes the handshake and resets.
func TestScanPattern(t *testing.T) {
	o := Options{Seed: 5, Hosts: 12, Start: busy, Duration: 3 * time.Minute, Inject: mustInject(t, "scan:at=+30s")}
	ds, st := busyRun(t, o)
	a := st.Truth.Activities[0]
	ports, _ := parsePorts(DefaultScanPorts)
	if !slices.Equal(a.Ports, ports) || len(a.DstIPs) != DefaultScanTargets {
		t.Fatalf("truth ports %d, victims %v", len(a.Ports), a.DstIPs)
	}
	type probe struct{ syn, synAck, rst, ack, clientRst bool }
	for _, v := range a.DstIPs {
		probes := map[uint16]*probe{} // by victim port
		srcPorts := map[uint16]bool{}
		var first, last time.Time
		for i := range ds {
			d := &ds[i]
			if d.tcp == nil {
				continue
			}
			switch {
			case d.src == a.AttackerIP && d.dst == v:
				p := probes[d.dport]
				if p == nil {
					p = &probe{}
					probes[d.dport] = p
				}
				switch {
				case d.tcp.SYN:
					p.syn = true
					if srcPorts[d.sport] {
						t.Fatalf("source port %d used twice", d.sport)
					}
					srcPorts[d.sport] = true
					if first.IsZero() {
						first = d.ts
					}
					last = d.ts
				case d.tcp.RST:
					p.clientRst = true
				case d.tcp.ACK:
					p.ack = true
				}
			case d.src == v && d.dst == a.AttackerIP:
				p := probes[d.sport]
				if p == nil || !p.syn {
					t.Fatalf("victim answers port %d without a SYN", d.sport)
				}
				p.synAck = p.synAck || d.tcp.SYN && d.tcp.ACK
				p.rst = p.rst || d.tcp.RST && d.tcp.ACK
			}
		}
		if len(probes) != len(ports) {
			t.Errorf("victim %v: %d ports probed, want %d", v, len(probes), len(ports))
		}
		var open []uint16
		for port, p := range probes {
			switch {
			case p.synAck && !p.rst && p.ack && p.clientRst:
				open = append(open, port)
			case p.rst && !p.synAck && !p.ack:
			default:
				t.Errorf("victim %v port %d: %+v", v, port, *p)
			}
		}
		if len(open) == 0 {
			t.Errorf("victim %v: no open port", v)
		}
		if dur := last.Sub(first); dur > 30*time.Second || dur < time.Second {
			t.Errorf("victim %v: probes span %v, want a short burst", v, dur)
		}
		slices.Sort(open)
		t.Logf("victim %v: %d ports probed in %v, open %v", v, len(probes), last.Sub(first), open)
	}
}

// shannon is the entropy of s in bits per character.
func shannon(s string) float64 {
	var n [256]int
	for i := 0; i < len(s); i++ {
		n[s[i]]++
	}
	var h float64
	for _, c := range n {
		if c > 0 {
			p := float64(c) / float64(len(s))
			h -= p * math.Log2(p)
		}
	}
	return h
}

// TestTunnelNames: the tunnel's queries carry 2–3 labels of 40–60
// high-entropy characters under the domain, go through the resolver to a
// forwarder, and the answers carry data.
func TestTunnelNames(t *testing.T) {
	o := Options{Seed: 6, Hosts: 10, Start: busy, Duration: 25 * time.Minute, Inject: mustInject(t, "dns-tunnel:at=+1m:for=20m:interval=2s")}
	ds, st := busyRun(t, o)
	a := st.Truth.Activities[0]
	res := addr("10.20.1.53")
	var client, upstream, answers, upAnswers int
	qtypes := map[layers.DNSType]int{}
	upNames := map[string]int{}
	clientPorts := map[uint16]bool{}
	var ent float64
	var labels int
	for i := range ds {
		d := &ds[i]
		if d.proto != protoUDP || d.sport != 53 && d.dport != 53 {
			continue
		}
		var m layers.DNS
		if err := m.DecodeFromBytes(d.payload, gopacket.NilDecodeFeedback); err != nil {
			t.Fatalf("DNS: %v", err)
		}
		name := string(m.Questions[0].Name)
		if !strings.HasSuffix(name, "."+a.Domain) {
			continue
		}
		switch {
		case !m.QR && d.src == a.AttackerIP && d.dst == res:
			client++
			clientPorts[d.sport] = true
			qtypes[m.Questions[0].Type]++
			data := strings.Split(strings.TrimSuffix(name, "."+a.Domain), ".")
			if len(data) < 2 || len(data) > 3 || len(name) > 253 {
				t.Fatalf("query %q: %d data labels", name, len(data))
			}
			for _, l := range data {
				if len(l) < 40 || len(l) > 60 {
					t.Fatalf("label %q of %d characters", l, len(l))
				}
				ent += shannon(l)
				labels++
			}
		case !m.QR && d.src == res:
			upstream++
			upNames[name]++
		case m.QR && d.src == res && d.dst == a.AttackerIP:
			answers++
			if len(m.Answers) != 1 || m.Answers[0].TTL != 0 {
				t.Fatalf("tunnel answer with %d records", len(m.Answers))
			}
			if m.Answers[0].Type == layers.DNSTypeTXT && len(m.Answers[0].TXTs) == 0 {
				t.Fatalf("TXT answer without data")
			}
		case m.QR && d.dst == res:
			upAnswers++
		}
	}
	if client < 450 || client > 750 {
		t.Errorf("%d tunnel queries in 20 min at one per 2 s", client)
	}
	if upstream != client || answers != client || upAnswers != client || len(upNames) != client {
		t.Errorf("client queries %d, upstream %d (%d names), upstream answers %d, answers %d", client, upstream, len(upNames), upAnswers, answers)
	}
	if len(clientPorts) != 1 {
		t.Errorf("the tunnel uses %d client ports, want its one socket", len(clientPorts))
	}
	if h := ent / float64(labels); h < 4.3 {
		t.Errorf("mean label entropy %.2f bits per character", h)
	}
	for _, qt := range []layers.DNSType{layers.DNSTypeTXT, layers.DNSTypeNULL, layers.DNSTypeCNAME} {
		if qtypes[qt] == 0 {
			t.Errorf("no %v queries: %v", qt, qtypes)
		}
	}
	if a.Match.DNS == nil || !slices.Equal(a.Match.DNS.Suffixes, []string{a.Domain}) {
		t.Errorf("DNS match %+v", a.Match.DNS)
	}
	t.Logf("%d queries %v, entropy %.2f bits/char", client, qtypes, ent/float64(labels))
}

// TestExfilNight: the default exfil happens between 02:00 and 03:30 local
// time over two connections and moves the whole volume.
func TestExfilNight(t *testing.T) {
	tz := time.FixedZone("CET", 3600)
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, tz)
	o := Options{Seed: 7, Hosts: 8, Start: start, Duration: 4 * time.Hour, Inject: mustInject(t, "exfil:bytes=24MB")}
	drop := addr("203.0.113.211")
	var up int64
	var syns int
	var first, last time.Time
	st := stream(t, o, func(ts time.Time, d []byte) {
		k, ok := frameKey(d)
		if !ok || k.src != drop && k.dst != drop {
			return
		}
		if first.IsZero() {
			first = ts
		}
		last = ts
		if isSYN(d) {
			syns++
		}
		if k.dst == drop {
			ipl := int(binary.BigEndian.Uint16(d[16:])) // IPv4 total length
			l4 := d[14+20:]
			up += int64(ipl - 20 - int(l4[12]>>4)*4)
		}
	})
	a := st.Truth.Activities[0]
	lt, ll := first.In(tz), last.In(tz)
	if lt.Hour() != 2 || lt.Minute() > 1 || ll.Before(start.Add(3*time.Hour)) || ll.After(start.Add(3*time.Hour+40*time.Minute)) {
		t.Errorf("exfil from %v to %v local, want 02:00 to about 03:30", lt, ll)
	}
	if up < 24e6 || up > 24e6*1.01 {
		t.Errorf("%d bytes uploaded, want 24 MB plus TLS framing", up)
	}
	if syns != 2 || a.Flows != 2 {
		t.Errorf("%d connections (truth %d), want 2", syns, a.Flows)
	}
	if !a.Start.Equal(first) || !a.End.Equal(last) {
		t.Errorf("truth window %v–%v, packets %v–%v", a.Start, a.End, first, last)
	}
}

// TestDGAAndLateral checks the two optional kinds on the wire.
func TestDGAAndLateral(t *testing.T) {
	o := Options{Seed: 8, Hosts: 30, Start: busy, Duration: 15 * time.Minute,
		Inject: mustInject(t, "dga:at=+1m:count=60:interval=1s,lateral:at=+2m:targets=6")}
	ds, st := busyRun(t, o)
	dga, lat := st.Truth.Activities[0], st.Truth.Activities[1]
	var nx, ok, conns int
	for i := range ds {
		d := &ds[i]
		if d.proto == protoUDP && d.dst == dga.AttackerIP && d.sport == 53 {
			var m layers.DNS
			if err := m.DecodeFromBytes(d.payload, gopacket.NilDecodeFeedback); err != nil {
				t.Fatal(err)
			}
			name := string(m.Questions[0].Name)
			if _, found := slices.BinarySearch(dga.Match.DNS.Suffixes, name); !found {
				continue
			}
			switch m.ResponseCode {
			case layers.DNSResponseCodeNXDomain:
				nx++
			case layers.DNSResponseCodeNoErr:
				ok++
				if name != dga.Domain || len(m.Answers) != 1 || m.Answers[0].IP.String() != "203.0.113.173" {
					t.Errorf("live name %q answers %v", name, m.Answers)
				}
			}
		}
		if d.tcp != nil && d.tcp.SYN && !d.tcp.ACK && d.dst == addr("203.0.113.173") {
			conns++
		}
	}
	if nx != 59 || ok != 1 || conns != 1 || len(dga.Match.DNS.Suffixes) != 60 {
		t.Errorf("dga: %d NXDOMAIN, %d resolved, %d connections, %d names", nx, ok, conns, len(dga.Match.DNS.Suffixes))
	}
	victims := map[netip.Addr]bool{}
	for i := range ds {
		d := &ds[i]
		if d.tcp != nil && d.tcp.SYN && !d.tcp.ACK && d.src == lat.AttackerIP && slices.Contains(lat.DstIPs, d.dst) {
			victims[d.dst] = true
			if d.dport != 445 && d.dport != 22 {
				t.Errorf("lateral connection to port %d", d.dport)
			}
		}
	}
	if len(victims) != 6 || lat.Flows != 6 {
		t.Errorf("lateral reached %d of %v (truth flows %d)", len(victims), lat.DstIPs, lat.Flows)
	}
}

// TestInjectDeterministic: the same options give the same capture and
// truth; another seed gives others.
func TestInjectDeterministic(t *testing.T) {
	o := Options{Seed: 9, Hosts: 15, Start: busy, Duration: 20 * time.Minute, Inject: mustInject(t, allKinds)}
	truthBytes := func(st Stats) []byte {
		var b bytes.Buffer
		if err := st.Truth.WriteJSONL(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a, sa := generate(t, o)
	b, sb := generate(t, o)
	if !bytes.Equal(a, b) || !bytes.Equal(truthBytes(sa), truthBytes(sb)) {
		t.Fatal("two runs differ")
	}
	o.Seed++
	c, sc := generate(t, o)
	if bytes.Equal(a, c) || bytes.Equal(truthBytes(sa), truthBytes(sc)) {
		t.Fatal("seeds 9 and 10 give the same capture or truth")
	}
}

// TestInjectLeavesBackground: injections add packets and move the
// attacker's and the resolver's ephemeral ports; every other background
// frame is the same as without them.
func TestInjectLeavesBackground(t *testing.T) {
	base := Options{Seed: 10, Hosts: 25, Start: busy, Duration: 20 * time.Minute, IPv6Share: 0.3}
	o := base
	o.Inject = mustInject(t, allKinds)
	_, st, withF := generateTapped(t, o)
	b0, _, _ := generateTapped(t, base)
	// The attackers and the resolver, by both their addresses.
	on := map[netip.Addr]bool{addr("10.20.1.53"): true}
	for _, a := range st.Truth.Activities {
		on[a.AttackerIP] = true
	}
	involved := map[netip.Addr]bool{}
	no, _ := o.normalize()
	for _, h := range newGen(io.Discard, no).w.hosts {
		if on[netip.AddrFrom4(h.ip4)] {
			involved[netip.AddrFrom4(h.ip4)] = true
			involved[netip.AddrFrom16(h.ip6)] = true
		}
	}
	if len(involved) != 2*len(on) {
		t.Fatalf("found %d addresses of %d hosts", len(involved), len(on))
	}
	// Frames of the baseline, in order, that involve none of them.
	var want [][]byte
	fr0 := readBack(t, b0)
	for _, f := range fr0 {
		k, ok := frameKey(f.data)
		if ok && (involved[k.src] || involved[k.dst]) {
			continue
		}
		want = append(want, f.data)
	}
	b1, _ := generate(t, o)
	fr1 := readBack(t, b1)
	var got [][]byte
	for i, f := range fr1 {
		k, ok := frameKey(f.data)
		if withF[i].inj != 0 || ok && (involved[k.src] || involved[k.dst]) {
			continue
		}
		got = append(got, f.data)
	}
	if len(got) != len(want) {
		t.Fatalf("%d untouched background frames with injections, %d without", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			k0, _ := frameKey(want[i])
			k1, _ := frameKey(got[i])
			t.Fatalf("untouched background frame %d differs: %+v vs %+v\n% x\n% x", i, k0, k1, want[i][:80], got[i][:80])
		}
	}
	t.Logf("%d background frames unchanged", len(got))
}

func TestParseInjections(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []Injection
	}{
		{"beacon", []Injection{{Kind: Beacon}}},
		{"beacon,scan", []Injection{{Kind: Beacon}, {Kind: Scan}}},
		{"all", []Injection{{Kind: Beacon}, {Kind: Scan}, {Kind: DNSTunnel}, {Kind: Exfil}, {Kind: DGA}, {Kind: Lateral}}},
		{"beacon:interval=60s:jitter=20%:src=ws-0003", []Injection{{Kind: Beacon, Interval: time.Minute, Jitter: 0.2, Src: "ws-0003"}}},
		{"beacon:jitter=0", []Injection{{Kind: Beacon, Jitter: -1}}},
		{"scan:ports=1-1024,3389,8080,exfil:at=02:30:bytes=1GiB", []Injection{{Kind: Scan, Ports: "1-1024,3389,8080"}, {Kind: Exfil, At: "02:30", Bytes: 1 << 30}}},
		{"dns-tunnel:at=2026-03-02T10:00:00Z:for=1h:domain=x.example.org", []Injection{{Kind: DNSTunnel, At: "2026-03-02T10:00:00Z", For: time.Hour, Domain: "x.example.org"}}},
		{" exfil:bytes=5MB:conns=3 , dga:count=10", []Injection{{Kind: Exfil, Bytes: 5e6, Conns: 3}, {Kind: DGA, Count: 10}}},
		{"lateral:targets=3:at=+90m", []Injection{{Kind: Lateral, Targets: 3, At: "+90m"}}},
	} {
		got, err := ParseInjections(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseInjections(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
			continue
		}
		for _, in := range got {
			back, err := ParseInjection(in.String())
			if err != nil || !reflect.DeepEqual(back, in) {
				t.Errorf("%q: String %q parses back to %+v, %v", c.in, in.String(), back, err)
			}
		}
	}
}

func TestInjectOptionErrors(t *testing.T) {
	for _, spec := range []string{
		"beacon:interval=0.5s",
		"beacon:jitter=1",
		"beacon:dst=198.51.100.1", // the background's
		"beacon:dst=10.20.1.1",
		"beacon:dst=nope",
		"beacon:src=ws-0999",
		"beacon:src=10.20.1.53", // a server
		"beacon:bytes=5",        // does not apply
		"beacon:at=+-5m",
		"beacon:at=1999-01-01T00:00:00Z", // before the start
		"scan:ports=0-10",
		"scan:ports=20-10",
		"exfil:bytes=-1",
		"exfil:conns=100",
		"exfil:bytes=3:conns=4",
		"beacon:dst=203.0.113.99,exfil:dst=203.0.113.99",
		"dns-tunnel:domain=t.example.org,dns-tunnel:domain=T.Example.org:at=+1h",
		"dns-tunnel:domain=contoso.com",
		"dns-tunnel:domain=a..b",
		"dns-tunnel:interval=1us",
		"dns-tunnel:interval=100ms:for=1h", // 36,000 queries
		"dga:count=30000",
		"lateral:count=3",
	} {
		in, err := ParseInjections(spec)
		if err == nil {
			_, err = Write(new(bytes.Buffer), Options{Hosts: 20, Inject: in})
		}
		if !errors.Is(err, ErrOptions) {
			t.Errorf("%q: error %v, want ErrOptions", spec, err)
		}
	}
	for _, spec := range []string{"bogus", "beacon:interval", "beacon:interval=5", "beacon:interval=1s:interval=2s", "beacon:color=red"} {
		if _, err := ParseInjections(spec); !errors.Is(err, ErrOptions) {
			t.Errorf("ParseInjections(%q): error %v, want ErrOptions", spec, err)
		}
	}
	// Scan and lateral need a second workstation.
	if _, err := Write(new(bytes.Buffer), Options{Hosts: MinHosts, Inject: []Injection{{Kind: Scan}}}); !errors.Is(err, ErrOptions) {
		t.Errorf("scan with one workstation: %v", err)
	}
}

// TestDefaultAddressesUnused: the default external ends are never used by
// the background, whatever the seed.
func TestDefaultAddressesUnused(t *testing.T) {
	for k, d := range defaultDst {
		if backgroundAddrs()[addr(d).As4()] {
			t.Errorf("%s default %s is a background address", k, d)
		}
	}
	if len(backgroundAddrs()) < 100 {
		t.Fatalf("only %d background addresses: the set is wrong", len(backgroundAddrs()))
	}
}
