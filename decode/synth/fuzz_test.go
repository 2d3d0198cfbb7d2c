package synth

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/spotctl/spotctl/decode/flow"
)

// FuzzWrite drives Write with arbitrary options: it must never panic, must
// reject invalid options with ErrOptions, and otherwise write exactly the
// requested number of in-order frames that decode down to the transport
// layer.
func FuzzWrite(f *testing.F) {
	f.Add(uint64(1), 50, 0.1, 500, int64(0), uint8(9))
	f.Add(uint64(7), 6, -1.0, 2000, int64(3600), uint8(0))
	f.Add(uint64(1<<63), 200, 1.0, 50, int64(1), uint8(23))
	f.Add(uint64(99), 13, 0.5, 3000, int64(0), uint8(130))
	f.Fuzz(func(t *testing.T, seed uint64, hosts int, share float64, packets int, durSec int64, hour uint8) {
		// Keep each run small: the fuzzer explores options, not volume.
		if hosts > 300 || packets > 3000 || packets < 0 {
			return
		}
		o := Options{
			Seed:      seed,
			Hosts:     hosts,
			IPv6Share: share,
			Packets:   packets,
			Duration:  time.Duration(durSec) * time.Second,
			Start:     DefaultStart.Add(time.Duration(hour%168) * time.Hour),
		}
		if packets == 0 && (durSec <= 0 || durSec > 120) {
			o.Duration = time.Minute // no unbounded or day-long runs
		}
		var buf bytes.Buffer
		st, err := Write(&buf, o)
		_, nerr := o.normalize()
		if nerr != nil || err != nil {
			if nerr == nil || err == nil || buf.Len() != 0 {
				t.Fatalf("Write(%+v) = %v, normalize = %v, %d bytes written", o, err, nerr, buf.Len())
			}
			return
		}
		if math.IsNaN(share) {
			t.Fatalf("NaN share accepted")
		}
		r, err := pcapgo.NewReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		var prev time.Time
		for {
			data, ci, err := r.ReadPacketData()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("record %d: %v", n, err)
			}
			n++
			if ci.Timestamp.Before(prev) {
				t.Fatalf("record %d goes back in time", n)
			}
			prev = ci.Timestamp
			p := gopacket.NewPacket(data, layers.LinkTypeEthernet, gopacket.DecodeOptions{NoCopy: true, Lazy: true})
			if p.NetworkLayer() == nil || p.TransportLayer() == nil && p.Layer(layers.LayerTypeICMPv4) == nil && p.Layer(layers.LayerTypeICMPv6) == nil {
				t.Fatalf("record %d does not decode: %v", n, p)
			}
		}
		if n != st.Packets || o.Packets > 0 && o.Duration == 0 && n != o.Packets {
			t.Fatalf("%+v: read %d frames, stats %d", o, n, st.Packets)
		}
	})
}

// FuzzParseInjections: any --inject string either fails with ErrOptions or
// parses into injections whose String form parses back to the same value.
func FuzzParseInjections(f *testing.F) {
	for _, s := range []string{"beacon", "all", allKinds, "scan:ports=1-1024,3389,exfil:at=02:30:bytes=1GiB",
		"beacon:jitter=0", "dns-tunnel:at=2026-03-02T10:00:00Z:for=1h", "beacon:interval=1s:interval=2s", ",,:=,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ins, err := ParseInjections(s)
		if err != nil {
			if !errors.Is(err, ErrOptions) {
				t.Fatalf("%q: error %v does not wrap ErrOptions", s, err)
			}
			return
		}
		for _, in := range ins {
			if strings.ContainsAny(in.Ports+in.At+in.Src+in.Dst+in.Domain, ":,") {
				continue // values holding separators do not survive String on their own
			}
			back, err := ParseInjection(in.String())
			if err != nil || !reflect.DeepEqual(back, in) {
				t.Fatalf("%q: %+v → %q → %+v, %v", s, in, in.String(), back, err)
			}
		}
	})
}

// FuzzReadTruth: ReadTruth never panics on any input, and what it accepts
// writes and reads back the same.
func FuzzReadTruth(f *testing.F) {
	if b, err := os.ReadFile("testdata/truth.golden.jsonl"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"id":1,"kind":"scan","start":"2026-03-02T10:00:00Z","end":"2026-03-02T10:01:00Z","match":{"conversations":[{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","proto":6,"src_ports":[3,1]}],"dns":{"clients":["10.0.0.1"],"suffixes":["A.b"]}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := ReadTruth(bytes.NewReader(b))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := tr.WriteJSONL(&out); err != nil {
			t.Fatal(err)
		}
		first := slices.Clone(out.Bytes())
		back, err := ReadTruth(&out)
		if err != nil {
			t.Fatalf("re-reading what was written: %v", err)
		}
		var out2 bytes.Buffer
		if err := back.WriteJSONL(&out2); err != nil || !bytes.Equal(first, out2.Bytes()) {
			t.Fatalf("second round trip differs: %v\n%s\n%s", err, first, out2.Bytes())
		}
		r := flow.Record{Proto: 6, Src: flow.AddrFrom4([4]byte{10, 0, 0, 1}), Dst: flow.AddrFrom4([4]byte{10, 0, 0, 2}), First: 0, Last: 1 << 62}
		back.LabelFlow(&r)
		back.LabelDNS(&flow.DNSMessage{TS: 1 << 60, Client: r.Src, QName: "x.a.b"})
	})
}

// FuzzWriteInject drives Write with injections: invalid ones fail with
// ErrOptions before anything is written; valid runs write decodable
// frames and a truth whose counts add up.
func FuzzWriteInject(f *testing.F) {
	f.Add(uint64(1), 12, "beacon:interval=5s", 3000)
	f.Add(uint64(2), 7, "scan:at=+0s:ports=1-50", 2000)
	f.Add(uint64(3), 20, "dns-tunnel:at=+1s:interval=100ms,dga:at=+1s:count=20:interval=50ms", 3000)
	f.Add(uint64(4), 9, "exfil:at=+0s:bytes=2MB:for=10s,lateral:at=+1s:targets=2", 3000)
	f.Fuzz(func(t *testing.T, seed uint64, hosts int, spec string, packets int) {
		if hosts > 100 || packets <= 0 || packets > 3000 {
			return
		}
		ins, err := ParseInjections(spec)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		o := Options{Seed: seed, Hosts: hosts, Start: busy, Packets: packets, Inject: ins}
		st, err := Write(&buf, o)
		if err != nil {
			if !errors.Is(err, ErrOptions) || buf.Len() != 0 {
				t.Fatalf("%+v: %v, %d bytes written", o, err, buf.Len())
			}
			return
		}
		sum := 0
		for _, a := range st.Truth.Activities {
			sum += a.Packets
			if a.Packets > 0 && a.End.Before(a.Start) {
				t.Fatalf("activity %d ends before it starts", a.ID)
			}
		}
		if len(st.Truth.Activities) != len(ins) || sum > st.Packets || st.Packets != packets {
			t.Fatalf("%+v: %d activities, %d injected of %d packets", o, len(st.Truth.Activities), sum, st.Packets)
		}
		r, err := pcapgo.NewReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; ; n++ {
			data, _, err := r.ReadPacketData()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("record %d: %v", n, err)
			}
			p := gopacket.NewPacket(data, layers.LinkTypeEthernet, gopacket.DecodeOptions{NoCopy: true, Lazy: true})
			if p.NetworkLayer() == nil {
				t.Fatalf("record %d does not decode", n)
			}
		}
	})
}
