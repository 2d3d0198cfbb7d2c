package synth

import (
	"io"
	"runtime"
	"testing"
	"time"
)

// BenchmarkWrite measures generation throughput into io.Discard: ns/pkt
// and allocations per packet are the numbers to watch (setup — the world,
// the filler, the hosts — is amortised over the run).
func BenchmarkWrite(b *testing.B) {
	for _, n := range []int{200_000, 2_000_000, 10_000_000} {
		b.Run(fmtCount(n), func(b *testing.B) {
			b.ReportAllocs()
			var st Stats
			start := time.Now()
			for i := 0; i < b.N; i++ {
				var err error
				st, err = Write(io.Discard, Options{Seed: uint64(i), Hosts: 200, Start: busy, Packets: n})
				if err != nil {
					b.Fatal(err)
				}
			}
			el := time.Since(start)
			b.SetBytes(int64(st.Bytes))
			b.ReportMetric(float64(el.Nanoseconds())/float64(b.N*n), "ns/pkt")
			b.ReportMetric(float64(b.N*n)/el.Seconds()/1e6, "Mpkt/s")
		})
	}
}

// BenchmarkWriteInjected is BenchmarkWrite's 2M case with every scenario
// running inside it (the exfil scaled to 100 MB so that it fits): the
// injected actors must not slow generation down.
func BenchmarkWriteInjected(b *testing.B) {
	const n = 2_000_000
	inj, err := ParseInjections("beacon:interval=60s,scan:at=+1m,dns-tunnel:at=+30s:interval=500ms,exfil:at=+2m:for=20m:bytes=100MB,dga:at=+1m:interval=200ms,lateral:at=+3m:targets=20")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var st Stats
	start := time.Now()
	for i := 0; i < b.N; i++ {
		st, err = Write(io.Discard, Options{Seed: uint64(i), Hosts: 200, Start: busy, Packets: n, Inject: inj})
		if err != nil {
			b.Fatal(err)
		}
	}
	el := time.Since(start)
	injected := 0
	for _, a := range st.Truth.Activities {
		injected += a.Packets
	}
	b.SetBytes(int64(st.Bytes))
	b.ReportMetric(float64(el.Nanoseconds())/float64(b.N*n), "ns/pkt")
	b.ReportMetric(float64(injected)/float64(n)*100, "%injected")
}

func fmtCount(n int) string {
	switch {
	case n%1_000_000 == 0:
		return itoa(n/1_000_000) + "M"
	case n%1000 == 0:
		return itoa(n/1000) + "k"
	}
	return itoa(n)
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// TestBoundedMemory: the generator holds the conversations in flight,
// never the capture, so what it allocates does not grow with the output.
func TestBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a million packets")
	}
	alloc := func(n int) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		if _, err := Write(io.Discard, Options{Seed: 1, Hosts: 100, Start: busy, Packets: n}); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	small, big := alloc(100_000), alloc(1_000_000)
	t.Logf("allocated %d KiB for 100k packets, %d KiB for 1M", small>>10, big>>10)
	if big > 32<<20 || big > 4*small {
		t.Errorf("allocations grow with the output: %d KiB for 100k packets, %d KiB for 1M", small>>10, big>>10)
	}
}
