package nfcapd

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"

	"github.com/spotctl/spotctl/decode/decodetest"
	"github.com/spotctl/spotctl/decode/flow"
)

// compressedSources are layout-2 files covering IPv4 and IPv6, v5/v9/IPFIX
// exporters, biflows and nfpcapd output.
var compressedSources = []string{
	"nfcapd/chrispassas_nfcapd.sample",
	"generated/spotctl_loopback/spotctl_loopback.nfpcapd.nfcapd",
	"generated/arkime_v6/arkime_v6.pm-v10.nfcapd",
	"generated/ndpi_android/ndpi_android.sf-v10bi.nfcapd",
	"generated/zeek_http_bro.org/zeek_http_bro.org.sf-v5.nfcapd",
}

// TestNfdumpCompressedVariants rewrites shared files with nfdump -w and
// each block compression nfdump 1.7.1 can write (-z LZO, -y LZ4, -j bzip2)
// and checks that every variant reads to the same records as the original.
// nfdump 1.7.1 cannot write zstd; TestRecompressed covers it.
func TestNfdumpCompressedVariants(t *testing.T) {
	shared := decodetest.SharedDir(t)
	nfdump := decodetest.Tool(t, "nfdump", "nfdump")
	dir := t.TempDir()
	for _, src := range compressedSources {
		in := filepath.Join(shared, src)
		want, _, errs, err := readAll(t, in)
		if err != nil || len(errs) > 0 || len(want) == 0 {
			t.Fatalf("%s: %d flows, err %v, problems %v", src, len(want), err, errs)
		}
		for _, v := range []struct{ opt, name string }{{"", "none"}, {"-z", "lzo"}, {"-y", "lz4"}, {"-j", "bz2"}} {
			out := filepath.Join(dir, filepath.Base(src)+"."+v.name)
			args := []string{"-r", in, "-w", out}
			if v.opt != "" {
				args = append(args, v.opt)
			}
			if b, err := exec.Command(nfdump, args...).CombinedOutput(); err != nil {
				t.Fatalf("nfdump %v: %v\n%s", args, err, b)
			}
			got, st, errs, err := readAll(t, out)
			if err != nil || len(errs) > 0 {
				t.Fatalf("%s %s: err %v, problems %v", src, v.name, err, errs)
			}
			if st.Compression != v.name || st.Layout != 2 {
				t.Errorf("%s %s: stats say layout %d compression %q", src, v.name, st.Layout, st.Compression)
			}
			sameRecords(t, src+" "+v.name, want, got)
		}
	}
}

func sameRecords(t *testing.T, what string, want, got []flow.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d flows, want %d", what, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: flow %d\n got %+v\nwant %+v", what, i, got[i], want[i])
		}
	}
}

// recompress rewrites an uncompressed layout-2 file with every block
// compressed by compress, and the header naming method.
func recompress(t testing.TB, in []byte, method byte, compress func([]byte) []byte) []byte {
	t.Helper()
	le := binary.LittleEndian
	if le.Uint16(in) != magic || le.Uint16(in[2:]) != 2 || in[16] != compNone {
		t.Fatal("recompress wants an uncompressed layout-2 file")
	}
	out := append([]byte(nil), in[:headerV2Size]...)
	out[16] = method
	appendix := le.Uint64(in[24:])
	for off := headerV2Size; off < len(in); {
		hdr := in[off : off+blockHdrSize]
		size := int(le.Uint32(hdr[4:]))
		payload := in[off+blockHdrSize : off+blockHdrSize+size]
		if uint64(off) == appendix {
			le.PutUint64(out[24:], uint64(len(out)))
		}
		c := compress(payload)
		nh := append([]byte(nil), hdr...)
		le.PutUint32(nh[4:], uint32(len(c)))
		out = append(append(out, nh...), c...)
		off += blockHdrSize + size
	}
	return out
}

// TestRecompressed compresses shared files' blocks with zstd (which nfdump
// 1.7.1 cannot write; nfdump 1.7.x compresses each block as one zstd frame)
// and with LZ4 from pierrec/lz4, and checks they read like the originals.
func TestRecompressed(t *testing.T) {
	shared := decodetest.SharedDir(t)
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	methods := []struct {
		name     string
		method   byte
		compress func([]byte) []byte
	}{
		{"zstd", compZSTD, func(b []byte) []byte { return enc.EncodeAll(b, nil) }},
		{"lz4", compLZ4, func(b []byte) []byte {
			dst := make([]byte, lz4.CompressBlockBound(len(b)))
			n, err := lz4.CompressBlock(b, dst, nil)
			if err != nil || n == 0 {
				t.Fatalf("lz4: n %d err %v", n, err)
			}
			return dst[:n]
		}},
	}
	for _, src := range compressedSources {
		in, err := os.ReadFile(filepath.Join(shared, src))
		if err != nil {
			t.Fatal(err)
		}
		want, _, _, err := readFrom(bytes.NewReader(in), src)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range methods {
			data := recompress(t, in, m.method, m.compress)
			got, st, errs, err := readFrom(bytes.NewReader(data), src)
			if err != nil || len(errs) > 0 {
				t.Fatalf("%s %s: err %v, problems %v", src, m.name, err, errs)
			}
			if st.Compression != m.name {
				t.Errorf("%s: compression %q, want %q", src, st.Compression, m.name)
			}
			sameRecords(t, src+" "+m.name, want, got)
		}
	}
}
