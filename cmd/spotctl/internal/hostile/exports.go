package hostile

import (
	"encoding/binary"
	"net/netip"
)

// Field is one template field: information element (v9: field type) and
// length; Enterprise != 0 adds the IPFIX enterprise number.
type Field struct {
	IE, Len    uint16
	Enterprise uint32
}

// LegitFields is the template of the legitimate export record.
var LegitFields = []Field{{8, 4, 0}, {12, 4, 0}, {7, 2, 0}, {11, 2, 0}, {4, 1, 0}, {2, 8, 0}, {1, 8, 0}, {150, 4, 0}, {151, 4, 0}}

// LegitV9Fields is the v9 template of the legitimate export record
// (FIRST/LAST_SWITCHED are sysUptime milliseconds).
var LegitV9Fields = []Field{{8, 4, 0}, {12, 4, 0}, {7, 2, 0}, {11, 2, 0}, {4, 1, 0}, {2, 8, 0}, {1, 8, 0}, {22, 4, 0}, {21, 4, 0}}

// The legitimate exported flow: LegitExportSrc → LegitExportDst, TCP.
var (
	LegitExportSrc = EP("203.0.113.77", 5555)
	LegitExportDst = EP("203.0.113.88", 8080)
)

// LegitRecord is the data record for LegitFields/LegitV9Fields. For IPFIX
// the times are Unix seconds; for v9 they are uptime ms (start, end).
func LegitRecord(start, end uint32) []byte {
	s, d := LegitExportSrc.IP.As4(), LegitExportDst.IP.As4()
	b := append(s[:], d[:]...)
	b = binary.BigEndian.AppendUint16(b, LegitExportSrc.Port)
	b = binary.BigEndian.AppendUint16(b, LegitExportDst.Port)
	b = append(b, 6)
	b = binary.BigEndian.AppendUint64(b, 10)
	b = binary.BigEndian.AppendUint64(b, 4242)
	b = binary.BigEndian.AppendUint32(b, start)
	return binary.BigEndian.AppendUint32(b, end)
}

// Set appends a set (IPFIX) or flowset (v9): id, length, body.
func Set(dst []byte, id uint16, body []byte) []byte {
	dst = binary.BigEndian.AppendUint16(dst, id)
	dst = binary.BigEndian.AppendUint16(dst, uint16(4+len(body)))
	return append(dst, body...)
}

// TemplateRecord appends a template record claiming count fields and
// holding fields (count may lie).
func TemplateRecord(dst []byte, id, count uint16, fields []Field) []byte {
	dst = binary.BigEndian.AppendUint16(dst, id)
	dst = binary.BigEndian.AppendUint16(dst, count)
	for _, f := range fields {
		ie := f.IE
		if f.Enterprise != 0 {
			ie |= 0x8000
		}
		dst = binary.BigEndian.AppendUint16(dst, ie)
		dst = binary.BigEndian.AppendUint16(dst, f.Len)
		if f.Enterprise != 0 {
			dst = binary.BigEndian.AppendUint32(dst, f.Enterprise)
		}
	}
	return dst
}

// IPFIX wraps sets in an IPFIX message header (length filled in).
func IPFIX(exportTime, seq, domain uint32, sets []byte) []byte {
	b := make([]byte, 16, 16+len(sets))
	binary.BigEndian.PutUint16(b[0:], 10)
	binary.BigEndian.PutUint16(b[2:], uint16(16+len(sets)))
	binary.BigEndian.PutUint32(b[4:], exportTime)
	binary.BigEndian.PutUint32(b[8:], seq)
	binary.BigEndian.PutUint32(b[12:], domain)
	return append(b, sets...)
}

// V9 wraps flowsets in a NetFlow v9 header claiming count records.
func V9(count uint16, uptimeMS, unixSecs, seq, sourceID uint32, flowsets []byte) []byte {
	b := make([]byte, 20, 20+len(flowsets))
	binary.BigEndian.PutUint16(b[0:], 9)
	binary.BigEndian.PutUint16(b[2:], count)
	binary.BigEndian.PutUint32(b[4:], uptimeMS)
	binary.BigEndian.PutUint32(b[8:], unixSecs)
	binary.BigEndian.PutUint32(b[12:], seq)
	binary.BigEndian.PutUint32(b[16:], sourceID)
	return append(b, flowsets...)
}

// LegitIPFIX is one message defining template 300 and carrying the
// legitimate record.
func LegitIPFIX(domain uint32) []byte {
	sets := Set(nil, 2, TemplateRecord(nil, 300, uint16(len(LegitFields)), LegitFields))
	sets = Set(sets, 300, LegitRecord(Base+10, Base+20))
	return IPFIX(Base+30, 1, domain, sets)
}

// LegitV9 is one v9 message defining template 300 and carrying the
// legitimate record.
func LegitV9(sourceID uint32) []byte {
	fs := Set(nil, 0, TemplateRecord(nil, 300, uint16(len(LegitV9Fields)), LegitV9Fields))
	fs = Set(fs, 300, append(LegitRecord(10_000, 20_000), 0, 0, 0)) // padded to 4
	return V9(2, 30_000, Base+30, 1, sourceID, fs)
}

// AbusiveIPFIX returns messages that abuse templates: a template claiming
// 65535 fields, zero-length fields (a record of 0 bytes must not loop),
// variable-length fields whose lengths run past the set, a 65535-byte
// fixed field, a data set for a template never defined, an options
// template claiming more scope fields than fields, and sets with lengths
// that lie.
func AbusiveIPFIX(domain uint32) [][]byte {
	var out [][]byte
	seq := uint32(100)
	msg := func(sets []byte) {
		out = append(out, IPFIX(Base+40, seq, domain, sets))
		seq++
	}
	// 65535 fields claimed, 3 present.
	msg(Set(nil, 2, TemplateRecord(nil, 400, 65535, []Field{{8, 4, 0}, {12, 4, 0}, {7, 2, 0}})))
	// 65535 fields actually present would need 262140 bytes; fill one set.
	many := make([]Field, 16000)
	for i := range many {
		many[i] = Field{IE: 8, Len: 4}
	}
	msg(Set(nil, 2, TemplateRecord(nil, 401, 65535, many)))
	// Only zero-length fields: 0-byte records, then data.
	zero := []Field{{8, 0, 0}, {12, 0, 0}, {7, 0, 0}}
	sets := Set(nil, 2, TemplateRecord(nil, 402, 3, zero))
	sets = Set(sets, 402, make([]byte, 200))
	msg(sets)
	// Variable-length fields: a 3-byte length of 65535 with 20 bytes left,
	// a 1-byte length of 200 with 10 left, and a run of empty varlen fields.
	vl := []Field{{82, 65535, 0}, {8, 4, 0}} // interfaceName, varlen
	sets = Set(nil, 2, TemplateRecord(nil, 403, 2, vl))
	sets = Set(sets, 403, append([]byte{255, 0xff, 0xff}, make([]byte, 20)...))
	sets = Set(sets, 403, append([]byte{200}, make([]byte, 10)...))
	msg(sets)
	allVar := make([]Field, 500)
	for i := range allVar {
		allVar[i] = Field{IE: 82, Len: 65535}
	}
	sets = Set(nil, 2, TemplateRecord(nil, 404, 500, allVar))
	sets = Set(sets, 404, make([]byte, 1000)) // 500 empty strings, twice
	msg(sets)
	// A fixed field of 65535 bytes: record length beyond any datagram.
	sets = Set(nil, 2, TemplateRecord(nil, 405, 2, []Field{{82, 65534, 0}, {8, 4, 0}}))
	sets = Set(sets, 405, make([]byte, 64))
	msg(sets)
	// Enterprise fields cut short.
	msg(Set(nil, 2, append(TemplateRecord(nil, 406, 4, []Field{{100, 4, 9}}), 0x80, 1)))
	// Data for a template never defined.
	msg(Set(nil, 999, make([]byte, 300)))
	// Options template (set 3): scope count 60000 of 2 fields.
	msg(Set(nil, 3, []byte{0x01, 0x97, 0, 2, 0xea, 0x60, 0, 8, 0, 4, 0, 12, 0, 4}))
	// Template withdrawal of everything, then redefinition loops.
	msg(Set(nil, 2, []byte{0x01, 0x90, 0, 0, 0, 2, 0, 0}))
	// A set claiming 65535 bytes inside a short message (header length true).
	m := IPFIX(Base+40, seq, domain, Set(nil, 2, TemplateRecord(nil, 407, 1, []Field{{8, 4, 0}})))
	binary.BigEndian.PutUint16(m[18:], 0xffff)
	out = append(out, m)
	seq++
	// A set of length 0 and one of length 2.
	m = IPFIX(Base+40, seq, domain, []byte{0, 2, 0, 0, 0, 0, 0, 0})
	out = append(out, m)
	return out
}

// AbusiveV9 returns v9 messages: 65535 fields claimed, zero-length fields,
// a record length beyond 65535, a count of 65535 records, data for an
// unknown template.
func AbusiveV9(sourceID uint32) [][]byte {
	var out [][]byte
	seq := uint32(100)
	msg := func(count uint16, fs []byte) {
		out = append(out, V9(count, 30_000, Base+40, seq, sourceID, fs))
		seq++
	}
	msg(1, Set(nil, 0, TemplateRecord(nil, 400, 65535, []Field{{8, 4, 0}, {12, 4, 0}})))
	fs := Set(nil, 0, TemplateRecord(nil, 402, 2, []Field{{8, 0, 0}, {12, 0, 0}}))
	fs = Set(fs, 402, make([]byte, 400))
	msg(65535, fs)
	fs = Set(nil, 0, TemplateRecord(nil, 403, 3, []Field{{8, 65535, 0}, {12, 65535, 0}, {7, 2, 0}}))
	fs = Set(fs, 403, make([]byte, 64))
	msg(2, fs)
	msg(1, Set(nil, 999, make([]byte, 128)))
	// Options template flowset (id 1) whose scope length is 65535.
	msg(1, Set(nil, 1, []byte{0x01, 0x97, 0xff, 0xff, 0, 4, 0, 1, 0, 4, 0, 0}))
	return out
}

// TemplateFlood calls emit with IPFIX messages defining n distinct
// templates ((observation domain, id) pairs: ids 256..65535, then the next
// domain), perMsg templates of one field each per message.
func TemplateFlood(n, perMsg int, emit func(msg []byte)) {
	var sets []byte
	seq := uint32(0)
	for k := 0; k < n; {
		domain := uint32(k / 65280)
		sets = sets[:0]
		body := make([]byte, 0, perMsg*8)
		for j := 0; j < perMsg && k < n && uint32(k/65280) == domain; j++ {
			body = TemplateRecord(body, uint16(256+k%65280), 1, []Field{{8, 4, 0}})
			k++
		}
		sets = Set(sets, 2, body)
		emit(IPFIX(Base+50, seq, 1000+domain, sets))
		seq++
	}
}

// ExporterEP and CollectorEP carry export datagrams inside captures.
var (
	ExporterEP  = EP("192.0.2.200", 40001)
	CollectorEP = EP("192.0.2.201", 4739)
)

// Addr4 is a convenience for tests: the i-th address in 10.0.0.0/8.
func Addr4(i uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
}
