package flowlog

import (
	"bytes"
	"fmt"
	"math"
	"time"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/flow"
)

// Zeek field ids: the conn.log and dns.log fields we map, and a few that
// only tell the two logs apart.
const (
	zTS = iota
	zOrigH
	zOrigP
	zRespH
	zRespP
	zProto
	zDuration
	zOrigPkts
	zOrigIPBytes
	zRespPkts
	zRespIPBytes
	zHistory
	zIPProto
	zVLAN
	zLabel
	zDetailedLabel
	zConnState
	zTransID
	zRTT
	zQuery
	zQClass
	zQType
	zRcode
	zAA
	zTC
	zRD
	zRA
	zZ
	zOpcode
	zAnswers
	zTTLs
	zPath
	zElem // scratch slot for one array element of a JSON line
	nZeek
)

var zeekFieldIDs = map[string]int{
	"ts": zTS, "id.orig_h": zOrigH, "id.orig_p": zOrigP, "id.resp_h": zRespH, "id.resp_p": zRespP,
	"proto": zProto, "duration": zDuration, "orig_pkts": zOrigPkts, "orig_ip_bytes": zOrigIPBytes,
	"resp_pkts": zRespPkts, "resp_ip_bytes": zRespIPBytes, "history": zHistory, "ip_proto": zIPProto,
	"vlan": zVLAN, "label": zLabel, "detailed-label": zDetailedLabel, "detailed_label": zDetailedLabel,
	"conn_state": zConnState, "trans_id": zTransID, "rtt": zRTT, "query": zQuery, "qclass": zQClass,
	"qtype": zQType, "rcode": zRcode, "AA": zAA, "TC": zTC, "RD": zRD, "RA": zRA, "Z": zZ,
	"opcode": zOpcode, "answers": zAnswers, "TTLs": zTTLs, "_path": zPath,
}

// zrow is one Zeek record: the mapped fields' values, already unescaped.
// set is false for unset ("-", or a key missing from a JSON line).
type zrow struct {
	v       [nZeek][]byte
	set     [nZeek]bool
	answers [][]byte // at most maxAnswers
	ttls    [][]byte // at most maxAnswers
	nAnswer int      // answers logged, kept or not
}

func (z *zrow) reset() {
	z.set = [nZeek]bool{}
	z.answers = z.answers[:0]
	z.ttls = z.ttls[:0]
	z.nAnswer = 0
}

func (z *zrow) get(id int) []byte {
	if z.set[id] {
		return z.v[id]
	}
	return nil
}

// Log kinds.
const (
	kindOther = iota
	kindConn
	kindDNS
)

// zeekKind tells conn from dns by the fields a record (or header) has;
// hint decides when neither is certain.
func zeekKind(has func(int) bool, dnsHint bool) int {
	switch {
	case has(zTransID) || has(zQType) || has(zQuery) || has(zRcode):
		return kindDNS
	case has(zConnState) || has(zOrigPkts) || has(zHistory) || has(zOrigIPBytes):
		return kindConn
	case dnsHint:
		return kindDNS
	}
	return kindConn
}

// conn maps a conn.log record onto r.rec; it returns a problem or "".
//
// orig is the source: orig_pkts/orig_ip_bytes are Packets/Bytes and
// resp_pkts/resp_ip_bytes are OutPackets/OutBytes. The ip_bytes counters
// (IP header included) match NetFlow's byte convention; orig_bytes and
// resp_bytes (payload bytes from TCP sequence numbers) are not used.
func (r *reader) zeekConn(z *zrow) (string, []byte) {
	rec := &r.rec
	*rec = flow.Record{}
	var ok bool
	if rec.First, ok = parseTime(z.get(zTS), time.UTC); !ok {
		return badField("ts", z.get(zTS)), nil
	}
	rec.Last = rec.First
	if b := z.get(zDuration); b != nil {
		d, ok := parseSeconds(b)
		if !ok || d < 0 {
			return badField("duration", b), nil
		}
		if rec.Last, ok = addNs(rec.First, d); !ok {
			return badField("duration", b), nil
		}
	}
	if rec.Src, ok = parseAddr(z.get(zOrigH)); !ok {
		return badField("id.orig_h", z.get(zOrigH)), nil
	}
	if rec.Dst, ok = parseAddr(z.get(zRespH)); !ok {
		return badField("id.resp_h", z.get(zRespH)), nil
	}
	sp, ok := parseUint(z.get(zOrigP), 65535)
	if !ok {
		return badField("id.orig_p", z.get(zOrigP)), nil
	}
	dp, ok := parseUint(z.get(zRespP), 65535)
	if !ok {
		return badField("id.resp_p", z.get(zRespP)), nil
	}
	proto := z.get(zProto)
	switch string(proto) {
	case "tcp":
		rec.Proto = flow.ProtoTCP
	case "udp":
		rec.Proto = flow.ProtoUDP
	case "icmp":
		// Zeek logs ICMPv6 as "icmp" too.
		rec.Proto = flow.ProtoICMP
		if !rec.Src.Is4() {
			rec.Proto = flow.ProtoICMPv6
		}
	default:
		// unknown_transport: newer Zeek logs the number in ip_proto.
		if b := z.get(zIPProto); b != nil {
			v, ok := parseUint(b, 255)
			if !ok {
				return badField("ip_proto", b), nil
			}
			rec.Proto = uint8(v)
		} else if rec.Proto, ok = protoNumber(proto, false); !ok {
			return badField("proto", proto), nil
		}
	}
	if rec.Proto == flow.ProtoICMP || rec.Proto == flow.ProtoICMPv6 {
		// Zeek puts the ICMP type in id.orig_p and the code in id.resp_p.
		if sp > 255 || dp > 255 {
			return fmt.Sprintf("ICMP type %d / code %d out of range", sp, dp), nil
		}
		rec.SrcPort, rec.DstPort = 0, uint16(sp<<8|dp)
	} else {
		rec.SrcPort, rec.DstPort = uint16(sp), uint16(dp)
	}
	counters := [...]struct {
		id   int
		name string
		dst  *uint64
	}{
		{zOrigPkts, "orig_pkts", &rec.Packets}, {zOrigIPBytes, "orig_ip_bytes", &rec.Bytes},
		{zRespPkts, "resp_pkts", &rec.OutPackets}, {zRespIPBytes, "resp_ip_bytes", &rec.OutBytes},
	}
	for _, c := range counters {
		if b := z.get(c.id); b != nil {
			if *c.dst, ok = parseUint(b, 1<<64-1); !ok {
				return badField(c.name, b), nil
			}
		}
	}
	if b := z.get(zVLAN); b != nil {
		v, ok := parseUint(b, 65535)
		if !ok {
			return badField("vlan", b), nil
		}
		rec.VLAN = uint16(v)
	}
	if rec.Proto == flow.ProtoTCP {
		rec.TCPFlags = historyFlags(z.get(zHistory))
	}
	// The label, with the detailed label after a space (IoT-23).
	label := z.get(zLabel)
	if d := z.get(zDetailedLabel); len(d) > 0 {
		r.labelBuf = append(append(append(r.labelBuf[:0], label...), ' '), d...)
		label = r.labelBuf
	}
	return "", label
}

// historyFlags derives the originator's TCP flags from Zeek's history
// string: upper-case letters are originator events. S = SYN, H = SYN-ACK,
// A = ACK, D = data (counted as PSH|ACK, as a data segment carries them),
// F = FIN, R = RST. Other letters (retransmissions, checksum errors,
// window events) carry no flag.
func historyFlags(h []byte) uint8 {
	var f uint8
	for _, c := range h {
		switch c {
		case 'S':
			f |= flow.TCPSyn
		case 'H':
			f |= flow.TCPSyn | flow.TCPAck
		case 'A':
			f |= flow.TCPAck
		case 'D':
			f |= flow.TCPPsh | flow.TCPAck
		case 'F':
			f |= flow.TCPFin
		case 'R':
			f |= flow.TCPRst
		}
	}
	return f
}

// maxAnswers bounds the answers kept per message (as decode/dns does).
const maxAnswers = 64

var (
	boolTrue  = []byte("T")
	boolFalse = []byte("F")
)

// zeekDNS maps a dns.log record onto r.msg; it returns a problem or "".
//
// A dns.log row is one query and, when seen, its reply. It becomes one
// message: a response (Response=true) carrying the question, rcode, flags
// and answers when the row has an rcode, otherwise the unanswered query
// (Response=false). TS is the query time plus rtt for responses (the time
// the reply was seen), ts for queries. The client is the originator.
func (r *reader) zeekDNS(z *zrow) string {
	m := &r.msg
	answers := m.Answers[:0]
	*m = flow.DNSMessage{Answers: answers}
	var ok bool
	if m.TS, ok = parseTime(z.get(zTS), time.UTC); !ok {
		return badField("ts", z.get(zTS))
	}
	if m.Client, ok = parseAddr(z.get(zOrigH)); !ok {
		return badField("id.orig_h", z.get(zOrigH))
	}
	if m.Server, ok = parseAddr(z.get(zRespH)); !ok {
		return badField("id.resp_h", z.get(zRespH))
	}
	v, ok := parseUint(z.get(zOrigP), 65535)
	if !ok {
		return badField("id.orig_p", z.get(zOrigP))
	}
	m.ClientPort = uint16(v)
	if v, ok = parseUint(z.get(zRespP), 65535); !ok {
		return badField("id.resp_p", z.get(zRespP))
	}
	m.ServerPort = uint16(v)
	switch p := z.get(zProto); string(p) {
	case "udp":
		m.Transport = flow.ProtoUDP
	case "tcp":
		m.Transport = flow.ProtoTCP
	default:
		return badField("proto", p)
	}
	nums := [...]struct {
		id   int
		name string
		max  uint64
	}{{zTransID, "trans_id", 65535}, {zQClass, "qclass", 65535}, {zQType, "qtype", 65535},
		{zRcode, "rcode", 255}, {zOpcode, "opcode", 15}, {zZ, "Z", 7}}
	var val [len(nums)]uint64
	for i, n := range nums {
		if b := z.get(n.id); b != nil {
			if val[i], ok = parseUint(b, n.max); !ok {
				return badField(n.name, b)
			}
		}
	}
	m.ID, m.QClass, m.QType = uint16(val[0]), uint16(val[1]), uint16(val[2])
	m.Rcode, m.Opcode = uint8(val[3]), uint8(val[4])
	m.Response = z.set[zRcode]
	if zz := val[5]; zz != 0 {
		// Zeek's Z is the header's three bits after RA: Z, AD, CD.
		if zz&2 != 0 {
			m.Flags |= flow.DNSFlagAD
		}
		if zz&1 != 0 {
			m.Flags |= flow.DNSFlagCD
		}
	}
	bits := [...]struct {
		id   int
		name string
		flag uint8
	}{{zAA, "AA", flow.DNSFlagAA}, {zTC, "TC", flow.DNSFlagTC}, {zRD, "RD", flow.DNSFlagRD}, {zRA, "RA", flow.DNSFlagRA}}
	for _, b := range bits {
		switch v := z.get(b.id); {
		case v == nil || bytes.Equal(v, boolFalse):
		case bytes.Equal(v, boolTrue):
			m.Flags |= b.flag
		default:
			return badField(b.name, v)
		}
	}
	if m.Response {
		if b := z.get(zRTT); b != nil {
			d, ok := parseSeconds(b)
			if !ok || d < 0 {
				return badField("rtt", b)
			}
			if m.TS, ok = addNs(m.TS, d); !ok {
				return badField("rtt", b)
			}
		}
	}

	// Answers: Zeek logs their text only, so each answer's type is
	// inferred (answerType). All answer texts share one string.
	m.ANCount = uint16(min(z.nAnswer, math.MaxUint16))
	n := len(z.answers)
	data := r.ansBuf[:0]
	var ends [maxAnswers]int
	var types [maxAnswers]uint16
	for i := 0; i < n; i++ {
		a := z.answers[i]
		types[i] = answerType(a, m.QType)
		if types[i] == typeTXT {
			data = appendZeekTXT(data, a)
		} else {
			data = append(data, a...)
		}
		ends[i] = len(data)
	}
	r.ansBuf = data
	if n > 0 {
		s := string(data)
		start := 0
		for i := 0; i < n; i++ {
			answers = append(answers, flow.Answer{Type: types[i], Data: s[start:ends[i]]})
			start = ends[i]
		}
	}
	m.Answers = answers
	haveTTL := false
	for i, t := range z.ttls {
		if i >= n {
			break
		}
		d, ok := parseSeconds(t)
		if !ok {
			return badField("TTLs", t)
		}
		ttl := uint32(min(max(d/int64(time.Second), 0), math.MaxUint32))
		if !haveTTL || ttl < m.TTL {
			m.TTL, haveTTL = ttl, true
		}
	}
	// Zeek writes a query that is not valid text with \x escapes, already
	// undone; the name is kept as the raw bytes.
	if q := z.get(zQuery); len(q) > 0 {
		m.QName = r.internName(q)
	}
	return ""
}

// internName returns q as a string, reusing the last one when a run of
// records repeats the name.
func (r *reader) internName(q []byte) string {
	if string(q) == r.lastName {
		return r.lastName
	}
	r.lastName = string(q)
	return r.lastName
}

const (
	typeA     = 1
	typeNS    = 2
	typeCNAME = 5
	typeSOA   = 6
	typePTR   = 12
	typeMX    = 15
	typeTXT   = 16
	typeAAAA  = 28
	typeSRV   = 33
)

// answerType infers an answer's record type from its text and the query
// type: addresses are A or AAAA; Zeek's "TXT n text" is TXT; for NS,
// CNAME, PTR, MX, SOA and SRV queries a name answers the query; any other
// name is a CNAME of the chain leading to the answer. Text that is none of
// these (Zeek writes e.g. "<unknown type=65>") gets type 0.
func answerType(a []byte, qtype uint16) uint16 {
	if addr, ok := parseAddr(a); ok {
		if addr.Is4() {
			return typeA
		}
		return typeAAAA
	}
	if bytes.HasPrefix(a, []byte("TXT ")) {
		return typeTXT
	}
	switch qtype {
	case typeNS, typeCNAME, typePTR, typeMX, typeSOA, typeSRV:
		return qtype
	}
	if len(a) > 0 && bytes.IndexAny(a, " <>") < 0 {
		return typeCNAME
	}
	return 0
}

// appendZeekTXT turns Zeek's TXT rendering ("TXT 11 v=spf1 -all", one
// "TXT <length> <bytes>" per character-string, separated by spaces) into
// the dig style decode/dns uses (each string double-quoted, `"` and `\`
// escaped, bytes outside printable ASCII as \DDD). Text that does not
// follow Zeek's layout is kept as it is.
func appendZeekTXT(dst, a []byte) []byte {
	start := len(dst)
	rest := a
	for first := true; ; first = false {
		if !bytes.HasPrefix(rest, []byte("TXT ")) {
			return append(dst[:start], a...)
		}
		rest = rest[4:]
		sp := indexByte(rest, ' ')
		if sp < 0 {
			return append(dst[:start], a...)
		}
		n, ok := parseUint(rest[:sp], uint64(len(rest)-sp-1))
		if !ok {
			return append(dst[:start], a...)
		}
		s := rest[sp+1 : sp+1+int(n)]
		rest = rest[sp+1+int(n):]
		if !first {
			dst = append(dst, ' ')
		}
		dst = append(dst, '"')
		for _, c := range s {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20 || c > 0x7e:
				dst = append(dst, '\\', '0'+c/100, '0'+c/10%10, '0'+c%10)
			default:
				dst = append(dst, c)
			}
		}
		dst = append(dst, '"')
		if len(rest) == 0 {
			return dst
		}
		if rest[0] != ' ' {
			return append(dst[:start], a...)
		}
		rest = rest[1:]
	}
}

// emitZeek maps one record of the given kind and emits it.
func (r *reader) emitZeek(ln line, z *zrow, kind int) {
	switch kind {
	case kindConn:
		msg, label := r.zeekConn(z)
		if msg != "" {
			r.bad(ln, ErrBadRecord, "%s", msg)
			return
		}
		r.flow(label)
	case kindDNS:
		if msg := r.zeekDNS(z); msg != "" {
			r.bad(ln, ErrBadRecord, "%s", msg)
			return
		}
		r.dns()
	default:
		r.st.Skipped++
	}
}

// --- TSV ---

// zcol is one #fields column: the field id (-1 when unmapped), or for a
// column whose name holds spaces (IoT-23 joins "tunnel_parents   label
// detailed-label" with spaces inside one tab column) the ids of its parts.
type zcol struct {
	id    int
	parts []int
}

// zeekBlock is the header state of one log inside a file.
type zeekBlock struct {
	sep, setSep  byte
	empty, unset []byte
	path         []byte
	cols         []zcol
	kind         int
	fields       bool // #fields seen
}

func newZeekBlock(sep byte) zeekBlock {
	return zeekBlock{sep: sep, setSep: ',', empty: []byte("(empty)"), unset: []byte("-")}
}

// maxZeekFields bounds the #fields list.
const maxZeekFields = 1024

// readZeekTSV reads Zeek's TSV logs. Every "#separator" line starts a new
// log (files joined with cat); each log's kind comes from #path, or from
// its fields. Logs other than conn and dns are skipped with one error at
// their #fields line.
func (r *reader) readZeekTSV(dnsHint bool) {
	var blk zeekBlock
	started := false
	var z zrow
	for {
		ln, ok := r.nextLine()
		if !ok {
			return
		}
		b := ln.b
		if len(b) == 0 {
			continue
		}
		if b[0] == '#' {
			if bytes.HasPrefix(b, []byte("#separator ")) {
				sep, ok := unescapeSeparator(b[len("#separator "):])
				if !ok {
					r.fatalOrBad(ln, started, "#separator %q is not one character", b[len("#separator "):])
					if !started {
						return
					}
					continue
				}
				blk, started = newZeekBlock(sep), true
				continue
			}
			if !started {
				r.fatal(ln.off, ln.no, fmt.Errorf("Zeek log without a #separator line first: %w", decode.ErrNotEvidence))
				return
			}
			r.zeekDirective(ln, &blk, dnsHint)
			continue
		}
		if !started || !blk.fields {
			if !started {
				r.fatal(ln.off, ln.no, fmt.Errorf("Zeek log without #separator and #fields header lines: %w", decode.ErrNotEvidence))
				return
			}
			r.bad(ln, ErrBadRecord, "record before the #fields line")
			continue
		}
		if blk.kind == kindOther {
			r.st.Skipped++
			continue
		}
		if msg := r.zeekTSVRow(&blk, b, &z); msg != "" {
			r.bad(ln, ErrBadRecord, "%s", msg)
			continue
		}
		r.emitZeek(ln, &z, blk.kind)
	}
}

func (r *reader) fatalOrBad(ln line, started bool, format string, args ...any) {
	if started {
		r.bad(ln, ErrBadHeader, format, args...)
		return
	}
	r.fatal(ln.off, ln.no, fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), decode.ErrNotEvidence))
}

// unescapeSeparator reads the #separator value ("\x09" or a literal
// character).
func unescapeSeparator(b []byte) (byte, bool) {
	if len(b) == 4 && b[0] == '\\' && b[1] == 'x' {
		hi, ok1 := unhex(b[2])
		lo, ok2 := unhex(b[3])
		return hi<<4 | lo, ok1 && ok2
	}
	if len(b) == 1 {
		return b[0], true
	}
	return 0, false
}

// zeekDirective handles one '#' header line of a block.
func (r *reader) zeekDirective(ln line, blk *zeekBlock, dnsHint bool) {
	name, val, _ := bytes.Cut(ln.b, []byte{blk.sep})
	switch string(name) {
	case "#set_separator":
		v := unescapeZeek(nil, val)
		if len(v) != 1 {
			r.bad(ln, ErrBadHeader, "#set_separator %q is not one character", val)
			return
		}
		blk.setSep = v[0]
	case "#empty_field":
		blk.empty = append(blk.empty[:0:0], val...)
	case "#unset_field":
		blk.unset = append(blk.unset[:0:0], val...)
	case "#path":
		blk.path = append(blk.path[:0:0], val...)
	case "#fields":
		r.zeekFields(ln, blk, dnsHint)
	}
	// #open, #close, #types and unknown directives carry nothing we use.
}

func (r *reader) zeekFields(ln line, blk *zeekBlock, dnsHint bool) {
	var fits bool
	r.fields, fits = splitFields(r.fields, ln.b, blk.sep, maxZeekFields+1)
	if !fits {
		r.bad(ln, ErrBadHeader, "more than %d fields", maxZeekFields)
		blk.fields, blk.kind = true, kindOther
		return
	}
	names := r.fields[1:]
	blk.cols = blk.cols[:0]
	var seen [nZeek]bool
	for _, n := range names {
		c := zcol{id: -1}
		if bytes.IndexByte(n, ' ') >= 0 {
			for _, part := range bytes.Fields(n) {
				id, ok := zeekFieldIDs[string(part)]
				if !ok || seen[id] {
					id = -1
				} else {
					seen[id] = true
				}
				c.parts = append(c.parts, id)
			}
		} else if id, ok := zeekFieldIDs[string(n)]; ok && !seen[id] {
			c.id, seen[id] = id, true
		}
		blk.cols = append(blk.cols, c)
	}
	blk.fields = true
	has := func(id int) bool { return seen[id] }
	switch string(blk.path) {
	case "conn":
		blk.kind = kindConn
	case "dns":
		blk.kind = kindDNS
	case "":
		blk.kind = zeekKind(has, dnsHint)
	default:
		blk.kind = kindOther
		r.bad(ln, ErrBadHeader, "Zeek %q log is neither conn nor dns; its records are skipped", blk.path)
		return
	}
	need := []int{zTS, zOrigH, zOrigP, zRespH, zRespP, zProto}
	for _, id := range need {
		if !seen[id] {
			for name, v := range zeekFieldIDs {
				if v == id {
					r.bad(ln, ErrBadHeader, "no %q field; the log's records are skipped", name)
				}
			}
			blk.kind = kindOther
			return
		}
	}
}

// zeekTSVRow splits one data line into z.
func (r *reader) zeekTSVRow(blk *zeekBlock, b []byte, z *zrow) string {
	var fits bool
	r.fields, fits = splitFields(r.fields, b, blk.sep, len(blk.cols))
	if !fits || len(r.fields) != len(blk.cols) {
		return fmt.Sprintf("%d fields, #fields has %d", len(r.fields), len(blk.cols))
	}
	z.reset()
	r.scratch = growScratch(r.scratch, len(b))
	for i, c := range blk.cols {
		f := r.fields[i]
		if c.parts != nil {
			parts := bytes.Fields(f)
			if len(parts) != len(c.parts) {
				return fmt.Sprintf("column %d holds %d space-separated values, #fields names %d", i+1, len(parts), len(c.parts))
			}
			for j, id := range c.parts {
				if id >= 0 {
					r.zeekValue(blk, z, id, parts[j])
				}
			}
			continue
		}
		if c.id >= 0 {
			r.zeekValue(blk, z, c.id, f)
		}
	}
	return ""
}

// zeekValue stores one TSV value: unset stays unset, containers are split
// at the set separator, every value is unescaped.
func (r *reader) zeekValue(blk *zeekBlock, z *zrow, id int, f []byte) {
	if bytes.Equal(f, blk.unset) {
		return
	}
	z.set[id] = true
	if bytes.Equal(f, blk.empty) {
		z.v[id] = f[:0]
		return
	}
	if id == zAnswers || id == zTTLs {
		list := z.answers[:0]
		if id == zTTLs {
			list = z.ttls[:0]
		}
		n := 0
		for {
			el, rest, more := bytes.Cut(f, []byte{blk.setSep})
			if n++; n <= maxAnswers { // the rest are only counted
				list = append(list, r.unescapeInto(el))
			}
			f = rest
			if !more {
				break
			}
		}
		if id == zAnswers {
			z.answers, z.nAnswer = list, n
		} else {
			z.ttls = list
		}
		z.v[id] = nil
		return
	}
	z.v[id] = r.unescapeInto(f)
}

// unescapeInto unescapes a TSV value into the scratch buffer. The scratch
// is sized to the line beforehand, and unescaping only shrinks, so earlier
// values stay valid.
func (r *reader) unescapeInto(b []byte) []byte {
	if bytes.IndexByte(b, '\\') < 0 {
		return b
	}
	s := len(r.scratch)
	r.scratch = unescapeZeek(r.scratch, b)
	return r.scratch[s:len(r.scratch):len(r.scratch)]
}

func growScratch(s []byte, n int) []byte {
	if cap(s) < n {
		return make([]byte, 0, 2*n)
	}
	return s[:0]
}

// unescapeZeek appends b to dst with Zeek's TSV escapes undone: \xHH is a
// byte (Zeek writes non-printable bytes, and separators inside values, that
// way), \\ a backslash; \n, \t, \r, \b, \f and \" are accepted as their C
// meaning. Anything else is kept as it is.
func unescapeZeek(dst, b []byte) []byte {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' || i+1 >= len(b) {
			dst = append(dst, c)
			continue
		}
		switch e := b[i+1]; e {
		case 'x':
			if i+3 < len(b) {
				hi, ok1 := unhex(b[i+2])
				lo, ok2 := unhex(b[i+3])
				if ok1 && ok2 {
					dst = append(dst, hi<<4|lo)
					i += 3
					continue
				}
			}
			dst = append(dst, c)
		case '\\', '"':
			dst = append(dst, e)
			i++
		case 'n':
			dst = append(dst, '\n')
			i++
		case 't':
			dst = append(dst, '\t')
			i++
		case 'r':
			dst = append(dst, '\r')
			i++
		case 'b':
			dst = append(dst, '\b')
			i++
		case 'f':
			dst = append(dst, '\f')
			i++
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
