package filter

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/spotctl/spotctl/decode/flow"
)

// FuzzCompile feeds arbitrary text to the compiler for every kind. It
// must never panic; a filter that compiles must evaluate every record
// shape without panicking, and its normalized form must compile to the
// same normalized form and the same verdicts.
func FuzzCompile(f *testing.F) {
	for _, s := range nfdumpFilters {
		f.Add(s)
	}
	for _, s := range []string{
		"qname suffix example.com and qtype AAAA or rcode nxdomain",
		"qname ~ '^[a-z0-9]{20,}\\.' and response and client net 10.0.0.0/8",
		"score < 1e-6 and kind flow", "first seen > 2024-07-11T09:15:00+02:00 and last seen < 2025",
		"exporter ip 10.0.0.1 or next ip ::", "as in [1 2 3] and src as > 10", "client in [1.2.3.4 10.0.0.0/8]",
		"ip in [ 10.0.0.1, 2001:db8::/32 ]", "((not (a", "port in [", "'unterminated", "qname = \"it's\"",
	} {
		f.Add(s)
	}
	recs := []flow.Record{baseFlow(), {}, {Src: addr("2001:db8::1"), Dst: addr("::"), Proto: 58, DstPort: 0x8000,
		First: math.MaxInt64, Last: math.MinInt64, Packets: math.MaxUint64, Bytes: math.MaxUint64}}
	cols := columnsOf(recs)
	cols.Score = []float64{0.5, math.NaN()}
	msgs := []flow.DNSMessage{{}, {QName: "a.Example.COM.", QType: 28, Rcode: 3, Response: true, Client: addr("10.0.0.1")}, {QName: "."}}
	kinds := []Kind{Flow, DNS, Score, Flow | Score, DNS | Score, Flow | DNS | Score, 0}
	f.Fuzz(func(t *testing.T, src string) {
		for _, k := range kinds {
			flt, err := Compile(src, k)
			if err != nil {
				if _, ok := err.(*Error); !ok {
					t.Fatalf("error of type %T: %v", err, err)
				}
				if strings.Count(err.Error(), "\n") != 2 && strings.Count(err.Error(), "\n") != 0 {
					t.Fatalf("malformed error: %q", err)
				}
				continue
			}
			g, err := Compile(flt.String(), k)
			if err != nil {
				t.Fatalf("normalized %q of %q does not compile: %v", flt.String(), src, err)
			}
			if g.String() != flt.String() {
				t.Fatalf("normalized form not stable: %q -> %q", flt.String(), g.String())
			}
			for i := range recs {
				res := Result{Score: float64(i) / 2, Kind: "flow"}
				if flt.MatchFlowResult(&recs[i], res) != g.MatchFlowResult(&recs[i], res) {
					t.Fatalf("%q and its normal form %q disagree on flow %d", src, flt.String(), i)
				}
				if flt.MatchFlow(&recs[i]) != flt.MatchFlowColumns(&FlowColumns{N: 1, First: cols.First[i : i+1],
					Last: cols.Last[i : i+1], Src: cols.Src[i : i+1], Dst: cols.Dst[i : i+1], DstPort: cols.DstPort[i : i+1],
					SrcPort: cols.SrcPort[i : i+1], Proto: cols.Proto[i : i+1], TCPFlags: cols.TCPFlags[i : i+1],
					ToS: cols.ToS[i : i+1], VLAN: cols.VLAN[i : i+1], Packets: cols.Packets[i : i+1], Bytes: cols.Bytes[i : i+1],
					OutPackets: cols.OutPackets[i : i+1], OutBytes: cols.OutBytes[i : i+1], Exporter: cols.Exporter[i : i+1],
					NextHop: cols.NextHop[i : i+1], SrcAS: cols.SrcAS[i : i+1], DstAS: cols.DstAS[i : i+1], InIf: cols.InIf[i : i+1],
					OutIf: cols.OutIf[i : i+1], SrcMask: cols.SrcMask[i : i+1], DstMask: cols.DstMask[i : i+1],
					Score: []float64{0}}, 0) {
					t.Fatalf("%q: MatchFlow and MatchFlowColumns disagree on flow %d", src, i)
				}
			}
			sel := flt.Select(cols, nil)
			var want []int32
			for i := 0; i < cols.N; i++ {
				if flt.MatchFlowColumns(cols, i) {
					want = append(want, int32(i))
				}
			}
			if !slices.Equal(sel, want) {
				t.Fatalf("%q: Select %v, row by row %v", src, sel, want)
			}
			if got := flt.Select(cols.Keep(flt.Needs()), nil); !slices.Equal(got, want) {
				t.Fatalf("%q: with only the columns Needs names, Select %v, with all %v", src, got, want)
			}
			flt.MatchResult(Result{Score: math.Inf(-1), Kind: "beacon"})
			for i := range msgs {
				flt.MatchDNS(&msgs[i])
				if flt.MatchDNSResult(&msgs[i], Result{Kind: "dns"}) != g.MatchDNSResult(&msgs[i], Result{Kind: "dns"}) {
					t.Fatalf("%q and its normal form disagree on DNS message %d", src, i)
				}
			}
		}
	})
}
