package words

import (
	"math"
	"math/bits"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// None is Spot's placeholder for an absent domain or subdomain. Spot compares
// against the text, so a real label "None" behaves like an absent one; we keep
// that (spot-method.md §3.2).
const None = "None"

// countryCodes is Spot's fixed ccTLD list (DomainProcessor.CountryCodes): the
// ISO-3166 codes of its day plus ac, eu, krd, su, tp, uk, and the empty string.
var countryCodes = setOf(
	"ac", "ad", "ae", "af", "ag", "ai", "al", "am", "an", "ao", "aq", "ar", "as", "at", "au",
	"aw", "ax", "az", "ba", "bb", "bd", "be", "bf", "bg", "bh", "bi", "bj", "bm", "bn", "bo", "bq", "br", "bs", "bt",
	"bv", "bw", "by", "bz", "ca", "cc", "cd", "cf", "cg", "ch", "ci", "ck", "cl", "cm", "cn", "co", "cr", "cu", "cv",
	"cw", "cx", "cy", "cz", "de", "dj", "dk", "dm", "do", "dz", "ec", "ee", "eg", "eh", "er", "es", "et", "eu", "fi",
	"fj", "fk", "fm", "fo", "fr", "ga", "gb", "gd", "ge", "gf", "gg", "gh", "gi", "gl", "gm", "gn", "gp", "gq", "gr",
	"gs", "gt", "gu", "gw", "gy", "hk", "hm", "hn", "hr", "ht", "hu", "id", "ie", "il", "im", "in", "io", "iq", "ir",
	"is", "it", "je", "jm", "jo", "jp", "ke", "kg", "kh", "ki", "km", "kn", "kp", "kr", "krd", "kw", "ky", "kz", "la",
	"lb", "lc", "li", "lk", "lr", "ls", "lt", "lu", "lv", "ly", "ma", "mc", "md", "me", "mg", "mh", "mk", "ml", "mm",
	"mn", "mo", "mp", "mq", "mr", "ms", "mt", "mu", "mv", "mw", "mx", "my", "mz", "na", "nc", "ne", "nf", "ng", "ni",
	"nl", "no", "np", "nr", "nu", "nz", "om", "pa", "pe", "pf", "pg", "ph", "pk", "pl", "pm", "pn", "pr", "ps", "pt",
	"pw", "py", "qa", "re", "ro", "rs", "ru", "rw", "sa", "sb", "sc", "sd", "se", "sg", "sh", "si", "sj", "", "sk",
	"sl", "sm", "sn", "so", "sr", "ss", "st", "su", "sv", "sx", "sy", "sz", "tc", "td", "tf", "tg", "th", "tj", "tk",
	"tl", "tm", "tn", "to", "tp", "tr", "tt", "tv", "tw", "tz", "ua", "ug", "uk", "us", "uy", "uz", "va", "vc", "ve",
	"vg", "vi", "vn", "vu", "wf", "ws", "ye", "yt", "za", "zm", "zw",
)

// genericTLDs is Spot's list of the seven original gTLDs; newer gTLDs
// (.info, .io is a ccTLD, .app, …) make a name domain-less, as in Spot.
var genericTLDs = setOf("com", "org", "net", "int", "edu", "gov", "mil")

func setOf(s ...string) map[string]struct{} {
	m := make(map[string]struct{}, len(s))
	for _, x := range s {
		m[x] = struct{}{}
	}
	return m
}

// IsCountryCode reports whether label is in Spot's country-code list.
func IsCountryCode(label string) bool { _, ok := countryCodes[label]; return ok }

// IsGenericTLD reports whether label is one of Spot's seven gTLDs.
func IsGenericTLD(label string) bool { _, ok := genericTLDs[label]; return ok }

// NumParts is the number of labels of name under Java's String.split('.')
// semantics, which Spot used: inner empty labels count, trailing empty labels
// are dropped, a name without dots is one label (even ""), and a name made
// only of dots has none.
func NumParts(name string) int {
	if strings.IndexByte(name, '.') < 0 {
		return 1
	}
	t := strings.TrimRight(name, ".")
	if t == "" {
		return 0
	}
	return strings.Count(t, ".") + 1
}

// SplitDomain is Spot's extractDomainSubdomain: the registrable-looking label
// and everything before it, found with Spot's fixed lists instead of a public
// suffix list. When the last label is a listed country code or gTLD (and the
// name is not an in-addr.arpa reverse name), one trailing country code and
// then one trailing gTLD are stripped; the last remaining label is the domain
// and the labels before it, joined by '.', the subdomain. Missing parts are
// None. Both results are substrings of name (no allocation).
//
// Examples: services.amazon.com.mx → amazon, services; bbc.co.uk → co, bbc;
// x.example.info → None, None.
func SplitDomain(name string) (domain, subdomain string) {
	if NumParts(name) < 2 {
		return None, None
	}
	t := strings.TrimRight(name, ".")
	rest, last := cutLast(t)
	if _, prev := cutLast(rest); last == "arpa" && prev == "in-addr" && strings.IndexByte(rest, '.') >= 0 {
		return None, None // reverse lookup with more than two labels
	}
	isCC, isTLD := IsCountryCode(last), IsGenericTLD(last)
	if !isCC && !isTLD {
		return None, None
	}
	// remaining labels are t (n labels); strip a country code, then a gTLD.
	remaining, n := t, NumParts(name)
	if isCC {
		remaining, n = rest, n-1
	}
	if r, l := cutLast(remaining); IsGenericTLD(l) {
		remaining, n = r, n-1
	}
	if n <= 0 {
		return None, None
	}
	before, dom := cutLast(remaining)
	if n == 1 {
		return dom, None
	}
	return dom, before
}

// cutLast splits s at its last '.': the text before it and the last label.
// Without a dot, before is "" and last is s.
func cutLast(s string) (before, last string) {
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		return "", s
	}
	return s[:i], s[i+1:]
}

// DomainInfo is Spot's DomainInfo for one query name.
type DomainInfo struct {
	Domain           string  // SplitDomain's domain, or None
	Subdomain        string  // SplitDomain's subdomain, or None
	TopDomain        int     // 2 user's domain, 1 popular, 0 other
	SubdomainLength  int     // length in UTF-16 code units (Java String.length); 0 for None
	SubdomainEntropy float64 // Shannon entropy in bits of the subdomain's characters; 0 for None
	NumParts         int     // label count of the whole name (Spot's "num_periods")
}

// ParseDomain computes Spot's domain features of a query name. userDomain is
// a bare label (e.g. "intel"; "intel.com" never matches, as in Spot); popular
// may be nil.
func ParseDomain(name, userDomain string, popular Popular) DomainInfo {
	d, s := SplitDomain(name)
	info := DomainInfo{Domain: d, Subdomain: s, NumParts: NumParts(name)}
	switch {
	case userDomain != "" && d == userDomain:
		info.TopDomain = 2
	case popular.Has(d):
		info.TopDomain = 1
	}
	if s != None {
		info.SubdomainLength = JavaLength(s)
		info.SubdomainEntropy = Entropy(s)
	}
	return info
}

// JavaLength is the length of s as a Java String: UTF-16 code units of its
// UTF-8 decoding (each invalid byte decodes to one U+FFFD).
func JavaLength(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r > 0xFFFF {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// Entropy is Spot's stringEntropy: the Shannon entropy in bits of the
// distribution of the string's characters (UTF-16 code units), Σ −p·log2 p,
// and 0 for "". Terms are summed in ascending character order; the JVM summed
// in hash order, so the last bit can differ (e.g. "iot": JVM
// 1.5849625007211559, here 1.584962500721156). Values that sit exactly on an
// entropy cut (1.5, 3.0, 4.5) only arise from power-of-two probabilities,
// whose terms are exact in any order, so bins agree.
func Entropy(s string) float64 {
	if s == "" {
		return 0
	}
	var ascii [utf8.RuneSelf]int32
	var other map[uint16]int32
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			ascii[c]++
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if other == nil {
			other = make(map[uint16]int32)
		}
		if r > 0xFFFF {
			hi, lo := utf16.EncodeRune(r)
			other[uint16(hi)]++
			other[uint16(lo)]++
			n += 2
		} else {
			other[uint16(r)]++
			n++
		}
	}
	total := float64(n)
	h := 0.0
	for _, c := range ascii {
		if c > 0 {
			p := float64(c) / total
			h += -p * math.Log2(p)
		}
	}
	if other != nil {
		keys := make([]uint16, 0, len(other))
		for k := range other {
			keys = append(keys, k)
		}
		sortUint16(keys)
		for _, k := range keys {
			p := float64(other[k]) / total
			h += -p * math.Log2(p)
		}
	}
	return h
}

func sortUint16(a []uint16) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// EntropyCuts are Spot's 20 right-closed subdomain-entropy bin edges
// (ProxySuspiciousConnectsModel.EntropyCuts).
var EntropyCuts = [20]float64{0.0, 0.3, 0.6, 0.9, 1.2, 1.5, 1.8, 2.1, 2.4, 2.7,
	3.0, 3.3, 3.6, 3.9, 4.2, 4.5, 4.8, 5.1, 5.4, math.Inf(1)}

// Bin is Spot's MathUtils.bin: the index of the first cut ≥ value, or −1
// when value is above every cut (or NaN).
func Bin(value float64, cuts []float64) int {
	for i, c := range cuts {
		if value <= c {
			return i
		}
	}
	return -1
}

// EntropyBin bins an entropy with EntropyCuts (0..19).
func EntropyBin(h float64) int { return Bin(h, EntropyCuts[:]) }

// FloorLog2 is Spot's logBaseXInt(x, 2) for a non-negative integer: ⌊log2 x⌋,
// and 0 for x = 0 (and for x = 1). Exact where the JVM's float formula is
// exact (all x below 2^48).
func FloorLog2(x uint64) int {
	if x == 0 {
		return 0
	}
	return bits.Len64(x) - 1
}

// LogBaseInt is Spot's logBaseXInt(x, base) = (int)(log(x)/log(base)) for any
// float x, with 0 for x = 0. For x ≥ 1 it is computed exactly as the largest k
// with base^k ≤ ⌊x⌋ (equal to ⌊log_base x⌋ because base^k is an integer);
// below 1 it truncates toward zero like Java's (int) cast; NaN and negative x
// give 0 as in Java (NaN casts to 0).
func LogBaseInt(x float64, base int) int {
	if base < 2 || !(x > 0) {
		return 0
	}
	if x < 1 {
		return int(math.Log(x) / math.Log(float64(base)))
	}
	if x >= 1<<63 {
		return int(math.Log(x) / math.Log(float64(base)))
	}
	n := uint64(x)
	k := 0
	for p := uint64(base); p <= n; p *= uint64(base) {
		k++
		if p > math.MaxUint64/uint64(base) {
			break
		}
	}
	return k
}
