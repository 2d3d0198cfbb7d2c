package export_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/flowstore"
)

// benchCase returns a case of n synthetic flows over 24 hours (500 hosts
// talking to 5 000 servers on a few services, one flow in ten with
// flow-export fields), built once under the temporary directory and reused.
func benchCase(b *testing.B, n int) string {
	b.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("spotctl-bench-export-%d.case", n))
	if _, err := os.Stat(filepath.Join(dir, "case.json")); err == nil {
		return dir
	}
	os.RemoveAll(dir)
	c, err := flowstore.Create(dir, flowstore.CaseInfo{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	w, err := c.NewSegment()
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC).UnixNano()
	step := int64(24*time.Hour) / int64(n)
	services := []uint16{53, 80, 123, 443, 443, 443, 8080, 22}
	for i := range n {
		first := start + int64(i)*step + rng.Int64N(step)
		pk := 1 + rng.Uint64N(200)
		r := flow.Record{
			First: first, Last: first + rng.Int64N(int64(time.Minute)),
			Src: flow.AddrFrom4([4]byte{10, 1, byte(i % 500 / 250), byte(i % 250)}), Dst: flow.AddrFrom4([4]byte{203, 0, byte(rng.IntN(20)), byte(rng.IntN(250))}),
			SrcPort: uint16(1024 + rng.IntN(60000)), DstPort: services[rng.IntN(len(services))], Proto: []uint8{6, 6, 6, 17}[rng.IntN(4)],
			TCPFlags: 0x1b, Packets: pk, Bytes: pk * (40 + rng.Uint64N(1400)),
		}
		if i%10 == 0 {
			r.Exporter, r.SrcAS, r.DstAS, r.InIf, r.OutIf, r.Sampling = flow.AddrFrom4([4]byte{192, 0, 2, 1}), 64512, 15169, 1, 2, 1
		}
		if err := w.AddFlow(&r); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Commit(&flowstore.Manifest{SpotctlVersion: "bench"}); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkExportParquet is `spotctl export CASE --tables flows` on a
// synthetic case of SPOTCTL_BENCH_FLOWS flows (default 1,000,000; 24
// hourly partitions): open the case, order the flows, build every row and
// write it, sync, rename. rows/s is the figure in docs/performance.md; run
// with GOMAXPROCS=1 for the per-core figure. The parquet variants differ in
// page compression; csv and jsonl are the other formats, for comparison.
func BenchmarkExportParquet(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("SPOTCTL_BENCH_FLOWS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			b.Fatalf("SPOTCTL_BENCH_FLOWS=%q", s)
		}
		n = v
	}
	casePath := benchCase(b, n)
	for _, bc := range []struct {
		name string
		args []string
	}{
		{"zstd", []string{"--parquet", "OUT"}},
		{"snappy", []string{"--parquet", "OUT", "--compression", "snappy"}},
		{"csv", []string{"--csv", "OUT"}},
		{"jsonl", []string{"--jsonl", "OUT"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			out := filepath.Join(b.TempDir(), "out")
			args := []string{"export", casePath, "-q", "--tables", "flows"}
			for _, a := range bc.args {
				if a == "OUT" {
					a = out
				}
				args = append(args, a)
			}
			var size int64
			for b.Loop() {
				b.StopTimer()
				os.RemoveAll(out)
				b.StartTimer()
				mustCLI(b, args...)
				b.StopTimer()
				size = dirSize(b, out)
				b.StartTimer()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(size)/float64(n), "B/row")
		})
	}
}

func dirSize(b *testing.B, dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if st, err := d.Info(); err == nil {
				n += st.Size()
			}
		}
		return err
	})
	return n
}
