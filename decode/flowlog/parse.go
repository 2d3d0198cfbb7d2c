package flowlog

import (
	"bytes"
	"math"
	"strconv"
	"time"

	"github.com/spotctl/spotctl/decode/flow"
)

// The helpers below parse fields straight from the line buffer: no string
// conversions, so a well-formed record costs no allocation. Each reports
// failure with ok=false; the caller names the field in its error.

// parseUint parses decimal digits (no sign, no spaces) not above max.
func parseUint(b []byte, max uint64) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	if v > max {
		return 0, false
	}
	return v, true
}

// parseHexOrUint parses "0x"-prefixed hexadecimal (as Argus prints ICMP
// "ports") or decimal.
func parseHexOrUint(b []byte, max uint64) (uint64, bool) {
	if len(b) > 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X') {
		h := b[2:]
		if len(h) > 16 {
			return 0, false
		}
		var v uint64
		for _, c := range h {
			d, ok := unhex(c)
			if !ok {
				return 0, false
			}
			v = v<<4 | uint64(d)
		}
		if v > max {
			return 0, false
		}
		return v, true
	}
	return parseUint(b, max)
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// maxSeconds keeps seconds*1e9 inside int64.
const maxSeconds = math.MaxInt64/int64(time.Second) - 1

// parseSeconds parses a decimal number of seconds ("12", "-0.5",
// "1521911721.255387") into nanoseconds. Digits past the ninth decimal are
// truncated. An exponent ("1.5e9", as some JSON writers print) is accepted
// through strconv, at float64 precision.
func parseSeconds(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 64 {
		return 0, false
	}
	neg := false
	p := 0
	if b[0] == '-' || b[0] == '+' {
		neg = b[0] == '-'
		p = 1
	}
	var sec int64
	digits := 0
	for ; p < len(b) && b[p] >= '0' && b[p] <= '9'; p++ {
		if sec > maxSeconds/10 {
			return 0, false
		}
		sec = sec*10 + int64(b[p]-'0')
		digits++
	}
	if sec > maxSeconds {
		return 0, false
	}
	var frac int64
	if p < len(b) && b[p] == '.' {
		p++
		scale := int64(100000000)
		for ; p < len(b) && b[p] >= '0' && b[p] <= '9'; p++ {
			frac += int64(b[p]-'0') * scale
			scale /= 10
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if p < len(b) {
		if b[p] != 'e' && b[p] != 'E' {
			return 0, false
		}
		return parseFloatSeconds(b)
	}
	ns := sec*int64(time.Second) + frac
	if neg {
		ns = -ns
	}
	return ns, true
}

// parseFloatSeconds is the slow path for numbers with an exponent.
func parseFloatSeconds(b []byte) (int64, bool) {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.Abs(f) >= float64(maxSeconds) {
		return 0, false
	}
	return int64(math.Round(f * 1e9)), true
}

// parseAddr parses an IPv4 dotted quad or an IPv6 address (a %zone suffix
// is dropped) with the same acceptance rules as netip.ParseAddr, without
// allocating.
func parseAddr(b []byte) (flow.Addr, bool) {
	for _, c := range b {
		switch c {
		case '.':
			var v4 [4]byte
			if !parseV4(b, v4[:]) {
				return flow.Addr{}, false
			}
			return flow.AddrFrom4(v4), true
		case ':':
			return parseV6(b)
		}
	}
	return flow.Addr{}, false
}

// parseV4 parses exactly four decimal octets without leading zeros into dst.
func parseV4(b []byte, dst []byte) bool {
	n, val, digits := 0, 0, 0
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == '.' {
			if digits == 0 || n == 4 {
				return false
			}
			dst[n] = byte(val)
			n++
			val, digits = 0, 0
			continue
		}
		c := b[i]
		if c < '0' || c > '9' {
			return false
		}
		if digits > 0 && val == 0 {
			return false // leading zero
		}
		val = val*10 + int(c-'0')
		digits++
		if val > 255 {
			return false
		}
	}
	return n == 4
}

func parseV6(b []byte) (flow.Addr, bool) {
	var a flow.Addr
	if z := indexByte(b, '%'); z >= 0 {
		if z == len(b)-1 {
			return a, false // empty zone
		}
		b = b[:z]
	}
	ellipsis := -1 // byte index in a where "::" was
	i := 0
	if len(b) >= 2 && b[0] == ':' && b[1] == ':' {
		ellipsis = 0
		b = b[2:]
		if len(b) == 0 {
			return a, true
		}
	}
	for i < 16 {
		// One hex group of 1-4 digits, or a trailing IPv4 part.
		off, val := 0, 0
		for off < len(b) {
			d, ok := unhex(b[off])
			if !ok {
				break
			}
			if off >= 4 {
				return a, false
			}
			val = val<<4 | int(d)
			off++
		}
		if off == 0 {
			return a, false
		}
		if off < len(b) && b[off] == '.' {
			if ellipsis < 0 && i != 12 || i+4 > 16 {
				return a, false
			}
			if !parseV4(b, a[i:i+4]) {
				return a, false
			}
			i += 4
			b = nil
			break
		}
		a[i], a[i+1] = byte(val>>8), byte(val)
		i += 2
		b = b[off:]
		if len(b) == 0 {
			break
		}
		if b[0] != ':' || len(b) == 1 {
			return a, false
		}
		b = b[1:]
		if b[0] == ':' {
			if ellipsis >= 0 {
				return a, false
			}
			ellipsis = i
			b = b[1:]
			if len(b) == 0 {
				break
			}
		}
	}
	if len(b) != 0 {
		return a, false
	}
	if i < 16 {
		if ellipsis < 0 {
			return a, false
		}
		n := 16 - i
		for j := i - 1; j >= ellipsis; j-- {
			a[j+n] = a[j]
		}
		for j := ellipsis + n - 1; j >= ellipsis; j-- {
			a[j] = 0
		}
	} else if ellipsis >= 0 {
		return a, false // "::" must stand for at least one group
	}
	return a, true
}

// parseDateTime parses the wall-clock layouts of flow tools, in loc unless
// the text carries its own offset:
//
//	2023-01-25 18:35:43            nfdump -o csv, Spot
//	2023-01-25 18:35:43.039        nfdump tr, with fractions
//	2018/12/18 14:59:51.123456     Argus / CTU binetflow
//	2020-06-05T14:39:59.305988Z    ISO 8601 (Zeek JSON with ISO timestamps)
//	2020-06-05T16:39:59+02:00
//
// Fractions of any length are truncated to nanoseconds.
func parseDateTime(b []byte, loc *time.Location) (int64, bool) {
	// YYYY?MM?DD?HH:MM:SS
	if len(b) < 19 || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	sep := b[4]
	if (sep != '-' && sep != '/') || b[7] != sep || (b[10] != ' ' && b[10] != 'T') {
		return 0, false
	}
	num := func(s []byte) (int, bool) {
		v := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	minute, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return 0, false
	}
	// time.Date normalises out-of-range values; evidence must not be
	// silently moved to another day, so check them here. UnixNano covers
	// the years 1678 to 2262.
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 ||
		year < 1678 || year > 2261 {
		return 0, false
	}
	p := 19
	nsec := 0
	if p < len(b) && b[p] == '.' {
		p++
		scale := 100000000
		start := p
		for ; p < len(b) && b[p] >= '0' && b[p] <= '9'; p++ {
			nsec += int(b[p]-'0') * scale
			scale /= 10
		}
		if p == start {
			return 0, false
		}
	}
	if p < len(b) {
		switch rest := b[p:]; {
		case len(rest) == 1 && rest[0] == 'Z':
			loc = time.UTC
		case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
			oh, okh := num(rest[1:3])
			om, okm := num(rest[4:6])
			if !okh || !okm || oh > 23 || om > 59 {
				return 0, false
			}
			off := (oh*60 + om) * 60
			if rest[0] == '-' {
				off = -off
			}
			t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
			return t.UnixNano() - int64(off)*int64(time.Second), true
		default:
			return 0, false
		}
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc).UnixNano(), true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// parseTime accepts either a wall-clock layout (parseDateTime) or Unix
// epoch seconds with an optional fraction ("921159902.141757").
func parseTime(b []byte, loc *time.Location) (int64, bool) {
	if len(b) >= 19 && (b[4] == '-' || b[4] == '/') {
		return parseDateTime(b, loc)
	}
	return parseSeconds(b)
}

// trimSpace drops ASCII blanks around b (nfdump pads some CSV columns).
func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// splitFields splits line at every sep into dst (reused), refusing more
// than max fields. It does not honour quotes: none of the flow tools we
// read quote their fields.
func splitFields(dst [][]byte, line []byte, sep byte, max int) ([][]byte, bool) {
	dst = dst[:0]
	start := 0
	// A byte loop beats a bytes.IndexByte call per field: flow-log
	// fields are a few bytes long.
	for i, c := range line {
		if c == sep {
			if len(dst)+1 >= max {
				return append(dst, line[start:i]), false
			}
			dst = append(dst, line[start:i:i])
			start = i + 1
		}
	}
	dst = append(dst, line[start:len(line):len(line)])
	return dst, len(dst) <= max
}

// indexByte is bytes.IndexByte (assembly-backed) under a short name.
func indexByte(b []byte, c byte) int { return bytes.IndexByte(b, c) }
