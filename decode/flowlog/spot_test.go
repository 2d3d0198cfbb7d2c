package flowlog

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spotctl/spotctl/decode/decodetest"
	"github.com/spotctl/spotctl/decode/flow"
)

// testdata/spot.csv is written from Spot's CSV layout (spot-method.md
// §1.2): valid rows of each protocol family, a row whose hour column
// disagrees with tr, a negative duration (kept: Spot's fork prints td
// signed), a short row, and nfdump's summary trailer.
func TestSpotCSVGolden(t *testing.T) {
	res := readAll(t, readFile(t, "testdata/spot.csv"), SpotCSV, Options{})
	golden(t, "spot.golden", res.render())
	if len(res.flows) != 5 || len(res.errs) != 2 {
		t.Fatalf("%d flows, %d errors", len(res.flows), len(res.errs))
	}
}

// spotLine renders r in Spot's layout with tr = First.
func spotLine(r *flow.Record) string {
	tr := time.Unix(0, r.First).UTC()
	flags := []byte("........")
	for i, c := range "CEUAPRSF" {
		if r.TCPFlags&(0x80>>i) != 0 {
			flags[i] = byte(c)
		}
	}
	return fmt.Sprintf("%s,%d,%d,%d,%d,%d,%d,%.3f,%s,%s,%d,%d,%s,%s,0,%d,%d,%d,%d,%d,%d,%d,%d,%d,0,0,%s",
		tr.Format("2006-01-02 15:04:05"), tr.Year(), tr.Month(), tr.Day(), tr.Hour(), tr.Minute(), tr.Second(),
		float64(r.Last-r.First)/1e9, r.Src, r.Dst, r.SrcPort, r.DstPort, nfdumpProtos[r.Proto], flags, r.ToS,
		r.Packets, r.Bytes, r.OutPackets, r.OutBytes, r.InIf, r.OutIf, r.SrcAS, r.DstAS, addrOrZero(r.Exporter))
}

func addrOrZero(a flow.Addr) string {
	if a == (flow.Addr{}) {
		return "0.0.0.0"
	}
	return a.String()
}

// Every flow of the shared nfdump sample, written as Spot CSV (with and
// without the header) and read back, is the same record but for the fields
// Spot's layout does not carry.
func TestSpotCSVRoundTripSharedSample(t *testing.T) {
	src := readAll(t, readFile(t, filepath.Join(decodetest.SharedDir(t), "nfcapd", "chrispassas_nfcapd.sample.nfdump-csv.csv")), NfdumpCSV, Options{})
	var b strings.Builder
	var want []flow.Record
	for _, r := range src.flows {
		if r.Last < r.First || r.Proto >= uint8(len(nfdumpProtos)) {
			continue
		}
		r.VLAN, r.NextHop, r.SrcMask, r.DstMask = 0, flow.Addr{}, 0, 0 // not in Spot's layout
		fmt.Fprintln(&b, spotLine(&r))
		want = append(want, r)
	}
	if len(want) < 2000 {
		t.Fatalf("only %d usable sample records", len(want))
	}
	for _, withHeader := range []bool{true, false} {
		data := b.String()
		if withHeader {
			data = spotHeader + "\n" + data
		}
		if f, ok := Detect([]byte(data[:min(512, len(data))])); !ok || f != SpotCSV {
			t.Fatalf("header %v: detected %q %v", withHeader, f, ok)
		}
		got := readAll(t, []byte(data), SpotCSV, Options{})
		if len(got.errs) != 0 || len(got.flows) != len(want) {
			t.Fatalf("header %v: %d flows of %d, errors %v", withHeader, len(got.flows), len(want), got.errs)
		}
		for i := range want {
			if got.flows[i] != want[i] {
				t.Fatalf("header %v, record %d:\n got  %s\n want %s", withHeader, i, formatFlow(&got.flows[i], ""), formatFlow(&want[i], ""))
			}
		}
	}
}

func TestSpotCSVWithoutHeaderOrLayout(t *testing.T) {
	res := readAll(t, []byte("a,b,c\n"), SpotCSV, Options{})
	if len(res.errs) != 1 || !res.fatal() {
		t.Fatalf("errors %v", res.errs)
	}
}
