package input

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/decodetest"
)

// FuzzSniff feeds arbitrary bytes through detection. Properties: no
// panic; Describe always says something; an uncompressed input is evidence
// exactly when its magic is known, and then Content gives back every byte;
// the hash and count always cover the whole input.
func FuzzSniff(f *testing.F) {
	dir := filepath.Join(filepath.Dir(decodetest.RepoRoot(f)), "shared", "testdata")
	for _, name := range []string{"pcap/tcpdump_dns_udp.pcap", "pcap/ndpi_dns.pcap", "netflow-raw/logstash_netflow5.dat", "nfcapd/chrispassas_nfcapd-empty", "flows/slips_test3-mixed.binetflow"} {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			f.Add(b[:min(len(b), 2048)])
		}
	}
	pcapHdr := []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0}
	f.Add(gzipBytes(f, pcapHdr))
	f.Add(gzipBytes(f, pcapHdr[:10], pcapHdr[10:]))
	f.Add(zstdBytes(f, pcapHdr))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add([]byte{})
	// formatName is what Open decides from the sniffed head of b.
	formatName := func(b []byte) string {
		n, _ := formatOf(b[:min(len(b), sniffLen)])
		return n
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if d := Describe(b); d == "" {
			t.Fatalf("Describe = %q", d)
		}
		e, err := open("fuzz", bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz: ") && !strings.HasPrefix(err.Error(), "read fuzz: ") {
				t.Fatalf("error does not name the input: %v", err)
			}
			if compressionOf(b) == nil && errors.Is(err, decode.ErrNotEvidence) != (formatName(b) == "") {
				t.Fatalf("uncompressed, format %q, err %v", formatName(b), err)
			}
			return
		}
		defer e.Close()
		content, rerr := io.ReadAll(io.LimitReader(e.Content(), 1<<20))
		if e.Compression == "" {
			if rerr != nil || !bytes.Equal(content, b) {
				t.Fatalf("content differs from the input: %v", rerr)
			}
			if e.Format != formatName(b) {
				t.Fatalf("format %q, formatOf %q", e.Format, formatName(b))
			}
		} else if len(content) > 0 && formatName(content) != e.Format {
			t.Fatalf("decompressed content has format %q, Evidence says %q", formatName(content), e.Format)
		}
		sum, n, err := e.Finish()
		if err != nil || n != int64(len(b)) || sum != sha(b) {
			t.Fatalf("Finish = %s, %d, %v for %d bytes", sum, n, err, len(b))
		}
	})
}
