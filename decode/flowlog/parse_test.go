package flowlog

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/spotctl/spotctl/decode/flow"
)

func TestParseAddrMatchesNetip(t *testing.T) {
	cases := []string{
		"1.2.3.4", "0.0.0.0", "255.255.255.255", "256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1..2.3",
		"1.2.3.4 ", " 1.2.3.4", "1.2.3.-4", "::", "::1", "1::", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8",
		"1:2:3:4:5:6:7:8:9", "1::2::3", ":::", "1:::2", ":1::", "1:", "::ffff:1.2.3.4", "::ffff:01.2.3.4",
		"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.4", "1::1.2.3.4", "fe80::1%eth0", "fe80::1%",
		"1.2.3.4%eth0", "12345::", "abcd:ef01:2345:6789:abcd:ef01:2345:6789", "ABCD::EF", "g::1", "::ffff:1.2.3.4:5",
		"2001:db8::", "3ffe:507:0:1:200:86ff:fe05:80da", "", ".", ":", "1.2.3.4::", "::1.2.3", "1:2:3:4:5:6:7:8%x",
		"0:0:0:0:0:0:0:0", "::0.0.0.0", "1::2:3:4:5:6:7", "::%", "00000::1", "0000::1",
	}
	for _, s := range cases {
		got, ok := parseAddr([]byte(s))
		ip, err := netip.ParseAddr(s)
		if ok != (err == nil) {
			t.Errorf("parseAddr(%q) ok=%v, netip err=%v", s, ok, err)
			continue
		}
		if ok && got != flow.AddrFromNetip(ip) {
			t.Errorf("parseAddr(%q) = %v, netip %v", s, got, ip)
		}
	}
}

func TestParseSeconds(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"1", 1e9, true}, {"1521911721.255387", 1521911721255387000, true},
		{"0.004266", 4266000, true}, {"-0.5", -5e8, true}, {"+2", 2e9, true}, {".5", 5e8, true}, {"5.", 5e9, true},
		{"1.1234567891", 1123456789, true}, // truncated past ns
		{"1.5e3", 1500e9, true}, {"1e", 0, false}, {"", 0, false}, {"-", 0, false}, {".", 0, false},
		{"abc", 0, false}, {"1.2.3", 0, false}, {"1 ", 0, false}, {"9223372035", 9223372035e9, true},
		{"9223372036", 0, false}, {"99999999999999999999", 0, false}, {"1e300", 0, false}, {"NaN", 0, false},
		{"18446744073709552.000", 0, false},
	}
	for _, c := range cases {
		got, ok := parseSeconds([]byte(c.in))
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("parseSeconds(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestParseTime(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	cases := []struct {
		in   string
		loc  *time.Location
		want string // RFC 3339 in UTC; "" = error
	}{
		{"2023-01-25 18:35:43", time.UTC, "2023-01-25T18:35:43Z"},
		{"2023-01-25 18:35:43", berlin, "2023-01-25T17:35:43Z"},
		{"2023-01-25 18:36:00.039", time.UTC, "2023-01-25T18:36:00.039Z"},
		{"2018/12/18 14:59:51.123456", time.UTC, "2018-12-18T14:59:51.123456Z"},
		{"1970/01/01 01:00:00.000000", berlin, "1970-01-01T00:00:00Z"},
		{"2020-06-05T14:39:59.305988Z", berlin, "2020-06-05T14:39:59.305988Z"},
		{"2020-06-05T16:39:59+02:00", time.UTC, "2020-06-05T14:39:59Z"},
		{"2020-06-05T12:39:59-02:00", time.UTC, "2020-06-05T14:39:59Z"},
		{"921159902.141757", berlin, "1999-03-11T13:45:02.141757Z"},
		{"2023-02-29 00:00:00", time.UTC, ""}, // not a leap year
		{"2024-02-29 00:00:00", time.UTC, "2024-02-29T00:00:00Z"},
		{"2023-13-01 00:00:00", time.UTC, ""},
		{"2023-01-32 00:00:00", time.UTC, ""},
		{"2023-01-01 24:00:00", time.UTC, ""},
		{"2023-01-01 23:60:00", time.UTC, ""},
		{"2023-01-01 23:00:60", time.UTC, ""},
		{"2023-01-01 23:00:00.", time.UTC, ""},
		{"2023-01-01 23:00:00X", time.UTC, ""},
		{"2023/01-01 23:00:00", time.UTC, ""},
		{"1600-01-01 00:00:00", time.UTC, ""}, // outside UnixNano
		{"2300-01-01 00:00:00", time.UTC, ""},
		{"2023-01-01 23:00", time.UTC, ""},
		{"14:00:00.075359", time.UTC, ""},
		{"2020-06-05T16:39:59+24:00", time.UTC, ""},
	}
	for _, c := range cases {
		got, ok := parseTime([]byte(c.in), c.loc)
		if c.want == "" {
			if ok {
				t.Errorf("parseTime(%q) = %s, want an error", c.in, ts(got))
			}
			continue
		}
		if !ok || ts(got) != c.want {
			t.Errorf("parseTime(%q, %v) = %s, %v; want %s", c.in, c.loc, ts(got), ok, c.want)
		}
	}
}

func TestProtoNumber(t *testing.T) {
	cases := []struct {
		in          string
		nfdumpFirst bool
		want        uint8
		ok          bool
	}{
		{"TCP", true, 6, true}, {"tcp", false, 6, true}, {"UDP", true, 17, true}, {"ICMP6", true, 58, true},
		{"ipv6-icmp", false, 58, true}, {"ICMP", true, 1, true}, {"GRE", true, 47, true}, {"17", true, 17, true},
		{"255", true, 255, true}, {"256", true, 0, false}, {"200  ", true, 200, true}, {"0", true, 0, true},
		{"IPIP", true, 4, true}, {"ipip", false, 94, true}, {"UDP-L", true, 136, true}, {"MPLS", true, 137, true},
		{"IDPR", true, 35, true}, {"nosuch", true, 0, false}, {"", true, 0, false},
		{"averyveryverylongprotocolname", false, 0, false}, {"sctp", false, 132, true},
	}
	for _, c := range cases {
		got, ok := protoNumber([]byte(c.in), c.nfdumpFirst)
		if ok != c.ok || got != c.want {
			t.Errorf("protoNumber(%q, %v) = %d, %v; want %d, %v", c.in, c.nfdumpFirst, got, ok, c.want, c.ok)
		}
	}
	// Every name in nfdump's table maps back to its own number (the first
	// of a duplicate pair).
	for i, name := range nfdumpProtos {
		got, ok := protoNumber([]byte(name), true)
		if !ok || (int(got) != i && name != "IDPR") {
			t.Errorf("nfdump name %q (%d) maps to %d, %v", name, i, got, ok)
		}
	}
}

func TestParseTCPFlags(t *testing.T) {
	cases := []struct {
		in   string
		want uint8
		ok   bool
	}{
		{"........", 0, true}, {"...AP...", flow.TCPAck | flow.TCPPsh, true}, {"CEUAPRSF", 0xff, true},
		{".AP.SF", flow.TCPAck | flow.TCPPsh | flow.TCPSyn | flow.TCPFin, true}, {"0x12", 0x12, true}, {"27", 27, true},
		{"...X....", 0, false}, {"", 0, false}, {".........", 0, false}, {"256", 0, false},
	}
	for _, c := range cases {
		got, ok := parseTCPFlags([]byte(c.in))
		if ok != c.ok || got != c.want {
			t.Errorf("parseTCPFlags(%q) = %#x, %v; want %#x, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestLineReader(t *testing.T) {
	input := "one\r\ntwo\n\nthree-is-a-long-line\nfour"
	want := []struct {
		text    string
		off     int64
		tooLong bool
	}{{"one", 0, false}, {"two", 5, false}, {"", 9, false}, {"", 10, true}, {"four", 31, false}}
	for _, rd := range []io.Reader{strings.NewReader(input), &oneByteReader{[]byte(input)}} {
		lr := newLineReader(rd, 8)
		for i, w := range want {
			ln, ok := lr.next()
			if !ok || string(ln.b) != w.text || ln.off != w.off || ln.tooLong != w.tooLong || ln.no != int64(i+1) {
				t.Fatalf("line %d = %q off %d long %v no %d ok %v; want %+v", i+1, ln.b, ln.off, ln.tooLong, ln.no, ok, w)
			}
		}
		if ln, ok := lr.next(); ok {
			t.Fatalf("extra line %q", ln.b)
		}
		if lr.offset() != int64(len(input)) {
			t.Fatalf("offset %d, want %d", lr.offset(), len(input))
		}
	}
	// An over-long last line without a newline.
	lr := newLineReader(strings.NewReader("ok\n0123456789abcdef"), 8)
	lr.next()
	if ln, ok := lr.next(); !ok || !ln.tooLong || ln.off != 3 {
		t.Fatalf("long last line: %+v %v", ln, ok)
	}
}

// stuckReader returns no data and no error, forever.
type stuckReader struct{}

func (stuckReader) Read([]byte) (int, error) { return 0, nil }

type failReader struct {
	data []byte
	err  error
}

func (r *failReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestLineReaderSourceErrors(t *testing.T) {
	lr := newLineReader(stuckReader{}, 100)
	if _, ok := lr.next(); ok || !errors.Is(lr.err, io.ErrNoProgress) {
		t.Fatalf("stuck reader: err %v", lr.err)
	}
	boom := errors.New("boom")
	lr = newLineReader(&failReader{[]byte("a\nb"), boom}, 100)
	var got []string
	for {
		ln, ok := lr.next()
		if !ok {
			break
		}
		got = append(got, string(ln.b))
	}
	if strings.Join(got, ",") != "a,b" || lr.err != boom {
		t.Fatalf("lines %q, err %v", got, lr.err)
	}
}

func TestSplitFields(t *testing.T) {
	f, ok := splitFields(nil, []byte("a,,b,"), ',', 10)
	if !ok || len(f) != 4 || string(bytes.Join(f, []byte("|"))) != "a||b|" {
		t.Fatalf("split: %q %v", f, ok)
	}
	if _, ok := splitFields(nil, []byte("a,b,c"), ',', 2); ok {
		t.Fatal("three fields fit in two")
	}
}

func TestUnescapeZeek(t *testing.T) {
	cases := map[string]string{
		`plain`:              "plain",
		`\x1b[31mred`:        "\x1b[31mred",
		`a\x2cb`:             "a,b",
		`back\\slash`:        `back\slash`,
		`tab\x09in`:          "tab\tin",
		`bad\xzz`:            `bad\xzz`,
		`end\x1`:             `end\x1`,
		`trailing\`:          `trailing\`,
		`\n\t\r\b\f\"`:       "\n\t\r\b\f\"",
		`other\q`:            `other\q`,
		`\x00nul`:            "\x00nul",
		`\xff\xfe not utf-8`: "\xff\xfe not utf-8",
	}
	for in, want := range cases {
		if got := string(unescapeZeek(nil, []byte(in))); got != want {
			t.Errorf("unescapeZeek(%q) = %q, want %q", in, got, want)
		}
	}
}
