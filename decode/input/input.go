// Package input opens one piece of evidence: it reads the file read-only
// (or standard input for "-"), recognises the format from the content's
// magic bytes (never from the file name: captures are routinely misnamed),
// undoes one level of gzip or zstd compression, and hashes every raw byte
// with SHA-256 so the case can record exactly what was analysed.
//
// Detection reads the first bytes through a buffer, so nothing is lost: the
// decoder sees the content from its first byte. Content that is no format
// we read gets an error wrapping decode.ErrNotEvidence that says what the
// bytes look like instead (see Describe), so a responder who pointed
// spotctl at a PNG or a zip archive is told so.
//
// Compression is streamed: gzip (multi-member files are read to the end)
// and zstd with a bounded window (MaxZstdWindow) and no background
// goroutines, so a decompression bomb costs time, not memory. Compressed
// content is sniffed again; a second level of compression is not undone
// and is reported as not evidence.
//
// Expand turns command-line arguments into the list of evidence files.
package input

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sync/atomic"

	"github.com/spotctl/spotctl/decode"
)

// sniffLen is how many leading content bytes detection and Describe see.
// 512 covers the tar header's magic at offset 257 and a useful stretch of
// text.
const sniffLen = 512

// readBuf is the size of the buffers in front of the file and of the
// decompressor.
const readBuf = 64 << 10

// Evidence is one opened piece of evidence.
type Evidence struct {
	Path        string // as given; "-" for standard input
	Size        int64  // raw size in bytes; -1 when unknown (stdin, pipes)
	Compression string // "", "gzip" or "zstd"
	Format      string // "pcap", "pcap-ns", "pcapng", "netflow-v9", "nfcapd-…", "nfdump-csv", "zeek-conn", …
	Kind        string // which reader takes it: KindCapture, KindNetFlow, KindNfcapd or KindFlowLog

	file    *os.File // nil for stdin
	raw     *hashingReader
	dec     io.Closer // decompressor, nil when uncompressed
	content *bufio.Reader

	finished bool
	sum      string
	n        int64
	finErr   error
	closed   bool
}

// Open opens path ("-" for standard input) read-only and detects its
// format. The error for a file that is not evidence wraps
// decode.ErrNotEvidence; other errors (missing file, unreadable or corrupt
// compressed stream) do not.
func Open(path string) (*Evidence, error) {
	if path == "-" {
		return open("-", os.Stdin, -1)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *fs.PathError names the path
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s: is a directory", path)
	}
	size := st.Size()
	if !st.Mode().IsRegular() {
		size = -1
	}
	e, err := open(path, f, size)
	if err != nil {
		f.Close()
		return nil, err
	}
	e.file = f
	return e, nil
}

// open detects and sets up decompression over an already opened source.
func open(name string, src io.Reader, size int64) (_ *Evidence, err error) {
	e := &Evidence{Path: name, Size: size, raw: newHashingReader(src)}
	defer func() {
		if err != nil {
			e.raw.close()
		}
	}()
	rawBuf := bufio.NewReaderSize(e.raw, readBuf)
	head, err := peek(rawBuf)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	e.content = rawBuf
	if c := compressionOf(head); c != nil {
		dec, err := c.open(rawBuf)
		if err != nil {
			return nil, fmt.Errorf("%s: %s stream: %w", name, c.name, err)
		}
		e.Compression, e.dec = c.name, dec
		e.content = bufio.NewReaderSize(dec, readBuf)
		if head, err = peek(e.content); err != nil {
			dec.Close()
			return nil, fmt.Errorf("%s: %s stream: %w", name, c.name, err)
		}
	}
	if e.Format, e.Kind = formatOf(head); e.Format == "" {
		if e.dec != nil {
			e.dec.Close()
			return nil, fmt.Errorf("%s: not evidence spotctl reads: looks like %s (%s-compressed): %w", name, Describe(head), e.Compression, decode.ErrNotEvidence)
		}
		return nil, fmt.Errorf("%s: not evidence spotctl reads: looks like %s: %w", name, Describe(head), decode.ErrNotEvidence)
	}
	return e, nil
}

// peek returns up to sniffLen leading bytes without consuming them; a
// short stream is not an error.
func peek(r *bufio.Reader) ([]byte, error) {
	head, err := r.Peek(sniffLen)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return head, nil
}

// Content returns the decompressed content from its first byte. Errors of
// a corrupt compressed stream surface from its Read. The same reader is
// returned on every call.
func (e *Evidence) Content() io.Reader { return e.content }

// RawBytesRead returns how many raw (compressed) bytes have been read from
// the file so far, for progress reporting. It is safe to call from any
// goroutine.
func (e *Evidence) RawBytesRead() int64 { return e.raw.n.Load() }

// Finish reads whatever raw bytes the decoder left unread (a decoder may
// stop early on a corrupt file; the hash must still cover the whole file)
// and returns the SHA-256 of all raw bytes, in hex, and their count. Later
// calls return the same result.
func (e *Evidence) Finish() (sha256hex string, rawSize int64, err error) {
	if !e.finished {
		e.finished = true
		// Bytes buffered above the hashing reader were hashed when read, so
		// draining below the buffers completes the hash in file order.
		var err error
		e.sum, e.n, err = e.raw.sum()
		if err != nil {
			e.finErr = fmt.Errorf("read %s: %w", e.Path, err)
		}
	}
	return e.sum, e.n, e.finErr
}

// Close releases the decompressor and the file (standard input stays
// open).
func (e *Evidence) Close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	e.raw.close()
	var errs []error
	if e.dec != nil {
		errs = append(errs, e.dec.Close())
	}
	if e.file != nil {
		errs = append(errs, e.file.Close())
	}
	return errors.Join(errs...)
}

// hashingReader hashes and counts every byte of the raw evidence. A
// goroutine reads ahead in large chunks and hashes them, so that SHA-256
// (about 1–2 GB/s with SHA-NI, far less without) and the disk run beside
// decoding on a second core instead of in front of it. The consumer gets
// the same bytes in the same order; the hash covers exactly the bytes
// delivered plus whatever Finish drains.
type hashingReader struct {
	h    hash.Hash // written only by the read-ahead goroutine until it ends
	n    atomic.Int64
	full chan chunk  // read and hashed, in order
	free chan []byte // buffers to refill
	stop chan struct{}
	done chan struct{} // closed when the goroutine has ended

	cur     chunk
	off     int
	err     error // sticky, after the last chunk
	stopped bool
}

type chunk struct {
	b   []byte
	err error
}

const (
	chunkSize = 1 << 20
	chunks    = 4
)

func newHashingReader(src io.Reader) *hashingReader {
	h := &hashingReader{
		h:    sha256.New(),
		full: make(chan chunk, chunks),
		free: make(chan []byte, chunks),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	for i := 0; i < chunks; i++ {
		h.free <- make([]byte, chunkSize)
	}
	go h.readAhead(src)
	return h
}

func (h *hashingReader) readAhead(src io.Reader) {
	defer close(h.done)
	defer close(h.full)
	empty := 0
	for {
		var buf []byte
		select {
		case buf = <-h.free:
		case <-h.stop:
			return
		}
		n, err := io.ReadAtLeast(src, buf, 1)
		if n > 0 {
			empty = 0
			h.h.Write(buf[:n])
			h.n.Add(int64(n))
		}
		if err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		if n == 0 && err == nil {
			if empty++; empty > 100 {
				err = io.ErrNoProgress
			}
		}
		select {
		case h.full <- chunk{buf[:n], err}:
		case <-h.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

func (h *hashingReader) Read(p []byte) (int, error) {
	for h.off >= len(h.cur.b) {
		if h.err != nil {
			return 0, h.err
		}
		if h.cur.b != nil {
			h.free <- h.cur.b[:cap(h.cur.b)]
			h.cur.b = nil
		}
		c, ok := <-h.full
		if !ok {
			h.err = io.EOF
			return 0, h.err
		}
		h.cur, h.off = c, 0
		if c.err != nil {
			h.err = c.err
		}
	}
	n := copy(p, h.cur.b[h.off:])
	h.off += n
	return n, nil
}

// sum drains what was not read and returns the SHA-256 of all raw bytes.
func (h *hashingReader) sum() (string, int64, error) {
	_, err := io.Copy(io.Discard, h)
	<-h.done
	return hex.EncodeToString(h.h.Sum(nil)), h.n.Load(), err
}

// close ends the read-ahead goroutine (it may still be inside one Read of
// the source, which returns when the file is closed).
func (h *hashingReader) close() {
	if !h.stopped {
		h.stopped = true
		close(h.stop)
	}
}
