package synth

import (
	"bytes"
	"io"
	"math"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
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
