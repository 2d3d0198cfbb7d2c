package netflow

import (
	"encoding/binary"
	"fmt"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/flow"
)

const (
	v5HeaderLen    = 24
	v5RecordLen    = 48
	v9HeaderLen    = 20
	ipfixHeaderLen = 16
)

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }
func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

// exportTime is the header time in ns, or the receive time when the
// exporter sent none.
func exportTime(secs uint32, nsecs uint32, recvNs int64) int64 {
	if secs == 0 && nsecs == 0 && recvNs != 0 {
		return recvNs
	}
	return int64(secs)*1e9 + int64(nsecs)
}

// v5 decodes a NetFlow v5 datagram: a 24-byte header and count 48-byte
// records, no templates.
func (d *Decoder) v5(exporter flow.Addr, port uint16, recvNs int64, p []byte, evidence uint32, emit func(*flow.Record)) error {
	if len(p) < v5HeaderLen {
		return d.fail(0, fmt.Errorf("%w: v5 header needs %d bytes, datagram has %d", decode.ErrTruncated, v5HeaderLen, len(p)))
	}
	d.stats.V5Datagrams++
	count := int(be16(p[2:]))
	h := msgHeader{
		version:   5,
		exportNs:  exportTime(be32(p[8:]), be32(p[12:]), recvNs),
		sysUptime: be32(p[4:]),
		evidence:  evidence,
	}
	domain := uint32(p[20])<<8 | uint32(p[21])
	// sampling_interval: 2 bits of mode, 14 bits of interval. Mode 0 with
	// interval 0 is the exporter saying it does not sample.
	sampling := uint32(be16(p[22:]) & 0x3fff)
	if be16(p[22:]) == 0 {
		sampling = 1
	}
	avail := (len(p) - v5HeaderLen) / v5RecordLen
	n := count
	var err error
	if count > avail {
		n = avail
		err = d.fail(v5HeaderLen+avail*v5RecordLen, fmt.Errorf("%w: v5 count %d but the datagram holds %d records", decode.ErrTruncated, count, avail))
	} else if extra := len(p) - v5HeaderLen - count*v5RecordLen; extra > 0 {
		d.stats.TrailingBytes += uint64(extra)
	}
	r := &d.rec
	for i := 0; i < n; i++ {
		b := p[v5HeaderLen+i*v5RecordLen : v5HeaderLen+(i+1)*v5RecordLen]
		*r = flow.Record{
			Src:       flow.AddrFrom4([4]byte(b[0:4])),
			Dst:       flow.AddrFrom4([4]byte(b[4:8])),
			NextHop:   flow.AddrFrom4([4]byte(b[8:12])),
			InIf:      uint32(be16(b[12:])),
			OutIf:     uint32(be16(b[14:])),
			Packets:   uint64(be32(b[16:])),
			Bytes:     uint64(be32(b[20:])),
			First:     h.exportNs - int64(h.sysUptime-be32(b[24:]))*1e6,
			Last:      h.exportNs - int64(h.sysUptime-be32(b[28:]))*1e6,
			SrcPort:   be16(b[32:]),
			DstPort:   be16(b[34:]),
			TCPFlags:  b[37],
			Proto:     b[38],
			ToS:       b[39],
			SrcAS:     uint32(be16(b[40:])),
			DstAS:     uint32(be16(b[42:])),
			SrcMask:   b[44],
			DstMask:   b[45],
			Exporter:  exporter,
			ObsDomain: domain,
			Sampling:  sampling,
			Evidence:  evidence,
		}
		if d.opts.ApplySampling && sampling > 1 {
			scaleCounters(r, sampling)
		}
		d.stats.Records++
		emit(r)
	}
	return err
}

// v9 decodes a NetFlow v9 datagram. The header's count is not trusted
// (softflowd counts data records only, RFC 3954 says all records): the
// flowsets are walked by their lengths.
func (d *Decoder) v9(exporter flow.Addr, port uint16, recvNs int64, p []byte, evidence uint32, emit func(*flow.Record)) error {
	if len(p) < v9HeaderLen {
		return d.fail(0, fmt.Errorf("%w: v9 header needs %d bytes, datagram has %d", decode.ErrTruncated, v9HeaderLen, len(p)))
	}
	d.stats.V9Datagrams++
	h := msgHeader{
		version:   9,
		exportNs:  exportTime(be32(p[8:]), 0, recvNs),
		sysUptime: be32(p[4:]),
		evidence:  evidence,
	}
	key := sessionKey{addr: exporter, port: port, version: 9, domain: be32(p[16:])}
	d.dgRecords, d.dgTemplates = 0, 0
	d.dgHeld = d.dgHeld[:0]
	err := d.walk(key, &h, p, v9HeaderLen, emit)
	d.addEstimate(int(be16(p[2:])))
	return err
}

// ipfix decodes one IPFIX message. Bytes after the message length are
// counted as trailing; a message longer than the datagram is decoded as far
// as it goes and reported truncated.
func (d *Decoder) ipfix(exporter flow.Addr, port uint16, recvNs int64, p []byte, evidence uint32, emit func(*flow.Record)) error {
	if len(p) < ipfixHeaderLen {
		return d.fail(0, fmt.Errorf("%w: IPFIX header needs %d bytes, datagram has %d", decode.ErrTruncated, ipfixHeaderLen, len(p)))
	}
	length := int(be16(p[2:]))
	if length < ipfixHeaderLen {
		return d.fail(2, fmt.Errorf("%w: IPFIX message length %d is shorter than its header", ErrMalformed, length))
	}
	d.stats.IPFIXDatagrams++
	var truncErr error
	switch {
	case length > len(p):
		truncErr = d.fail(len(p), fmt.Errorf("%w: IPFIX message length %d, datagram has %d bytes", decode.ErrTruncated, length, len(p)))
	case length < len(p):
		d.stats.TrailingBytes += uint64(len(p) - length)
		p = p[:length]
	}
	h := msgHeader{
		version:  10,
		exportNs: exportTime(be32(p[4:]), 0, recvNs),
		evidence: evidence,
	}
	key := sessionKey{addr: exporter, port: port, version: 10, domain: be32(p[12:])}
	d.dgHeld = d.dgHeld[:0]
	err := d.walk(key, &h, p, ipfixHeaderLen, emit)
	if err == nil {
		err = truncErr
	}
	return err
}

// isTemplateSet reports whether a flowset id announces templates in this
// version (v9: 0 templates, 1 options templates; IPFIX: 2 and 3).
func isTemplateSet(version, id uint16) bool {
	if version == 10 {
		return id == 2 || id == 3
	}
	return id <= 1
}

// walk decodes the flowsets of a v9 or IPFIX message from byte off on.
func (d *Decoder) walk(key sessionKey, h *msgHeader, p []byte, off int, emit func(*flow.Record)) error {
	var first error
	keep := func(err error) {
		if first == nil {
			first = err
		}
	}
	for len(p)-off >= 4 {
		id := be16(p[off:])
		l := int(be16(p[off+2:]))
		if l < 4 {
			keep(d.fail(off+2, fmt.Errorf("%w: flowset %d has length %d", ErrMalformed, id, l)))
			return first
		}
		if l > len(p)-off {
			keep(d.fail(off, fmt.Errorf("%w: flowset %d of %d bytes, %d left in the datagram", decode.ErrTruncated, id, l, len(p)-off)))
			return first
		}
		body := p[off+4 : off+l]
		switch {
		case isTemplateSet(h.version, id):
			n, err := d.templateSet(d.session(key), id, body, off+4, emit)
			d.dgTemplates += n
			if err != nil {
				keep(err)
			}
		case id >= 256:
			s := d.lookup(key)
			var t *template
			if s != nil {
				t = s.templates[id]
			}
			if t == nil {
				d.hold(d.session(key), id, body, *h)
				break
			}
			n, bad, err := d.dataSet(s, t, body, h, emit)
			d.dgRecords += n
			if err != nil {
				keep(d.fail(off+4+bad, err))
			}
		default:
			keep(d.fail(off, fmt.Errorf("%w: reserved flowset id %d", ErrMalformed, id)))
		}
		off += l
	}
	if off < len(p) {
		d.stats.TrailingBytes += uint64(len(p) - off)
	}
	return first
}
