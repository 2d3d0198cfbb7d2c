package assemble

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/decode/packet"
)

// fragStats is the fragment-related part of Stats.
type fragStats struct {
	Fragments, Held, Orphaned, Evictions                uint64
	Datagrams, Reassembled, TooLarge, Memory, Bad, Lost uint64
}

func fragStatsOf(s Stats) fragStats {
	return fragStats{s.Fragments, s.FragmentsHeld, s.FragmentsOrphaned, s.FragmentEvictions,
		s.Datagrams, s.Reassembled, s.ReassemblyTooLarge, s.ReassemblyMemory, s.ReassemblyBad, s.ReassemblyTimeout}
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/256)
	}
	return b
}

func TestFragments(t *testing.T) {
	dg := udpDatagram(53, 4444, pattern(100)) // 108 bytes
	v4 := split(dg, 48, func(off int, more bool, d []byte) []byte { return ipv4Frag(17, 0x77, off, more, d) })
	v4b := split(udpDatagram(9, 9, pattern(40)), 24, func(off int, more bool, d []byte) []byte { return ipv4Frag(17, 0x78, off, more, d) })
	v6 := split(dg, 48, func(off int, more bool, d []byte) []byte { return ipv6Frag(17, 0xabcdef, off, more, d) })
	tcpSeg := append([]byte{0, 80, 0x9c, 0x40, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0}, pattern(60)...)
	v4tcp := split(tcpSeg, 40, func(off int, more bool, d []byte) []byte { return ipv4Frag(6, 5, off, more, d) })
	conflict := slices.Clone(v4[1])
	conflict[25] ^= 0xff
	badLen := slices.Clone(dg)
	badLen[5] = 200 // UDP length says 200, datagram is 108
	v4badLen := split(badLen, 48, func(off int, more bool, d []byte) []byte { return ipv4Frag(17, 0x79, off, more, d) })
	odd := [][]byte{ipv4Frag(17, 0x7a, 0, true, dg[:44]), ipv4Frag(17, 0x7a, 40, false, dg[40:])}
	huge := [][]byte{ipv4Frag(17, 0x7b, 0, true, dg[:48]), ipv4Frag(17, 0x7b, 65528, false, pattern(16))}
	big := udpDatagram(1, 2, pattern(2000))
	v4big := split(big, 512, func(off int, more bool, d []byte) []byte { return ipv4Frag(17, 0x7c, off, more, d) })

	v4flow := func(pk, by int, ports bool) string {
		sp, dp := 53, 4444
		if !ports {
			sp, dp = 0, 0
		}
		return fmt.Sprintf("192.0.2.1:%d>198.51.100.2:%d p17 pk%d by%d", sp, dp, pk, by)
	}
	type in struct {
		ts    int64
		frame []byte
	}
	seq := func(frames ...[]byte) []in {
		out := make([]in, len(frames))
		for i, f := range frames {
			out[i] = in{ts: int64(i + 1), frame: f}
		}
		return out
	}
	tests := []struct {
		name      string
		opts      Options
		in        []in
		want      []string // "pos rec" with pos = step index or "flush"
		datagrams []string // "pos len" of delivered payloads (content is checked against dg)
		stats     fragStats
	}{
		{
			name:      "ipv4 in order",
			in:        seq(v4[0], v4[1], v4[2]),
			want:      []string{"flush " + v4flow(3, 20*3+108, true)},
			datagrams: []string{"2 100"},
			stats:     fragStats{Fragments: 3, Datagrams: 1, Reassembled: 1},
		},
		{
			name:      "ipv4 reversed: held until the first fragment",
			in:        seq(v4[2], v4[1], v4[0]),
			want:      []string{"flush " + v4flow(3, 168, true)},
			datagrams: []string{"2 100"},
			stats:     fragStats{Fragments: 3, Held: 2, Datagrams: 1, Reassembled: 1},
		},
		{
			name:      "shuffled with a duplicate: every packet counted, one datagram",
			in:        seq(v4[1], v4[0], v4[1], v4[2], v4[2]),
			want:      []string{"flush " + v4flow(5, 168+68+32, true)},
			datagrams: []string{"3 100"},
			stats:     fragStats{Fragments: 5, Held: 1, Datagrams: 1, Reassembled: 1},
		},
		{
			name:  "first fragment never seen: counted with ports 0 at flush",
			in:    seq(v4[1], v4[2]),
			want:  []string{"flush " + v4flow(2, 68+32, false)},
			stats: fragStats{Fragments: 2, Held: 2, Orphaned: 2, Lost: 1},
		},
		{
			name:  "middle fragment lost",
			in:    seq(v4[0], v4[2]),
			want:  []string{"flush " + v4flow(2, 68+32, true)},
			stats: fragStats{Fragments: 2, Lost: 1},
		},
		{
			name: "fragment timeout gives up held fragments when the clock passes it",
			opts: Options{FragmentTimeout: 30 * time.Second, InactiveTimeout: time.Hour},
			in: []in{
				{1, v4[2]},
				{30 * sec, v4b[0]},
				{30*sec + 2, v4b[1]}, // v4 entry idle 30 s + 1 ns: given up before this packet counts
				{30*sec + 3, v4[0]},  // too late: a new datagram entry
			},
			want: []string{
				"flush 192.0.2.1:0>198.51.100.2:0 p17 pk1 by32",
				"flush 192.0.2.1:53>198.51.100.2:4444 p17 pk1 by68",
				"flush 192.0.2.1:9>198.51.100.2:9 p17 pk2 by88",
			},
			datagrams: []string{"2 40"},
			stats:     fragStats{Fragments: 4, Held: 1, Orphaned: 1, Lost: 2, Datagrams: 1, Reassembled: 1},
		},
		{
			name: "tracker full: oldest datagram given up",
			opts: Options{MaxFragments: 1},
			in:   seq(v4[1], v4b[1], v4[0], v4[2], v4b[0]),
			want: []string{
				"flush 192.0.2.1:0>198.51.100.2:0 p17 pk2 by112",
				"flush 192.0.2.1:53>198.51.100.2:4444 p17 pk2 by100",
				"flush 192.0.2.1:9>198.51.100.2:9 p17 pk1 by44",
			},
			stats: fragStats{Fragments: 5, Held: 2, Orphaned: 2, Evictions: 3, Lost: 4},
		},
		{
			name:  "conflicting overlap drops the datagram, not the packets",
			in:    seq(v4[0], v4[1], conflict, v4[2]),
			want:  []string{"flush " + v4flow(4, 168+68, true)},
			stats: fragStats{Fragments: 4, Bad: 1},
		},
		{
			name:  "udp length disagrees with the reassembled length",
			in:    seq(v4badLen[0], v4badLen[1], v4badLen[2]),
			want:  []string{"flush " + v4flow(3, 168, true)},
			stats: fragStats{Fragments: 3, Bad: 1},
		},
		{
			name:  "non-last fragment off the 8-byte grid",
			in:    seq(odd[0], odd[1]),
			want:  []string{"flush " + v4flow(2, 64+88, true)},
			stats: fragStats{Fragments: 2, Bad: 1},
		},
		{
			name:  "datagram beyond 64 KiB",
			in:    seq(huge[0], huge[1]),
			want:  []string{"flush " + v4flow(2, 68+36, true)},
			stats: fragStats{Fragments: 2, TooLarge: 1},
		},
		{
			name:  "reassembly memory cap",
			opts:  Options{MaxReassemblyBytes: 1500},
			in:    seq(v4big...),
			want:  []string{"flush 192.0.2.1:1>198.51.100.2:2 p17 pk4 by2088"},
			stats: fragStats{Fragments: 4, Memory: 1},
		},
		{
			name: "memory cap counts each reassembly, not only its buffer",
			opts: Options{MaxReassemblyBytes: 2 * (rsSize + 1024)},
			in: seq(ipv4Frag(17, 1, 0, true, dg[:48]), ipv4Frag(17, 2, 0, true, dg[:48]), ipv4Frag(17, 3, 0, true, dg[:48]),
				ipv4Frag(17, 3, 48, false, dg[48:])),
			want:  []string{"flush " + v4flow(4, 3*68+80, true)},
			stats: fragStats{Fragments: 4, Memory: 1, Lost: 2},
		},
		{
			name:      "memory cap large enough",
			opts:      Options{MaxReassemblyBytes: 4096},
			in:        seq(v4big[3], v4big[1], v4big[2], v4big[0]),
			want:      []string{"flush 192.0.2.1:1>198.51.100.2:2 p17 pk4 by2088"},
			datagrams: []string{"3 2000"},
			stats:     fragStats{Fragments: 4, Held: 3, Datagrams: 1, Reassembled: 1},
		},
		{
			name:      "ipv6 out of order",
			in:        seq(v6[1], v6[2], v6[0]),
			want:      []string{"flush 2020:2020:2020:2020:2020:2020:2020:2020:53>3030:3030:3030:3030:3030:3030:3030:3030:4444 p17 pk3 by" + fmt.Sprint(3*48+108)},
			datagrams: []string{"2 100"},
			stats:     fragStats{Fragments: 3, Held: 2, Datagrams: 1, Reassembled: 1},
		},
		{
			name:  "fragmented tcp: ports and flags from the first fragment, no datagram",
			in:    seq(v4tcp[1], v4tcp[0]),
			want:  []string{"flush 192.0.2.1:80>198.51.100.2:40000 p6 pk2 by120"},
			stats: fragStats{Fragments: 2, Held: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got, dgrams []string
			cur := ""
			opts := tc.opts
			opts.OnDatagram = func(ts int64, info *packet.Info, payload []byte) {
				dgrams = append(dgrams, fmt.Sprintf("%s %d", cur, len(payload)))
				if info.L4 == nil || !bytes.Equal(info.L4[8:], payload) || int(info.L4[4])<<8|int(info.L4[5]) != len(info.L4) {
					t.Errorf("datagram L4/payload inconsistent: %d/%d", len(info.L4), len(payload))
				}
				if !bytes.Equal(big[8:], payload) && !bytes.Equal(dg[8:], payload) && !bytes.Equal(pattern(40), payload) {
					t.Errorf("reassembled payload differs from the datagram sent")
				}
				if info.SrcPort == 0 || info.MoreFrags {
					t.Errorf("datagram info: %+v", info)
				}
			}
			var pk, by uint64
			a := New(opts, func(r *flow.Record) {
				got = append(got, fmt.Sprintf("%s %v:%d>%v:%d p%d pk%d by%d", cur, r.Src, r.SrcPort, r.Dst, r.DstPort, r.Proto, r.Packets, r.Bytes))
				pk += r.Packets
				by += r.Bytes
			})
			var ipBytes uint64
			for i, x := range tc.in {
				cur = fmt.Sprint(i)
				info := decodeRaw(t, x.frame)
				ipBytes += uint64(info.IPLen)
				a.Add(x.ts, info, uint32(len(x.frame)), 0)
			}
			cur = "flush"
			a.Flush()
			// Flush order is tested elsewhere; here sort the flushed part.
			if i := slices.IndexFunc(got, func(g string) bool { return strings.HasPrefix(g, "flush") }); i >= 0 {
				slices.Sort(got[i:])
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("records:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
			if !slices.Equal(dgrams, tc.datagrams) {
				t.Errorf("datagrams %q, want %q", dgrams, tc.datagrams)
			}
			if st := fragStatsOf(a.Stats()); st != tc.stats {
				t.Errorf("stats\n got  %+v\n want %+v", st, tc.stats)
			}
			if pk != uint64(len(tc.in)) || by != ipBytes {
				t.Errorf("records hold %d packets / %d bytes, fed %d / %d", pk, by, len(tc.in), ipBytes)
			}
		})
	}
}

// Every fragment problem reaches OnProblem once, inside the Add of the
// packet that ran into it, naming the datagram concerned.
func TestFragmentProblemsReported(t *testing.T) {
	dg := udpDatagram(53, 4444, pattern(100))
	var got []string
	step := 0
	a := New(Options{MaxFragments: 2, MaxReassemblyBytes: 1 << 20, OnDatagram: func(int64, *packet.Info, []byte) {}, OnProblem: func(p Problem) {
		got = append(got, fmt.Sprintf("%d %v", step, p))
	}}, nil)
	in := [][]byte{
		ipv4Frag(17, 1, 0, true, dg[:48]),
		ipv4Frag(17, 2, 0, true, dg[:48]),
		ipv4Frag(17, 2, 0, true, append(slices.Clone(dg[:40]), pattern(8)...)), // overlaps with other bytes
		ipv4Frag(17, 3, 0, true, dg[:48]),                                      // tracker full: datagram 1 given up
		ipv4Frag(17, 3, 65528, false, pattern(16)),                             // past 65535 bytes
	}
	for i, f := range in {
		step = i
		a.Add(int64(i+1), decodeRaw(t, f), uint32(len(f)), 0)
	}
	a.Flush()
	want := []string{
		"2 inconsistent fragments: IPv4 datagram 192.0.2.1 → 198.51.100.2 id 2: overlaps with different bytes, misaligned or disagreeing lengths; not reassembled",
		"3 fragment tracker full: 2 datagrams tracked (MaxFragments): gave up on IPv4 datagram 192.0.2.1 → 198.51.100.2 id 1; its fragments are counted in flows, some without ports",
		"4 reassembled datagram too large: IPv4 datagram 192.0.2.1 → 198.51.100.2 id 3 reaches past 65535 bytes; not reassembled",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	st := a.Stats()
	if st.ReassemblyBad != 1 || st.FragmentEvictions != 1 || st.ReassemblyTooLarge != 1 {
		t.Errorf("stats %+v", fragStatsOf(st))
	}
	// Memory: a cap below one reassembly's fixed cost refuses the first.
	got = nil
	a = New(Options{MaxReassemblyBytes: 1, OnDatagram: func(int64, *packet.Info, []byte) {}, OnProblem: func(p Problem) {
		got = append(got, p.Error())
	}}, nil)
	a.Add(1, decodeRaw(t, in[0]), 68, 0)
	if len(got) != 1 || !strings.HasPrefix(got[0], "reassembly memory full: 1 bytes buffered (MaxReassemblyBytes): IPv4 datagram 192.0.2.1 → 198.51.100.2 id 1 not reassembled") {
		t.Fatalf("memory cap: %q", got)
	}
}
