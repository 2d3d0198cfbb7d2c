package nfcapd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pierrec/lz4/v4"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/decodetest"
	"github.com/spotctl/spotctl/decode/flow"
)

func addr(s string) flow.Addr { return flow.AddrFromNetip(netip.MustParseAddr(s)) }

func TestDetect(t *testing.T) {
	tests := []struct {
		head   string
		format string
	}{
		{"\x0c\xa5\x01\x00", FormatV1},
		{"\x0c\xa5\x02\x00\x00\x01\x07\xf1", FormatV2},
		{"\x0c\xa5\x03\x00", FormatV3},
		{"\xa5\x0c\x00\x02", FormatBigEndian},
		{"\xa5\x0c\x00\x01", FormatBigEndian},
		{"\x0c\xa5\x04\x00", ""},
		{"\x0c\xa5\x00\x00", ""},
		{"\x0c\xa5\x01", ""},
		{"\xd4\xc3\xb2\xa1", ""},
		{"", ""},
	}
	for _, tt := range tests {
		format, ok := Detect([]byte(tt.head))
		if format != tt.format || ok != (tt.format != "") {
			t.Errorf("Detect(%q) = %q, %v; want %q", tt.head, format, ok, tt.format)
		}
	}
}

func TestDetectShared(t *testing.T) {
	for _, f := range sharedNfcapdFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want := FormatV2
		if strings.Contains(f, "chrispassas_nfcapd-") {
			want = FormatV1
		}
		if got, ok := Detect(b[:8]); !ok || got != want {
			t.Errorf("%s: Detect = %q, %v; want %q", filepath.Base(f), got, ok, want)
		}
	}
}

// TestHeaderErrors: files that cannot be read at all give an error and no
// records.
func TestHeaderErrors(t *testing.T) {
	good := v2File(compNone, 1)
	enc := append([]byte{}, good...)
	enc[17] = 1
	comp := append([]byte{}, good...)
	comp[16] = 9
	lzma := v1File(0x20, "x", 0)
	tests := []struct {
		name string
		data []byte
		want error
		text string
	}{
		{"empty", nil, decode.ErrNotEvidence, "empty file"},
		{"short", []byte{0x0c}, decode.ErrTruncated, "file header"},
		{"not nfcapd", []byte("ts,te,td,sa,da\n"), decode.ErrNotEvidence, "no nfcapd magic"},
		{"layout 3", []byte{0x0c, 0xa5, 3, 0, 0, 0, 0, 0}, ErrUnsupported, "nfdump 1.8 layout"},
		{"big-endian", []byte{0xa5, 0x0c, 0, 2, 0, 0, 0, 0}, ErrUnsupported, "big-endian"},
		{"v1 header cut", v1File(0, "x", 0)[:200], decode.ErrTruncated, "nfdump 1.6 file header"},
		{"v2 header cut", good[:30], decode.ErrTruncated, "nfdump 1.7 file header"},
		{"encrypted", enc, ErrUnsupported, "encrypted"},
		{"unknown compression", comp, ErrUnsupported, "compression method 9"},
		{"lzma", lzma, ErrUnsupported, "LZMA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, st, errs, err := readFrom(bytes.NewReader(tt.data), "f")
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err %v, want %v containing %q", err, tt.want, tt.text)
			}
			var de *decode.Error
			if !errors.As(err, &de) || de.File != "f" || de.Offset < 0 {
				t.Fatalf("error %#v is not a located decode.Error", err)
			}
			if len(recs) != 0 || len(errs) != 0 || st.Flows != 0 {
				t.Fatalf("records %d, problems %v", len(recs), errs)
			}
		})
	}
}

// flowRecs returns n small V3 flow records.
func flowRecs(n int, base uint64) [][]byte {
	var out [][]byte
	for i := 0; i < n; i++ {
		out = append(out, v3Rec(1, 0, 10,
			genericElem(generic{first: base + uint64(i), last: base + uint64(i) + 5, pkts: uint64(i + 1), bytes: 100, sp: 1000, dp: 53, proto: 17}),
			ipv4Elem("10.0.0.1", "10.0.0.2")))
	}
	return out
}

// TestCorruption: one row per way a file breaks. Each row says how many
// flows survive, and the problem's offset and text.
func TestCorruption(t *testing.T) {
	b1 := blk{typ: blockMixed, recs: append([][]byte{exporterRec(10, "192.0.2.1", 1, 7)}, flowRecs(3, 1_700_000_000_000)...)}
	b2 := blk{typ: blockMixed, recs: flowRecs(2, 1_700_000_100_000)}
	good := v2File(compNone, 1, b1, b2)
	b1Off := int64(headerV2Size)
	b2Off := b1Off + blockHdrSize + int64(len(cat(b1.recs...)))
	rec0 := b1Off + blockHdrSize + int64(len(b1.recs[0])) // first flow record
	recLen := int64(len(b1.recs[1]))

	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte{}, good...)) }
	lz := func(p []byte) []byte {
		dst := make([]byte, lz4.CompressBlockBound(len(p)))
		n, err := lz4.CompressBlock(p, dst, nil)
		if err != nil {
			t.Fatal(err)
		}
		return dst[:n]
	}
	p1, _ := b1.payload()
	p2, _ := b2.payload()
	badLZ := lz(p1)
	badLZ[len(badLZ)/2] ^= 0xff
	badLZ = badLZ[:len(badLZ)-3]

	tests := []struct {
		name   string
		data   []byte
		flows  int
		offset int64 // of the single problem; -2 means none
		text   string
	}{
		{"sound", good, 5, -2, ""},
		{"cut in block header", good[:b2Off+5], 3, b2Off, "block 1 header: 5 of 12 bytes: truncated"},
		{"cut in block payload", good[:rec0+recLen+10], 1, b1Off, "block 0: 118 of 260 payload bytes: truncated"},
		{"block too large", mutate(func(b []byte) []byte { le.PutUint32(b[b2Off+4:], MaxBlockSize+1); return b }), 3, b2Off, "exceeds the 5242880-byte limit"},
		{"record size 0", mutate(func(b []byte) []byte { le.PutUint16(b[rec0+2:], 0); return b }), 2, rec0, "block 0, record 1: corrupt nfcapd data: record type 11 has size 0"},
		{"record beyond block", mutate(func(b []byte) []byte { le.PutUint16(b[rec0+2:], 4000); return b }), 2, rec0, "size 4000 exceeds the 228 bytes left"},
		{"fewer records than declared", mutate(func(b []byte) []byte { le.PutUint32(b[b1Off:], 9); return b }), 5, b1Off + blockHdrSize + int64(len(p1)), "block declares 9 records, data ends after 4"},
		{"element length 0", mutate(func(b []byte) []byte { le.PutUint16(b[rec0+12+2:], 0); return b }), 4, rec0, "element 0 (type 1) length 0 does not fit"},
		{"element past record", mutate(func(b []byte) []byte { le.PutUint16(b[rec0+12+2:], 200); return b }), 4, rec0, "length 200 does not fit the 64 bytes left"},
		{"more elements than bytes", mutate(func(b []byte) []byte { le.PutUint16(b[rec0+4:], 3); return b }), 4, rec0, "declares 3 elements, element 2 starts past its end"},
		{"short generic element", mutate(func(b []byte) []byte {
			// Shrink the generic element by 8 and pad it into the next.
			le.PutUint16(b[rec0+12+2:], 4+40)
			le.PutUint16(b[rec0+12+44:], exGeneric)
			le.PutUint16(b[rec0+12+46:], 8)
			le.PutUint16(b[rec0+4:], 3)
			return b
		}), 4, rec0, "element type 1 has 40 payload bytes, want at least 48"},
		{"record shorter than V3 header", mutate(func(b []byte) []byte {
			// Turn the first flow into an 8-byte V3 record followed by an
			// unknown record filling the rest.
			le.PutUint16(b[rec0+2:], 8)
			le.PutUint16(b[rec0+8:], 999)
			le.PutUint16(b[rec0+10:], uint16(recLen-8))
			le.PutUint32(b[b1Off:], 5)
			return b
		}), 4, rec0, "V3 record of 8 bytes, below its 12-byte header"},
		{"corrupt LZ4 block", v2File(compLZ4, 1, blk{typ: blockMixed, raw: badLZ, n: 4}, blk{typ: blockMixed, raw: lz(p2), n: 2}), 2, b1Off, "block 0: lz4 decompression"},
		{"uncompressed block in LZ4 file", v2File(compLZ4, 1, blk{typ: blockMixed, flags: flagBlockUncompressed, recs: b1.recs}, blk{typ: blockMixed, raw: lz(p2), n: 2}), 5, -2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, st, errs, err := readFrom(bytes.NewReader(tt.data), "evidence.nfcapd")
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if len(recs) != tt.flows || st.Flows != uint64(tt.flows) {
				t.Errorf("%d flows (stats %d), want %d", len(recs), st.Flows, tt.flows)
			}
			if tt.offset == -2 {
				if len(errs) != 0 {
					t.Fatalf("problems %v", errs)
				}
				return
			}
			if len(errs) != 1 {
				t.Fatalf("problems %v, want exactly one", errs)
			}
			e := errs[0]
			if e.File != "evidence.nfcapd" || e.Offset != tt.offset || !strings.Contains(e.Error(), tt.text) {
				t.Fatalf("problem %q at %d, want offset %d and %q", e.Error(), e.Offset, tt.offset, tt.text)
			}
			if st.Errors != 1 {
				t.Errorf("stats count %d errors", st.Errors)
			}
			// Whatever survives is a prefix-in-order of the sound file's flows.
			for _, r := range recs {
				// (The exporter record sits in block 0; where that block
				// was lost, block 1's flows have no exporter.)
				withExp := r.Exporter == addr("192.0.2.1") && r.ObsDomain == 7
				noExp := r.Exporter == flow.Addr{} && r.ObsDomain == 0
				if r.Proto != 17 || r.Src != addr("10.0.0.1") || !(withExp || noExp) {
					t.Fatalf("damaged record emitted: %+v", r)
				}
			}
		})
	}
}

// TestStop: onErr returning an error stops the read and Read returns it.
func TestStop(t *testing.T) {
	b := blk{typ: blockMixed, recs: flowRecs(3, 1)}
	data := v2File(compNone, 1, b, b)
	le.PutUint16(data[headerV2Size+blockHdrSize+2:], 0) // first record of block 0
	stop := errors.New("strict")
	n := 0
	_, err := Read(bytes.NewReader(data), "f", 0, func(*flow.Record) { n++ }, func(*decode.Error) error { return stop })
	if !errors.Is(err, stop) || n != 0 {
		t.Fatalf("err %v, %d flows; want the onErr error and no flows", err, n)
	}
	// nil onErr carries on and counts.
	st, err := Read(bytes.NewReader(data), "f", 0, func(*flow.Record) { n++ }, nil)
	if err != nil || n != 3 || st.Errors != 1 {
		t.Fatalf("nil onErr: err %v, %d flows, %d errors", err, n, st.Errors)
	}
}

// TestSkippedKinds: records that are not flows are counted by kind.
func TestSkippedKinds(t *testing.T) {
	data := v2File(compNone, 1,
		blk{typ: blockMixed, recs: [][]byte{
			rec(recExporterStat, make([]byte, 28)),
			rec(recNbar, []byte{1, 2, 3, 4}),
			rec(999, nil),
			rec(recIdent, []byte("my ident\x00\x00\x00\x00")),
			rec(recStat, u64s(42)),
		}},
		blk{typ: blockArray, recs: [][]byte{rec(1, nil)}},
		blk{typ: 77, recs: [][]byte{rec(1, nil)}},
	)
	_, st, errs, err := readFrom(bytes.NewReader(data), "f")
	if err != nil || len(errs) != 0 {
		t.Fatalf("err %v problems %v", err, errs)
	}
	want := map[string]uint64{"exporter stats record": 1, "nbar record": 1, "unknown record type 999": 1, "array block": 1, "unknown block type 77": 1}
	if fmt.Sprint(st.Skipped) != fmt.Sprint(want) {
		t.Errorf("skipped %v, want %v", st.Skipped, want)
	}
	if st.Ident != "my ident" || st.DeclaredFlows != 42 || st.Blocks != 3 || st.Records != 5 {
		t.Errorf("stats %+v", st)
	}
	if got := strings.Join(st.SkippedKinds(), ","); got != "array block,exporter stats record,nbar record,unknown block type 77,unknown record type 999" {
		t.Errorf("SkippedKinds %s", got)
	}
}

// TestV3AllFields: one record with every mapped element.
func TestV3AllFields(t *testing.T) {
	misc := cat(u32s(3, 4), []byte{24, 48, 1, 0x20, 0, 2, 0, 0})
	r := v3Rec(5, v3FlagSampled, 10,
		genericElem(generic{first: 1_700_000_000_123, last: 1_700_000_001_456, received: 1_700_000_002_000, pkts: 10, bytes: 1500, sp: 0, dp: 3<<8 | 1, proto: 58, flags: 0, tos: 0xb8}),
		ipv6Elem("2001:db8::1", "2001:db8:ffff::2"),
		elem(exFlowMisc, misc),
		elem(exCntFlow, u64s(1, 7, 900)),
		elem(exVLAN, u32s(100, 200)),
		elem(exASRouting, u32s(64500, 4200000000)),
		elem(exBGPNextHopV4, host4("198.51.100.9")), // not mapped
		elem(exIPNextHopV6, host6("fe80::1")),
		elem(exIPReceivedV6, host6("2001:db8::feed")),
		elem(exObservation, cat(u64s(9), u32s(77))),
		elem(200, []byte{1, 2, 3}), // unknown element: skipped by length
	)
	data := v2File(compNone, 1, blk{typ: blockMixed, recs: [][]byte{
		exporterRec(10, "192.0.2.1", 5, 8), samplerRec(5, -1, 64), r,
	}})
	recs, st, errs, err := readFrom(bytes.NewReader(data), "f")
	if err != nil || len(errs) != 0 || len(recs) != 1 {
		t.Fatalf("err %v problems %v flows %d", err, errs, len(recs))
	}
	want := flow.Record{
		First: 1_700_000_000_123e6, Last: 1_700_000_001_456e6,
		Src: addr("2001:db8::1"), Dst: addr("2001:db8:ffff::2"),
		DstPort: 3<<8 | 1, Proto: 58, ToS: 0xb8, VLAN: 100, Packets: 10, Bytes: 1500, Evidence: 7,
		OutPackets: 7, OutBytes: 900, Exporter: addr("2001:db8::feed"), ObsDomain: 77,
		SrcAS: 64500, DstAS: 4200000000, InIf: 3, OutIf: 4, NextHop: addr("fe80::1"),
		SrcMask: 24, DstMask: 48, EndReason: 2, Sampling: 64,
	}
	if recs[0] != want {
		t.Errorf("\n got %+v\nwant %+v", recs[0], want)
	}
	if st.Scaled != 1 || st.Exporters != 1 || st.Samplers != 1 || st.First != want.First || st.Last != want.Last {
		t.Errorf("stats %+v", st)
	}
}

// TestSampling: which sampler a flow gets.
func TestSampling(t *testing.T) {
	flowWith := func(sysid uint16, nfv byte, sel int32, hasSel bool) []byte {
		elems := [][]byte{genericElem(generic{first: 1, last: 2, proto: 6}), ipv4Elem("10.0.0.1", "10.0.0.2")}
		if hasSel {
			elems = append(elems, elem(exSamplerInfo, cat(u32s(uint32(sel)), u32s(0), u16s(0, sysid))))
		}
		return v3Rec(sysid, 0, nfv, elems...)
	}
	tests := []struct {
		name    string
		creator uint32
		recs    [][]byte
		want    uint32
	}{
		{"no sampler", 1, [][]byte{exporterRec(9, "192.0.2.1", 1, 0), flowWith(1, 9, 0, false)}, 0},
		{"unknown exporter", 1, [][]byte{flowWith(3, 9, 0, false)}, 0},
		{"generic", 1, [][]byte{exporterRec(9, "192.0.2.1", 1, 0), samplerRec(1, -1, 100), flowWith(1, 9, 0, false)}, 100},
		{"default", 1, [][]byte{samplerRec(1, -2, 50), flowWith(1, 9, 0, false)}, 50},
		{"generic beats default", 1, [][]byte{samplerRec(1, -2, 50), samplerRec(1, -1, 100), flowWith(1, 9, 0, false)}, 100},
		{"overwrite beats all", 1, [][]byte{samplerRec(1, -1, 100), samplerRec(1, 5, 10), samplerRec(1, -3, 7), flowWith(1, 9, 5, true)}, 7},
		{"named sampler", 1, [][]byte{samplerRec(1, -1, 100), samplerRec(1, 5, 10), flowWith(1, 9, 5, true)}, 10},
		{"named but unknown sampler", 1, [][]byte{samplerRec(1, -1, 100), flowWith(1, 9, 6, true)}, 100},
		{"other exporter's sampler", 1, [][]byte{samplerRec(2, -1, 100), flowWith(1, 9, 0, false)}, 0},
		{"legacy sampler record", 1, [][]byte{samplerLegacyRec(-1, 3000, 1), flowWith(1, 9, 0, false)}, 3000},
		{"updated sampler", 1, [][]byte{samplerRec(1, -1, 100), samplerRec(1, -1, 200), flowWith(1, 9, 0, false)}, 200},
		{"nfpcapd record", 1, [][]byte{flowWith(0, 0x41, 0, false)}, 1},
		{"nfpcapd creator", creatorNfpcapd, [][]byte{flowWith(0, 9, 0, false)}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := v2File(compNone, tt.creator, blk{typ: blockMixed, recs: tt.recs})
			recs, _, errs, err := readFrom(bytes.NewReader(data), "f")
			if err != nil || len(errs) != 0 || len(recs) != 1 {
				t.Fatalf("err %v problems %v flows %d", err, errs, len(recs))
			}
			if recs[0].Sampling != tt.want {
				t.Errorf("sampling %d, want %d", recs[0].Sampling, tt.want)
			}
		})
	}
}

func TestSamplerCap(t *testing.T) {
	var recs [][]byte
	for i := 0; i <= maxSamplers; i++ {
		recs = append(recs, samplerRec(uint16(i%7), int64(i), 10))
	}
	_, st, errs, err := readFrom(bytes.NewReader(v2File(compNone, 1, blk{typ: blockMixed, recs: recs})), "f")
	if err != nil || len(errs) != 0 {
		t.Fatalf("err %v problems %v", err, errs)
	}
	if st.Samplers != maxSamplers || st.Skipped["sampler record over the table cap"] != 1 {
		t.Errorf("samplers %d, skipped %v", st.Samplers, st.Skipped)
	}
}

// TestV1Records: the 1.6 layout's flow records with every mapped
// extension, both record heads, and map handling.
func TestV1Records(t *testing.T) {
	head := v1Head{flags: v1FlagIPv6 | v1FlagSampled, sysid: 2, mapID: 0, first: 1_600_000_000, last: 1_600_000_010, msFirst: 5, msLast: 999,
		tcpFlags: 0x12, proto: 6, tos: 4, sp: 443, dp: 50000}
	r6 := v1Rec(head, false,
		host6("2001:db8::a"), host6("2001:db8::b"), u32s(12), u32s(3400), // 32-bit counters
		u16s(7, 8),            // 4: interfaces
		u16s(65000, 3320),     // 6: AS
		[]byte{0, 1, 64, 56},  // 8: dst tos, dir, masks
		host6("2001:db8::1"),  // 10: next hop v6
		u16s(42, 43),          // 13: vlan
		u32s(9),               // 14: out packets
		u32s(999),             // 16: out bytes
		make([]byte, 40),      // 22: MPLS
		host6("2001:db8::99"), // 24: router
	)
	head4 := v1Head{flags: v1FlagPkts64 | v1FlagBytes64, sysid: 2, mapID: 1, first: 1_600_000_100, last: 1_600_000_100, proto: 17, sp: 53, dp: 5353}
	r4 := v1Rec(head4, false, host4("10.1.1.1"), host4("10.1.1.2"), u64s(1<<40), u64s(1<<41),
		u32s(70000, 80000), u32s(4200000000, 1), host4("10.1.1.254"), u64s(5), u64s(6))
	r0 := v1Rec(v1Head{flags: 0, sysid: 2, mapID: 1, first: 1_600_000_200, last: 1_600_000_201, proto: 1, dp: 8 << 8}, true,
		host4("10.2.2.1"), host4("10.2.2.2"), u32s(1), u32s(84),
		u32s(1, 2), u32s(3, 4), host4("10.2.2.254"), u64s(0), u64s(0))
	data := v1File(0, "crafted", 3, blk{typ: blockV1, recs: [][]byte{
		exporterRec(9, "192.0.2.7", 2, 33), samplerLegacyRec(-1, 10, 2),
		extMapRec(0xFFFF, 4, 6, 8, 10, 13, 14, 16, 22, 24),
		extMapRec(1, 5, 7, 9, 15, 28, 17), // 28 is reserved, size 0
		r6, r4, r0,
	}})
	recs, st, errs, err := readFrom(bytes.NewReader(data), "f")
	if err != nil || len(errs) != 0 || len(recs) != 3 {
		t.Fatalf("err %v problems %v flows %d", err, errs, len(recs))
	}
	want := []flow.Record{{
		First: 1_600_000_000_005e6, Last: 1_600_000_010_999e6, Src: addr("2001:db8::a"), Dst: addr("2001:db8::b"),
		SrcPort: 443, DstPort: 50000, Proto: 6, TCPFlags: 0x12, ToS: 4, VLAN: 42, Packets: 12, Bytes: 3400, Evidence: 7,
		OutPackets: 9, OutBytes: 999, Exporter: addr("2001:db8::99"), ObsDomain: 33, SrcAS: 65000, DstAS: 3320,
		InIf: 7, OutIf: 8, NextHop: addr("2001:db8::1"), SrcMask: 64, DstMask: 56, Sampling: 10,
	}, {
		First: 1_600_000_100_000e6, Last: 1_600_000_100_000e6, Src: addr("10.1.1.1"), Dst: addr("10.1.1.2"),
		SrcPort: 53, DstPort: 5353, Proto: 17, Packets: 1 << 40, Bytes: 1 << 41, Evidence: 7,
		OutPackets: 5, OutBytes: 6, Exporter: addr("192.0.2.7"), ObsDomain: 33, SrcAS: 4200000000, DstAS: 1,
		InIf: 70000, OutIf: 80000, NextHop: addr("10.1.1.254"), Sampling: 10,
	}, {
		First: 1_600_000_200_000e6, Last: 1_600_000_201_000e6, Src: addr("10.2.2.1"), Dst: addr("10.2.2.2"),
		DstPort: 8 << 8, Proto: 1, Packets: 1, Bytes: 84, Evidence: 7,
		Exporter: addr("192.0.2.7"), ObsDomain: 33, SrcAS: 3, DstAS: 4, InIf: 1, OutIf: 2, NextHop: addr("10.2.2.254"), Sampling: 10,
	}}
	for i := range want {
		if recs[i] != want[i] {
			t.Errorf("flow %d\n got %+v\nwant %+v", i, recs[i], want[i])
		}
	}
	if st.Layout != 1 || st.Ident != "crafted" || st.DeclaredFlows != 3 || st.Scaled != 1 || st.Skipped["extension map"] != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestV1Errors(t *testing.T) {
	flowRec := v1Rec(v1Head{mapID: 3, proto: 6}, false, host4("10.0.0.1"), host4("10.0.0.2"), u32s(1), u32s(2), u32s(1, 2))
	tests := []struct {
		name  string
		recs  [][]byte
		flows int
		text  []string
	}{
		{"map after record", [][]byte{flowRec, flowRec, extMapRec(3, 5), flowRec}, 1,
			[]string{"extension map 3, which the file has not defined"}},
		{"map with unknown extension", [][]byte{extMapRec(3, 5, 50), flowRec}, 0,
			[]string{"names extension 50", "extension map 3, which the file has not defined"}},
		{"map naming a required extension", [][]byte{extMapRec(3, 2)}, 0, []string{"names extension 2"}},
		{"record shorter than its map", [][]byte{extMapRec(3, 5, 7), flowRec}, 0, []string{"flow record of 56 bytes, its flags and extension map 3 need 64"}},
		{"record shorter than its head", [][]byte{rec(recCommon, make([]byte, 20))}, 0, []string{"below its 32-byte head"}},
		{"short exporter record", [][]byte{rec(recExporterInfo, make([]byte, 10))}, 0, []string{"exporter record of 14 bytes"}},
		{"short sampler record", [][]byte{rec(recSamplerLegacy, make([]byte, 4))}, 0, []string{"sampler record of 8 bytes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := v1File(0, "x", 0, blk{typ: blockV1, recs: tt.recs})
			recs, _, errs, err := readFrom(bytes.NewReader(data), "f")
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != tt.flows || len(errs) != len(tt.text) {
				t.Fatalf("%d flows, problems %v", len(recs), errs)
			}
			for i, want := range tt.text {
				if !strings.Contains(errs[i].Error(), want) {
					t.Errorf("problem %d %q lacks %q", i, errs[i], want)
				}
			}
		})
	}
}

// TestReaderErrors: a failing io.Reader is reported as such, not as a
// truncated file.
func TestReaderErrors(t *testing.T) {
	data := v2File(compNone, 1, blk{typ: blockMixed, recs: flowRecs(2, 1)})
	boom := errors.New("disk on fire")
	for _, after := range []int{0, 2, 20, headerV2Size + 20} {
		r := &failingReader{data: data, after: after, err: boom}
		_, _, _, err := readFrom(r, "f")
		if !errors.Is(err, boom) || errors.Is(err, decode.ErrTruncated) || errors.Is(err, decode.ErrNotEvidence) {
			t.Fatalf("failing after %d bytes: err %v, want %v", after, err, boom)
		}
	}
}

type failingReader struct {
	data  []byte
	after int
	err   error
	pos   int
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.pos >= f.after {
		return 0, f.err
	}
	n := copy(p, f.data[f.pos:f.after])
	f.pos += n
	return n, nil
}

// TestBuilderMatchesNfdump reads crafted files with nfdump itself: the
// builders (and with them the layouts these tests assume, including 1.6
// extensions no shared file has) agree with nfdump 1.7.1.
func TestBuilderMatchesNfdump(t *testing.T) {
	nfdump := decodetest.Tool(t, "nfdump", "nfdump")
	dir := t.TempDir()
	misc := cat(u32s(3, 4), []byte{24, 48, 1, 0x20, 0, 2, 0, 0})
	files := map[string][]byte{
		"v2": v2File(compNone, 1, blk{typ: blockMixed, recs: [][]byte{
			exporterRec(10, "192.0.2.1", 5, 8),
			v3Rec(5, 0, 10,
				genericElem(generic{first: 1_700_000_000_123, last: 1_700_000_001_456, received: 1_700_000_002_000, pkts: 10, bytes: 1500, sp: 5, dp: 80, proto: 6, flags: 0x1b, tos: 0xb8}),
				ipv6Elem("2001:db8::1", "2001:db8:ffff::2"), elem(exFlowMisc, misc), elem(exCntFlow, u64s(1, 7, 900)),
				elem(exVLAN, u32s(100, 200)), elem(exASRouting, u32s(64500, 4200000000)),
				elem(exIPNextHopV6, host6("fe80::1")), elem(exIPReceivedV6, host6("2001:db8::feed"))),
			v3Rec(5, 0, 10,
				genericElem(generic{first: 1_700_000_000_000, last: 1_700_000_000_000, pkts: 1, bytes: 40, sp: 1, dp: 2, proto: 17}),
				ipv4Elem("10.0.0.1", "10.0.0.2"), elem(exIPNextHopV4, host4("10.0.0.254")), elem(exIPReceivedV4, host4("192.0.2.1"))),
		}}),
		"v1": v1File(0, "crafted", 2, blk{typ: blockV1, recs: [][]byte{
			exporterRec(9, "192.0.2.7", 2, 33),
			extMapRec(0, 4, 6, 8, 10, 13, 14, 16, 22, 24),
			extMapRec(1, 5, 7, 9, 15, 17, 23),
			v1Rec(v1Head{flags: v1FlagIPv6, sysid: 2, mapID: 0, first: 1_600_000_000, last: 1_600_000_010, msFirst: 5, msLast: 999, tcpFlags: 0x12, proto: 6, tos: 4, sp: 443, dp: 50000}, false,
				host6("2001:db8::a"), host6("2001:db8::b"), u32s(12), u32s(3400), u16s(7, 8), u16s(65000, 3320), []byte{0, 1, 64, 56},
				host6("2001:db8::1"), u16s(42, 43), u32s(9), u32s(999), make([]byte, 40), host6("2001:db8::99")),
			v1Rec(v1Head{flags: v1FlagPkts64 | v1FlagBytes64, sysid: 2, mapID: 1, first: 1_600_000_100, last: 1_600_000_100, proto: 17, sp: 53, dp: 5353}, false,
				host4("10.1.1.1"), host4("10.1.1.2"), u64s(1<<40), u64s(1<<41), u32s(70000, 80000), u32s(4200000000, 1),
				host4("10.1.1.254"), u64s(5), u64s(6), host4("192.0.2.99")),
		}}),
	}
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		recs, _, errs, err := readAll(t, path)
		if err != nil || len(errs) != 0 || len(recs) != 2 {
			t.Fatalf("%s: err %v problems %v flows %d", name, err, errs, len(recs))
		}
		rows := nfdumpRows(t, nfdump, path)
		if len(rows) != len(recs) {
			t.Fatalf("%s: nfdump shows %d flows, we read %d", name, len(rows), len(recs))
		}
		for i := range recs {
			if d := compareRow(rows[i], &recs[i]); len(d) > 0 {
				t.Errorf("%s flow %d: %s", name, i, strings.Join(d, "; "))
			}
		}
	}
}

// TestNoReadAfterReturn: Read stops its block reader before it returns,
// also when onErr stops it early, so the caller may close the file.
func TestNoReadAfterReturn(t *testing.T) {
	var blocks []blk
	for i := 0; i < 3; i++ {
		blocks = append(blocks, blk{typ: blockMixed, recs: flowRecs(20, uint64(i))})
	}
	data := v2File(compNone, 1, blocks...)
	le.PutUint16(data[headerV2Size+blockHdrSize+2:], 0) // break block 0
	for _, stop := range []bool{true, false} {
		r := &watchReader{r: bytes.NewReader(data)}
		_, err := Read(r, "f", 0, nil, func(*decode.Error) error {
			if stop {
				return errors.New("stop")
			}
			return nil
		})
		if (err != nil) != stop {
			t.Fatalf("stop %v: err %v", stop, err)
		}
		r.returned.Store(true)
		time.Sleep(20 * time.Millisecond)
		if r.late.Load() {
			t.Fatalf("stop %v: the reader was read after Read returned", stop)
		}
	}
}

type watchReader struct {
	r        io.Reader
	returned atomic.Bool
	late     atomic.Bool
}

func (w *watchReader) Read(p []byte) (int, error) {
	if w.returned.Load() {
		w.late.Store(true)
	}
	// Small, slow reads keep the block reader busy while the decoder
	// stops.
	time.Sleep(time.Millisecond)
	return w.r.Read(p[:min(len(p), 64)])
}

// TestV1Compressed: a 1.6 file whose flags name LZ4 (1.6.x wrote LZ4 too);
// the shared 1.6 file covers LZO.
func TestV1Compressed(t *testing.T) {
	recs := [][]byte{exporterRec(9, "192.0.2.7", 2, 33), extMapRec(1, 5),
		v1Rec(v1Head{sysid: 2, mapID: 1, first: 1_600_000_000, proto: 6, sp: 1, dp: 2}, false,
			host4("10.0.0.1"), host4("10.0.0.2"), u32s(3), u32s(400), u32s(5, 6))}
	plain := cat(recs...)
	dst := make([]byte, lz4.CompressBlockBound(len(plain)))
	n, err := lz4.CompressBlock(plain, dst, nil)
	if err != nil {
		t.Fatal(err)
	}
	data := v1File(0x10, "lz4", 1, blk{typ: blockV1, raw: dst[:n], n: uint32(len(recs))})
	got, st, errs, err := readFrom(bytes.NewReader(data), "f")
	if err != nil || len(errs) != 0 || len(got) != 1 || st.Compression != "lz4" {
		t.Fatalf("err %v problems %v flows %d stats %+v", err, errs, len(got), st)
	}
	if r := got[0]; r.Bytes != 400 || r.InIf != 5 || r.Exporter != addr("192.0.2.7") || r.ObsDomain != 33 {
		t.Errorf("flow %+v", r)
	}
}
