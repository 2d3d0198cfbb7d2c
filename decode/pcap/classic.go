package pcap

import (
	"fmt"
	"io"

	"github.com/spotctl/spotctl/decode"
)

// Classic libpcap file magics, as read in the file's own byte order.
const (
	magicMicro = 0xa1b2c3d4
	magicNano  = 0xa1b23c4d
)

const (
	pcapHeaderLen = 24
	pcapRecordLen = 16
)

// readPcapHeader parses the 24-byte file header:
//
//	magic<4> version_major<2> version_minor<2> thiszone<4> sigfigs<4>
//	snaplen<4> linktype_and_info<4>
//
// The version, time zone and sigfigs fields carry nothing we use (every
// writer puts 0 in the latter two) and are not checked. Only the low 16 bits
// of the last field are the link type; the upper bits hold FCS information
// that readers must ignore.
func (r *Reader) readPcapHeader() error {
	if err := r.fill(pcapHeaderLen); err != nil {
		return r.fatalFill(0, "file header", err, pcapHeaderLen)
	}
	h := r.buf[r.pos : r.pos+pcapHeaderLen]
	r.snaplen = r.u32(h[16:])
	r.snapLimit = min(max(r.snaplen, snapFloor), MaxCaplen)
	r.linkType = uint16(r.u32(h[20:]))
	r.addLinkType(r.linkType)
	r.pos += pcapHeaderLen
	return nil
}

// nextPcap frames one record: ts_sec<4> ts_frac<4> caplen<4> wirelen<4>
// followed by caplen bytes. The common case (whole record in the buffer)
// touches no slow path.
func (r *Reader) nextPcap() (decode.Packet, error) {
	start := r.base + int64(r.pos)
	if r.end-r.pos < pcapRecordLen {
		if err := r.fill(pcapRecordLen); err != nil {
			if err == io.EOF {
				return decode.Packet{}, io.EOF
			}
			return decode.Packet{}, r.fatalFill(start, "record header", err, pcapRecordLen)
		}
	}
	h := r.buf[r.pos : r.pos+pcapRecordLen]
	var sec, frac, caplen, wirelen uint32
	if r.be {
		sec, frac, caplen, wirelen = beU32(h[0:]), beU32(h[4:]), beU32(h[8:]), beU32(h[12:])
	} else {
		sec, frac, caplen, wirelen = leU32(h[0:]), leU32(h[4:]), leU32(h[8:]), leU32(h[12:])
	}
	if caplen > r.snapLimit {
		return decode.Packet{}, r.fatal(start, fmt.Errorf("corrupt record: captured length %d exceeds the limit %d (file snap length %d)", caplen, r.snapLimit, r.snaplen))
	}
	need := pcapRecordLen + int(caplen)
	if r.end-r.pos < need {
		if err := r.fill(need); err != nil {
			return decode.Packet{}, r.fatalFill(start, "record", err, need)
		}
	}
	data := r.buf[r.pos+pcapRecordLen : r.pos+need : r.pos+need]
	r.pos += need
	// Neither product can overflow: sec < 2^32 gives < 4.3e18 ns, and frac
	// (even an invalid one >= 1e6 or 1e9) adds < 4.3e12.
	ts := int64(sec) * 1e9
	if r.nano {
		ts += int64(frac)
	} else {
		ts += int64(frac) * 1e3
	}
	return decode.Packet{TS: ts, LinkType: r.linkType, Data: data, WireLen: wirelen, Offset: start}, nil
}

// Byte-order helpers the compiler inlines; the hot path avoids the
// binary.ByteOrder interface.
func leU32(b []byte) uint32 {
	_ = b[3]
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func beU32(b []byte) uint32 {
	_ = b[3]
	return uint32(b[3]) | uint32(b[2])<<8 | uint32(b[1])<<16 | uint32(b[0])<<24
}
