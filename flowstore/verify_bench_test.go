package flowstore

import (
	"testing"

	"github.com/spotctl/spotctl/decode/flow"
)

// The cost of refusing corrupt columns. A column is checked (CRC32C of its
// parts, plus the offsets of variable-length ones) the first time it is
// read after Open, so a command pays for the columns it uses, once.
//
//	go test -run '^$' -bench 'BenchmarkCRC32C|BenchmarkCheck' -benchtime 5x ./flowstore
//
// CRC32C: raw checksum speed over memory (one core and parallel);
// CheckAllFlowColumns: Open a 10 M-row case and read row 0 with FlowAt,
// which checks every flows column (what flows, dns and export do before
// printing); CheckedScan: the same columns already checked, a scan of
// bytes alone, for scale.
func BenchmarkCRC32C(b *testing.B) {
	buf := make([]byte, 64<<20)
	rng := newRand(3)
	for i := range buf {
		buf[i] = byte(rng.Uint32())
	}
	b.Run("serial", func(b *testing.B) {
		b.SetBytes(int64(len(buf)))
		for i := 0; i < b.N; i++ {
			crc32c(buf)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetBytes(int64(len(buf)))
		for i := 0; i < b.N; i++ {
			crc32cParallel(buf)
		}
	})
}

func BenchmarkCheckAllFlowColumns(b *testing.B) {
	n := benchRows(b)
	dir := benchCase(b, n)
	var size int64
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
		var r flow.Record
		if err := t.FlowAt(0, &r); err != nil {
			b.Fatal(err)
		}
		if size == 0 {
			for _, col := range t.Columns() {
				for _, p := range col.Parts {
					size += int64(p.Length)
				}
			}
		}
		c.Close()
	}
	b.ReportMetric(float64(size)/1e6, "MB/case")
	b.ReportMetric(float64(size)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}
