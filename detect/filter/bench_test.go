package filter

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spotctl/spotctl/decode/flow"
)

const benchRows = 10_000_000

var (
	benchOnce sync.Once
	benchCols *FlowColumns
)

// benchColumns builds 10 M synthetic rows once (only the columns the
// typical filter reads, about 260 MB): a quarter of the sources in
// 10.0.0.0/8, a third of the destination ports 443, bytes up to ~4 kB.
func benchColumns() *FlowColumns {
	benchOnce.Do(func() {
		c := &FlowColumns{N: benchRows,
			Src: make([]flow.Addr, benchRows), DstPort: make([]uint16, benchRows), Bytes: make([]uint64, benchRows)}
		x := uint64(0x9e3779b97f4a7c15)
		for i := 0; i < benchRows; i++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			b := [4]byte{byte(x >> 8), byte(x >> 16), byte(x >> 24), byte(x >> 32)}
			if x&3 == 0 {
				b[0] = 10
			}
			c.Src[i] = flow.AddrFrom4(b)
			switch x >> 40 % 3 {
			case 0:
				c.DstPort[i] = 443
			case 1:
				c.DstPort[i] = 80
			default:
				c.DstPort[i] = uint16(x >> 44)
			}
			c.Bytes[i] = x >> 52
		}
		benchCols = c
	})
	return benchCols
}

const typicalFilter = "src net 10.0.0.0/8 and dst port 443 and bytes > 1k"

// BenchmarkMatchFlowColumns selects over 10 M rows per iteration with the
// typical filter and reports ns/row and seconds per 10 M rows.
func BenchmarkMatchFlowColumns(b *testing.B) {
	c := benchColumns()
	f, err := Compile(typicalFilter, Flow)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]int32, 0, benchRows/8)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var n int
	for i := 0; i < b.N; i++ {
		dst = f.Select(c, dst[:0])
		n = len(dst)
	}
	el := time.Since(start)
	b.ReportMetric(float64(el.Nanoseconds())/float64(b.N)/benchRows, "ns/row")
	b.ReportMetric(el.Seconds()/float64(b.N), "s/10Mrows")
	b.ReportMetric(float64(n), "matches")
}

// BenchmarkMatchFlowColumnsRow is the per-row entry point on the same data.
func BenchmarkMatchFlowColumnsRow(b *testing.B) {
	c := benchColumns()
	f, _ := Compile(typicalFilter, Flow)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		if f.MatchFlowColumns(c, i%benchRows) {
			n++
		}
	}
	_ = n
}

func BenchmarkMatchFlow(b *testing.B) {
	f, _ := Compile(typicalFilter, Flow)
	r := baseFlow()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r.Bytes = uint64(i & 4095)
		f.MatchFlow(&r)
	}
}

// BenchmarkIPList is "ip in [...]" with 10 000 entries (binary search).
func BenchmarkIPList(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("ip in [")
	for i := 0; i < 10000; i++ {
		sb.WriteString(flow.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1}).String() + " ")
	}
	sb.WriteString("]")
	f, err := Compile(sb.String(), Flow)
	if err != nil {
		b.Fatal(err)
	}
	r := baseFlow()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r.Src = flow.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), byte(i >> 16)})
		f.MatchFlow(&r)
	}
}

func BenchmarkMatchDNS(b *testing.B) {
	f, _ := Compile("qname suffix example.com and qtype in [A AAAA] and not rcode noerror", DNS)
	m := flow.DNSMessage{QName: "a.b.Example.com", QType: 28, Rcode: 3}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		f.MatchDNS(&m)
	}
}

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Compile(typicalFilter+" or (proto udp and port in [53 5353] and not flags R)", Flow); err != nil {
			b.Fatal(err)
		}
	}
}
