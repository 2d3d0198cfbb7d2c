package stats

import (
	"encoding/binary"
	"math/bits"
	"slices"

	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/detect/filter"
)

// The statistics responders ask for most (top talkers by address, top
// ports, protocols) group by one field without a time bin. For those,
// AddFlows runs a loop written for the key's type instead of building a
// word key per row: a port, protocol or flags value indexes a dense array
// directly, and an IPv4 address (masked) probes a table of 32-bit keys
// whose slots fit the L2 cache, with the totals in a parallel array. Rows
// the fast loop cannot key (IPv6 addresses) go through the general table.
// Before ranking, the small fields' totals are merged into the general
// table; the IPv4 groups, which no IPv6 group can equal, are appended to
// it as they are (unless a segment went the general way: then they are
// merged too). Either way the result does not depend on the path a row
// took (TestFastPathEqualsGeneral, TestFastPathMixedAndRepeated).

// fastKind says which specialised loop serves a spec.
type fastKind uint8

const (
	fastNone  fastKind = iota
	fastSmall          // one 8- or 16-bit field
	fastAddr           // one address field
)

// fastState holds the specialised accumulators between AddFlows calls.
type fastState struct {
	kind fastKind

	// fastSmall: totals indexed by the field's value; flows == 0 is absent.
	dense *[1 << 16]acc

	// fastAddr: totals by masked IPv4 address in one table, or, once there
	// are too many groups for the L2 cache, in 1<<partBits tables chosen by
	// the key's hash, filled partition by partition from staged rows.
	parts  []v4Table
	stage  [][]staged // per partition, reused between chunks
	staged int        // rows in stage, across AddFlows calls
	zero   acc        // the address 0 (0.0.0.0 and ::), which marks empty slots
	m4     uint32
	// mixed is set when some rows went through the general table although
	// the spec has a fast loop (a segment with a short column): its groups
	// may then overlap the fast ones and must be merged, not appended.
	mixed bool
}

// v4Table is an open-addressing table of IPv4 keys; keys[s] == 0 marks an
// empty slot, and accs[s] are the totals of keys[s].
type v4Table struct {
	keys   []uint32
	accs   []acc
	used   int
	shift  uint // 32 - log2(len(keys))
	hshift uint // bits of the hash that chose the partition, skipped here
}

// staged is one row waiting in its partition's buffer.
type staged struct {
	k              uint32
	first, last    int64
	packets, bytes uint64
}

const (
	// partBits partitions the groups into 16 tables once one table
	// outgrows about half the L2 cache (a table of N slots takes 44N
	// bytes): 131,072 groups make 16 tables of about 700 KB.
	partBits  = 4
	partAbove = 1 << 13 // groups in the single table before partitioning
	// chunkRows rows (40 bytes each, 42 MB at most) are staged before the
	// partitions are filled, so that each partition's table, loaded into
	// the cache once per chunk, takes many rows. Measured on 10 M flows
	// over 131,072 sources (BenchmarkAggregateSrcIP): 16 partitions and
	// 2^20 rows took 60-90 ns a flow; 256 partitions and 2^17 rows
	// 100-140 ns; one table 135-160 ns.
	chunkRows = 1 << 20
)

// planFast picks the specialised loop for the spec, if there is one.
func (a *Aggregator) planFast() {
	if a.binOff >= 0 || len(a.parts) != 1 {
		return
	}
	switch p := &a.parts[0]; p.Field {
	case SrcPort, DstPort, Port, Proto, Flags, VLAN:
		a.fast.kind = fastSmall
	case SrcIP, DstIP, IP, Exporter:
		a.fast.kind = fastAddr
		a.fast.m4 = uint32(p.m4lo)
	}
}

// addFast adds the rows of c with the specialised loop (an either-side
// field adds each row twice). It returns false, having added nothing, when
// a column the loop reads is shorter than N (a sparse column): the general
// path takes those rows.
func (a *Aggregator) addFast(c *filter.FlowColumns, sel []int32) bool {
	n := c.N
	if len(c.First) < n || len(c.Last) < n || len(c.Packets) < n || len(c.Bytes) < n {
		return false
	}
	t := &timeCols{first: c.First[:n], last: c.Last[:n], packets: c.Packets[:n], bytes: c.Bytes[:n]}
	p := &a.parts[0]
	switch a.fast.kind {
	case fastSmall:
		var k8 []uint8
		var k16 []uint16
		switch p.Field {
		case SrcPort:
			k16 = c.SrcPort
		case DstPort:
			k16 = c.DstPort
		case Port:
			if len(c.SrcPort) < n || len(c.DstPort) < n {
				return false
			}
			a.ensureDense()
			addDense(a.fast.dense, c.SrcPort[:n], sel, t)
			addDense(a.fast.dense, c.DstPort[:n], sel, t)
			return true
		case VLAN:
			k16 = c.VLAN
		case Proto:
			k8 = c.Proto
		case Flags:
			k8 = c.TCPFlags
		}
		if k8 != nil || p.Field == Proto || p.Field == Flags {
			if len(k8) < n {
				return false
			}
			a.ensureDense()
			addDense(a.fast.dense, k8[:n], sel, t)
			return true
		}
		if len(k16) < n {
			return false
		}
		a.ensureDense()
		addDense(a.fast.dense, k16[:n], sel, t)
		return true
	case fastAddr:
		switch p.Field {
		case SrcIP:
			return a.addAddrs(c, c.Src, sel, t, 0)
		case DstIP:
			return a.addAddrs(c, c.Dst, sel, t, 0)
		case Exporter:
			return a.addAddrs(c, c.Exporter, sel, t, 0)
		case IP:
			if len(c.Src) < n || len(c.Dst) < n {
				return false
			}
			a.addAddrs(c, c.Src, sel, t, 0)
			a.addAddrs(c, c.Dst, sel, t, 1)
			return true
		}
	}
	return false
}

// timeCols are the value columns every flow statistic adds up, cut to N.
type timeCols struct {
	first, last    []int64
	packets, bytes []uint64
}

func (a *Aggregator) ensureDense() {
	if a.fast.dense == nil {
		a.fast.dense = new([1 << 16]acc)
	}
}

// addDense adds rows keyed by an 8- or 16-bit column; indexing a 65,536-entry
// array by such a value needs no bounds check.
func addDense[K uint8 | uint16](d *[1 << 16]acc, keys []K, sel []int32, t *timeCols) {
	n := len(keys)
	first, last, pk, by := t.first[:n], t.last[:n], t.packets[:n], t.bytes[:n]
	if sel == nil {
		for i, k := range keys {
			d[k].add(first[i], last[i], pk[i], by[i])
		}
		return
	}
	for _, i := range sel {
		if uint(i) >= uint(n) {
			continue
		}
		d[keys[i]].add(first[i], last[i], pk[i], by[i])
	}
}

// add counts one flow.
func (e *acc) add(first, last int64, packets, bytes uint64) {
	if e.flows == 0 {
		e.first, e.last = first, last
	}
	e.flows++
	e.packets += packets
	e.bytes += bytes
	e.first = min(e.first, first)
	e.last = max(e.last, last)
}

const v4MappedWord = 0xffff << 16 // bytes 8..11 of ::ffff:a.b.c.d, read little-endian

// addAddrs adds one address column (side 1 is the destination of an
// either-side field, for the rows that fall back to the general path).
// Random updates of a table larger than the cache cost a cache and a TLB
// miss each, so with many groups rows are first staged by partition (across
// calls, so that a caller may add a table in small chunks), then each
// partition's table, small enough to stay cached, takes its rows in one go.
func (a *Aggregator) addAddrs(c *filter.FlowColumns, addrs []flow.Addr, sel []int32, t *timeCols, side int) bool {
	n := c.N
	if len(addrs) < n {
		return false
	}
	addrs = addrs[:n]
	f := &a.fast
	if f.parts == nil {
		f.parts = []v4Table{newV4Table(12, 0)}
	}
	if sel == nil {
		for i := range addrs {
			a.addAddrRow(c, addrs, t, side, i)
		}
		return true
	}
	for _, i := range sel {
		if uint(i) < uint(n) {
			a.addAddrRow(c, addrs, t, side, int(i))
		}
	}
	return true
}

// addAddrRow adds row i: an IPv4 address to the single table or its
// partition's staging buffer, an IPv6 address through the general path.
func (a *Aggregator) addAddrRow(c *filter.FlowColumns, addrs []flow.Addr, t *timeCols, side, i int) {
	ad := &addrs[i]
	w0 := binary.LittleEndian.Uint64(ad[0:8])
	w1 := binary.LittleEndian.Uint64(ad[8:16])
	if w0 != 0 || uint32(w1) != v4MappedWord {
		if w0 != 0 || w1 != 0 {
			a.flowKey(c, i, side)
			a.add(t.packets[i], t.bytes[i], t.first[i], t.last[i])
			return
		}
		w1 = 0 // :: groups with 0.0.0.0, as in the general path
	}
	f := &a.fast
	k := bits.ReverseBytes32(uint32(w1>>32)) & f.m4
	if k == 0 {
		f.zero.add(t.first[i], t.last[i], t.packets[i], t.bytes[i])
		return
	}
	if len(f.parts) == 1 {
		f.parts[0].slot(k).add(t.first[i], t.last[i], t.packets[i], t.bytes[i])
		if f.parts[0].used > partAbove {
			f.partition()
		}
		return
	}
	p := (k * 0x9e3779b1) >> (32 - partBits)
	f.stage[p] = append(f.stage[p], staged{k, t.first[i], t.last[i], t.packets[i], t.bytes[i]})
	if f.staged++; f.staged >= chunkRows {
		f.drain()
	}
}

func newV4Table(bits, hshift uint) v4Table {
	return v4Table{keys: make([]uint32, 1<<bits), accs: make([]acc, 1<<bits), shift: 32 - bits, hshift: hshift}
}

// partition moves the single table's groups into 1<<partBits tables.
func (f *fastState) partition() {
	one := f.parts[0]
	f.parts = make([]v4Table, 1<<partBits)
	f.stage = make([][]staged, 1<<partBits)
	for p := range f.parts {
		f.parts[p] = newV4Table(8, partBits)
		// A chunk spreads evenly over the partitions, give or take: room
		// for a quarter more saves most of append's copying.
		f.stage[p] = make([]staged, 0, chunkRows>>partBits*5/4)
	}
	for s, k := range one.keys {
		if k != 0 {
			*f.parts[(k*0x9e3779b1)>>(32-partBits)].slot(k) = one.accs[s]
		}
	}
}

// drain adds the staged rows, one partition at a time.
func (f *fastState) drain() {
	if len(f.parts) == 1 {
		return
	}
	for p, rows := range f.stage {
		tab := &f.parts[p]
		for j := range rows {
			r := &rows[j]
			tab.slot(r.k).add(r.first, r.last, r.packets, r.bytes)
		}
		f.stage[p] = rows[:0]
	}
	f.staged = 0
}

// hash is the slot hash of key k: its top bits pick the slot. A
// partitioned table skips the bits that picked the partition.
func (t *v4Table) hash(k uint32) uint32 { return (k * 0x9e3779b1) << t.hshift }

// slot returns the totals of key k, inserting it if it is new.
func (t *v4Table) slot(k uint32) *acc {
	mask := uint32(len(t.keys) - 1)
	for s := t.hash(k) >> t.shift; ; s = (s + 1) & mask {
		switch t.keys[s] {
		case k:
			return &t.accs[s]
		case 0:
			t.keys[s] = k
			t.used++
			if 2*t.used > len(t.keys) {
				t.grow()
				return t.slot(k)
			}
			return &t.accs[s]
		}
	}
}

// grow doubles the table.
func (t *v4Table) grow() {
	keys, accs := t.keys, t.accs
	*t = v4Table{keys: make([]uint32, 2*len(keys)), accs: make([]acc, 2*len(keys)),
		used: t.used, shift: t.shift - 1, hshift: t.hshift}
	mask := uint32(len(t.keys) - 1)
	for j, k := range keys {
		if k == 0 {
			continue
		}
		s := t.hash(k) >> t.shift
		for t.keys[s] != 0 {
			s = (s + 1) & mask
		}
		t.keys[s], t.accs[s] = k, accs[j]
	}
}

// finishAddr lays the groups out for ranking when the general table holds
// only IPv6 groups, which no IPv4 key of the fast table can equal: both
// are copied out as they are, without hashing the IPv4 groups into the
// general table first. With millions of sources (a spoofed flood) that
// table was most of the memory stats needed. Nothing is consumed, so Top
// may be called again, and rows added after it.
func (a *Aggregator) finishAddr() {
	f := &a.fast
	f.drain()
	n := a.groups + 1
	for p := range f.parts {
		n += f.parts[p].used
	}
	a.keys = slices.Grow(a.keys[:0], n*a.width)
	a.accs = slices.Grow(a.accs[:0], n)
	a.appendTable()
	f.eachV4(func(k uint32, e *acc) {
		hi, lo := v4Words(k)
		a.keys = append(a.keys, hi, lo) // one address part, no bin: the whole key
		a.accs = append(a.accs, *e)
	})
}

// v4Words are the general table's key words of an IPv4 address:
// ::ffff:a.b.c.d as two big-endian words.
func v4Words(k uint32) (hi, lo uint64) { return 0, 0xffff<<32 | uint64(k) }

// eachV4 calls fn with every IPv4 group of the fast tables (drained).
func (f *fastState) eachV4(fn func(k uint32, e *acc)) {
	if f.zero.flows != 0 {
		fn(0, &f.zero)
	}
	for p := range f.parts {
		t := &f.parts[p]
		for s, k := range t.keys {
			if k != 0 {
				fn(k, &t.accs[s])
			}
		}
	}
}

// mergeFast moves the specialised totals into the general table and
// empties them, so that ranking sees every group in one place.
func (a *Aggregator) mergeFast() {
	f := &a.fast
	switch f.kind {
	case fastSmall:
		if f.dense == nil {
			return
		}
		for v := range f.dense {
			if e := &f.dense[v]; e.flows != 0 {
				a.key[a.parts[0].off] = uint64(v)
				a.addHashed(a.key, hashKey(a.key), *e)
			}
		}
		f.dense = nil
	case fastAddr:
		f.drain()
		f.eachV4(func(k uint32, e *acc) {
			off := a.parts[0].off
			a.key[off], a.key[off+1] = v4Words(k)
			a.addHashed(a.key, hashKey(a.key), *e)
		})
		*f = fastState{kind: f.kind, m4: f.m4, mixed: f.mixed}
	}
}
