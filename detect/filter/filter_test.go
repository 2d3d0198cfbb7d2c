package filter

import (
	"math"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spotctl/spotctl/decode/flow"
)

func addr(s string) flow.Addr { return flow.AddrFromNetip(netip.MustParseAddr(s)) }

func ts(s string) int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UnixNano()
}

// baseFlow is the record most cases test: a TCP flow 10.1.2.3:51000 ->
// 192.0.2.80:443, 10 packets, 5000 bytes over 2 s.
func baseFlow() flow.Record {
	return flow.Record{
		First: ts("2024-07-11T09:15:00.250Z"), Last: ts("2024-07-11T09:15:02.250Z"),
		Src: addr("10.1.2.3"), Dst: addr("192.0.2.80"), SrcPort: 51000, DstPort: 443,
		Proto: flow.ProtoTCP, TCPFlags: flow.TCPSyn | flow.TCPAck | flow.TCPPsh, ToS: 0x20, VLAN: 42,
		Packets: 10, Bytes: 5000, OutPackets: 8, OutBytes: 12000,
		Exporter: addr("172.16.0.1"), SrcAS: 64512, DstAS: 15169, InIf: 3, OutIf: 7,
		NextHop: addr("172.16.0.254"), SrcMask: 8, DstMask: 24,
	}
}

func TestFlowPrimitives(t *testing.T) {
	icmp := baseFlow()
	icmp.Proto, icmp.SrcPort, icmp.DstPort, icmp.TCPFlags = flow.ProtoICMP, 0, 8<<8|0, 0
	v6 := baseFlow()
	v6.Src, v6.Dst = addr("2001:db8::1"), addr("2001:db8:1::53")
	udp := baseFlow()
	udp.Proto, udp.TCPFlags = flow.ProtoUDP, flow.TCPSyn // flags on a non-TCP record never match
	zeroDur := baseFlow()
	zeroDur.Last = zeroDur.First
	noHop := baseFlow() // zero Addr: no next hop
	noHop.NextHop = flow.Addr{}
	backwards := baseFlow() // end before start: nfdump's unsigned duration wraps
	backwards.Last = backwards.First - 1e9

	cases := []struct {
		expr string
		rec  *flow.Record
		want bool
	}{
		{"any", nil, true},
		{"", nil, true},
		{"# only a comment", nil, true},
		{"ipv4", nil, true}, {"inet", nil, true}, {"ipv6", nil, false},
		{"ipv6", &v6, true}, {"inet6", &v6, true}, {"ipv4", &v6, false},
		{"ip 10.1.2.3", nil, true}, {"host 192.0.2.80", nil, true}, {"ip 10.1.2.4", nil, false},
		{"src ip 10.1.2.3", nil, true}, {"dst ip 10.1.2.3", nil, false}, {"dst host 192.0.2.80", nil, true},
		{"ip 2001:db8::1", &v6, true}, {"src ip 2001:DB8::1", &v6, true}, {"dst ip 2001:db8::1", &v6, false},
		{"ip ::ffff:10.1.2.3", nil, true},
		{"net 10.0.0.0/8", nil, true}, {"src net 10.0.0.0/8", nil, true}, {"dst net 10.0.0.0/8", nil, false},
		{"net 10.1.2.0/24", nil, true}, {"net 10.1.3.0/24", nil, false}, {"net 10.1.2.3/32", nil, true},
		{"net 10.0.0.0 255.0.0.0", nil, true}, {"dst net 192.0.2.0 255.255.255.0", nil, true},
		{"dst net 192.0.3.0 255.255.255.0", nil, false}, {"net 10.1/16", nil, true}, {"net 10/8", nil, true},
		{"net 2001:db8::/32", &v6, true}, {"dst net 2001:db8:1::/48", &v6, true}, {"src net 2001:db8:1::/48", &v6, false},
		{"net 0.0.0.0/0", nil, true}, {"net 0.0.0.0/0", &v6, false}, {"net ::/0", &v6, true},
		{"ip in [10.1.2.3]", nil, true}, {"ip in [ 1.1.1.1, 2.2.2.2 192.0.2.0/24 ]", nil, true},
		{"src ip in [1.1.1.1 192.0.2.0/24]", nil, false}, {"dst ip in [1.1.1.1 192.0.2.0/24]", nil, true},
		{"ip in [2001:db8::/64 10.9.9.9]", &v6, true}, {"ip in [2001:db8:2::/64 10.9.9.9]", &v6, false},
		{"port 443", nil, true}, {"port = 51000", nil, true}, {"port == 80", nil, false},
		{"src port 443", nil, false}, {"dst port 443", nil, true},
		{"port > 50000", nil, true}, {"dst port > 50000", nil, false}, {"port < 444", nil, true}, {"src port < 444", nil, false},
		{"dst port >= 443", nil, true}, {"dst port <= 442", nil, false}, {"dst port gt 442", nil, true},
		{"dst port lt 443", nil, false}, {"dst port ge 443", nil, true}, {"dst port le 443", nil, true}, {"dst port eq 443", nil, true},
		{"port in [80 443]", nil, true}, {"src port in [80, 443]", nil, false}, {"dst port in [ 1 2 3 4 5 6 7 8 9 10 443 ]", nil, true},
		{"dst port in [ 1 2 3 4 5 6 7 8 9 10 444 ]", nil, false},
		{"proto tcp", nil, true}, {"proto TCP", nil, true}, {"proto 6", nil, true}, {"proto udp", nil, false},
		{"proto icmp", &icmp, true}, {"proto 17", &udp, true}, {"proto in [udp tcp]", nil, true}, {"proto esp", nil, false},
		{"flags S", nil, true}, {"flags SA", nil, true}, {"flags AP", nil, true}, {"flags SF", nil, false}, {"flags sa", nil, true},
		{"flags X", nil, false}, {"flags S", &udp, false}, {"flags S and not flags A", nil, false}, {"flags S and not flags AFRU", nil, true}, {"flags 0x12", nil, true},
		{"packets 10", nil, true}, {"packets > 9", nil, true}, {"packets > 10", nil, false}, {"in packets 10", nil, true},
		{"bytes > 4k", nil, true}, {"bytes > 5k", nil, false}, {"bytes >= 5K", nil, true}, {"bytes < 0x1389", nil, true},
		{"bytes < 1M", nil, true}, {"bytes < 1g", nil, true}, {"bytes < 1t", nil, true}, {"bytes = 0x1388", nil, true},
		{"out packets 8", nil, true}, {"out bytes > 10k", nil, true}, {"out bytes > 12k", nil, false},
		{"duration 2000", nil, true}, {"duration > 1999", nil, true}, {"duration > 2000", nil, false},
		{"duration > 1000000000", &backwards, true},
		{"pps 5", nil, true}, {"pps > 5", nil, false}, {"pps 0", &zeroDur, true},
		{"bps 20000", nil, true}, {"bps > 19k", nil, true}, {"bps 0", &zeroDur, true},
		{"bpp 500", nil, true}, {"bpp > 500", nil, false},
		{"first seen 2024-07-11T09:15:00.250", nil, true}, {"first seen > 2024-07-11T09:15", nil, true},
		{"first seen < 2024-07-11T09:15", nil, false}, {"first seen >= 2024-07-11", nil, true}, {"first seen < 2024-07-12", nil, true},
		{"first seen > 2024", nil, true}, {"first seen < 2024-07", nil, false},
		{"first seen > 2024-07-11T11:14:00+02:00", nil, true}, {"first seen > 2024-07-11T11:16:00+02:00", nil, false},
		{"first seen > 2024-07-11 09:14:59", nil, true}, {"first seen > '2024-07-11 09:15:01'", nil, false},
		{"first seen > 2024/07/11.09:14:59", nil, true}, {"first seen = 2024-07-11T09:15:00.250Z", nil, true},
		{"last seen 2024-07-11T09:15:02.250", nil, true}, {"last seen > 2024-07-11T09:15:02.250", nil, false},
		{"icmp-type 8", &icmp, true}, {"icmp-type 0", &icmp, false}, {"icmp-code 0", &icmp, true},
		{"icmp-type 1", nil, false}, {"icmp-code 187", nil, false}, // 443 = 1*256+187 but the flow is TCP
		{"vlan 42", nil, true}, {"src vlan 42", nil, true}, {"vlan > 42", nil, false},
		{"as 64512", nil, true}, {"src as 64512", nil, true}, {"dst as 64512", nil, false}, {"dst as 15169", nil, true},
		{"as > 64000", nil, true}, {"dst as > 64000", nil, false}, {"as in [1 15169]", nil, true}, {"src as in [1 15169]", nil, false},
		{"tos 32", nil, true}, {"src tos 0x20", nil, true}, {"tos 0", nil, false},
		{"in if 3", nil, true}, {"out if 7", nil, true}, {"in if 7", nil, false}, {"if 7", nil, true}, {"if 5", nil, false},
		{"router ip 172.16.0.1", nil, true}, {"exporter ip 172.16.0.1", nil, true}, {"exporter 172.16.0.0/16", nil, true},
		{"exporter ip 172.16.0.2", nil, false}, {"next ip 172.16.0.254", nil, true}, {"next ip 172.16.0.1", nil, false},
		{"next ip 0.0.0.0", &noHop, true}, {"next ip ::", &noHop, true}, {"next ip 0.0.0.0", nil, false},
		{"next ip in [1.2.3.4 0.0.0.0]", &noHop, true}, {"next ip in [1.2.3.4 0.0.0.1]", &noHop, false},
		{"mask 24", nil, true}, {"src mask 8", nil, true}, {"dst mask 8", nil, false}, {"mask > 24", nil, false},
	}
	for _, c := range cases {
		r := baseFlow()
		if c.rec != nil {
			r = *c.rec
		}
		f, err := Compile(c.expr, Flow)
		if err != nil {
			t.Errorf("Compile(%q): %v", c.expr, err)
			continue
		}
		if got := f.MatchFlow(&r); got != c.want {
			t.Errorf("%q on %v:%d->%v:%d = %v, want %v", c.expr, r.Src, r.SrcPort, r.Dst, r.DstPort, got, c.want)
		}
		// The column evaluator and the normalized form agree with MatchFlow.
		cols := columnsOf([]flow.Record{r})
		if got := f.MatchFlowColumns(cols, 0); got != c.want {
			t.Errorf("%q on columns = %v, want %v", c.expr, got, c.want)
		}
		g, err := Compile(f.String(), Flow)
		if err != nil {
			t.Errorf("recompile %q (from %q): %v", f.String(), c.expr, err)
			continue
		}
		if g.String() != f.String() || g.MatchFlow(&r) != c.want {
			t.Errorf("normalized %q of %q does not round-trip (%q)", f.String(), c.expr, g.String())
		}
	}
}

func columnsOf(recs []flow.Record) *FlowColumns {
	c := &FlowColumns{N: len(recs)}
	for _, r := range recs {
		c.First = append(c.First, r.First)
		c.Last = append(c.Last, r.Last)
		c.Src = append(c.Src, r.Src)
		c.Dst = append(c.Dst, r.Dst)
		c.SrcPort = append(c.SrcPort, r.SrcPort)
		c.DstPort = append(c.DstPort, r.DstPort)
		c.Proto = append(c.Proto, r.Proto)
		c.TCPFlags = append(c.TCPFlags, r.TCPFlags)
		c.ToS = append(c.ToS, r.ToS)
		c.VLAN = append(c.VLAN, r.VLAN)
		c.Packets = append(c.Packets, r.Packets)
		c.Bytes = append(c.Bytes, r.Bytes)
		c.OutPackets = append(c.OutPackets, r.OutPackets)
		c.OutBytes = append(c.OutBytes, r.OutBytes)
		c.Exporter = append(c.Exporter, r.Exporter)
		c.NextHop = append(c.NextHop, r.NextHop)
		c.SrcAS = append(c.SrcAS, r.SrcAS)
		c.DstAS = append(c.DstAS, r.DstAS)
		c.InIf = append(c.InIf, r.InIf)
		c.OutIf = append(c.OutIf, r.OutIf)
		c.SrcMask = append(c.SrcMask, r.SrcMask)
		c.DstMask = append(c.DstMask, r.DstMask)
	}
	return c
}

func TestDNSPrimitives(t *testing.T) {
	base := flow.DNSMessage{
		Client: addr("10.0.0.5"), Server: addr("192.0.2.53"), ClientPort: 40000, ServerPort: 53,
		Response: true, Rcode: 3, QName: "WWW.Example.COM", QType: 28,
	}
	query := base
	query.Response, query.Rcode = false, 0
	dotted := base
	dotted.QName = "www.example.com."
	cases := []struct {
		expr string
		m    *flow.DNSMessage
		want bool
	}{
		{"qname www.example.com", nil, true}, {"qname = 'www.example.com.'", nil, true}, {"qname == example.com", nil, false},
		{"qname www.example.com", &dotted, true},
		{"qname suffix example.com", nil, true}, {"qname suffix .EXAMPLE.com", nil, true}, {"qname suffix www.example.com", nil, true},
		{"qname suffix ample.com", nil, false}, {"qname suffix com", nil, true}, {"qname suffix example.org", nil, false},
		{"qname suffix example.com", &dotted, true},
		{"qname ~ '^www\\.'", nil, true}, {"qname ~ \"example\\.(com|org)$\"", nil, true}, {"qname ~ '^example'", nil, false},
		{"qtype AAAA", nil, true}, {"qtype aaaa", nil, true}, {"qtype 28", nil, true}, {"qtype A", nil, false},
		{"qtype in [A AAAA]", nil, true}, {"qtype any", nil, false}, {"qtype > 16", nil, true},
		{"rcode NXDOMAIN", nil, true}, {"rcode 3", nil, true}, {"rcode noerror", nil, false}, {"rcode noerror", &query, true},
		{"rcode > 0", nil, true}, {"rcode in [servfail nxdomain]", nil, true},
		{"client 10.0.0.5", nil, true}, {"client ip 10.0.0.5", nil, true}, {"client net 10.0.0.0/8", nil, true},
		{"client 10.0.0.0/8", nil, true}, {"client in [1.2.3.4 10.0.0.0/24]", nil, true}, {"client 192.0.2.53", nil, false},
		{"server 192.0.2.53", nil, true}, {"server net 192.0.2.0 255.255.255.0", nil, true}, {"server in [10.0.0.5]", nil, false},
		{"client port 40000", nil, true}, {"server port 53", nil, true}, {"server port 5353", nil, false},
		{"response", nil, true}, {"query", nil, false}, {"query", &query, true}, {"not response", &query, true},
		{"response and rcode nxdomain and qname suffix example.com", nil, true},
	}
	for _, c := range cases {
		m := base
		if c.m != nil {
			m = *c.m
		}
		f, err := Compile(c.expr, DNS)
		if err != nil {
			t.Errorf("Compile(%q): %v", c.expr, err)
			continue
		}
		if got := f.MatchDNS(&m); got != c.want {
			t.Errorf("%q on %q = %v, want %v", c.expr, m.QName, got, c.want)
		}
		g, err := Compile(f.String(), DNS)
		if err != nil || g.String() != f.String() || g.MatchDNS(&m) != c.want {
			t.Errorf("normalized %q of %q does not round-trip: %v", f.String(), c.expr, err)
		}
	}
}

func TestScoreFields(t *testing.T) {
	r := baseFlow()
	cases := []struct {
		expr string
		res  Result
		want bool
	}{
		{"score < 1e-6", Result{Score: 1e-7, Kind: "flow"}, true},
		{"score < 1e-6", Result{Score: 1e-5, Kind: "flow"}, false},
		{"score >= 0.5", Result{Score: 0.5}, true},
		{"score = 0", Result{}, true},
		{"score < 1", Result{Score: math.NaN()}, false},
		{"kind flow", Result{Kind: "flow"}, true},
		{"kind = 'DNS'", Result{Kind: "dns"}, true},
		{"kind beacon", Result{Kind: "flow"}, false},
		{"kind flow and score < 0.01 and dst port 443", Result{Kind: "flow", Score: 0.001}, true},
	}
	for _, c := range cases {
		f, err := Compile(c.expr, Flow|Score)
		if err != nil {
			t.Errorf("Compile(%q): %v", c.expr, err)
			continue
		}
		if got := f.MatchFlowResult(&r, c.res); got != c.want {
			t.Errorf("%q on %+v = %v, want %v", c.expr, c.res, got, c.want)
		}
		m := flow.DNSMessage{}
		if strings.Contains(c.expr, "port") {
			continue
		}
		if got := f.MatchResult(c.res); got != c.want {
			t.Errorf("MatchResult %q on %+v = %v, want %v", c.expr, c.res, got, c.want)
		}
		g, _ := Compile(c.expr, DNS|Score)
		if got := g.MatchDNSResult(&m, c.res); got != c.want {
			t.Errorf("MatchDNSResult %q on %+v = %v, want %v", c.expr, c.res, got, c.want)
		}
	}
	// Columns: the Score column and the table's kind.
	f, _ := Compile("score < 0.1 and kind flow", Flow|Score)
	cols := columnsOf([]flow.Record{r, r, r})
	cols.Score = []float64{0.05, 0.5} // row 2 has no score: NaN never matches
	cols.Kind = "flow"
	if got := f.Select(cols, nil); len(got) != 1 || got[0] != 0 {
		t.Errorf("Select = %v, want [0]", got)
	}
}

// TestPrecedence pins not > and > or, left associativity and parentheses
// with terms that are true (T: proto tcp) or false (F: proto udp).
func TestPrecedence(t *testing.T) {
	r := baseFlow()
	cases := []struct {
		expr, norm string
		want       bool
	}{
		{"T or F and F", "proto = tcp or proto = udp and proto = udp", true},      // T or (F and F)
		{"(T or F) and F", "(proto = tcp or proto = udp) and proto = udp", false}, // parentheses
		{"F and F or T", "proto = udp and proto = udp or proto = tcp", true},      // (F and F) or T
		{"F and (F or T)", "proto = udp and (proto = udp or proto = tcp)", false},
		{"not F and F", "not proto = udp and proto = udp", false}, // (not F) and F
		{"not (F and F)", "not (proto = udp and proto = udp)", true},
		{"not T or T", "not proto = tcp or proto = tcp", true},
		{"not (T or T)", "not (proto = tcp or proto = tcp)", false},
		{"! T || T && F", "not proto = tcp or proto = tcp and proto = udp", false},
		{"not not T", "not not proto = tcp", true},
		{"((T))", "proto = tcp", true},
		{"T and T and F or T", "proto = tcp and proto = tcp and proto = udp or proto = tcp", true},
		{"T AND nOt F", "proto = tcp and not proto = udp", true},
		{"T Or F", "proto = tcp or proto = udp", true},
		{"(T or F) and (F or T) and not (F or F)", "(proto = tcp or proto = udp) and (proto = udp or proto = tcp) and not (proto = udp or proto = udp)", true},
		{"T # comment and F\n and # more\n T", "proto = tcp and proto = tcp", true},
		{"T\n\tand\n\tnot F", "proto = tcp and not proto = udp", true},
	}
	for _, c := range cases {
		expr := strings.NewReplacer("T", "proto tcp", "F", "proto udp").Replace(c.expr)
		f, err := Compile(expr, Flow)
		if err != nil {
			t.Errorf("Compile(%q): %v", expr, err)
			continue
		}
		if got := f.MatchFlow(&r); got != c.want {
			t.Errorf("%q = %v, want %v", c.expr, got, c.want)
		}
		if f.String() != c.norm {
			t.Errorf("%q normalizes to %q, want %q", c.expr, f.String(), c.norm)
		}
	}
}

func TestNumbers(t *testing.T) {
	cases := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, {"10", 10, true}, {"010", 10, true}, {"1k", 1000, true}, {"1K", 1000, true},
		{"2m", 2e6, true}, {"2M", 2e6, true}, {"3g", 3e9, true}, {"3G", 3e9, true}, {"4t", 4e12, true},
		{"0x10", 16, true}, {"0XfF", 255, true}, {"18446744073709551615", math.MaxUint64, true},
		{"18446744073709551616", 0, false}, {"18446744073709552k", 0, false}, {"k", 0, false},
		{"1.5k", 0, false}, {"-1", 0, false}, {"+1", 0, false}, {"0x", 0, false}, {"1kk", 0, false}, {"", 0, false},
	}
	for _, c := range cases {
		v, err := parseNumber(c.in)
		if (err == nil) != c.ok || v != c.want {
			t.Errorf("parseNumber(%q) = %d, %v; want %d ok=%v", c.in, v, err, c.want, c.ok)
		}
	}
}

func TestTimes(t *testing.T) {
	cases := []struct{ in, want string }{
		{"2024", "2024-01-01T00:00:00.000Z"},
		{"2024-07", "2024-07-01T00:00:00.000Z"},
		{"2024-07-11", "2024-07-11T00:00:00.000Z"},
		{"2024-07-11T09", "2024-07-11T09:00:00.000Z"},
		{"2024-07-11T09:15", "2024-07-11T09:15:00.000Z"},
		{"2024-07-11T09:15:30", "2024-07-11T09:15:30.000Z"},
		{"2024-07-11T09:15:30.5", "2024-07-11T09:15:30.500Z"},
		{"2024-07-11T09:15:30.123456789Z", "2024-07-11T09:15:30.123Z"},
		{"2024-07-11T09:15:30+02:00", "2024-07-11T07:15:30.000Z"},
		{"2024-07-11T09:15-0130", "2024-07-11T10:45:00.000Z"},
		{"2024-07-11 09:15:30", "2024-07-11T09:15:30.000Z"},
		{"2024/07/11.09:15:30", "2024-07-11T09:15:30.000Z"},
		{"2024-07-11T09:15:30z", "2024-07-11T09:15:30.000Z"},
		{"2024-02-30", ""}, {"2024-13", ""}, {"2024-07-11T24", ""}, {"24-07-11", ""}, {"2024-7-11", ""},
		{"2024-07/11", ""}, {"2024-07-11T09:15:30.", ""}, {"2024-07-11T09:15:30x", ""}, {"2024-07-11T09:15+25:00", ""},
	}
	for _, c := range cases {
		ms, err := parseTime(c.in)
		got := ""
		if err == nil {
			got = formatTime(ms)
		}
		if got != c.want {
			t.Errorf("parseTime(%q) = %q (%v), want %q", c.in, got, err, c.want)
		}
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		expr string
		kind Kind
		want string // exact first line
	}{
		{"src ip 10.0.0.1 and prot tcp", Flow, `filter:1:21: unknown primitive "prot" (did you mean "proto"?)`},
		{"proto tcp and\n  (port 80 or\n   pirt 443)", Flow, `filter:3:4: unknown primitive "pirt" (did you mean "port"?)`},
		{"proto tcp tcp", Flow, `filter:1:11: unexpected "tcp" after a complete expression (missing and/or?)`},
		{"proto tpc", Flow, `filter:1:7: expected a number or name, found "tpc" (did you mean "tcp"?)`},
		{"(port 80", Flow, `filter:1:1: unclosed parenthesis`},
		{"port 80)", Flow, `filter:1:8: unexpected ")" after a complete expression (missing and/or?)`},
		{"()", Flow, `filter:1:2: empty parentheses`},
		{"port 80 and", Flow, `filter:1:12: expected a filter term, found end of filter`},
		{"port 70000", Flow, `filter:1:6: 70000 is out of range (at most 65535)`},
		{"port > x", Flow, `filter:1:8: expected a number, found "x"`},
		{"ip 10.0.0.256", Flow, `filter:1:4: "10.0.0.256" is not an IP address`},
		{"net 10.0.0.0/33", Flow, `filter:1:5: "10.0.0.0/33" is not an address or CIDR prefix`},
		{"net 10.0.0.0 255.0.255.0", Flow, `filter:1:14: netmask 255.0.255.0 is not contiguous`},
		{"ip in [10.0.0.1", Flow, `filter:1:7: unclosed list`},
		{"ip in []", Flow, `filter:1:8: empty list`},
		{"port in [80 (]", Flow, `filter:1:13: unexpected "(" in a list`},
		{"flags SZ", Flow, `filter:1:8: unknown TCP flag "Z" (use letters of CEUAPRSF, X for all)`},
		{"qname example.com", Flow, `filter:1:1: "qname" is a dns field; this filter applies to flow records`},
		{"port 53", DNS, `filter:1:1: "port" is a flow field; this filter applies to dns records`},
		{"score < 1", Flow, `filter:1:1: "score" is a score field; this filter applies to flow records`},
		{"qname ~ '(('", DNS, "filter:1:9: bad regular expression: error parsing regexp: missing closing ): `((`"},
		{"qname ~ 'abc", DNS, `filter:1:9: expected a regular expression, found unterminated string`},
		{"first seen > 2024-13-01", Flow, `filter:1:14: "2024-13-01" is not a time: field out of range`},
		{"first 2024", Flow, `filter:1:7: expected "seen" after "first", found "2024"`},
		{"src proto tcp", Flow, `filter:1:5: "src" qualifies ip, host, net, port, as, mask, tos and vlan, not "proto"`},
		{"in port 80", Flow, `filter:1:4: "in" qualifies only if, packets and bytes, not "port"`},
		{"port 80 & port 81", Flow, `filter:1:9: unexpected character "&" after a complete expression (missing and/or?)`},
		{"bytes > 1x", Flow, `filter:1:9: expected a number, found "1x"`},
		{strings.Repeat("(", 300) + "any" + strings.Repeat(")", 300), Flow, `filter:1:201: filter nests deeper than 200 levels`},
		{"any and\xff", Flow, `filter:1:8: filter is not valid UTF-8`},
		{"\tport 80 and\n\t\tbogus", Flow, `filter:2:3: unknown primitive "bogus"`},
	}
	for _, c := range cases {
		_, err := Compile(c.expr, c.kind)
		if err == nil {
			t.Errorf("Compile(%q) succeeded", c.expr)
			continue
		}
		first, _, _ := strings.Cut(err.Error(), "\n")
		if first != c.want {
			t.Errorf("Compile(%q):\n got  %s\n want %s", c.expr, first, c.want)
		}
		if Check(c.expr, c.kind) == nil {
			t.Errorf("Check(%q) = nil", c.expr)
		}
	}
}

// TestErrorCaret pins the gojq-style rendering: the line and a caret under
// the bad token, tabs kept so the caret lines up.
func TestErrorCaret(t *testing.T) {
	_, err := CompileNamed("rules.flt", "proto tcp and\n\t(port 80 or prot 443)", Flow)
	want := "rules.flt:2:14: unknown primitive \"prot\" (did you mean \"proto\"?)\n" +
		"    \t(port 80 or prot 443)\n" +
		"    \t            ^"
	if err == nil || err.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", err, want)
	}
	var e *Error
	if !asError(err, &e) || e.Line != 2 || e.Col != 14 || e.Name != "rules.flt" {
		t.Errorf("Error fields = %+v", e)
	}
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	*target = e
	return ok
}

// TestLargeIPList checks that a list of thousands of entries compiles to
// merged ranges and matches exactly the listed addresses.
func TestLargeIPList(t *testing.T) {
	var b strings.Builder
	b.WriteString("dst ip in [")
	for i := 0; i < 5000; i++ {
		// every other /32 in 10.0.0.0/16, plus some prefixes
		a := netip.AddrFrom4([4]byte{10, 0, byte(i * 2 >> 8), byte(i * 2)})
		b.WriteString(a.String())
		b.WriteString(", ")
	}
	b.WriteString("192.168.0.0/16 192.168.5.0/24 2001:db8::/32]")
	f, err := Compile(b.String(), Flow)
	if err != nil {
		t.Fatal(err)
	}
	r := baseFlow()
	for i := 0; i < 10000; i++ {
		r.Dst = flow.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		if got, want := f.MatchFlow(&r), i%2 == 0; got != want {
			t.Fatalf("10.0.%d.%d: %v, want %v", i>>8, i&255, got, want)
		}
	}
	for s, want := range map[string]bool{"192.168.255.255": true, "192.169.0.0": false, "2001:db8:ffff::1": true, "::ffff:10.0.0.0": true, "::a00:0": false} {
		r.Dst = addr(s)
		if got := f.MatchFlow(&r); got != want {
			t.Errorf("%s: %v, want %v", s, got, want)
		}
	}
}

func TestAddrSetNormalize(t *testing.T) {
	r := func(lo, hi uint64) addrRange { return addrRange{u128{0, lo}, u128{0, hi}} }
	got := addrSet{r(10, 20), r(5, 9), r(21, 21), r(30, 40), r(35, 36), r(50, 50)}.normalize()
	want := addrSet{r(5, 21), r(30, 40), r(50, 50)}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	top := addrRange{u128{^uint64(0), ^uint64(0) - 1}, u128{^uint64(0), ^uint64(0)}}
	if n := (addrSet{top, top}).normalize(); len(n) != 1 {
		t.Errorf("top range: %v", n)
	}
}

func TestColumnsBounds(t *testing.T) {
	f, _ := Compile("bytes > 10 or src ip 0.0.0.0 or ipv6", Flow)
	c := &FlowColumns{N: 3, Bytes: []uint64{100}} // short and missing columns read as zero
	if got := f.Select(c, nil); len(got) != 3 {
		t.Errorf("Select = %v, want all three rows (missing Src reads as ::, i.e. ipv6)", got)
	}
	if f.MatchFlowColumns(c, -1) || f.MatchFlowColumns(c, 3) {
		t.Error("rows outside [0,N) matched")
	}
	g, _ := Compile("bytes > 10", Flow)
	if got := g.SelectRange(c, -5, 99, nil); len(got) != 1 || got[0] != 0 {
		t.Errorf("SelectRange = %v", got)
	}
}

func TestZeroAllocs(t *testing.T) {
	f, err := Compile("src net 10.0.0.0/8 and dst port in [80 443] and bytes > 1k and not flags R or ip in [1.1.1.1 2.2.2.2 3.3.3.0/24]", Flow)
	if err != nil {
		t.Fatal(err)
	}
	r := baseFlow()
	cols := columnsOf([]flow.Record{r})
	dst := make([]int32, 0, 4)
	if n := testing.AllocsPerRun(100, func() {
		f.MatchFlow(&r)
		f.MatchFlowColumns(cols, 0)
		dst = f.Select(cols, dst[:0])
	}); n != 0 {
		t.Errorf("%v allocations per run", n)
	}
	d, _ := Compile("qname suffix example.com and qtype AAAA or qname ~ 'x[0-9]+'", DNS|Score)
	m := flow.DNSMessage{QName: "a.example.com", QType: 28}
	if n := testing.AllocsPerRun(100, func() { d.MatchDNSResult(&m, Result{Score: 1, Kind: "dns"}) }); n != 0 {
		t.Errorf("DNS: %v allocations per run", n)
	}
}

// TestSelectMatchesRows checks the block evaluator of Select against the
// row evaluator on random rows, including short columns and ranges that
// cross block boundaries.
func TestSelectMatchesRows(t *testing.T) {
	const n = 3*vecBlock + 123
	x := uint64(42)
	rnd := func() uint64 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x }
	recs := make([]flow.Record, n)
	for i := range recs {
		r := &recs[i]
		v := rnd()
		r.Src = flow.AddrFrom4([4]byte{byte(v) & 15, 0, 0, byte(v >> 8)})
		r.Dst = flow.AddrFrom4([4]byte{192, 168, 0, byte(v >> 16)})
		if v&64 != 0 {
			r.Dst = addr("2001:db8::1")
		}
		r.SrcPort, r.DstPort = uint16(v>>24)&7, uint16(v>>28)&7
		r.Proto = []uint8{6, 17, 1}[v>>32%3]
		r.Packets, r.Bytes = v>>40&15, v>>44&4095
	}
	full := columnsOf(recs)
	short := columnsOf(recs)
	short.Bytes = short.Bytes[:n/2]
	short.Src = short.Src[:vecBlock+7]
	short.DstPort = nil
	exprs := append(slices.Clone(nfdumpFilters),
		"src net 10.0.0.0/8 and dst port 3 and bytes > 1k", "src net 1.0.0.0/8 and dst ip 192.168.0.7",
		"proto udp and src port >= 2 and dst port < 5 and packets le 7 and not bytes gt 3000",
		"bytes = 100 and src ip 3.0.0.9", "dst net 2001:db8::/32 and proto 6",
		"dst port 3 or bytes > 2k", "not proto 6", "not (dst port 3 or src port 1) and proto 6",
		"src port 1 or (dst port 2 and not bytes > 100) or dst net 2001:db8::/32 or flags S")
	for _, e := range exprs {
		f, err := Compile(e, Flow)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []*FlowColumns{full, short} {
			var want []int32
			for i := 0; i < n; i++ {
				if f.MatchFlowColumns(c, i) {
					want = append(want, int32(i))
				}
			}
			if got := f.Select(c, nil); !slices.Equal(got, want) {
				t.Errorf("%q: Select picks %d rows, row by row %d", e, len(got), len(want))
			}
			var part []int32
			for lo := -3; lo < n+10; lo += 1000 {
				part = f.SelectRange(c, lo, lo+1000, part)
			}
			if !slices.Equal(part, want) {
				t.Errorf("%q: SelectRange in pieces differs", e)
			}
		}
	}
}

// TestRegression_QnameTwoTrailingDots is the fuzzer's find (FuzzCompile,
// corpus entry b5d8b8810be8cdf1): "qname '000000..'" normalized to
// "qname = 000000.", which normalized again to "qname = 000000", a
// different term. The normal form now keeps the second dot.
func TestRegression_QnameTwoTrailingDots(t *testing.T) {
	f, err := Compile("qnAme '000000..'", DNS)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Compile(f.String(), DNS)
	if err != nil || g.String() != f.String() {
		t.Fatalf("normal form %q reparses to %v (%v)", f.String(), g, err)
	}
	for name, want := range map[string]bool{"000000..": true, "000000.": false, "000000": false} {
		m := flow.DNSMessage{QName: name}
		if f.MatchDNS(&m) != want || g.MatchDNS(&m) != want {
			t.Errorf("qname %q: match %v and %v, want %v", name, f.MatchDNS(&m), g.MatchDNS(&m), want)
		}
	}
}
