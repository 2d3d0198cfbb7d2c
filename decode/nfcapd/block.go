package nfcapd

import (
	"bytes"
	"compress/bzip2"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/nfcapd/lzo"
)

// Block header flag (both layouts): the block is stored uncompressed even
// though the file names a compression method.
const flagBlockUncompressed = 0x1

// Block types.
const (
	blockV15   = 1 // nfdump 1.5 records
	blockV1    = 2 // nfdump 1.6 records (record_header_t, 16-bit type and size)
	blockMixed = 3 // layout 1: "large" records (histograms); layout 2: all record types
	blockArray = 4 // layout 2: arrays of one record type (geo/tor lookup tables)
)

// block describes the block being decoded, for error messages.
type block struct {
	off        int64  // file offset of the block header
	index      uint64 // 0-based block number
	compressed bool
}

// The blocks of a file are read and decompressed by a source on a second
// goroutine while the caller's goroutine walks the records of the previous
// block: the copy from the file and the decompression overlap with record
// decoding. Everything the caller sees — emitted records, problems, Stats —
// happens on the caller's goroutine in file order, so the output does not
// depend on scheduling. Two buffer slots bound the memory: one block being
// decoded, one being read.
const slots = 2

// source reads blocks. It is used by the producer goroutine only (and by
// the header code before that goroutine starts).
type source struct {
	r      io.Reader
	off    int64 // file offset of the next unread byte
	layout int
	comp   int
	dec    decompressor
	raw    [slots][]byte // block payloads as stored
	buf    [slots][]byte // decompressed blocks
}

// bufPool holds decompression buffers (MaxBlockSize each) between reads:
// a day of nfcapd files is hundreds of small compressed files, and each
// would otherwise allocate two fresh buffers.
var bufPool = sync.Pool{New: func() any { b := make([]byte, MaxBlockSize); return &b }}

// release returns the decompression buffers to bufPool. It runs after the
// producer has stopped.
func (s *source) release() {
	for i, b := range s.buf {
		if b != nil {
			bufPool.Put(&b)
			s.buf[i] = nil
		}
	}
}

// readFull reads len(b) bytes at the current offset.
func (s *source) readFull(b []byte) (int, error) {
	n, err := io.ReadFull(s.r, b)
	s.off += int64(n)
	return n, err
}

// job is one step of the block stream, handed from the source to the
// decoder: a block to decode and/or a problem to report, in that order.
type job struct {
	b          block
	typ        uint16
	numRecords uint32
	data       []byte // payload ready to walk; nil when there is nothing to walk
	skip       string // block not walked: the Stats.Skipped kind
	truncated  bool   // data is the part of a block the file cut short
	counted    bool   // a block header and size were read: counts in Stats.Blocks

	problem error // reported after data is walked
	probOff int64
	fatal   error // an I/O error: the read ends with it
	last    bool  // nothing follows this job
	slot    int
}

// blocks decodes the block stream to the end of the file.
func (rd *reader) blocks() error {
	jobs := make(chan job, 1)
	free := make(chan int, slots)
	for i := 0; i < slots; i++ {
		free <- i
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rd.src.produce(jobs, free, done)
	}()
	defer func() {
		// Stop the producer and wait for it: after Read returns, nothing
		// may touch the caller's reader.
		close(done)
		for range jobs {
		}
		wg.Wait()
	}()
	for j := range jobs {
		if err := rd.consume(j); err != nil {
			return err
		}
		free <- j.slot
	}
	return nil
}

// consume decodes one job.
func (rd *reader) consume(j job) error {
	if j.counted {
		rd.st.Blocks++
	}
	if j.skip != "" {
		rd.st.skip(j.skip)
	}
	if j.data != nil {
		if err := rd.records(j.b, j.data, j.numRecords, j.truncated); err != nil {
			return err
		}
	}
	if j.problem != nil {
		if err := rd.report(j.probOff, j.problem); err != nil {
			return err
		}
	}
	if j.fatal != nil {
		return rd.fatal(j.probOff, j.fatal)
	}
	return nil
}

// produce reads blocks into free slots and hands them over until the end
// of the file, a problem that ends the framing, or done.
func (s *source) produce(jobs chan<- job, free <-chan int, done <-chan struct{}) {
	defer close(jobs)
	for index := uint64(0); ; index++ {
		var slot int
		select {
		case slot = <-free:
		case <-done:
			return
		}
		j := s.next(index, slot)
		select {
		case jobs <- j:
		case <-done:
			return
		}
		if j.last {
			return
		}
	}
}

// next reads block index into slot.
func (s *source) next(index uint64, slot int) job {
	var hdr [blockHdrSize]byte
	start := s.off
	j := job{b: block{off: start, index: index}, slot: slot, probOff: start}
	n, err := s.readFull(hdr[:])
	if err != nil {
		j.last = true
		switch {
		case n == 0 && errors.Is(err, io.EOF):
		case errors.Is(err, io.ErrUnexpectedEOF):
			j.problem = fmt.Errorf("block %d header: %d of %d bytes: %w", index, n, blockHdrSize, decode.ErrTruncated)
		default:
			j.fatal = fmt.Errorf("read block %d header: %w", index, err)
		}
		return j
	}
	le := binary.LittleEndian
	j.numRecords = le.Uint32(hdr[0:])
	size := le.Uint32(hdr[4:])
	j.typ = le.Uint16(hdr[8:])
	flags := le.Uint16(hdr[10:])
	if size > MaxBlockSize {
		// The framing cannot be trusted past a block this size: stop.
		j.problem = fmt.Errorf("%w: block %d size %d exceeds the %d-byte limit", ErrCorrupt, index, size, MaxBlockSize)
		j.last = true
		return j
	}
	raw, err := s.readPayload(slot, int(size))
	j.counted = true
	if err != nil {
		j.last = true
		if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			j.fatal, j.probOff = fmt.Errorf("read block %d: %w", index, err), s.off
			return j
		}
		j.truncated = true
		j.problem = fmt.Errorf("block %d: %d of %d payload bytes: %w", index, len(raw), size, decode.ErrTruncated)
	}
	j.b.compressed = s.comp != compNone && flags&flagBlockUncompressed == 0
	s.prepare(&j, raw)
	return j
}

// prepare decides what to do with a block payload and decompresses it.
func (s *source) prepare(j *job, raw []byte) {
	switch {
	case j.typ == blockV1 && s.layout == 1, j.typ == blockMixed && s.layout == 2:
	case j.typ == blockV15:
		j.skip = "nfdump 1.5 data block"
		return
	case j.typ == blockMixed:
		j.skip = "large-record block"
		return
	case j.typ == blockArray && s.layout == 1:
		j.skip = "catalog block" // announced by 1.6's FLAG_CATALOG, never written
		return
	case j.typ == blockArray:
		j.skip = "array block"
		return
	default:
		j.skip = fmt.Sprintf("unknown block type %d", j.typ)
		return
	}
	if !j.b.compressed || len(raw) == 0 {
		j.data = raw
		return
	}
	if j.truncated {
		return // a cut compressed block cannot be decoded; the problem says so
	}
	if s.buf[j.slot] == nil {
		s.buf[j.slot] = *bufPool.Get().(*[]byte)
	}
	data, err := s.dec.decompress(s.comp, s.buf[j.slot], raw)
	if err != nil {
		j.problem = fmt.Errorf("%w: block %d: %s decompression: %v", ErrCorrupt, j.b.index, compressionNames[s.comp], err)
		return
	}
	j.data = data
}

// readPayload reads a block payload of size bytes into the slot's buffer.
// The buffer grows with the bytes actually read, not with the size the
// header claims, so a short hostile file cannot make us allocate
// MaxBlockSize.
func (s *source) readPayload(slot, size int) ([]byte, error) {
	if cap(s.raw[slot]) >= size {
		raw := s.raw[slot][:size]
		n, err := s.readFull(raw)
		return raw[:n], err
	}
	raw := s.raw[slot][:0]
	for len(raw) < size {
		step := min(size-len(raw), max(len(raw), 256<<10))
		if cap(raw)-len(raw) < step {
			grown := make([]byte, len(raw), len(raw)+step)
			copy(grown, raw)
			raw = grown
		}
		n, err := s.readFull(raw[len(raw) : len(raw)+step])
		raw = raw[:len(raw)+n]
		if err != nil {
			if n == 0 && errors.Is(err, io.EOF) && len(raw) > 0 {
				err = io.ErrUnexpectedEOF
			}
			s.raw[slot] = raw[:0]
			return raw, err
		}
	}
	s.raw[slot] = raw
	return raw, nil
}

// decompressor undoes the block compression methods; it keeps the zstd
// decoder between blocks.
type decompressor struct {
	zstd *zstd.Decoder
}

func (d *decompressor) close() {
	if d.zstd != nil {
		d.zstd.Close()
	}
}

// errTooLarge marks a block that decompresses to more than MaxBlockSize.
var errTooLarge = fmt.Errorf("decompresses to more than %d bytes", MaxBlockSize)

// decompress decodes src into dst (len(dst) is the output limit) and
// returns the decoded bytes, a prefix of dst.
func (d *decompressor) decompress(comp int, dst, src []byte) ([]byte, error) {
	switch comp {
	case compLZO:
		n, err := lzo.Decompress(dst, src)
		if errors.Is(err, lzo.ErrOutputOverrun) {
			return nil, errTooLarge
		}
		return dst[:n], err
	case compLZ4:
		n, err := lz4.UncompressBlock(src, dst)
		if err != nil {
			return nil, err
		}
		return dst[:n], nil
	case compBZ2:
		zr := bzip2.NewReader(bytes.NewReader(src))
		n, err := io.ReadFull(zr, dst)
		switch {
		case err == nil:
			var one [1]byte
			if k, _ := zr.Read(one[:]); k > 0 {
				return nil, errTooLarge
			}
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		default:
			return nil, err
		}
		return dst[:n], nil
	case compZSTD:
		if d.zstd == nil {
			z, err := zstd.NewReader(nil,
				zstd.WithDecoderConcurrency(1),
				zstd.WithDecoderLowmem(true),
				zstd.WithDecoderMaxMemory(MaxBlockSize))
			if err != nil {
				return nil, err
			}
			d.zstd = z
		}
		out, err := d.zstd.DecodeAll(src, dst[:0])
		if err != nil {
			return nil, err
		}
		if len(out) > len(dst) {
			return nil, errTooLarge
		}
		return out, nil
	}
	return src, nil
}
