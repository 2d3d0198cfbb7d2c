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

// Aggregator groups rows by a Spec. Keys are rows of width words in one
// arena, found through an open-addressing table of group numbers: adding a
// row allocates only when the table grows.
type Aggregator struct {
	spec   Spec
	parts  []part
	binOff int // word of the time bin, -1 without --bin
	either int // index in parts of the either-side field, -1 if none
	width  int

	keys  []uint64 // group g's key is keys[g*width : (g+1)*width]
	accs  []acc
	slots []int32 // 0 empty, else group number + 1
	key   []uint64

	// Interned strings for qname and domain: raw evidence bytes map to the
	// id of their normalized (lower-case) value, so each distinct raw name
	// is normalized once.
	strs   []string
	strID  map[string]uint32
	rawID  [2]map[string]uint32 // [0] qname, [1] domain
	groups int
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
	a.slots = make([]int32, 1024)
	return a, nil
}

// Spec returns the aggregator's spec.
func (a *Aggregator) Spec() Spec { return a.spec }

// Groups is the number of groups so far.
func (a *Aggregator) Groups() int { return a.groups }

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

// AddFlows adds the rows of c listed in sel (all rows when sel is nil).
// The spec must be a flow statistic.
func (a *Aggregator) AddFlows(c *filter.FlowColumns, sel []int32) error {
	if a.spec.DNS() {
		return fmt.Errorf("statistic %s counts DNS messages, not flows", a.spec.Name())
	}
	add := func(i int) {
		a.flowKey(c, i, 0)
		first, last := at(c.First, i), at(c.Last, i)
		pk, by := at(c.Packets, i), at(c.Bytes, i)
		a.add(pk, by, first, last)
		if a.either >= 0 {
			a.flowKey(c, i, 1)
			a.add(pk, by, first, last)
		}
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

func (a *Aggregator) add(packets, bytes uint64, first, last int64) {
	k := a.key
	w := a.width
	mask := uint64(len(a.slots) - 1)
	for j := hashKey(k) & mask; ; j = (j + 1) & mask {
		s := a.slots[j]
		if s == 0 {
			g := int32(a.groups)
			a.keys = append(a.keys, k...)
			a.accs = append(a.accs, acc{flows: 1, packets: packets, bytes: bytes, first: first, last: last})
			a.slots[j] = g + 1
			a.groups++
			if 2*a.groups > len(a.slots) {
				a.grow()
			}
			return
		}
		g := int(s - 1)
		if equalKey(a.keys[g*w:g*w+w], k) {
			ac := &a.accs[g]
			ac.flows++
			ac.packets += packets
			ac.bytes += bytes
			ac.first = min(ac.first, first)
			ac.last = max(ac.last, last)
			return
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
	slots := make([]int32, 2*len(a.slots))
	mask := uint64(len(slots) - 1)
	w := a.width
	for g := 0; g < a.groups; g++ {
		for j := hashKey(a.keys[g*w:g*w+w]) & mask; ; j = (j + 1) & mask {
			if slots[j] == 0 {
				slots[j] = int32(g + 1)
				break
			}
		}
	}
	a.slots = slots
}
