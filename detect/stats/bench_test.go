package stats

import (
	"sync"
	"testing"
	"time"

	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/detect/filter"
)

const benchRows = 10_000_000

var (
	benchOnce sync.Once
	benchCols *filter.FlowColumns
)

// benchColumns builds 10 M synthetic flows once: 65 536 sources (a quarter
// in 10.0.0.0/8), a third of the destination ports 443, bytes up to ~4 kB.
func benchColumns() *filter.FlowColumns {
	benchOnce.Do(func() {
		c := &filter.FlowColumns{N: benchRows, First: make([]int64, benchRows), Last: make([]int64, benchRows),
			Src: make([]flow.Addr, benchRows), DstPort: make([]uint16, benchRows),
			Packets: make([]uint64, benchRows), Bytes: make([]uint64, benchRows)}
		x := uint64(0x9e3779b97f4a7c15)
		t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).UnixNano()
		for i := 0; i < benchRows; i++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			b := [4]byte{192, 168, byte(x >> 8), byte(x >> 16)}
			if x&3 == 0 {
				b[0], b[1] = 10, 1
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
			c.Packets[i] = 1 + x>>60
			c.First[i] = t0 + int64(i)*1e5
			c.Last[i] = c.First[i] + int64(x>>34)
		}
		benchCols = c
	})
	return benchCols
}

// BenchmarkStatsTop10 is the target: filter + top-10 srcip by
// bytes over 10 M flows on one core (under 0.5 s; nfdump -s srcip/bytes
// runs at about 12 M records/s, so 2x faster is under ~0.42 s). It filters
// and aggregates 16,384 rows at a time, as spotctl stats does. The
// sources are uniform over 131,072 addresses, far more than real
// evidence has, so every update misses the cache: a worst case.
func BenchmarkStatsTop10(b *testing.B) {
	c := benchColumns()
	f, err := filter.Compile("dst port 443 or bytes > 2k", filter.Flow)
	if err != nil {
		b.Fatal(err)
	}
	spec, err := ParseSpec("srcip/bytes", OrderFlows)
	if err != nil {
		b.Fatal(err)
	}
	spec.Limit = 10
	const chunk = 1 << 14
	sel := make([]int32, 0, chunk)
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	var rows []Row
	selected := 0
	for i := 0; i < b.N; i++ {
		a, _ := NewAggregator(spec)
		selected = 0
		for lo := 0; lo < c.N; lo += chunk {
			sel = f.SelectRange(c, lo, lo+chunk, sel[:0])
			selected += len(sel)
			if err := a.AddFlows(c, sel); err != nil {
				b.Fatal(err)
			}
		}
		rows = a.Top()
	}
	el := time.Since(start)
	b.ReportMetric(el.Seconds()/float64(b.N), "s/10Mflows")
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/10Mflows")
	b.ReportMetric(float64(selected), "selected")
	if len(rows) != 10 {
		b.Fatalf("%d rows", len(rows))
	}
}

// benchAggregate aggregates the 10 M benchmark flows (no filter) by spec
// and reports wall and CPU nanoseconds per flow.
func benchAggregate(b *testing.B, spec string) {
	c := benchColumns()
	sp, err := ParseSpec(spec, OrderFlows)
	if err != nil {
		b.Fatal(err)
	}
	sp.Limit = 10
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		a, _ := NewAggregator(sp)
		if err := a.AddFlows(c, nil); err != nil {
			b.Fatal(err)
		}
		_ = a.Top()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchRows, "ns/flow")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N)/benchRows, "cpu-ns/flow")
}

// BenchmarkAggregateDstPort: an integer key (the dense-array loop).
func BenchmarkAggregateDstPort(b *testing.B) { benchAggregate(b, "dstport/bytes") }

// BenchmarkAggregateOneGroup: the general table's per-row cost (proto is
// absent from the synthetic columns, so the specialised loop declines and
// every flow is one group).
func BenchmarkAggregateOneGroup(b *testing.B) { benchAggregate(b, "proto/bytes") }

// BenchmarkAggregateSrcIP: by source address (131,072 groups), the key of
// the target.
func BenchmarkAggregateSrcIP(b *testing.B) { benchAggregate(b, "srcip/bytes") }
