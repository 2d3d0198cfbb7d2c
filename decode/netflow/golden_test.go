package netflow

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/flow"
)

var update = flag.Bool("update", false, "rewrite testdata/golden")

// render prints every field of a record.
func render(r *flow.Record) string {
	t := func(ns int64) string { return time.Unix(0, ns).UTC().Format("2006-01-02T15:04:05.000000000") }
	return fmt.Sprintf("%s..%s %s:%d > %s:%d proto=%d flags=%#02x tos=%d vlan=%d pkts=%d bytes=%d out=%d/%d ev=%d exp=%s dom=%d as=%d/%d if=%d/%d hop=%s mask=%d/%d end=%d samp=%d",
		t(r.First), t(r.Last), r.Src, r.SrcPort, r.Dst, r.DstPort, r.Proto, r.TCPFlags, r.ToS, r.VLAN, r.Packets, r.Bytes,
		r.OutPackets, r.OutBytes, r.Evidence, r.Exporter, r.ObsDomain, r.SrcAS, r.DstAS, r.InIf, r.OutIf, r.NextHop,
		r.SrcMask, r.DstMask, r.EndReason, r.Sampling)
}

// TestGolden pins every field of every record decoded from the shared
// captures (each alone) and raw files (all through one decoder, so the
// data files meet the template files that sort after them), with the
// errors and Flush reports. tshark cross-checks the 5-tuples, counters,
// times, interfaces, AS numbers, masks, ToS, flags and next hops
// (TestSharedCapturesMatchTshark); this file pins the rest (exporter,
// domain, VLAN, end reason, sampling, evidence) against regressions.
// go test -run TestGolden -update rewrites it.
func TestGolden(t *testing.T) {
	var b strings.Builder
	emit := func(r *flow.Record) { b.WriteString(render(r) + "\n") }
	for _, path := range sharedFilesOf(t, "netflow-pcap") {
		fmt.Fprintf(&b, "== %s\n", filepath.Base(path))
		d := NewDecoder(Options{})
		for _, g := range udpPayloads(t, path) {
			if err := d.Datagram(g.src, g.sport, g.ts, g.payload, 0, emit); err != nil {
				fmt.Fprintf(&b, "error frame %d: %v\n", g.frame, err)
			}
		}
		if err := d.Flush(); err != nil {
			fmt.Fprintf(&b, "flush: %v\n", err)
		}
		fmt.Fprintf(&b, "stats: %+v\n", d.Stats())
	}
	d := NewDecoder(Options{})
	for i, path := range sharedFilesOf(t, "netflow-raw") {
		fmt.Fprintf(&b, "== %s\n", filepath.Base(path))
		content, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		st, err := ReadRaw(bytes.NewReader(content), filepath.Base(path), uint32(i), d, emit, func(e *decode.Error) error {
			fmt.Fprintf(&b, "error: %v\n", e)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "stats: %+v\n", st)
	}
	if err := d.Flush(); err != nil {
		fmt.Fprintf(&b, "flush: %v\n", err)
	}
	golden := filepath.Join("testdata", "golden", "shared.txt")
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got := b.String(); got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("golden differs at line %d:\n got %s\nwant %s", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("golden differs in length: %d lines, want %d", len(gl), len(wl))
	}
}
