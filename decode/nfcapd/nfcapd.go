// Package nfcapd reads nfdump's binary flow files (nfcapd.YYYYMMDDhhmm),
// the files nfcapd, sfcapd and nfpcapd write and nfdump -w produces.
//
// Two on-disk layouts are decoded:
//
//   - LAYOUT_VERSION_1, written by nfdump 1.6.x: a 140-byte file header, a
//     136-byte statistics record, then data blocks of "V1" records: common
//     flow records (types 1 and 10) whose optional fields are described by
//     extension maps (type 2), exporter (7) and sampler (9) records.
//   - LAYOUT_VERSION_2, written by nfdump 1.7.x: a 40-byte file header, then
//     data blocks of V3 records (type 11, a header plus typed elements),
//     exporter (7) and sampler (9 legacy, 15) records, and appendix blocks
//     holding the ident string and the statistics record.
//
// Blocks are stored uncompressed or compressed with LZO1X (our own decoder,
// package lzo), bzip2 (one stream per block), LZ4 (raw block format) or
// zstd (one frame per block); the file header names the method, and a block
// flag can exempt single blocks.
//
// 1.6 files carry their samplers as record type 9. nfdump 1.7.1 reads 1.6
// flow records but skips those ("Skip unknown record type 9"), so it loses
// the sampling interval; later nfdump versions convert them (packet
// interval 1, space N-1). We read them as the 1.6 code wrote them: the
// shared 1.6 file's 7322 records are 2407 exporters, 2405 samplers, 2500
// extension maps and the 10 flows its own statistics record announces,
// each flagged sampled at 1 in 3000. nfdump 1.8's layout (LAYOUT_VERSION_3, a V3 container with V4
// records) is recognised by Detect but not decoded: Read refuses it with a
// clear error. So are files written on a big-endian host (nfcapd files are
// host-endian; the magic number tells).
//
// Read streams with bounded memory: a second goroutine reads and
// decompresses the next block while the caller's goroutine decodes the
// current one, so at most two blocks are held, each at most MaxBlockSize
// (nfdump's own read-buffer limit) stored and decompressed, plus the
// exporter, sampler and extension-map tables, which have hard caps. emit
// and onErr run on the caller's goroutine, in file order.
//
// What becomes a flow.Record: every flow record (V3 type 11, V1 types 1 and
// 10). Counters are the stored values: when a record carries nfdump's
// "sampled" flag, nfcapd has already multiplied its packets and bytes by the
// sampling interval (Stats.Scaled counts them), so they must not be scaled
// again. Record.Sampling is the interval of the exporter's sampler (1 for
// nfpcapd files, which see every packet; 0 when unknown). Record.Exporter is
// the address the flow arrived from (the "ra" column of nfdump -o csv), else
// the address of the record's exporter; ObsDomain is the exporter's
// observation domain / source id. Everything else that is not a flow —
// exporter statistics, extension maps, histograms, unknown record types — is
// counted in Stats.Skipped, never silently dropped.
package nfcapd

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/flow"
)

// Format names returned by Detect.
const (
	FormatV1        = "nfcapd-1.6" // LAYOUT_VERSION_1 (nfdump 1.6.x), read
	FormatV2        = "nfcapd-1.7" // LAYOUT_VERSION_2 (nfdump 1.7.x), read
	FormatV3        = "nfcapd-1.8" // LAYOUT_VERSION_3 (nfdump 1.8.x), recognised only
	FormatBigEndian = "nfcapd-be"  // any layout written on a big-endian host, recognised only
)

// MaxBlockSize bounds a data block, compressed and decompressed. nfdump
// reads blocks into a buffer of this size (BUFFSIZE, 5 MiB) and rejects
// larger ones as corrupt, so no valid file has a bigger block.
const MaxBlockSize = 5 << 20

// Caps on tables fed by the file. Exporter ids (sysid) and extension-map ids
// are 16 bits wide, so those tables are bounded by their key space; samplers
// are keyed by a 64-bit id and need an explicit cap.
const (
	maxSamplers  = 1 << 16
	maxMapFields = 64 // nfdump 1.6 defines 49 extension ids; a map names each once
)

const (
	magic        = 0xA50C
	headerV1Size = 140 // magic, version, flags, NumBlocks, ident[128]
	statV1Size   = 136 // stat_record_t after the V1 header
	headerV2Size = 40
	blockHdrSize = 12
)

// Errors wrapped in decode.Error.
var (
	ErrUnsupported = errors.New("unsupported nfcapd file")
	ErrCorrupt     = errors.New("corrupt nfcapd data")
)

// Stats describes one file as read.
type Stats struct {
	Layout        int    // 1 (nfdump 1.6) or 2 (nfdump 1.7)
	Compression   string // "none", "lzo", "bz2", "lz4" or "zstd"
	NfdumpVersion uint32 // layout 2: version word of the nfdump that wrote the file
	Created       int64  // layout 2: file creation time, Unix seconds
	Creator       string // layout 2: writing program ("nfcapd", "nfpcapd", "nfdump", …)
	Ident         string // the file's ident string

	Blocks        uint64 // blocks read (data and appendix)
	Records       uint64 // records of any type walked
	Flows         uint64 // flow records handed to emit
	Scaled        uint64 // of those, flows whose counters nfcapd had multiplied by sampling
	Exporters     int    // exporter records seen
	Samplers      int    // sampler records kept
	DeclaredFlows uint64 // flow count in the file's own statistics record
	First, Last   int64  // earliest First and latest Last over the flows, Unix ns (0 when none)

	// Skipped counts records (and blocks) that are not flows, by kind, e.g.
	// "exporter stats record", "extension map", "unknown record type 12".
	Skipped map[string]uint64
	Errors  uint64 // problems passed to onErr
}

// SkippedKinds returns the keys of Skipped in sorted order, for
// deterministic reports.
func (s *Stats) SkippedKinds() []string {
	kinds := make([]string, 0, len(s.Skipped))
	for k := range s.Skipped {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

func (s *Stats) skip(kind string) {
	if s.Skipped == nil {
		s.Skipped = make(map[string]uint64)
	}
	s.Skipped[kind]++
}

// Detect reports whether head (the first bytes of a file, at least 4) starts
// an nfcapd file, and which layout: FormatV1, FormatV2, FormatV3 or
// FormatBigEndian. Only V1 and V2 can be read; the others are recognised so
// that the user gets a precise message instead of "unknown format".
func Detect(head []byte) (format string, ok bool) {
	if len(head) < 4 {
		return "", false
	}
	le := binary.LittleEndian.Uint16(head)
	be := binary.BigEndian.Uint16(head)
	switch {
	case le == magic:
		switch binary.LittleEndian.Uint16(head[2:]) {
		case 1:
			return FormatV1, true
		case 2:
			return FormatV2, true
		case 3:
			return FormatV3, true
		}
	case be == magic:
		if v := binary.BigEndian.Uint16(head[2:]); v >= 1 && v <= 3 {
			return FormatBigEndian, true
		}
	}
	return "", false
}

// compression methods as numbered in the layout-2 header.
const (
	compNone = 0
	compLZO  = 1
	compBZ2  = 2
	compLZ4  = 3
	compZSTD = 4
)

var compressionNames = [...]string{"none", "lzo", "bz2", "lz4", "zstd"}

var creatorNames = [...]string{"unknown", "nfcapd", "nfpcapd", "sfcapd", "nfdump", "nfanon", "nfprofile", "geolookup", "ft2nfdump", "torlookup"}

const creatorNfpcapd = 2

// Read decodes the nfcapd file r (called name in errors; evidence is copied
// into every record) and calls emit once per flow record. The *flow.Record
// is reused: it is valid only during the call.
//
// A problem inside the file (a corrupt block, a bad record, a truncated
// tail) is passed to onErr as a *decode.Error naming the file and the byte
// offset — the record's own offset in an uncompressed block, the block's
// offset in a compressed one — and reading carries on with the next record
// or block when the framing allows, so everything decoded before the damage
// is kept. onErr returning non-nil stops the read; Read returns that error.
// A file that is not a readable nfcapd file at all gives an error and no
// records. A nil onErr ignores problems (they are still counted).
func Read(r io.Reader, name string, evidence uint32, emit func(*flow.Record), onErr decode.ErrorFunc) (Stats, error) {
	rd := newReader(name, evidence, emit, onErr)
	err := rd.run(r)
	return rd.st, err
}

// reader holds the state of one Read.
type reader struct {
	name     string
	evidence uint32
	emit     func(*flow.Record)
	onErr    decode.ErrorFunc
	st       Stats

	creator uint32
	src     source // reads and decompresses blocks, on its own goroutine
	rec     flow.Record
	tabs    tables
	v1      v1State
}

func newReader(name string, evidence uint32, emit func(*flow.Record), onErr decode.ErrorFunc) *reader {
	if emit == nil {
		emit = func(*flow.Record) {}
	}
	return &reader{name: name, evidence: evidence, emit: emit, onErr: onErr}
}

// stopError carries an onErr refusal out of the decoding loops.
type stopError struct{ err error }

func (s stopError) Error() string { return s.err.Error() }

// report hands one problem to onErr. A non-nil result means stop.
func (rd *reader) report(off int64, err error) error {
	rd.st.Errors++
	if rd.onErr == nil {
		return nil
	}
	if e := rd.onErr(&decode.Error{File: rd.name, Offset: off, Err: err}); e != nil {
		return stopError{e}
	}
	return nil
}

func (rd *reader) fatal(off int64, err error) error {
	return &decode.Error{File: rd.name, Offset: off, Err: err}
}

func (rd *reader) run(r io.Reader) error {
	rd.src.r = r
	var head [headerV1Size + statV1Size]byte
	n, err := rd.src.readFull(head[:4])
	if err != nil {
		if n == 0 && errors.Is(err, io.EOF) {
			return rd.fatal(0, fmt.Errorf("empty file: %w", decode.ErrNotEvidence))
		}
		return rd.headerErr("file header", err)
	}
	format, ok := Detect(head[:4])
	if !ok {
		return rd.fatal(0, fmt.Errorf("no nfcapd magic: %w", decode.ErrNotEvidence))
	}
	switch format {
	case FormatV3:
		return rd.fatal(0, fmt.Errorf("%w: nfdump 1.8 layout (LAYOUT_VERSION_3) is not supported; convert it with nfdump 1.7 or read it with nfdump -o csv", ErrUnsupported))
	case FormatBigEndian:
		return rd.fatal(0, fmt.Errorf("%w: written on a big-endian host (byte-swapped magic)", ErrUnsupported))
	}

	var hdrErr error
	if format == FormatV1 {
		hdrErr = rd.headerV1(head[:])
	} else {
		hdrErr = rd.headerV2(head[:headerV2Size])
	}
	if hdrErr != nil {
		return hdrErr
	}
	rd.src.layout = rd.st.Layout
	defer rd.src.release()
	defer rd.src.dec.close()

	err = rd.blocks()
	var stop stopError
	if errors.As(err, &stop) {
		return stop.err
	}
	return err
}

// headerErr reports a failed header read: a file too short for its
// header, or the reader's own error.
func (rd *reader) headerErr(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return rd.fatal(0, fmt.Errorf("%s: %w", what, decode.ErrTruncated))
	}
	return rd.fatal(rd.src.off, fmt.Errorf("read %s: %w", what, err))
}

func (rd *reader) headerV1(head []byte) error {
	if _, err := rd.src.readFull(head[4 : headerV1Size+statV1Size]); err != nil {
		return rd.headerErr("nfdump 1.6 file header", err)
	}
	le := binary.LittleEndian
	rd.st.Layout = 1
	flags := le.Uint32(head[4:])
	switch {
	case flags&0x01 != 0:
		rd.src.comp = compLZO
	case flags&0x08 != 0:
		rd.src.comp = compBZ2
	case flags&0x10 != 0:
		rd.src.comp = compLZ4
	default:
		rd.src.comp = compNone
	}
	if flags&0x20 != 0 {
		// FLAG_LZMA_COMPRESSED existed only in a fork; nfdump never wrote it.
		return rd.fatal(4, fmt.Errorf("%w: LZMA-compressed blocks (flags %#x)", ErrUnsupported, flags))
	}
	rd.st.Compression = compressionNames[rd.src.comp]
	rd.st.Ident = cString(head[12:headerV1Size])
	rd.st.DeclaredFlows = le.Uint64(head[headerV1Size:])
	return nil
}

func (rd *reader) headerV2(head []byte) error {
	if _, err := rd.src.readFull(head[4:headerV2Size]); err != nil {
		return rd.headerErr("nfdump 1.7 file header", err)
	}
	le := binary.LittleEndian
	rd.st.Layout = 2
	rd.st.NfdumpVersion = le.Uint32(head[4:])
	rd.st.Created = int64(le.Uint64(head[8:]))
	comp := head[16]
	if int(comp) >= len(compressionNames) {
		return rd.fatal(16, fmt.Errorf("%w: compression method %d", ErrUnsupported, comp))
	}
	rd.src.comp = int(comp)
	rd.st.Compression = compressionNames[comp]
	if enc := head[17]; enc != 0 {
		return rd.fatal(17, fmt.Errorf("%w: encrypted blocks (method %d)", ErrUnsupported, enc))
	}
	rd.creator = le.Uint32(head[20:])
	if int(rd.creator) < len(creatorNames) {
		rd.st.Creator = creatorNames[rd.creator]
	} else {
		rd.st.Creator = fmt.Sprintf("creator %d", rd.creator)
	}
	// The appendix (ident and statistics records, at offAppendix) is
	// made of ordinary blocks after the data blocks: reading to the end
	// finds it, so its offset is not needed.
	return nil
}

// cString returns b up to its first NUL, with control bytes kept: it is raw
// evidence and must be escaped on output.
func cString(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
