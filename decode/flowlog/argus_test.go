package flowlog

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spotctl/spotctl/decode/decodetest"
	"github.com/spotctl/spotctl/decode/flow"
)

func TestArgusSharedBinetflow(t *testing.T) {
	dir := filepath.Join(decodetest.SharedDir(t), "flows")

	// test3: comma-separated, 89 rows, Label column empty.
	res := readAll(t, readFile(t, filepath.Join(dir, "slips_test3-mixed.binetflow")), ArgusCSV, Options{})
	if len(res.errs) != 0 || len(res.flows) != 89 || res.st.Skipped != 0 {
		t.Fatalf("test3: %d flows, %d skipped, errors %v", len(res.flows), res.st.Skipped, res.errs)
	}
	for i, l := range res.labels {
		if l != "" {
			t.Fatalf("test3 record %d has label %q", i, l)
		}
	}
	// "2018/12/18 14:00:11.171480,0.000515,icmp,168.1.206.67,0x0008,  <->,147.32.87.1,0x0f72,ECO,164,164,2,220,110,1,"
	var echo *flow.Record
	for i := range res.flows {
		if res.flows[i].Proto == flow.ProtoICMP {
			echo = &res.flows[i]
		}
	}
	want := flow.Record{
		First: unix("2018-12-18T14:00:11.17148Z"), Last: unix("2018-12-18T14:00:11.171995Z"),
		Src: mustAddr("168.1.206.67"), Dst: mustAddr("147.32.87.1"), DstPort: 8 << 8, Proto: flow.ProtoICMP,
		ToS: 164, Packets: 1, Bytes: 110, OutPackets: 1, OutBytes: 110, Evidence: 7,
	}
	if echo == nil || *echo != want {
		t.Fatalf("ICMP echo record\n got  %+v\n want %+v", echo, want)
	}
	// "…,tcp,216.73.23.146,52798,   ->,147.32.81.58,445,S_RA,0,0,2,134,70,1,": the
	// source sent SYN, the destination answered RST-ACK.
	if r := res.flows[1]; r.TCPFlags != flow.TCPSyn || r.Packets != 1 || r.OutPackets != 1 || r.Bytes != 70 || r.OutBytes != 64 {
		t.Fatalf("second record %s", formatFlow(&r, ""))
	}

	// test5: TAB-separated and labelled; one Argus management record, one
	// LLC and two ARP records are not IP flows.
	cet := time.FixedZone("CET", 3600)
	res = readAll(t, readFile(t, filepath.Join(dir, "slips_test5-mixed.binetflow")), ArgusCSV, Options{Location: cet})
	if len(res.errs) != 0 || len(res.flows) != 296 || res.st.Skipped != 4 || res.st.Lines != 301 {
		t.Fatalf("test5: %d flows, %d skipped, %d lines, errors %v", len(res.flows), res.st.Skipped, res.st.Lines, res.errs)
	}
	counts := map[string]int{}
	for _, l := range res.labels {
		counts[l]++
	}
	wantLabels := map[string]int{
		"flow=Malware-UDP-DNS": 197, "flow=Malware-TCP": 80, "flow=Background-UDP-Attempt": 8,
		"flow=Background-UDP-DNS": 5, "flow=Background": 3, "flow=Background-ICMP": 1,
		"flow=Background-UDP-Attempt-NetBIOS": 1, "flow=TCP-Established-To-Microsoft-7": 1,
	}
	for l, n := range wantLabels {
		if counts[l] != n {
			t.Errorf("label %q: %d records, want %d", l, counts[l], n)
		}
	}
	if len(counts) != len(wantLabels) {
		t.Errorf("labels %v", counts)
	}
	// The capture started at the epoch; CTU printed it in CET.
	if r := res.flows[0]; r.First != 8140073000 || r.SrcPort != 68 || r.DstPort != 67 {
		t.Errorf("first record %s", formatFlow(&r, ""))
	}
	// "0x0303" from 10.0.2.15: port unreachable, type 3 code 3.
	for _, r := range res.flows {
		if r.Proto == flow.ProtoICMP && r.DstPort != 3<<8|3 {
			t.Errorf("ICMP record %s", formatFlow(&r, ""))
		}
	}
}

// The ra listings of the generated reference set: every record is a flow
// or a counted non-IP record, and the packet and byte totals over both
// directions equal the README's totals table.
func TestArgusGeneratedTotals(t *testing.T) {
	totals := map[string][3]uint64{ // records, packets, bytes (generated/README.md)
		"arkime_v6": {53, 161, 25651}, "gopacket_linux_sll_oversized_addr": {50, 209, 17416},
		"ndpi_android": {89, 500, 133530}, "ndpi_iphone": {72, 500, 221902},
		"spotctl_loopback": {382, 2560, 1780628}, "tcpdump_dns_tcp": {1, 11, 922},
		"zeek_http_bro.org": {25, 751, 494493}, "zeek_icmp_dot1q": {9, 15, 1446},
		"zeek_ipv6-fragmented-dns": {5, 8, 4620}, "zeek_var-services-std-ports": {50, 263, 49573},
		"zeek_vlan-qinqinq": {1, 14, 6255}, "zeek_wikipedia": {42, 136, 25260},
	}
	dir := filepath.Join(decodetest.SharedDir(t), "generated")
	for name, want := range totals {
		data := readFile(t, filepath.Join(dir, name, name+".argus.csv"))
		res := readAll(t, data, ArgusCSV, Options{})
		if len(res.errs) != 0 {
			t.Errorf("%s: %v", name, res.errs[0])
			continue
		}
		var pkts, bytes uint64
		for _, r := range res.flows {
			pkts += r.Packets + r.OutPackets
			bytes += r.Bytes + r.OutBytes
		}
		// Add the skipped non-IP records from the text itself
		// (columns spkts dpkts sbytes dbytes are 9..12).
		var skipped uint64
		for _, l := range strings.Split(string(data), "\n")[1:] {
			f := strings.Split(l, ",")
			if len(f) < 13 || !isNonIP([]byte(f[2])) {
				continue
			}
			skipped++
			for i, dst := range []*uint64{&pkts, &pkts, &bytes, &bytes} {
				v, _ := strconv.ParseUint(f[8+i], 10, 64)
				*dst += v
			}
		}
		if uint64(len(res.flows))+skipped != want[0] || uint64(res.st.Skipped) != skipped || pkts != want[1] || bytes != want[2] {
			t.Errorf("%s: %d flows + %d skipped, %d packets, %d bytes; want %v", name, len(res.flows), res.st.Skipped, pkts, bytes, want)
		}
	}
}

func TestArgusEdges(t *testing.T) {
	const hdr = "StartTime,LastTime,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,SrcPkts,DstPkts,SrcBytes,DstBytes,State\n"
	cases := []struct {
		name  string
		data  string
		flows int
		skip  int64
		errs  []string
		check func(t *testing.T, r []flow.Record)
	}{
		{name: "epoch times, both directions", flows: 1,
			data: hdr + "921159902.141757,921159902.215272,udp,3ffe:507::1,2396,<->,3ffe:501::42,53,1,2,90,510,CON\n",
			check: func(t *testing.T, r []flow.Record) {
				if r[0].Packets != 1 || r[0].OutPackets != 2 || r[0].Bytes != 90 || r[0].OutBytes != 510 || r[0].Last-r[0].First != 73515000 {
					t.Errorf("%s", formatFlow(&r[0], ""))
				}
			}},
		{name: "ICMPv6 type and code in decimal", flows: 1,
			data: hdr + "1,2,ipv6-icmp,fe80::1,135,->,ff02::1,4,1,0,86,0,NNS\n",
			check: func(t *testing.T, r []flow.Record) {
				if r[0].Proto != 58 || r[0].SrcPort != 0 || r[0].DstPort != 135<<8|4 {
					t.Errorf("%s", formatFlow(&r[0], ""))
				}
			}},
		{name: "ICMP decimal type out of range", errs: []string{"ICMP type 300"},
			data: hdr + "1,2,icmp,10.0.0.1,300,->,10.0.0.2,0,1,0,86,0,ECO\n"},
		{name: "non-IP records are skipped", skip: 3,
			data: hdr + "1,2,arp,10.0.0.1,,who,10.0.0.2,,1,1,60,60,CON\n" +
				"1,2,llc,00:11:22:33:44:55,0,->,66:77:88:99:aa:bb,0,1,0,60,0,INT\n" +
				"1,2,0x88cc,00:11:22:33:44:55,,->,01:80:c2:00:00:0e,,1,0,60,0,INT\n"},
		{name: "unknown protocol over IP addresses is an error", errs: []string{"column Proto"},
			data: hdr + "1,2,frobnicate,10.0.0.1,1,->,10.0.0.2,2,1,0,60,0,INT\n"},
		{name: "counters that do not add up", errs: []string{"SrcPkts 5 > TotPkts 4", "SrcBytes 1 + DstBytes 1 != TotBytes 3"},
			data: "StartTime,Proto,SrcAddr,DstAddr,TotPkts,SrcPkts,TotBytes,SrcBytes,DstBytes\n" +
				"1,tcp,10.0.0.1,10.0.0.2,4,5,10,5,5\n1,tcp,10.0.0.1,10.0.0.2,4,2,3,1,1\n"},
		{name: "CTU-13 layout: no per-side packets, Dur for the end", flows: 1,
			data: "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes,SrcBytes,Label\n" +
				"2011/08/10 09:46:53.047277,3550.182373,udp,212.50.71.179,39678,  <->,147.32.84.229,13363,CON,0,0,12,875,413,flow=Background-UDP-Established\n",
			check: func(t *testing.T, r []flow.Record) {
				if r[0].Packets != 12 || r[0].OutPackets != 0 || r[0].Bytes != 413 || r[0].OutBytes != 462 ||
					r[0].Last-r[0].First != 3550182373000 {
					t.Errorf("%s", formatFlow(&r[0], ""))
				}
			}},
		{name: "bad fields", errs: []string{"column SrcAddr", "column Sport", "a time without a date", "4 fields, the header has 13"},
			data: hdr + "1,2,tcp,10.0.0,1,->,10.0.0.2,2,1,0,60,0,CON\n" +
				"1,2,tcp,10.0.0.1,http,->,10.0.0.2,2,1,0,60,0,CON\n" +
				"14:00:00.075359,2,tcp,10.0.0.1,1,->,10.0.0.2,2,1,0,60,0,CON\n" +
				"1,2,tcp,10.0.0.1\n"},
		{name: "no header", errs: []string{"no Argus header"}, data: "1,2,tcp,10.0.0.1,1,->,10.0.0.2,2,1,0,60,0,CON\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := readAll(t, []byte(c.data), ArgusCSV, Options{})
			if len(res.flows) != c.flows || res.st.Skipped != c.skip || len(res.errs) != len(c.errs) {
				t.Fatalf("%d flows, %d skipped, errors %v", len(res.flows), res.st.Skipped, res.errs)
			}
			for i, e := range res.errs {
				if !strings.Contains(e.Error(), c.errs[i]) {
					t.Errorf("error %v, want %q", e, c.errs[i])
				}
			}
			if c.check != nil {
				c.check(t, res.flows)
			}
		})
	}
}
