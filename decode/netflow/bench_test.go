package netflow

import (
	"testing"

	"github.com/spotctl/spotctl/decode/flow"
)

// benchRecords is the number of records per benchmark datagram: what fits
// a 1500-byte datagram with the 20-field template (1400/67).
const benchRecords = 20

func benchDatagrams(version int) (tmplDG, dataDG []byte) {
	var recs [][]byte
	for i := 0; i < benchRecords; i++ {
		recs = append(recs, benchRecord(i))
	}
	if version == 9 {
		return v9Msg(1, 1000, 1700000000, 1, flowset(0, tmpl(300, benchFields...))),
			v9Msg(benchRecords, 1000, 1700000000, 1, flowset(300, recs...))
	}
	return ipfixMsg(1700000000, 1, flowset(2, tmpl(300, benchFields...))),
		ipfixMsg(1700000000, 1, flowset(300, recs...))
}

func benchDecode(b *testing.B, version int) {
	tmplDG, dataDG := benchDatagrams(version)
	d := NewDecoder(Options{})
	exp := flow.AddrFrom4([4]byte{192, 0, 2, 1})
	var sink uint64
	emit := func(r *flow.Record) { sink += r.Bytes }
	if err := d.Datagram(exp, 2055, 0, tmplDG, 0, emit); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(dataDG)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := d.Datagram(exp, 2055, 0, dataDG, 0, emit); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchRecords)/b.Elapsed().Seconds(), "records/s")
	if d.Stats().Records != uint64(b.N*benchRecords) {
		b.Fatalf("%d records, want %d", d.Stats().Records, b.N*benchRecords)
	}
}

// BenchmarkV9 decodes a NetFlow v9 datagram of 20 records (20-field IPv4
// template, cached) per iteration; records/s is the figure of merit.
func BenchmarkV9(b *testing.B) { benchDecode(b, 9) }

// BenchmarkIPFIX is BenchmarkV9 for IPFIX.
func BenchmarkIPFIX(b *testing.B) { benchDecode(b, 10) }
