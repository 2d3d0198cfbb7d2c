package assemble

import (
	"encoding/binary"
	"slices"
	"testing"
	"time"

	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/decode/packet"
)

// The fuzz input is a program of packets. Its first byte picks tight
// bounds (so eviction, timeouts and give-ups happen within a few packets);
// then each operation is either
//
//	0b0xxxxxxx + 7 bytes: a synthetic packet (see synth below), or
//	0b1Ltttttt + 2-byte length + frame: a real frame, Ethernet (L=0) or
//	raw IP (L=1), the clock advancing by tttttt * 100 ms.
//
// Real frames let the corpus start from captured traffic (fragmented IPv6
// DNS, TCP DNS); synthetic packets reach the fragment and key space
// quickly.
func fuzzOptions(b byte) Options {
	return Options{
		MaxFlows:           1 + int(b&7),
		MaxFragments:       1 + int(b>>3&3),
		ActiveTimeout:      time.Duration(1+b>>5&1) * 3 * time.Second,
		InactiveTimeout:    time.Second,
		FragmentTimeout:    2 * time.Second,
		MaxReassemblyBytes: 1024 << (b >> 6 & 1), // 1 or 2 KiB
	}
}

var fuzzData = func() []byte {
	b := make([]byte, 512)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}()

// synth turns 7 bytes into a packet.Info:
//
//	b0: src (2 bits) dst (2 bits) ipv6 (1 bit) vlan (1 bit) proto (2 bits: tcp, udp, icmp, gre)
//	b1: TCP flags
//	b2: src port (low 2 bits) dst port (next 2 bits) fragment kind (2 bits: none, first, middle, last) frag id (2 bits)
//	b3: fragment offset in 8-byte units
//	b4: data length in 8-byte units (any length for the last fragment: b4 + b5&7)
//	b5: ToS
//	b6: clock step in 100 ms units, signed (out-of-order packets)
func synth(p []byte, info *packet.Info) int64 {
	*info = packet.Info{}
	addr := func(n byte, v6 bool) flow.Addr {
		if v6 {
			var a flow.Addr
			a[0], a[15] = 0x20, n+1
			return a
		}
		return flow.AddrFrom4([4]byte{10, 0, 0, n + 1})
	}
	info.IPv6 = p[0]>>4&1 != 0
	info.Src, info.Dst = addr(p[0]&3, info.IPv6), addr(p[0]>>2&3, info.IPv6)
	if p[0]>>5&1 != 0 {
		info.VLAN = 42
	}
	info.Proto = [4]uint8{flow.ProtoTCP, flow.ProtoUDP, flow.ProtoICMP, 47}[p[0]>>6]
	info.ToS = p[5]
	n := int(p[4]%32) * 8
	kind := p[2] >> 4 & 3
	if kind == 3 {
		n += int(p[5] & 7)
	}
	data := fuzzData[:n]
	if kind != 0 {
		info.Fragment = true
		info.FragID = uint32(p[2] >> 6)
		info.MoreFrags = kind != 3
		if kind != 1 {
			info.FragOffset = uint16(1+p[3]%64) * 8
		}
		info.FragData = data
	}
	if kind == 0 || kind == 1 {
		switch info.Proto {
		case flow.ProtoTCP:
			info.SrcPort, info.DstPort = 1000+uint16(p[2]&3), 80+uint16(p[2]>>2&3)
			info.TCPFlags = p[1]
		case flow.ProtoUDP:
			info.SrcPort, info.DstPort = 1000+uint16(p[2]&3), 53+uint16(p[2]>>2&3)
			if n >= 8 {
				// A UDP header whose length covers the packet, or for a
				// first fragment some guess at the whole datagram.
				d := slices.Clone(data)
				binary.BigEndian.PutUint16(d[4:], uint16(n+int(kind)*int(p[3])))
				info.Payload = d[8:]
				data = d
			}
		case flow.ProtoICMP:
			info.DstPort = uint16(p[1]) << 8
		}
		info.L4 = data
		if kind == 1 {
			info.FragData = data
		}
	} else if kind != 0 {
		info.L4 = data
	}
	hl := uint32(20)
	if info.IPv6 {
		hl = 40
	}
	info.IPLen = hl + uint32(n)
	return int64(int8(p[6])) * int64(100*time.Millisecond)
}

type fuzzOut struct {
	recs      []flow.Record
	datagrams [][]byte
	stats     Stats
	problems  [5]uint64 // OnProblem calls per ProblemKind
}

func runProgram(t *testing.T, prog []byte) (out fuzzOut, pk, by uint64) {
	opts := fuzzOptions(prog[0])
	var a *Assembler
	var reassembled uint64
	opts.OnDatagram = func(ts int64, info *packet.Info, payload []byte) {
		out.datagrams = append(out.datagrams, slices.Clone(payload))
		if info.Proto != flow.ProtoUDP {
			t.Fatalf("datagram of protocol %d", info.Proto)
		}
		if r := a.Stats().Reassembled; r != reassembled && int(binary.BigEndian.Uint16(info.L4[4:])) != len(info.L4) {
			t.Fatalf("reassembled %d bytes, UDP length %d", len(info.L4), binary.BigEndian.Uint16(info.L4[4:]))
		}
		reassembled = a.Stats().Reassembled
	}
	opts.OnTCPSegment = func(ts int64, info *packet.Info) {
		if len(info.Payload) == 0 {
			t.Fatal("TCP segment without payload")
		}
	}
	opts.OnProblem = func(p Problem) {
		if p.Kind < TrackerFull || p.Kind > ReassemblyBad || p.Error() == "" {
			t.Fatalf("problem %+v", p)
		}
		out.problems[p.Kind]++
	}
	a = New(opts, func(r *flow.Record) {
		if r.Packets == 0 || r.First > r.Last {
			t.Fatalf("bad record %s", recString(*r))
		}
		out.recs = append(out.recs, *r)
	})
	var d packet.Decoder
	var info packet.Info
	ts := int64(1e18)
	p := prog[1:]
	for len(p) > 0 {
		op := p[0]
		if op&0x80 == 0 {
			if len(p) < 8 {
				break
			}
			ts += synth(p[1:8], &info)
			p = p[8:]
		} else {
			if len(p) < 3 {
				break
			}
			n := min(int(binary.BigEndian.Uint16(p[1:])), len(p)-3)
			frame := p[3 : 3+n]
			p = p[3+n:]
			ts += int64(op&0x3f) * int64(100*time.Millisecond)
			link := uint16(packet.LinkTypeEthernet)
			if op&0x40 != 0 {
				link = packet.LinkTypeRaw
			}
			if d.Decode(link, frame, &info) != nil {
				continue
			}
		}
		pk++
		by += uint64(info.IPLen)
		a.Add(ts, &info, 100, 1)
		if st := a.Stats(); st.ActiveFlows > opts.MaxFlows {
			t.Fatalf("%d flows in a table of %d", st.ActiveFlows, opts.MaxFlows)
		}
	}
	a.Flush()
	out.stats = a.Stats()
	return out, pk, by
}

// FuzzAssemble checks the accounting invariant (every IP packet counted
// exactly once, whatever evicts or gives up what), bounded tables, sane
// records and hooks, and determinism.
func FuzzAssemble(f *testing.F) {
	f.Add([]byte{0x07,
		0x11, 0x40, 0, 0x10, 0, 6, 0, 1, // udp first fragment
		0x11, 0x40, 0, 0x30, 0, 1, 3, 1, // udp last fragment
		0x02, 0x00, 0x11, 0x01, 0, 0, 0, 1, // tcp FIN
		0x02, 0x00, 0x10, 0x01, 0, 0, 0, 30, // later packet, same key
	})
	f.Add([]byte{0xff,
		0x11, 0x50, 0, 0x20, 2, 6, 0, 1, // ipv6 udp middle fragment first
		0x11, 0x50, 0, 0x10, 0, 2, 0, 1, // then first fragment
		0x11, 0x50, 0, 0x30, 3, 1, 5, 1, // then last
		0x04, 0x80, 0, 0x00, 0, 0, 0, 0xf0, // icmp, clock steps back
	})
	f.Fuzz(func(t *testing.T, prog []byte) {
		if len(prog) == 0 {
			return
		}
		out, pk, by := runProgram(t, prog)
		var rp, rb uint64
		for _, r := range out.recs {
			rp += r.Packets
			rb += r.Bytes
		}
		if rp != pk || rb != by || out.stats.Packets != pk || out.stats.Bytes != by {
			t.Fatalf("records hold %d packets / %d bytes, stats %d / %d, fed %d / %d",
				rp, rb, out.stats.Packets, out.stats.Bytes, pk, by)
		}
		st := out.stats
		if want := [5]uint64{0, st.FragmentEvictions, st.ReassemblyMemory, st.ReassemblyTooLarge, st.ReassemblyBad}; out.problems != want {
			t.Fatalf("OnProblem calls per kind %v, stats say %v", out.problems, want)
		}
		if out.stats.ActiveFlows != 0 || out.stats.Flows != uint64(len(out.recs)) {
			t.Fatalf("after Flush: stats %+v, %d records", out.stats, len(out.recs))
		}
		again, _, _ := runProgram(t, prog)
		if !slices.Equal(out.recs, again.recs) || len(out.datagrams) != len(again.datagrams) || out.stats != again.stats {
			t.Fatal("two runs of the same input differ")
		}
		for i := range out.datagrams {
			if !slices.Equal(out.datagrams[i], again.datagrams[i]) {
				t.Fatal("two runs delivered different datagrams")
			}
		}
	})
}
