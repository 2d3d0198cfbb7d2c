package flowlog

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/decodetest"
	"github.com/spotctl/spotctl/decode/flow"
)

// benchInput repeats body lines after head until about 4 MiB, varying one
// digit per line so that nothing is trivially cached.
func benchInput(head string, body []string) []byte {
	var b bytes.Buffer
	b.WriteString(head)
	for i := 0; b.Len() < 4<<20; i++ {
		b.WriteString(body[i%len(body)])
	}
	return b.Bytes()
}

func dataLines(data []byte, skip func(string) bool) []string {
	var out []string
	for _, l := range strings.SplitAfter(string(data), "\n") {
		if l != "" && !skip(l) {
			out = append(out, l)
		}
	}
	return out
}

func benchRead(b *testing.B, data []byte, f Format) {
	b.Helper()
	var n int64
	onErr := func(e *decode.Error) error { return fmt.Errorf("unexpected: %v", e) }
	emitF := func(*flow.Record, Meta) { n++ }
	emitD := func(*flow.DNSMessage) { n++ }
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := Read(bytes.NewReader(data), "bench", f, 0, emitF, emitD, onErr); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/record")
	if cpu > 0 {
		b.ReportMetric(float64(cpu)/float64(n), "cpu-ns/record")
	}
}

func BenchmarkNfdumpCSV(b *testing.B) {
	sample := readFile(b, filepath.Join(decodetest.SharedDir(b), "nfcapd", "chrispassas_nfcapd.sample.nfdump-csv.csv"))
	body := dataLines(sample, func(l string) bool {
		return strings.HasPrefix(l, "ts,") || !strings.Contains(l, ":")
	})
	benchRead(b, benchInput(nfHeader+"\n", body), NfdumpCSV)
}

func BenchmarkSpotCSV(b *testing.B) {
	body := dataLines(readFile(b, "testdata/spot.csv"), func(l string) bool {
		return strings.HasPrefix(l, "tr,") || !strings.Contains(l, ":") || strings.Contains(l, ",1,0,1,") || strings.Count(l, ",") != 26
	})
	benchRead(b, benchInput(spotHeader+"\n", body), SpotCSV)
}

func BenchmarkArgus(b *testing.B) {
	data := readFile(b, filepath.Join(decodetest.SharedDir(b), "flows", "slips_test5-mixed.binetflow"))
	lines := strings.SplitAfter(string(data), "\n")
	body := dataLines(data, func(l string) bool {
		return strings.HasPrefix(l, "StartTime") || strings.Contains(l, "\tman\t") || strings.Contains(l, "\tarp\t") || strings.Contains(l, "\tllc\t")
	})
	for i := range body {
		if !strings.HasSuffix(body[i], "\n") {
			body[i] += "\n"
		}
	}
	benchRead(b, benchInput(lines[0], body), ArgusCSV)
}

func BenchmarkZeekTSV(b *testing.B) {
	for _, c := range []struct {
		file string
		f    Format
	}{{"conn.log", ZeekConn}, {"dns.log", ZeekDNS}} {
		b.Run(c.file, func(b *testing.B) {
			data := readFile(b, "testdata/"+c.file)
			var head strings.Builder
			for _, l := range strings.SplitAfter(string(data), "\n") {
				if strings.HasPrefix(l, "#") && !strings.HasPrefix(l, "#close") {
					head.WriteString(l)
				}
			}
			benchRead(b, benchInput(head.String(), dataLines(data, func(l string) bool { return strings.HasPrefix(l, "#") })), c.f)
		})
	}
}

func BenchmarkZeekJSON(b *testing.B) {
	for _, c := range []struct {
		file string
		f    Format
	}{{"conn.json", ZeekConnJSON}, {"dns.json", ZeekDNSJSON}} {
		b.Run(c.file, func(b *testing.B) {
			data := readFile(b, "testdata/"+c.file)
			benchRead(b, benchInput("", dataLines(data, func(string) bool { return false })), c.f)
		})
	}
}
