package input

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"

	"github.com/klauspost/compress/zstd"

	"github.com/spotctl/spotctl/decode/flowlog"
	"github.com/spotctl/spotctl/decode/netflow"
	"github.com/spotctl/spotctl/decode/nfcapd"
)

// MaxZstdWindow bounds the window a zstd stream may ask for, and with it
// the decoder's memory; streams that need more are refused. zstd's own
// command line accepts up to 128 MiB without --long.
const MaxZstdWindow = 128 << 20

// compression is one wrapper we undo.
type compression struct {
	name  string
	magic []byte
	open  func(io.Reader) (io.ReadCloser, error)
}

var compressions = []compression{
	// gzip.Reader reads concatenated members to the end by default.
	{"gzip", []byte{0x1f, 0x8b}, func(r io.Reader) (io.ReadCloser, error) { return gzip.NewReader(r) }},
	{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd}, openZstd},
}

func openZstd(r io.Reader) (io.ReadCloser, error) {
	// Concurrency 1 decodes in the caller's goroutine: no background
	// workers, nothing buffered ahead beyond the window.
	d, err := zstd.NewReader(r,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxWindow(MaxZstdWindow),
		zstd.WithDecoderLowmem(true))
	if err != nil {
		return nil, err
	}
	return d.IOReadCloser(), nil
}

func compressionOf(head []byte) *compression {
	for i := range compressions {
		if bytes.HasPrefix(head, compressions[i].magic) {
			return &compressions[i]
		}
	}
	return nil
}

// Kinds of evidence: which reader takes a format.
const (
	KindCapture = "capture" // pcap, pcapng: packets
	KindNetFlow = "netflow" // raw NetFlow v5/v9/IPFIX export datagrams, back to back
	KindNfcapd  = "nfcapd"  // nfdump's binary flow files
	KindFlowLog = "flowlog" // text flow logs: nfdump/Spot/Argus CSV, Zeek conn/dns logs
)

// format is one content format we read, recognised by its leading bytes.
type format struct {
	kind  string
	match func(head []byte) (name string, ok bool)
}

// formats is tried in order: binary signatures first (they are exact),
// raw export datagrams next (a validated header), text logs last.
var formats = []format{
	{KindCapture, named("pcap", magic32(0xa1b2c3d4))},
	{KindCapture, named("pcap-ns", magic32(0xa1b23c4d))},
	{KindCapture, named("pcapng", isPcapng)},
	{KindNfcapd, nfcapd.Detect},
	{KindNetFlow, netflow.Detect},
	{KindFlowLog, func(h []byte) (string, bool) {
		f, ok := flowlog.Detect(h)
		return string(f), ok
	}},
}

func named(name string, match func([]byte) bool) func([]byte) (string, bool) {
	return func(h []byte) (string, bool) { return name, match(h) }
}

// formatOf returns the format name and kind of content starting with head,
// or "" when spotctl reads no such format.
func formatOf(head []byte) (name, kind string) {
	for _, f := range formats {
		if n, ok := f.match(head); ok {
			return n, f.kind
		}
	}
	return "", ""
}

// magic32 matches a 32-bit magic written in either byte order.
func magic32(m uint32) func([]byte) bool {
	return func(h []byte) bool {
		return len(h) >= 4 && (binary.LittleEndian.Uint32(h) == m || binary.BigEndian.Uint32(h) == m)
	}
}

// isPcapng matches a Section Header Block: block type "\n\r\r\n" and, when
// there are enough bytes, the byte-order magic 1a2b3c4d in either order. A
// file cut inside the first block is still called pcapng, so that the
// reader reports the truncation.
func isPcapng(h []byte) bool {
	if !bytes.HasPrefix(h, []byte("\n\r\r\n")) {
		return false
	}
	return len(h) < 12 || magic32(0x1a2b3c4d)(h[8:])
}
