package flowstore

import (
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spotctl/spotctl/decode/flow"
)

var update = flag.Bool("update", false, "rewrite golden files")

// dumpColumnFile renders a column file field by field: the golden files
// pin the on-disk format (any change to them is a format change and needs
// the version policy of docs/flowstore.md).
func dumpColumnFile(b []byte) string {
	le := binary.LittleEndian
	var s strings.Builder
	n := int(le.Uint32(b[12:]))
	end := fixedHeaderLen + dirEntryLen*n
	tname, _ := decodeName(b[24:56])
	fmt.Fprintf(&s, "file size %d\n", len(b))
	fmt.Fprintf(&s, "magic %q version %d header_len %d entries %d rows %d table %q header_crc %#08x\n",
		b[:4], le.Uint32(b[4:]), le.Uint32(b[8:]), n, le.Uint64(b[16:]), tname, le.Uint32(b[end:]))
	for i := 0; i < n; i++ {
		e := b[entryAt(i):]
		name, _ := decodeName(e[:nameFieldLen])
		off, l := le.Uint64(e[entOffset:]), le.Uint64(e[entLength:])
		fmt.Fprintf(&s, "entry %2d %-12s %-6s %-5s part %d crc %#08x offset %6d length %4d  %s\n",
			i, name, Type(e[entType]), Encoding(e[entEnc]), e[entPart], le.Uint32(e[36:]), off, l, hex.EncodeToString(b[off:off+l]))
	}
	fmt.Fprintf(&s, "header bytes [0, %d):\n%s", end+crcLen, hex.Dump(b[:end+crcLen]))
	return s.String()
}

func TestGoldenFormat(t *testing.T) {
	c := newCase(t)
	w, err := c.NewSegment()
	if err != nil {
		t.Fatal(err)
	}
	v4 := flow.AddrFrom4
	for _, r := range []flow.Record{
		{First: 1_700_000_000_000_000_000, Last: 1_700_000_000_500_000_000, Src: v4([4]byte{10, 0, 0, 1}), Dst: v4([4]byte{192, 0, 2, 7}),
			SrcPort: 51234, DstPort: 443, Proto: flow.ProtoTCP, TCPFlags: flow.TCPSyn | flow.TCPAck, ToS: 0, VLAN: 10, Packets: 12, Bytes: 3456, Evidence: 0},
		{First: -1, Last: 0, Src: flow.Addr{0x20, 0x01, 0x0d, 0xb8, 15: 1}, Dst: flow.Addr{0x20, 0x01, 0x0d, 0xb8, 15: 2},
			SrcPort: 0, DstPort: 0x8000, Proto: flow.ProtoICMPv6, Packets: 1, Bytes: 1 << 40, Evidence: 1},
	} {
		w.AddFlow(&r)
	}
	for _, m := range []flow.DNSMessage{
		{TS: 1_700_000_000_000_000_000, Client: v4([4]byte{10, 0, 0, 1}), Server: v4([4]byte{10, 0, 0, 53}), ClientPort: 40000, ServerPort: 53,
			Transport: flow.ProtoUDP, ID: 0xbeef, QName: "example.com", QType: 1, QClass: 1, FrameLen: 70},
		{TS: 1_700_000_000_001_000_000, Client: v4([4]byte{10, 0, 0, 1}), Server: v4([4]byte{10, 0, 0, 53}), ClientPort: 40000, ServerPort: 53,
			Transport: flow.ProtoUDP, ID: 0xbeef, Response: true, Flags: flow.DNSFlagRD | flow.DNSFlagRA, QName: "example.com", QType: 1, QClass: 1,
			ANCount: 1, Answers: []flow.Answer{{Type: 1, Data: "93.184.216.34"}}, TTL: 3600, FrameLen: 86},
		{TS: 1_700_000_000_002_000_000, Client: v4([4]byte{10, 0, 0, 1}), Server: v4([4]byte{10, 0, 0, 53}), ClientPort: 40001, ServerPort: 53,
			Transport: flow.ProtoUDP, ID: 2, QName: "example.com", QType: 28, QClass: 1, FrameLen: 70},
	} {
		w.AddDNS(&m)
	}
	if err := w.Commit(&Manifest{Evidence: []EvidenceFile{{Path: "a.pcap"}, {Path: "b.pcap"}}}); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{TableFlows, TableDNS} {
		b, err := os.ReadFile(filepath.Join(c.Segments()[0].Dir(), table+".col"))
		if err != nil {
			t.Fatal(err)
		}
		compareGolden(t, dumpColumnFile(b), table+".col.txt")
	}
}

// compareGolden compares a dump with testdata/golden/name (or rewrites it
// with -update).
func compareGolden(t *testing.T, got, name string) {
	t.Helper()
	golden := filepath.Join("testdata", "golden", name)
	if *update {
		os.MkdirAll(filepath.Dir(golden), 0o755)
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if got != string(want) {
		t.Errorf("column file differs from %s (a format change? see docs/flowstore.md, Version policy):\n%s", golden, got)
	}
}

// TestGoldenFormatExport pins the sparse flows columns: a segment from
// flow-export evidence, one row with every export field set and one with
// none (as a pcap row in the same ingest run would be). The core columns
// are laid out exactly as in flows.col.txt; the thirteen sparse ones follow.
func TestGoldenFormatExport(t *testing.T) {
	c := newCase(t)
	w, err := c.NewSegment()
	if err != nil {
		t.Fatal(err)
	}
	v4 := flow.AddrFrom4
	for _, r := range []flow.Record{
		{First: 1_700_000_000_000_000_000, Last: 1_700_000_060_000_000_000, Src: v4([4]byte{10, 0, 0, 1}), Dst: v4([4]byte{198, 51, 100, 9}),
			SrcPort: 50000, DstPort: 53, Proto: flow.ProtoUDP, Packets: 3, Bytes: 210, Evidence: 0,
			OutPackets: 3, OutBytes: 0x0102030405060708, Exporter: v4([4]byte{192, 0, 2, 1}), ObsDomain: 0x0a0b0c0d,
			SrcAS: 64512, DstAS: 4200000000, InIf: 2, OutIf: 0x01000001, NextHop: flow.Addr{0x20, 0x01, 0x0d, 0xb8, 15: 0xfe},
			SrcMask: 24, DstMask: 128, EndReason: 3, Sampling: 1000},
		{First: 1_700_000_001_000_000_000, Last: 1_700_000_001_000_000_000, Src: v4([4]byte{10, 0, 0, 2}), Dst: v4([4]byte{10, 0, 0, 1}),
			Proto: flow.ProtoICMP, DstPort: 0x0800, Packets: 1, Bytes: 84, Evidence: 1},
	} {
		if err := w.AddFlow(&r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(&Manifest{Evidence: []EvidenceFile{{Path: "a.nf"}, {Path: "b.pcap"}}}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(c.Segments()[0].Dir(), TableFlows+".col"))
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, dumpColumnFile(b), "flows-export.col.txt")
}
