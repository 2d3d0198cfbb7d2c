package flowlog

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/spotctl/spotctl/decode/decodetest"
)

func head(b []byte) []byte { return b[:min(len(b), 512)] }

// Every text flow file of the shared data is detected as its format and
// reads without a single error.
func TestDetectAndReadSharedFiles(t *testing.T) {
	dir := decodetest.SharedDir(t)
	var files []string
	for _, pattern := range []string{"flows/*", "nfcapd/*.csv", "generated/*/*.argus.csv", "generated/*/*.nfdump.csv"} {
		m, _ := filepath.Glob(filepath.Join(dir, pattern))
		files = append(files, m...)
	}
	if len(files) < 100 {
		t.Fatalf("only %d files", len(files))
	}
	for _, p := range files {
		data := readFile(t, p)
		f, ok := Detect(head(data))
		want := NfdumpCSV
		if strings.HasSuffix(p, ".argus.csv") || strings.HasSuffix(p, ".binetflow") {
			want = ArgusCSV
		}
		if !ok || f != want {
			t.Errorf("%s: detected %q %v, want %q", p, f, ok, want)
			continue
		}
		res := readAll(t, data, f, Options{})
		if len(res.errs) != 0 {
			t.Errorf("%s: %v", p, res.errs[0])
		}
	}
}

func TestDetect(t *testing.T) {
	for file, want := range map[string]Format{
		"conn.log": ZeekConn, "dns.log": ZeekDNS, "conn.json": ZeekConnJSON, "dns.json": ZeekDNSJSON, "spot.csv": SpotCSV,
	} {
		if f, ok := Detect(head(readFile(t, "testdata/"+file))); !ok || f != want {
			t.Errorf("%s: %q %v, want %q", file, f, ok, want)
		}
	}
	zeekPre := "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
	cases := []struct {
		name string
		head string
		want Format // "" = not detected
	}{
		{"nfdump", nfHeader + "\n", NfdumpCSV},
		{"nfdump CRLF BOM", "\ufeff" + nfHeader + "\r\n", NfdumpCSV},
		{"spot header", spotHeader + "\n", SpotCSV},
		{"spot row", "2016-07-08 10:15:23,2016,7,8,10,15,23,1.500,10.0.0.5,93.184.216.34,49152,80,TCP,.AP.SF,0,0,7,784,0,0,1,2,0,0,0,0,192.168.1.1\n", SpotCSV},
		{"spot-like row with 26 fields", "2016-07-08 10:15:23,2016,7,8,10,15,23,1.500,10.0.0.5,93.184.216.34,49152,80,TCP,.AP.SF,0,0,7,784,0,0,1,2,0,0,0,0\n", ""},
		{"argus comma", "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State\n", ArgusCSV},
		{"argus tab", "StartTime\tDur\tProto\tSrcAddr\tSport\tDir\tDstAddr\tDport\n", ArgusCSV},
		{"argus without addresses", "StartTime,Dur,Proto,Sport\n", ""},
		{"zeek conn by fields", zeekPre + "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tconn_state\n", ZeekConn},
		{"zeek dns by fields", zeekPre + "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\tquery\n", ZeekDNS},
		{"zeek http", zeekPre + "#path\thttp\n#fields\tts\tuid\tid.orig_h\n", ""},
		{"zeek cut short", zeekPre + "#open\t2024", ""},
		{"zeek bad separator", "#separator tab\n", ""},
		{"json conn", `{"ts":1.5,"uid":"C","id.orig_h":"10.0.0.1","id.orig_p":1,"conn_state":"S0"}` + "\n", ZeekConnJSON},
		{"json dns by _path", `{"_path":"dns","ts":1.5,"uid":"C","id.orig_h":"10.0.0.1"}`, ZeekDNSJSON},
		{"json nested id", `{"ts":1.5,"id":{"orig_h":"10.0.0.1"},"trans_id":5}`, ZeekDNSJSON},
		{"json http", `{"ts":1.5,"uid":"C","id.orig_h":"10.0.0.1","method":"GET"}`, ""},
		{"json without id", `{"ts":1.5,"conn_state":"S0"}`, ""},
		{"other csv", "a,b,c\n1,2,3\n", ""},
		{"pcap", "\xd4\xc3\xb2\xa1\x02\x00\x04\x00", ""},
		{"empty", "", ""},
	}
	for _, c := range cases {
		f, ok := Detect([]byte(c.head))
		if ok != (c.want != "") || f != c.want {
			t.Errorf("%s: %q %v, want %q", c.name, f, ok, c.want)
		}
	}
}
