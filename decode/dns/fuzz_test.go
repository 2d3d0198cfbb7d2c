package dns

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/decodetest"
	"github.com/spotctl/spotctl/decode/flow"
)

// sharedSeeds returns real DNS messages from the shared captures when they
// are present (fuzzing must not skip when they are not).
func sharedSeeds(f *testing.F) [][]byte {
	dir := filepath.Join(filepath.Dir(decodetest.RepoRoot(f)), "shared", "testdata", "pcap")
	if _, err := os.Stat(dir); err != nil {
		return nil
	}
	var out [][]byte
	for _, name := range []string{"tcpdump_dns_udp.pcap", "arkime_v6.pcap", "zeek_dns53.pcap", "ndpi_dns-google-nsid.pcapng", "zeek_wikipedia.pcap", "zeek_var-services-std-ports.pcap"} {
		msgs, _ := port53Messages(f, filepath.Join(dir, name))
		for _, m := range msgs {
			out = append(out, m.msg)
		}
	}
	return out
}

func FuzzParse(f *testing.F) {
	for _, m := range [][]byte{realTcpdumpQuery, realTcpdumpResponse, realArkimeCNAME, realItojunANY,
		newMsg(1, 0, 1, 0, 0, 0).raw(0xc0, 12).u16(1).u16(1).b,
		newMsg(1, 0, 1, 0, 0, 0).raw(0xc0, 14, 0xc0, 12).u16(1).u16(1).b,
		newMsg(2, 0x8180, 1, 65535, 0, 0).question("example", "com").b,
	} {
		f.Add(m)
	}
	for _, m := range sharedSeeds(f) {
		f.Add(m)
	}
	sentinels := []error{decode.ErrTruncated, ErrLabelType, ErrNameTooLong, ErrPointerLoop, ErrBadPointer, ErrBadRData}
	f.Fuzz(func(t *testing.T, msg []byte) {
		var m flow.DNSMessage
		err := Parse(msg, &m)
		got := fieldsOf(&m)
		if err != nil {
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if de.Offset < 0 || de.Offset > len(msg) {
				t.Fatalf("error offset %d outside the %d-byte message", de.Offset, len(msg))
			}
			known := false
			for _, s := range sentinels {
				known = known || errors.Is(err, s)
			}
			if !known {
				t.Fatalf("error %v wraps no known sentinel", err)
			}
		}
		if len(m.Answers) > MaxAnswers || len(m.Answers) > int(m.ANCount) {
			t.Fatalf("%d answers kept, ANCount %d", len(m.Answers), m.ANCount)
		}
		if m.ANCount == 0 && (m.TTL != 0 || len(m.Answers) != 0) {
			t.Fatalf("TTL %d and %d answers with ANCOUNT 0", m.TTL, len(m.Answers))
		}
		if m.QName == "" && len(msg) >= headerLen && binary.BigEndian.Uint16(msg[4:]) != 0 && err == nil {
			t.Fatal("a question was announced and decoded but QName is empty")
		}

		// Reusing a dirty message gives the same result.
		dirty := flow.DNSMessage{QName: "stale", TTL: 9, Answers: []flow.Answer{{Type: 1, Data: "x"}, {Type: 2, Data: "y"}}}
		err2 := Parse(msg, &dirty)
		if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("errors differ on reuse: %v vs %v", err, err2)
		}
		if got2 := fieldsOf(&dirty); !reflect.DeepEqual(got, got2) {
			t.Fatalf("reuse changed the result:\n%+v\n%+v", got, got2)
		}

		// Bytes after a well-formed message are ignored.
		if err == nil {
			var m3 flow.DNSMessage
			if err := Parse(append(bytes.Clone(msg), 0xc0, 0xff, 0x41), &m3); err != nil {
				t.Fatalf("trailing bytes broke a good message: %v", err)
			}
			if got3 := fieldsOf(&m3); !reflect.DeepEqual(got, got3) {
				t.Fatalf("trailing bytes changed the result:\n%+v\n%+v", got, got3)
			}
		}
	})
}

// frameStream is the reference framing of an in-order byte stream.
func frameStream(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= 2 {
		n := 2 + int(binary.BigEndian.Uint16(b))
		if len(b) < n {
			break
		}
		out = append(out, b[2:n])
		b = b[n:]
	}
	return out
}

// FuzzTCPReassembler checks two things. (1) Oracle: a stream fed from its
// SYN, cut into segments of fuzzed sizes with fuzzed retransmissions
// (overlapping earlier bytes) and pairwise reordering, yields exactly the
// messages of the stream framed directly. (2) Chaos: arbitrary segments on a
// few keys with arbitrary flags and sequence numbers never break the memory
// bounds.
func FuzzTCPReassembler(f *testing.F) {
	f.Add(prefixed(realTcpdumpQuery, realTcpdumpResponse), []byte{3, 0x80, 20, 0x40, 7, 200, 1})
	f.Add(prefixed(realArkimeCNAME), []byte{0x41, 0x42, 0x43, 0xff})
	f.Add([]byte{0, 0, 0, 1, 9, 0xff, 0xff}, []byte{1, 1, 1, 1})
	f.Fuzz(func(t *testing.T, stream, ops []byte) {
		if len(ops) == 0 {
			ops = []byte{0}
		}
		want := frameStream(stream)

		// (1) Oracle run.
		type chunk struct {
			off int
			b   []byte
		}
		var chunks []chunk
		for off, i := 0, 0; off < len(stream); i++ {
			op := ops[i%len(ops)]
			n := min(int(op&0x3f)+1, len(stream)-off)
			if op&0x80 != 0 && off > 0 { // retransmit: resend from up to 8 bytes back
				back := min(off, int(op&7)+1)
				chunks = append(chunks, chunk{off - back, stream[off-back : off+n]})
			} else {
				chunks = append(chunks, chunk{off, stream[off : off+n]})
			}
			off += n
		}
		for i := 0; i+1 < len(chunks); i++ { // swap neighbours where the op says so
			if ops[i%len(ops)]&0x40 != 0 {
				chunks[i], chunks[i+1] = chunks[i+1], chunks[i]
				i++
			}
		}
		r := NewTCPReassembler(4, 65537)
		var got [][]byte
		emit := func(m []byte) { got = append(got, bytes.Clone(m)) }
		const isn = 0xfffffff0 // exercise wrap-around
		r.Add(testKeys[0], isn, true, false, false, nil, emit)
		for _, c := range chunks {
			r.Add(testKeys[0], isn+1+uint32(c.off), false, false, false, c.b, emit)
		}
		if len(got) != len(want) {
			t.Fatalf("emitted %d messages, stream holds %d", len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("message %d differs", i)
			}
		}

		// (2) Chaos run.
		const maxStreams, maxBuf = 3, 64
		r = NewTCPReassembler(maxStreams, maxBuf)
		emit = func(m []byte) {
			if len(m) > 65535 {
				t.Fatalf("emitted %d bytes", len(m))
			}
		}
		for i := 0; i+3 < len(ops); i += 4 {
			key := testKeys[int(ops[i])%len(testKeys)]
			seq := uint32(ops[i+1])<<8 | uint32(ops[i+2])
			fl := ops[i+3]
			off := int(ops[i+1]) % (len(stream) + 1)
			end := min(len(stream), off+int(ops[i+2]))
			r.Add(key, seq, fl&1 != 0, fl&2 != 0, fl&4 != 0, stream[off:end], emit)
			if len(r.streams) > maxStreams {
				t.Fatalf("%d streams", len(r.streams))
			}
			for _, s := range r.streams {
				if len(s.buf) > maxBuf || s.heldBytes > maxBuf || len(s.held) > maxPending || cap(s.buf) > 2*maxBuf {
					t.Fatalf("stream over its bounds: buf %d (cap %d), held %d bytes in %d segments", len(s.buf), cap(s.buf), s.heldBytes, len(s.held))
				}
			}
		}
		r.Flush(func(StreamKey, []byte) {})
		if st := r.Stats(); st.Streams != 0 {
			t.Fatalf("%d streams after Flush", st.Streams)
		}
	})
}
