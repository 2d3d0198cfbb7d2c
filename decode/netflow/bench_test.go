package netflow

import (
	"path/filepath"
	"testing"

	"github.com/spotctl/spotctl/decode/decodetest"
	"github.com/spotctl/spotctl/decode/flow"
)

// benchRecords is the number of records per crafted datagram: what fits a
// 1500-byte datagram with the 20-field template (67 bytes a record).
const benchRecords = 20

func craftedDatagrams(version int) (tmplDG, dataDG []byte) {
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

// benchDecode decodes the datagrams round robin, one per iteration, after
// the warm-up datagrams (templates); records/s counts emitted flows.
func benchDecode(b *testing.B, warm, dgs [][]byte) {
	d := NewDecoder(Options{})
	exp := flow.AddrFrom4([4]byte{192, 0, 2, 1})
	var sink uint64
	emit := func(r *flow.Record) { sink += r.Bytes }
	for _, p := range warm {
		if err := d.Datagram(exp, 2055, 0, p, 0, emit); err != nil {
			b.Fatal(err)
		}
	}
	size := 0
	for _, p := range dgs {
		size += len(p)
	}
	b.SetBytes(int64(size / len(dgs)))
	before := d.Stats().Records
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	i := 0
	for b.Loop() {
		if err := d.Datagram(exp, 2055, 0, dgs[i], 0, emit); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(dgs) {
			i = 0
		}
	}
	cpu := cpuTime() - cpu0
	recs := d.Stats().Records - before
	b.ReportMetric(float64(recs)/b.Elapsed().Seconds(), "records/s")
	if cpu > 0 {
		b.ReportMetric(float64(recs)/(float64(cpu)/1e9), "records/cpu-s")
	}
}

// exportDatagrams returns the UDP payloads of one generated export capture.
func exportDatagrams(b *testing.B, input, tag string) [][]byte {
	path := filepath.Join(decodetest.SharedDir(b), "generated", input, input+"."+tag+".export.pcap")
	var out [][]byte
	for _, g := range udpPayloads(b, path) {
		out = append(out, g.payload)
	}
	return out
}

func benchVersion(b *testing.B, version int, tags ...string) {
	b.Run("crafted", func(b *testing.B) {
		t, d := craftedDatagrams(version)
		benchDecode(b, [][]byte{t}, [][]byte{d})
	})
	for _, tag := range tags {
		// Real exports of the loopback capture, templates and options
		// included, looped: the decoder sees template refreshes too.
		b.Run(tag, func(b *testing.B) {
			dgs := exportDatagrams(b, "spotctl_loopback", tag)
			benchDecode(b, dgs, dgs)
		})
	}
}

// BenchmarkV9 decodes NetFlow v9 datagrams: a crafted one of 20 records of
// a 20-field IPv4 template (cached), and the softflowd and pmacctd exports
// of the shared loopback capture. The target is 5 M records/s per core.
func BenchmarkV9(b *testing.B) { benchVersion(b, 9, "sf-v9", "pm-v9") }

// BenchmarkIPFIX is BenchmarkV9 for IPFIX (softflowd relative times with
// options, softflowd biflows, pmacctd).
func BenchmarkIPFIX(b *testing.B) { benchVersion(b, 10, "sf-v10", "sf-v10bi", "pm-v10") }

// BenchmarkV5 decodes the softflowd v5 export of the loopback capture.
func BenchmarkV5(b *testing.B) {
	dgs := exportDatagrams(b, "spotctl_loopback", "sf-v5")
	benchDecode(b, nil, dgs)
}
