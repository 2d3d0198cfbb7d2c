package dns

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/spotctl/spotctl/decode/decodetest"
	"github.com/spotctl/spotctl/decode/flow"
)

// prefixed joins messages as a DNS-over-TCP byte stream.
func prefixed(msgs ...[]byte) []byte {
	var b []byte
	for _, m := range msgs {
		b = binary.BigEndian.AppendUint16(b, uint16(len(m)))
		b = append(b, m...)
	}
	return b
}

// seg is one segment fed to the reassembler in a scripted test.
type seg struct {
	key           int // index into testKeys
	seq           uint32
	syn, fin, rst bool
	data          []byte
}

var testKeys = []StreamKey{
	{Src: flow.AddrFrom4([4]byte{10, 0, 0, 1}), Dst: flow.AddrFrom4([4]byte{10, 0, 0, 53}), SrcPort: 40000, DstPort: 53},
	{Src: flow.AddrFrom4([4]byte{10, 0, 0, 53}), Dst: flow.AddrFrom4([4]byte{10, 0, 0, 1}), SrcPort: 53, DstPort: 40000},
	{Src: flow.AddrFrom4([4]byte{10, 0, 0, 2}), Dst: flow.AddrFrom4([4]byte{10, 0, 0, 53}), SrcPort: 40001, DstPort: 53},
	{Src: flow.AddrFrom4([4]byte{10, 0, 0, 2}), Dst: flow.AddrFrom4([4]byte{10, 0, 0, 53}), SrcPort: 40001, DstPort: 53, VLAN: 7},
}

// emitted is what one scripted run produced: messages tagged with the key
// of the Add call that emitted them.
type emitted struct {
	key int
	msg string
}

func run(r *TCPReassembler, segs []seg) []emitted {
	var out []emitted
	for _, s := range segs {
		k := s.key
		r.Add(testKeys[k], s.seq, s.syn, s.fin, s.rst, s.data, func(msg []byte) {
			out = append(out, emitted{k, string(msg)})
		})
	}
	return out
}

func TestTCPReassembler(t *testing.T) {
	q, resp, other := realTcpdumpQuery, realTcpdumpResponse, realArkimeCNAME
	qs := prefixed(q)
	rs := prefixed(resp)
	two := prefixed(q, other)
	big := make([]byte, 3000) // a message larger than a small buffer: a valid header then zeros
	copy(big, q[:12])
	const isn = 1000

	tests := []struct {
		name       string
		maxStreams int
		maxBuffer  int
		segs       []seg
		want       []emitted
		stats      TCPStats // compared with Segments and Streams ignored
	}{
		{
			name: "handshake, one message each way",
			segs: []seg{
				{key: 0, seq: isn, syn: true},
				{key: 1, seq: 5000, syn: true},
				{key: 0, seq: isn + 1, data: qs},
				{key: 1, seq: 5001, data: rs},
				{key: 0, seq: isn + 1 + uint32(len(qs)), fin: true},
				{key: 1, seq: 5001 + uint32(len(rs)), fin: true},
			},
			want:  []emitted{{0, string(q)}, {1, string(resp)}},
			stats: TCPStats{Messages: 2},
		},
		{
			name: "message split across 3 segments, prefix split too",
			segs: []seg{
				{key: 0, seq: isn, syn: true},
				{key: 0, seq: isn + 1, data: rs[:1]},
				{key: 0, seq: isn + 2, data: rs[1:100]},
				{key: 0, seq: isn + 101, data: rs[100:]},
			},
			want:  []emitted{{0, string(resp)}},
			stats: TCPStats{Messages: 1},
		},
		{
			name: "two messages in one segment",
			segs: []seg{
				{key: 0, seq: isn, syn: true},
				{key: 0, seq: isn + 1, data: two},
			},
			want:  []emitted{{0, string(q)}, {0, string(other)}},
			stats: TCPStats{Messages: 2},
		},
		{
			name: "second message split across the segment boundary",
			segs: []seg{
				{key: 0, seq: isn, syn: true},
				{key: 0, seq: isn + 1, data: two[:len(qs)+5]},
				{key: 0, seq: isn + 1 + uint32(len(qs)) + 5, data: two[len(qs)+5:]},
			},
			want:  []emitted{{0, string(q)}, {0, string(other)}},
			stats: TCPStats{Messages: 2},
		},
		{
			name: "retransmission of the same segment emits once",
			segs: []seg{
				{key: 0, seq: isn, syn: true},
				{key: 0, seq: isn, syn: true}, // retransmitted SYN
				{key: 0, seq: isn + 1, data: qs},
				{key: 0, seq: isn + 1, data: qs},
			},
			want:  []emitted{{0, string(q)}},
			stats: TCPStats{Messages: 1, Retransmitted: 1},
		},
		{
			name: "retransmission overlapping new bytes uses only the new ones",
			segs: []seg{
				{key: 0, seq: isn, syn: true},
				{key: 0, seq: isn + 1, data: two[:30]},
				{key: 0, seq: isn + 1, data: two[:60]},
				{key: 0, seq: isn + 1, data: two},
			},
			want:  []emitted{{0, string(q)}, {0, string(other)}},
			stats: TCPStats{Messages: 2, Retransmitted: 2},
		},
		{
			name: "out of order within the window",
			segs: []seg{
				{key: 0, seq: isn, syn: true},
				{key: 0, seq: isn + 1 + 40, data: two[40:80]},
				{key: 0, seq: isn + 1 + 80, data: two[80:]},
				{key: 0, seq: isn + 1 + 80, data: two[80:]}, // a copy of a held segment
				{key: 0, seq: isn + 1, data: two[:40]},
			},
			want:  []emitted{{0, string(q)}, {0, string(other)}},
			stats: TCPStats{Messages: 2, OutOfOrder: 2, Retransmitted: 1},
		},
		{
			name: "gap never filled: FIN gives it up and resyncs on the next message",
			segs: []seg{
				{key: 0, seq: isn, syn: true},
				{key: 0, seq: isn + 1, data: two[:20]},
				// two[20:len(qs)] is never seen (capture drop)
				{key: 0, seq: isn + 1 + uint32(len(qs)), data: two[len(qs):]},
				{key: 0, seq: isn + 1 + uint32(len(two)), fin: true},
			},
			want:  []emitted{{0, string(other)}},
			stats: TCPStats{Messages: 1, OutOfOrder: 2, Gaps: 1, Resyncs: 1, DroppedBytes: 20},
		},
		{
			name:      "gap never filled: full window gives it up",
			maxBuffer: len(rs) + 5, // room for the response, not for it plus the 10 bytes before the hole
			segs: []seg{
				{key: 0, seq: isn, syn: true},
				{key: 0, seq: isn + 1, data: qs[:10]},
				{key: 0, seq: isn + 1 + uint32(len(qs)), data: rs[:150]},
				{key: 0, seq: isn + 1 + uint32(len(qs)) + 150, data: rs[150:]},
			},
			want:  []emitted{{0, string(resp)}},
			stats: TCPStats{Messages: 1, OutOfOrder: 1, Gaps: 1, Resyncs: 1, DroppedBytes: 10},
		},
		{
			name: "mid-connection start: plausible first segment",
			segs: []seg{
				{key: 1, seq: 777, data: rs},
				{key: 1, seq: 777 + uint32(len(rs)), data: prefixed(other)},
			},
			want:  []emitted{{1, string(resp)}, {1, string(other)}},
			stats: TCPStats{Messages: 2, Resyncs: 1},
		},
		{
			name: "mid-connection start: tail of a message is dropped, next segment resyncs",
			segs: []seg{
				{key: 1, seq: 777, data: rs[100:]},
				{key: 1, seq: 777 + uint32(len(rs)) - 100, data: prefixed(other)},
			},
			want:  []emitted{{1, string(other)}},
			stats: TCPStats{Messages: 1, Resyncs: 1, DroppedBytes: uint64(len(rs) - 100)},
		},
		{
			name:       "stream limit evicts the least recently used",
			maxStreams: 2,
			segs: []seg{
				{key: 0, seq: isn, syn: true},
				{key: 0, seq: isn + 1, data: qs[:20]},
				{key: 1, seq: 5000, syn: true},
				{key: 2, seq: 9000, syn: true},         // evicts key 0 with its 20 bytes
				{key: 1, seq: 5001, data: rs},          // key 1 is still tracked and synced
				{key: 0, seq: isn + 21, data: qs[20:]}, // evicts key 2; a message tail, dropped
			},
			want:  []emitted{{1, string(resp)}},
			stats: TCPStats{Evicted: 2, Messages: 1, DroppedBytes: 20 + uint64(len(qs)-20)},
		},
		{
			name: "VLAN separates streams",
			segs: []seg{
				{key: 2, seq: isn, syn: true},
				{key: 3, seq: isn, syn: true},
				{key: 2, seq: isn + 1, data: qs[:30]},
				{key: 3, seq: isn + 1, data: prefixed(other)},
				{key: 2, seq: isn + 31, data: qs[30:]},
			},
			want:  []emitted{{3, string(other)}, {2, string(q)}},
			stats: TCPStats{Messages: 2},
		},
		{
			name:      "oversize message is skipped, framing kept",
			maxBuffer: 1000,
			segs: []seg{
				{key: 0, seq: isn, syn: true},
				{key: 0, seq: isn + 1, data: prefixed(big)[:1400]},
				{key: 0, seq: isn + 1401, data: append(prefixed(big)[1400:], qs...)},
			},
			want:  []emitted{{0, string(q)}},
			stats: TCPStats{Messages: 1, Oversize: 1, DroppedBytes: 3002},
		},
		{
			name:      "message larger than the buffer in one segment is emitted",
			maxBuffer: 100,
			segs: []seg{
				{key: 0, seq: isn, syn: true},
				{key: 0, seq: isn + 1, data: rs},
			},
			want:  []emitted{{0, string(resp)}},
			stats: TCPStats{Messages: 1},
		},
		{
			name: "sequence numbers wrap around",
			segs: []seg{
				{key: 0, seq: 0xffffffff - 10, syn: true},
				{key: 0, seq: 0xffffffff - 9, data: two[:30]},
				{key: 0, seq: 20, data: two[30:]}, // 0xffffffff-9+30 wrapped
			},
			want:  []emitted{{0, string(q)}, {0, string(other)}},
			stats: TCPStats{Messages: 2},
		},
		{
			name: "RST drops the partial message; data after it is a late copy",
			segs: []seg{
				{key: 0, seq: isn, syn: true},
				{key: 0, seq: isn + 1, data: qs[:30]},
				{key: 0, seq: isn + 31, rst: true},
				{key: 0, seq: isn + 31, data: qs[30:]},
			},
			stats: TCPStats{DroppedBytes: uint64(len(qs))},
		},
		{
			name: "new SYN on the same 4-tuple starts over",
			segs: []seg{
				{key: 0, seq: isn, syn: true},
				{key: 0, seq: isn + 1, data: qs[:30]},
				{key: 0, seq: 90000, syn: true},
				{key: 0, seq: 90001, data: prefixed(other)},
			},
			want:  []emitted{{0, string(other)}},
			stats: TCPStats{Messages: 1, DroppedBytes: 30},
		},
		{
			name: "closed stream ignores late copies, a far jump is a new connection",
			segs: []seg{
				{key: 0, seq: isn, syn: true},
				{key: 0, seq: isn + 1, data: qs, fin: true},
				{key: 0, seq: isn + 1, data: qs},
				{key: 0, seq: isn + 5<<20, data: prefixed(other)},
			},
			want:  []emitted{{0, string(q)}, {0, string(other)}},
			stats: TCPStats{Messages: 2, Jumps: 1, Resyncs: 1, DroppedBytes: uint64(len(qs))},
		},
		{
			name: "far jump on an open stream is a new connection",
			segs: []seg{
				{key: 0, seq: isn, syn: true},
				{key: 0, seq: isn + 1, data: qs[:10]},
				{key: 0, seq: isn + 0xffd00000, data: prefixed(other)}, // 3 MiB behind
			},
			want:  []emitted{{0, string(other)}},
			stats: TCPStats{Messages: 1, Jumps: 1, Resyncs: 1, DroppedBytes: 10},
		},
		{
			name: "retransmission carrying the FIN closes the stream",
			segs: []seg{
				{key: 0, seq: isn, syn: true},
				{key: 0, seq: isn + 1, data: qs},
				{key: 0, seq: isn + 1, data: qs, fin: true},
				{key: 0, seq: isn + 1 + uint32(len(qs)), data: prefixed(other)}, // after the FIN: dropped
			},
			want:  []emitted{{0, string(q)}},
			stats: TCPStats{Messages: 1, Retransmitted: 1, DroppedBytes: uint64(len(other) + 2)},
		},
		{
			name: "pure ACK of an unknown stream creates nothing",
			segs: []seg{
				{key: 0, seq: 5},
				{key: 0, seq: 5, fin: true},
			},
			stats: TCPStats{},
		},
		{
			name: "zero-length message and implausible junk",
			segs: []seg{
				{key: 0, seq: isn, syn: true},
				{key: 0, seq: isn + 1, data: []byte{0, 0}},
				{key: 1, seq: 5, data: []byte{0xff, 0xff, 1, 2, 3}},
			},
			want:  []emitted{{0, ""}},
			stats: TCPStats{Messages: 1, DroppedBytes: 5},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, mb := tt.maxStreams, tt.maxBuffer
			if ms == 0 {
				ms = 16
			}
			if mb == 0 {
				mb = 65537
			}
			r := NewTCPReassembler(ms, mb)
			got := run(r, tt.segs)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("emitted %d messages, want %d", len(got), len(tt.want))
				for i, g := range got {
					t.Logf("got %d: key %d, %d bytes", i, g.key, len(g.msg))
				}
			}
			st := r.Stats()
			if st.Segments != uint64(len(tt.segs)) {
				t.Errorf("Segments = %d, want %d", st.Segments, len(tt.segs))
			}
			if st.Streams > ms {
				t.Errorf("Streams = %d > max %d", st.Streams, ms)
			}
			st.Segments, st.Streams = 0, 0
			if st != tt.stats {
				t.Errorf("stats\n got %+v\nwant %+v", st, tt.stats)
			}
		})
	}
}

func TestTCPReassemblerFlush(t *testing.T) {
	r := NewTCPReassembler(8, 65537)
	q, other := realTcpdumpQuery, realArkimeCNAME
	two := prefixed(q, other)
	qs := prefixed(q)
	var got []emitted
	emit := func(msg []byte) { got = append(got, emitted{0, string(msg)}) }
	r.Add(testKeys[0], 1, true, false, false, nil, emit)
	r.Add(testKeys[0], 2, false, false, false, two[:10], emit)
	r.Add(testKeys[0], 2+uint32(len(qs)), false, false, false, two[len(qs):], emit)
	if len(got) != 0 {
		t.Fatalf("emitted %d messages before the gap was given up", len(got))
	}
	var keys []StreamKey
	r.Flush(func(key StreamKey, msg []byte) {
		keys = append(keys, key)
		got = append(got, emitted{0, string(msg)})
	})
	if want := []emitted{{0, string(other)}}; !reflect.DeepEqual(got, want) || !reflect.DeepEqual(keys, testKeys[:1]) {
		t.Errorf("Flush emitted %d messages for %v", len(got), keys)
	}
	if st := r.Stats(); st.Streams != 0 || st.Gaps != 1 || st.DroppedBytes != 10 {
		t.Errorf("after Flush: %+v", st)
	}
}

// TestTCPReassemblerBufferBound feeds a stream that only ever grows a
// partial message and a window of held segments, and checks the buffers
// never exceed the documented bound.
func TestTCPReassemblerBufferBound(t *testing.T) {
	const maxBuf = 512
	r := NewTCPReassembler(4, maxBuf)
	emit := func([]byte) {}
	r.Add(testKeys[0], 0, true, false, false, nil, emit)
	r.Add(testKeys[0], 1, false, false, false, []byte{0x01, 0xf0}, emit) // a 496-byte message begins
	seq := uint32(3)
	for i := 0; i < 200; i++ {
		// every other 100-byte block is missing
		r.Add(testKeys[0], seq+100, false, false, false, bytes.Repeat([]byte{byte(i)}, 100), emit)
		seq += 200
		s := r.streams[testKeys[0]]
		if s == nil {
			t.Fatal("stream vanished")
		}
		if len(s.buf) > maxBuf || s.heldBytes > maxBuf || len(s.held) > maxPending {
			t.Fatalf("after %d segments: buf %d, held %d bytes in %d segments", i, len(s.buf), s.heldBytes, len(s.held))
		}
	}
}

// TestTCPSharedCapture: the real DNS-over-TCP capture gives exactly its
// query and its response.
func TestTCPSharedCapture(t *testing.T) {
	path := filepath.Join(decodetest.SharedDir(t), "pcap", "tcpdump_dns_tcp.pcap")
	msgs, st := port53Messages(t, path)
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2", len(msgs))
	}
	var got []string
	for _, c := range msgs {
		var m flow.DNSMessage
		if err := Parse(c.msg, &m); err != nil {
			t.Fatalf("frame %d: %v", c.frame, err)
		}
		got = append(got, fmt.Sprintf("frame %d id %#x response %v %s type %d answers %v ttl %d",
			c.frame, m.ID, m.Response, m.QName, m.QType, m.Answers, m.TTL))
	}
	want := []string{
		"frame 4 id 0x4319 response false www.tcpdump.org type 1 answers [] ttl 0",
		"frame 6 id 0x4319 response true www.tcpdump.org type 1 answers [{1 192.139.46.66} {1 198.199.88.104}] ttl 60",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
	if st.Messages != 2 || st.DroppedBytes != 0 || st.Retransmitted != 0 || st.Gaps != 0 || st.Resyncs != 0 {
		t.Errorf("stats %+v", st)
	}
}
