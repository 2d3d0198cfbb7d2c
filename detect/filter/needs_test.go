package filter

import (
	"math/bits"
	"slices"
	"testing"

	"github.com/spotctl/spotctl/decode/flow"
)

// needExprs touch every flow field at least once, alone and combined.
var needExprs = []string{
	"ipv4", "ipv6", "ip 10.1.2.3", "src ip 10.1.2.3", "dst ip 192.0.2.80", "net 10.0.0.0/8",
	"ip in [10.1.2.3 192.0.2.0/24]", "port 443", "src port < 500", "dst port > 400",
	"port in [80 443]", "proto udp", "proto in [udp tcp]", "flags S", "flags SA and not flags R",
	"packets > 5", "in packets 10", "bytes > 4k", "out packets 8", "out bytes > 10k",
	"duration > 1999", "pps > 5", "bps > 19k", "bpp > 500", "first seen > 2024-07-11T09:15",
	"last seen < 2024-07-11T09:15:02", "icmp-type 8", "icmp-code 0", "vlan 42", "as 64512",
	"src as 64512", "dst as > 64000", "tos 32", "in if 3", "out if 7", "if 7",
	"router ip 172.16.0.1", "exporter 172.16.0.0/16", "next ip 172.16.0.254", "next ip 0.0.0.0",
	"mask 24", "src mask 8", "dst mask 8", "score < 0.5", "kind flow and score > 0.1",
	"not (proto tcp or bytes > 2k) and (src port 1 or dst port 2 or ipv6)",
	"dst port 443 or bytes > 2k", "not dst port 443", "not (not flags S)",
	"(src ip 10.1.2.3 or dst ip 10.1.2.3) and not (vlan 42 or as 15169)",
}

// needsRecords varies every field so that a missing column changes the
// answer somewhere.
func needsRecords(n int) []flow.Record {
	x := uint64(7)
	rnd := func() uint64 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x }
	recs := make([]flow.Record, n)
	for i := range recs {
		r := baseFlow()
		v := rnd()
		if v&1 != 0 {
			r.Src = addr("2001:db8::1")
		}
		if v&2 != 0 {
			r.Dst = flow.AddrFrom4([4]byte{10, 1, 2, byte(v >> 8)})
		}
		r.SrcPort, r.DstPort = uint16(v>>16)&1023, uint16(v>>26)&1023
		r.Proto = []uint8{6, 17, 1, 58}[v>>36%4]
		r.TCPFlags, r.ToS, r.VLAN = uint8(v>>40), uint8(v>>48)&63, uint16(v>>50)&63
		r.Packets, r.Bytes = v>>20&31, v>>30&16383
		r.OutPackets, r.OutBytes = v>>25&15, v>>35&32767
		r.Last = r.First + int64(v>>44&4095)*1e6
		r.SrcAS, r.DstAS = uint32(v>>8&1)*64512, uint32(v>>9&1)*65000
		r.InIf, r.OutIf = uint32(v>>10&7), uint32(v>>13&7)
		r.SrcMask, r.DstMask = uint8(v>>5&31), uint8(v>>3&31)
		if v&4 != 0 {
			r.NextHop = flow.Addr{}
			r.Exporter = addr("172.17.0.1")
		}
		recs[i] = r
	}
	return recs
}

// TestNeedsSuffice checks Needs against evaluation: with every column the
// filter does not need dropped, Select returns the same rows, and the
// test is not vacuous (each expression selects some rows but not all, or
// dropping a needed column would change the answer).
func TestNeedsSuffice(t *testing.T) {
	recs := needsRecords(2000)
	full := columnsOf(recs)
	full.Score = make([]float64, len(recs))
	for i := range full.Score {
		full.Score[i] = float64(i%10) / 10
	}
	full.Kind = "flow"
	for _, e := range needExprs {
		f, err := Compile(e, Flow|Score)
		if err != nil {
			t.Fatalf("%q: %v", e, err)
		}
		need := f.Needs()
		if need == 0 {
			t.Errorf("%q needs no column", e)
		}
		want := f.Select(full, nil)
		if got := f.Select(full.Keep(need), nil); !slices.Equal(got, want) {
			t.Errorf("%q: with only the needed columns (%#x) %d rows match, with all %d", e, need, len(got), len(want))
		}
		// Needs is not merely "everything": for an expression on one
		// column, or on both addresses or ports, dropping any needed
		// column changes the answer.
		if bits.OnesCount32(uint32(need)) == 1 || slices.Contains([]string{"ip 10.1.2.3", "port 443"}, e) {
			for bit := Need(1); bit <= NeedScore; bit <<= 1 {
				if need&bit == 0 {
					continue
				}
				if got := f.Select(full.Keep(need&^bit), nil); slices.Equal(got, want) {
					t.Errorf("%q: dropping column %#x changes nothing", e, bit)
				}
			}
		}
	}
}

func TestNeedsAllKeepsEverything(t *testing.T) {
	c := columnsOf(needsRecords(3))
	c.Score = []float64{1, 2, 3}
	if k := c.Keep(NeedAll); k.Score == nil || k.NextHop == nil || k.DstMask == nil || k.First == nil {
		t.Fatal("Keep(NeedAll) dropped a column")
	}
	if k := c.Keep(0); k.Src != nil || k.Bytes != nil || k.Score != nil || k.N != 3 {
		t.Fatal("Keep(0) kept a column or lost N")
	}
}
