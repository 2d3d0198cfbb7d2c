package input

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/decodetest"
	"github.com/spotctl/spotctl/decode/pcap"
)

func gzipBytes(t testing.TB, members ...[]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, m := range members {
		w := gzip.NewWriter(&buf)
		if _, err := w.Write(m); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func zstdBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// manifestSums reads the sha256 column of MANIFEST.md's checksum table.
func manifestSums(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(decodetest.SharedDir(t), "MANIFEST.md"))
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) == 5 {
			name, sum := strings.Trim(strings.TrimSpace(cells[1]), "`"), strings.Trim(strings.TrimSpace(cells[3]), "`")
			if len(sum) == 64 {
				sums[name] = sum
			}
		}
	}
	return sums
}

// readEvidence opens path and returns everything a caller sees.
func readEvidence(t *testing.T, path string) (e *Evidence, content []byte, sum string, n int64) {
	t.Helper()
	e, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer e.Close()
	content, err = io.ReadAll(e.Content())
	if err != nil {
		t.Fatalf("read content: %v", err)
	}
	sum, n, err = e.Finish()
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	if e.RawBytesRead() != n {
		t.Errorf("RawBytesRead %d after Finish, Finish says %d", e.RawBytesRead(), n)
	}
	return e, content, sum, n
}

// TestSharedCapturesPlainGzipZstd opens every shared capture as is,
// gzip'd and zstd'd: same format, identical content, and the SHA-256 of
// the raw bytes (checked against MANIFEST.md for the plain files).
func TestSharedCapturesPlainGzipZstd(t *testing.T) {
	sums := manifestSums(t)
	tmp := t.TempDir()
	files := append(decodetest.SharedFiles(t, "pcap"), decodetest.SharedFiles(t, "netflow-pcap")...)
	for _, path := range files {
		key := filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path)
		t.Run(key, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			wantFormat := "pcap"
			if strings.HasSuffix(path, ".pcapng") || filepath.Base(path) == "ndpi_dns.pcap" {
				wantFormat = "pcapng" // ndpi_dns.pcap is pcapng despite its name (MANIFEST.md)
			}
			gz := writeFile(t, tmp, filepath.Base(path)+".gz", gzipBytes(t, raw))
			zs := writeFile(t, tmp, filepath.Base(path)+".zst", zstdBytes(t, raw))
			for _, c := range []struct {
				path, compression string
			}{{path, ""}, {gz, "gzip"}, {zs, "zstd"}} {
				e, content, sum, n := readEvidence(t, c.path)
				file, _ := os.ReadFile(c.path)
				if e.Format != wantFormat || e.Compression != c.compression || e.Path != c.path || e.Size != int64(len(file)) {
					t.Errorf("%s: %+v", c.path, *e)
				}
				if !bytes.Equal(content, raw) {
					t.Errorf("%s: content differs from the capture (%d vs %d bytes)", c.path, len(content), len(raw))
				}
				if sum != sha(file) || n != int64(len(file)) {
					t.Errorf("%s: Finish = %s, %d; want %s, %d", c.path, sum, n, sha(file), len(file))
				}
				if c.compression == "" && sum != sums[key] {
					t.Errorf("sha256 %s, MANIFEST.md says %q", sum, sums[key])
				}
			}
		})
	}
}

func smallPcap(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(decodetest.SharedDir(t), "pcap", "zeek_http_bro.org.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGzipMultiMember(t *testing.T) {
	raw := smallPcap(t)
	half := len(raw) / 2
	p := writeFile(t, t.TempDir(), "x.gz", gzipBytes(t, raw[:half], raw[half:]))
	e, content, _, _ := readEvidence(t, p)
	if e.Format != "pcap" || !bytes.Equal(content, raw) {
		t.Errorf("format %q, %d bytes of %d", e.Format, len(content), len(raw))
	}
}

func TestCorruptCompressedStreams(t *testing.T) {
	raw := smallPcap(t)
	dir := t.TempDir()

	// Corruption deep inside: Open succeeds, the decoder's reads fail.
	gz := gzipBytes(t, raw)
	gz[len(gz)/2] ^= 0xff
	e, err := Open(writeFile(t, dir, "late.gz", gz))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if _, err := io.ReadAll(e.Content()); err == nil {
		t.Error("reading a corrupt gzip stream gave no error")
	}
	if sum, n, err := e.Finish(); err != nil || sum != sha(gz) || n != int64(len(gz)) {
		t.Errorf("Finish = %s, %d, %v; the hash must still cover the raw file", sum, n, err)
	}
	e.Close()

	zs := zstdBytes(t, raw)
	zs[len(zs)/2] ^= 0xff
	e, err = Open(writeFile(t, dir, "late.zst", zs))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if _, err := io.ReadAll(e.Content()); err == nil {
		t.Error("reading a corrupt zstd stream gave no error")
	}
	e.Close()

	// Corruption in the gzip header: Open fails, and it is not called
	// "not evidence": the file is broken evidence.
	bad := gzipBytes(t, raw)
	bad[2] = 7 // compression method other than deflate
	_, err = Open(writeFile(t, dir, "head.gz", bad))
	if err == nil || errors.Is(err, decode.ErrNotEvidence) || !strings.Contains(err.Error(), "head.gz: gzip stream: ") {
		t.Errorf("Open = %v", err)
	}
}

// TestZstdWindowLimit: a frame that asks for a 2 GiB window is refused
// before anything that size is allocated.
func TestZstdWindowLimit(t *testing.T) {
	// Magic, frame header descriptor 0 (window descriptor present, no
	// content size), window descriptor exponent 21 -> 2^31 bytes, then a
	// raw last block of 4 bytes.
	frame := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 21 << 3, 0x21, 0x00, 0x00, 0xd4, 0xc3, 0xb2, 0xa1}
	_, err := Open(writeFile(t, t.TempDir(), "big-window.zst", frame))
	if !errors.Is(err, zstd.ErrWindowSizeExceeded) {
		t.Errorf("Open = %v, want the window to be refused", err)
	}
	// The same frame with a 1 KiB window is a 4-byte pcap magic: evidence.
	frame[5] = 0
	e, err := Open(writeFile(t, t.TempDir(), "small-window.zst", frame))
	if err != nil || e.Format != "pcap" {
		t.Fatalf("Open = %v", err)
	}
	e.Close()
}

// zeroWriter writes a pcap file header and then n zero bytes into w.
func writeBomb(t testing.TB, w io.WriteCloser, n int) {
	t.Helper()
	hdr := []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0}
	if _, err := w.Write(hdr); err != nil {
		t.Fatal(err)
	}
	zero := make([]byte, 1<<20)
	for range n >> 20 {
		if _, err := w.Write(zero); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestDecompressionBombBoundedMemory streams 96 MiB of decompressed
// content out of files of a few hundred KiB and requires the allocations
// to stay far below that.
func TestDecompressionBombBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("compresses 192 MiB")
	}
	const n = 96 << 20
	dir := t.TempDir()
	var gz, zs bytes.Buffer
	gw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	writeBomb(t, gw, n)
	zw, _ := zstd.NewWriter(&zs, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest))
	writeBomb(t, zw, n)
	for name, b := range map[string][]byte{"bomb.gz": gz.Bytes(), "bomb.zst": zs.Bytes()} {
		t.Run(name, func(t *testing.T) {
			p := writeFile(t, dir, name, b)
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			e, err := Open(p)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.CopyBuffer(io.Discard, e.Content(), make([]byte, 64<<10))
			e.Close()
			runtime.ReadMemStats(&after)
			if err != nil || got != n+24 {
				t.Fatalf("read %d bytes, err %v", got, err)
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d-byte file: %d bytes out, %d bytes allocated", len(b), got, alloc)
			if alloc > 16<<20 {
				t.Errorf("%d-byte file: %d bytes out, %d bytes allocated", len(b), got, alloc)
			}
		})
	}
}

func TestNotEvidence(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name    string
		content []byte
		looks   string
	}{
		{"image.png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00"), "a PNG image"},
		{"notes.pcap", []byte("incident notes\nsee ticket 42\n"), "plain text"},
		{"tool", append([]byte("\x7fELF\x02\x01\x01\x00"), make([]byte, 56)...), "an ELF executable"},
		{"empty.pcap", nil, "an empty file"},
		{"three.pcap", []byte{1, 2, 3}, "unknown data (first bytes 0x010203)"},
		{"flows.json", []byte(`[{"src":"10.0.0.1"}]`), "JSON text"},
		{"capture.zip", []byte("PK\x03\x04\x14\x00\x00\x00"), "a ZIP archive"},
		{"old.pcap", []byte{0x34, 0xcd, 0xb2, 0xa1, 2, 0, 4, 0}, "a modified-libpcap (Kuznetsov) capture"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeFile(t, dir, c.name, c.content)
			_, err := Open(p)
			want := fmt.Sprintf("%s: not evidence spotctl reads: looks like %s: not evidence", p, c.looks)
			if err == nil || err.Error() != want || !errors.Is(err, decode.ErrNotEvidence) {
				t.Errorf("Open = %v\nwant %s", err, want)
			}
		})
	}
	// Compressed non-evidence, and compression nested twice.
	for name, c := range map[string]struct {
		content []byte
		looks   string
	}{
		"text.gz":  {gzipBytes(t, []byte("just text\n")), "plain text (gzip-compressed)"},
		"empty.gz": {gzipBytes(t, nil), "an empty file (gzip-compressed)"},
		"pcap.gz.gz": {gzipBytes(t, gzipBytes(t, []byte{0xd4, 0xc3, 0xb2, 0xa1})),
			"gzip data (gzip-compressed)"},
		"pcap.gz.zst": {zstdBytes(t, gzipBytes(t, []byte{0xd4, 0xc3, 0xb2, 0xa1})), "gzip data (zstd-compressed)"},
	} {
		t.Run(name, func(t *testing.T) {
			p := writeFile(t, dir, name, c.content)
			_, err := Open(p)
			want := fmt.Sprintf("%s: not evidence spotctl reads: looks like %s: not evidence", p, c.looks)
			if err == nil || err.Error() != want || !errors.Is(err, decode.ErrNotEvidence) {
				t.Errorf("Open = %v\nwant %s", err, want)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "missing.pcap")); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "missing.pcap") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Open(dir); err == nil || err.Error() != dir+": is a directory" {
		t.Errorf("directory: %v", err)
	}
	if _, err := Open(writeFile(t, dir, "short.gz", []byte{0x1f, 0x8b})); err == nil || errors.Is(err, decode.ErrNotEvidence) {
		t.Errorf("two-byte gzip: %v", err)
	}
}

// TestSniffedBytesKept: a pcapng cut inside its first block is still
// recognised (the reader will report the truncation), and the few bytes
// there are come through Content.
func TestSniffedBytesKept(t *testing.T) {
	p := writeFile(t, t.TempDir(), "cut.pcapng", []byte("\n\r\r\n\x1c\x00"))
	e, content, sum, n := readEvidence(t, p)
	if e.Format != "pcapng" || string(content) != "\n\r\r\n\x1c\x00" || n != 6 || sum != sha(content) {
		t.Errorf("format %q content %q n %d", e.Format, content, n)
	}
}

func TestFinishDrainsWhatTheDecoderLeft(t *testing.T) {
	raw := smallPcap(t)
	for name, file := range map[string][]byte{"plain.pcap": raw, "c.pcap.gz": gzipBytes(t, raw), "c.pcap.zst": zstdBytes(t, raw)} {
		t.Run(name, func(t *testing.T) {
			e, err := Open(writeFile(t, t.TempDir(), name, file))
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			if _, err := io.ReadFull(e.Content(), make([]byte, 100)); err != nil {
				t.Fatal(err)
			}
			mid := e.RawBytesRead()
			if mid <= 0 || mid > int64(len(file)) {
				t.Errorf("RawBytesRead = %d after 100 content bytes of a %d-byte file", mid, len(file))
			}
			sum, n, err := e.Finish()
			if err != nil || sum != sha(file) || n != int64(len(file)) {
				t.Errorf("Finish = %s, %d, %v; want %s, %d", sum, n, err, sha(file), len(file))
			}
			if again, n2, _ := e.Finish(); again != sum || n2 != n {
				t.Error("second Finish differs")
			}
			if err := e.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if err := e.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}
}

// TestRawBytesReadFromAnotherGoroutine polls the progress counter while
// the content is read; it must only grow and end at the file size.
func TestRawBytesReadFromAnotherGoroutine(t *testing.T) {
	raw := smallPcap(t)
	gz := gzipBytes(t, raw)
	e, err := Open(writeFile(t, t.TempDir(), "x.gz", gz))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	done := make(chan struct{})
	var seen []int64
	go func() {
		defer close(done)
		for {
			v := e.RawBytesRead()
			seen = append(seen, v)
			if v == int64(len(gz)) {
				return
			}
			runtime.Gosched()
		}
	}()
	r := bufio.NewReaderSize(e.Content(), 16) // small reads: many updates
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Finish(); err != nil {
		t.Fatal(err)
	}
	<-done
	for i := 1; i < len(seen); i++ {
		if seen[i] < seen[i-1] {
			t.Fatalf("progress went back from %d to %d", seen[i-1], seen[i])
		}
	}
}

func TestStdin(t *testing.T) {
	raw := smallPcap(t)
	gz := gzipBytes(t, raw)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		pw.Write(gz)
		pw.Close()
	}()
	saved := os.Stdin
	os.Stdin = pr
	defer func() { os.Stdin = saved; pr.Close() }()

	e, content, sum, n := readEvidence(t, "-")
	if e.Path != "-" || e.Size != -1 || e.Compression != "gzip" || e.Format != "pcap" {
		t.Errorf("%+v", *e)
	}
	if !bytes.Equal(content, raw) || sum != sha(gz) || n != int64(len(gz)) {
		t.Errorf("content %d bytes, sum %s n %d", len(content), sum, n)
	}
	if _, err := pr.Stat(); err != nil {
		t.Errorf("Close closed standard input: %v", err)
	}
}

// TestContentFeedsPcapReader: compressed evidence read through Content
// frames to the same packets as the plain file, and the framing format
// agrees with the sniffed one.
func TestContentFeedsPcapReader(t *testing.T) {
	dir := filepath.Join(decodetest.SharedDir(t), "pcap")
	tmp := t.TempDir()
	for _, name := range []string{"ndpi_dns.pcap", "zeek_pcapng-multi-interface.pcapng", "ndpi_iphone.pcap"} {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		count := func(path string) (string, string, int) {
			e, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			r, err := pcap.NewReader(e.Content(), path)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for {
				_, err := r.Next()
				if err == io.EOF {
					return e.Format, r.Format(), n
				}
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				n++
			}
		}
		f0, r0, n0 := count(filepath.Join(dir, name))
		for _, p := range []string{writeFile(t, tmp, name+".gz", gzipBytes(t, raw)), writeFile(t, tmp, name+".zst", zstdBytes(t, raw))} {
			f, rf, n := count(p)
			if f != f0 || rf != r0 || f != rf || n != n0 || n == 0 {
				t.Errorf("%s: format %s/%s, %d packets; plain file: %s/%s, %d", p, f, rf, n, f0, r0, n0)
			}
		}
	}
}

// Flow evidence is recognised by content and routed to its reader's kind.
func TestFlowEvidenceKinds(t *testing.T) {
	shared := decodetest.SharedDir(t)
	for _, c := range []struct{ path, format, kind string }{
		{"nfcapd/chrispassas_nfcapd.sample", "", KindNfcapd},
		{"nfcapd/chrispassas_nfcapd-small-lzo", "", KindNfcapd},
		{"netflow-raw/logstash_netflow5.dat", "", KindNetFlow},
		{"netflow-raw/logstash_ipfix.dat", "", KindNetFlow},
		{"nfcapd/chrispassas_nfcapd.sample.nfdump-csv.csv", "nfdump-csv", KindFlowLog},
		{"flows/slips_test5-mixed.binetflow", "argus-csv", KindFlowLog},
		{"pcap/ndpi_dns.pcap", "pcapng", KindCapture},
	} {
		e, err := Open(filepath.Join(shared, c.path))
		if err != nil {
			t.Errorf("%s: %v", c.path, err)
			continue
		}
		if e.Kind != c.kind || (c.format != "" && e.Format != c.format) {
			t.Errorf("%s: format %q kind %q, want %q %q", c.path, e.Format, e.Kind, c.format, c.kind)
		}
		e.Close()
	}
}
