package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/spotctl/spotctl/decode"
)

var (
	le = binary.LittleEndian
	be = binary.BigEndian
)

type got struct {
	TS       int64
	LinkType uint16
	Data     []byte
	WireLen  uint32
	Offset   int64
}

// errAt describes an expected error: its offset, a piece of its message and
// whether it ends the file.
type errAt struct {
	Offset int64
	Text   string
	Fatal  bool
}

// result is everything a reader produced from one input, in order.
type result struct {
	Format    string
	LinkTypes []uint16
	Packets   []got
	Errors    []errAt // every error, the final fatal one included
	Raw       []error // the same errors as returned
	CleanEOF  bool
}

// readAll drains a reader, checking the invariants every input must keep:
// Next terminates, a fatal error repeats, Data has no spare capacity,
// offsets grow.
func readAll(tb testing.TB, content []byte) (result, error) {
	tb.Helper()
	r, err := NewReader(bytes.NewReader(content), "t.cap")
	if err != nil {
		return result{}, err
	}
	var res result
	res.Format = r.Format()
	lastOff := int64(-1)
	for range len(content) + 2 {
		p, err := r.Next()
		if err == io.EOF {
			res.CleanEOF = true
			if r.Offset() != int64(len(content)) {
				tb.Errorf("clean EOF at Offset()=%d, content has %d bytes", r.Offset(), len(content))
			}
			res.LinkTypes = r.LinkTypes()
			return res, nil
		}
		if err != nil {
			var de *decode.Error
			if !errors.As(err, &de) {
				tb.Fatalf("error %v (%T) is not a *decode.Error", err, err)
			}
			if de.File != "t.cap" {
				tb.Errorf("error names file %q", de.File)
			}
			fatal := errors.Is(err, ErrFatal)
			res.Errors = append(res.Errors, errAt{de.Offset, de.Err.Error(), fatal})
			res.Raw = append(res.Raw, err)
			if fatal {
				if _, again := r.Next(); again != err {
					tb.Errorf("after fatal %v, Next returned %v", err, again)
				}
				res.LinkTypes = r.LinkTypes()
				return res, nil
			}
			continue
		}
		if cap(p.Data) != len(p.Data) {
			tb.Errorf("packet at %d: Data has spare capacity %d > %d", p.Offset, cap(p.Data), len(p.Data))
		}
		if p.Offset <= lastOff {
			tb.Errorf("packet offset %d after %d", p.Offset, lastOff)
		}
		lastOff = p.Offset
		res.Packets = append(res.Packets, got{p.TS, p.LinkType, bytes.Clone(p.Data), p.WireLen, p.Offset})
	}
	tb.Fatalf("reader did not end within %d calls", len(content)+2)
	return res, nil
}

func checkResult(t *testing.T, res, want result) {
	t.Helper()
	if res.Format != want.Format {
		t.Errorf("Format = %q, want %q", res.Format, want.Format)
	}
	if want.LinkTypes != nil && !slices.Equal(res.LinkTypes, want.LinkTypes) {
		t.Errorf("LinkTypes = %v, want %v", res.LinkTypes, want.LinkTypes)
	}
	if len(res.Packets) != len(want.Packets) {
		t.Errorf("got %d packets, want %d", len(res.Packets), len(want.Packets))
	}
	for i := range min(len(res.Packets), len(want.Packets)) {
		g, w := res.Packets[i], want.Packets[i]
		if g.TS != w.TS || g.LinkType != w.LinkType || g.WireLen != w.WireLen || g.Offset != w.Offset || !bytes.Equal(g.Data, w.Data) {
			t.Errorf("packet %d:\n got  ts=%d lt=%d wire=%d off=%d len=%d\n want ts=%d lt=%d wire=%d off=%d len=%d",
				i, g.TS, g.LinkType, g.WireLen, g.Offset, len(g.Data), w.TS, w.LinkType, w.WireLen, w.Offset, len(w.Data))
		}
	}
	if len(res.Errors) != len(want.Errors) {
		t.Errorf("got errors %+v, want %+v", res.Errors, want.Errors)
	} else {
		for i, g := range res.Errors {
			w := want.Errors[i]
			if g.Offset != w.Offset || g.Fatal != w.Fatal || !strings.Contains(g.Text, w.Text) {
				t.Errorf("error %d = %+v, want %+v", i, g, w)
			}
		}
	}
	if res.CleanEOF != want.CleanEOF {
		t.Errorf("clean EOF = %v, want %v", res.CleanEOF, want.CleanEOF)
	}
}

func TestClassicCrafted(t *testing.T) {
	d60 := pattern(60, 7)
	const s1 = 1700000000
	type tc struct {
		name    string
		content []byte
		want    result
	}
	cases := []tc{
		{"little-endian µs", classicFile(le, magicMicro, 65535, 1, okRec(s1, 123456, 60), okRec(s1+1, 999999, 20)),
			result{Format: "pcap", LinkTypes: []uint16{1}, CleanEOF: true, Packets: []got{
				{s1*1e9 + 123456000, 1, nil, 60, 24},
				{(s1+1)*1e9 + 999999000, 1, nil, 20, 24 + 16 + 60},
			}}},
		{"big-endian µs", classicFile(be, magicMicro, 65535, 1, okRec(s1, 5, 60)),
			result{Format: "pcap", LinkTypes: []uint16{1}, CleanEOF: true, Packets: []got{{s1*1e9 + 5000, 1, nil, 60, 24}}}},
		{"little-endian ns", classicFile(le, magicNano, 65535, 101, okRec(s1, 999999999, 20)),
			result{Format: "pcap-ns", LinkTypes: []uint16{101}, CleanEOF: true, Packets: []got{{s1*1e9 + 999999999, 101, nil, 20, 24}}}},
		{"big-endian ns", classicFile(be, magicNano, 65535, 1, okRec(s1, 1, 20)),
			result{Format: "pcap-ns", LinkTypes: []uint16{1}, CleanEOF: true, Packets: []got{{s1*1e9 + 1, 1, nil, 20, 24}}}},
		{"largest seconds and fraction do not overflow", classicFile(le, magicMicro, 65535, 1, okRec(math.MaxUint32, math.MaxUint32, 0)),
			result{Format: "pcap", LinkTypes: []uint16{1}, CleanEOF: true, Packets: []got{{math.MaxUint32*1e9 + math.MaxUint32*1e3, 1, nil, 0, 24}}}},
		{"FCS bits above the link type are ignored", classicFile(le, magicMicro, 65535, 0xF4000000|105, okRec(s1, 0, 20)),
			result{Format: "pcap", LinkTypes: []uint16{105}, CleanEOF: true, Packets: []got{{s1 * 1e9, 105, nil, 20, 24}}}},
		{"header only", classicFile(le, magicMicro, 65535, 1), result{Format: "pcap", LinkTypes: []uint16{1}, CleanEOF: true}},
		{"caplen above wirelen is tolerated", classicFile(le, magicMicro, 65535, 1, rec{s1, 0, 60, 20, d60}),
			result{Format: "pcap", LinkTypes: []uint16{1}, CleanEOF: true, Packets: []got{{s1 * 1e9, 1, nil, 20, 24}}}},
		{"caplen 2^32-1 is corrupt", classicFile(le, magicMicro, 65535, 1, okRec(s1, 0, 20), rec{s1, 0, math.MaxUint32, 60, d60}),
			result{Format: "pcap", LinkTypes: []uint16{1}, Packets: []got{{s1 * 1e9, 1, nil, 20, 24}},
				Errors: []errAt{{24 + 16 + 20, "captured length 4294967295 exceeds the limit 262144 (file snap length 65535)", true}}}},
		{"caplen above snaplen but within 262144 is accepted", classicFile(le, magicMicro, 96, 1, okRec(s1, 0, 1500)),
			result{Format: "pcap", LinkTypes: []uint16{1}, CleanEOF: true, Packets: []got{{s1 * 1e9, 1, nil, 1500, 24}}}},
		{"caplen 262145 with small snaplen is corrupt", classicFile(le, magicMicro, 65535, 1, rec{s1, 0, 262145, 262145, nil}),
			result{Format: "pcap", LinkTypes: []uint16{1}, Errors: []errAt{{24, "captured length 262145 exceeds the limit 262144", true}}}},
		{"caplen within a large snaplen is accepted", classicFile(le, magicMicro, 1<<20, 1, okRec(s1, 0, 300000)),
			result{Format: "pcap", LinkTypes: []uint16{1}, CleanEOF: true, Packets: []got{{s1 * 1e9, 1, nil, 300000, 24}}}},
		{"caplen above 16 MiB is corrupt whatever the snaplen", classicFile(le, magicMicro, math.MaxUint32, 1, rec{s1, 0, MaxCaplen + 1, 0, nil}),
			result{Format: "pcap", LinkTypes: []uint16{1}, Errors: []errAt{{24, "captured length 16777217 exceeds the limit 16777216", true}}}},
		{"record data cut short", classicFile(le, magicMicro, 65535, 1, okRec(s1, 0, 20), rec{s1, 0, 60, 60, d60[:10]}),
			result{Format: "pcap", LinkTypes: []uint16{1}, Packets: []got{{s1 * 1e9, 1, nil, 20, 24}},
				Errors: []errAt{{60, "record: truncated: content ends 26 bytes into 76", true}}}},
		{"record header cut short", append(classicFile(le, magicMicro, 65535, 1, okRec(s1, 0, 20)), 1, 2, 3),
			result{Format: "pcap", LinkTypes: []uint16{1}, Packets: []got{{s1 * 1e9, 1, nil, 20, 24}},
				Errors: []errAt{{60, "record header: truncated: content ends 3 bytes into 16", true}}}},
	}
	// Expected data is read from the crafted bytes (kept out of the table
	// for readability).
	for i := range cases {
		for j := range cases[i].want.Packets {
			p := &cases[i].want.Packets[j]
			p.Data = dataAt(cases[i].content, p.Offset)
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := readAll(t, c.content)
			if err != nil {
				t.Fatalf("NewReader: %v", err)
			}
			checkResult(t, res, c.want)
		})
	}
}

// dataAt returns the captured bytes of the classic record at off, taken
// independently of the reader.
func dataAt(content []byte, off int64) []byte {
	bo := binary.ByteOrder(le)
	if be.Uint32(content) == magicMicro || be.Uint32(content) == magicNano {
		bo = be
	}
	n := int64(bo.Uint32(content[off+8:]))
	return content[off+16 : off+16+n]
}

func TestNewReaderRejects(t *testing.T) {
	pcapHdr := classicFile(le, magicMicro, 65535, 1)
	cases := []struct {
		name    string
		content []byte
		is      error  // sentinel the error must wrap
		text    string // piece of the message
	}{
		{"empty", nil, decode.ErrNotEvidence, "0 bytes, too short"},
		{"three bytes", []byte{0xd4, 0xc3, 0xb2}, decode.ErrNotEvidence, "3 bytes, too short"},
		{"PNG", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), decode.ErrNotEvidence, "magic 0x89504e47 is neither"},
		{"text", []byte("hello, world\n"), decode.ErrNotEvidence, "neither pcap nor pcapng"},
		{"pcapng magic, bad byte order", []byte("\n\r\r\n\x1c\x00\x00\x00abcdefghijklmnop"), decode.ErrNotEvidence, "byte-order magic is 0x61626364"},
		{"pcap header cut short", pcapHdr[:10], decode.ErrTruncated, "file header: truncated: content ends 10 bytes into 24"},
		{"pcapng header cut short", newNG(le).b[:20], decode.ErrTruncated, "section header block: truncated"},
		{"pcapng header too short", (&ng{bo: le}).rawBlock(blockSHB, 24, le.AppendUint32(le.AppendUint32(nil, byteOrderMagic), 1), 24).b, ErrFatal, "total length 24 outside 28"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(c.content), "t.cap")
			if err == nil {
				t.Fatalf("NewReader accepted it (format %s)", r.Format())
			}
			if !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.text) || !strings.HasPrefix(err.Error(), "t.cap: ") {
				t.Errorf("err = %v; want it to wrap %v and contain %q", err, c.is, c.text)
			}
		})
	}
}

func TestPcapngCrafted(t *testing.T) {
	const s1 = 1700000000
	d1, d2, d3 := pattern(61, 1), pattern(64, 2), pattern(3, 3)
	us := uint64(s1)*1e6 + 250000 // default resolution: microseconds
	nsWant := int64(s1)*1e9 + 250000000

	type tc struct {
		name    string
		content []byte
		want    result
	}
	var cases []tc
	add := func(name string, g *ng, want result) {
		want.Format = "pcapng"
		cases = append(cases, tc{name, g.b, want})
	}

	// Offsets below are computed from block sizes: SHB 28, IDB without
	// options 20, EPB 32 + padded data.
	add("little-endian, default µs", newNG(le).idb(1, 65535).epb(0, us, d1).epb(0, us+1, d2),
		result{LinkTypes: []uint16{1}, CleanEOF: true, Packets: []got{
			{nsWant, 1, d1, 61, 48}, {nsWant + 1000, 1, d2, 64, 48 + 32 + 64},
		}})
	add("big-endian", newNG(be).idb(101, 0).epb(0, us, d1),
		result{LinkTypes: []uint16{101}, CleanEOF: true, Packets: []got{{nsWant, 101, d1, 61, 48}}})
	{
		// Two sections of different byte order: interface ids restart, so
		// id 1 is unknown in the second section.
		g := newNG(le).idb(1, 0).idb(113, 0).epb(1, us, d1)
		off2 := int64(len(g.b))
		g.shb(be, 1, 0).idb(101, 0).epb(0, us, d2)
		off3 := int64(len(g.b))
		g.epb(1, us, d3).epb(0, us+2, d3)
		add("two sections, opposite byte orders", g, result{LinkTypes: []uint16{1, 101, 113}, CleanEOF: true,
			Packets: []got{{nsWant, 113, d1, 61, 68}, {nsWant, 101, d2, 64, off2 + 48}, {nsWant + 2000, 101, d3, 3, off3 + 36}},
			Errors:  []errAt{{off3, "enhanced packet block on interface 1, but the section has described 1 interfaces", false}}})
	}
	{
		g := newNG(le)
		g.idb(1, 0, g.tsresol(9))
		add("if_tsresol 10^-9", g.epb(0, uint64(s1)*1e9+123456789, d1),
			result{LinkTypes: []uint16{1}, CleanEOF: true, Packets: []got{{s1*1e9 + 123456789, 1, d1, 61, 60}}})
	}
	{
		g := newNG(be)
		g.idb(1, 0, g.tsresol(0x80|20))
		// 2^-20 s units: s1 seconds and half a second.
		add("if_tsresol 2^-20", g.epb(0, uint64(s1)<<20|1<<19, d1),
			result{LinkTypes: []uint16{1}, CleanEOF: true, Packets: []got{{s1*1e9 + 500000000, 1, d1, 61, 60}}})
	}
	{
		g := newNG(le)
		g.idb(1, 0, g.tsresol(3), g.tsoffset(-3600))
		add("if_tsresol 10^-3 with if_tsoffset", g.epb(0, uint64(s1)*1e3+7, d1),
			result{LinkTypes: []uint16{1}, CleanEOF: true, Packets: []got{{(s1-3600)*1e9 + 7e6, 1, d1, 61, 72}}})
	}
	{
		g := newNG(le)
		g.idb(1, 0, g.tsresol(12))
		// 10^7 s in picoseconds still fits 64 bits; the sub-ns part is cut.
		add("if_tsresol 10^-12 divides", g.epb(0, 1e7*1e12+999, d1),
			result{LinkTypes: []uint16{1}, CleanEOF: true, Packets: []got{{1e7 * 1e9, 1, d1, 61, 60}}})
	}
	{
		// 10^-3 units: 2^64-1 ms does not fit int64 ns. The block is
		// reported and the next one is read.
		g := newNG(le)
		g.idb(1, 0, g.tsresol(3)).epb(0, math.MaxUint64, d1)
		add("timestamp overflow keeps sync", g.epb(0, 5, d3),
			result{LinkTypes: []uint16{1}, CleanEOF: true, Packets: []got{{5e6, 1, d3, 3, 60 + 96}},
				Errors: []errAt{{60, "timestamp 18446744073709551615 units of 10^-3 s (offset 0 s) on interface 0 does not fit", false}}})
	}
	{
		g := newNG(le)
		g.idb(1, 0, g.tsoffset(math.MaxInt64)).epb(0, 0, d3)
		add("if_tsoffset overflow", g, result{LinkTypes: []uint16{1}, CleanEOF: true,
			Errors: []errAt{{64, "offset 9223372036854775807 s", false}}})
	}
	{
		g := newNG(le)
		g.idb(1, 0, g.tsresol(0x80|0)).epb(0, math.MaxUint64, d3)
		g.idb(1, 0, g.tsresol(0x80|127)).epb(1, math.MaxUint64, d3)
		add("2^-0 overflows, 2^-127 is tiny", g, result{LinkTypes: []uint16{1}, CleanEOF: true,
			Packets: []got{{0, 1, d3, 3, 28 + 32 + 36 + 32}},
			Errors:  []errAt{{60, "units of 2^-0 s", false}}})
	}
	{
		// The SPB takes the last timestamp seen and is cut to the snap
		// length; the first one has no timestamp yet.
		g := newNG(le).idb(1, 40).spb(61, d1)
		off := int64(len(g.b))
		g.epb(0, us, d3)
		off2 := int64(len(g.b))
		g.spb(2, d3)
		add("simple packet blocks", g, result{LinkTypes: []uint16{1}, CleanEOF: true, Packets: []got{
			{0, 1, d1[:40], 61, 48}, {nsWant, 1, d3, 3, off}, {nsWant, 1, d3[:2], 2, off2},
		}})
	}
	add("simple packet block before any interface", newNG(le).spb(3, d3).idb(1, 0).spb(3, d3),
		result{LinkTypes: []uint16{1}, CleanEOF: true, Packets: []got{{0, 1, d3, 3, 28 + 20 + 20}},
			Errors: []errAt{{28, "simple packet block before any interface description", false}}})
	add("obsolete packet block", newNG(be).idb(1, 0).idb(6, 0).pb(1, us, d2),
		result{LinkTypes: []uint16{1, 6}, CleanEOF: true, Packets: []got{{nsWant, 6, d2, 64, 68}}})
	{
		g := newNG(le).idb(1, 0)
		g.block(4, []byte{1, 0, 4, 0, 10, 0, 0, 1, 'h', 0, 0, 0, 0, 0, 0, 0}) // NRB
		g.block(5, make([]byte, 12))                                          // ISB
		g.block(0xA, make([]byte, 40))                                        // DSB
		g.block(0xBAD, make([]byte, 8))                                       // custom
		g.block(0x80000001, nil)                                              // local use
		off := int64(len(g.b))
		add("other blocks are skipped", g.epb(0, us, d1),
			result{LinkTypes: []uint16{1}, CleanEOF: true, Packets: []got{{nsWant, 1, d1, 61, off}}})
	}
	{
		// Length not a multiple of 4, confirmed by the trailer at that
		// length: accepted. Then one whose writer left the padding out of
		// the count.
		g := newNG(le).idb(1, 0)
		g.rawBlock(0x80000002, 15, []byte{1, 2, 3}, 15)
		g.rawBlock(0x80000003, 15, []byte{1, 2, 3, 0}, 15)
		off := int64(len(g.b))
		add("unaligned lengths confirmed by the trailer", g.epb(0, us, d3),
			result{LinkTypes: []uint16{1}, CleanEOF: true, Packets: []got{{nsWant, 1, d3, 3, off}}})
	}
	{
		g := newNG(le).idb(1, 0).epb(0, us, d3)
		g.b = append(g.b, []byte{1, 2, 3, 4, 5}...)
		add("block header cut short", g, result{LinkTypes: []uint16{1}, Packets: []got{{nsWant, 1, d3, 3, 48}},
			Errors: []errAt{{48 + 36, "block header: truncated: content ends 5 bytes into 8", true}}})
	}
	{
		g := newNG(le).idb(1, 0).epb(0, us, d3)
		g.rawBlock(blockEPB, 1<<20, g.epbBody(0, us, 3, 3, d3), 1<<20)
		add("leading length beyond the end", g, result{LinkTypes: []uint16{1}, Packets: []got{{nsWant, 1, d3, 3, 48}},
			Errors: []errAt{{84, "enhanced packet block: truncated: content ends 35 bytes into 1048576", true}}})
	}
	{
		g := newNG(le).idb(1, 0)
		g.rawBlock(blockEPB, 36, g.epbBody(0, us, 3, 3, pad4(d3)), 40).epb(0, us, d3)
		add("trailer differs from the leading length", g, result{LinkTypes: []uint16{1},
			Errors: []errAt{{48, "corrupt enhanced packet block: trailing length 40 differs from leading length 36", true}}})
	}
	{
		g := newNG(le).idb(1, 0)
		g.rawBlock(5, 24, make([]byte, 12), 20).epb(0, us, d3)
		add("skipped block with a lying trailer", g, result{LinkTypes: []uint16{1},
			Errors: []errAt{{48, "corrupt block of type 0x00000005: trailing length 20 differs from leading length 24", true}}})
	}
	{
		g := newNG(le).idb(1, 0)
		g.rawBlock(blockEPB, 8, nil, 8)
		add("block length below 12", g, result{LinkTypes: []uint16{1},
			Errors: []errAt{{48, "total length 8 outside 12..67108864", true}}})
	}
	{
		g := newNG(le).idb(1, 0)
		g.rawBlock(blockEPB, MaxBlockLen+4, nil, 0)
		add("block length above 64 MiB", g, result{LinkTypes: []uint16{1},
			Errors: []errAt{{48, "total length 67108868 outside", true}}})
	}
	{
		g := newNG(le).idb(1, 0)
		g.block(blockEPB, g.epbBody(0, us, 200, 200, d1))
		add("captured length overruns its block", g.epb(0, us, d3), result{LinkTypes: []uint16{1}, CleanEOF: true,
			Packets: []got{{nsWant, 1, d3, 3, 48 + 96}},
			Errors:  []errAt{{48, "enhanced packet block: captured length 200 overruns the block (64 bytes left)", false}}})
	}
	add("packet block too short", newNG(le).idb(1, 0).block(blockEPB, make([]byte, 16)).epb(0, us, d3),
		result{LinkTypes: []uint16{1}, CleanEOF: true, Packets: []got{{nsWant, 1, d3, 3, 48 + 28}},
			Errors: []errAt{{48, "enhanced packet block body is 16 bytes, need 20", false}}})
	{
		// Unsupported version: the section is skipped, its interfaces
		// and packets with it; the next section is read.
		g := newNG(le).idb(1, 0).epb(0, us, d3)
		off := int64(len(g.b))
		g.shb(le, 2, 0).idb(6, 0).epb(0, us, d1)
		off2 := int64(len(g.b))
		g.shb(be, 1, 2).idb(101, 0).epb(0, us, d2)
		add("unsupported section version is skipped", g, result{LinkTypes: []uint16{1, 101}, CleanEOF: true,
			Packets: []got{{nsWant, 1, d3, 3, 48}, {nsWant, 101, d2, 64, off2 + 48}},
			Errors:  []errAt{{off, "pcapng section version 2.0 is not supported", false}}})
	}
	{
		g := new(ng).shb(le, 3, 0).idb(1, 0).epb(0, us, d3)
		off := int64(len(g.b))
		g.shb(le, 1, 0).idb(1, 0).epb(0, us, d3)
		add("unsupported first section", g, result{LinkTypes: []uint16{1}, CleanEOF: true,
			Packets: []got{{nsWant, 1, d3, 3, off + 48}},
			Errors:  []errAt{{0, "pcapng section version 3.0 is not supported", false}}})
	}
	{
		// A wrongly sized if_tsresol is reported and ignored (µs stays);
		// the interface is still usable.
		g := newNG(le)
		g.idb(1, 0, opt{optTSResol, []byte{9, 9}})
		add("malformed option", g.epb(0, us, d3), result{LinkTypes: []uint16{1}, CleanEOF: true,
			Packets: []got{{nsWant, 1, d3, 3, 28 + 32}},
			Errors:  []errAt{{28, "interface 0: if_tsresol has length 2, want 1: ignored", false}}})
	}
	{
		g := newNG(le)
		g.block(blockIDB, append(g.options(nil), 1, 0, 0, 0, 0, 0, 0, 0, optTSResol, 0, 200, 0))
		add("option overruns its block", g.epb(0, us, d3), result{LinkTypes: []uint16{1}, CleanEOF: true,
			Packets: []got{{nsWant, 1, d3, 3, 28 + 24}},
			Errors:  []errAt{{28, "interface 0: option 9: length 200 overruns the block", false}}})
	}
	{
		g := newNG(le).block(blockIDB, []byte{1, 0, 0, 0}).idb(113, 0).epb(0, us, d3)
		off := int64(len(g.b))
		g.epb(1, us, d3)
		add("interface block too short keeps numbering", g, result{LinkTypes: []uint16{113}, CleanEOF: true,
			Packets: []got{{nsWant, 113, d3, 3, off}},
			Errors: []errAt{{28, "interface 0: description block body is 4 bytes, need 8", false},
				{28 + 16 + 20, "packet on interface 0: its description block is too short", false}}})
	}
	add("section header with a bad byte-order magic mid-file",
		newNG(le).idb(1, 0).rawBlock(blockSHB, 28, make([]byte, 16), 28),
		result{LinkTypes: []uint16{1}, Errors: []errAt{{48, "corrupt section header: byte-order magic 0x00000000", true}}})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := readAll(t, c.content)
			if err != nil {
				t.Fatalf("NewReader: %v", err)
			}
			checkResult(t, res, c.want)
		})
	}
}

// TestHugeCaplenAllocatesNothing: a record header claiming 4 GiB must be
// rejected before any buffer is sized from it, and a short file claiming a
// large pcapng block must not make the reader allocate that much.
func TestHugeLengthsAllocateLittle(t *testing.T) {
	classic := classicFile(le, magicMicro, math.MaxUint32, 1, rec{1, 0, math.MaxUint32, math.MaxUint32, nil})
	g := newNG(le).idb(1, 0)
	g.rawBlock(blockEPB, MaxBlockLen, make([]byte, 100), 0)
	for name, content := range map[string][]byte{"classic": classic, "pcapng": g.b} {
		t.Run(name, func(t *testing.T) {
			var fatal error
			allocs := testing.AllocsPerRun(5, func() {
				r, err := NewReader(bytes.NewReader(content), "t.cap")
				if err != nil {
					t.Fatal(err)
				}
				_, fatal = r.Next()
			})
			if !errors.Is(fatal, ErrFatal) {
				t.Fatalf("Next = %v, want a fatal error", fatal)
			}
			if allocs > 20 {
				t.Errorf("%.0f allocations", allocs)
			}
			// Bytes, not just allocation count: the initial buffer plus
			// little more.
			var before, after runtimeMem
			before.read()
			r, _ := NewReader(bytes.NewReader(content), "t.cap")
			_, _ = r.Next()
			after.read()
			if d := after.total - before.total; d > 2*initialBuf {
				t.Errorf("allocated %d bytes for a %d-byte input", d, len(content))
			}
		})
	}
}

func TestLinkTypesIsACopy(t *testing.T) {
	r, err := NewReader(bytes.NewReader(classicFile(le, magicMicro, 0, 1)), "t")
	if err != nil {
		t.Fatal(err)
	}
	lt := r.LinkTypes()
	lt[0] = 99
	if r.LinkTypes()[0] != 1 {
		t.Error("LinkTypes exposes internal state")
	}
}

// failingReader delivers some bytes, then an error other than EOF (as a
// corrupt gzip stream does).
type failingReader struct {
	b   []byte
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.b) == 0 {
		return 0, f.err
	}
	n := copy(p, f.b)
	f.b = f.b[n:]
	return n, nil
}

// emptyReader returns (0, nil) forever.
type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

func TestSourceFailures(t *testing.T) {
	boom := errors.New("flate: corrupt input before offset 99")
	content := classicFile(le, magicMicro, 65535, 1, okRec(1, 0, 20), okRec(2, 0, 20))
	r, err := NewReader(&failingReader{content[:70], boom}, "t.cap.gz")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatalf("first packet: %v", err)
	}
	_, err = r.Next()
	var de *decode.Error
	if !errors.As(err, &de) || !errors.Is(err, boom) || !errors.Is(err, ErrFatal) || de.Offset != 60 {
		t.Errorf("err = %v, want the source error at offset 60", err)
	}

	if _, err := NewReader(&failingReader{nil, boom}, "t"); !errors.Is(err, boom) {
		t.Errorf("NewReader on a failing source: %v", err)
	}
	if _, err := NewReader(emptyReader{}, "t"); !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("NewReader on a stalled source: %v", err)
	}
}

type runtimeMem struct{ total uint64 }

func (m *runtimeMem) read() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.total = ms.TotalAlloc
}
