package flowlog

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the time-zone cross-check must not depend on the host's zoneinfo

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/decodetest"
	"github.com/spotctl/spotctl/decode/flow"
)

const nfHeader = "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr"

// nfRow builds an nfdump 1.7.1 CSV row with the given leading columns
// (ts..obyt) and defaults for the rest.
func nfRow(lead string) string {
	return lead + ",9,10,64512,15169,24,16,0,0,192.168.0.99,0.0.0.0,42,0,cc:d7:3c:88:60:14,00:00:00:00:00:00,00:00:00:00:00:00,dc:2c:6e:14:d4:34,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,170.80.156.33,0/0,1,2023-01-25 18:36:00.039"
}

func TestNfdumpCSVRecord(t *testing.T) {
	data := nfHeader + "\n" +
		nfRow("2023-01-25 18:35:43,2023-01-25 18:35:45,2.250,52.5.7.161,170.80.156.33,443,57358,TCP,...AP..F,0,40,9,930,2,120") + "\n"
	res := readAll(t, []byte(data), NfdumpCSV, Options{})
	if len(res.errs) != 0 || len(res.flows) != 1 {
		t.Fatalf("errors %v, %d flows", res.errs, len(res.flows))
	}
	want := flow.Record{
		First: unix("2023-01-25T18:35:43Z"), Last: unix("2023-01-25T18:35:45Z"),
		Src: mustAddr("52.5.7.161"), Dst: mustAddr("170.80.156.33"), SrcPort: 443, DstPort: 57358,
		Proto: flow.ProtoTCP, TCPFlags: flow.TCPAck | flow.TCPPsh | flow.TCPFin, ToS: 40, VLAN: 42,
		Packets: 9, Bytes: 930, OutPackets: 2, OutBytes: 120, Evidence: 7,
		Exporter: mustAddr("170.80.156.33"), InIf: 9, OutIf: 10, SrcAS: 64512, DstAS: 15169,
		NextHop: mustAddr("192.168.0.99"), SrcMask: 24, DstMask: 16,
	}
	if res.flows[0] != want {
		t.Fatalf("got  %+v\nwant %+v", res.flows[0], want)
	}
}

func TestNfdumpCSVEdges(t *testing.T) {
	ok := func(lead string) string { return nfRow(lead) }
	good := ok("2023-01-25 18:35:43,2023-01-25 18:35:43,0.000,10.0.0.1,10.0.0.2,1,2,UDP,........,0,0,1,60,0,0")
	cases := []struct {
		name   string
		data   string
		flows  int
		errs   []string // substrings, in order
		fatal  bool
		lines  int64
		detail func(t *testing.T, res result)
	}{
		{name: "summary trailer skipped", flows: 1, lines: 5,
			data: nfHeader + "\n" + good + "\nSummary\nflows,bytes,packets,avg_bps,avg_pps,avg_bpp\n1,60,1,0,0,60\n"},
		{name: "no matching flows", data: nfHeader + "\nNo matching flows\n", lines: 2},
		{name: "repeated header (cat of two exports)", flows: 2, lines: 4,
			data: nfHeader + "\n" + good + "\n" + nfHeader + "\n" + good},
		{name: "header with fewer columns (older nfdump)", flows: 1, lines: 2,
			data: "ts,te,td,sa,da,sp,dp,pr,flg,ipkt,ibyt\n2023-01-25 18:35:43,2023-01-25 18:35:44,1.0,10.0.0.1,10.0.0.2,1,2,17,........,3,180\n"},
		{name: "no header", data: good + "\n", errs: []string{"no nfdump CSV header"}, fatal: true, lines: 1},
		{name: "header without sa", data: "ts,te,da,sp,dp,pr,ipkt,ibyt\n", errs: []string{`no "sa" column`}, fatal: true, lines: 1},
		{name: "duplicate column", data: "ts,te,sa,sa,da,sp,dp,pr,ipkt,ibyt\n", errs: []string{"appears twice"}, fatal: true, lines: 1},
		{name: "field count", flows: 1, lines: 3, data: nfHeader + "\n1,2,3\n" + good + "\n",
			errs: []string{"line 2: bad record: 3 fields, the header has 48"}},
		{name: "bad values keep going", flows: 1, lines: 10,
			data: nfHeader + "\n" +
				ok("2023-01-25 18:35:43,2023-01-25 18:35:43,0,10.0.0.256,10.0.0.2,1,2,UDP,........,0,0,1,60,0,0") + "\n" +
				ok("2023-01-25 18:35:43,2023-01-25 18:35:43,0,10.0.0.1,10.0.0.2,65536,2,UDP,........,0,0,1,60,0,0") + "\n" +
				ok("2023-01-25 18:35:43,2023-01-25 18:35:43,0,10.0.0.1,10.0.0.2,1,2,XYZ,........,0,0,1,60,0,0") + "\n" +
				ok("2023-02-30 18:35:43,2023-01-25 18:35:43,0,10.0.0.1,10.0.0.2,1,2,UDP,........,0,0,1,60,0,0") + "\n" +
				ok("2023-01-25 18:35:43,2023-01-25 18:35:43,0,10.0.0.1,10.0.0.2,1,2,UDP,..Q.....,0,0,1,60,0,0") + "\n" +
				ok("2023-01-25 18:35:43,2023-01-25 18:35:43,0,10.0.0.1,10.0.0.2,1,2,UDP,........,0,256,1,60,0,0") + "\n" +
				ok("2023-01-25 18:35:43,2023-01-25 18:35:43,0,10.0.0.1,10.0.0.2,1,2,UDP,........,0,0,18446744073709551616,60,0,0") + "\n" +
				good + "\n" +
				ok("2023-01-25 18:35:43,2023-01-25 18:35:43,0,10.0.0.1,10.0.0.2,1,2,UDP,........,0,0,1,-60,0,0") + "\n",
			errs: []string{"line 2: bad record: column sa", "line 3: bad record: column sp", "line 4: bad record: column pr",
				"line 5: bad record: column ts", "line 6: bad record: column flg", "line 7: bad record: column stos",
				"line 8: bad record: column ipkt", "line 10: bad record: column ibyt"}},
		{name: "end before start is kept as nfdump printed it", flows: 1, lines: 2,
			data: nfHeader + "\n" + ok("2023-01-25 18:35:43,2023-01-25 18:35:33,18446744073709540.000,10.0.0.1,10.0.0.2,1,2,UDP,........,0,0,1,60,0,0") + "\n",
			detail: func(t *testing.T, res result) {
				if r := res.flows[0]; r.Last-r.First != -10*int64(time.Second) {
					t.Errorf("first %s last %s", ts(r.First), ts(r.Last))
				}
			}},
		{name: "ICMP, padded protocol number, IPv6, exporter unknown", flows: 2, lines: 3,
			data: nfHeader + "\n" +
				strings.Replace(ok("2023-01-25 18:35:43,2023-01-25 18:35:43,0,10.0.0.1,10.0.0.2,0,771,ICMP,........,0,0,1,56,0,0"), "170.80.156.33", "0.0.0.0", 1) + "\n" +
				ok("2023-01-25 18:35:43,2023-01-25 18:35:43,0,2001:db8::1,2001:db8::2,0,0,200  ,........,0,0,1,56,0,0") + "\n",
			detail: func(t *testing.T, res result) {
				if r := res.flows[0]; r.Proto != 1 || r.DstPort != 771 || r.Exporter != (flow.Addr{}) {
					t.Errorf("ICMP record %+v", r)
				}
				if r := res.flows[1]; r.Proto != 200 || r.Src.Is4() {
					t.Errorf("IPv6 record %+v", r)
				}
			}},
		{name: "BOM and CRLF", flows: 1, lines: 2, data: "\ufeff" + nfHeader + "\r\n" + good + "\r\n"},
		{name: "long line", flows: 1, lines: 3, data: nfHeader + "\n" + strings.Repeat("x", 3000) + "\n" + good + "\n",
			errs: []string{"line 2: line too long: longer than 2048 bytes"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := readAll(t, []byte(c.data), NfdumpCSV, Options{MaxLine: 2048})
			if len(res.flows) != c.flows {
				t.Errorf("%d flows, want %d; errors %v", len(res.flows), c.flows, res.errs)
			}
			if len(res.errs) != len(c.errs) {
				t.Fatalf("errors %v, want %q", res.errs, c.errs)
			}
			for i, e := range res.errs {
				if !strings.Contains(e.Error(), c.errs[i]) {
					t.Errorf("error %d = %v, want it to contain %q", i, e, c.errs[i])
				}
				if errors.Is(e, decode.ErrNotEvidence) != c.fatal {
					t.Errorf("error %v: ErrNotEvidence %v, want %v", e, !c.fatal, c.fatal)
				}
			}
			if c.lines != 0 && res.st.Lines != c.lines {
				t.Errorf("%d lines, want %d", res.st.Lines, c.lines)
			}
			if c.detail != nil && len(res.flows) == c.flows {
				c.detail(t, res)
			}
		})
	}
}

// The nfdump CSV export of the shared nfcapd sample: 3018 flows, no errors,
// and the totals nfdump printed in its own Summary trailer.
func TestNfdumpCSVSharedSample(t *testing.T) {
	path := filepath.Join(decodetest.SharedDir(t), "nfcapd", "chrispassas_nfcapd.sample.nfdump-csv.csv")
	data := readFile(t, path)
	res := readAll(t, data, NfdumpCSV, Options{})
	if len(res.errs) != 0 {
		t.Fatalf("errors: %v", res.errs[0])
	}
	var pkts, bytes uint64
	protos := map[uint8]int{}
	for _, r := range res.flows {
		pkts += r.Packets
		bytes += r.Bytes
		protos[r.Proto]++
	}
	// Summary: flows,bytes,packets = 3018,27576229,43558; MANIFEST: TCP 1264,
	// UDP 1650, ICMPv6 96, ICMP 8.
	if len(res.flows) != 3018 || bytes != 27576229 || pkts != 43558 {
		t.Errorf("%d flows, %d bytes, %d packets; want 3018, 27576229, 43558", len(res.flows), bytes, pkts)
	}
	if protos[6] != 1264 || protos[17] != 1650 || protos[58] != 96 || protos[1] != 8 {
		t.Errorf("protocols %v", protos)
	}
	if res.st.Lines != 3022 {
		t.Errorf("%d lines, want 3022 (header, 3018 rows, 3 summary lines)", res.st.Lines)
	}
}

// Every nfdump CSV in the generated reference set agrees, record by record,
// with nfdump's own numeric fmt: output of the same nfcapd file (protocol
// numbers instead of names, epoch start times, ICMP as type.code).
func TestNfdumpCSVMatchesNfdumpFmt(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(decodetest.SharedDir(t), "generated", "*", "*.nfdump.csv"))
	if len(files) == 0 {
		t.Fatal("no generated nfdump CSV files")
	}
	total := 0
	for _, path := range files {
		res := readAll(t, readFile(t, path), NfdumpCSV, Options{})
		if len(res.errs) != 0 {
			t.Errorf("%s: %v", path, res.errs[0])
			continue
		}
		fmtLines := strings.Split(strings.TrimSpace(string(readFile(t, strings.TrimSuffix(path, ".nfdump.csv")+".nfdump.fmt.csv"))), "\n")[1:]
		if len(fmtLines) == 1 && fmtLines[0] == "" {
			fmtLines = nil
		}
		if len(fmtLines) != len(res.flows) {
			t.Errorf("%s: %d records, fmt output has %d", path, len(res.flows), len(fmtLines))
			continue
		}
		for i, l := range fmtLines {
			if err := sameAsFmt(&res.flows[i], l); err != nil {
				t.Errorf("%s record %d: %v\n  fmt %s\n  got %s", filepath.Base(path), i+1, err, l, formatFlow(&res.flows[i], ""))
				break
			}
			total++
		}
	}
	t.Logf("%d records in %d files agree", total, len(files))
}

// sameAsFmt compares a record with one line of
// fmt:%tsr,%td,%te,%pr,%sa,%sp,%da,%dp,%ipkt,%ibyt,%opkt,%obyt,%flg,%tos,%nfv.
func sameAsFmt(r *flow.Record, line string) error {
	f := strings.Split(line, ",")
	if len(f) != 15 {
		return fmt.Errorf("fmt line has %d fields", len(f))
	}
	tsr, ok := parseSeconds([]byte(f[0]))
	if !ok {
		return fmt.Errorf("bad tsr")
	}
	te, ok := parseTime([]byte(f[2]), time.UTC)
	if !ok {
		return fmt.Errorf("bad te")
	}
	// The CSV has whole seconds.
	floor := func(ns int64) int64 { return ns - ((ns%1e9)+1e9)%1e9 }
	dport := f[7]
	if typ, code, isICMP := strings.Cut(dport, "."); isICMP {
		var t, c int
		fmt.Sscan(typ, &t)
		fmt.Sscan(code, &c)
		dport = fmt.Sprint(t<<8 | c)
	}
	flags, _ := parseTCPFlags([]byte(f[12]))
	got := fmt.Sprintln(r.First, r.Last, r.Proto, r.Src, r.SrcPort, r.Dst, r.DstPort, r.Packets, r.Bytes, r.OutPackets, r.OutBytes, r.TCPFlags, r.ToS)
	want := fmt.Sprintln(floor(tsr), floor(te), f[3], mustAddr(f[4]), f[5], mustAddr(f[6]), dport, f[8], f[9], f[10], f[11], flags, f[13])
	if got != want {
		return fmt.Errorf("got %s, want %s", got, want)
	}
	return nil
}

// nfdump prints local time. Export the shared nfcapd sample again with
// nfdump itself in a zone far from UTC; read with that zone, every record
// equals the committed UTC export's.
func TestNfdumpCSVTimeZoneWithNfdump(t *testing.T) {
	nfdump := decodetest.Tool(t, "nfdump", "nfdump")
	dir := decodetest.SharedDir(t)
	sample := filepath.Join(dir, "nfcapd", "chrispassas_nfcapd.sample")
	const zone = "Asia/Kathmandu" // UTC+5:45: minutes and hours both move
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nfdump, "-r", sample, "-o", "csv")
	cmd.Env = append(os.Environ(), "TZ="+zone)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("nfdump: %v", err)
	}
	local := readAll(t, out, NfdumpCSV, Options{Location: loc})
	utc := readAll(t, readFile(t, sample+".nfdump-csv.csv"), NfdumpCSV, Options{})
	if len(local.errs)+len(utc.errs) != 0 || len(local.flows) != 3018 || len(utc.flows) != 3018 {
		t.Fatalf("%d/%d flows, errors %v %v", len(local.flows), len(utc.flows), local.errs, utc.errs)
	}
	if bytes.Equal(out, readFile(t, sample+".nfdump-csv.csv")) {
		t.Fatal("the local-time export equals the UTC one; the time zone did not take")
	}
	for i := range utc.flows {
		if local.flows[i] != utc.flows[i] {
			t.Fatalf("record %d:\n %s (TZ=%s)\n %s (UTC)", i, formatFlow(&local.flows[i], ""), zone, formatFlow(&utc.flows[i], ""))
		}
	}
	// Read as UTC, the same export is 5h45m late.
	wrong := readAll(t, out, NfdumpCSV, Options{})
	if d := wrong.flows[0].First - utc.flows[0].First; d != int64(5*time.Hour+45*time.Minute) {
		t.Fatalf("offset %v", time.Duration(d))
	}
}
