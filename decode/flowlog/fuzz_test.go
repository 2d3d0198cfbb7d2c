package flowlog

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/decodetest"
	"github.com/spotctl/spotctl/decode/flow"
)

// sharedHead returns the first n lines of a shared file, or nil when the
// shared data is absent (fuzzing must not skip).
func sharedHead(f *testing.F, rel string, n int) []byte {
	p := filepath.Join(filepath.Dir(decodetest.RepoRoot(f)), "shared", "testdata", rel)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil
	}
	lines := strings.SplitAfter(string(b), "\n")
	return []byte(strings.Join(lines[:min(n, len(lines))], ""))
}

// fuzzRead is the property every parser keeps on any input: no panic, no
// endless loop, errors at line starts with line numbers, counters that add
// up (checkInvariants); the same output whatever the source's read sizes;
// and a small MaxLine changes nothing but the over-long lines.
func fuzzRead(t *testing.T, data []byte, f Format) {
	if len(data) > 1<<16 {
		return
	}
	Detect(head(data))
	a := readAll(t, data, f, Options{})
	b := readAll(t, data, f, Options{})
	if a.render() != b.render() {
		t.Fatal("two reads of the same input differ")
	}
	var c result
	c.st, c.err = Options{}.Read(&oneByteReader{data}, "test.log", f, 7,
		func(r *flow.Record, m Meta) { c.flows = append(c.flows, *r); c.labels = append(c.labels, m.Label) },
		func(m *flow.DNSMessage) {
			x := *m
			x.Answers = append([]flow.Answer(nil), m.Answers...)
			c.dns = append(c.dns, x)
		},
		func(e *decode.Error) error { c.errs = append(c.errs, e); return nil })
	if a.render() != c.render() {
		t.Fatalf("one-byte reads differ:\n%s\n---\n%s", a.render(), c.render())
	}
	for _, m := range a.dns {
		if len(m.Answers) > maxAnswers || int(m.ANCount) < len(m.Answers) {
			t.Fatalf("%d answers, ANCount %d", len(m.Answers), m.ANCount)
		}
	}
	for _, r := range a.flows {
		if (r.Proto == flow.ProtoICMP || r.Proto == flow.ProtoICMPv6) && r.SrcPort != 0 && f != NfdumpCSV && f != SpotCSV {
			t.Fatalf("ICMP record with source port %d", r.SrcPort)
		}
	}
}

func FuzzNfdumpCSV(f *testing.F) {
	f.Add([]byte(nfHeader + "\n" + nfRow("2023-01-25 18:35:43,2023-01-25 18:35:45,2.250,52.5.7.161,170.80.156.33,443,57358,TCP,...AP..F,0,40,9,930,2,120") + "\nSummary\nflows,bytes,packets,avg_bps,avg_pps,avg_bpp\n1,930,9,0,0,103\n"))
	f.Add([]byte("ts,te,sa,da,sp,dp,pr,ipkt,ibyt\n2023-01-25 18:35:43,2023-01-25 18:35:45,::1,::2,0,771,ICMP6,1,2\nts,te\n"))
	if b := sharedHead(f, "nfcapd/chrispassas_nfcapd.sample.nfdump-csv.csv", 6); b != nil {
		f.Add(b)
	}
	if b := sharedHead(f, "generated/arkime_v6/arkime_v6.sf-v10bi.nfdump.csv", 4); b != nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, data, NfdumpCSV) })
}

func FuzzSpotCSV(f *testing.F) {
	f.Add(readFile(f, "testdata/spot.csv"))
	f.Add([]byte("2016-07-08 10:15:23,2016,7,8,10,15,23,1.500,10.0.0.5,93.184.216.34,49152,80,TCP,.AP.SF,0,0,7,784,0,0,1,2,0,0,0,0,192.168.1.1\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, data, SpotCSV) })
}

func FuzzArgus(f *testing.F) {
	f.Add([]byte("StartTime,LastTime,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,SrcPkts,DstPkts,SrcBytes,DstBytes,State\n" +
		"1,2,icmp,10.0.0.1,0x0303,->,10.0.0.2,0xfa3b,1,0,70,0,URP\n1,2,arp,10.0.0.1,,who,10.0.0.2,,1,1,60,60,CON\n"))
	for _, rel := range []string{"flows/slips_test3-mixed.binetflow", "flows/slips_test5-mixed.binetflow", "generated/ndpi_android/ndpi_android.argus.csv"} {
		if b := sharedHead(f, rel, 8); b != nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, data, ArgusCSV) })
}

func FuzzZeekTSV(f *testing.F) {
	f.Add(readFile(f, "testdata/conn.log"))
	f.Add(readFile(f, "testdata/dns.log"))
	f.Add([]byte("#separator ,\n#set_separator,|\n#fields,ts,id.orig_h,id.orig_p,id.resp_h,id.resp_p,proto,query,rcode,answers,TTLs,a b\n" +
		"5,10.0.0.1,1,10.0.0.2,53,udp,a\\x2cb,0,TXT 1 x TXT 2 yz|::1,1|2,p q\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data, ZeekConn)
		fuzzRead(t, data, ZeekDNS)
	})
}

func FuzzZeekJSON(f *testing.F) {
	f.Add(readFile(f, "testdata/conn.json"))
	f.Add(readFile(f, "testdata/dns.json"))
	f.Add([]byte(`{"ts":"2020-06-05T14:39:59.305988Z","id":{"orig_h":"::1","orig_p":1,"resp_h":"::2","resp_p":53},"proto":"tcp","query":"\u00e9\\xff","answers":["TXT 3 a\"b"],"TTLs":[1e2],"rcode":0}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data, ZeekConnJSON)
		fuzzRead(t, data, ZeekDNSJSON)
	})
}

// FuzzParseAddr holds parseAddr to netip.ParseAddr's acceptance and value.
func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "::ffff:1.2.3.4", "fe80::1%eth0", "1:2:3:4:5:6:7::", "2001:db8::1.2.3.4", "::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseAddr([]byte(s))
		ip, err := netip.ParseAddr(s)
		if ok != (err == nil) || (ok && got != flow.AddrFromNetip(ip)) {
			t.Fatalf("parseAddr(%q) = %v, %v; netip %v, %v", s, got, ok, ip, err)
		}
	})
}
