package dns

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/flow"
)

// Real messages (UDP payloads) from the shared captures. Expected fields were
// read off tshark's dissection of the same frames.
var (
	// tcpdump_dns_udp.pcap frame 2: www.tcpdump.org A, 2 answers, 2 NS, 5 additional (incl. OPT).
	realTcpdumpResponse = mustHex("593485000001000200020005037777770774637064756d70036f72670000010001c00c000100010000003c0004c08b2e42c00c000100010000003c0004c6c75868c0100002000100015180001203736e7308636f6f7065726978036e657400c01000020001000151800012036e69630973616e64656c6d616e02636100c06b000100010000012c0004d157f912c06b001c00010000012c00102607f0b0000f000000000000babef00dc04d0001000100001c200004616b850fc04d001c000100001c20001026003c0300000000f03c91fffe96e8ef0000291000000000000000")
	// tcpdump_dns_udp.pcap frame 1: the query, with an EDNS cookie.
	realTcpdumpQuery = mustHex("593401200001000000000001037777770774637064756d70036f72670000010001000029100000000000000c000a000842f5d00996f90b13")
	// arkime_dns-udp.pcap frame 2: CNAME then A, compressed names.
	realArkimeCNAME = mustHex("e03981800001000200040004037777770667697468756203636f6d0000010001c00c00050001000007bc0002c010c01000010001000000040004c01efc80c01000020001000001480014036e7333037031360664796e656374036e657400c01000020001000001480006036e7332c04ec01000020001000001480006036e7334c04ec01000020001000001480006036e7331c04ec06a0001000100000e1000040a025f0cc04a0001000100000e1000040a025f0cc08e0001000100000e1000040a025f0cc07c0001000100000e1000040a025f0c")
	// arkime_v6.pcap frame 2: ANY itojun.org: NS, NS, MX, MX, A, SOA.
	realItojunANY = mustHex("0006858000010006000200050669746f6a756e036f72670000ff0001c00c0002000100000e10001407636f636f6e75740669746f6a756e036f726700c00c0002000100000e10001a057469676572056869726f6f086f73686f6b756a69036f726700c00c000f000100000e100016000a07636f636f6e75740669746f6a756e036f726700c00c000f000100000e1000130014046b6977690669746f6a756e036f726700c00c0001000100000e100004d2a05f61c00c0006000100000e1000310669746f6a756e036f72670004726f6f740669746f6a756e036f7267000bea476800000e100000012c0036ee8000000e10c00c0002000100000e10001407636f636f6e75740669746f6a756e036f726700c00c0002000100000e10001a057469676572056869726f6f086f73686f6b756a69036f72670007636f636f6e7574c00c0001000100000e100004d2a05f61057469676572056869726f6f086f73686f6b756a69c0130001000100000e100004d29121f2046b697769c00c001c000100000e1000103ffe05010410000002c0dffffe47033ec173001c000100000e1000103ffe050104100100525400fffeda48bfc1730001000100000e100004d2a05f63")
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// dnsFields is the part of flow.DNSMessage that Parse owns.
type dnsFields struct {
	ID                   uint16
	Response             bool
	Opcode, Rcode, Flags uint8
	QName                string
	QType, QClass        uint16
	ANCount              uint16
	Answers              []flow.Answer
	TTL                  uint32
}

func fieldsOf(m *flow.DNSMessage) dnsFields {
	f := dnsFields{m.ID, m.Response, m.Opcode, m.Rcode, m.Flags, m.QName, m.QType, m.QClass, m.ANCount, nil, m.TTL}
	if len(m.Answers) > 0 {
		f.Answers = append([]flow.Answer(nil), m.Answers...)
	}
	return f
}

func TestParseRealMessages(t *testing.T) {
	tests := []struct {
		name string
		msg  []byte
		want dnsFields
	}{
		{"tcpdump query", realTcpdumpQuery, dnsFields{
			ID: 0x5934, Flags: flow.DNSFlagRD | flow.DNSFlagAD,
			QName: "www.tcpdump.org", QType: 1, QClass: 1,
		}},
		{"tcpdump response", realTcpdumpResponse, dnsFields{
			ID: 0x5934, Response: true, Flags: flow.DNSFlagAA | flow.DNSFlagRD,
			QName: "www.tcpdump.org", QType: 1, QClass: 1, ANCount: 2,
			Answers: []flow.Answer{{Type: TypeA, Data: "192.139.46.66"}, {Type: TypeA, Data: "198.199.88.104"}},
			TTL:     60,
		}},
		{"arkime CNAME chain", realArkimeCNAME, dnsFields{
			ID: 0xe039, Response: true, Flags: flow.DNSFlagRD | flow.DNSFlagRA,
			QName: "www.github.com", QType: 1, QClass: 1, ANCount: 2,
			Answers: []flow.Answer{{Type: TypeCNAME, Data: "github.com"}, {Type: TypeA, Data: "192.30.252.128"}},
			TTL:     4, // min(1980, 4)
		}},
		{"itojun ANY with MX and SOA", realItojunANY, dnsFields{
			ID: 6, Response: true, Flags: flow.DNSFlagAA | flow.DNSFlagRD | flow.DNSFlagRA,
			QName: "itojun.org", QType: 255, QClass: 1, ANCount: 6,
			Answers: []flow.Answer{
				{Type: TypeNS, Data: "coconut.itojun.org"},
				{Type: TypeNS, Data: "tiger.hiroo.oshokuji.org"},
				{Type: TypeMX, Data: "10 coconut.itojun.org"},
				{Type: TypeMX, Data: "20 kiwi.itojun.org"},
				{Type: TypeA, Data: "210.160.95.97"},
				{Type: TypeSOA, Data: "itojun.org root.itojun.org 199903080 3600 300 3600000 3600"},
			},
			TTL: 3600,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m flow.DNSMessage
			if err := Parse(tt.msg, &m); err != nil {
				t.Fatal(err)
			}
			if got := fieldsOf(&m); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestParseLeavesOtherFields checks Parse does not touch the fields that
// belong to the packet layer, and resets its own on reuse.
func TestParseLeavesOtherFields(t *testing.T) {
	m := flow.DNSMessage{TS: 7, Client: flow.AddrFrom4([4]byte{10, 0, 0, 1}), ClientPort: 1234, ServerPort: 53,
		Transport: flow.ProtoUDP, FrameLen: 99, Evidence: 3}
	keep := m
	if err := Parse(realTcpdumpResponse, &m); err != nil {
		t.Fatal(err)
	}
	backing := &m.Answers[:1][0]
	if err := Parse(realTcpdumpQuery, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Answers) != 0 || m.TTL != 0 || m.ANCount != 0 || m.Response {
		t.Errorf("fields of the previous message survived: %+v", fieldsOf(&m))
	}
	if err := Parse(realArkimeCNAME, &m); err != nil {
		t.Fatal(err)
	}
	if &m.Answers[0] != backing {
		t.Error("Answers backing array not reused")
	}
	m.ID, m.Response, m.Opcode, m.Rcode, m.Flags, m.QName, m.QType, m.QClass, m.ANCount, m.Answers, m.TTL =
		0, false, 0, 0, 0, "", 0, 0, 0, nil, 0
	if !reflect.DeepEqual(m, keep) {
		t.Errorf("packet fields changed:\n got %+v\nwant %+v", m, keep)
	}
}

// builder assembles crafted messages; every field is spelled out by its caller.
type builder struct{ b []byte }

func newMsg(id, flags, qd, an, ns, ar uint16) *builder {
	b := &builder{}
	return b.u16(id).u16(flags).u16(qd).u16(an).u16(ns).u16(ar)
}
func (b *builder) raw(p ...byte) *builder { b.b = append(b.b, p...); return b }
func (b *builder) u16(v uint16) *builder  { b.b = binary.BigEndian.AppendUint16(b.b, v); return b }
func (b *builder) u32(v uint32) *builder  { b.b = binary.BigEndian.AppendUint32(b.b, v); return b }

// labels writes length-prefixed labels, without the root label.
func (b *builder) labels(labels ...string) *builder {
	for _, l := range labels {
		b.b = append(b.b, byte(len(l)))
		b.b = append(b.b, l...)
	}
	return b
}

// name writes labels followed by the root label.
func (b *builder) name(labels ...string) *builder { return b.labels(labels...).raw(0) }

// question writes a question with the given labels, type A class IN.
func (b *builder) question(labels ...string) *builder { return b.name(labels...).u16(1).u16(1) }

// rr writes a record whose owner is a pointer to the question (offset 12).
func (b *builder) rr(typ uint16, ttl uint32, rdata []byte) *builder {
	return b.raw(0xc0, 12).u16(typ).u16(1).u32(ttl).u16(uint16(len(rdata))).raw(rdata...)
}

func (b *builder) len() int { return len(b.b) }

func wire(labels ...string) []byte { return (&builder{}).name(labels...).b }

func TestParseCrafted(t *testing.T) {
	l63 := strings.Repeat("a", 63)
	// 255-octet name: 3×(1+63) + (1+61) + root = 255.
	name255 := []string{l63, l63, l63, strings.Repeat("b", 61)}
	name256 := []string{l63, l63, l63, strings.Repeat("b", 62)}

	// A chain of pointers: the question name points at the last of n
	// pointers, each pointing at the one before, the first at "a".
	chain := func(n int) []byte {
		b := newMsg(1, 0, 1, 0, 0, 0)
		qpos := b.len()
		b.raw(0, 0).u16(1).u16(1) // placeholder pointer, patched below
		target := b.len()
		b.name("a")
		for i := 0; i < n; i++ {
			p := b.len()
			b.u16(0xc000 | uint16(target))
			target = p
		}
		binary.BigEndian.PutUint16(b.b[qpos:], 0xc000|uint16(target))
		return b.b
	}

	manyA := newMsg(9, 0x8180, 1, 70, 0, 0).question("x")
	var manyWant []flow.Answer
	for i := 0; i < 70; i++ {
		ttl := uint32(1000 - i) // smallest TTL on the last (70th) record, beyond the cap
		manyA.rr(TypeA, ttl, []byte{10, 0, 0, byte(i)})
		if i < MaxAnswers {
			manyWant = append(manyWant, flow.Answer{Type: TypeA, Data: "10.0.0." + strconv.Itoa(i)})
		}
	}

	tests := []struct {
		name    string
		msg     []byte
		wantErr string // exact text; "" for success
		is      error
		want    dnsFields
	}{
		// Hostile cases.
		{
			name:    "header short",
			msg:     newMsg(1, 0, 0, 0, 0, 0).b[:11],
			wantErr: "dns offset 0: header: 11 bytes, need 12: truncated",
			is:      decode.ErrTruncated,
		},
		{
			name:    "compression pointer to itself",
			msg:     newMsg(1, 0, 1, 0, 0, 0).raw(0xc0, 12).u16(1).u16(1).b,
			wantErr: "dns offset 12: question 1: too many compression pointers (more than 126)",
			is:      ErrPointerLoop,
			want:    dnsFields{ID: 1},
		},
		{
			name:    "two pointers pointing at each other",
			msg:     newMsg(1, 0, 1, 0, 0, 0).raw(0xc0, 14, 0xc0, 12).u16(1).u16(1).b,
			wantErr: "dns offset 12: question 1: too many compression pointers (more than 126)",
			is:      ErrPointerLoop,
			want:    dnsFields{ID: 1},
		},
		{
			name: "pointer chain of 127 hops",
			// 126 chained pointers + the question's own: the 127th hop is
			// the chain's first pointer, at offset 21 (after "a" at 18).
			msg:     chain(126),
			wantErr: "dns offset 21: question 1: too many compression pointers (more than 126)",
			is:      ErrPointerLoop,
			want:    dnsFields{ID: 1},
		},
		{
			name: "pointer chain of 126 hops (control)",
			msg:  chain(125),
			want: dnsFields{ID: 1, QName: "a", QType: 1, QClass: 1},
		},
		{
			name:    "label of 64 (extended label type 0x40)",
			msg:     newMsg(1, 0, 1, 0, 0, 0).raw(64).raw([]byte(strings.Repeat("a", 64))...).raw(0).u16(1).u16(1).b,
			wantErr: "dns offset 12: question 1: reserved label type 0x40",
			is:      ErrLabelType,
			want:    dnsFields{ID: 1},
		},
		{
			name:    "reserved label type 0x80",
			msg:     newMsg(1, 0, 1, 0, 0, 0).raw(3, 'w', 'w', 'w', 0x80, 0).u16(1).u16(1).b,
			wantErr: "dns offset 16: question 1: reserved label type 0x80",
			is:      ErrLabelType,
			want:    dnsFields{ID: 1},
		},
		{
			name: "label of 63 (control)",
			msg:  newMsg(1, 0, 1, 0, 0, 0).question(l63).b,
			want: dnsFields{ID: 1, QName: l63, QType: 1, QClass: 1},
		},
		{
			name:    "name of 256 octets",
			msg:     newMsg(1, 0, 1, 0, 0, 0).question(name256...).b,
			wantErr: "dns offset 204: question 1: name longer than 255 octets (256 octets at label)",
			is:      ErrNameTooLong,
			want:    dnsFields{ID: 1},
		},
		{
			name: "name of 255 octets (control)",
			msg:  newMsg(1, 0, 1, 0, 0, 0).question(name255...).b,
			want: dnsFields{ID: 1, QName: strings.Join(name255, "."), QType: 1, QClass: 1},
		},
		{
			// The last label is reached through a pointer: the limit counts
			// the name as decoded, not the bytes in place.
			name: "name of 256 octets through a pointer",
			msg: func() []byte {
				b := newMsg(1, 0, 1, 0, 0, 0)
				b.labels(l63, l63, l63).raw(0xc0, 0)
				b.u16(1).u16(1)
				binary.BigEndian.PutUint16(b.b[12+3*64:], 0xc000|uint16(b.len()))
				b.name(strings.Repeat("b", 62))
				return b.b
			}(),
			wantErr: "dns offset 210: question 1: name longer than 255 octets (256 octets at label)",
			is:      ErrNameTooLong,
			want:    dnsFields{ID: 1},
		},
		{
			name: "name of 255 octets through a pointer (control)",
			msg: func() []byte {
				b := newMsg(1, 0, 1, 0, 0, 0)
				b.labels(l63, l63, l63).raw(0xc0, 0)
				b.u16(1).u16(1)
				binary.BigEndian.PutUint16(b.b[12+3*64:], 0xc000|uint16(b.len()))
				b.name(strings.Repeat("b", 61))
				return b.b
			}(),
			want: dnsFields{ID: 1, QName: strings.Join(name255, "."), QType: 1, QClass: 1},
		},
		{
			name:    "ANCOUNT 65535 with no data",
			msg:     newMsg(2, 0x8180, 1, 65535, 0, 0).question("example", "com").b,
			wantErr: "dns offset 29: answer 1: name runs past the end of the message: truncated",
			is:      decode.ErrTruncated,
			want:    dnsFields{ID: 2, Response: true, Flags: flow.DNSFlagRD | flow.DNSFlagRA, QName: "example.com", QType: 1, QClass: 1, ANCount: 65535},
		},
		{
			name:    "QDCOUNT 65535 with one question",
			msg:     newMsg(2, 0, 65535, 0, 0, 0).question("example", "com").b,
			wantErr: "dns offset 29: question 2: name runs past the end of the message: truncated",
			is:      decode.ErrTruncated,
			want:    dnsFields{ID: 2, QName: "example.com", QType: 1, QClass: 1},
		},
		{
			name:    "RDLENGTH past the end keeps the answer before it",
			msg:     newMsg(3, 0x8180, 1, 2, 0, 0).question("example", "com").rr(TypeA, 300, []byte{1, 2, 3, 4}).raw(0xc0, 12).u16(TypeA).u16(1).u32(60).u16(100).raw(5, 6, 7, 8).b,
			wantErr: "dns offset 55: answer 2: rdlength 100 exceeds the 4 bytes left: truncated",
			is:      decode.ErrTruncated,
			want: dnsFields{ID: 3, Response: true, Flags: flow.DNSFlagRD | flow.DNSFlagRA, QName: "example.com", QType: 1, QClass: 1, ANCount: 2,
				Answers: []flow.Answer{{Type: TypeA, Data: "1.2.3.4"}}, TTL: 300},
		},
		{
			name:    "truncated after the question name",
			msg:     newMsg(4, 0, 1, 0, 0, 0).name("example", "com").b,
			wantErr: "dns offset 25: question 1: type and class need 4 bytes, 0 left: truncated",
			is:      decode.ErrTruncated,
			want:    dnsFields{ID: 4, QName: "example.com"},
		},
		{
			name:    "truncated inside a label",
			msg:     newMsg(4, 0, 1, 0, 0, 0).raw(7, 'e', 'x', 'a').b,
			wantErr: "dns offset 12: question 1: label of 7 bytes, 3 left: truncated",
			is:      decode.ErrTruncated,
			want:    dnsFields{ID: 4},
		},
		{
			name:    "pointer past the end of the message",
			msg:     newMsg(5, 0, 1, 0, 0, 0).raw(0xc0, 0xff).u16(1).u16(1).b,
			wantErr: "dns offset 12: question 1: compression pointer past the end of the message: 255, message is 18 bytes",
			is:      ErrBadPointer,
			want:    dnsFields{ID: 5},
		},
		{
			name:    "pointer cut in half",
			msg:     newMsg(5, 0, 1, 0, 0, 0).raw(0xc0).b,
			wantErr: "dns offset 12: question 1: compression pointer needs 2 bytes, 1 left: truncated",
			is:      decode.ErrTruncated,
			want:    dnsFields{ID: 5},
		},
		{
			name:    "answer owner with reserved label type",
			msg:     newMsg(6, 0x8000, 1, 1, 0, 0).question("x").raw(0x41, 0).u16(TypeA).u16(1).u32(1).u16(4).raw(1, 2, 3, 4).b,
			wantErr: "dns offset 19: answer 1: reserved label type 0x41",
			is:      ErrLabelType,
			want:    dnsFields{ID: 6, Response: true, QName: "x", QType: 1, QClass: 1, ANCount: 1},
		},
		{
			name:    "A with rdlength 5",
			msg:     newMsg(7, 0x8000, 1, 1, 0, 0).question("x").rr(TypeA, 1, []byte{1, 2, 3, 4, 5}).b,
			wantErr: "dns offset 31: answer 1 rdata: malformed rdata: A rdlength 5, want 4",
			is:      ErrBadRData,
			want:    dnsFields{ID: 7, Response: true, QName: "x", QType: 1, QClass: 1, ANCount: 1},
		},
		{
			name:    "AAAA with rdlength 4",
			msg:     newMsg(7, 0x8000, 1, 1, 0, 0).question("x").rr(TypeAAAA, 1, []byte{1, 2, 3, 4}).b,
			wantErr: "dns offset 31: answer 1 rdata: malformed rdata: AAAA rdlength 4, want 16",
			is:      ErrBadRData,
			want:    dnsFields{ID: 7, Response: true, QName: "x", QType: 1, QClass: 1, ANCount: 1},
		},
		{
			name:    "CNAME name runs past its rdlength",
			msg:     newMsg(8, 0x8000, 1, 1, 0, 0).question("x").rr(TypeCNAME, 1, []byte{3, 'a', 'b'}).raw('c', 0).b,
			wantErr: "dns offset 31: answer 1 rdata: label of 3 bytes, 2 left: truncated",
			is:      decode.ErrTruncated,
			want:    dnsFields{ID: 8, Response: true, QName: "x", QType: 1, QClass: 1, ANCount: 1},
		},
		{
			name:    "CNAME root label outside its rdlength",
			msg:     newMsg(8, 0x8000, 1, 1, 0, 0).question("x").rr(TypeCNAME, 1, []byte{1, 'a'}).raw(0).b,
			wantErr: "dns offset 33: answer 1 rdata: name runs past the end of its rdata: truncated",
			is:      decode.ErrTruncated,
			want:    dnsFields{ID: 8, Response: true, QName: "x", QType: 1, QClass: 1, ANCount: 1},
		},
		{
			name:    "TXT string longer than its rdata",
			msg:     newMsg(8, 0x8000, 1, 1, 0, 0).question("x").rr(TypeTXT, 1, []byte{2, 'o', 'k', 9, 'a'}).b,
			wantErr: "dns offset 34: answer 1 rdata: malformed rdata: TXT string of 9 bytes, 1 left in rdata",
			is:      ErrBadRData,
			want:    dnsFields{ID: 8, Response: true, QName: "x", QType: 1, QClass: 1, ANCount: 1},
		},
		{
			name:    "SOA without its timers",
			msg:     newMsg(8, 0x8000, 1, 1, 0, 0).question("x").rr(TypeSOA, 1, append(wire("ns"), append(wire("root"), 0, 0, 0, 1)...)).b,
			wantErr: "dns offset 41: answer 1 rdata: malformed rdata: SOA needs 20 bytes of serial and timers, 4 left",
			is:      ErrBadRData,
			want:    dnsFields{ID: 8, Response: true, QName: "x", QType: 1, QClass: 1, ANCount: 1},
		},
		{
			name:    "authority record past the end",
			msg:     newMsg(9, 0x8000, 1, 1, 1, 0).question("x").rr(TypeA, 5, []byte{9, 9, 9, 9}).raw(0xc0, 12, 0, 2).b,
			wantErr: "dns offset 37: authority 1: type, class, ttl and rdlength need 10 bytes, 2 left: truncated",
			is:      decode.ErrTruncated,
			want: dnsFields{ID: 9, Response: true, QName: "x", QType: 1, QClass: 1, ANCount: 1,
				Answers: []flow.Answer{{Type: TypeA, Data: "9.9.9.9"}}, TTL: 5},
		},

		// Negative controls and presentation rules.
		{
			name: "no question",
			msg:  newMsg(10, 0x8000, 0, 0, 0, 0).b,
			want: dnsFields{ID: 10, Response: true},
		},
		{
			name: "root query is a dot",
			msg:  newMsg(10, 0, 1, 0, 0, 0).raw(0).u16(2).u16(1).b,
			want: dnsFields{ID: 10, QName: ".", QType: 2, QClass: 1},
		},
		{
			name: "dot and backslash inside labels are escaped, other bytes raw",
			msg:  newMsg(11, 0, 1, 0, 0, 0).question("a.b", `c\d`, "e f\x00\x1b\xff").b,
			want: dnsFields{ID: 11, QName: `a\.b.c\\d.e f` + "\x00\x1b\xff", QType: 1, QClass: 1},
		},
		{
			name: "second question skipped, first kept",
			msg:  newMsg(12, 0, 2, 0, 0, 0).question("first").raw(0xc0, 12).u16(28).u16(1).b,
			want: dnsFields{ID: 12, QName: "first", QType: 1, QClass: 1},
		},
		{
			name: "forward compression pointer is accepted",
			msg:  newMsg(13, 0, 1, 0, 0, 0).raw(0xc0, 18).u16(1).u16(1).name("later", "org").b,
			want: dnsFields{ID: 13, QName: "later.org", QType: 1, QClass: 1},
		},
		{
			name: "answers beyond the cap are walked and their TTL counted",
			msg:  manyA.b,
			want: dnsFields{ID: 9, Response: true, Flags: flow.DNSFlagRD | flow.DNSFlagRA, QName: "x", QType: 1, QClass: 1, ANCount: 70,
				Answers: manyWant, TTL: 931},
		},
		{
			name: "every rendered type, opcode and rcode",
			msg: newMsg(14, 0x8000|2<<11|0x0400|0x0200|0x0020|0x0010|3, 1, 9, 0, 0).question("x").
				rr(TypeAAAA, 50, mustHex("00000000000000000000ffff01020304")).
				rr(TypeAAAA, 40, mustHex("20010db8000000000000000000000001")).
				rr(TypeMX, 30, append([]byte{0, 0}, 0)).
				rr(TypePTR, 20, []byte{0xc0, 12}).
				rr(TypeNS, 10, wire("ns1", "example")).
				rr(TypeTXT, 9, append([]byte{0, 6, '"', '\\', 'a', 0x7f, 0x09, 0xe9}, append([]byte{3}, "b c"...)...)).
				rr(TypeTXT, 8, nil).
				rr(33, 7, []byte{0, 1, 0, 2, 0, 3, 0}).
				rr(TypeSOA, 6, append(append(wire(), 0xc0, 12), append([]byte{0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff}, 0xee)...)).b,
			want: dnsFields{ID: 14, Response: true, Opcode: 2, Rcode: 3,
				Flags: flow.DNSFlagAA | flow.DNSFlagTC | flow.DNSFlagAD | flow.DNSFlagCD,
				QName: "x", QType: 1, QClass: 1, ANCount: 9,
				Answers: []flow.Answer{
					{Type: TypeAAAA, Data: "::ffff:1.2.3.4"},
					{Type: TypeAAAA, Data: "2001:db8::1"},
					{Type: TypeMX, Data: "0 ."},
					{Type: TypePTR, Data: "x"},
					{Type: TypeNS, Data: "ns1.example"},
					{Type: TypeTXT, Data: `"" "\"\\a\127\009\233" "b c"`},
					{Type: TypeTXT, Data: ""},
					{Type: 33, Data: ""},
					{Type: TypeSOA, Data: ". x 1 2 3 4 4294967295"},
				},
				TTL: 6},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m flow.DNSMessage
			start := time.Now()
			err := Parse(tt.msg, &m)
			if d := time.Since(start); d > time.Second {
				t.Errorf("Parse took %v", d)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
			} else {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error\n got %v\nwant %s", err, tt.wantErr)
				}
				if !errors.Is(err, tt.is) {
					t.Errorf("error %v is not %v", err, tt.is)
				}
				var de *Error
				if !errors.As(err, &de) {
					t.Errorf("error %T is not *Error", err)
				}
			}
			if got := fieldsOf(&m); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
