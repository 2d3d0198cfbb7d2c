package assemble

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/decode/packet"
)

type step struct {
	ts  int64
	in  *packet.Info
	ev  uint32
	tag string // optional: marks the emit position in want ("after:<tag>")
}

func withVLAN(i *packet.Info, v uint16) *packet.Info { i.VLAN = v; return i }
func withToS(i *packet.Info, tos uint8) *packet.Info { i.ToS = tos; return i }

// TestFlowSemantics runs packet sequences and compares the exact emit
// sequence, with "|k" marking after which step (by index k) a record was
// emitted, and "flush" for records emitted by Flush.
func TestFlowSemantics(t *testing.T) {
	A, B, C := ip4(1), ip4(2), ip4(3)
	tcpP := func(src, dst flow.Addr, sp, dp uint16, flags uint8) *packet.Info {
		return pkt(src, dst, sp, dp, flow.ProtoTCP, flags, 100)
	}
	udpP := func(src, dst flow.Addr, sp, dp uint16) *packet.Info {
		return pkt(src, dst, sp, dp, flow.ProtoUDP, 0, 60)
	}
	tests := []struct {
		name  string
		opts  Options
		steps []step
		want  []string
	}{
		{
			name: "aggregate one direction, reverse is another flow",
			steps: []step{
				{ts: 1 * sec, in: withToS(tcpP(A, B, 1000, 80, flow.TCPSyn), 0x20), ev: 3},
				{ts: 2 * sec, in: tcpP(B, A, 80, 1000, flow.TCPSyn|flow.TCPAck), ev: 3},
				{ts: 3 * sec, in: withToS(tcpP(A, B, 1000, 80, flow.TCPAck|flow.TCPPsh), 0x40), ev: 4},
			},
			want: []string{
				"flush 10.0.0.1:1000>10.0.0.2:80 p6 v0 f0x1a tos32 pk2 by200 [1000000000,3000000000] e3",
				"flush 10.0.0.2:80>10.0.0.1:1000 p6 v0 f0x12 tos0 pk1 by100 [2000000000,2000000000] e3",
			},
		},
		{
			name: "vlan is part of the key",
			steps: []step{
				{ts: 1, in: withVLAN(udpP(A, B, 53, 53), 10)},
				{ts: 2, in: withVLAN(udpP(A, B, 53, 53), 20)},
				{ts: 3, in: withVLAN(udpP(A, B, 53, 53), 10)},
			},
			want: []string{
				"flush 10.0.0.1:53>10.0.0.2:53 p17 v10 f0x0 tos0 pk2 by120 [1,3] e0",
				"flush 10.0.0.1:53>10.0.0.2:53 p17 v20 f0x0 tos0 pk1 by60 [2,2] e0",
			},
		},
		{
			name: "fin ends the flow after its packet; next packet starts anew",
			steps: []step{
				{ts: 1, in: tcpP(A, B, 1, 2, flow.TCPAck)},
				{ts: 2, in: tcpP(A, B, 1, 2, flow.TCPFin|flow.TCPAck)},
				{ts: 3, in: tcpP(A, B, 1, 2, flow.TCPAck)},
			},
			want: []string{
				"|1 10.0.0.1:1>10.0.0.2:2 p6 v0 f0x11 tos0 pk2 by200 [1,2] e0",
				"flush 10.0.0.1:1>10.0.0.2:2 p6 v0 f0x10 tos0 pk1 by100 [3,3] e0",
			},
		},
		{
			name: "rst on the first packet",
			steps: []step{
				{ts: 5, in: tcpP(B, A, 80, 9, flow.TCPRst|flow.TCPAck)},
				{ts: 6, in: tcpP(B, A, 80, 9, flow.TCPRst)},
			},
			want: []string{
				"|0 10.0.0.2:80>10.0.0.1:9 p6 v0 f0x14 tos0 pk1 by100 [5,5] e0",
				"|1 10.0.0.2:80>10.0.0.1:9 p6 v0 f0x4 tos0 pk1 by100 [6,6] e0",
			},
		},
		{
			name: "fin flag on udp means nothing",
			steps: []step{
				{ts: 1, in: pkt(A, B, 1, 2, flow.ProtoUDP, flow.TCPFin, 50)},
				{ts: 2, in: pkt(A, B, 1, 2, flow.ProtoUDP, flow.TCPFin, 50)},
			},
			want: []string{"flush 10.0.0.1:1>10.0.0.2:2 p17 v0 f0x1 tos0 pk2 by100 [1,2] e0"},
		},
		{
			name: "active timeout splits at ts-first >= active",
			opts: Options{ActiveTimeout: 30 * time.Second, InactiveTimeout: time.Hour},
			steps: []step{
				{ts: 0, in: udpP(A, B, 1, 2)},
				{ts: 29*sec + 999, in: udpP(A, B, 1, 2)},
				{ts: 30 * sec, in: udpP(A, B, 1, 2), ev: 1},
				{ts: 59 * sec, in: udpP(A, B, 1, 2)},
				{ts: 60 * sec, in: udpP(A, B, 1, 2)},
			},
			want: []string{
				"|2 10.0.0.1:1>10.0.0.2:2 p17 v0 f0x0 tos0 pk2 by120 [0,29000000999] e0",
				"|4 10.0.0.1:1>10.0.0.2:2 p17 v0 f0x0 tos0 pk2 by120 [30000000000,59000000000] e1",
				"flush 10.0.0.1:1>10.0.0.2:2 p17 v0 f0x0 tos0 pk1 by60 [60000000000,60000000000] e0",
			},
		},
		{
			name: "inactive timeout: idle strictly longer, exported before the packet that moves the clock",
			opts: Options{InactiveTimeout: 15 * time.Second},
			steps: []step{
				{ts: 0, in: udpP(A, B, 1, 2)},
				{ts: 1 * sec, in: udpP(A, C, 1, 2)},
				{ts: 15 * sec, in: udpP(B, C, 7, 7)},   // A>B idle exactly 15 s: kept
				{ts: 15*sec + 1, in: udpP(B, C, 7, 7)}, // A>B idle 15 s + 1 ns: exported first
				{ts: 16*sec + 1, in: udpP(A, B, 1, 2)}, // A>C expired; A>B starts again
				{ts: 2 * sec, in: udpP(A, C, 1, 2)},    // late packet: clock stays at 16 s
				{ts: 31*sec + 1, in: udpP(C, C, 9, 9)}, // B>C idle 16 s: exported
				{ts: 100 * sec, in: udpP(C, C, 9, 9)},  // everything else expires, oldest first
			},
			want: []string{
				"|3 10.0.0.1:1>10.0.0.2:2 p17 v0 f0x0 tos0 pk1 by60 [0,0] e0",
				"|4 10.0.0.1:1>10.0.0.3:2 p17 v0 f0x0 tos0 pk1 by60 [1000000000,1000000000] e0",
				"|6 10.0.0.2:7>10.0.0.3:7 p17 v0 f0x0 tos0 pk2 by120 [15000000000,15000000001] e0",
				"|7 10.0.0.1:1>10.0.0.2:2 p17 v0 f0x0 tos0 pk1 by60 [16000000001,16000000001] e0",
				"|7 10.0.0.1:1>10.0.0.3:2 p17 v0 f0x0 tos0 pk1 by60 [2000000000,2000000000] e0",
				"|7 10.0.0.3:9>10.0.0.3:9 p17 v0 f0x0 tos0 pk1 by60 [31000000001,31000000001] e0",
				"flush 10.0.0.3:9>10.0.0.3:9 p17 v0 f0x0 tos0 pk1 by60 [100000000000,100000000000] e0",
			},
		},
		{
			name: "out-of-order packets widen first and last",
			steps: []step{
				{ts: 10, in: udpP(A, B, 1, 2), ev: 7},
				{ts: 5, in: udpP(A, B, 1, 2), ev: 8},
				{ts: 20, in: udpP(A, B, 1, 2)},
			},
			want: []string{"flush 10.0.0.1:1>10.0.0.2:2 p17 v0 f0x0 tos0 pk3 by180 [5,20] e7"},
		},
		{
			name: "table full evicts the least recently seen",
			opts: Options{MaxFlows: 2},
			steps: []step{
				{ts: 1, in: udpP(A, B, 1, 1)},
				{ts: 2, in: udpP(A, B, 2, 2)},
				{ts: 3, in: udpP(A, B, 1, 1)}, // touch 1: now 2 is least recent
				{ts: 4, in: udpP(A, B, 3, 3)}, // evicts 2
				{ts: 5, in: udpP(A, B, 4, 4)}, // evicts 1
			},
			want: []string{
				"|3 10.0.0.1:2>10.0.0.2:2 p17 v0 f0x0 tos0 pk1 by60 [2,2] e0",
				"|4 10.0.0.1:1>10.0.0.2:1 p17 v0 f0x0 tos0 pk2 by120 [1,3] e0",
				"flush 10.0.0.1:3>10.0.0.2:3 p17 v0 f0x0 tos0 pk1 by60 [4,4] e0",
				"flush 10.0.0.1:4>10.0.0.2:4 p17 v0 f0x0 tos0 pk1 by60 [5,5] e0",
			},
		},
		{
			name: "flush orders by first, then key",
			steps: []step{
				{ts: 7, in: udpP(C, A, 1, 1)},
				{ts: 3, in: udpP(B, A, 1, 1)},
				{ts: 7, in: udpP(A, C, 2, 1)},
				{ts: 7, in: udpP(A, C, 1, 9)},
				{ts: 7, in: pkt(A, C, 1, 9, flow.ProtoTCP, 0, 40)},
				{ts: 7, in: pkt(ip6(1), ip6(2), 1, 9, flow.ProtoTCP, 0, 60)},
			},
			want: []string{
				"flush 10.0.0.2:1>10.0.0.1:1 p17 v0 f0x0 tos0 pk1 by60 [3,3] e0",
				"flush 10.0.0.1:1>10.0.0.3:9 p6 v0 f0x0 tos0 pk1 by40 [7,7] e0",
				"flush 10.0.0.1:1>10.0.0.3:9 p17 v0 f0x0 tos0 pk1 by60 [7,7] e0",
				"flush 10.0.0.1:2>10.0.0.3:1 p17 v0 f0x0 tos0 pk1 by60 [7,7] e0",
				"flush 10.0.0.3:1>10.0.0.1:1 p17 v0 f0x0 tos0 pk1 by60 [7,7] e0",
				"flush 2001::1:1>2001::2:9 p6 v0 f0x0 tos0 pk1 by60 [7,7] e0", // IPv4-mapped sorts before 2001::
			},
		},
		{
			name: "icmp type/code is the key's dst port",
			steps: []step{
				{ts: 1, in: pkt(A, B, 0, 0x0800, flow.ProtoICMP, 0, 84)},
				{ts: 2, in: pkt(B, A, 0, 0x0000, flow.ProtoICMP, 0, 84)},
				{ts: 3, in: pkt(A, B, 0, 0x0800, flow.ProtoICMP, 0, 84)},
			},
			want: []string{
				"flush 10.0.0.1:0>10.0.0.2:2048 p1 v0 f0x0 tos0 pk2 by168 [1,3] e0",
				"flush 10.0.0.2:0>10.0.0.1:0 p1 v0 f0x0 tos0 pk1 by84 [2,2] e0",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			cur := ""
			a := New(tc.opts, func(r *flow.Record) { got = append(got, cur+" "+recString(*r)) })
			var pk, by uint64
			for i, s := range tc.steps {
				cur = "|" + itoa(i)
				a.Add(s.ts, s.in, 0, s.ev)
				pk++
				by += uint64(s.in.IPLen)
			}
			cur = "flush"
			a.Flush()
			if !slices.Equal(got, tc.want) {
				t.Fatalf("emitted:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
			st := a.Stats()
			if st.Packets != pk || st.Bytes != by || st.Flows != uint64(len(got)) || st.ActiveFlows != 0 {
				t.Fatalf("stats %+v; fed %d packets, %d bytes, got %d records", st, pk, by, len(got))
			}
		})
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func TestStatsReasons(t *testing.T) {
	A, B := ip4(1), ip4(2)
	a := New(Options{MaxFlows: 2, ActiveTimeout: 100 * time.Second, InactiveTimeout: 10 * time.Second}, nil)
	a.Add(0, pkt(A, B, 1, 1, 6, flow.TCPFin, 40), 0, 0) // fin/rst
	a.Add(1, pkt(A, B, 2, 2, 17, 0, 40), 0, 0)          //
	a.Add(2, pkt(A, B, 3, 3, 17, 0, 40), 0, 0)          //
	a.Add(3, pkt(A, B, 4, 4, 17, 0, 40), 0, 0)          // evicts 2: full
	a.Add(100*sec+2, pkt(A, B, 3, 3, 17, 0, 40), 0, 0)  // 4 idle: inactive; 3 too (inactive before active)
	a.Add(100*sec+3, pkt(A, B, 3, 3, 17, 0, 40), 0, 0)  //
	a.Add(150*sec, pkt(A, B, 3, 3, 17, 0, 40), 0, 0)    // idle 50 s > 10: inactive
	a.Add(151*sec, pkt(A, B, 3, 3, 17, 0, 40), 0, 0)    //
	a.Add(250*sec, pkt(A, B, 3, 3, 17, 0, 40), 0, 0)    // idle: inactive
	a.Add(255*sec, pkt(A, B, 3, 3, 17, 0, 40), 0, 0)    //
	a.Add(260*sec, pkt(A, B, 3, 3, 17, 0, 40), 0, 0)    //
	a.Add(269*sec, pkt(A, B, 3, 3, 17, 0, 40), 0, 0)    //
	a.Add(278*sec, pkt(A, B, 3, 3, 17, 0, 40), 0, 0)    //
	a.Add(287*sec, pkt(A, B, 3, 3, 17, 0, 40), 0, 0)    //
	a.Add(296*sec, pkt(A, B, 3, 3, 17, 0, 40), 0, 0)    //
	a.Add(350*sec, pkt(A, B, 3, 3, 17, 0, 40), 1000, 0) // active would be 250+100: but idle 54 s first
	a.Add(359*sec, pkt(A, B, 3, 3, 17, 0, 40), 0, 0)    //
	a.Add(368*sec, pkt(A, B, 3, 3, 17, 0, 40), 0, 0)    //
	a.Add(377*sec, pkt(A, B, 3, 3, 17, 0, 40), 0, 0)    //
	a.Add(386*sec, pkt(A, B, 3, 3, 17, 0, 40), 0, 0)    //
	a.Add(395*sec, pkt(A, B, 3, 3, 17, 0, 40), 0, 0)    //
	a.Add(404*sec, pkt(A, B, 3, 3, 17, 0, 40), 0, 0)    //
	a.Add(413*sec, pkt(A, B, 3, 3, 17, 0, 40), 0, 0)    //
	a.Add(422*sec, pkt(A, B, 3, 3, 17, 0, 40), 0, 0)    //
	a.Add(431*sec, pkt(A, B, 3, 3, 17, 0, 40), 0, 0)    //
	a.Add(440*sec, pkt(A, B, 3, 3, 17, 0, 40), 0, 0)    //
	a.Add(449*sec, pkt(A, B, 3, 3, 17, 0, 40), 0, 0)    // 449-350 = 99: same flow
	a.Add(450*sec, pkt(A, B, 3, 3, 17, 0, 40), 0, 0)    // 450-350 = 100: active
	a.Flush()
	st := a.Stats()
	want := Stats{Packets: 28, Bytes: 28 * 40, FrameBytes: 1000, Flows: 9,
		EndedFinRst: 1, EvictedFull: 1, ExpiredInactive: 5, ExpiredActive: 1, Flushed: 1}
	if st != want {
		t.Fatalf("stats\n got  %+v\n want %+v", st, want)
	}
}

// TestExtremeTimestamps: crafted captures can hold any 64-bit time; time
// differences must not overflow into "not idle" or "not active".
func TestExtremeTimestamps(t *testing.T) {
	var c collector
	a := New(Options{}, c.emit)
	A, B := ip4(1), ip4(2)
	a.Add(math.MinInt64+1, pkt(A, B, 1, 1, flow.ProtoUDP, 0, 40), 0, 0)
	a.Add(math.MaxInt64, pkt(A, B, 2, 2, flow.ProtoUDP, 0, 40), 0, 0) // the first flow is idle for ~584 years
	if len(c.recs) != 1 || c.recs[0].SrcPort != 1 || a.Stats().ExpiredInactive != 1 {
		t.Fatalf("emitted %v, stats %+v", recStrings(c.recs), a.Stats())
	}
	a.Add(math.MinInt64+2, pkt(A, B, 2, 2, flow.ProtoUDP, 0, 40), 0, 0) // late packet of flow 2: First moves back
	a.Add(math.MaxInt64, pkt(A, B, 2, 2, flow.ProtoUDP, 0, 40), 0, 0)   // now MaxInt64 - First >= active
	if a.Stats().ExpiredActive != 1 {
		t.Fatalf("stats %+v", a.Stats())
	}
	a.Flush()
	if p, b := c.totals(); p != 4 || b != 160 {
		t.Fatalf("totals %d/%d", p, b)
	}
}
