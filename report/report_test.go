package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/report/textsafe"
)

func TestAppendJSONStringHostile(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{"q\"b\\s", `"q\"b\\s"`},
		{"\x1b[31m", `"\u001b[31m"`},
		{"a\xffb", `"a\\xffb"`},
		{"<html>&", `"<html>&"`},
		{"ümlaut", `"ümlaut"`},
		{"\u2028", `"\u2028"`},
	}
	for _, tt := range tests {
		got := string(AppendJSONString(nil, tt.in))
		if got != tt.want {
			t.Errorf("AppendJSONString(%q) = %s, want %s", tt.in, got, tt.want)
		}
		if !utf8.ValidString(got) || !json.Valid([]byte(got)) {
			t.Errorf("AppendJSONString(%q) = %s is not valid UTF-8 JSON", tt.in, got)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add("x\x00\xff\u202e")
	f.Fuzz(func(t *testing.T, s string) {
		b := AppendJSONString(nil, s)
		if !json.Valid(b) || !utf8.Valid(b) {
			t.Fatalf("invalid JSON for %q: %s", s, b)
		}
		if utf8.ValidString(s) {
			var back string
			if err := json.Unmarshal(b, &back); err != nil || back != s {
				t.Fatalf("round trip of valid UTF-8 %q gave %q (%v)", s, back, err)
			}
		}
	})
}

func sampleFlow() *flow.Record {
	return &flow.Record{
		First: 1700000000123456789, Last: 1700000001000000000,
		Src: flow.AddrFrom4([4]byte{10, 0, 0, 1}), Dst: flow.AddrFromSlice([]byte{0x20, 1, 0xd, 0xb8, 15: 1}),
		SrcPort: 51000, DstPort: 443, Proto: 6, Packets: 10, Bytes: 5000, TCPFlags: 0x1b, VLAN: 7,
		OutPackets: 8, OutBytes: 9000, Exporter: flow.AddrFrom4([4]byte{192, 0, 2, 9}), ObsDomain: 1, SrcAS: 64500,
		DstAS: 15169, InIf: 3, OutIf: 4, SrcMask: 24, DstMask: 32, EndReason: 3, Sampling: 100,
	}
}

func TestFormatsOfOneFlow(t *testing.T) {
	row := make([]Value, len(FlowColumns))
	FlowRow(sampleFlow(), row)
	var jl, csvb, tsvb bytes.Buffer
	for _, w := range []RowWriter{NewJSONL(&jl, FlowColumns), NewCSV(&csvb, FlowColumns, Options{}), NewTSV(&tsvb, FlowColumns, Options{})} {
		if err := w.WriteRow(row); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	wantJ := `{"first":"2023-11-14T22:13:20.123456789Z","last":"2023-11-14T22:13:21.000000000Z","src_ip":"10.0.0.1","src_port":51000,"dst_ip":"2001:db8::1","dst_port":443,"proto":6,"packets":10,"bytes":5000,"tcp_flags":27,"tos":0,"vlan":7,"out_packets":8,"out_bytes":9000,"exporter":"192.0.2.9","obs_domain":1,"src_as":64500,"dst_as":15169,"in_if":3,"out_if":4,"next_hop":"","src_mask":24,"dst_mask":32,"end_reason":3,"sampling":100}` + "\n"
	if jl.String() != wantJ {
		t.Errorf("jsonl:\n%s\nwant\n%s", jl.String(), wantJ)
	}
	wantC := "first,last,src_ip,src_port,dst_ip,dst_port,proto,packets,bytes,tcp_flags,tos,vlan,out_packets,out_bytes,exporter,obs_domain,src_as,dst_as,in_if,out_if,next_hop,src_mask,dst_mask,end_reason,sampling\n" +
		"2023-11-14T22:13:20.123456789Z,2023-11-14T22:13:21.000000000Z,10.0.0.1,51000,2001:db8::1,443,6,10,5000,27,0,7,8,9000,192.0.2.9,1,64500,15169,3,4,,24,32,3,100\n"
	if csvb.String() != wantC {
		t.Errorf("csv:\n%s\nwant\n%s", csvb.String(), wantC)
	}
	if want := strings.ReplaceAll(wantC, ",", "\t"); tsvb.String() != want {
		t.Errorf("tsv:\n%s\nwant\n%s", tsvb.String(), want)
	}
}

func TestCSVDefusesFormulas(t *testing.T) {
	cols := []Column{{Name: "qname", Kind: String}}
	var b bytes.Buffer
	w := NewCSV(&b, cols, Options{NoHeader: true})
	w.WriteRow([]Value{{S: "=HYPERLINK(\"http://x\")"}})
	w.WriteRow([]Value{{S: "a\xffb"}})
	w.Flush()
	want := "\"'=HYPERLINK(\"\"http://x\"\")\"\na\\xffb\n"
	if b.String() != want {
		t.Errorf("csv = %q, want %q", b.String(), want)
	}
}

func TestSelect(t *testing.T) {
	idx, err := Select(FlowColumns, []string{"bytes", "src_ip"})
	if err != nil || len(idx) != 2 || FlowColumns[idx[0]].Name != "bytes" || FlowColumns[idx[1]].Name != "src_ip" {
		t.Fatalf("Select = %v, %v", idx, err)
	}
	_, err = Select(FlowColumns, []string{"nope"})
	if err == nil || !strings.Contains(err.Error(), "valid: first, last, src_ip") {
		t.Fatalf("unknown field error = %v", err)
	}
}

func TestJSONArrayEmpty(t *testing.T) {
	var b bytes.Buffer
	w := NewJSON(&b, FlowColumns)
	w.Flush()
	if b.String() != "[]\n" {
		t.Errorf("empty json = %q", b.String())
	}
}

func TestAnswersJSON(t *testing.T) {
	b := AppendJSONValue(nil, Answers, Value{A: []flow.Answer{{Type: 1, Data: "192.0.2.1"}, {Type: 5, Data: "x.example"}, {Type: 99}}})
	want := `[{"type":"A","data":"192.0.2.1"},{"type":"CNAME","data":"x.example"},{"type":"SPF","data":""}]`
	if string(b) != want {
		t.Errorf("answers = %s", b)
	}
	if got := AnswersText([]flow.Answer{{Type: 1, Data: "192.0.2.1"}, {Type: 65534}}); got != "A 192.0.2.1; TYPE65534" {
		t.Errorf("AnswersText = %q", got)
	}
}

func TestTCPFlagsText(t *testing.T) {
	if got := TCPFlagsText(0x1b); got != "...AP.SF" {
		t.Errorf("TCPFlagsText(0x1b) = %q", got)
	}
}

// The CSV writer quotes exactly as encoding/csv does (after defusing).
func TestCSVQuotingMatchesEncodingCSV(t *testing.T) {
	cols := []Column{{Name: "a", Kind: String}, {Name: "n", Kind: Uint}}
	for _, s := range []string{"", "plain", "a,b", `say "hi"`, "line\nbreak", "cr\rx", " lead", "\tlead", `\.`, "=1+2", "-x", "ü,ß", "a\xffb", `""`, "x y"} {
		var got, want bytes.Buffer
		w := NewCSV(&got, cols, Options{NoHeader: true})
		w.WriteRow([]Value{{S: s}, {U: 7}})
		w.Flush()
		cw := csv.NewWriter(&want)
		cw.Write([]string{textsafe.Spreadsheet(validUTF8(s)), "7"})
		cw.Flush()
		if got.String() != want.String() {
			t.Errorf("%q: got %q, encoding/csv %q", s, got.String(), want.String())
		}
	}
}

func TestAppendTimeMatchesFormat(t *testing.T) {
	for _, ns := range []int64{0, 1, 999999999, 1700000000123456789, -1, -62135596800000000000 / 1000, 253402300799999999999 / 1000, 1<<63 - 1, -1 << 63} {
		want := time.Unix(0, ns).UTC().Format(TimeLayout)
		if got := string(AppendTime(nil, ns)); got != want {
			t.Errorf("AppendTime(%d) = %q, want %q", ns, got, want)
		}
	}
}
