package filter

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/spotctl/spotctl/decode/flow"
)

// field names one value of a record that a term tests.
type field uint8

const (
	fNone field = iota
	// flow numbers
	fFirst // ms
	fLast  // ms
	fSrcPort
	fDstPort
	fProto
	fFlags
	fToS
	fVLAN
	fPackets
	fBytes
	fOutPackets
	fOutBytes
	fSrcAS
	fDstAS
	fInIf
	fOutIf
	fSrcMask
	fDstMask
	fDuration
	fPPS
	fBPS
	fBPP
	fICMPType
	fICMPCode
	// flow addresses
	fSrcIP
	fDstIP
	fExporter
	fNextHop
	// flow booleans
	fIPv4
	fIPv6
	// DNS
	fQType
	fRcode
	fClientPort
	fServerPort
	fClient
	fServer
	fQName
	fResponse
	fQuery
	// results
	fScore
	fKind
)

// fieldKind says which record kind holds a field.
func fieldKind(f field) Kind {
	switch {
	case f >= fFirst && f <= fIPv6:
		return Flow
	case f >= fQType && f <= fQuery:
		return DNS
	default:
		return Score
	}
}

type cmpOp uint8

const (
	opEQ cmpOp = iota
	opGT
	opLT
	opGE
	opLE
)

var cmpText = [...]string{opEQ: "=", opGT: ">", opLT: "<", opGE: ">=", opLE: "<="}

type testKind uint8

const (
	tkCmp    testKind = iota // number comparison
	tkSet                    // number in a set
	tkAddr                   // address in a set of ranges
	tkFlags                  // all listed TCP flags set (and proto tcp)
	tkBool                   // boolean field is true
	tkStrEq                  // case-insensitive string equality
	tkSuffix                 // case-insensitive DNS suffix at a label boundary
	tkRegex                  // RE2 match
	tkFloat                  // float comparison
)

// leaf is one primitive term. fields lists the values it tests; with two
// (no direction qualifier) the term is true when either side passes.
type leaf struct {
	test   testKind
	fields []field
	cmp    cmpOp
	n      uint64
	set    []uint64 // sorted, unique
	addrs  addrSet
	f      float64
	s      string
	re     *regexp.Regexp
	icmp   bool // also requires proto icmp or icmp6 (icmp-type, icmp-code)
	text   string
}

type nodeOp uint8

const (
	nLeaf nodeOp = iota
	nAnd
	nOr
	nNot
	nAny
)

type node struct {
	op   nodeOp
	kids []*node
	leaf *leaf
}

// String prints the node in normalized form (see Filter.String).
func (n *node) String() string {
	var b strings.Builder
	n.write(&b)
	return b.String()
}

func (n *node) write(b *strings.Builder) {
	switch n.op {
	case nLeaf:
		b.WriteString(n.leaf.text)
	case nAny:
		b.WriteString("any")
	case nNot:
		b.WriteString("not ")
		k := n.kids[0]
		if k.op == nAnd || k.op == nOr {
			b.WriteByte('(')
			k.write(b)
			b.WriteByte(')')
		} else {
			k.write(b)
		}
	case nAnd, nOr:
		sep := " and "
		if n.op == nOr {
			sep = " or "
		}
		for i, k := range n.kids {
			if i > 0 {
				b.WriteString(sep)
			}
			// and binds tighter than or: only an or inside an and needs
			// parentheses; same-op children were flattened at parse time.
			if (k.op == nAnd || k.op == nOr) && k.op != n.op {
				paren := n.op == nAnd
				if paren {
					b.WriteByte('(')
				}
				k.write(b)
				if paren {
					b.WriteByte(')')
				}
			} else {
				k.write(b)
			}
		}
	}
}

// maxDepth bounds nesting of parentheses and not, so a hostile filter
// cannot exhaust the stack of the parser or of the compiled closures.
const maxDepth = 200

// parser is a recursive-descent parser over the lexer's tokens. Errors are
// raised with panic(parseError) and recovered in parse.
type parser struct {
	name  string
	src   string
	kind  Kind
	lx    lexer
	tok   token
	depth int
}

type parseError struct{ err *Error }

func (p *parser) parse() (root *node, err error) {
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(parseError)
			if !ok {
				panic(r)
			}
			root, err = nil, pe.err
		}
	}()
	p.advance()
	if p.tok.kind == tEOF {
		return nil, nil
	}
	root = p.parseOr()
	if p.tok.kind != tEOF {
		p.failf(p.tok, "unexpected %s after a complete expression (missing and/or?)", describe(p.tok))
	}
	return root, nil
}

func (p *parser) advance() { p.tok = p.lx.next() }

func (p *parser) peek() token {
	l := p.lx
	return l.next()
}

func (p *parser) failf(t token, format string, args ...any) {
	panic(parseError{errorAt(p.name, p.src, t.pos, fmt.Sprintf(format, args...))})
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of filter"
	case tString:
		return strconv.Quote(t.text)
	case tBad:
		if t.text == "unterminated string" {
			return "unterminated string"
		}
		return "character " + strconv.Quote(t.text)
	case tWord:
		return strconv.Quote(t.text)
	}
	return "\"" + t.text + "\""
}

// isWord reports whether the current token is the keyword w (any case).
func (p *parser) isWord(w string) bool {
	return p.tok.kind == tWord && strings.EqualFold(p.tok.text, w)
}

func (p *parser) parseOr() *node {
	left := p.parseAnd()
	for p.tok.kind == tOr || p.isWord("or") {
		p.advance()
		right := p.parseAnd()
		left = join(nOr, left, right)
	}
	return left
}

func (p *parser) parseAnd() *node {
	left := p.parseUnary()
	for p.tok.kind == tAnd || p.isWord("and") {
		p.advance()
		right := p.parseUnary()
		left = join(nAnd, left, right)
	}
	return left
}

// join builds a flattened n-ary and/or node (both are associative, so
// flattening keeps the meaning of the left-associative grammar).
func join(op nodeOp, a, b *node) *node {
	n := &node{op: op}
	for _, k := range []*node{a, b} {
		if k.op == op {
			n.kids = append(n.kids, k.kids...)
		} else {
			n.kids = append(n.kids, k)
		}
	}
	return n
}

func (p *parser) parseUnary() *node {
	p.depth++
	if p.depth > maxDepth {
		p.failf(p.tok, "filter nests deeper than %d levels", maxDepth)
	}
	defer func() { p.depth-- }()
	switch {
	case p.tok.kind == tNot || p.isWord("not"):
		p.advance()
		return &node{op: nNot, kids: []*node{p.parseUnary()}}
	case p.tok.kind == tLParen:
		open := p.tok
		p.advance()
		if p.tok.kind == tRParen {
			p.failf(p.tok, "empty parentheses")
		}
		n := p.parseOr()
		if p.tok.kind != tRParen {
			if p.tok.kind == tEOF {
				p.failf(open, "unclosed parenthesis")
			}
			p.failf(p.tok, "expected \")\", found %s", describe(p.tok))
		}
		p.advance()
		return n
	case p.tok.kind == tWord:
		return p.parsePrimitive()
	}
	p.failf(p.tok, "expected a filter term, found %s", describe(p.tok))
	return nil
}

// dir is a direction qualifier.
type dir uint8

const (
	dirNone dir = iota
	dirSrc
	dirDst
	dirIn  // in if / in packets / in bytes
	dirOut // out if / out packets / out bytes
	dirClient
	dirServer
)

var dirText = [...]string{dirNone: "", dirSrc: "src ", dirDst: "dst ", dirIn: "in ", dirOut: "out ", dirClient: "client ", dirServer: "server "}

func (p *parser) parsePrimitive() *node {
	start := p.tok
	d := dirNone
	switch strings.ToLower(p.tok.text) {
	case "src":
		d = dirSrc
	case "dst":
		d = dirDst
	case "in":
		d = dirIn
	case "out":
		d = dirOut
	case "client":
		d = dirClient
	case "server":
		d = dirServer
	}
	if d != dirNone {
		p.advance()
		if d == dirClient || d == dirServer {
			p.needKind(start, fClient)
			// "client 10.0.0.1", "client in [...]" and "client net ..." all work.
			if p.tok.kind != tWord || !slices.Contains([]string{"ip", "host", "net", "port"}, strings.ToLower(p.tok.text)) {
				return p.addrTerm(start, d, "ip", p.dirFields(start, d, "ip"))
			}
		} else if p.tok.kind != tWord {
			p.failf(p.tok, "expected a primitive after %q, found %s", strings.TrimSpace(dirText[d]), describe(p.tok))
		}
	}
	kwTok := p.tok
	kw := strings.ToLower(p.tok.text)
	switch d {
	case dirIn, dirOut:
		if kw != "if" && kw != "packets" && kw != "bytes" {
			p.failf(kwTok, "%q qualifies only if, packets and bytes, not %q", strings.TrimSpace(dirText[d]), p.tok.text)
		}
	case dirSrc, dirDst:
		if !slices.Contains([]string{"ip", "host", "net", "port", "as", "mask", "tos", "vlan"}, kw) {
			p.failf(kwTok, "%q qualifies ip, host, net, port, as, mask, tos and vlan, not %q", strings.TrimSpace(dirText[d]), p.tok.text)
		}
	}
	p.advance()

	switch kw {
	case "any":
		return &node{op: nAny}
	case "ipv4", "inet":
		p.needKind(kwTok, fIPv4)
		return boolLeaf(fIPv4, "ipv4")
	case "ipv6", "inet6":
		p.needKind(kwTok, fIPv6)
		return boolLeaf(fIPv6, "ipv6")
	case "response":
		p.needKind(kwTok, fResponse)
		return boolLeaf(fResponse, "response")
	case "query":
		p.needKind(kwTok, fQuery)
		return boolLeaf(fQuery, "query")
	case "ip", "host", "net":
		fields := p.dirFields(kwTok, d, kw)
		if kw == "net" {
			return p.netTerm(d, fields)
		}
		return p.addrTerm(kwTok, d, kw, fields)
	case "port":
		return p.numTerm(kwTok, dirText[d]+"port", p.dirFields(kwTok, d, "port"), nil, true)
	case "as":
		return p.numTerm(kwTok, dirText[d]+"as", p.dirFields(kwTok, d, "as"), nil, true)
	case "mask":
		return p.numTerm(kwTok, dirText[d]+"mask", p.dirFields(kwTok, d, "mask"), nil, false)
	case "tos":
		if d == dirDst {
			p.failf(start, "records carry only the source ToS; use \"tos\" or \"src tos\"")
		}
		return p.numTerm(kwTok, "tos", []field{fToS}, nil, false)
	case "vlan":
		if d == dirDst {
			p.failf(start, "records carry one VLAN id; use \"vlan\" or \"src vlan\"")
		}
		return p.numTerm(kwTok, "vlan", []field{fVLAN}, nil, false)
	case "if":
		switch d {
		case dirIn:
			return p.numTerm(kwTok, "in if", []field{fInIf}, nil, false)
		case dirOut:
			return p.numTerm(kwTok, "out if", []field{fOutIf}, nil, false)
		}
		return p.numTerm(kwTok, "if", []field{fInIf, fOutIf}, nil, false)
	case "packets":
		if d == dirOut {
			return p.numTerm(kwTok, "out packets", []field{fOutPackets}, nil, false)
		}
		return p.numTerm(kwTok, "packets", []field{fPackets}, nil, false)
	case "bytes":
		if d == dirOut {
			return p.numTerm(kwTok, "out bytes", []field{fOutBytes}, nil, false)
		}
		return p.numTerm(kwTok, "bytes", []field{fBytes}, nil, false)
	case "duration":
		return p.numTerm(kwTok, "duration", []field{fDuration}, nil, false)
	case "pps":
		return p.numTerm(kwTok, "pps", []field{fPPS}, nil, false)
	case "bps":
		return p.numTerm(kwTok, "bps", []field{fBPS}, nil, false)
	case "bpp":
		return p.numTerm(kwTok, "bpp", []field{fBPP}, nil, false)
	case "icmp-type":
		n := p.numTerm(kwTok, "icmp-type", []field{fICMPType}, nil, false)
		n.leaf.icmp = true
		return n
	case "icmp-code":
		n := p.numTerm(kwTok, "icmp-code", []field{fICMPCode}, nil, false)
		n.leaf.icmp = true
		return n
	case "proto":
		return p.numTerm(kwTok, "proto", []field{fProto}, protoNames, true)
	case "qtype":
		return p.numTerm(kwTok, "qtype", []field{fQType}, qtypeNames, true)
	case "rcode":
		return p.numTerm(kwTok, "rcode", []field{fRcode}, rcodeNames, true)
	case "flags":
		return p.flagsTerm(kwTok)
	case "first", "last":
		return p.timeTerm(kwTok, kw)
	case "router", "exporter", "next":
		f := fExporter
		name := "exporter ip"
		if kw == "next" {
			f, name = fNextHop, "next ip"
		}
		p.needKind(kwTok, f)
		if p.isWord("ip") {
			p.advance()
		} else if kw != "exporter" {
			p.failf(p.tok, "expected \"ip\" after %q, found %s", kw, describe(p.tok))
		}
		return p.addrTerm(kwTok, dirNone, name, []field{f})
	case "qname":
		return p.qnameTerm(kwTok)
	case "score":
		return p.scoreTerm(kwTok)
	case "kind":
		p.needKind(kwTok, fKind)
		if p.tok.kind == tCmp && (p.tok.text == "=" || p.tok.text == "==") {
			p.advance()
		}
		v := p.value("a kind such as flow or dns")
		s := strings.ToLower(v.text)
		return &node{op: nLeaf, leaf: &leaf{test: tkStrEq, fields: []field{fKind}, s: s, text: "kind " + quoteIfNeeded(s)}}
	}
	msg := fmt.Sprintf("unknown primitive %q", kwTok.text)
	if s := suggest(kw, primitives); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	p.failf(kwTok, "%s", msg)
	return nil
}

// needKind rejects a field that the filter's record kind does not have.
func (p *parser) needKind(t token, f field) {
	fk := fieldKind(f)
	if p.kind&fk == 0 {
		p.failf(t, "%q is a %s field; this filter applies to %s records", t.text, fk, p.kind)
	}
}

// dirFields resolves a direction and a primitive to the fields tested.
func (p *parser) dirFields(t token, d dir, prim string) []field {
	var src, dst field
	switch prim {
	case "ip", "host", "net":
		src, dst = fSrcIP, fDstIP
		if d == dirClient || d == dirServer {
			src, dst = fClient, fServer
		}
	case "port":
		src, dst = fSrcPort, fDstPort
		if d == dirClient || d == dirServer {
			src, dst = fClientPort, fServerPort
		}
	case "as":
		src, dst = fSrcAS, fDstAS
	case "mask":
		src, dst = fSrcMask, fDstMask
	}
	var out []field
	switch d {
	case dirSrc, dirClient:
		out = []field{src}
	case dirDst, dirServer:
		out = []field{dst}
	default:
		out = []field{src, dst}
	}
	for _, f := range out {
		p.needKind(t, f)
	}
	return out
}

func boolLeaf(f field, text string) *node {
	return &node{op: nLeaf, leaf: &leaf{test: tkBool, fields: []field{f}, text: text}}
}

// value returns the current token as a value (word or quoted string).
func (p *parser) value(what string) token {
	t := p.tok
	if t.kind != tWord && t.kind != tString {
		p.failf(t, "expected %s, found %s", what, describe(t))
	}
	p.advance()
	return t
}

// comparator reads an optional comparator; none means equality.
func (p *parser) comparator() cmpOp {
	if p.tok.kind == tCmp {
		op := map[string]cmpOp{"=": opEQ, "==": opEQ, ">": opGT, "<": opLT, ">=": opGE, "<=": opLE}[p.tok.text]
		p.advance()
		return op
	}
	if p.tok.kind == tWord {
		if op, ok := map[string]cmpOp{"eq": opEQ, "gt": opGT, "lt": opLT, "ge": opGE, "le": opLE}[strings.ToLower(p.tok.text)]; ok {
			p.advance()
			return op
		}
	}
	return opEQ
}

// ParseNumber reads a number as the filter language writes it (and
// stats' -P, so that both agree): unsigned, decimal or 0x hex, with an
// optional k/m/g/t suffix multiplying by 10^3, 10^6, 10^9, 10^12.
func ParseNumber(s string) (uint64, error) { return parseNumber(s) }

func parseNumber(s string) (uint64, error) {
	mult := uint64(1)
	hex := len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')
	if n := len(s); n > 1 && !hex {
		switch s[n-1] {
		case 'k', 'K':
			mult = 1e3
		case 'm', 'M':
			mult = 1e6
		case 'g', 'G':
			mult = 1e9
		case 't', 'T':
			mult = 1e12
		}
		if mult != 1 {
			s = s[:n-1]
		}
	}
	var v uint64
	var err error
	if hex {
		v, err = strconv.ParseUint(s[2:], 16, 64)
	} else {
		// Base 10 only: "010" is ten, not octal eight.
		v, err = strconv.ParseUint(s, 10, 64)
	}
	if err != nil || s == "" || s[0] == '+' {
		return 0, errors.New("not a number")
	}
	if v > math.MaxUint64/mult {
		return 0, errors.New("number overflows 64 bits")
	}
	return v * mult, nil
}

// maxFor is the largest value a field can hold; bigger constants are
// rejected because they are certainly typos.
func maxFor(f field) uint64 {
	switch f {
	case fSrcPort, fDstPort, fVLAN, fQType, fClientPort, fServerPort, fRcode:
		return math.MaxUint16
	case fProto, fFlags, fToS, fSrcMask, fDstMask, fICMPType, fICMPCode:
		return math.MaxUint8
	case fSrcAS, fDstAS, fInIf, fOutIf:
		return math.MaxUint32
	}
	return math.MaxUint64
}

// numValue reads one number (or a name from names) for fields.
func (p *parser) numValue(fields []field, names map[string]uint64, what string) (uint64, string) {
	t := p.value(what)
	if names != nil {
		if v, ok := names[strings.ToLower(t.text)]; ok {
			return v, strings.ToLower(t.text)
		}
	}
	v, err := parseNumber(t.text)
	if err != nil {
		msg := fmt.Sprintf("expected %s, found %s", what, describe(t))
		if names != nil {
			if s := suggest(t.text, keys(names)); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
		}
		p.failf(t, "%s", msg)
	}
	if m := maxFor(fields[0]); v > m {
		p.failf(t, "%s is out of range (at most %d)", t.text, m)
	}
	return v, ""
}

func keys(m map[string]uint64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// numTerm parses "[comp] value" or, when lists is set, "in [ v ... ]".
func (p *parser) numTerm(kwTok token, name string, fields []field, names map[string]uint64, lists bool) *node {
	for _, f := range fields {
		p.needKind(kwTok, f)
	}
	what := "a number"
	if names != nil {
		what = "a number or name"
	}
	show := func(v uint64) string {
		if names != nil {
			if s := numberName(names, v); s != "" && (fields[0] != fProto || protoName(v) != "") {
				if fields[0] == fProto {
					return protoName(v)
				}
				return s
			}
		}
		return strconv.FormatUint(v, 10)
	}
	if lists && p.isWord("in") {
		p.advance()
		var vals []uint64
		p.list(func(t token) {
			p.tok = t // numValue reads the current token
			v, _ := p.numValue(fields, names, what)
			vals = append(vals, v)
		})
		slices.Sort(vals)
		vals = slices.Compact(vals)
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = show(v)
		}
		return &node{op: nLeaf, leaf: &leaf{test: tkSet, fields: fields, set: vals,
			text: name + " in [" + strings.Join(parts, " ") + "]"}}
	}
	op := p.comparator()
	v, _ := p.numValue(fields, names, what)
	return &node{op: nLeaf, leaf: &leaf{test: tkCmp, fields: fields, cmp: op, n: v,
		text: name + " " + cmpText[op] + " " + show(v)}}
}

// list parses "[ item {[,] item} ]", calling item for each element token.
// item must consume exactly that token (via p.advance or p.value).
func (p *parser) list(item func(t token)) {
	if p.tok.kind != tLBrack {
		p.failf(p.tok, "expected \"[\" after \"in\", found %s", describe(p.tok))
	}
	open := p.tok
	p.advance()
	n := 0
	for {
		switch p.tok.kind {
		case tRBrack:
			if n == 0 {
				p.failf(p.tok, "empty list")
			}
			p.advance()
			return
		case tComma:
			p.advance()
			continue
		case tEOF:
			p.failf(open, "unclosed list")
		case tWord, tString:
			item(p.tok)
			n++
		default:
			p.failf(p.tok, "unexpected %s in a list", describe(p.tok))
		}
	}
}

func (p *parser) flagsTerm(kwTok token) *node {
	p.needKind(kwTok, fFlags)
	t := p.value("TCP flags (letters of CEUAPRSF, X for all)")
	var mask uint64
	if v, err := parseNumber(t.text); err == nil && t.text[0] >= '0' && t.text[0] <= '9' {
		if v > 255 {
			p.failf(t, "flags value %s is out of range (at most 255)", t.text)
		}
		mask = v
	} else {
		for i := 0; i < len(t.text); i++ {
			switch t.text[i] | 0x20 {
			case 'f':
				mask |= flow.TCPFin
			case 's':
				mask |= flow.TCPSyn
			case 'r':
				mask |= flow.TCPRst
			case 'p':
				mask |= flow.TCPPsh
			case 'a':
				mask |= flow.TCPAck
			case 'u':
				mask |= flow.TCPUrg
			case 'e':
				mask |= flow.TCPEce
			case 'c':
				mask |= flow.TCPCwr
			case 'x':
				mask |= 0x3f // nfdump: X is all six classic flags
			default:
				p.failf(token{pos: t.pos + i}, "unknown TCP flag %q (use letters of CEUAPRSF, X for all)", t.text[i:i+1])
			}
		}
	}
	if mask == 0 {
		p.failf(t, "no TCP flag given")
	}
	var letters []byte
	for i, c := range []byte("FSRPAUEC") {
		if mask&(1<<i) != 0 {
			letters = append(letters, c)
		}
	}
	return &node{op: nLeaf, leaf: &leaf{test: tkFlags, fields: []field{fFlags}, n: mask, text: "flags " + string(letters)}}
}

// addrTerm parses "ADDR" or "in [ ADDR|CIDR ... ]" after ip/host/client/...
func (p *parser) addrTerm(kwTok token, d dir, name string, fields []field) *node {
	for _, f := range fields {
		p.needKind(kwTok, f)
	}
	if name == "host" {
		name = "ip"
	}
	label := dirText[d] + name
	if d == dirClient || d == dirServer {
		label = strings.TrimSpace(dirText[d])
	}
	if p.isWord("in") {
		p.advance()
		var rs addrSet
		var parts []string
		p.list(func(t token) {
			p.advance()
			r, s := p.parsePrefixOrAddr(t)
			rs = append(rs, r)
			parts = append(parts, s)
		})
		return &node{op: nLeaf, leaf: &leaf{test: tkAddr, fields: fields, addrs: withUnspecified(rs).normalize(),
			text: label + " in [" + strings.Join(parts, " ") + "]"}}
	}
	t := p.value("an IP address")
	var r addrRange
	var s string
	if strings.Contains(t.text, "/") {
		// "ip 10.0.0.0/8" is read as a net, which is what anyone means by it.
		r, s = p.parsePrefixOrAddr(t)
	} else {
		a, err := netip.ParseAddr(t.text)
		if err != nil || a.Zone() != "" {
			p.failf(t, "%s is not an IP address", describe(t))
		}
		fa := flow.AddrFromNetip(a)
		r = addrRange{lo: toU128(fa), hi: toU128(fa)}
		s = a.String()
	}
	return &node{op: nLeaf, leaf: &leaf{test: tkAddr, fields: fields, addrs: withUnspecified(addrSet{r}).normalize(), text: label + " " + s}}
}

// withUnspecified makes the two unspecified addresses one: an entry
// 0.0.0.0 also matches :: and the other way round. Our zero Addr means "no
// address" (a missing next hop or exporter) whatever the flow's family, and
// nfdump, which keeps IPv4 in the low 32 bits of 128, treats them alike.
func withUnspecified(s addrSet) addrSet {
	v4 := toU128(flow.AddrFrom4([4]byte{}))
	v6 := u128{}
	for _, r := range s {
		if r.lo == r.hi && (r.lo == v4 || r.lo == v6) {
			return append(s, addrRange{v4, v4}, addrRange{v6, v6})
		}
	}
	return s
}

// netTerm parses "CIDR" or "ADDR MASK" after net.
func (p *parser) netTerm(d dir, fields []field) *node {
	t := p.value("a network (10.0.0.0/8 or 10.0.0.0 255.0.0.0)")
	label := dirText[d] + "net"
	if d == dirClient || d == dirServer {
		label = strings.TrimSpace(dirText[d]) + " net"
	}
	if !strings.Contains(t.text, "/") {
		a, err := netip.ParseAddr(t.text)
		if err != nil || !a.Is4() {
			p.failf(t, "%s is not a network: use CIDR (10.0.0.0/8) or an IPv4 address and mask", describe(t))
		}
		m := p.value("a netmask such as 255.0.0.0")
		ma, err := netip.ParseAddr(m.text)
		if err != nil || !ma.Is4() {
			p.failf(m, "%s is not an IPv4 netmask", describe(m))
		}
		b := ma.As4()
		v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		bits := 0
		for bits < 32 && v&(1<<(31-bits)) != 0 {
			bits++
		}
		if bits < 32 && v<<bits != 0 {
			p.failf(m, "netmask %s is not contiguous", m.text)
		}
		pfx := netip.PrefixFrom(a, bits).Masked()
		return &node{op: nLeaf, leaf: &leaf{test: tkAddr, fields: fields, addrs: addrSet{prefixRange(pfx)}, text: label + " " + pfx.String()}}
	}
	r, s := p.parsePrefixOrAddr(t)
	return &node{op: nLeaf, leaf: &leaf{test: tkAddr, fields: fields, addrs: addrSet{r}, text: label + " " + s}}
}

// parsePrefixOrAddr reads an address or a CIDR prefix. IPv4 prefixes may
// be abbreviated as nfdump allows ("172.16/12" is 172.16.0.0/12).
func (p *parser) parsePrefixOrAddr(t token) (addrRange, string) {
	s := t.text
	if addr, bits, ok := strings.Cut(s, "/"); ok {
		if !strings.Contains(addr, ":") {
			if n := strings.Count(addr, "."); n < 3 && addr != "" {
				addr += strings.Repeat(".0", 3-n)
			}
		}
		a, err := netip.ParseAddr(addr)
		nb, err2 := strconv.Atoi(bits)
		if err != nil || err2 != nil || a.Zone() != "" || nb < 0 || nb > a.BitLen() || bits == "" || bits[0] == '+' {
			p.failf(t, "%s is not an address or CIDR prefix", describe(t))
		}
		pfx := netip.PrefixFrom(a, nb).Masked()
		return prefixRange(pfx), pfx.String()
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		p.failf(t, "%s is not an address or CIDR prefix", describe(t))
	}
	fa := flow.AddrFromNetip(a)
	return addrRange{lo: toU128(fa), hi: toU128(fa)}, a.String()
}

func (p *parser) timeTerm(kwTok token, kw string) *node {
	if !p.isWord("seen") {
		p.failf(p.tok, "expected \"seen\" after %q, found %s", kw, describe(p.tok))
	}
	f := fFirst
	if kw == "last" {
		f = fLast
	}
	p.needKind(kwTok, f)
	p.advance()
	op := p.comparator()
	t := p.value("an ISO-8601 time such as 2024-07-11T09:15:00")
	text := t.text
	// "2024-07-11 09:15:00" unquoted: join the date with a following time.
	if t.kind == tWord && len(text) == 10 && p.tok.kind == tWord && len(p.tok.text) >= 2 && isDigit(p.tok.text[0]) && strings.Contains(p.tok.text, ":") {
		text += " " + p.tok.text
		p.advance()
	}
	ms, err := parseTime(text)
	if err != nil {
		p.failf(t, "%s is not a time: %v", strconv.Quote(text), err)
	}
	return &node{op: nLeaf, leaf: &leaf{test: tkCmp, fields: []field{f}, cmp: op, n: uint64(ms),
		text: kw + " seen " + cmpText[op] + " " + formatTime(ms)}}
}

func (p *parser) qnameTerm(kwTok token) *node {
	p.needKind(kwTok, fQName)
	switch {
	case p.tok.kind == tTilde:
		p.advance()
		t := p.value("a regular expression")
		if len(t.text) > 4096 {
			p.failf(t, "regular expression longer than 4096 bytes")
		}
		re, err := regexp.Compile("(?i:" + t.text + ")")
		if err != nil {
			// Compile again unwrapped for a message about the user's text.
			_, err2 := regexp.Compile(t.text)
			if err2 != nil {
				err = err2
			}
			p.failf(t, "bad regular expression: %v", err)
		}
		return &node{op: nLeaf, leaf: &leaf{test: tkRegex, fields: []field{fQName}, re: re, text: "qname ~ " + quote(t.text)}}
	case p.isWord("suffix"):
		p.advance()
		t := p.value("a domain name")
		s := strings.ToLower(strings.Trim(t.text, "."))
		if s == "" {
			p.failf(t, "empty domain suffix")
		}
		return &node{op: nLeaf, leaf: &leaf{test: tkSuffix, fields: []field{fQName}, s: s, text: "qname suffix " + quoteIfNeeded(s)}}
	case p.tok.kind == tCmp && p.tok.text != "=" && p.tok.text != "==":
		p.failf(p.tok, "qname takes =, suffix or ~, not %q", p.tok.text)
	case p.tok.kind == tCmp:
		p.advance()
	}
	t := p.value("a domain name")
	s := strings.ToLower(strings.TrimSuffix(t.text, "."))
	// One trailing dot is dropped on both sides of the comparison; a name
	// that still ends in one (written with two) keeps its extra dot in the
	// normal form, so that parsing the normal form gives the same term.
	shown := s
	if strings.HasSuffix(s, ".") {
		shown += "."
	}
	return &node{op: nLeaf, leaf: &leaf{test: tkStrEq, fields: []field{fQName}, s: s, text: "qname = " + quoteIfNeeded(shown)}}
}

func (p *parser) scoreTerm(kwTok token) *node {
	p.needKind(kwTok, fScore)
	op := p.comparator()
	t := p.value("a number")
	v, err := strconv.ParseFloat(t.text, 64)
	if err != nil || math.IsNaN(v) {
		p.failf(t, "%s is not a number", describe(t))
	}
	return &node{op: nLeaf, leaf: &leaf{test: tkFloat, fields: []field{fScore}, cmp: op, f: v,
		text: "score " + cmpText[op] + " " + strconv.FormatFloat(v, 'g', -1, 64)}}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// quote single-quotes s for String (the lexer has no escapes: a string
// holding ' is double-quoted instead).
func quote(s string) string {
	if strings.ContainsRune(s, '\'') {
		return "\"" + s + "\""
	}
	return "'" + s + "'"
}

// quoteIfNeeded leaves plain names bare and quotes anything the lexer
// would split or read as a keyword.
func quoteIfNeeded(s string) string {
	if s == "" {
		return "''"
	}
	for i := 0; i < len(s); i++ {
		if !isWordByte(s[i]) {
			return quote(s)
		}
	}
	switch s {
	case "and", "or", "not", "in", "suffix", "eq", "gt", "lt", "ge", "le":
		return quote(s)
	}
	return s
}
