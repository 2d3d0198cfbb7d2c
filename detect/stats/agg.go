package stats

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/detect/filter"
)

// DNSColumns is a table of DNS messages column by column. A column that is
// nil or shorter than N reads as zero (QName: empty) for the missing rows.
type DNSColumns struct {
	N      int
	TS     []int64
	Client []flow.Addr
	QType  []uint16
	Rcode  []uint8
	// QName returns row i's question name without copying (flowstore.Strings
	// fits); nil means every name is empty.
	QName interface{ Bytes(i int) []byte }
}

// acc is the running total of one group.
type acc struct {
	flows, packets, bytes uint64
	first, last           int64
}

// part is a Part compiled for key building.
type part struct {
	Part
	off                    int    // first word of the part in a key
	m4hi, m4lo, m6hi, m6lo uint64 // address masks as two big-endian words
}

// Aggregator groups rows by a Spec. A key is width words (two per
// address, one per number, interned id for names, the bin first); keys and
// totals live in one open-addressing table, so adding a row allocates only
// when the table grows.
type Aggregator struct {
	spec   Spec
	parts  []part
	binOff int // word of the time bin, -1 without --bin
	either int // index in parts of the either-side field, -1 if none
	width  int

	stride int      // words per table entry: width + 5 totals
	tab    []uint64 // open-addressing table of entries, a power of two of them
	key    []uint64 // the key being built
	bkeys  []uint64 // keys of a block (AddFlows)
	sink   uint64   // keeps the touching loads of a block alive

	// After finish: group g's key is keys[g*width : (g+1)*width].
	keys []uint64
	accs []acc

	// Interned strings for qname and domain: raw evidence bytes map to the
	// id of their normalized (lower-case) value, so each distinct raw name
	// is normalized once.
	strs   []string
	strID  map[string]uint32
	rawID  [2]map[string]uint32 // [0] qname, [1] domain
	groups int

	fast fastState // the specialised loop's totals, merged into tab by finish
}

// NewAggregator checks the spec and returns an empty aggregator for it.
func NewAggregator(spec Spec) (*Aggregator, error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	a := &Aggregator{spec: spec, binOff: -1, either: -1, strID: map[string]uint32{}}
	a.rawID[0], a.rawID[1] = map[string]uint32{}, map[string]uint32{}
	if spec.Bin > 0 {
		a.binOff = 0
		a.width = 1
	}
	for i, p := range spec.Parts {
		cp := part{Part: p, off: a.width}
		if p.Field.IsAddr() {
			m4, m6 := p.Mask4, p.Mask6
			if m4 < 0 {
				m4 = 32
			}
			if m6 < 0 {
				m6 = 128
			}
			cp.m4hi, cp.m4lo = maskWords(96 + m4)
			cp.m6hi, cp.m6lo = maskWords(m6)
			a.width += 2
		} else {
			a.width++
		}
		if fields[p.Field].either {
			a.either = i
		}
		a.parts = append(a.parts, cp)
	}
	a.key = make([]uint64, a.width)
	a.stride = a.width + 5
	a.tab = make([]uint64, 1024*a.stride)
	a.planFast()
	return a, nil
}

// Spec returns the aggregator's spec.
func (a *Aggregator) Spec() Spec { return a.spec }

// Groups is the number of groups so far.
func (a *Aggregator) Groups() int {
	a.finish()
	return len(a.accs)
}

func maskWords(n int) (hi, lo uint64) {
	switch {
	case n <= 0:
		return 0, 0
	case n <= 64:
		return ^uint64(0) << (64 - n), 0
	case n < 128:
		return ^uint64(0), ^uint64(0) << (128 - n)
	}
	return ^uint64(0), ^uint64(0)
}

func at[T uint8 | uint16 | uint32 | uint64 | int64](s []T, i int) T {
	if i < len(s) {
		return s[i]
	}
	return 0
}

func (a *Aggregator) putAddr(p *part, s []flow.Addr, i int) {
	var hi, lo uint64
	if i < len(s) {
		hi = binary.BigEndian.Uint64(s[i][:8])
		lo = binary.BigEndian.Uint64(s[i][8:])
	}
	if hi == 0 && lo == 0 {
		// nfdump keys an IPv4 address by its 32 bits in a zeroed 128-bit
		// field, so :: and 0.0.0.0 are one group there; so they are here
		// (as 0.0.0.0, as in the filter package).
		lo = 0xffff << 32
	}
	if hi == 0 && lo>>32 == 0xffff { // IPv4-mapped
		hi, lo = hi&p.m4hi, lo&p.m4lo
	} else {
		hi, lo = hi&p.m6hi, lo&p.m6lo
	}
	a.key[p.off], a.key[p.off+1] = hi, lo
}

// binOf floors t to the start of its bin.
func (a *Aggregator) binOf(t int64) uint64 {
	b := int64(a.spec.Bin)
	q := t / b
	if t%b < 0 {
		q--
	}
	return uint64(q*b) ^ 1<<63 // sign flipped so that words order as times do
}

// flowKey fills a.key for row i; side 1 takes the destination of an
// either-side field.
func (a *Aggregator) flowKey(c *filter.FlowColumns, i int, side int) {
	if a.binOff >= 0 {
		a.key[0] = a.binOf(at(c.First, i))
	}
	for k := range a.parts {
		p := &a.parts[k]
		switch p.Field {
		case SrcIP:
			a.putAddr(p, c.Src, i)
		case DstIP:
			a.putAddr(p, c.Dst, i)
		case IP:
			if side == 0 {
				a.putAddr(p, c.Src, i)
			} else {
				a.putAddr(p, c.Dst, i)
			}
		case Exporter:
			a.putAddr(p, c.Exporter, i)
		case SrcPort:
			a.key[p.off] = uint64(at(c.SrcPort, i))
		case DstPort:
			a.key[p.off] = uint64(at(c.DstPort, i))
		case Port:
			if side == 0 {
				a.key[p.off] = uint64(at(c.SrcPort, i))
			} else {
				a.key[p.off] = uint64(at(c.DstPort, i))
			}
		case Proto:
			a.key[p.off] = uint64(at(c.Proto, i))
		case Flags:
			a.key[p.off] = uint64(at(c.TCPFlags, i))
		case SrcAS:
			a.key[p.off] = uint64(at(c.SrcAS, i))
		case DstAS:
			a.key[p.off] = uint64(at(c.DstAS, i))
		case AS:
			if side == 0 {
				a.key[p.off] = uint64(at(c.SrcAS, i))
			} else {
				a.key[p.off] = uint64(at(c.DstAS, i))
			}
		case VLAN:
			a.key[p.off] = uint64(at(c.VLAN, i))
		}
	}
}

// blockRows is how many keys are hashed, then touched, then added
// together: the touches are independent loads, so their cache misses
// overlap instead of stalling one row at a time (a group table of a few
// hundred thousand keys does not fit in the cache).
const blockRows = 32

// pending is one key of a block waiting to be added.
type pending struct {
	h              uint64
	packets, bytes uint64
	first, last    int64
}

// AddFlows adds the rows of c listed in sel (all rows when sel is nil).
// The spec must be a flow statistic.
func (a *Aggregator) AddFlows(c *filter.FlowColumns, sel []int32) error {
	if a.spec.DNS() {
		return fmt.Errorf("statistic %s counts DNS messages, not flows", a.spec.Name())
	}
	if a.fast.kind != fastNone {
		if a.addFast(c, sel) {
			return nil
		}
		// IPv4 rows of this call go to the general table, so it may share
		// groups with the fast one: finish must merge them.
		a.fast.mixed = true
	}
	w := a.width
	if len(a.bkeys) < 2*blockRows*w {
		a.bkeys = make([]uint64, 2*blockRows*w)
	}
	var pend [2 * blockRows]pending
	n := 0
	flush := func() {
		S := a.stride
		mask := uint64(len(a.tab)/S - 1)
		var sink uint64
		for j := 0; j < n; j++ {
			sink ^= a.tab[int(pend[j].h&mask)*S+w]
		}
		a.sink ^= sink
		for j := 0; j < n; j++ {
			p := &pend[j]
			a.addHashed(a.bkeys[j*w:j*w+w], p.h, acc{1, p.packets, p.bytes, p.first, p.last})
		}
		n = 0
	}
	push := func(i int) {
		a.flowKey(c, i, 0)
		first, last := at(c.First, i), at(c.Last, i)
		pk, by := at(c.Packets, i), at(c.Bytes, i)
		copy(a.bkeys[n*w:], a.key)
		pend[n] = pending{hashKey(a.key), pk, by, first, last}
		n++
		if a.either >= 0 {
			a.flowKey(c, i, 1)
			copy(a.bkeys[n*w:], a.key)
			pend[n] = pending{hashKey(a.key), pk, by, first, last}
			n++
		}
		if n >= 2*blockRows-1 {
			flush()
		}
	}
	if sel == nil {
		for i := 0; i < c.N; i++ {
			push(i)
		}
	} else {
		for _, i := range sel {
			if int(i) < c.N && i >= 0 {
				push(int(i))
			}
		}
	}
	flush()
	return nil
}

// AddDNS adds the messages of c listed in sel (all when sel is nil). The
// spec must be a DNS statistic.
func (a *Aggregator) AddDNS(c *DNSColumns, sel []int32) error {
	if !a.spec.DNS() {
		return fmt.Errorf("statistic %s counts flows, not DNS messages", a.spec.Name())
	}
	add := func(i int) {
		ts := at(c.TS, i)
		if a.binOff >= 0 {
			a.key[0] = a.binOf(ts)
		}
		for k := range a.parts {
			p := &a.parts[k]
			switch p.Field {
			case Client:
				a.putAddr(p, c.Client, i)
			case QType:
				a.key[p.off] = uint64(at(c.QType, i))
			case Rcode:
				a.key[p.off] = uint64(at(c.Rcode, i))
			case QName, Domain:
				var name []byte
				if c.QName != nil {
					name = c.QName.Bytes(i)
				}
				a.key[p.off] = uint64(a.nameID(p.Field, name))
			}
		}
		a.add(0, 0, ts, ts)
	}
	if sel == nil {
		for i := 0; i < c.N; i++ {
			add(i)
		}
		return nil
	}
	for _, i := range sel {
		if int(i) < c.N && i >= 0 {
			add(int(i))
		}
	}
	return nil
}

// nameID interns the normalized qname or registered domain of a raw name.
func (a *Aggregator) nameID(f Field, raw []byte) uint32 {
	m := a.rawID[0]
	if f == Domain {
		m = a.rawID[1]
	}
	if id, ok := m[string(raw)]; ok {
		return id
	}
	s := NormalizeName(string(raw))
	if f == Domain {
		s = RegisteredDomain(s)
	}
	id, ok := a.strID[s]
	if !ok {
		id = uint32(len(a.strs))
		a.strs = append(a.strs, s)
		a.strID[s] = id
	}
	m[string(raw)] = id
	return id
}

// NormalizeName lower-cases ASCII letters and drops one trailing dot, so
// that 0x20-randomized spellings of a name group together.
func NormalizeName(s string) string {
	s = strings.TrimSuffix(s, ".")
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// RegisteredDomain is the name's registered domain (eTLD+1) by the public
// suffix list compiled into golang.org/x/net/publicsuffix. A name that is
// itself a public suffix, or is not a valid domain, is its own group.
func RegisteredDomain(name string) string {
	d, err := publicsuffix.EffectiveTLDPlusOne(name)
	if err != nil {
		return name
	}
	return d
}

func hashKey(k []uint64) uint64 {
	h := uint64(0x9e3779b97f4a7c15)
	for _, w := range k {
		hi, lo := bits.Mul64(h^w, 0xbf58476d1ce4e5b9)
		h = hi ^ lo
	}
	return h
}

// add counts one record under a.key. Each table entry holds the key and
// the running totals side by side (stride words: key, flows, packets,
// bytes, first, last), so a row costs one probe into one cache line or
// two; flows == 0 marks an empty entry.
func (a *Aggregator) add(packets, bytes uint64, first, last int64) {
	a.addHashed(a.key, hashKey(a.key), acc{1, packets, bytes, first, last})
}

// addHashed adds the totals t (one row's, or a group's from the fast
// loops) under key k with hash h.
func (a *Aggregator) addHashed(k []uint64, h uint64, t acc) {
	w, S := a.width, a.stride
	mask := uint64(len(a.tab)/S - 1)
	for j := h & mask; ; j = (j + 1) & mask {
		e := a.tab[int(j)*S : int(j)*S+S]
		if e[w] == 0 {
			copy(e, k)
			e[w], e[w+1], e[w+2], e[w+3], e[w+4] = t.flows, t.packets, t.bytes, uint64(t.first), uint64(t.last)
			a.groups++
			if 2*a.groups > len(a.tab)/S {
				a.grow()
			}
			return
		}
		if equalKey(e[:w], k) {
			e[w] += t.flows
			e[w+1] += t.packets
			e[w+2] += t.bytes
			e[w+3] = uint64(min(int64(e[w+3]), t.first))
			e[w+4] = uint64(max(int64(e[w+4]), t.last))
			return
		}
	}
}

// finish lays the groups out densely (keys, accs) for ranking.
func (a *Aggregator) finish() {
	if a.fast.kind == fastAddr && !a.fast.mixed {
		a.finishAddr()
		return
	}
	a.mergeFast()
	a.keys, a.accs = a.keys[:0], a.accs[:0]
	a.appendTable()
}

// appendTable appends the general table's groups to keys and accs.
func (a *Aggregator) appendTable() {
	w, S := a.width, a.stride
	for j := 0; j+S <= len(a.tab); j += S {
		if e := a.tab[j : j+S]; e[w] != 0 {
			a.keys = append(a.keys, e[:w]...)
			a.accs = append(a.accs, acc{flows: e[w], packets: e[w+1], bytes: e[w+2], first: int64(e[w+3]), last: int64(e[w+4])})
		}
	}
}

func equalKey(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (a *Aggregator) grow() {
	w, S := a.width, a.stride
	n := 2 * len(a.tab) / S
	tab := make([]uint64, n*S)
	mask := uint64(n - 1)
	for i := 0; i+S <= len(a.tab); i += S {
		e := a.tab[i : i+S]
		if e[w] == 0 {
			continue
		}
		for j := hashKey(e[:w]) & mask; ; j = (j + 1) & mask {
			if tab[int(j)*S+w] == 0 {
				copy(tab[int(j)*S:], e)
				break
			}
		}
	}
	a.tab = tab
}
