package suspicious

import (
	"bufio"
	"context"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/detect/lda"
)

// flowSynth deterministically synthesizes flows among `hosts` addresses: a
// tenth of them servers on common service ports, chosen Zipf-like (a few
// very busy servers), clients on ephemeral ports, log-normal sizes, times
// spread over one day, half the flows in the reply direction.
func flowSynth(hosts int) func() flow.Record {
	rng := rand.New(rand.NewPCG(20170724, 50000))
	servers := hosts / 10
	services := []struct {
		port  uint16
		proto uint8
	}{{443, 6}, {80, 6}, {53, 17}, {22, 6}, {25, 6}, {123, 17}, {445, 6}, {3389, 6}, {3306, 6}, {8080, 6},
		{993, 6}, {5432, 6}, {161, 17}, {389, 6}, {8443, 6}, {1194, 17}, {5060, 17}, {636, 6}, {110, 6}, {143, 6}}
	svc := make([]int, servers)
	for i := range svc {
		svc[i] = int(math.Min(float64(len(services)-1), rng.ExpFloat64()*3))
	}
	zipf := rand.NewZipf(rng, 1.2, 4, uint64(servers-1))
	host := func(i int) flow.Addr { return flow.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}) }
	start := time.Date(2016, 7, 8, 0, 0, 0, 0, time.UTC).UnixNano()
	return func() flow.Record {
		s := int(zipf.Uint64())
		c := servers + rng.IntN(hosts-servers)
		sv := services[svc[s]]
		bytes := uint64(math.Exp(5 + 2*rng.NormFloat64()))
		pkts := bytes/uint64(64+rng.IntN(1400)) + 1
		r := flow.Record{First: start + rng.Int64N(int64(24*time.Hour)), Proto: sv.proto, Packets: pkts, Bytes: bytes + 40*pkts}
		r.Last = r.First + rng.Int64N(int64(time.Minute))
		if rng.IntN(2) == 0 { // request direction
			r.Src, r.Dst, r.SrcPort, r.DstPort = host(c), host(s), uint16(32768+rng.IntN(28232)), sv.port
		} else { // reply direction
			r.Src, r.Dst, r.SrcPort, r.DstPort = host(s), host(c), sv.port, uint16(32768+rng.IntN(28232))
		}
		return r
	}
}

// synthFlows returns n synthesized records.
func synthFlows(n, hosts int) Records {
	next := flowSynth(hosts)
	recs := make(Records, n)
	for i := range recs {
		recs[i] = next()
	}
	return recs
}

// synthColumns synthesizes n records one at a time and keeps the columns
// the model reads, as the CLI reads a case file's columns.
func synthColumns(n, hosts int) *Columns {
	next := flowSynth(hosts)
	c := &Columns{Time: make([]int64, n), Src: make([]flow.Addr, n), Dst: make([]flow.Addr, n),
		SrcPort: make([]uint16, n), DstPort: make([]uint16, n), Proto: make([]uint8, n),
		Packets: make([]uint64, n), Bytes: make([]uint64, n)}
	for i := 0; i < n; i++ {
		r := next()
		c.Time[i], c.Src[i], c.Dst[i], c.SrcPort[i], c.DstPort[i] = r.First, r.Src, r.Dst, r.SrcPort, r.DstPort
		c.Proto[i], c.Packets[i], c.Bytes[i] = r.Proto, r.Packets, r.Bytes
	}
	return c
}

// peakRSSMB reads the process's peak resident set size (Linux VmHWM).
func peakRSSMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return math.NaN()
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return math.NaN()
}

// BenchmarkPipeline10M is the acceptance benchmark: words + corpus, LDA with
// Spot's settings (K = 20, 20 EM iterations), scoring of every flow and a
// top-1000 selection over all 10 M flows (threshold 1), among 50,000 hosts.
// The flows are synthesized as flow.Records before the timer starts and
// kept as the eight columns the model reads (61 bytes per flow, 610 MB),
// the way the CLI reads a case file; a []flow.Record would hold 168 bytes
// per flow (1.68 GB) of which the model reads a third. Peak RSS includes
// the columns. Heavy: run alone with -benchtime=1x.
func BenchmarkPipeline10M(b *testing.B) {
	if testing.Short() {
		b.Skip("heavy benchmark")
	}
	const n = 10_000_000
	recs := synthColumns(n, 50_000)
	runtime.GC()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	var tCorpus, tFit, tScore, tSelect time.Duration
	var fc *FlowCorpus
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		var err error
		fc, err = BuildFlowCorpus(ctx, recs, nil, 0)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		m, err := lda.Fit(ctx, fc.Corpus, lda.DefaultOptions())
		if err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		scores := ScoreFlows(fc, m, 0)
		t3 := time.Now()
		sel := SelectFlows(recs, scores, 1, 1000)
		t4 := time.Now()
		if len(sel) != 1000 {
			b.Fatalf("selected %d", len(sel))
		}
		tCorpus, tFit, tScore, tSelect = tCorpus+t1.Sub(t0), tFit+t2.Sub(t1), tScore+t3.Sub(t2), tSelect+t4.Sub(t3)
	}
	b.StopTimer()
	per := func(d time.Duration) float64 { return d.Seconds() / float64(b.N) }
	b.ReportMetric(per(tCorpus), "corpus-s")
	b.ReportMetric(per(tFit), "lda-s")
	b.ReportMetric(per(tScore), "score-s")
	b.ReportMetric(per(tSelect), "select-s")
	b.ReportMetric(float64(len(fc.Docs)), "docs")
	b.ReportMetric(float64(len(fc.Words)), "words")
	b.ReportMetric(float64(fc.Corpus.NNZ()), "nnz")
	b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
}

// BenchmarkBuildFlowCorpus measures word computation and interning per flow.
func BenchmarkBuildFlowCorpus(b *testing.B) {
	recs := synthFlows(200_000, 5_000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := BuildFlowCorpus(context.Background(), recs, nil, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(recs)), "ns/flow")
}

// BenchmarkScoreFlows measures scoring per flow (two K = 20 dot products).
func BenchmarkScoreFlows(b *testing.B) {
	recs := synthFlows(200_000, 5_000)
	fc, _ := BuildFlowCorpus(context.Background(), recs, nil, 0)
	m, _ := lda.Fit(context.Background(), fc.Corpus, lda.Options{Iterations: -1})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ScoreFlows(fc, m, 0)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(recs)), "ns/flow")
}

// BenchmarkBuildDNSCorpus measures DNS words (domain parsing, entropy,
// learned popularity) and interning per response.
func BenchmarkBuildDNSCorpus(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"www.google.com", "mail.example.co.uk", "cdn.static.example.net", "x9f3k2.evil.info",
		"123.103.104.10.in-addr.arpa", "api.service.internal.corp.com", "a.b.c.d.e.f.amazon.com.mx"}
	ev := make(DNSEventSlice, 200_000)
	for i := range ev {
		name := names[rng.IntN(len(names))]
		if rng.IntN(10) == 0 {
			name = strconv.FormatUint(rng.Uint64(), 36) + ".tunnel.example.com" // high-entropy subdomains
		}
		ev[i] = DNSEvent{Time: int64(i) * 1e9, Client: flow.AddrFrom4([4]byte{10, 0, byte(rng.IntN(20)), byte(rng.IntN(250))}),
			FrameLen: uint32(60 + rng.IntN(400)), Name: name, Type: 1, Rcode: int32(rng.IntN(4))}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := BuildDNSCorpus(context.Background(), ev, DNSOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(ev)), "ns/event")
}
