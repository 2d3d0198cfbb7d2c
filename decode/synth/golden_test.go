package synth

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var update = flag.Bool("update", false, "rewrite golden files")

// summarize prints one line per frame: time since start, addresses,
// protocol, ports, TCP flags and lengths.
func summarize(fr []frame, o Options) string {
	var sb strings.Builder
	for _, f := range fr {
		p := gopacket.NewPacket(f.data, layers.LinkTypeEthernet, gopacket.DecodeOptions{NoCopy: true, Lazy: true})
		fmt.Fprintf(&sb, "%12.6f %4d ", f.ts.Sub(o.Start).Seconds(), len(f.data))
		if v := p.Layer(layers.LayerTypeDot1Q); v != nil {
			fmt.Fprintf(&sb, "vlan%d ", v.(*layers.Dot1Q).VLANIdentifier)
		}
		if n := p.NetworkLayer(); n != nil {
			fmt.Fprintf(&sb, "%v > %v ", n.NetworkFlow().Src(), n.NetworkFlow().Dst())
		}
		switch l := p.TransportLayer().(type) {
		case *layers.TCP:
			flags := ""
			for _, f := range []struct {
				on bool
				c  string
			}{{l.SYN, "S"}, {l.FIN, "F"}, {l.RST, "R"}, {l.PSH, "P"}, {l.ACK, "."}} {
				if f.on {
					flags += f.c
				}
			}
			fmt.Fprintf(&sb, "tcp %d>%d [%s] seq %d ack %d win %d len %d", l.SrcPort, l.DstPort, flags, l.Seq, l.Ack, l.Window, len(l.Payload))
		case *layers.UDP:
			fmt.Fprintf(&sb, "udp %d>%d len %d", l.SrcPort, l.DstPort, len(l.Payload))
		default:
			if ic := p.Layer(layers.LayerTypeICMPv4); ic != nil {
				fmt.Fprintf(&sb, "icmp %v", ic.(*layers.ICMPv4).TypeCode)
			} else if ic := p.Layer(layers.LayerTypeICMPv6); ic != nil {
				fmt.Fprintf(&sb, "icmp6 %v", ic.(*layers.ICMPv6).TypeCode)
			}
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

// TestGolden pins the first packets of one capture, so that any change to
// the model shows up in review as a readable diff (go test -update).
func TestGolden(t *testing.T) {
	o := Options{Seed: 1, Hosts: 12, Start: busy, Packets: 120, IPv6Share: 0.3}
	b, _ := generate(t, o)
	got := summarize(readBack(t, b), o)
	path := filepath.Join("testdata", "first_packets.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal([]byte(got), want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("line %d differs (run go test -update if the change is intended):\n got %s\nwant %s", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("output has %d lines, golden %d", len(gl), len(wl))
	}
}

// TestGoldenDigest pins the SHA-256 of a larger capture: it changes with
// any change to the model, and it catches output that differs between Go
// releases or platforms (floating-point or time-zone differences), which
// the in-process determinism test cannot see.
func TestGoldenDigest(t *testing.T) {
	o := Options{Seed: 1, Hosts: 30, Start: busy, Packets: 50000, IPv6Share: 0.3}
	b, st := generate(t, o)
	sum := sha256.Sum256(b)
	got := fmt.Sprintf("%s %d packets %d bytes\n", hex.EncodeToString(sum[:]), st.Packets, len(b))
	path := filepath.Join("testdata", "digest.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("capture digest changed (run go test -update if the model change is intended):\n got %s want %s", got, want)
	}
}
