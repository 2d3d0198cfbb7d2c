package flowlog

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"github.com/spotctl/spotctl/decode"
)

// readZeekJSON reads Zeek's JSON-lines logs (LogAscii::use_json=T): one
// object per line with dotted keys ("id.orig_h"); nested objects ("id":
// {"orig_h": …}, as some shippers write) are flattened to the same keys.
// Unset fields are absent. Each line is conn or dns by its "_path" member
// or, failing that, by its fields; dnsHint decides when neither tells.
func (r *reader) readZeekJSON(dnsHint bool) {
	var z zrow
	seen := false // a line has parsed
	for {
		ln, ok := r.nextLine()
		if !ok {
			return
		}
		if len(trimSpace(ln.b)) == 0 {
			continue
		}
		if msg := r.scanJSON(ln.b, &z); msg != "" {
			if !seen && ln.b[0] != '{' {
				r.fatal(ln.off, ln.no, fmt.Errorf("not a JSON object: %w", decode.ErrNotEvidence))
				return
			}
			r.bad(ln, ErrBadRecord, "%s", msg)
			continue
		}
		seen = true
		kind := kindOther
		switch p := z.get(zPath); {
		case p == nil:
			kind = zeekKind(func(id int) bool { return z.set[id] }, dnsHint)
		case string(p) == "conn":
			kind = kindConn
		case string(p) == "dns":
			kind = kindDNS
		}
		r.emitZeek(ln, &z, kind)
	}
}

// jsonScan is the state of scanning one line.
type jsonScan struct {
	b     []byte
	p     int
	r     *reader
	z     *zrow
	depth int
}

// maxJSONDepth bounds nesting; Zeek's objects are flat or one level deep.
const maxJSONDepth = 8

// scanJSON fills z from one JSON object, returning a problem or "".
func (r *reader) scanJSON(b []byte, z *zrow) string {
	z.reset()
	r.scratch = growScratch(r.scratch, len(b))
	r.keyBuf = r.keyBuf[:0]
	s := jsonScan{b: b, r: r, z: z}
	s.ws()
	if !s.eat('{') {
		return "not a JSON object"
	}
	if msg := s.object(); msg != "" {
		return msg
	}
	s.ws()
	if s.p != len(s.b) {
		return fmt.Sprintf("data after the JSON object at column %d", s.p+1)
	}
	return ""
}

func (s *jsonScan) ws() {
	for s.p < len(s.b) {
		switch s.b[s.p] {
		case ' ', '\t', '\r', '\n':
			s.p++
		default:
			return
		}
	}
}

func (s *jsonScan) eat(c byte) bool {
	if s.p < len(s.b) && s.b[s.p] == c {
		s.p++
		return true
	}
	return false
}

func (s *jsonScan) errAt(what string) string {
	return fmt.Sprintf("JSON: %s at column %d", what, s.p+1)
}

// object scans members up to the closing brace (the '{' is consumed). Keys
// are appended to r.keyBuf after the enclosing object's prefix.
func (s *jsonScan) object() string {
	s.depth++
	if s.depth > maxJSONDepth {
		return s.errAt("nesting too deep")
	}
	prefix := len(s.r.keyBuf)
	s.ws()
	if s.eat('}') {
		s.depth--
		return ""
	}
	for {
		s.ws()
		if !s.eat('"') {
			return s.errAt("expected a member name")
		}
		s.r.keyBuf = s.r.keyBuf[:prefix]
		if prefix > 0 {
			s.r.keyBuf = append(s.r.keyBuf, '.')
		}
		var ok bool
		if s.r.keyBuf, ok = s.str(s.r.keyBuf, false); !ok {
			return s.errAt("bad member name")
		}
		s.ws()
		if !s.eat(':') {
			return s.errAt("expected ':'")
		}
		s.ws()
		id, known := zeekFieldIDs[string(s.r.keyBuf)]
		if !known {
			id = -1
		}
		if msg := s.value(id); msg != "" {
			return msg
		}
		s.ws()
		if s.eat(',') {
			continue
		}
		if s.eat('}') {
			s.r.keyBuf = s.r.keyBuf[:prefix]
			s.depth--
			return ""
		}
		return s.errAt("expected ',' or '}'")
	}
}

// value scans one value and stores it under field id (-1: not kept).
func (s *jsonScan) value(id int) string {
	if s.p >= len(s.b) {
		return s.errAt("missing value")
	}
	z := s.z
	switch c := s.b[s.p]; {
	case c == '"':
		s.p++
		start := len(s.r.scratch)
		var ok bool
		if s.r.scratch, ok = s.str(s.r.scratch, true); !ok {
			return s.errAt("bad string")
		}
		if id >= 0 {
			z.v[id], z.set[id] = s.r.scratch[start:len(s.r.scratch):len(s.r.scratch)], true
		} else {
			s.r.scratch = s.r.scratch[:start] // not kept: reuse the space
		}
	case c == '{':
		s.p++
		if id >= 0 {
			return s.errAt(fmt.Sprintf("field %q is an object", s.r.keyBuf))
		}
		return s.object()
	case c == '[':
		s.p++
		return s.array(id)
	case c == 't' || c == 'f' || c == 'n':
		var lit string
		switch c {
		case 't':
			lit = "true"
		case 'f':
			lit = "false"
		default:
			lit = "null"
		}
		if !bytes.HasPrefix(s.b[s.p:], []byte(lit)) {
			return s.errAt("bad literal")
		}
		s.p += len(lit)
		if id >= 0 && c != 'n' {
			// Booleans take Zeek's TSV spelling, so one mapper serves both.
			z.v[id], z.set[id] = boolTrue, true
			if c == 'f' {
				z.v[id] = boolFalse
			}
		}
	default:
		start := s.p
		for s.p < len(s.b) {
			c := s.b[s.p]
			if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
				s.p++
				continue
			}
			break
		}
		if s.p == start {
			return s.errAt("unexpected character")
		}
		if id >= 0 {
			z.v[id], z.set[id] = s.b[start:s.p:s.p], true
		}
	}
	return ""
}

// array scans an array (the '[' is consumed). The answers and TTLs arrays
// keep their scalar elements; other arrays are skipped.
func (s *jsonScan) array(id int) string {
	s.depth++
	if s.depth > maxJSONDepth {
		return s.errAt("nesting too deep")
	}
	keep := id == zAnswers || id == zTTLs
	var list [][]byte
	n := 0
	if keep {
		s.z.set[id] = true
		s.z.v[id] = nil
		list = s.z.answers[:0]
		if id == zTTLs {
			list = s.z.ttls[:0]
		}
	}
	s.ws()
	if !s.eat(']') {
		for {
			s.ws()
			if keep {
				if msg := s.value(zElem); msg != "" {
					return msg
				}
				if !s.z.set[zElem] {
					return s.errAt("null element in " + zeekFieldList(id))
				}
				if n++; n <= maxAnswers { // the rest are only counted
					list = append(list, s.z.v[zElem])
				}
				s.z.set[zElem] = false
			} else if msg := s.value(-1); msg != "" {
				return msg
			}
			s.ws()
			if s.eat(',') {
				continue
			}
			if s.eat(']') {
				break
			}
			return s.errAt("expected ',' or ']'")
		}
	}
	if keep {
		if id == zAnswers {
			s.z.answers, s.z.nAnswer = list, n
		} else {
			s.z.ttls = list
		}
	}
	s.depth--
	return ""
}

func zeekFieldList(id int) string {
	if id == zTTLs {
		return "TTLs"
	}
	return "answers"
}

// str scans a JSON string body (the opening quote consumed) and appends it
// unescaped to dst. With zeek set, Zeek's own \xHH escapes inside the
// decoded text (how Zeek's JSON writer renders bytes that are not valid
// UTF-8) become the bytes they stand for.
func (s *jsonScan) str(dst []byte, zeek bool) ([]byte, bool) {
	start := len(dst)
	hasX := false
	for s.p < len(s.b) {
		c := s.b[s.p]
		switch {
		case c == '"':
			s.p++
			if zeek && hasX {
				// In place: unescaping only shrinks.
				out := unescapeZeekX(dst[start:start], dst[start:])
				dst = dst[:start+len(out)]
			}
			return dst, true
		case c == '\\':
			if s.p+1 >= len(s.b) {
				return dst, false
			}
			e := s.b[s.p+1]
			s.p += 2
			switch e {
			case '"', '\\', '/':
				dst = append(dst, e)
				if e == '\\' && s.p < len(s.b) && s.b[s.p] == 'x' {
					hasX = true
				}
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r, ok := s.hex4()
				if !ok {
					return dst, false
				}
				if utf16IsHigh(r) && s.p+6 <= len(s.b) && s.b[s.p] == '\\' && s.b[s.p+1] == 'u' {
					save := s.p
					s.p += 2
					lo, ok := s.hex4()
					if ok && utf16IsLow(lo) {
						r = 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00)
					} else {
						s.p = save
						r = utf8.RuneError
					}
				} else if utf16IsHigh(r) || utf16IsLow(r) {
					r = utf8.RuneError
				}
				dst = utf8.AppendRune(dst, r)
			default:
				return dst, false
			}
		default:
			// Copy the run up to the next quote or backslash at once.
			end := s.p + 1
			for end < len(s.b) && s.b[end] != '"' && s.b[end] != '\\' {
				end++
			}
			dst = append(dst, s.b[s.p:end]...)
			s.p = end
		}
	}
	return dst, false
}

func (s *jsonScan) hex4() (rune, bool) {
	if s.p+4 > len(s.b) {
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.p : s.p+4] {
		d, ok := unhex(c)
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	s.p += 4
	return r, true
}

func utf16IsHigh(r rune) bool { return r >= 0xd800 && r < 0xdc00 }
func utf16IsLow(r rune) bool  { return r >= 0xdc00 && r < 0xe000 }

// unescapeZeekX appends b to dst with every \xHH replaced by its byte. dst
// may alias b's start: the output never overtakes the input.
func unescapeZeekX(dst, b []byte) []byte {
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+3 < len(b) && b[i+1] == 'x' {
			hi, ok1 := unhex(b[i+2])
			lo, ok2 := unhex(b[i+3])
			if ok1 && ok2 {
				dst = append(dst, hi<<4|lo)
				i += 3
				continue
			}
		}
		dst = append(dst, b[i])
	}
	return dst
}
