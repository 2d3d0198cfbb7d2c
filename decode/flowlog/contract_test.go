package flowlog

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/flow"
)

// fixtures returns one valid input per format.
func fixtures(t *testing.T) map[Format][]byte {
	return map[Format][]byte{
		NfdumpCSV:    []byte(nfHeader + "\n" + nfRow("2023-01-25 18:35:43,2023-01-25 18:35:45,2.250,52.5.7.161,170.80.156.33,443,57358,TCP,...AP..F,0,40,9,930,2,120") + "\n"),
		SpotCSV:      readFile(t, "testdata/spot.csv"),
		ArgusCSV:     []byte("StartTime,Proto,SrcAddr,Sport,DstAddr,Dport,SrcPkts,DstPkts\n1,udp,10.0.0.1,1,10.0.0.2,53,1,1\n"),
		ZeekConn:     readFile(t, "testdata/conn.log"),
		ZeekConnJSON: readFile(t, "testdata/conn.json"),
		ZeekDNS:      readFile(t, "testdata/dns.log"),
		ZeekDNSJSON:  readFile(t, "testdata/dns.json"),
	}
}

// Reading one byte at a time gives the same records and errors as reading
// in large chunks: nothing depends on where the source's reads end.
func TestChunkingDoesNotMatter(t *testing.T) {
	bad := []byte("\n1,2\n" + strings.Repeat("z", 300) + "\n")
	for f, data := range fixtures(t) {
		data = append(append([]byte(nil), data...), bad...)
		whole := readAll(t, data, f, Options{MaxLine: 256})
		var split result
		split.st, split.err = Options{MaxLine: 256}.Read(&oneByteReader{data}, "test.log", f, 7,
			func(r *flow.Record, m Meta) {
				split.flows = append(split.flows, *r)
				split.labels = append(split.labels, m.Label)
			},
			func(m *flow.DNSMessage) {
				c := *m
				c.Answers = append([]flow.Answer(nil), m.Answers...)
				split.dns = append(split.dns, c)
			},
			func(e *decode.Error) error { split.errs = append(split.errs, e); return nil })
		if whole.render() != split.render() {
			t.Errorf("%s: one-byte reads differ:\n%s\n---\n%s", f, whole.render(), split.render())
		}
		if len(whole.errs) == 0 {
			t.Errorf("%s: the bad lines gave no errors", f)
		}
	}
}

// onErr decides: a non-nil return stops the read and is returned as is.
func TestOnErrStops(t *testing.T) {
	stop := errors.New("stop")
	for f, data := range fixtures(t) {
		data = append([]byte(nil), data...)
		// A bad line right after the first data line.
		lines := bytes.SplitAfter(data, []byte("\n"))
		var in []byte
		inserted := false
		for _, l := range lines {
			in = append(in, l...)
			if !inserted && len(l) > 0 && l[0] != '#' && !bytes.HasPrefix(l, []byte("ts,")) && !bytes.HasPrefix(l, []byte("tr,")) && !bytes.HasPrefix(l, []byte("StartTime")) {
				in = append(in, "garbage\tline,x\n"...)
				inserted = true
			}
		}
		calls, n := 0, 0
		st, err := Read(bytes.NewReader(in), "x", f, 0, func(*flow.Record, Meta) { n++ }, func(*flow.DNSMessage) { n++ },
			func(e *decode.Error) error { calls++; return stop })
		if err != stop || calls != 1 || n != 1 || st.Errors != 1 {
			t.Errorf("%s: err %v, %d onErr calls, %d records", f, err, calls, n)
		}
	}
}

func TestSourceErrorIsReported(t *testing.T) {
	boom := errors.New("disk on fire")
	data := readFile(t, "testdata/conn.log")
	var errs []*decode.Error
	n := 0
	st, err := Read(&failReader{data[:1500], boom}, "c.log", ZeekConn, 0, func(*flow.Record, Meta) { n++ }, nil,
		func(e *decode.Error) error { errs = append(errs, e); return nil })
	if err != nil || len(errs) != 2 || !errors.Is(errs[1], boom) || errs[1].Offset != 1500 || n == 0 {
		t.Fatalf("err %v, errors %v, %d records", err, errs, n)
	}
	// The cut line itself is a bad record (too few fields); what came
	// before it is kept.
	if !strings.Contains(errs[0].Error(), "fields") || st.Flows != int64(n) {
		t.Fatalf("errors %v", errs)
	}
}

func TestUnknownFormat(t *testing.T) {
	var got *decode.Error
	_, err := Read(strings.NewReader("x"), "x", "pcap", 0, nil, nil, func(e *decode.Error) error { got = e; return nil })
	if err != nil || got == nil || !errors.Is(got, decode.ErrNotEvidence) {
		t.Fatalf("err %v, reported %v", err, got)
	}
}

func TestStatsSpan(t *testing.T) {
	res := readAll(t, readFile(t, "testdata/dns.log"), ZeekDNS, Options{})
	if ts(res.st.First) != "2024-03-05T10:00:01.012101Z" || ts(res.st.Last) != "2024-03-05T10:00:09.001Z" {
		t.Fatalf("span %s .. %s", ts(res.st.First), ts(res.st.Last))
	}
	empty := readAll(t, []byte(nfHeader+"\n"), NfdumpCSV, Options{})
	if empty.st.First != 0 || empty.st.Last != 0 {
		t.Fatalf("empty span %+v", empty.st)
	}
}

// Labels are shared strings: one allocation per distinct label.
func TestLabelsInterned(t *testing.T) {
	data := "StartTime,Proto,SrcAddr,DstAddr,TotPkts,Label\n" + strings.Repeat("1,udp,10.0.0.1,10.0.0.2,1,flow=Background\n", 50)
	var labels []string
	allocs := testing.AllocsPerRun(5, func() {
		labels = labels[:0]
		Read(strings.NewReader(data), "x", ArgusCSV, 0, func(_ *flow.Record, m Meta) { labels = append(labels, m.Label) }, nil,
			func(*decode.Error) error { return nil })
	})
	if len(labels) != 50 || labels[49] != "flow=Background" {
		t.Fatalf("labels %q", labels)
	}
	if allocs > 20 {
		t.Fatalf("%.0f allocations for 50 labelled records", allocs)
	}
}

func TestNilCallbacks(t *testing.T) {
	st, err := Read(strings.NewReader(nfHeader+"\nbad\n"), "x", NfdumpCSV, 0, nil, nil, nil)
	if err != nil || st.Errors != 1 || st.Lines != 2 {
		t.Fatalf("%+v %v", st, err)
	}
}
