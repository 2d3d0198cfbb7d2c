package nfcapd

import (
	"encoding/binary"
	"fmt"

	"github.com/spotctl/spotctl/decode"
)

// Record types, shared by both layouts (nfdump's id.h).
const (
	recCommonV0             = 1  // layout 1 flow record, 8-bit exporter id
	recExtensionMap         = 2  // layout 1 extension map
	recPortHistogram        = 3  // xstat
	recBppHistogram         = 4  // xstat
	recLegacy1              = 5  // TC exporter record, phased out in 1.6
	recLegacy2              = 6  // TC sampler record, phased out in 1.6
	recExporterInfo         = 7  // exporter address, version, observation domain
	recExporterStat         = 8  // per-exporter packet/flow counters
	recSamplerLegacy        = 9  // sampler: id, interval, mode, exporter
	recCommon               = 10 // layout 1 flow record, 16-bit exporter id
	recV3                   = 11 // layout 2 flow record
	recNbar                 = 12
	recIfName               = 13
	recVrfName              = 14
	recSampler              = 15 // sampler: packet interval and space
	recIdent         uint16 = 0x8001
	recStat          uint16 = 0x8002
)

const recHdrSize = 4

// recCtx locates the record being decoded, for error messages.
type recCtx struct {
	b     block
	index uint32 // record number in the block
	pos   int    // offset of the record in the (decompressed) block data
}

// errAt reports a problem with one record. In an uncompressed block the
// offset is the record's own file offset; in a compressed block it is the
// block's, and the message says where in the decompressed data to look.
func (rd *reader) errAt(c recCtx, err error) error {
	if c.b.compressed {
		return rd.report(c.b.off, fmt.Errorf("block %d, record %d at offset %d of the decompressed block: %w", c.b.index, c.index, c.pos, err))
	}
	return rd.report(c.b.off+blockHdrSize+int64(c.pos), fmt.Errorf("block %d, record %d: %w", c.b.index, c.index, err))
}

// records walks the records of one block. A record whose size does not fit
// ends the block (the framing is lost); a malformed record whose size is
// sound is reported and skipped.
func (rd *reader) records(b block, data []byte, numRecords uint32, truncated bool) error {
	pos := 0
	for i := uint32(0); i < numRecords; i++ {
		left := len(data) - pos
		if left < recHdrSize {
			if truncated {
				return nil
			}
			return rd.errAt(recCtx{b, i, pos}, fmt.Errorf("block declares %d records, data ends after %d: %w", numRecords, i, decode.ErrTruncated))
		}
		h := binary.LittleEndian.Uint32(data[pos:]) // type u16, size u16
		typ, size := uint16(h), int(h>>16)
		if size < recHdrSize {
			return rd.errAt(recCtx{b, i, pos}, fmt.Errorf("%w: record type %d has size %d, below the %d-byte header", ErrCorrupt, typ, size, recHdrSize))
		}
		if size > left {
			if truncated {
				return nil
			}
			return rd.errAt(recCtx{b, i, pos}, fmt.Errorf("%w: record type %d size %d exceeds the %d bytes left in the block", ErrCorrupt, typ, size, left))
		}
		rd.st.Records++
		p := data[pos : pos+size]
		pos += size
		var err error
		if typ == recV3 { // the common case, ahead of the dispatch
			err = rd.v3(p)
		} else {
			err = rd.record(typ, p)
		}
		if err != nil {
			// A malformed record: report it and go on with the next.
			if e := rd.errAt(recCtx{b, i, pos - size}, err); e != nil {
				return e
			}
		}
	}
	return nil
}

// record dispatches one record by type and returns what is wrong with it,
// if anything. p holds the whole record, header included.
func (rd *reader) record(typ uint16, p []byte) error {
	switch typ {
	case recV3:
		return rd.v3(p)
	case recCommon, recCommonV0:
		return rd.v1Common(typ, p)
	case recExtensionMap:
		if err := rd.v1.addMap(p); err != nil {
			return err
		}
		rd.st.skip("extension map")
	case recExporterInfo:
		if err := rd.tabs.addExporter(p); err != nil {
			return err
		}
		rd.st.Exporters++
	case recSamplerLegacy, recSampler:
		kept, err := rd.tabs.addSampler(typ, p)
		if err != nil {
			return err
		}
		if kept {
			rd.st.Samplers++
		} else {
			rd.st.skip("sampler record over the table cap")
		}
	case recExporterStat:
		rd.st.skip("exporter stats record")
	case recIdent:
		rd.st.Ident = cString(p[recHdrSize:])
	case recStat:
		if len(p) >= recHdrSize+8 {
			rd.st.DeclaredFlows = binary.LittleEndian.Uint64(p[recHdrSize:])
		}
	case recPortHistogram, recBppHistogram:
		rd.st.skip("histogram record")
	case recLegacy1, recLegacy2:
		rd.st.skip("legacy exporter/sampler record")
	case recNbar:
		rd.st.skip("nbar record")
	case recIfName, recVrfName:
		rd.st.skip("interface/vrf name record")
	default:
		rd.st.skip(fmt.Sprintf("unknown record type %d", typ))
	}
	return nil
}
