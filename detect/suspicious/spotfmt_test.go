package suspicious

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spotctl/spotctl/decode/flow"
)

func TestFormatJavaDouble(t *testing.T) {
	tests := []struct {
		x    float64
		want string
	}{
		{0.9, "0.9"},
		{0.1, "0.1"},
		{1, "1.0"},
		{100, "100.0"},
		{-1.5, "-1.5"},
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{math.NaN(), "NaN"},
		{math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"},
		{0.001, "0.001"},   // lower edge of plain notation
		{0.0009, "9.0E-4"}, // just below it
		{math.Nextafter(0.001, 0), "9.999999999999998E-4"}, // the double just below 1e-3
		{1e7, "1.0E7"},         // upper edge: scientific
		{9999999, "9999999.0"}, // just below it
		{math.Nextafter(1e7, 0), "9999999.999999998"},    // the double just below 1e7
		{1.3209783610934376e-8, "1.3209783610934376E-8"}, // example from Spot's output
		{0.010000000000000002, "0.010000000000000002"},   // score golden vector
		{0.010000000149011612, "0.010000000149011612"},   // float32 θ golden vector
		{math.Nextafter(0.3, 1), "0.30000000000000004"},  // 0.1 + 0.2 at run time
		{123456789, "1.23456789E8"},
		{12345678.9, "1.23456789E7"},
		{1234567, "1234567.0"},
		{1e-5, "1.0E-5"},
		{1e21, "1.0E21"},
		{1e23, "1.0E23"},
		{0.5, "0.5"},
		{0.25, "0.25"},
		{1.0 / 3, "0.3333333333333333"},
		{2.0 / 3, "0.6666666666666666"},
		{math.MaxFloat64, "1.7976931348623157E308"},
		{2.2250738585072014e-308, "2.2250738585072014E-308"}, // smallest normal
		{5e-324, "4.9E-324"},                                 // Double.MIN_VALUE: two digits, closer than "5"
		{1e-323, "9.9E-324"},                                 // 2·MIN_VALUE, JDK 19+ (JDK 8: "1.0E-323")
		{1e-6, "1.0E-6"},                                     // Spot's default threshold
		{0.09999509592695424, "0.09999509592695424"},
	}
	for _, tc := range tests {
		if got := FormatJavaDouble(tc.x); got != tc.want {
			t.Errorf("FormatJavaDouble(%v) = %q, want %q", tc.x, got, tc.want)
		}
	}
}

func TestFormatJavaFloat(t *testing.T) {
	tests := []struct {
		x    float32
		want string
	}{
		{0.1, "0.1"},
		{1.234, "1.234"},
		{0, "0.0"},
		{1e7, "1.0E7"},
		{16777216, "1.6777216E7"},
		{0.001, "0.001"},
		{math.MaxFloat32, "3.4028235E38"},
		{math.SmallestNonzeroFloat32, "1.4E-45"},
		{0.05, "0.05"},
		{60.123, "60.123"},
	}
	for _, tc := range tests {
		if got := FormatJavaFloat(tc.x); got != tc.want {
			t.Errorf("FormatJavaFloat(%v) = %q, want %q", tc.x, got, tc.want)
		}
	}
}

func FuzzFormatJavaDouble(f *testing.F) {
	for _, x := range []float64{0.9, 1e-3, 1e7, 5e-324, math.MaxFloat64, 1.3209783610934376e-8, -0.0, 123.456} {
		f.Add(math.Float64bits(x))
	}
	f.Fuzz(func(t *testing.T, bits uint64) {
		x := math.Float64frombits(bits)
		s := FormatJavaDouble(x)
		if math.IsNaN(x) {
			if s != "NaN" {
				t.Fatalf("NaN as %q", s)
			}
			return
		}
		if math.IsInf(x, 0) {
			return
		}
		y, err := strconv.ParseFloat(strings.Replace(s, "E", "e", 1), 64)
		if err != nil || math.Float64bits(y) != bits {
			t.Fatalf("%v -> %q -> %v, %v: no round trip", x, s, y, err)
		}
		a := math.Abs(x)
		if sci := strings.Contains(s, "E"); sci != (a != 0 && (a < 1e-3 || a >= 1e7)) {
			t.Fatalf("%v -> %q: wrong notation", x, s)
		}
		if !strings.Contains(s, ".") {
			t.Fatalf("%v -> %q: no fractional part", x, s)
		}
		// Never longer than Go's shortest digits plus Java's fixed decoration.
		mant := strings.TrimLeft(strings.Split(strings.Replace(s, "-", "", 1), "E")[0], "0.")
		mant = strings.TrimRight(strings.Replace(mant, ".", "", 1), "0")
		short := strings.TrimRight(strings.Replace(strings.Split(strconv.FormatFloat(a, 'e', -1, 64), "e")[0], ".", "", 1), "0")
		if len(mant) > max(len(short), 2) {
			t.Fatalf("%v -> %q: %d significant digits, shortest has %d", x, s, len(mant), len(short))
		}
	})
}

func TestWriteFlowResults(t *testing.T) {
	at := time.Date(2016, 7, 8, 13, 5, 9, 500e6, time.UTC).UnixNano()
	recs := Records{
		{First: at, Last: at + 1234567890, Src: addr("172.16.0.129"), Dst: addr("10.0.2.202"), SrcPort: 1024, DstPort: 80,
			Proto: flow.ProtoTCP, Packets: 39, Bytes: 12522, OutPackets: 30, OutBytes: 40000},
		{First: at, Last: at, Src: addr("2001:db8::1"), Dst: addr("2001:db8::2"), DstPort: 8 << 8, Proto: flow.ProtoICMPv6,
			Packets: 1, Bytes: 64},
	}
	scores := []float64{0.09999509592695424, 1.3209783610934376e-8}
	var buf bytes.Buffer
	if err := WriteFlowResults(&buf, recs, []int{1, 0}, scores, nil); err != nil {
		t.Fatal(err)
	}
	want := "2016-07-08 13:05:09\t2016\t7\t8\t13\t5\t9\t0.0\t2001:db8::1\t2001:db8::2\t0\t2048\tICMP6\t1\t64\t0\t0\t1.3209783610934376E-8\n" +
		"2016-07-08 13:05:09\t2016\t7\t8\t13\t5\t9\t1.234\t172.16.0.129\t10.0.2.202\t1024\t80\tTCP\t39\t12522\t30\t40000\t0.09999509592695424\n"
	if got := buf.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if n := len(strings.Split(line, "\t")); n != 18 {
			t.Errorf("%d columns, want 18", n)
		}
	}
	// In another zone the time columns follow the zone.
	buf.Reset()
	WriteFlowResults(&buf, recs, []int{0}, scores, time.FixedZone("X", 2*3600))
	if !strings.HasPrefix(buf.String(), "2016-07-08 15:05:09\t2016\t7\t8\t15\t") {
		t.Errorf("zoned line %q", buf.String())
	}
	if err := WriteFlowResults(&buf, recs, nil, scores[:1], nil); err == nil {
		t.Error("score/flow count mismatch accepted")
	}
}

func TestWriteDNSResults(t *testing.T) {
	ev := DNSEventSlice{{Time: time.Date(2016, 7, 8, 10, 15, 23, 123456000, time.UTC).UnixNano(), Client: addr("10.0.2.15"),
		FrameLen: 213, Name: "abc\tdef\n.apache.com", Class: 1, Type: 1, Rcode: 0}}
	var buf bytes.Buffer
	if err := WriteDNSResults(&buf, ev, []int{0}, []float64{1e-7}, nil); err != nil {
		t.Fatal(err)
	}
	want := "Jul  8 2016 10:15:23.123456000 UTC\t1467972923\t213\t10.0.2.15\tabc\\009def\\010.apache.com\t0x00000001\t1\t0\t1.0E-7\n"
	if got := buf.String(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
