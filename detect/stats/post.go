package stats

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/detect/filter"
)

// Post is a compiled post-aggregation filter (nfdump's -P): it keeps the
// groups whose totals and keys match. The language is small:
//
//	expr  := expr or expr | expr and expr | not expr | ( expr ) | term
//	term  := NAME [OP] VALUE
//	OP    := = == != < <= > >=  (or eq ne lt le gt ge; none means =)
//
// NAME is a counter — flows (messages for DNS), packets, bytes, pps, bps,
// bpp, duration (ms) — compared with a number that may carry nfdump's
// k/M/G/T suffix (powers of 1000); or one of the statistic's own fields
// by its -s or JSON name: ports, proto (a number or tcp/udp/icmp/icmp6),
// flags, as, vlan, qtype and rcode compare as numbers, addresses take an
// address or CIDR prefix (= inside, != outside), qname and domain take a
// name (= or !=, case-insensitive). `and` binds tighter than `or`, `not`
// tighter than both, as in nfdump; && || ! are accepted too.
type Post struct {
	text string
	fn   func(a *Aggregator, g int) bool
}

// String is the source text.
func (p *Post) String() string { return p.text }

func (p *Post) match(a *Aggregator, g int) bool { return p.fn(a, g) }

// ParsePost compiles a -P expression for a spec (its key fields are the
// names a term may use besides the counters).
func ParsePost(src string, spec Spec) (*Post, error) {
	ps := &postParser{src: src, spec: spec}
	ps.lex()
	if ps.err != nil {
		return nil, ps.err
	}
	if len(ps.toks) == 0 {
		return nil, fmt.Errorf("-P: empty expression")
	}
	fn := ps.or()
	if ps.err == nil && ps.pos < len(ps.toks) {
		ps.fail(ps.toks[ps.pos], "unexpected %q", ps.toks[ps.pos].s)
	}
	if ps.err != nil {
		return nil, ps.err
	}
	return &Post{text: src, fn: fn}, nil
}

type ptok struct {
	s   string
	off int
}

type postParser struct {
	src  string
	spec Spec
	toks []ptok
	pos  int
	err  error
}

func (p *postParser) fail(t ptok, format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("-P: column %d: %s", t.off+1, fmt.Sprintf(format, args...))
	}
}

func (p *postParser) lex() {
	s := p.src
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			p.toks = append(p.toks, ptok{s[i : i+1], i})
			i++
		case strings.ContainsRune("=!<>&|", rune(c)):
			j := i + 1
			if j < len(s) && strings.ContainsRune("=&|", rune(s[j])) {
				j++
			}
			p.toks = append(p.toks, ptok{s[i:j], i})
			i = j
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				p.fail(ptok{off: i}, "unterminated quote")
				return
			}
			p.toks = append(p.toks, ptok{s[i+1 : i+1+j], i})
			i += j + 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r()=!<>&|'\"", rune(s[j])) {
				j++
			}
			p.toks = append(p.toks, ptok{s[i:j], i})
			i = j
		}
	}
}

func (p *postParser) peek() (ptok, bool) {
	if p.pos < len(p.toks) {
		return p.toks[p.pos], true
	}
	return ptok{off: len(p.src)}, false
}

func (p *postParser) is(words ...string) bool {
	t, ok := p.peek()
	if !ok {
		return false
	}
	for _, w := range words {
		if strings.EqualFold(t.s, w) {
			p.pos++
			return true
		}
	}
	return false
}

type postFn = func(a *Aggregator, g int) bool

func (p *postParser) or() postFn {
	l := p.and()
	for p.err == nil && p.is("or", "||") {
		r := p.and()
		l = func(l, r postFn) postFn { return func(a *Aggregator, g int) bool { return l(a, g) || r(a, g) } }(l, r)
	}
	return l
}

func (p *postParser) and() postFn {
	l := p.not()
	for p.err == nil && p.is("and", "&&") {
		r := p.not()
		l = func(l, r postFn) postFn { return func(a *Aggregator, g int) bool { return l(a, g) && r(a, g) } }(l, r)
	}
	return l
}

func (p *postParser) not() postFn {
	if p.is("not", "!") {
		x := p.not()
		return func(a *Aggregator, g int) bool { return !x(a, g) }
	}
	if p.is("(") {
		x := p.or()
		if !p.is(")") {
			t, _ := p.peek()
			p.fail(t, "missing )")
		}
		return x
	}
	return p.term()
}

type cmpOp uint8

const (
	opEQ cmpOp = iota
	opNE
	opLT
	opLE
	opGT
	opGE
)

var opWords = map[string]cmpOp{"=": opEQ, "==": opEQ, "eq": opEQ, "!=": opNE, "ne": opNE,
	"<": opLT, "lt": opLT, "<=": opLE, "le": opLE, ">": opGT, "gt": opGT, ">=": opGE, "ge": opGE}

func (o cmpOp) test(x, y uint64) bool {
	switch o {
	case opNE:
		return x != y
	case opLT:
		return x < y
	case opLE:
		return x <= y
	case opGT:
		return x > y
	case opGE:
		return x >= y
	}
	return x == y
}

var counterNames = []string{"flows", "messages", "packets", "bytes", "pps", "bps", "bpp", "duration"}

func (p *postParser) term() postFn {
	nt, ok := p.peek()
	never := func(*Aggregator, int) bool { return false }
	if !ok {
		p.fail(nt, "expression ends early: want NAME [OP] VALUE")
		return never
	}
	p.pos++
	name := strings.ToLower(nt.s)
	op := opEQ
	if t, ok := p.peek(); ok {
		if o, ok := opWords[strings.ToLower(t.s)]; ok {
			op = o
			p.pos++
		}
	}
	vt, ok := p.peek()
	if !ok {
		p.fail(vt, "%s needs a value", name)
		return never
	}
	p.pos++

	var get func(a *Aggregator, g int) uint64
	switch name {
	case "flows", "messages":
		get = func(a *Aggregator, g int) uint64 { return a.accs[g].flows }
	case "packets":
		get = func(a *Aggregator, g int) uint64 { return a.accs[g].packets }
	case "bytes":
		get = func(a *Aggregator, g int) uint64 { return a.accs[g].bytes }
	case "pps":
		get = func(a *Aggregator, g int) uint64 { return a.metric(g, OrderPPS) }
	case "bps":
		get = func(a *Aggregator, g int) uint64 { return a.metric(g, OrderBPS) }
	case "bpp":
		get = func(a *Aggregator, g int) uint64 { return a.metric(g, OrderBPP) }
	case "duration":
		get = func(a *Aggregator, g int) uint64 { return DurationMs(a.accs[g].first, a.accs[g].last) }
	}
	if get != nil {
		n, err := parseNumber(vt.s)
		if err != nil {
			p.fail(vt, "%s: %v", name, err)
			return never
		}
		return func(a *Aggregator, g int) bool { return op.test(get(a, g), n) }
	}

	f, err := ParseField(name)
	idx := -1
	if err == nil {
		for i, q := range p.spec.Parts {
			if q.Field == f {
				idx = i
			}
		}
	}
	if idx < 0 {
		var valid []string
		for _, q := range p.spec.Parts {
			valid = append(valid, q.Field.Name())
		}
		p.fail(nt, "unknown name %q (valid: %s)", nt.s, strings.Join(append(counterNames, valid...), ", "))
		return never
	}
	// The part's words are at the same offset in every aggregator of this
	// spec: one key word per part, two for addresses, after the bin word.
	off := 0
	if p.spec.Bin > 0 {
		off = 1
	}
	for _, q := range p.spec.Parts[:idx] {
		off++
		if q.Field.IsAddr() {
			off++
		}
	}
	switch {
	case f.IsAddr():
		if op != opEQ && op != opNE {
			p.fail(vt, "%s takes = or != (an address or prefix)", name)
			return never
		}
		pfx, err := netip.ParsePrefix(vt.s)
		if err != nil {
			ip, err2 := netip.ParseAddr(vt.s)
			if err2 != nil {
				p.fail(vt, "%s: %q is not an address or prefix", name, vt.s)
				return never
			}
			pfx = netip.PrefixFrom(ip, ip.BitLen())
		}
		pfx = pfx.Masked()
		want := op == opEQ
		return func(a *Aggregator, g int) bool {
			k := a.keys[g*a.width+off:]
			v := a.value(&part{off: 0, Part: Part{Field: f}}, k)
			return pfx.Contains(v.Addr.Netip()) == want
		}
	case f.IsString():
		if op != opEQ && op != opNE {
			p.fail(vt, "%s takes = or !=", name)
			return never
		}
		want := NormalizeName(vt.s)
		eq := op == opEQ
		return func(a *Aggregator, g int) bool {
			return (a.strs[a.keys[g*a.width+off]] == want) == eq
		}
	}
	n, err := parseNumber(vt.s)
	if err != nil && f == Proto {
		n, err = protoNumber(vt.s)
	}
	if err != nil {
		p.fail(vt, "%s: %v", name, err)
		return never
	}
	return func(a *Aggregator, g int) bool { return op.test(a.keys[g*a.width+off], n) }
}

// parseNumber reads a number as the filter language does (filter.ParseNumber).
func parseNumber(s string) (uint64, error) {
	v, err := filter.ParseNumber(s)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", s, err)
	}
	return v, nil
}

func protoNumber(s string) (uint64, error) {
	switch strings.ToLower(s) {
	case "icmp":
		return flow.ProtoICMP, nil
	case "tcp":
		return flow.ProtoTCP, nil
	case "udp":
		return flow.ProtoUDP, nil
	case "icmp6", "ipv6-icmp":
		return flow.ProtoICMPv6, nil
	}
	return 0, fmt.Errorf("%q is not a protocol number or tcp, udp, icmp, icmp6", s)
}
