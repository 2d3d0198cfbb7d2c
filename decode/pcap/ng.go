package pcap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/spotctl/spotctl/decode"
)

// pcapng block types and magics (draft-ietf-opsawg-pcapng).
const (
	blockSHB = 0x0a0d0d0a // palindromic: reads the same in either byte order
	blockIDB = 0x00000001
	blockPB  = 0x00000002 // obsolete Packet Block
	blockSPB = 0x00000003
	blockEPB = 0x00000006

	byteOrderMagic        = 0x1a2b3c4d // as read little-endian from a little-endian section
	byteOrderMagicSwapped = 0x4d3c2b1a // as read little-endian from a big-endian section

	blockMinLen = 12 // type, length, trailing length
	shbMinLen   = 28 // + byte-order magic, versions, section length

	optEndOfOpt = 0
	optTSResol  = 9
	optTSOffset = 14
)

// iface is what a packet block needs from its Interface Description Block.
type iface struct {
	linkType uint16
	snaplen  uint32
	ts       tsConv
	bad      string // non-empty: why packets on this interface are reported, not returned
}

// readSHB reads a Section Header Block at the current position and starts
// a new section: byte order, interface numbering and version come from it.
func (r *Reader) readSHB(start int64) error {
	if err := r.fill(12); err != nil {
		return r.fatalFill(start, "section header", err, 12)
	}
	switch binary.LittleEndian.Uint32(r.buf[r.pos+8:]) {
	case byteOrderMagic:
		r.be = false
	case byteOrderMagicSwapped:
		r.be = true
	default:
		return r.fatal(start, fmt.Errorf("corrupt section header: byte-order magic 0x%08x", binary.BigEndian.Uint32(r.buf[r.pos+8:])))
	}
	blen := r.u32(r.buf[r.pos+4:])
	if blen < shbMinLen || blen > MaxBlockLen {
		return r.fatal(start, fmt.Errorf("corrupt section header: total length %d outside %d..%d", blen, shbMinLen, MaxBlockLen))
	}
	body, err := r.readBlock(start, blockSHB, blen)
	if err != nil {
		return err
	}
	major, minor := r.u16(body[4:]), r.u16(body[6:])
	r.ifaces = r.ifaces[:0]
	r.skipSection = major != 1
	if r.skipSection {
		return r.blockError(start, "pcapng section version %d.%d is not supported: skipping to the next section", major, minor)
	}
	return nil
}

// nextNg returns the next packet of a pcapng file, handling the blocks in
// between.
func (r *Reader) nextNg() (decode.Packet, error) {
	for {
		start := r.base + int64(r.pos)
		if r.end-r.pos < 8 {
			if err := r.fill(8); err != nil {
				if err == io.EOF {
					return decode.Packet{}, io.EOF
				}
				return decode.Packet{}, r.fatalFill(start, "block header", err, 8)
			}
		}
		typ := r.u32(r.buf[r.pos:])
		if typ == blockSHB {
			if err := r.readSHB(start); err != nil {
				return decode.Packet{}, err
			}
			continue
		}
		blen := r.u32(r.buf[r.pos+4:])
		if blen < blockMinLen || blen > MaxBlockLen {
			return decode.Packet{}, r.fatal(start, fmt.Errorf("corrupt block: total length %d outside %d..%d (block type 0x%08x)", blen, blockMinLen, MaxBlockLen, typ))
		}
		if r.skipSection {
			if err := r.skipBlock(start, typ, blen); err != nil {
				return decode.Packet{}, err
			}
			continue
		}
		switch typ {
		case blockEPB, blockPB, blockSPB:
			body, err := r.readBlock(start, typ, blen)
			if err != nil {
				return decode.Packet{}, err
			}
			return r.packet(start, typ, body)
		case blockIDB:
			body, err := r.readBlock(start, typ, blen)
			if err != nil {
				return decode.Packet{}, err
			}
			if err := r.addInterface(start, body); err != nil {
				return decode.Packet{}, err
			}
		default:
			// NRB, ISB, DSB, custom, unknown: nothing we need.
			if err := r.skipBlock(start, typ, blen); err != nil {
				return decode.Packet{}, err
			}
		}
	}
}

// readBlock buffers the whole block starting at the current position,
// checks its trailing length and consumes it. It returns the body (between
// the leading length and the trailing one), valid until the next fill.
func (r *Reader) readBlock(start int64, typ, blen uint32) ([]byte, error) {
	n := int(blen)
	if err := r.fill(n); err != nil {
		return nil, r.fatalFill(start, blockName(typ), err, n)
	}
	trailer := r.u32(r.buf[r.pos+n-4:])
	if trailer == blen {
		b := r.buf[r.pos : r.pos+n]
		r.pos += n
		return b[8 : n-4], nil
	}
	if p := (n + 3) &^ 3; p != n {
		// A length that is not a multiple of 4 may have left out the padding.
		err := r.fill(p)
		if err == nil && r.u32(r.buf[r.pos+p-4:]) == blen {
			b := r.buf[r.pos : r.pos+p]
			r.pos += p
			return b[8 : p-4], nil
		}
		if r.srcErr != nil {
			return nil, r.fatalFill(start, blockName(typ), err, p)
		}
	}
	return nil, r.trailerMismatch(start, typ, blen, trailer)
}

// skipBlock consumes a block we have no use for without buffering it, then
// checks its trailing length.
func (r *Reader) skipBlock(start int64, typ, blen uint32) error {
	n := int(blen)
	if err := r.skip(n - 4); err != nil {
		return r.fatalFill(start, blockName(typ), err, n)
	}
	if err := r.fill(4); err != nil {
		return r.fatalFill(start, blockName(typ), err, n)
	}
	trailer := r.u32(r.buf[r.pos:])
	if trailer == blen {
		r.pos += 4
		return nil
	}
	if pad := (n+3)&^3 - n; pad != 0 {
		err := r.fill(4 + pad)
		if err == nil && r.u32(r.buf[r.pos+pad:]) == blen {
			r.pos += 4 + pad
			return nil
		}
		if r.srcErr != nil {
			return r.fatalFill(start, blockName(typ), err, n+pad)
		}
	}
	return r.trailerMismatch(start, typ, blen, trailer)
}

func (r *Reader) trailerMismatch(start int64, typ, blen, trailer uint32) error {
	return r.fatal(start, fmt.Errorf("corrupt %s: trailing length %d differs from leading length %d", blockName(typ), trailer, blen))
}

// addInterface numbers a new interface of the current section. Even a
// malformed description gets its number, so the ids of later interfaces
// stay right.
func (r *Reader) addInterface(start int64, body []byte) error {
	if len(r.ifaces) >= maxInterfaces {
		return r.blockError(start, "more than %d interfaces in one section: interface description ignored", maxInterfaces)
	}
	id := len(r.ifaces)
	if len(body) < 8 {
		r.ifaces = append(r.ifaces, iface{bad: "its description block is too short"})
		return r.blockError(start, "interface %d: description block body is %d bytes, need 8", id, len(body))
	}
	ifc := iface{linkType: r.u16(body), snaplen: r.u32(body[4:])}
	resol, offset, optErr := r.interfaceOptions(body[8:])
	ifc.ts = newTSConv(resol, offset)
	r.ifaces = append(r.ifaces, ifc)
	r.addLinkType(ifc.linkType)
	if optErr != nil {
		return r.blockError(start, "interface %d: %v", id, optErr)
	}
	return nil
}

// interfaceOptions extracts if_tsresol and if_tsoffset. Options after a
// malformed one are not trusted; a wrongly sized option is ignored (the
// spec lets readers report and skip it). The option list need not end with
// opt_endofopt.
func (r *Reader) interfaceOptions(opts []byte) (resol byte, offset int64, err error) {
	resol = 6 // microseconds when absent
	for len(opts) >= 4 {
		code, olen := r.u16(opts), int(r.u16(opts[2:]))
		if code == optEndOfOpt {
			break
		}
		if 4+olen > len(opts) {
			return resol, offset, errors.Join(err, fmt.Errorf("option %d: length %d overruns the block", code, olen))
		}
		v := opts[4 : 4+olen]
		switch code {
		case optTSResol:
			if olen != 1 {
				err = errors.Join(err, fmt.Errorf("if_tsresol has length %d, want 1: ignored", olen))
			} else {
				resol = v[0]
			}
		case optTSOffset:
			if olen != 8 {
				err = errors.Join(err, fmt.Errorf("if_tsoffset has length %d, want 8: ignored", olen))
			} else {
				offset = int64(r.u64(v))
			}
		}
		adv := 4 + (olen+3)&^3
		if adv >= len(opts) {
			break
		}
		opts = opts[adv:]
	}
	return resol, offset, err
}

// packet turns an EPB, obsolete PB or SPB body into a Packet.
func (r *Reader) packet(start int64, typ uint32, body []byte) (decode.Packet, error) {
	if typ == blockSPB {
		if len(body) < 4 {
			return decode.Packet{}, r.blockError(start, "simple packet block body is %d bytes, need 4", len(body))
		}
		if len(r.ifaces) == 0 {
			return decode.Packet{}, r.blockError(start, "simple packet block before any interface description in its section")
		}
		ifc := &r.ifaces[0]
		if ifc.bad != "" {
			return decode.Packet{}, r.blockError(start, "packet on interface 0: %s", ifc.bad)
		}
		wire := r.u32(body)
		// No captured length field: the data runs to the block's end, less
		// padding, i.e. min(original length, snap length) of what is there.
		caplen := min(uint32(len(body)-4), wire)
		if ifc.snaplen != 0 {
			caplen = min(caplen, ifc.snaplen)
		}
		return decode.Packet{TS: r.lastTS, LinkType: ifc.linkType, Data: body[4 : 4+caplen : 4+caplen], WireLen: wire, Offset: start}, nil
	}
	if len(body) < 20 {
		return decode.Packet{}, r.blockError(start, "%s body is %d bytes, need 20", blockName(typ), len(body))
	}
	var id uint32
	if typ == blockEPB {
		id = r.u32(body)
	} else {
		id = uint32(r.u16(body)) // followed by a 16-bit drops count
	}
	units := uint64(r.u32(body[4:]))<<32 | uint64(r.u32(body[8:]))
	caplen, wire := r.u32(body[12:]), r.u32(body[16:])
	if caplen > uint32(len(body)-20) {
		return decode.Packet{}, r.blockError(start, "%s: captured length %d overruns the block (%d bytes left)", blockName(typ), caplen, len(body)-20)
	}
	if id >= uint32(len(r.ifaces)) {
		return decode.Packet{}, r.blockError(start, "%s on interface %d, but the section has described %d interfaces", blockName(typ), id, len(r.ifaces))
	}
	ifc := &r.ifaces[id]
	if ifc.bad != "" {
		return decode.Packet{}, r.blockError(start, "packet on interface %d: %s", id, ifc.bad)
	}
	ts, ok := ifc.ts.toNs(units)
	if !ok {
		return decode.Packet{}, r.blockError(start, "timestamp %d units of %s (offset %s) on interface %d does not fit in int64 nanoseconds", units, ifc.ts.unit(), ifc.ts.offsetString(), id)
	}
	r.lastTS = ts
	return decode.Packet{TS: ts, LinkType: ifc.linkType, Data: body[20 : 20+caplen : 20+caplen], WireLen: wire, Offset: start}, nil
}

func blockName(typ uint32) string {
	switch typ {
	case blockSHB:
		return "section header block"
	case blockIDB:
		return "interface description block"
	case blockPB:
		return "packet block"
	case blockSPB:
		return "simple packet block"
	case blockEPB:
		return "enhanced packet block"
	}
	return fmt.Sprintf("block of type 0x%08x", typ)
}
