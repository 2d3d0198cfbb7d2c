package assemble

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/decode/packet"
)

// mixPackets builds a cyclic packet stream over nflows flows with Zipf
// popularity (a few elephants, a long tail of mice): 80% TCP, 18% UDP, 2%
// ICMP, a tenth of the hosts IPv6, 1 in 200 TCP packets with FIN.
func mixPackets(n, nflows int) []packet.Info {
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rng, 1.1, 4, uint64(nflows-1))
	out := make([]packet.Info, n)
	for i := range out {
		id := uint32(zipf.Uint64())
		in := &out[i]
		h := id * 2654435761 // spread ids over addresses and ports
		if id%10 == 0 {
			in.IPv6 = true
			in.Src[0], in.Src[1] = 0x20, 0x01
			in.Src[12], in.Src[13], in.Src[14], in.Src[15] = byte(h>>24), byte(h>>16), byte(h>>8), byte(h)
			in.Dst[0], in.Dst[1], in.Dst[15] = 0x20, 0x01, byte(id%7)
		} else {
			in.Src = flow.AddrFrom4([4]byte{10, byte(h >> 16), byte(h >> 8), byte(h)})
			in.Dst = flow.AddrFrom4([4]byte{192, 0, 2, byte(id % 13)})
		}
		switch r := id % 50; {
		case r < 40:
			in.Proto, in.SrcPort, in.DstPort = flow.ProtoTCP, 1024+uint16(h>>7), 443
			in.TCPFlags = flow.TCPAck | flow.TCPPsh
			if rng.IntN(200) == 0 {
				in.TCPFlags |= flow.TCPFin
			}
		case r < 49:
			in.Proto, in.SrcPort, in.DstPort = flow.ProtoUDP, 1024+uint16(h>>7), 53
		default:
			in.Proto, in.DstPort = flow.ProtoICMP, 0x0800
		}
		in.IPLen = 40 + uint32(rng.IntN(1460))
	}
	return out
}

// BenchmarkAssemble measures Add alone (packets are pre-decoded) at 1 M
// packets per second of capture time.
//   - mix: Zipf over 100 k flows, the table stays warm;
//   - churn: every cycle through the stream shifts the mice to new ports,
//     so new flows keep arriving and old ones leave by the inactive timeout
//     and, with MaxFlows 65536, by eviction.
func BenchmarkAssemble(b *testing.B) {
	pkts := mixPackets(1<<18, 100_000)
	for _, bc := range []struct {
		name  string
		churn bool
		opts  Options
	}{
		{"mix", false, Options{}},
		{"churn", true, Options{MaxFlows: 65536}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var flows int
			a := New(bc.opts, func(*flow.Record) { flows++ })
			ts := int64(1e18)
			i, cycle := 0, uint16(0)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for b.Loop() {
				in := &pkts[i]
				if bc.churn && in.SrcPort > 2000 {
					in.SrcPort ^= cycle
					a.Add(ts, in, 0, 0)
					in.SrcPort ^= cycle
				} else {
					a.Add(ts, in, 0, 0)
				}
				ts += 1000
				if i++; i == len(pkts) {
					i, cycle = 0, cycle+1
				}
			}
			reportCPU(b, cpu0, b.N)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
			b.ReportMetric(float64(a.Stats().ActiveFlows), "flows")
		})
	}
}

// BenchmarkDecodeAssemble is the ingest hot path on real frames: every
// frame of the shared captures, decoded and assembled, replayed in a loop
// with the clock moving on and the client address changed each round so
// flows keep being created and expired.
func BenchmarkDecodeAssemble(b *testing.B) {
	var frames []frame
	for _, p := range sharedCaptures(b) {
		frames = append(frames, readCapture(b, p)...)
	}
	// Lay the captures end to end, 10 µs apart, so time moves forward.
	a := New(Options{}, func(*flow.Record) {})
	var d packet.Decoder
	var info packet.Info
	ts, i, round := int64(1e18), 0, byte(0)
	ip := 0
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		f := &frames[i]
		err := d.Decode(f.link, f.data, &info)
		if err == nil {
			info.Src[13] ^= round
			a.Add(ts, &info, uint32(len(f.data)), 0)
			ip++
		} else if !errors.Is(err, packet.ErrNotIP) {
			b.Fatal(err)
		}
		ts += 10 * int64(time.Microsecond)
		if i++; i == len(frames) {
			i, round = 0, round+1
		}
	}
	reportCPU(b, cpu0, b.N)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
	b.ReportMetric(float64(ip)/b.Elapsed().Seconds(), "pkts/s")
}
