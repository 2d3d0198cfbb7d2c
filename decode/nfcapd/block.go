package nfcapd

import (
	"bytes"
	"compress/bzip2"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

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

// blocks reads data and appendix blocks to the end of the file.
func (rd *reader) blocks() error {
	var hdr [blockHdrSize]byte
	for index := uint64(0); ; index++ {
		start := rd.off
		n, err := rd.readFull(hdr[:])
		if err != nil {
			if n == 0 && errors.Is(err, io.EOF) {
				return nil
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return rd.report(start, fmt.Errorf("block %d header: %d of %d bytes: %w", index, n, blockHdrSize, decode.ErrTruncated))
			}
			return rd.fatal(start, fmt.Errorf("read block %d header: %w", index, err))
		}
		le := binary.LittleEndian
		numRecords := le.Uint32(hdr[0:])
		size := le.Uint32(hdr[4:])
		typ := le.Uint16(hdr[8:])
		flags := le.Uint16(hdr[10:])
		if size > MaxBlockSize {
			// The framing cannot be trusted past a block this size: stop.
			return rd.report(start, fmt.Errorf("%w: block %d size %d exceeds the %d-byte limit", ErrCorrupt, index, size, MaxBlockSize))
		}
		raw, err := rd.readPayload(int(size))
		n = len(raw)
		truncated := false
		if err != nil {
			if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
				return rd.fatal(rd.off, fmt.Errorf("read block %d: %w", index, err))
			}
			truncated = true
		}
		rd.st.Blocks++
		b := block{off: start, index: index, compressed: rd.comp != compNone && flags&flagBlockUncompressed == 0}
		if e := rd.block(b, typ, numRecords, raw, truncated); e != nil {
			return e
		}
		if truncated {
			return rd.report(start, fmt.Errorf("block %d: %d of %d payload bytes: %w", index, n, size, decode.ErrTruncated))
		}
	}
}

// readPayload reads a block payload of size bytes into rd.raw. The buffer
// grows with the bytes actually read, not with the size the header claims,
// so a short hostile file cannot make us allocate MaxBlockSize.
func (rd *reader) readPayload(size int) ([]byte, error) {
	if cap(rd.raw) >= size {
		raw := rd.raw[:size]
		n, err := rd.readFull(raw)
		return raw[:n], err
	}
	raw := rd.raw[:0]
	for len(raw) < size {
		step := min(size-len(raw), max(len(raw), 256<<10))
		if cap(raw)-len(raw) < step {
			grown := make([]byte, len(raw), len(raw)+step)
			copy(grown, raw)
			raw = grown
		}
		n, err := rd.readFull(raw[len(raw) : len(raw)+step])
		raw = raw[:len(raw)+n]
		if err != nil {
			if n == 0 && errors.Is(err, io.EOF) && len(raw) > 0 {
				err = io.ErrUnexpectedEOF
			}
			rd.raw = raw[:0]
			return raw, err
		}
	}
	rd.raw = raw
	return raw, nil
}

// block decodes one block's payload. A truncated uncompressed block still
// gives the records that fit; a truncated compressed one gives nothing.
func (rd *reader) block(b block, typ uint16, numRecords uint32, raw []byte, truncated bool) error {
	switch {
	case typ == blockV1 && rd.st.Layout == 1, typ == blockMixed && rd.st.Layout == 2:
	case typ == blockV15:
		rd.st.skip("nfdump 1.5 data block")
		return nil
	case typ == blockMixed:
		rd.st.skip("large-record block")
		return nil
	case typ == blockArray:
		rd.st.skip("array block")
		return nil
	default:
		rd.st.skip(fmt.Sprintf("unknown block type %d", typ))
		return nil
	}
	data := raw
	if b.compressed && len(raw) > 0 {
		if truncated {
			return nil // reported by the caller
		}
		if rd.buf == nil {
			rd.buf = make([]byte, MaxBlockSize)
		}
		var err error
		data, err = rd.dec.decompress(rd.buf, raw)
		if err != nil {
			return rd.report(b.off, fmt.Errorf("%w: block %d: %s decompression: %v", ErrCorrupt, b.index, compressionNames[rd.comp], err))
		}
	}
	return rd.records(b, data, numRecords, truncated)
}

// decompressor undoes one block compression method.
type decompressor struct {
	comp int
	zstd *zstd.Decoder
}

func (d *decompressor) init(comp int) { d.comp = comp }

func (d *decompressor) close() {
	if d.zstd != nil {
		d.zstd.Close()
	}
}

// errTooLarge marks a block that decompresses to more than MaxBlockSize.
var errTooLarge = fmt.Errorf("decompresses to more than %d bytes", MaxBlockSize)

// decompress decodes src into dst (len(dst) is the output limit) and
// returns the decoded bytes, a prefix of dst.
func (d *decompressor) decompress(dst, src []byte) ([]byte, error) {
	switch d.comp {
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
