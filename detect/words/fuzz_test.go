package words

import (
	"bytes"
	"strings"
	"testing"
)

// javaSplitDot is Java's String.split("\\.") written the obvious way, as the
// reference for NumParts and SplitDomain.
func javaSplitDot(s string) []string {
	if !strings.Contains(s, ".") {
		return []string{s}
	}
	parts := strings.Split(s, ".")
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// spotSplitDomain is a literal transcription of Spot's extractDomainSubdomain
// over a label slice; SplitDomain must agree with it on every input.
func spotSplitDomain(url string) (string, string) {
	p := javaSplitDot(url)
	n := len(p)
	if n < 2 || (n > 2 && p[n-1] == "arpa" && p[n-2] == "in-addr") ||
		!(IsCountryCode(p[n-1]) || IsGenericTLD(p[n-1])) {
		return None, None
	}
	if IsCountryCode(p[len(p)-1]) {
		p = p[:len(p)-1]
	}
	if IsGenericTLD(p[len(p)-1]) {
		p = p[:len(p)-1]
	}
	if len(p) == 0 {
		return None, None
	}
	if len(p) == 1 {
		return p[0], None
	}
	return p[len(p)-1], strings.Join(p[:len(p)-1], ".")
}

var domainSeeds = []string{
	"123.103.104.10.in-addr.arpa", "amazon.com.mx", "ab..com", "abcdefg.apache.com", "fatosdesconhecidos.com.br",
	"get.your.best.electronic.at.panasonic.jp", "panasonic.c", "iot.intel.com.mx", "bbc.co.uk", "x.example.info",
	"", ".", "..", "a.", ".com", "com.uk", "a..uk", "www.google.com.", "in-addr.arpa", "x.in-addr.arpa",
	"\xff\xfe.com", "caf\u00e9.fr", "a\U0001F600b.org",
}

func FuzzParseDomain(f *testing.F) {
	for _, s := range domainSeeds {
		f.Add(s, "intel")
	}
	f.Fuzz(func(t *testing.T, name, user string) {
		if got, want := NumParts(name), len(javaSplitDot(name)); got != want {
			t.Fatalf("NumParts(%q) = %d, want %d", name, got, want)
		}
		d, s := SplitDomain(name)
		if rd, rs := spotSplitDomain(name); d != rd || s != rs {
			t.Fatalf("SplitDomain(%q) = %q, %q; Spot's algorithm gives %q, %q", name, d, s, rd, rs)
		}
		info := ParseDomain(name, user, Popular{"google": {}})
		if info.SubdomainEntropy < 0 || info.SubdomainEntropy != info.SubdomainEntropy {
			t.Fatalf("entropy %v", info.SubdomainEntropy)
		}
		w := DNSWordFromInfo(uint64(len(name)), 3, info, 1, 0)
		if back := DNSWordFromKey(w.Key()); back != w {
			t.Fatalf("key round trip %v -> %v", w, back)
		}
		if strings.Count(w.String(), "_") != 7 {
			t.Fatalf("word %q has not eight tokens", w)
		}
	})
}

func FuzzReadPopular(f *testing.F) {
	f.Add([]byte("1,google.com\n2,youtube.com\n"))
	f.Add([]byte("\xef\xbb\xbf1,a.b\r\n\n3,,x\n"))
	f.Add([]byte("1,\n"))
	f.Add([]byte("x"))
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := ReadPopular(bytes.NewReader(in))
		if p == nil {
			t.Fatal("nil set")
		}
		if err == nil {
			// Every label must come from the input.
			for l := range p {
				if !bytes.Contains(in, []byte(l)) {
					t.Fatalf("label %q not in input", l)
				}
			}
		}
	})
}

func FuzzFlowWords(f *testing.F) {
	f.Add(uint16(2132), uint16(23), uint8(17), uint8(12), uint64(222), uint64(3))
	f.Add(uint16(0), uint16(0), uint8(6), uint8(0), uint64(0), uint64(0))
	f.Add(uint16(65535), uint16(1025), uint8(255), uint8(23), uint64(1<<63), uint64(1))
	f.Fuzz(func(t *testing.T, sp, dp uint16, proto, hour uint8, bytes, packets uint64) {
		hour %= 24
		src, dst := FlowWords(sp, dp, proto, int(hour), bytes, packets)
		for _, w := range []FlowWord{src, dst} {
			if FlowWordFromKey(w.Key()) != w {
				t.Fatalf("key round trip of %v", w)
			}
		}
		if src.Port != dst.Port || (src.Server && dst.Server) {
			t.Fatalf("sides disagree: %v %v", src, dst)
		}
		// Swapping the ends swaps the words.
		s2, d2 := FlowWords(dp, sp, proto, int(hour), bytes, packets)
		if s2 != dst || d2 != src {
			t.Fatalf("swap: %v %v vs %v %v", s2, d2, src, dst)
		}
		// Key order must be a function of the word only.
		if (src.Key() == dst.Key()) != (src == dst) {
			t.Fatalf("key collision %v %v", src, dst)
		}
	})
}
