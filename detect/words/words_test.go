package words

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// Golden vectors of spot-method.md §2.9 (Spot's FlowWordCreatorTest): hour
// 12, UDP, 222 bytes (bin 8), 3 packets (bin 2) unless stated.
func TestFlowWordsGolden(t *testing.T) {
	const udp, tcp = 17, 6
	tests := []struct {
		sport, dport   uint16
		proto          uint8
		bytes, packets uint64
		src, dst       string
	}{
		{2132, 23, udp, 222, 3, "23_UDP_12_8_2", "-1_23_UDP_12_8_2"},
		{23, 2132, udp, 222, 3, "-1_23_UDP_12_8_2", "23_UDP_12_8_2"},
		{8392, 9874, udp, 222, 3, "333333_UDP_12_8_2", "333333_UDP_12_8_2"},
		{80, 0, udp, 222, 3, "-1_80_UDP_12_8_2", "80_UDP_12_8_2"},
		{0, 43, udp, 222, 3, "43_UDP_12_8_2", "-1_43_UDP_12_8_2"},
		{0, 2435, udp, 222, 3, "2435_UDP_12_8_2", "-1_2435_UDP_12_8_2"},
		{1024, 80, udp, 222, 3, "111111_UDP_12_8_2", "111111_UDP_12_8_2"},
		{0, 0, udp, 222, 3, "0_UDP_12_8_2", "0_UDP_12_8_2"},
		{0, 0, tcp, 0, 3, "0_TCP_12_0_2", "0_TCP_12_0_2"},
		{0, 0, tcp, 222, 0, "0_TCP_12_8_0", "0_TCP_12_8_0"},
		// Boundaries of the 1024 rule, beyond Spot's table.
		{1025, 1024, udp, 222, 3, "1024_UDP_12_8_2", "-1_1024_UDP_12_8_2"},
		{1024, 1025, udp, 222, 3, "-1_1024_UDP_12_8_2", "1024_UDP_12_8_2"},
		{1025, 1025, udp, 222, 3, "333333_UDP_12_8_2", "333333_UDP_12_8_2"},
		{1, 1, udp, 222, 3, "111111_UDP_12_8_2", "111111_UDP_12_8_2"},
		{65535, 0, udp, 222, 3, "-1_65535_UDP_12_8_2", "65535_UDP_12_8_2"},
		// ICMP echo request: type 8 code 0 in the destination port, as nfdump.
		{0, 8 << 8, 1, 84, 1, "2048_ICMP_12_7_1", "-1_2048_ICMP_12_7_1"},
		// Protocols nfdump names alike are one word.
		{0, 0, 94, 1, 1, "0_IPIP_12_1_1", "0_IPIP_12_1_1"},
		// An unnamed protocol renders as its number.
		{0, 0, 200, 1, 1, "0_200_12_1_1", "0_200_12_1_1"},
	}
	for _, tc := range tests {
		src, dst := FlowWords(tc.sport, tc.dport, tc.proto, 12, tc.bytes, tc.packets)
		if src.String() != tc.src || dst.String() != tc.dst {
			t.Errorf("FlowWords(%d, %d, %d, 12, %d, %d) = %q, %q; want %q, %q",
				tc.sport, tc.dport, tc.proto, tc.bytes, tc.packets, src, dst, tc.src, tc.dst)
		}
		for _, w := range []FlowWord{src, dst} {
			if got := FlowWordFromKey(w.Key()); got != w {
				t.Errorf("FlowWordFromKey(%v.Key()) = %v", w, got)
			}
		}
	}
}

// CountBin must be the bit length everywhere, in particular at every 2^k
// boundary where a float log formula is most fragile.
func TestCountBin(t *testing.T) {
	cases := map[uint64]uint8{0: 0, 1: 1, 2: 2, 3: 2, 4: 3, 7: 3, 8: 4, 15: 4, 16: 5, 222: 8,
		1023: 10, 1024: 11, 2047: 11, 2048: 12, 1<<63 - 1: 63, 1 << 63: 64, math.MaxUint64: 64}
	for x, want := range cases {
		if got := CountBin(x); got != want {
			t.Errorf("CountBin(%d) = %d, want %d", x, got, want)
		}
	}
	for k := 1; k < 64; k++ {
		x := uint64(1) << k
		if CountBin(x-1) != uint8(k) || CountBin(x) != uint8(k+1) {
			t.Errorf("CountBin around 2^%d: %d, %d", k, CountBin(x-1), CountBin(x))
		}
	}
}

func TestProtoName(t *testing.T) {
	cases := map[uint8]string{0: "0", 1: "ICMP", 6: "TCP", 17: "UDP", 47: "GRE", 50: "ESP", 58: "ICMP6",
		99: "99", 132: "SCTP", 137: "MPLS", 138: "138", 255: "255"}
	for p, want := range cases {
		if got := ProtoName(p); got != want {
			t.Errorf("ProtoName(%d) = %q, want %q", p, got, want)
		}
	}
	names := map[string]bool{}
	for p := 0; p < 256; p++ {
		src, _ := FlowWords(0, 0, uint8(p), 0, 0, 0)
		s := src.String()
		if names[s] != (canonicalProto[p] != uint8(p)) {
			t.Errorf("protocol %d: word %q seen before: %v, but canonical %d", p, s, names[s], canonicalProto[p])
		}
		names[s] = true
		if n := ProtoName(uint8(p)); n == "" || strings.ContainsAny(n, " _\t") {
			t.Errorf("ProtoName(%d) = %q: empty or contains a separator", p, n)
		}
	}
}

func TestClockHour(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no tz database: %v", err)
	}
	tests := []struct {
		loc  *time.Location
		when time.Time
		want int
	}{
		{nil, time.Date(2016, 7, 8, 13, 59, 59, 999999999, time.UTC), 13},
		{nil, time.Date(2016, 7, 8, 0, 0, 0, 0, time.UTC), 0},
		{nil, time.Date(1969, 12, 31, 23, 30, 0, 0, time.UTC), 23}, // negative Unix time
		{time.UTC, time.Date(2016, 7, 8, 23, 0, 0, 0, time.UTC), 23},
		{ny, time.Date(2016, 7, 8, 13, 0, 0, 0, time.UTC), 9},  // EDT, UTC−4
		{ny, time.Date(2016, 1, 8, 13, 0, 0, 0, time.UTC), 8},  // EST, UTC−5
		{ny, time.Date(2016, 3, 13, 6, 59, 0, 0, time.UTC), 1}, // just before the DST switch
		{ny, time.Date(2016, 3, 13, 7, 0, 0, 0, time.UTC), 3},  // just after it
		{time.FixedZone("IST", 5*3600+1800), time.Date(2016, 7, 8, 23, 45, 0, 0, time.UTC), 5},
	}
	for _, tc := range tests {
		c := NewClock(tc.loc)
		// Twice: the second call uses the cached zone period.
		for i := 0; i < 2; i++ {
			if got := c.Hour(tc.when.UnixNano()); got != tc.want {
				t.Errorf("%v in %v: hour %d, want %d", tc.when, tc.loc, got, tc.want)
			}
		}
	}
	// A clock walking across a DST switch must refresh its cached period.
	c := NewClock(ny)
	start := time.Date(2016, 3, 12, 0, 0, 0, 0, time.UTC)
	for m := 0; m < 3*24*60; m += 7 {
		tm := start.Add(time.Duration(m) * time.Minute)
		if got, want := c.Hour(tm.UnixNano()), tm.In(ny).Hour(); got != want {
			t.Fatalf("%v: hour %d, want %d", tm, got, want)
		}
	}
}

func TestSpotFrameTimeHour(t *testing.T) {
	cases := []struct {
		in   string
		hour int
		ok   bool
	}{
		{"May  12 2015 11:32:45.543421000 UTC", 11, true},
		{"Jul  8 2016 10:15:23.123456000 UTC", 10, true},
		{"Jul  8, 2016 00:15:23.123456000 UTC", 0, true},
		{" Jul 8 2016 10:15:23", 2016, true}, // Java keeps a leading empty token, so token 3 is the year
		{"Jul 8 2016", 0, false},
		{"", 0, false},
	}
	for _, tc := range cases {
		h, ok := SpotFrameTimeHour(tc.in)
		if h != tc.hour || ok != tc.ok {
			t.Errorf("SpotFrameTimeHour(%q) = %d, %v; want %d, %v", tc.in, h, ok, tc.hour, tc.ok)
		}
	}
}

// Domain parsing golden vectors of spot-method.md §3.6 plus edge cases of
// Java's split semantics.
func TestParseDomainGolden(t *testing.T) {
	top := Popular{"google": {}, "youtube": {}, "amazon": {}}
	tests := []struct {
		name, user   string
		domain, sub  string
		class, slen  int
		entropy      float64
		numParts     int
		entropyExact bool
	}{
		{"123.103.104.10.in-addr.arpa", "", None, None, 0, 0, 0, 6, true},
		{"amazon.com.mx", "", "amazon", None, 1, 0, 0, 3, true},
		{"ab..com", "", "", "ab", 0, 2, 1, 3, true},
		{"abcdefg.apache.com", "apache", "apache", "abcdefg", 2, 7, 2.807354922057604, 3, true},
		{"fatosdesconhecidos.com.br", "", "fatosdesconhecidos", None, 0, 0, 0, 3, true},
		{"get.your.best.electronic.at.panasonic.jp", "", "panasonic", "get.your.best.electronic.at", 0, 27, math.NaN(), 7, false},
		{"panasonic.c", "", None, None, 0, 0, 0, 2, true},
		// The JVM prints 1.5849625007211559; ours differs in the last bit (see Entropy).
		{"iot.intel.com.mx", "intel.com", "intel", "iot", 0, 3, 1.5849625007211559, 4, false},
		{"iot.intel.com.mx", "intel", "intel", "iot", 2, 3, 1.5849625007211559, 4, false},
		{"services.amazon.com.mx", "", "amazon", "services", 1, 8, 2.5, 4, true},
		{"bbc.co.uk", "", "co", "bbc", 0, 3, math.Log2(3) - 2.0/3, 3, false},
		{"x.example.info", "", None, None, 0, 0, 0, 3, true},
		{"in-addr.arpa", "", None, None, 0, 0, 0, 2, true}, // only two labels: not "reverse", but arpa is no TLD
		{"com", "", None, None, 0, 0, 0, 1, true},
		{"com.uk", "", None, None, 0, 0, 0, 2, true},
		{"a.uk", "", "a", None, 0, 0, 0, 2, true},
		{"www.google.com.", "", "google", "www", 1, 3, 0, 3, true}, // trailing dot dropped like Java
		{".com", "", "", None, 0, 0, 0, 2, true},
		{"a..uk", "", "", "a", 0, 1, 0, 3, true}, // "" is in Spot's country list, not a gTLD
		{"", "", None, None, 0, 0, 0, 1, true},
		{"...", "", None, None, 0, 0, 0, 0, true},
		{"None.example.com", "", "example", "None", 0, 0, 0, 3, true}, // Spot's text compare treats it as absent
		{"aabc.example.net", "", "example", "aabc", 0, 4, 1.5, 3, true},
	}
	for _, tc := range tests {
		got := ParseDomain(tc.name, tc.user, top)
		if got.Domain != tc.domain || got.Subdomain != tc.sub || got.TopDomain != tc.class ||
			got.SubdomainLength != tc.slen || got.NumParts != tc.numParts {
			t.Errorf("ParseDomain(%q, %q) = %+v; want domain %q sub %q class %d len %d parts %d",
				tc.name, tc.user, got, tc.domain, tc.sub, tc.class, tc.slen, tc.numParts)
		}
		if math.IsNaN(tc.entropy) {
			continue
		}
		if tc.entropyExact && got.SubdomainEntropy != tc.entropy ||
			!tc.entropyExact && math.Abs(got.SubdomainEntropy-tc.entropy) > 1e-15 {
			t.Errorf("ParseDomain(%q).SubdomainEntropy = %v, want %v", tc.name, got.SubdomainEntropy, tc.entropy)
		}
	}
}

func TestEntropy(t *testing.T) {
	cases := []struct {
		s     string
		want  float64
		exact bool
	}{
		{"", 0, true},
		{"a", 0, true},
		{"ab", 1, true},
		{"aabc", 1.5, true},
		{"abcdefg", 2.807354922057604, true},
		{"iot", 1.5849625007211559, false},
		{"abcdefgh", 3, true},
		{"\u00e9\u00e9", 0, true},            // one non-ASCII character twice
		{"a\U0001F600", math.Log2(3), false}, // a surrogate pair is two Java chars
	}
	for _, tc := range cases {
		got := Entropy(tc.s)
		if tc.exact && got != tc.want || !tc.exact && math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("Entropy(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
	if n := JavaLength("a\U0001F600\u00e9"); n != 4 {
		t.Errorf("JavaLength = %d, want 4", n)
	}
}

func TestBinsGolden(t *testing.T) {
	cuts := []float64{0, 1, 2, 3, math.Inf(1)}
	for v, want := range map[float64]int{-1: 0, 0: 0, 1.5: 2, 50: 4} {
		if got := Bin(v, cuts); got != want {
			t.Errorf("Bin(%v) = %d, want %d", v, got, want)
		}
	}
	if got := Bin(5, []float64{1, 2}); got != -1 {
		t.Errorf("Bin above the last cut = %d, want -1", got)
	}
	if got := Bin(math.NaN(), cuts); got != -1 {
		t.Errorf("Bin(NaN) = %d, want -1", got)
	}
	// Values exactly on a cut belong to the lower bin.
	for h, want := range map[float64]int{0: 0, 0.0001: 1, 1.5: 5, 3: 10, 4.5: 15, 5.4: 18, 5.41: 19, 100: 19} {
		if got := EntropyBin(h); got != want {
			t.Errorf("EntropyBin(%v) = %d, want %d", h, got, want)
		}
	}
	logs := []struct {
		x    float64
		base int
		want int
	}{{4, 2, 2}, {8, 2, 3}, {1.9, 2, 0}, {9.5, 3, 2}, {9, 3, 2}, {0, 2, 0}, {1, 2, 0}, {0.5, 2, -1}, {0.7, 2, 0},
		{-3, 2, 0}, {math.NaN(), 2, 0}, {1 << 62, 2, 62}, {243, 3, 5}, {242.9, 3, 4}, {1e18, 10, 18}, {999999999999999, 10, 14}}
	for _, tc := range logs {
		if got := LogBaseInt(tc.x, tc.base); got != tc.want {
			t.Errorf("LogBaseInt(%v, %d) = %d, want %d", tc.x, tc.base, got, tc.want)
		}
	}
	for x, want := range map[uint64]int{0: 0, 1: 0, 2: 1, 3: 1, 4: 2, 213: 7, 1 << 40: 40, math.MaxUint64: 63} {
		if got := FloorLog2(x); got != want {
			t.Errorf("FloorLog2(%d) = %d, want %d", x, got, want)
		}
	}
}

// The DNS word golden vector of spot-method.md §3.6.
func TestDNSWordGolden(t *testing.T) {
	hour, ok := SpotFrameTimeHour("May  12 2015 11:32:45.543421000 UTC")
	if !ok {
		t.Fatal("frame time not parsed")
	}
	top := Popular{"google": {}, "youtube": {}}
	w := NewDNSWord(213, hour, "abcdefg.apache.com", 1, 0, "apache", top)
	if got, want := w.String(), "2_7_11_2_10_1_1_0"; got != want {
		t.Errorf("DNS word = %q, want %q", got, want)
	}
	more := []struct {
		frameLen   uint64
		hour       int
		name       string
		qtype, rc  int32
		user, word string
	}{
		{0, 0, "a.b.c.d.e.f.g.h.google.com", 28, 3, "", "1_0_0_3_9_3_28_3"},
		{1, 23, "x", -1, -1, "", "0_0_23_0_0_0_-1_-1"},
		{1500, 5, "123.103.104.10.in-addr.arpa", 12, 0, "", "0_10_5_0_0_2_12_0"},
		{168, 10, "1111111111111111111111111111111111111111111111111111111111111.turner.com", 1, 0, "", "0_7_10_5_0_1_1_0"},
		{168, 10, "tinker.turner.com", 1, 0, "", "0_7_10_2_9_1_1_0"},
	}
	for _, tc := range more {
		w := NewDNSWord(tc.frameLen, tc.hour, tc.name, tc.qtype, tc.rc, tc.user, top)
		if got := w.String(); got != tc.word {
			t.Errorf("NewDNSWord(%d, %d, %q, %d, %d) = %q, want %q", tc.frameLen, tc.hour, tc.name, tc.qtype, tc.rc, got, tc.word)
		}
		if back := DNSWordFromKey(w.Key()); back != w {
			t.Errorf("DNSWordFromKey(Key(%v)) = %v", w, back)
		}
	}
}

func TestDNSWordKeyDistinct(t *testing.T) {
	seen := map[uint64]DNSWord{}
	for _, w := range []DNSWord{
		{}, {TopDomain: 2}, {FrameLenBin: 63}, {Hour: 23}, {SubdomainLenBin: 63}, {EntropyBin: 19},
		{NumPartsBin: 63}, {Type: -1}, {Type: 65535}, {Rcode: -1}, {Rcode: 4095}, {Type: -1, Rcode: -1},
	} {
		k := w.Key()
		if prev, dup := seen[k]; dup {
			t.Errorf("%v and %v share key %#x", prev, w, k)
		}
		seen[k] = w
		if back := DNSWordFromKey(k); back != w {
			t.Errorf("round trip %v -> %v", w, back)
		}
	}
}

func TestReadPopular(t *testing.T) {
	in := "\xef\xbb\xbf1,google.com\r\n2,youtube.com\n\n3,mail.ru,extra\n4,,x\n5,.hidden\n6,bbc.co.uk"
	p, err := ReadPopular(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"google", "youtube", "mail", "", "bbc"} {
		if !p.Has(l) {
			t.Errorf("%q missing from %v", l, p)
		}
	}
	if len(p) != 5 {
		t.Errorf("got %d labels %v, want 5", len(p), p)
	}
	for _, bad := range []struct {
		in   string
		line int
		off  string
	}{
		{"1,a.com\nnocomma\n2,b.com\n", 2, "offset 8"},
		{"1,a.com\n2,\n", 2, "offset 8"},
		{"1,a.com\n2,,,\n", 2, "offset 8"},
		{"1," + strings.Repeat("x", maxPopularLine+10) + "\n", 1, "offset 0"},
	} {
		p, err := ReadPopular(strings.NewReader(bad.in))
		if err == nil || !strings.Contains(err.Error(), bad.off) {
			t.Errorf("ReadPopular(%.20q): err %v, want one at %s", bad.in, err, bad.off)
		}
		if bad.line == 2 && !p.Has("a") {
			t.Errorf("ReadPopular(%.20q) lost the labels before the bad line", bad.in)
		}
	}
	if _, err := ReadPopular(strings.NewReader("1,a.com\nx\n")); !errors.Is(err, ErrPopularLine) {
		t.Errorf("error %v does not wrap ErrPopularLine", err)
	}
}

func TestLearnRuleThreshold(t *testing.T) {
	r := DefaultLearnRule
	for total, want := range map[int]int{0: 3, 1: 3, 100: 3, 300: 3, 301: 4, 1000: 10, 12345: 124} {
		if got := r.Threshold(total); got != want {
			t.Errorf("Threshold(%d) = %d, want %d", total, got, want)
		}
	}
	if got := (LearnRule{}).Threshold(10); got != 1 {
		t.Errorf("zero rule threshold = %d, want 1", got)
	}
}
