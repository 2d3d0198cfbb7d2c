package flowstore

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/spotctl/spotctl/decode/flow"
)

// BenchmarkWrite measures the writer: per-row cost of AddFlow/AddDNS
// (allocations must be 0 for flows and for repeated qnames), and a whole
// segment of 100k flows + 20k DNS rows including Commit's fsyncs.
func BenchmarkWrite(b *testing.B) {
	b.Run("AddFlow", func(b *testing.B) {
		c := newCase(b)
		w, err := c.NewSegment()
		if err != nil {
			b.Fatal(err)
		}
		defer w.Abort()
		r := randFlow(newRand(1))
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			r.Bytes++
			if err := w.AddFlow(&r); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	// A NetFlow/IPFIX row: every sparse column exists and gets a value.
	b.Run("AddFlowExport", func(b *testing.B) {
		c := newCase(b)
		w, err := c.NewSegment()
		if err != nil {
			b.Fatal(err)
		}
		defer w.Abort()
		r := randFlow(newRand(1))
		randExport(newRand(2), &r, false)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			r.Bytes++
			if err := w.AddFlow(&r); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("AddDNS", func(b *testing.B) {
		c := newCase(b)
		w, err := c.NewSegment()
		if err != nil {
			b.Fatal(err)
		}
		defer w.Abort()
		rng := newRand(2)
		msgs := make([]flow.DNSMessage, 1024)
		for i := range msgs {
			msgs[i] = randDNS(rng, i, 200)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := w.AddDNS(&msgs[i%len(msgs)]); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("Segment100k", func(b *testing.B) {
		c := newCase(b)
		d := genSegment(3, 100_000, 20_000, 500)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			w, err := c.NewSegment()
			if err != nil {
				b.Fatal(err)
			}
			for j := range d.flows {
				w.AddFlow(&d.flows[j])
			}
			for j := range d.dns {
				w.AddDNS(&d.dns[j])
			}
			if err := w.Commit(nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*(len(d.flows)+len(d.dns)))/b.Elapsed().Seconds(), "rows/s")
	})
}

// benchCase returns a case with one segment of n flow rows, built once and
// kept under os.TempDir (about 77 bytes per row: ~770 MB for 10M) so later
// runs reuse it. It is never inside the repository.
func benchCase(b *testing.B, n int) string {
	b.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("spotctl-flowstore-bench-%d", n))
	if c, err := Open(dir); err == nil {
		segs := c.Segments()
		ok := len(segs) == 1 && segs[0].Manifest.Flows == uint64(n) && len(segs[0].Verify()) == 0
		c.Close()
		if ok {
			return dir
		}
	}
	os.RemoveAll(dir)
	start := time.Now()
	c, err := Create(dir, testInfo)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	w, err := c.NewSegment()
	if err != nil {
		b.Fatal(err)
	}
	rng := newRand(10)
	var r flow.Record
	for i := 0; i < n; i++ {
		if i%4096 == 0 {
			r = randFlow(rng)
		}
		r.First += 1000
		r.Last = r.First + 5000
		r.DstPort = uint16(i)
		r.Bytes = uint64(i % 100_000)
		r.Evidence = 0
		if err := w.AddFlow(&r); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Commit(&Manifest{Evidence: []EvidenceFile{{Path: "bench"}}}); err != nil {
		b.Fatal(err)
	}
	b.Logf("built %s (%d rows) in %v", dir, n, time.Since(start))
	return dir
}

// BenchmarkReopenScan: per iteration, Open the case, map the flows table,
// verify and sum bytes and dst_port over every row, Close. Target: under
// 50 ms for 10M rows with a warm page cache. FLOWSTORE_BENCH_ROWS
// overrides the row count.
func BenchmarkReopenScan(b *testing.B) {
	n := benchRows(b)
	dir := benchCase(b, n)
	var wantBytes uint64
	for i := 0; i < n; i++ {
		wantBytes += uint64(i % 100_000)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, err := Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		t, err := c.Segments()[0].Flows()
		if err != nil {
			b.Fatal(err)
		}
		bytesCol, err := t.Uint64(ColBytes)
		if err != nil {
			b.Fatal(err)
		}
		ports, err := t.Uint16(ColDstPort)
		if err != nil {
			b.Fatal(err)
		}
		var sumBytes, sumPorts uint64
		for _, v := range bytesCol {
			sumBytes += v
		}
		for _, v := range ports {
			sumPorts += uint64(v)
		}
		if sumBytes != wantBytes || sumPorts == 0 {
			b.Fatalf("sums %d %d, want bytes %d", sumBytes, sumPorts, wantBytes)
		}
		c.Close()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkScanOpen is BenchmarkReopenScan without the reopen: the case
// stays open, columns are already verified and mapped, so this is the
// steady-state cost of a scan (memory bandwidth only).
func BenchmarkScanOpen(b *testing.B) {
	n := benchRows(b)
	c, err := Open(benchCase(b, n))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	t, err := c.Segments()[0].Flows()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var sink uint64
	for i := 0; i < b.N; i++ {
		bytesCol, _ := t.Uint64(ColBytes)
		ports, _ := t.Uint16(ColDstPort)
		var sumBytes, sumPorts uint64
		for _, v := range bytesCol {
			sumBytes += v
		}
		for _, v := range ports {
			sumPorts += uint64(v)
		}
		sink += sumBytes + sumPorts
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	_ = sink
}

// BenchmarkFlowAt materialises rows of a packet-capture segment (sparse
// columns absent) and of a flow-export segment (all 26 columns).
func BenchmarkFlowAt(b *testing.B) {
	for _, tc := range []struct {
		name string
		d    segmentData
	}{
		{"pcap", genSegment(80, 4096, 0, 0)},
		{"export", withExport(genSegment(81, 4096, 0, 0), 81, 1)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c := newCase(b)
			writeSegment(b, c, tc.d)
			t, err := c.Segments()[0].Flows()
			if err != nil {
				b.Fatal(err)
			}
			var r flow.Record
			var sink uint64
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := t.FlowAt(i%4096, &r); err != nil {
					b.Fatal(err)
				}
				sink += r.Bytes + r.OutBytes
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			_ = sink
		})
	}
}

// benchRows is the row count of the benchmark case: 10 M, or
// FLOWSTORE_BENCH_ROWS.
func benchRows(b *testing.B) int {
	n := 10_000_000
	if s := os.Getenv("FLOWSTORE_BENCH_ROWS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	return n
}
