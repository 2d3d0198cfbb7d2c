package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/flow"
)

// testPcap builds a little-endian µs pcap of Ethernet frames and records
// the offset of each record.
type testPcap struct {
	buf     bytes.Buffer
	offsets []int64
}

func newTestPcap() *testPcap {
	p := &testPcap{}
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 65535)
	binary.LittleEndian.PutUint32(h[20:], 1)
	p.buf.Write(h)
	return p
}

// ipv4 appends an Ethernet frame holding one IPv4 packet (or fragment:
// fragOff in bytes, more fragments flag) with payload as its data.
func (p *testPcap) ipv4(src, dst byte, proto uint8, id uint16, fragOff int, more bool, payload []byte) {
	ip := make([]byte, 20)
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+len(payload)))
	binary.BigEndian.PutUint16(ip[4:], id)
	ff := uint16(fragOff / 8)
	if more {
		ff |= 0x2000
	}
	binary.BigEndian.PutUint16(ip[6:], ff)
	ip[8], ip[9] = 64, proto
	copy(ip[12:], []byte{192, 0, 2, src})
	copy(ip[16:], []byte{192, 0, 2, dst})
	frame := append(make([]byte, 12), 0x08, 0x00)
	frame = append(append(frame, ip...), payload...)
	rec := make([]byte, 16)
	n := len(p.offsets)
	binary.LittleEndian.PutUint32(rec[0:], uint32(1772409600+n))
	binary.LittleEndian.PutUint32(rec[8:], uint32(len(frame)))
	binary.LittleEndian.PutUint32(rec[12:], uint32(len(frame)))
	p.offsets = append(p.offsets, int64(p.buf.Len()))
	p.buf.Write(rec)
	p.buf.Write(frame)
}

func udp(sp, dp uint16, payload []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, sp)
	b = binary.BigEndian.AppendUint16(b, dp)
	b = binary.BigEndian.AppendUint16(b, uint16(8+len(payload)))
	return append(append(b, 0, 0), payload...)
}

// dnsQuery is a well-formed query for a.example.
func dnsQuery(id uint16) []byte {
	b := []byte{byte(id >> 8), byte(id), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}
	b = append(b, 1, 'a', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0)
	return append(b, 0, 1, 0, 1)
}

func readProblems(t *testing.T, opts Options, pc *testPcap, onErr decode.ErrorFunc) (FileStats, []flow.DNSMessage, uint64, error) {
	t.Helper()
	var msgs []flow.DNSMessage
	var packets uint64
	p := New(opts, func(r *flow.Record) { packets += r.Packets }, func(m *flow.DNSMessage) {
		c := *m
		c.Answers = nil
		msgs = append(msgs, c)
	})
	st, err := p.ReadFile(bytes.NewReader(pc.buf.Bytes()), "x.pcap", 0, onErr)
	p.Flush()
	return st, msgs, packets, err
}

// A port-53 payload that is not well-formed DNS is a note naming the file
// and the packet's record offset; what decoded is kept, and a payload too
// short for a header is not.
func TestMalformedDNSIsANote(t *testing.T) {
	pc := newTestPcap()
	pc.ipv4(10, 53, 17, 1, 0, false, udp(40000, 53, dnsQuery(1)))
	loop := []byte{0, 2, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1} // question name points at itself
	pc.ipv4(10, 53, 17, 2, 0, false, udp(40001, 53, loop))
	pc.ipv4(10, 53, 17, 3, 0, false, udp(40002, 53, []byte("hello")))
	var errs []*decode.Error
	st, msgs, _, err := readProblems(t, DefaultOptions(), pc, func(e *decode.Error) error {
		errs = append(errs, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.DNSMalformed != 2 || st.DNSMessages != 2 || len(msgs) != 2 {
		t.Fatalf("stats %+v, %d messages", st, len(msgs))
	}
	want := []struct {
		off  int64
		text string
	}{
		{pc.offsets[1], "x.pcap: offset 109: malformed DNS message (UDP 192.0.2.10:40001 → 192.0.2.53:53, kept as far as it decoded): dns offset 12: question 1: too many compression pointers (more than 126)"},
		{pc.offsets[2], "x.pcap: offset 185: malformed DNS message (UDP 192.0.2.10:40002 → 192.0.2.53:53, not kept): dns offset 0: header: 5 bytes, need 12: truncated"},
	}
	if len(errs) != len(want) {
		t.Fatalf("%d problems reported, want %d: %v", len(errs), len(want), errs)
	}
	for i, w := range want {
		e := errs[i]
		if e.Offset != w.off || e.Error() != w.text || e.Severity != decode.Note || e.KindName() != KindMalformedDNS {
			t.Errorf("problem %d: %q (offset %d, %v, kind %q), want %q at %d, a note of kind %q", i, e.Error(), e.Offset, e.Severity, e.KindName(), w.text, w.off, KindMalformedDNS)
		}
	}
}

// A flood of fragments of distinct datagrams fills the tracker: each
// eviction is a warning at the packet that found the tracker full, and
// every packet is still counted in a flow.
func TestFragmentFloodWarns(t *testing.T) {
	pc := newTestPcap()
	const n = 10
	for i := 0; i < n; i++ {
		pc.ipv4(10, 20, 17, uint16(100+i), 8, true, make([]byte, 16)) // middle fragments: never complete
	}
	opts := DefaultOptions()
	opts.Assemble.MaxFragments = 4
	var errs []*decode.Error
	st, _, packets, err := readProblems(t, opts, pc, func(e *decode.Error) error {
		errs = append(errs, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if packets != n || st.FragmentProblems != n-4 || len(errs) != n-4 {
		t.Fatalf("%d packets in flows, stats %+v, %d problems", packets, st, len(errs))
	}
	for i, e := range errs {
		if e.Offset != pc.offsets[4+i] || e.Severity != decode.Warning || e.KindName() != "fragment tracker full" ||
			!strings.Contains(e.Error(), "gave up on IPv4 datagram 192.0.2.10 → 192.0.2.20 id ") {
			t.Errorf("problem %d: %q at %d (%v)", i, e.Error(), e.Offset, e.Severity)
		}
	}
}

// An ErrorFunc that returns an error (--strict) stops the file at the
// packet whose problem it was given.
func TestProblemStopsRead(t *testing.T) {
	pc := newTestPcap()
	pc.ipv4(10, 53, 17, 1, 0, false, udp(40000, 53, []byte("no")))
	pc.ipv4(10, 53, 17, 2, 0, false, udp(40000, 53, dnsQuery(2)))
	stop := errors.New("stop")
	st, msgs, _, err := readProblems(t, DefaultOptions(), pc, func(e *decode.Error) error { return stop })
	if !errors.Is(err, stop) || st.Frames != 1 || len(msgs) != 0 {
		t.Fatalf("err %v, %d frames read, %d messages", err, st.Frames, len(msgs))
	}
}

// Without a DNS consumer (ingest --netflow only) port-53 payloads are not
// parsed, so they are not reported either.
func TestNoDNSNoNotes(t *testing.T) {
	pc := newTestPcap()
	pc.ipv4(10, 53, 17, 1, 0, false, udp(40000, 53, []byte("no")))
	p := New(DefaultOptions(), func(*flow.Record) {}, nil)
	st, err := p.ReadFile(bytes.NewReader(pc.buf.Bytes()), "x.pcap", 0, func(e *decode.Error) error {
		t.Errorf("reported %v", e)
		return nil
	})
	if err != nil || st.DNSMalformed != 0 || st.DNSMessages != 0 || st.IPPackets != 1 {
		t.Fatalf("err %v, stats %+v", err, st)
	}
}
