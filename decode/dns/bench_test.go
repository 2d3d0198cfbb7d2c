package dns

import (
	"testing"

	"github.com/spotctl/spotctl/decode/flow"
)

// typicalResponse is a resolver's answer to www.example.com A: a CNAME and
// two addresses, compressed names, an OPT record in the additional section.
func typicalResponse() []byte {
	b := newMsg(0x1234, 0x8180, 1, 3, 0, 1).question("www", "example", "com")
	cname := b.len() + 12 // where the CNAME's rdata (a name) starts
	b.rr(TypeCNAME, 300, append((&builder{}).labels("www", "example", "com", "edgekey").b, 3, 'n', 'e', 't', 0))
	b.raw(0xc0|byte(cname>>8), byte(cname)).u16(TypeA).u16(1).u32(20).u16(4).raw(93, 184, 216, 34)
	b.raw(0xc0|byte(cname>>8), byte(cname)).u16(TypeA).u16(1).u32(20).u16(4).raw(93, 184, 216, 35)
	b.raw(0).u16(TypeOPT).u16(1232).u32(0).u16(0)
	return b.b
}

func TestTypicalResponse(t *testing.T) {
	var m flow.DNSMessage
	if err := Parse(typicalResponse(), &m); err != nil {
		t.Fatal(err)
	}
	want := []flow.Answer{{Type: TypeCNAME, Data: "www.example.com.edgekey.net"}, {Type: TypeA, Data: "93.184.216.34"}, {Type: TypeA, Data: "93.184.216.35"}}
	if m.QName != "www.example.com" || len(m.Answers) != 3 || m.Answers[0] != want[0] || m.Answers[1] != want[1] || m.Answers[2] != want[2] || m.TTL != 20 {
		t.Fatalf("%+v", m)
	}
	msg := typicalResponse()
	if n := testing.AllocsPerRun(100, func() { _ = Parse(msg, &m) }); n > 2 {
		t.Errorf("Parse allocates %v times, want ≤ 2 (QName and the answers' text)", n)
	}
}

func BenchmarkParse(b *testing.B) {
	msg := typicalResponse()
	var m flow.DNSMessage
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if err := Parse(msg, &m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseQuery(b *testing.B) {
	msg := realTcpdumpQuery
	var m flow.DNSMessage
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if err := Parse(msg, &m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTCPReassembler: one length-prefixed message per segment on an
// established stream (the common case), emitted without copying.
func BenchmarkTCPReassembler(b *testing.B) {
	seg := prefixed(typicalResponse())
	r := NewTCPReassembler(1024, 65537)
	n := 0
	emit := func([]byte) { n++ }
	r.Add(testKeys[1], 0, true, false, false, nil, emit)
	seq := uint32(1)
	b.ReportAllocs()
	b.SetBytes(int64(len(seg)))
	for b.Loop() {
		r.Add(testKeys[1], seq, false, false, false, seg, emit)
		seq += uint32(len(seg))
	}
	if n == 0 {
		b.Fatal("nothing emitted")
	}
}
