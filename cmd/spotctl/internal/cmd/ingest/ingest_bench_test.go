package ingest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/iostreams"
	"github.com/spotctl/spotctl/decode/evidence"
	"github.com/spotctl/spotctl/decode/synth"
)

// benchCapture returns a synthetic capture of n packets, written once under
// the temporary directory and reused by later runs (it is large: about
// 880 bytes a packet).
func benchCapture(b *testing.B, n int) string {
	b.Helper()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("spotctl-bench-synth-%d.pcap", n))
	if st, err := os.Stat(path); err == nil && st.Size() > 0 {
		return path
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if _, err := synth.Write(w, synth.Options{Seed: 1, Hosts: 200, Packets: n}); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkIngest is `spotctl ingest` end to end — open, hash, frame,
// decode, assemble flows and DNS, write and commit the case — on a
// synthetic capture of SPOTCTL_BENCH_PACKETS packets (default 2,000,000).
// Run with GOMAXPROCS=1 for the per-core figure. SPOTCTL_BENCH_FILE names
// another evidence file to ingest instead (e.g. an nfcapd file); the
// packets/s metric then counts that many records.
func BenchmarkIngest(b *testing.B) {
	n := 2_000_000
	if s := os.Getenv("SPOTCTL_BENCH_PACKETS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		n = v
	}
	path := os.Getenv("SPOTCTL_BENCH_FILE") // any evidence file instead of the synthetic capture
	if path == "" {
		path = benchCapture(b, n)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var elapsed time.Duration
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		ios, _, _, _ := iostreams.Test()
		opts := &Options{IO: ios, Paths: []string{path}, Case: filepath.Join(dir, "case"),
			Evidence: evidence.DefaultOptions(), Quiet: true, Now: time.Now}
		start := time.Now()
		if err := Run(context.Background(), opts); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
	}
	secs := elapsed.Seconds() / float64(b.N)
	b.ReportMetric(float64(n)/secs, "packets/s")
	b.ReportMetric(float64(st.Size())/secs/1e6, "MB/s")
}
