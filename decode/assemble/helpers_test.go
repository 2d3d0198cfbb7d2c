package assemble

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/decode/packet"
)

const sec = int64(time.Second)

// collector keeps copies of emitted records.
type collector struct{ recs []flow.Record }

func (c *collector) emit(r *flow.Record) { c.recs = append(c.recs, *r) }

func (c *collector) totals() (pkts, bytes uint64) {
	for _, r := range c.recs {
		pkts += r.Packets
		bytes += r.Bytes
	}
	return
}

func ip4(last byte) flow.Addr { return flow.AddrFrom4([4]byte{10, 0, 0, last}) }

func ip6(last byte) flow.Addr {
	var a flow.Addr
	a[0], a[1], a[15] = 0x20, 0x01, last
	return a
}

// pkt builds the Info of an unfragmented packet.
func pkt(src, dst flow.Addr, sp, dp uint16, proto, flags uint8, iplen uint32) *packet.Info {
	return &packet.Info{Src: src, Dst: dst, SrcPort: sp, DstPort: dp, Proto: proto, TCPFlags: flags, IPLen: iplen, IPv6: !src.Is4()}
}

// recString is a compact, comparable rendering of a record for tables.
func recString(r flow.Record) string {
	return fmt.Sprintf("%v:%d>%v:%d p%d v%d f%#x tos%d pk%d by%d [%d,%d] e%d",
		r.Src, r.SrcPort, r.Dst, r.DstPort, r.Proto, r.VLAN, r.TCPFlags, r.ToS, r.Packets, r.Bytes, r.First, r.Last, r.Evidence)
}

func recStrings(rs []flow.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = recString(r)
	}
	return out
}

// --- raw IP packets for fragment tests (LINKTYPE_IPV4 / IPV6 frames) ---

var (
	srcV4 = []byte{192, 0, 2, 1}
	dstV4 = []byte{198, 51, 100, 2}
	srcV6 = bytes.Repeat([]byte{0x20}, 16)
	dstV6 = bytes.Repeat([]byte{0x30}, 16)
)

func udpDatagram(sp, dp uint16, payload []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, sp)
	b = binary.BigEndian.AppendUint16(b, dp)
	b = binary.BigEndian.AppendUint16(b, uint16(8+len(payload)))
	b = append(b, 0, 0)
	return append(b, payload...)
}

// ipv4Frag builds one IPv4 fragment carrying data at byte offset off.
func ipv4Frag(proto uint8, id uint16, off int, more bool, data []byte) []byte {
	h := make([]byte, 20)
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(data)))
	binary.BigEndian.PutUint16(h[4:], id)
	ff := uint16(off / 8)
	if more {
		ff |= 0x2000
	}
	binary.BigEndian.PutUint16(h[6:], ff)
	h[8], h[9] = 64, proto
	copy(h[12:], srcV4)
	copy(h[16:], dstV4)
	return append(h, data...)
}

// ipv6Frag builds one IPv6 packet with a fragment header.
func ipv6Frag(nh uint8, id uint32, off int, more bool, data []byte) []byte {
	h := make([]byte, 48)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(8+len(data)))
	h[6], h[7] = 44, 64
	copy(h[8:], srcV6)
	copy(h[24:], dstV6)
	h[40] = nh
	f := uint16(off) &^ 7
	if more {
		f |= 1
	}
	binary.BigEndian.PutUint16(h[42:], f)
	binary.BigEndian.PutUint32(h[44:], id)
	return append(h, data...)
}

// split cuts a datagram into fragments of size bytes (a multiple of 8)
// and builds each with mk.
func split(dgram []byte, size int, mk func(off int, more bool, data []byte) []byte) [][]byte {
	var out [][]byte
	for off := 0; off < len(dgram); off += size {
		end := min(off+size, len(dgram))
		out = append(out, mk(off, end < len(dgram), dgram[off:end]))
	}
	return out
}

func decodeRaw(t testing.TB, frame []byte) *packet.Info {
	t.Helper()
	var d packet.Decoder
	info := new(packet.Info)
	if err := d.Decode(packet.LinkTypeRaw, frame, info); err != nil {
		t.Fatalf("decode crafted frame: %v", err)
	}
	return info
}

// --- real captures ---

type frame struct {
	ts   int64
	link uint16
	data []byte
}

// readCapture reads a pcap or pcapng file (told apart by magic) with
// gopacket's pure-Go readers.
func readCapture(tb testing.TB, path string) []frame {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	var out []frame
	if bytes.HasPrefix(raw, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		r, err := pcapgo.NewNgReader(bytes.NewReader(raw), pcapgo.DefaultNgReaderOptions)
		if err != nil {
			tb.Fatalf("pcapng %s: %v", path, err)
		}
		for {
			data, ci, err := r.ReadPacketData()
			if err == io.EOF {
				return out
			}
			if err != nil {
				tb.Fatalf("pcapng %s: %v", path, err)
			}
			iface, err := r.Interface(ci.InterfaceIndex)
			if err != nil {
				tb.Fatalf("pcapng %s: %v", path, err)
			}
			out = append(out, frame{ci.Timestamp.UnixNano(), uint16(iface.LinkType), data})
		}
	}
	r, err := pcapgo.NewReader(bytes.NewReader(raw))
	if err != nil {
		tb.Fatalf("pcap %s: %v", path, err)
	}
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return out
		}
		if err != nil {
			tb.Fatalf("pcap %s: %v", path, err)
		}
		out = append(out, frame{ci.Timestamp.UnixNano(), uint16(r.LinkType()), data})
	}
}
