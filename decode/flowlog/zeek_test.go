package flowlog

import (
	"strings"
	"testing"

	"github.com/spotctl/spotctl/decode/flow"
)

// The fixtures in testdata are Zeek 6 style logs written for these tests:
// conn.log/dns.log (TSV) and conn.json/dns.json (JSON lines) hold the same
// records, including hostile strings (terminal escapes, NUL, TAB, bytes
// that are not UTF-8, a query that is literally "-").
func TestZeekGolden(t *testing.T) {
	for _, c := range []struct {
		file string
		f    Format
	}{{"conn.log", ZeekConn}, {"dns.log", ZeekDNS}} {
		res := readAll(t, readFile(t, "testdata/"+c.file), c.f, Options{})
		if len(res.errs) != 0 {
			t.Errorf("%s: %v", c.file, res.errs)
		}
		golden(t, strings.TrimSuffix(c.file, ".log")+".golden", res.render())
	}
}

func TestZeekJSONEqualsTSV(t *testing.T) {
	for _, c := range []struct {
		tsv, json string
		f, fj     Format
	}{{"conn.log", "conn.json", ZeekConn, ZeekConnJSON}, {"dns.log", "dns.json", ZeekDNS, ZeekDNSJSON}} {
		a := readAll(t, readFile(t, "testdata/"+c.tsv), c.f, Options{})
		b := readAll(t, readFile(t, "testdata/"+c.json), c.fj, Options{})
		if len(b.errs) != 0 {
			t.Fatalf("%s: %v", c.json, b.errs)
		}
		// Lines differ (TSV headers); records must not.
		a.st, b.st = Stats{}, Stats{}
		if ga, gb := a.render(), b.render(); ga != gb {
			t.Errorf("%s and %s differ:\n%s\n---\n%s", c.tsv, c.json, ga, gb)
		}
	}
}

func TestZeekConnMapping(t *testing.T) {
	res := readAll(t, readFile(t, "testdata/conn.log"), ZeekConn, Options{})
	if len(res.flows) != 9 {
		t.Fatalf("%d flows", len(res.flows))
	}
	// Row 1: orig_ip_bytes, not orig_bytes; duration; history flags.
	want := flow.Record{
		First: unix("2024-03-05T10:00:00.123456Z"), Last: unix("2024-03-05T10:00:00.368766Z"),
		Src: mustAddr("10.0.0.5"), Dst: mustAddr("93.184.216.34"), SrcPort: 49152, DstPort: 80,
		Proto: flow.ProtoTCP, TCPFlags: flow.TCPSyn | flow.TCPAck | flow.TCPPsh | flow.TCPFin,
		Packets: 7, Bytes: 784, OutPackets: 6, OutBytes: 1525, Evidence: 7,
	}
	if res.flows[0] != want {
		t.Errorf("row 1\n got  %+v\n want %+v", res.flows[0], want)
	}
	checks := []struct {
		row            int
		proto          uint8
		sport, dport   uint16
		durationIsZero bool
	}{
		{2, flow.ProtoICMP, 0, 8 << 8, false},    // echo request: type 8 in orig_p, code 0 in resp_p
		{3, flow.ProtoICMPv6, 0, 135 << 8, true}, // "icmp" over IPv6 is ICMPv6
		{4, flow.ProtoTCP, 51000, 22, true},      // S0: no duration
		{7, 47, 0, 0, false},                     // unknown_transport: ip_proto
	}
	for _, c := range checks {
		r := res.flows[c.row]
		if r.Proto != c.proto || r.SrcPort != c.sport || r.DstPort != c.dport || (r.Last == r.First) != c.durationIsZero {
			t.Errorf("row %d: %s", c.row+1, formatFlow(&r, ""))
		}
	}
}

func TestZeekDNSMapping(t *testing.T) {
	res := readAll(t, readFile(t, "testdata/dns.log"), ZeekDNS, Options{})
	if len(res.dns) != 9 || len(res.flows) != 0 {
		t.Fatalf("%d DNS, %d flows", len(res.dns), len(res.flows))
	}
	m := res.dns[0]
	want := flow.DNSMessage{
		TS: unix("2024-03-05T10:00:01.012101Z"), Client: mustAddr("10.0.0.5"), Server: mustAddr("10.0.0.1"),
		ClientPort: 53211, ServerPort: 53, Transport: flow.ProtoUDP, ID: 4660, Response: true,
		Flags: flow.DNSFlagRD | flow.DNSFlagRA, QName: "www.example.com", QType: 1, QClass: 1, ANCount: 3, TTL: 60, Evidence: 7,
	}
	wantAns := []flow.Answer{{Type: 5, Data: "www.example.com.edgekey.net"}, {Type: 1, Data: "93.184.216.34"}, {Type: 1, Data: "93.184.216.35"}}
	got := m
	got.Answers = nil
	if formatDNS(&got) != formatDNS(&want) || got.Evidence != want.Evidence || len(m.Answers) != 3 {
		t.Fatalf("row 1\n got  %+v\n want %+v", m, want)
	}
	for i := range wantAns {
		if m.Answers[i] != wantAns[i] {
			t.Errorf("answer %d = %+v, want %+v", i, m.Answers[i], wantAns[i])
		}
	}
	if q := res.dns[2]; q.Response || q.TS != unix("2024-03-05T10:00:03Z") || q.QType != 28 {
		t.Errorf("unanswered query: %s", formatDNS(&q))
	}
	if q := res.dns[4]; q.QName != "\x1b[2Jevil\x00\t\xff.example.com" {
		t.Errorf("hostile name %q", q.QName)
	}
	if q := res.dns[3]; len(q.Answers) != 2 || q.Answers[0].Data != `"v=spf1 -all"` || q.Answers[1].Data != `"a,b" "q\"uote\\!"` {
		t.Errorf("TXT answers %+v", q.Answers)
	}
	if q := res.dns[6]; q.Transport != flow.ProtoTCP || q.Flags != flow.DNSFlagTC|flow.DNSFlagRD|flow.DNSFlagRA|flow.DNSFlagAD || q.Answers[0].Type != 28 {
		t.Errorf("AAAA over TCP: %s", formatDNS(&q))
	}
	if q := res.dns[7]; q.QName != "-" || q.Rcode != 5 || q.ANCount != 0 || q.Flags != flow.DNSFlagRD|flow.DNSFlagCD {
		t.Errorf("literal '-' query: %s", formatDNS(&q))
	}
}

func TestZeekEdges(t *testing.T) {
	const pre = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
	connFields := "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tduration\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\n"
	connRow := "1.5\tC1\t10.0.0.1\t1000\t10.0.0.2\t80\ttcp\t2.5\t3\t180\t2\t120\n"
	dnsFields := "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\tquery\tqtype\trcode\tanswers\tTTLs\n"
	dnsRow := "2\tC2\t10.0.0.1\t5353\t10.0.0.2\t53\tudp\t1\texample.com\t1\t0\t1.2.3.4\t10.0\n"
	cases := []struct {
		name       string
		data       string
		f          Format
		flows, dns int
		skipped    int64
		errs       []string
		check      func(t *testing.T, res result)
	}{
		{name: "conn then dns in one file", f: ZeekConn, flows: 1, dns: 1,
			data: pre + "#path\tconn\n" + connFields + connRow + "#close\tx\n" + pre + "#path\tdns\n" + dnsFields + dnsRow},
		{name: "kind from fields when #path is missing", f: ZeekConn, flows: 1, dns: 1,
			data: pre + connFields + connRow + pre + dnsFields + dnsRow},
		{name: "other logs are skipped", f: ZeekConn, flows: 1, skipped: 2,
			errs: []string{`Zeek "http" log is neither conn nor dns`},
			data: pre + "#path\thttp\n#fields\tts\tuid\thost\n1\tC\ta\n2\tC\tb\n" + pre + "#path\tconn\n" + connFields + connRow},
		{name: "missing required field", f: ZeekConn, skipped: 1, errs: []string{`no "proto" field`},
			data: pre + "#path\tconn\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\n1\t10.0.0.1\t1\t10.0.0.2\t2\n"},
		{name: "bad rows", f: ZeekConn, flows: 1,
			errs: []string{"12 fields, #fields has 12", "column id.orig_h", "column id.resp_p", "column duration", "column ts", "column proto", "ICMP type 300"},
			data: pre + connFields +
				"1\tC\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\t1\t1\t1\t1\t1\textra\n" +
				"1\tC\t10.0.0.x\t1\t10.0.0.2\t2\ttcp\t1\t1\t1\t1\t1\n" +
				"1\tC\t10.0.0.1\t1\t10.0.0.2\t65536\ttcp\t1\t1\t1\t1\t1\n" +
				"1\tC\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\t-1\t1\t1\t1\t1\n" +
				"-\tC\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\t1\t1\t1\t1\t1\n" +
				"1\tC\t10.0.0.1\t1\t10.0.0.2\t2\tsctpish\t1\t1\t1\t1\t1\n" +
				"1\tC\t10.0.0.1\t300\t10.0.0.2\t2\ticmp\t1\t1\t1\t1\t1\n" +
				connRow},
		{name: "record before #fields", f: ZeekConn, flows: 1, errs: []string{"record before the #fields line"},
			data: pre + connRow + connFields + connRow},
		{name: "no #separator", f: ZeekConn, errs: []string{"without a #separator line"}, data: connFields + connRow},
		{name: "no header at all", f: ZeekDNS, errs: []string{"without #separator and #fields"}, data: dnsRow},
		{name: "IoT-23 label columns joined by spaces", f: ZeekConn, flows: 2,
			data: pre + "#path\tconn\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttunnel_parents   label   detailed-label\n" +
				"1\t10.0.0.1\t1\t10.0.0.2\t23\ttcp\t-   Malicious   PartOfAHorizontalPortScan\n" +
				"2\t10.0.0.1\t2\t10.0.0.3\t80\ttcp\t-   Benign   -\n",
			check: func(t *testing.T, res result) {
				if res.labels[0] != "Malicious PartOfAHorizontalPortScan" || res.labels[1] != "Benign" {
					t.Errorf("labels %q", res.labels)
				}
			}},
		{name: "comma separator and custom unset", f: ZeekDNS, dns: 1,
			data: "#separator ,\n#set_separator,|\n#unset_field,NONE\n#fields,ts,id.orig_h,id.orig_p,id.resp_h,id.resp_p,proto,query,rcode,answers,TTLs\n" +
				"5,10.0.0.1,1,10.0.0.2,53,udp,a\\x2cb.example,NONE,1.1.1.1|2.2.2.2,NONE\n",
			check: func(t *testing.T, res result) {
				if m := res.dns[0]; m.QName != "a,b.example" || m.Response || len(m.Answers) != 2 || m.TTL != 0 {
					t.Errorf("%s", formatDNS(&m))
				}
			}},
		{name: "many answers are capped", f: ZeekDNS, dns: 1,
			data: pre + dnsFields + "2\tC2\t10.0.0.1\t5353\t10.0.0.2\t53\tudp\t1\texample.com\t1\t0\t" +
				strings.TrimSuffix(strings.Repeat("10.0.0.1,", 100), ",") + "\t" + strings.TrimSuffix(strings.Repeat("7,", 100), ",") + "\n",
			check: func(t *testing.T, res result) {
				if m := res.dns[0]; m.ANCount != 100 || len(m.Answers) != maxAnswers || m.TTL != 7 {
					t.Errorf("ANCount %d, %d answers, TTL %d", m.ANCount, len(m.Answers), m.TTL)
				}
			}},
		{name: "bad DNS fields", f: ZeekDNS, errs: []string{"column qtype", "column rcode", "column proto", "column TTLs", "column RD"},
			data: pre + "#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tqtype\trcode\tanswers\tTTLs\tRD\n" +
				"1\t10.0.0.1\t1\t10.0.0.2\t53\tudp\t65536\t0\t-\t-\tT\n" +
				"1\t10.0.0.1\t1\t10.0.0.2\t53\tudp\t1\t256\t-\t-\tT\n" +
				"1\t10.0.0.1\t1\t10.0.0.2\t53\tsctp\t1\t0\t-\t-\tT\n" +
				"1\t10.0.0.1\t1\t10.0.0.2\t53\tudp\t1\t0\ta.example\tsoon\tT\n" +
				"1\t10.0.0.1\t1\t10.0.0.2\t53\tudp\t1\t0\t-\t-\tyes\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := readAll(t, []byte(c.data), c.f, Options{})
			if len(res.flows) != c.flows || len(res.dns) != c.dns || res.st.Skipped != c.skipped || len(res.errs) != len(c.errs) {
				t.Fatalf("%d flows, %d DNS, %d skipped, errors %v", len(res.flows), len(res.dns), res.st.Skipped, res.errs)
			}
			for i, e := range res.errs {
				if !strings.Contains(e.Error(), c.errs[i]) {
					t.Errorf("error %v, want %q", e, c.errs[i])
				}
			}
			if c.check != nil {
				c.check(t, res)
			}
		})
	}
}

func TestZeekJSONEdges(t *testing.T) {
	conn := `{"ts":1.5,"id.orig_h":"10.0.0.1","id.orig_p":1000,"id.resp_h":"10.0.0.2","id.resp_p":80,"proto":"tcp","conn_state":"S0"}`
	cases := []struct {
		name       string
		data       string
		f          Format
		flows, dns int
		skipped    int64
		errs       []string
		check      func(t *testing.T, res result)
	}{
		{name: "_path decides", f: ZeekConnJSON, flows: 1, dns: 1, skipped: 1,
			data: `{"_path":"conn","ts":1,"id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":2,"proto":"udp"}` + "\n" +
				`{"_path":"dns","ts":1,"id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":53,"proto":"udp"}` + "\n" +
				`{"_path":"http","ts":1,"id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":80}` + "\n"},
		{name: "blank lines and whitespace", f: ZeekConnJSON, flows: 2, data: "\n  " + conn + "  \r\n\n" + conn},
		{name: "exponent timestamp and nested unknown members", f: ZeekConnJSON, flows: 1,
			data: `{"ts":1.7096328e9,"extra":{"a":[1,[2,{"b":null}]],"c":"\ud83d\ude00"},"id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":2,"proto":"udp","history":"D"}`,
			check: func(t *testing.T, res result) {
				if res.flows[0].First != 1709632800e9 {
					t.Errorf("ts %d", res.flows[0].First)
				}
			}},
		{name: "syntax errors keep going", f: ZeekConnJSON, flows: 1,
			errs: []string{"expected ',' or '}'", "data after the JSON object", "bad string", "expected ':'", "nesting too deep", "unexpected character", "is an object", "null element"},
			data: `{"ts":1 "x":2}` + "\n" + conn + "}\n" + `{"ts":"\q"}` + "\n" + `{"ts" 1}` + "\n" +
				`{"a":[[[[[[[[[1]]]]]]]]]}` + "\n" + `{"ts":@}` + "\n" + `{"proto":{"x":1}}` + "\n" + `{"answers":[null]}` + "\n" + conn + "\n"},
		{name: "first line not JSON", f: ZeekDNSJSON, errs: []string{"not a JSON object"}, data: "#separator \\x09\n" + conn},
		{name: "unicode escapes and Zeek byte escapes", f: ZeekDNSJSON, dns: 1,
			data: `{"ts":1,"id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":53,"proto":"udp","query":"\u00e9\ud800x\\xff\\x2\\x41\"\/","rcode":0}`,
			check: func(t *testing.T, res result) {
				// \u00e9 is é; a lone surrogate is U+FFFD; \\xff (JSON for
				// Zeek's \xff) is byte 0xff; \\x2 is no escape and stays;
				// \\x41 is 'A'.
				if q := res.dns[0].QName; q != "é\ufffdx\xff\\x2A\"/" {
					t.Errorf("QName %q", q)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := readAll(t, []byte(c.data), c.f, Options{})
			if len(res.flows) != c.flows || len(res.dns) != c.dns || res.st.Skipped != c.skipped || len(res.errs) != len(c.errs) {
				t.Fatalf("%d flows, %d DNS, %d skipped, errors %v", len(res.flows), len(res.dns), res.st.Skipped, res.errs)
			}
			for i, e := range res.errs {
				if !strings.Contains(e.Error(), c.errs[i]) {
					t.Errorf("error %v, want %q", e, c.errs[i])
				}
			}
			if c.check != nil {
				c.check(t, res)
			}
		})
	}
}
