package suspicious

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/spotctl/spotctl/detect/words"
)

// FormatJavaDouble renders x as Java's Double.toString does, the form of
// every number in Spot's result files: plain decimal with at least one
// fractional digit for 1e-3 ≤ |x| < 1e7 ("0.9", "100.0"), otherwise
// computerized scientific notation ("1.3209783610934376E-8", "1.0E7");
// "NaN", "Infinity", "-Infinity", "0.0", "-0.0".
//
// The digits are those of the JDK 19+ specification: the shortest decimal
// that rounds back to x, choosing among 2-digit decimals when one digit
// would do (so Double.MIN_VALUE is "4.9E-324"). The JDK 8 that ran Spot
// occasionally printed one digit more than needed (JDK-4511638); such values
// differ from Spot's output in the last digit only and are rare (never for
// the probabilities in (0, 1] that normal-range scores are).
func FormatJavaDouble(x float64) string { return string(AppendJavaDouble(nil, x)) }

// AppendJavaDouble appends FormatJavaDouble(x) to b.
func AppendJavaDouble(b []byte, x float64) []byte { return appendJava(b, x, 64) }

// FormatJavaFloat renders f as Java's Float.toString (same rules, float32
// digits); Spot's tdur column is a FLOAT.
func FormatJavaFloat(f float32) string { return string(appendJava(nil, float64(f), 32)) }

func appendJava(b []byte, x float64, bitSize int) []byte {
	switch {
	case math.IsNaN(x):
		return append(b, "NaN"...)
	case math.IsInf(x, 1):
		return append(b, "Infinity"...)
	case math.IsInf(x, -1):
		return append(b, "-Infinity"...)
	}
	if math.Signbit(x) {
		b = append(b, '-')
		x = -x
	}
	if x == 0 {
		return append(b, "0.0"...)
	}
	var buf [32]byte
	digits, exp := decimalDigits(buf[:0], x, bitSize)
	if x >= 1e-3 && x < 1e7 {
		if exp >= 0 {
			for i := 0; i <= exp; i++ {
				if i < len(digits) {
					b = append(b, digits[i])
				} else {
					b = append(b, '0')
				}
			}
			b = append(b, '.')
			if exp+1 < len(digits) {
				return append(b, digits[exp+1:]...)
			}
			return append(b, '0')
		}
		b = append(b, "0."...)
		for i := 0; i < -exp-1; i++ {
			b = append(b, '0')
		}
		return append(b, digits...)
	}
	b = append(b, digits[0], '.')
	if len(digits) > 1 {
		b = append(b, digits[1:]...)
	} else {
		b = append(b, '0')
	}
	b = append(b, 'E')
	return strconv.AppendInt(b, int64(exp), 10)
}

// decimalDigits returns the significant digits of x > 0 (no trailing zeros)
// and the decimal exponent of the first digit, per the JDK 19+ rule.
func decimalDigits(buf []byte, x float64, bitSize int) ([]byte, int) {
	s := strconv.AppendFloat(buf, x, 'e', -1, bitSize)
	digits, exp := splitE(s)
	if len(digits) == 1 {
		// One digit suffices; Java then picks the closest decimal of at most
		// two digits that still rounds to x.
		var tmp [32]byte
		s2 := strconv.AppendFloat(tmp[:0], x, 'e', 1, bitSize)
		if y, err := strconv.ParseFloat(string(s2), bitSize); err == nil && y == x {
			d2, e2 := splitE(s2)
			for len(d2) > 1 && d2[len(d2)-1] == '0' {
				d2 = d2[:len(d2)-1]
			}
			return append(buf[:0], d2...), e2
		}
	}
	return digits, exp
}

// splitE splits strconv's "d.ddde±XX" into its digits and exponent.
func splitE(s []byte) ([]byte, int) {
	var digits []byte
	i := 0
	for ; i < len(s) && s[i] != 'e'; i++ {
		if s[i] != '.' {
			digits = append(digits, s[i])
		}
	}
	exp, _ := strconv.Atoi(string(s[i+1:]))
	for len(digits) > 1 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
	}
	return digits, exp
}

// WriteFlowResults writes the selected flows in Spot's flow_results.csv
// layout: 18 tab-separated columns, no header — treceived, tryear, trmonth,
// trday, trhour, trminute, trsec, tdur, sip, dip, sport, dport, proto, ipkt,
// ibyt, opkt, obyt, score. Times are the flow's Time in loc (nil: UTC);
// tdur is the duration in seconds with millisecond precision read as a Java
// float, as nfdump → Hive did; opkt/obyt are the reverse counters of a
// biflow (0 for unidirectional records).
func WriteFlowResults(w io.Writer, fl Flows, idx []int, scores []float64, loc *time.Location) error {
	if loc == nil {
		loc = time.UTC
	}
	if err := checkLen("flow results", len(scores), fl.Len()); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	var line []byte
	for _, i := range idx {
		f := fl.Flow(i)
		t := time.Unix(0, f.Time).In(loc)
		line = t.AppendFormat(line[:0], "2006-01-02 15:04:05")
		for _, v := range []int{t.Year(), int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second()} {
			line = append(line, '\t')
			line = strconv.AppendInt(line, int64(v), 10)
		}
		line = append(line, '\t')
		line = appendJava(line, float64(durationFloat(f.Duration)), 32)
		line = append(line, '\t')
		line = append(line, f.Src.String()...)
		line = append(line, '\t')
		line = append(line, f.Dst.String()...)
		line = append(line, '\t')
		line = strconv.AppendUint(line, uint64(f.SrcPort), 10)
		line = append(line, '\t')
		line = strconv.AppendUint(line, uint64(f.DstPort), 10)
		line = append(line, '\t')
		line = append(line, words.ProtoName(f.Proto)...)
		line = append(line, '\t')
		line = strconv.AppendUint(line, f.Packets, 10)
		line = append(line, '\t')
		line = strconv.AppendUint(line, f.Bytes, 10)
		line = append(line, '\t')
		line = strconv.AppendUint(line, f.OutPackets, 10)
		line = append(line, '\t')
		line = strconv.AppendUint(line, f.OutBytes, 10)
		line = append(line, '\t')
		line = AppendJavaDouble(line, scores[i])
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return fmt.Errorf("write flow results: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write flow results: %w", err)
	}
	return nil
}

// durationFloat is nfdump's "%.3f" seconds (milliseconds, truncated) parsed
// as a Hive FLOAT.
func durationFloat(ns int64) float32 {
	ms := ns / int64(time.Millisecond)
	neg := ms < 0
	if neg {
		ms = -ms
	}
	s := strconv.FormatInt(ms/1000, 10) + "." + fmt.Sprintf("%03d", ms%1000)
	v, _ := strconv.ParseFloat(s, 32)
	if neg {
		v = -v
	}
	return float32(v)
}

// WriteDNSResults writes the selected events in Spot's dns_results.csv
// layout: 9 tab-separated columns, no header — frame_time, unix_tstamp,
// frame_len, ip_dst (the client), dns_qry_name, dns_qry_class, dns_qry_type,
// dns_qry_rcode, score. frame_time is tshark's frame.time text as Spot's
// ingest re-joined it ("Jul  8 2016 10:15:23.123456000 UTC") in loc (nil:
// UTC); the class is tshark's hex form ("0x00000001"). Control bytes in the
// name (which would break the TSV layout) are written as \DDD.
func WriteDNSResults(w io.Writer, ev DNSEvents, idx []int, scores []float64, loc *time.Location) error {
	if loc == nil {
		loc = time.UTC
	}
	if err := checkLen("dns results", len(scores), ev.Len()); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	var line []byte
	for _, i := range idx {
		e := ev.Event(i)
		t := time.Unix(0, e.Time).In(loc)
		line = t.AppendFormat(line[:0], "Jan _2 2006 15:04:05.000000000 MST")
		line = append(line, '\t')
		line = strconv.AppendInt(line, floorDiv(e.Time, int64(time.Second)), 10)
		line = append(line, '\t')
		line = strconv.AppendUint(line, uint64(e.FrameLen), 10)
		line = append(line, '\t')
		line = append(line, e.Client.String()...)
		line = append(line, '\t')
		line = appendEscaped(line, e.Name)
		line = append(line, '\t')
		line = fmt.Appendf(line, "0x%08x", e.Class)
		line = append(line, '\t')
		line = strconv.AppendInt(line, int64(e.Type), 10)
		line = append(line, '\t')
		line = strconv.AppendInt(line, int64(e.Rcode), 10)
		line = append(line, '\t')
		line = AppendJavaDouble(line, scores[i])
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return fmt.Errorf("write dns results: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write dns results: %w", err)
	}
	return nil
}

// appendEscaped appends s with bytes below 0x20 and DEL as \DDD.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			b = append(b, '\\', '0'+c/100, '0'+c/10%10, '0'+c%10)
			continue
		}
		b = append(b, c)
	}
	return b
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
