package dns

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/spotctl/spotctl/decode/decodetest"
	"github.com/spotctl/spotctl/decode/flow"
)

// capturedMessage is one DNS message found in a capture on port 53, with the
// frame (1-based) that carried it or, for TCP, completed it.
type capturedMessage struct {
	frame     int
	transport string
	msg       []byte
}

// port53Messages returns every DNS message of a capture: UDP payloads on
// port 53 and TCP streams on port 53 through TCPReassembler. IP fragments
// are skipped (we do not reassemble IP here; neither does Parse's caller).
// gopacket is used in tests only, to stay independent of our own packet
// decoder.
func port53Messages(tb testing.TB, path string) ([]capturedMessage, TCPStats) {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	type reader interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var rd reader
	linkType := func(gopacket.CaptureInfo) layers.LinkType { return 0 }
	if bytes.HasPrefix(raw, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		ng, err := pcapgo.NewNgReader(bytes.NewReader(raw), pcapgo.DefaultNgReaderOptions)
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		rd = ng
		linkType = func(ci gopacket.CaptureInfo) layers.LinkType {
			intf, err := ng.Interface(ci.InterfaceIndex)
			if err != nil {
				tb.Fatalf("%s: interface %d: %v", path, ci.InterfaceIndex, err)
			}
			return intf.LinkType
		}
	} else {
		pr, err := pcapgo.NewReader(bytes.NewReader(raw))
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		rd = pr
		linkType = func(gopacket.CaptureInfo) layers.LinkType { return pr.LinkType() }
	}

	var out []capturedMessage
	tcp := NewTCPReassembler(64, 65537)
	for frame := 1; ; frame++ {
		data, ci, err := rd.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatalf("%s: frame %d: %v", path, frame, err)
		}
		pkt := gopacket.NewPacket(data, linkType(ci), gopacket.Default)
		if ip4, ok := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok && (ip4.Flags&layers.IPv4MoreFragments != 0 || ip4.FragOffset != 0) {
			continue
		}
		if pkt.Layer(layers.LayerTypeIPv6Fragment) != nil {
			continue
		}
		var src, dst flow.Addr
		if nl := pkt.NetworkLayer(); nl != nil {
			s, d := nl.NetworkFlow().Endpoints()
			src, dst = flow.AddrFromSlice(s.Raw()), flow.AddrFromSlice(d.Raw())
		}
		var vlan uint16
		if q, ok := pkt.Layer(layers.LayerTypeDot1Q).(*layers.Dot1Q); ok {
			vlan = q.VLANIdentifier
		}
		switch l := pkt.TransportLayer().(type) {
		case *layers.UDP:
			if l.SrcPort == 53 || l.DstPort == 53 {
				out = append(out, capturedMessage{frame, "udp", bytes.Clone(l.Payload)})
			}
		case *layers.TCP:
			if l.SrcPort == 53 || l.DstPort == 53 {
				key := StreamKey{Src: src, Dst: dst, SrcPort: uint16(l.SrcPort), DstPort: uint16(l.DstPort), VLAN: vlan}
				tcp.Add(key, l.Seq, l.SYN, l.FIN, l.RST, l.Payload, func(msg []byte) {
					out = append(out, capturedMessage{frame, "tcp", bytes.Clone(msg)})
				})
			}
		}
	}
	return out, tcp.Stats()
}

// tsharkMessage is one line of testdata/tshark.jsonl (see tshark_golden.py).
type tsharkMessage struct {
	File      string
	Frame     int
	Transport string
	Malformed bool
	IPReasm   bool
	InICMP    bool
	ID        uint16
	Response  bool
	Opcode    uint8
	Rcode     uint8
	Flags     uint8
	QName     string
	QType     uint16
	QClass    uint16
	ANCount   uint16
	TTL       uint32
	Answers   []struct {
		Type uint16
		Data string
	}
}

func loadTshark(tb testing.TB) map[string][]tsharkMessage {
	tb.Helper()
	f, err := os.Open(filepath.Join("testdata", "tshark.jsonl"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	out := map[string][]tsharkMessage{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m tsharkMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			tb.Fatalf("tshark.jsonl: %v", err)
		}
		out[m.File] = append(out[m.File], m)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// TestSharedCapturesMatchTshark decodes every port-53 DNS message in every
// shared capture and compares it field by field with tshark's dissection
// (testdata/tshark.jsonl). Messages tshark marks malformed must give an
// error; all others must decode without one.
func TestSharedCapturesMatchTshark(t *testing.T) {
	files := decodetest.SharedFiles(t, "pcap")
	golden := loadTshark(t)
	total := 0
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			got, _ := port53Messages(t, path)
			var want []tsharkMessage
			for _, w := range golden[name] {
				// tshark reassembles IP fragments (we skip fragments) and
				// dissects packets quoted in ICMP errors (not traffic).
				if !w.IPReasm && !w.InICMP {
					want = append(want, w)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%d port-53 messages, tshark has %d", len(got), len(want))
			}
			var m flow.DNSMessage
			for i, g := range got {
				w := want[i]
				where := fmt.Sprintf("frame %d", g.frame)
				if g.frame != w.Frame || g.transport != w.Transport {
					t.Fatalf("%s/%s: tshark has message %d in frame %d/%s", where, g.transport, i, w.Frame, w.Transport)
				}
				err := Parse(g.msg, &m)
				if w.Malformed {
					if err == nil {
						t.Errorf("%s: tshark says malformed, Parse accepted it", where)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s: %v", where, err)
					continue
				}
				total++
				gotAns := make([]flow.Answer, len(m.Answers))
				copy(gotAns, m.Answers)
				wantAns := make([]flow.Answer, len(w.Answers))
				for j, a := range w.Answers {
					wantAns[j] = flow.Answer{Type: a.Type, Data: a.Data}
				}
				gotF := []any{m.ID, m.Response, m.Opcode, m.Rcode, m.Flags, m.QName, m.QType, m.QClass, m.ANCount, m.TTL, gotAns}
				wantF := []any{w.ID, w.Response, w.Opcode, w.Rcode, w.Flags, w.QName, w.QType, w.QClass, w.ANCount, w.TTL, wantAns}
				if !reflect.DeepEqual(gotF, wantF) {
					t.Errorf("%s:\n got %+v\nwant %+v", where, gotF, wantF)
				}
			}
		})
	}
	t.Logf("%d messages matched tshark", total)
}
