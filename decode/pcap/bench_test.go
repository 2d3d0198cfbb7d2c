package pcap

import (
	"io"
	"testing"
)

// loopReader serves a file header once, then the same run of records
// forever, so a benchmark can ask for b.N packets from memory.
type loopReader struct {
	header, records []byte
	off             int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := 0
	if len(l.header) > 0 {
		n = copy(p, l.header)
		l.header = l.header[n:]
	}
	for n < len(p) {
		k := copy(p[n:], l.records[l.off:])
		n += k
		l.off = (l.off + k) % len(l.records)
	}
	return n, nil
}

// benchRecords builds 4096 classic records whose captured sizes cycle
// through sizes.
func benchRecords(sizes []int) (header, records []byte, avg float64) {
	all := classicFile(le, magicMicro, 65535, 1)
	header = all
	var recs []rec
	for i := range 4096 {
		recs = append(recs, okRec(uint32(1700000000+i), uint32(i), sizes[i%len(sizes)]))
	}
	full := classicFile(le, magicMicro, 65535, 1, recs...)
	records = full[len(header):]
	return header, records, float64(len(records)) / float64(len(recs))
}

func BenchmarkReaderPcap(b *testing.B) {
	for _, c := range []struct {
		name  string
		sizes []int
	}{
		{"64B", []int{64}},
		// A simple IMIX: 7 small, 4 medium, 1 full-size frame.
		{"imix", []int{64, 64, 64, 64, 64, 64, 64, 576, 576, 576, 576, 1514}},
	} {
		b.Run(c.name, func(b *testing.B) {
			header, records, avg := benchRecords(c.sizes)
			r, err := NewReader(&loopReader{header: header, records: records}, "bench")
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(avg))
			b.ReportAllocs()
			b.ResetTimer()
			var sum int
			for range b.N {
				p, err := r.Next()
				if err != nil {
					b.Fatal(err)
				}
				sum += len(p.Data)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
			if sum == 0 {
				b.Fatal("no data")
			}
		})
	}
}

func BenchmarkReaderPcapng(b *testing.B) {
	g := newNG(le).idb(1, 0)
	header := g.b
	g.b = nil
	for i := range 4096 {
		g.epb(0, uint64(1700000000e6+i), pattern(64, byte(i)))
	}
	r, err := NewReader(&loopReader{header: header, records: g.b}, "bench")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(g.b) / 4096))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := r.Next(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

var _ io.Reader = (*loopReader)(nil)
