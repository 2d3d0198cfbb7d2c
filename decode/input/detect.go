package input

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"

	"github.com/klauspost/compress/zstd"
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

// format is one content format we read, recognised by its leading bytes.
type format struct {
	name  string
	match func(head []byte) bool
}

// formats is tried in order. Later issues add NetFlow datagram files,
// nfcapd, CSV and Zeek logs here (Describe can already name them); keep
// the most specific signatures first.
var formats = []format{
	{"pcap", magic32(0xa1b2c3d4)},
	{"pcap-ns", magic32(0xa1b23c4d)},
	{"pcapng", isPcapng},
}

func formatOf(head []byte) string {
	for _, f := range formats {
		if f.match(head) {
			return f.name
		}
	}
	return ""
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
