package input

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spotctl/spotctl/decode/decodetest"
)

func TestDescribe(t *testing.T) {
	tar := make([]byte, 512)
	copy(tar, "evidence.pcap")
	copy(tar[257:], "ustar\x0000")
	cases := []struct {
		head string
		want string
	}{
		{"", "an empty file"},
		{"\xd4\xc3\xb2\xa1\x02\x00", "a pcap capture"},
		{"\xa1\xb2\x3c\x4d", "a pcap capture with nanosecond timestamps"},
		{"\n\r\r\n\x1c\x00\x00\x00\x4d\x3c\x2b\x1a", "a pcapng capture"},
		{"\n\r\r\n\x1c\x00\x00\x00abcd", "unknown data (first bytes 0x0a0d0d0a1c000000)"}, // no byte-order magic
		{"\x34\xcd\xb2\xa1", "a modified-libpcap (Kuznetsov) capture"},
		{"snoop\x00\x00\x00\x00\x00\x00\x02", "a Solaris snoop capture"},
		{"\x1f\x8b\x08\x00", "gzip data"},
		{"\x28\xb5\x2f\xfd\x04", "zstd data"},
		{"BZh91AY&SY", "bzip2 data"},
		{"BZhello", "plain text"},
		{"\xfd7zXZ\x00\x00", "xz data"},
		{"\x04\x22\x4d\x18", "LZ4 data"},
		{"PK\x03\x04\x14\x00", "a ZIP archive"},
		{"PK\x05\x06" + strings.Repeat("\x00", 18), "a ZIP archive"},
		{"7z\xbc\xaf\x27\x1c\x00\x04", "a 7-Zip archive"},
		{"Rar!\x1a\x07\x01\x00", "a RAR archive"},
		{string(tar), "a tar archive"},
		{"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", "a PNG image"},
		{"\xff\xd8\xff\xe0\x00\x10JFIF", "a JPEG image"},
		{"GIF89a\x01\x00", "a GIF image"},
		{"%PDF-1.7\n", "a PDF document"},
		{"\x7fELF\x02\x01\x01\x00", "an ELF executable"},
		{"\xcf\xfa\xed\xfe\x07\x00\x00\x01", "a Mach-O executable"},
		{"SQLite format 3\x00\x10\x00", "an SQLite database"},
		{"MZ\x90\x00\x03\x00\x00\x00", "a Windows executable"},
		{"MZ is a plain word here\n", "plain text"},
		{"\x0c\xa5\x01\x00\x01\x00\x00\x00", "an nfdump nfcapd file"},
		{"\xa5\x0c\x00\x02\x00\x00\x00\x01", "an nfdump nfcapd file"},
		{"\x0c\xa5\x07\x00", "unknown data (first bytes 0x0ca50700)"},
		{"#separator \\x09\n#set_separator\t,\n", "a Zeek log"},
		{"ts,te,td,sa,da,sp,dp,pr,flg\n", "an nfdump CSV export"},
		{"StartTime,Dur,Proto,SrcAddr\n", "an Argus flow listing"},
		{"StartTime\tDur\tProto\n", "an Argus flow listing"},
		{"  {\"a\": 1}", "JSON text"},
		{"[1, 2]", "JSON text"},
		{"[section]\nkey=value\n", "plain text"},
		{"<!DOCTYPE html><html>", "an HTML document"},
		{"<?xml version=\"1.0\"?>", "an XML document"},
		{"src,dst,bytes\n1,2,3\n", "CSV text"},
		{"incident notes\nnothing to see\n", "plain text"},
		{"caf\xc3\xa9 \xe2\x82", "plain text"}, // rune cut at the end of the sniffed bytes
		{"abc", "plain text"},
		{"a\x00b", "unknown data (first bytes 0x610062)"},
		{"\x01\x02\x03", "unknown data (first bytes 0x010203)"},
		{"\xde\xad\xbe\xef\x00\x01\x02\x03\x04\x05", "unknown data (first bytes 0xdeadbeef00010203)"},
	}
	for _, c := range cases {
		if got := Describe([]byte(c.head)); got != c.want {
			t.Errorf("Describe(%q) = %q, want %q", c.head[:min(len(c.head), 16)], got, c.want)
		}
	}
}

// TestDescribeSharedFlowFiles names the other real evidence types of the
// shared folder correctly, so the "not a capture" message is useful until
// their readers exist.
func TestDescribeSharedFlowFiles(t *testing.T) {
	dir := decodetest.SharedDir(t)
	want := map[string]string{
		"netflow-raw/logstash_netflow5.dat":                     "NetFlow v5 export datagrams",
		"netflow-raw/logstash_netflow9_cisco_asa_1_tpl.dat":     "NetFlow v9 export datagrams",
		"netflow-raw/logstash_netflow9_cisco_asa_1_data.dat":    "NetFlow v9 export datagrams",
		"netflow-raw/logstash_ipfix.dat":                        "IPFIX export messages",
		"netflow-raw/logstash_ipfix_openbsd_pflow_tpl.dat":      "IPFIX export messages",
		"nfcapd/chrispassas_nfcapd.sample":                      "an nfdump nfcapd file",
		"nfcapd/chrispassas_nfcapd-small-lzo":                   "an nfdump nfcapd file",
		"nfcapd/chrispassas_nfcapd.sample.nfdump-csv.csv":       "an nfdump CSV export",
		"flows/slips_test3-mixed.binetflow":                     "an Argus flow listing",
		"flows/slips_test5-mixed.binetflow":                     "an Argus flow listing",
		"generated/arkime_v6/arkime_v6.sf-v10.softflowd.log":    "plain text",
		"generated/arkime_v6/arkime_v6.pm-v9.nfdump.fmt.csv":    "CSV text",
		"generated/arkime_v6/arkime_v6.pm-v10.export.pcap":      "a pcap capture",
		"pcap/gopacket_linux_sll_oversized_addr.pcapng":         "a pcapng capture",
		"netflow-raw/logstash_ipfix_openbsd_pflow_data.dat":     "IPFIX export messages",
		"generated/arkime_v6/arkime_v6.nfpcapd.nfcapd":          "an nfdump nfcapd file",
		"generated/arkime_v6/arkime_v6.sf-v10bi.tshark.tsv":     "plain text",
		"generated/arkime_v6/arkime_v6.nfpcapd.nfdump.csv":      "an nfdump CSV export",
		"generated/arkime_v6/arkime_v6.argus.csv":               "an Argus flow listing",
		"nfcapd/chrispassas_nfcapd-corrupt":                     "an nfdump nfcapd file",
		"nfcapd/chrispassas_nfcapd-empty":                       "an nfdump nfcapd file",
		"generated/arkime_v6/arkime_v6.sf-v5.nfcapd":            "an nfdump nfcapd file",
		"generated/arkime_v6/arkime_v6.sf-v9.nfdump.fmt.csv":    "CSV text",
		"generated/arkime_v6/arkime_v6.sf-v10ms.softflowd.log":  "plain text",
		"generated/arkime_v6/arkime_v6.sf-v10bi.nfdump.csv":     "an nfdump CSV export",
		"generated/arkime_v6/arkime_v6.pm-v10.nfdump.fmt.csv":   "CSV text",
		"generated/arkime_v6/arkime_v6.pm-v9.tshark.tsv":        "plain text",
		"generated/arkime_v6/arkime_v6.sf-v10ms.nfdump.fmt.csv": "CSV text",
	}
	for name, w := range want {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := Describe(b); got != w {
			t.Errorf("%s: Describe = %q, want %q", name, got, w)
		}
	}
}
