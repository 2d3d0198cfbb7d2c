package nfcapd

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"

	"github.com/spotctl/spotctl/decode/flow"
)

// benchCopies is how many times the sample's data block is repeated in the
// benchmark file: 40 × 3018 = 120,720 flows, 20 MB uncompressed.
const benchCopies = 40

var benchFiles struct {
	once  sync.Once
	dir   string
	flows int
	files map[string][]byte // by compression name
	err   error
}

// benchData builds the benchmark files once: the real 1.7 sample's data
// block repeated benchCopies times (falling back to crafted records without
// the shared data), uncompressed and recompressed with lz4 and zstd, plus
// LZO and bzip2 rewrites by nfdump when it is installed. The uncompressed
// file is also written to disk for the nfdump comparison.
func benchData(b *testing.B) (map[string][]byte, int, string) {
	b.Helper()
	benchFiles.once.Do(func() {
		block, n := benchBlock()
		var blocks []blk
		for i := 0; i < benchCopies; i++ {
			blocks = append(blocks, blk{typ: blockMixed, raw: block, n: n})
		}
		plain := v2File(compNone, 1, blocks...)
		files := map[string][]byte{"none": plain}
		enc, _ := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
		defer enc.Close()
		files["zstd"] = recompress(b, plain, compZSTD, func(p []byte) []byte { return enc.EncodeAll(p, nil) })
		files["lz4"] = recompress(b, plain, compLZ4, func(p []byte) []byte {
			dst := make([]byte, lz4.CompressBlockBound(len(p)))
			k, _ := lz4.CompressBlock(p, dst, nil)
			return dst[:k]
		})
		dir, err := os.MkdirTemp("", "nfcapd-bench")
		if err != nil {
			benchFiles.err = err
			return
		}
		benchFiles.dir = dir
		path := filepath.Join(dir, "plain")
		if err := os.WriteFile(path, plain, 0o644); err != nil {
			benchFiles.err = err
			return
		}
		if nfdump, err := exec.LookPath("nfdump"); err == nil {
			for name, opt := range map[string]string{"lzo": "-z", "bz2": "-j"} {
				out := filepath.Join(dir, name)
				if exec.Command(nfdump, "-r", path, "-w", out, opt).Run() == nil {
					if data, err := os.ReadFile(out); err == nil {
						files[name] = data
					}
				}
			}
		}
		benchFiles.files = files
		benchFiles.flows = benchCopies * int(n-2) // the block's exporter and stats records are no flows
	})
	if benchFiles.err != nil {
		b.Fatal(benchFiles.err)
	}
	return benchFiles.files, benchFiles.flows, benchFiles.dir
}

// benchBlock returns the sample's first data block (3018 flows and two
// other records) or, without the shared data, a crafted block of the same
// shape.
func benchBlock() ([]byte, uint32) {
	b, err := os.ReadFile(filepath.Join(sharedDirOptional(), "nfcapd", "chrispassas_nfcapd.sample"))
	if err == nil && len(b) > headerV2Size+blockHdrSize {
		n := le.Uint32(b[headerV2Size:])
		size := int(le.Uint32(b[headerV2Size+4:]))
		return b[headerV2Size+blockHdrSize : headerV2Size+blockHdrSize+size], n
	}
	recs := append([][]byte{exporterRec(10, "192.0.2.1", 1, 0), rec(recExporterStat, make([]byte, 28))}, flowRecs(3018, 1_700_000_000_000)...)
	return cat(recs...), uint32(len(recs))
}

// BenchmarkRead reads the benchmark file from memory into flow records, per
// block compression, and reports records/s.
func BenchmarkRead(b *testing.B) {
	files, flows, _ := benchData(b)
	for _, name := range []string{"none", "lz4", "zstd", "lzo", "bz2"} {
		data, ok := files[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			var sink uint64
			emit := func(r *flow.Record) { sink += r.Bytes }
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				st, err := Read(bytes.NewReader(data), "bench", 0, emit, nil)
				if err != nil || st.Flows != uint64(flows) || st.Errors != 0 {
					b.Fatalf("err %v, %d flows (want %d), %d errors", err, st.Flows, flows, st.Errors)
				}
			}
			b.ReportMetric(float64(flows)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(flows)*float64(b.N)/(float64(cpu)/1e9), "records/cpu-s")
			}
			_ = sink
		})
	}
}

// BenchmarkNfdump times nfdump 1.7.1 on the same uncompressed file, in the
// same run, for the ratios in docs/performance.md: -o null (decode only)
// and -o csv (decode and print).
func BenchmarkNfdump(b *testing.B) {
	nfdump, err := exec.LookPath("nfdump")
	if err != nil {
		b.Skip("nfdump not installed")
	}
	_, flows, dir := benchData(b)
	path := filepath.Join(dir, "plain")
	for _, mode := range []string{"null", "csv"} {
		b.Run(mode, func(b *testing.B) {
			var busy time.Duration
			for i := 0; i < b.N; i++ {
				cmd := exec.Command(nfdump, "-r", path, "-o", mode)
				cmd.Stdout = io.Discard
				if err := cmd.Run(); err != nil {
					b.Fatal(err)
				}
				busy += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
			}
			b.ReportMetric(float64(flows)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(flows)*float64(b.N)/busy.Seconds(), "records/cpu-s")
		})
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchFiles.dir != "" {
		os.RemoveAll(benchFiles.dir)
	}
	os.Exit(code)
}

// BenchmarkRecords walks the records of one in-memory block: the decoding
// cost alone, without reading, decompression or the block goroutine.
func BenchmarkRecords(b *testing.B) {
	data, n := benchBlock()
	flows := 0
	rd := newReader("bench", 0, func(*flow.Record) { flows++ }, nil)
	rd.st.Layout, rd.src.layout = 2, 2
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if err := rd.records(block{}, data, n, false); err != nil || rd.st.Errors != 0 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(flows)/b.Elapsed().Seconds(), "records/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu)/float64(flows), "cpu-ns/record")
	}
}
