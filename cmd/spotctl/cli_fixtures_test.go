package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmd/root"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/iostreams"
)

// The fixtures of the CLI cases, built once per test run by spotctl itself
// (and a few lines of pcap and CSV written here), so the cases need nothing
// outside the repository. Every name is relative to the $WORK directory.
//
//	demo.pcap     synth --seed 7, 10 hosts, 30 minutes from 08:40 with a DGA
//	              burst and a 60 s beacon (≈12k packets, ≈2.5k flows)
//	demo.case     demo.pcap ingested
//	tiny.pcap     19 hand-made packets: DNS (a hostile query name with an
//	              escape sequence, TXT data that reads as a spreadsheet
//	              formula and a bidi override, invalid UTF-8, NXDOMAIN,
//	              SERVFAIL), a TCP connection, ICMP echo, IPv6 UDP
//	tiny.case     tiny.pcap ingested
//	stdin.case    tiny.pcap ingested from standard input (its evidence path
//	              is "-", so tables that show it do not depend on $WORK)
//	cut.pcap      tiny.pcap without its last 10 bytes (partial evidence)
//	notes.pcap    tiny.pcap and a datagram to port 53 that is not DNS (a note)
//	notes.case    notes.pcap ingested from standard input
//	garbage.bin   bytes that are no evidence format
//	netflow.csv   four flows as nfdump -o csv writes them (exporter fields)
//	netflow.case  netflow.csv ingested
//	changed.case  ingested from changed.pcap, which was changed afterwards
//	corrupt.case  tiny.case with one byte of a column flipped
//	top.csv       a three-line rank,domain popularity list
//	ok.filter     a filter file over several lines, with comments
//	bad.filter    a filter file with a syntax error on line 2
var (
	fixtureOnce sync.Once
	fixtureDir  string
	fixtureErr  error
)

// TestMain removes the fixtures after the run.
func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

// fixtures returns the fixture directory, building it on first use.
func fixtures(t *testing.T) string {
	t.Helper()
	fixtureOnce.Do(func() {
		fixtureDir, fixtureErr = os.MkdirTemp("", "spotctl-cli-")
		if fixtureErr == nil {
			fixtureErr = buildFixtures(fixtureDir)
		}
	})
	if fixtureErr != nil {
		t.Fatalf("CLI fixtures: %v", fixtureErr)
	}
	return fixtureDir
}

func buildFixtures(dir string) error {
	p := func(name string) string { return filepath.Join(dir, name) }
	spotctl := func(stdin []byte, args ...string) error {
		ios, in, _, errOut := iostreams.Test()
		in.Write(stdin)
		if code := root.Main(ios, args); code != 0 {
			return fmt.Errorf("spotctl %v: exit %d: %s", args, code, errOut)
		}
		return nil
	}
	tiny := tinyPcap()
	files := map[string][]byte{
		"tiny.pcap":    tiny,
		"notes.pcap":   withNotDNS(tiny),
		"cut.pcap":     tiny[:len(tiny)-10],
		"changed.pcap": tiny,
		"garbage.bin":  bytes.Repeat([]byte("not evidence\x00\x01\x02\x03"), 64),
		"netflow.csv":  []byte(netflowCSV),
		"top.csv":      []byte("1,example.com\n2,example.net\n3,tyrell-corp.com\n"),
		"ok.filter":    []byte("# DNS to the resolver\nproto udp and dst port 53\n  and not src net 10.20.1.0/24 # resolver's own queries out\n"),
		"bad.filter":   []byte("proto udp\nand dst prot 53\n"),
	}
	for name, b := range files {
		if err := os.WriteFile(p(name), b, 0o644); err != nil {
			return err
		}
	}
	steps := []struct {
		stdin []byte
		args  []string
	}{
		{nil, []string{"synth", "-q", "--seed", "7", "--hosts", "10", "--duration", "30m", "--start", "2026-03-02T08:40:00Z",
			"--inject", "dga,beacon:interval=60s", "-o", p("demo.pcap")}},
		{nil, []string{"ingest", "-q", p("demo.pcap"), "-o", p("demo.case")}},
		{nil, []string{"ingest", "-q", p("tiny.pcap"), "-o", p("tiny.case")}},
		{tiny, []string{"ingest", "-q", "-", "-o", p("stdin.case")}},
		{nil, []string{"ingest", "-q", p("netflow.csv"), "-o", p("netflow.case")}},
		{nil, []string{"ingest", "-q", p("changed.pcap"), "-o", p("changed.case")}},
		{nil, []string{"ingest", "-q", p("tiny.pcap"), "-o", p("corrupt.case")}},
		// From standard input, so that the evidence path ("-") and the
		// table's column widths do not depend on the temp directory.
		{withNotDNS(tiny), []string{"ingest", "-q", "-", "-o", p("notes.case")}}, // notes: exit 0
	}
	for _, s := range steps {
		if err := spotctl(s.stdin, s.args...); err != nil {
			return err
		}
	}
	// The evidence of changed.case gains a byte after the ingest.
	if err := os.WriteFile(p("changed.pcap"), append(tiny[:len(tiny):len(tiny)], 0), 0o644); err != nil {
		return err
	}
	// One bit of the first flows column (its data starts at offset 4096,
	// docs/flowstore.md) turns.
	col := p("corrupt.case/seg-000001/flows.col")
	b, err := os.ReadFile(col)
	if err != nil {
		return err
	}
	if len(b) <= 4096 {
		return fmt.Errorf("%s: %d bytes, expected a column at 4096", col, len(b))
	}
	b[4096] ^= 0x01
	return os.WriteFile(col, b, 0o644)
}

// netflowCSV is what nfdump 1.7 prints with -o csv: a header, records, and
// the summary trailer.
const netflowCSV = `ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr
2026-03-02 09:00:01.250,2026-03-02 09:00:03.901,2.651,10.20.0.17,203.0.113.80,49822,443,TCP,...AP.SF,0,0,14,9112,0,0,3,7,64512,15169,24,16,0,0,192.0.2.254,0.0.0.0,42,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,192.0.2.1,0/0,1,2026-03-02 09:00:04.000
2026-03-02 09:00:02.000,2026-03-02 09:00:02.000,0.000,10.20.0.17,10.20.0.2,53122,53,UDP,........,0,0,1,61,0,0,3,7,0,0,24,24,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,192.0.2.1,0/0,1,2026-03-02 09:00:04.000
2026-03-02 09:00:05.500,2026-03-02 09:00:35.500,30.000,198.51.100.9,10.20.0.17,0,2048,ICMP,........,0,0,30,2520,0,0,7,3,64496,64512,16,24,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,192.0.2.1,0/0,1,2026-03-02 09:00:36.000
2026-03-02 09:01:00.000,2026-03-02 09:01:09.000,9.000,2001:db8::17,2001:db8:1::80,50000,22,TCP,...AP.S.,0,0,40,8000,38,52000,4,9,0,0,48,48,0,0,::,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,192.0.2.2,0/0,1,2026-03-02 09:01:10.000
Summary
flows,bytes,packets,avg_bps,avg_pps,avg_bpp
4,71632,85,0,0,0
`

// tinyPcap builds a classic little-endian microsecond pcap of a few
// hand-made packets from 2026-03-02T09:00:00Z.
// withNotDNS appends to a pcap one UDP datagram to port 53 whose payload
// is not DNS: ingest keeps it as a flow and records a note (exit 0).
func withNotDNS(pcap []byte) []byte {
	src, dst := netip.MustParseAddr("10.20.1.7"), netip.MustParseAddr("10.0.0.53")
	frame := ether(0x0800, ipv4(src, dst, 17, udp(40100, 53, []byte("\x13\x37 not a DNS header"))))
	rec := make([]byte, 16)
	ts := time.Date(2026, 3, 2, 9, 0, 7, 0, time.UTC)
	binary.LittleEndian.PutUint32(rec[0:], uint32(ts.Unix()))
	binary.LittleEndian.PutUint32(rec[8:], uint32(len(frame)))
	binary.LittleEndian.PutUint32(rec[12:], uint32(len(frame)))
	out := append(append([]byte(nil), pcap...), rec...)
	return append(out, frame...)
}

func tinyPcap() []byte {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	client := netip.MustParseAddr("10.0.0.5")
	resolver := netip.MustParseAddr("10.0.0.53")
	web := netip.MustParseAddr("192.0.2.10")
	var b bytes.Buffer
	hdr := make([]byte, 24)
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 65535)
	binary.LittleEndian.PutUint32(hdr[20:], 1) // Ethernet
	b.Write(hdr)
	add := func(ms int, frame []byte) {
		ts := t0.Add(time.Duration(ms) * time.Millisecond)
		rec := make([]byte, 16)
		binary.LittleEndian.PutUint32(rec[0:], uint32(ts.Unix()))
		binary.LittleEndian.PutUint32(rec[4:], uint32(ts.Nanosecond()/1000))
		binary.LittleEndian.PutUint32(rec[8:], uint32(len(frame)))
		binary.LittleEndian.PutUint32(rec[12:], uint32(len(frame)))
		b.Write(rec)
		b.Write(frame)
	}
	a := func(s string) []byte { return []byte(s) }
	query := func(id uint16, name [][]byte, qtype uint16) []byte {
		return dnsMessage(id, 0x0100, name, qtype, nil)
	}
	udp4 := func(src netip.Addr, sp uint16, dst netip.Addr, dp uint16, payload []byte) []byte {
		return ether(0x0800, ipv4(src, dst, 17, udp(sp, dp, payload)))
	}
	// 1-2: an ordinary lookup.
	www := [][]byte{a("www"), a("example"), a("com")}
	add(100, udp4(client, 40000, resolver, 53, query(0x0101, www, 1)))
	add(112, udp4(resolver, 53, client, 40000, dnsMessage(0x0101, 0x8180, www, 1,
		[]rr{{typ: 1, ttl: 300, data: web.AsSlice()}})))
	// 3-9: a short TLS connection.
	tcp4 := func(src netip.Addr, sp uint16, dst netip.Addr, dp uint16, flags byte, payload int) []byte {
		return ether(0x0800, ipv4(src, dst, 6, tcp(sp, dp, flags, make([]byte, payload))))
	}
	const syn, ack, fin, psh = 0x02, 0x10, 0x01, 0x08
	add(200, tcp4(client, 50000, web, 443, syn, 0))
	add(230, tcp4(web, 443, client, 50000, syn|ack, 0))
	add(231, tcp4(client, 50000, web, 443, ack, 0))
	add(500, tcp4(client, 50000, web, 443, psh|ack, 100))
	add(800, tcp4(client, 50000, web, 443, fin|ack, 0))
	add(830, tcp4(web, 443, client, 50000, fin|ack, 0))
	add(831, tcp4(client, 50000, web, 443, ack, 0))
	// 10-11: hostile text. The query name carries an escape sequence that
	// would paint a terminal red; the TXT answers read as a spreadsheet
	// formula and hide a right-to-left override.
	evil := [][]byte{a("\x1b[31mred"), a("evil"), a("example")}
	add(1000, udp4(client, 40001, resolver, 53, query(0x0202, evil, 16)))
	add(1010, udp4(resolver, 53, client, 40001, dnsMessage(0x0202, 0x8180, evil, 16,
		[]rr{{typ: 16, ttl: 60, data: txt("=HYPERLINK(\"http://x.test\")")}, {typ: 16, ttl: 30, data: txt("invoice\u202efdp.exe")}})))
	// 12-13: a name that reads as a formula; NXDOMAIN.
	formula := [][]byte{a("=1+2"), a("example")}
	add(2000, udp4(client, 40002, resolver, 53, query(0x0303, formula, 1)))
	add(2004, udp4(resolver, 53, client, 40002, dnsMessage(0x0303, 0x8183, formula, 1, nil)))
	// 14-15: ICMP echo.
	add(3000, ether(0x0800, ipv4(client, web, 1, icmpEcho(8))))
	add(3020, ether(0x0800, ipv4(web, client, 1, icmpEcho(0))))
	// 16: IPv6 multicast UDP.
	add(4000, ether(0x86dd, ipv6(netip.MustParseAddr("fe80::1"), netip.MustParseAddr("ff02::fb"), 17, udp(5353, 5353, make([]byte, 20)))))
	// 17-18: a Latin-1 byte (invalid UTF-8) in the name; SERVFAIL.
	latin := [][]byte{a("caf\xe9"), a("example")}
	add(5000, udp4(client, 40003, resolver, 53, query(0x0404, latin, 1)))
	add(5009, udp4(resolver, 53, client, 40003, dnsMessage(0x0404, 0x8182, latin, 1, nil)))
	// 19: a last query that never got its answer.
	add(6000, udp4(client, 40004, resolver, 53, query(0x0505, www, 28)))
	return b.Bytes()
}

type rr struct {
	typ  uint16
	ttl  uint32
	data []byte
}

// dnsMessage is a DNS message with one question and answers that point
// back at it.
func dnsMessage(id, flags uint16, name [][]byte, qtype uint16, answers []rr) []byte {
	m := binary.BigEndian.AppendUint16(nil, id)
	m = binary.BigEndian.AppendUint16(m, flags)
	m = binary.BigEndian.AppendUint16(m, 1)
	m = binary.BigEndian.AppendUint16(m, uint16(len(answers)))
	m = binary.BigEndian.AppendUint32(m, 0)
	for _, l := range name {
		m = append(m, byte(len(l)))
		m = append(m, l...)
	}
	m = append(m, 0)
	m = binary.BigEndian.AppendUint16(m, qtype)
	m = binary.BigEndian.AppendUint16(m, 1)
	for _, a := range answers {
		m = append(m, 0xc0, 12) // the question's name
		m = binary.BigEndian.AppendUint16(m, a.typ)
		m = binary.BigEndian.AppendUint16(m, 1)
		m = binary.BigEndian.AppendUint32(m, a.ttl)
		m = binary.BigEndian.AppendUint16(m, uint16(len(a.data)))
		m = append(m, a.data...)
	}
	return m
}

func txt(s string) []byte { return append([]byte{byte(len(s))}, s...) }

func ether(etherType uint16, payload []byte) []byte {
	f := []byte{0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01}
	f = binary.BigEndian.AppendUint16(f, etherType)
	return append(f, payload...)
}

func ipv4(src, dst netip.Addr, proto byte, payload []byte) []byte {
	h := make([]byte, 20)
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
	binary.BigEndian.PutUint16(h[6:], 0x4000) // don't fragment
	h[8] = 64
	h[9] = proto
	copy(h[12:], src.AsSlice())
	copy(h[16:], dst.AsSlice())
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(h[10:], ^uint16(sum))
	return append(h, payload...)
}

func ipv6(src, dst netip.Addr, next byte, payload []byte) []byte {
	h := make([]byte, 40)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	h[6] = next
	h[7] = 255
	copy(h[8:], src.AsSlice())
	copy(h[24:], dst.AsSlice())
	return append(h, payload...)
}

func udp(sp, dp uint16, payload []byte) []byte {
	h := binary.BigEndian.AppendUint16(nil, sp)
	h = binary.BigEndian.AppendUint16(h, dp)
	h = binary.BigEndian.AppendUint16(h, uint16(8+len(payload)))
	h = binary.BigEndian.AppendUint16(h, 0) // no checksum
	return append(h, payload...)
}

func tcp(sp, dp uint16, flags byte, payload []byte) []byte {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h[0:], sp)
	binary.BigEndian.PutUint16(h[2:], dp)
	h[12] = 5 << 4
	h[13] = flags
	binary.BigEndian.PutUint16(h[14:], 64240)
	return append(h, payload...)
}

func icmpEcho(typ byte) []byte {
	return []byte{typ, 0, 0, 0, 0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g'}
}
