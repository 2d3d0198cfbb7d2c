// Package assemble turns decoded IP packets into unidirectional flow
// records with NetFlow semantics, the way a NetFlow exporter (softflowd,
// nfpcapd, pmacctd) would have reported the same traffic.
//
// # Flow semantics
//
// A flow is keyed by (src ip, dst ip, src port, dst port, protocol, VLAN)
// and counts packets and bytes (the IP header's length, packet.Info.IPLen),
// the first and last timestamp, the OR of the TCP flags, the ToS of its
// first packet and the evidence index of the packet that opened it.
//
// A flow ends when
//   - a TCP packet with FIN or RST is added to it (exported right after
//     that packet; a later packet of the same key starts a new flow);
//   - a packet arrives at ts with ts - First >= ActiveTimeout (the old flow
//     is exported first and the packet starts a new one);
//   - it has been idle longer than InactiveTimeout. Time is the largest
//     timestamp seen so far, so it never goes backwards when a capture is
//     not in time order (merged pcapng); "idle" is measured on that clock
//     from the flow's last packet;
//   - the table holds MaxFlows flows and a new one must be created: the
//     least recently seen flow is exported to make room;
//   - Flush is called.
//
// Expiry is O(1) amortised per packet: flows sit in a list ordered by
// last activity (an intrusive list of int32 indices over a slab of flow
// states, so the garbage collector has nothing to scan) and only the
// list's front is ever examined.
//
// # Emit order
//
// emit is called synchronously from Add and Flush, so the sequence of
// records is a function of the input alone. Within one Add: first the
// flows that became idle (least recently seen first), then fragment
// datagrams given up by the tracker (see below), then, for the packet's
// own flow, the old flow ended by the active timeout or the flow evicted
// because the table is full, and last the packet's flow if it carried FIN
// or RST. Flush first gives up every pending fragment, then exports the
// remaining flows ordered by (First, key) with the key compared as src,
// dst, src port, dst port, protocol, VLAN.
//
// # Fragments
//
// Non-first fragments carry no ports. A first fragment records its ports
// in a bounded tracker keyed by (src, dst, fragment id, VLAN and, for IPv4,
// protocol); later fragments of the datagram are counted in that flow.
// Fragments that arrive before their first fragment are held (as one
// aggregate per datagram, so holding costs no memory per fragment) and
// counted in the flow once the first fragment shows up; if it never does
// (FragmentTimeout, tracker full, Flush) they are counted in a flow with
// ports 0. Either way every IP packet is counted exactly once: over all
// emitted records, packets and bytes equal Stats.Packets and Stats.Bytes.
package assemble

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"
	"unsafe"

	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/decode/packet"
)

// Defaults used for zero (or negative) Options fields.
const (
	DefaultActiveTimeout      = 1800 * time.Second
	DefaultInactiveTimeout    = 15 * time.Second
	DefaultMaxFlows           = 1 << 20
	DefaultMaxFragments       = 1 << 16
	DefaultFragmentTimeout    = 30 * time.Second
	DefaultMaxReassemblyBytes = 16 << 20
	// MaxDatagram bounds one reassembled datagram: the largest IP payload
	// a 16-bit length field can describe.
	MaxDatagram = 65535
)

// Options tunes an Assembler. Zero values select the defaults.
type Options struct {
	ActiveTimeout   time.Duration // default 1800 s
	InactiveTimeout time.Duration // default 15 s
	// MaxFlows bounds the flow table (default 1<<20, about 170 MB at
	// worst); when it is full the least recently seen flow is exported.
	MaxFlows int
	// MaxFragments bounds the fragment tracker (datagrams, default 65536).
	MaxFragments int
	// FragmentTimeout is how long a fragmented datagram is tracked after
	// its last fragment (default 30 s, Linux's ipfrag_time).
	FragmentTimeout time.Duration
	// MaxReassemblyBytes caps the memory buffered for UDP reassembly
	// (default 16 MiB). Datagrams that would exceed it are dropped (and
	// counted in Stats); their packets are still counted in flows.
	MaxReassemblyBytes int

	// OnDatagram, when set, receives every complete UDP datagram: an
	// unfragmented one directly (payload is info.Payload), a fragmented
	// one once all its fragments arrived, reassembled. For a reassembled
	// datagram info carries the first fragment's header fields, info.L4
	// the whole reassembled UDP datagram and info.Payload its payload
	// bounded by the UDP length field. It runs synchronously inside the Add
	// of the packet that completed the datagram, after that packet was
	// counted, so that Add's frame length and evidence index apply. info
	// and payload are valid only during the call. Fragmented datagrams
	// still incomplete at Flush are dropped and counted.
	OnDatagram func(ts int64, info *packet.Info, payload []byte)
	// OnTCPSegment, when set, receives every unfragmented TCP packet that
	// carries payload (len(info.Payload) > 0), synchronously inside Add.
	OnTCPSegment func(ts int64, info *packet.Info)
	// OnProblem, when set, receives each fragment problem (see Problem)
	// synchronously inside the Add of the packet that ran into it, so the
	// caller can name that packet. It must not call back into the
	// Assembler. Every problem is also counted in Stats.
	OnProblem func(Problem)
}

// ProblemKind is what went wrong with a fragmented datagram.
type ProblemKind uint8

const (
	// TrackerFull: MaxFragments datagrams were tracked when a fragment
	// of another one arrived, so the least recently seen datagram
	// (Problem's addresses and id) was given up: its held fragments count
	// in a flow with ports 0, its reassembly is dropped, and its later
	// fragments can no longer be given their ports. A bound spotctl keeps
	// against fragment floods: the results are partial.
	TrackerFull ProblemKind = iota + 1
	// ReassemblyMemory: MaxReassemblyBytes are buffered, so this
	// datagram is not reassembled (its packets still count in flows).
	// Also a bound: partial results.
	ReassemblyMemory
	// ReassemblyTooLarge: the fragments reach past MaxDatagram (65535
	// bytes, what a receiving host would refuse too).
	ReassemblyTooLarge
	// ReassemblyBad: fragments that overlap with different bytes (the
	// overlap evasion of RFC 5722, which says drop the datagram), a
	// non-last fragment off the 8-byte grid, two different ends, or a
	// UDP length that disagrees with the reassembled size.
	ReassemblyBad
)

var problemNames = [...]string{"", "fragment tracker full", "reassembly memory full", "reassembled datagram too large", "inconsistent fragments"}

func (k ProblemKind) String() string {
	if int(k) < len(problemNames) && k != 0 {
		return problemNames[k]
	}
	return "fragment problem"
}

// Problem is one fragmented datagram the Assembler could not handle in
// full. The addresses and id are the datagram's (for TrackerFull, the one
// given up).
type Problem struct {
	Kind     ProblemKind
	Src, Dst flow.Addr
	ID       uint32 // IP identification (IPv6: the fragment header's)
	IPv6     bool
	Limit    int // the bound for TrackerFull (MaxFragments) and ReassemblyMemory (MaxReassemblyBytes)
}

func (p Problem) Error() string {
	v := "IPv4"
	if p.IPv6 {
		v = "IPv6"
	}
	d := fmt.Sprintf("%s datagram %s → %s id %d", v, p.Src, p.Dst, p.ID)
	switch p.Kind {
	case TrackerFull:
		return fmt.Sprintf("%s: %d datagrams tracked (MaxFragments): gave up on %s; its fragments are counted in flows, some without ports", p.Kind, p.Limit, d)
	case ReassemblyMemory:
		return fmt.Sprintf("%s: %d bytes buffered (MaxReassemblyBytes): %s not reassembled; its fragments are counted in flows", p.Kind, p.Limit, d)
	case ReassemblyTooLarge:
		return fmt.Sprintf("%s: %s reaches past %d bytes; not reassembled", p.Kind, d, MaxDatagram)
	}
	return fmt.Sprintf("%s: %s: overlaps with different bytes, misaligned or disagreeing lengths; not reassembled", p.Kind, d)
}

// Stats counts what the Assembler did. After Flush, Packets and Bytes
// equal the sums of Packets and Bytes over every emitted record.
type Stats struct {
	Packets    uint64 // IP packets added
	Bytes      uint64 // sum of their IPLen
	FrameBytes uint64 // sum of the frame lengths passed to Add

	Flows       uint64 // records emitted
	ActiveFlows int    // flows in the table now
	// Why records were emitted.
	ExpiredInactive uint64
	ExpiredActive   uint64
	EndedFinRst     uint64
	EvictedFull     uint64
	Flushed         uint64

	Fragments         uint64 // fragment packets (IPv6 atomic fragments excluded)
	FragmentsHeld     uint64 // non-first fragments that arrived before their first fragment
	FragmentsOrphaned uint64 // held fragments given up and counted in a flow with ports 0
	FragmentEvictions uint64 // tracker entries dropped early because MaxFragments was reached

	Datagrams          uint64 // OnDatagram calls
	Reassembled        uint64 // of which were reassembled from fragments
	ReassemblyTooLarge uint64 // datagrams dropped: longer than MaxDatagram
	ReassemblyMemory   uint64 // datagrams dropped: MaxReassemblyBytes reached
	ReassemblyBad      uint64 // datagrams dropped: conflicting overlaps, bad fragment sizes, UDP length mismatch
	ReassemblyTimeout  uint64 // datagrams dropped incomplete (timeout, tracker eviction, Flush)
	TCPSegments        uint64 // OnTCPSegment calls
}

// key is the flow key as the table hashes it.
type key struct {
	src, dst flow.Addr
	ports    uint32 // src<<16 | dst
	pv       uint32 // proto | vlan<<8
}

func makeKey(src, dst flow.Addr, sport, dport uint16, proto uint8, vlan uint16) key {
	return key{src: src, dst: dst, ports: uint32(sport)<<16 | uint32(dport), pv: uint32(proto) | uint32(vlan)<<8}
}

func recordKey(r *state) key {
	return makeKey(r.Src, r.Dst, r.SrcPort, r.DstPort, r.Proto, r.VLAN)
}

// state is what the table keeps of an open flow: the packet-capture fields
// of flow.Record only. flow.Record also carries the flow-export fields
// (reverse counters, exporter, AS …), which a capture never fills; keeping
// them in every slot would double the table's memory (a slot is padded to
// 128 bytes; a full Record makes it 256), and a million concurrent flows
// must fit in the ingest's memory bound.
type state struct {
	First, Last      int64
	Src, Dst         flow.Addr
	Packets, Bytes   uint64
	Evidence         uint32
	SrcPort, DstPort uint16
	VLAN             uint16
	Proto, TCPFlags  uint8
	ToS              uint8
}

// record fills r from s for export.
func (s *state) record(r *flow.Record) {
	*r = flow.Record{
		First: s.First, Last: s.Last, Src: s.Src, Dst: s.Dst,
		SrcPort: s.SrcPort, DstPort: s.DstPort, Proto: s.Proto, TCPFlags: s.TCPFlags,
		ToS: s.ToS, VLAN: s.VLAN, Packets: s.Packets, Bytes: s.Bytes, Evidence: s.Evidence,
	}
}

// slot is one flow state in the slab. The list links live in the slot, on
// the cache lines a packet touches anyway.
type slot struct {
	slotData
	// Pad to a multiple of 128 bytes so a slot covers whole cache-line
	// pairs (the slab is page-aligned once large): a lookup then costs two
	// adjacent lines, never three.
	_ [(128 - unsafe.Sizeof(slotData{})%128) % 128]byte
}

type slotData struct {
	seen       int64 // clock at the flow's last packet; orders the list
	prev, next int32 // list by last activity; -1 at the ends
	rec        state
}

// contrib is what one packet (or a held group of fragments) adds to a flow.
type contrib struct {
	first, last    int64
	packets, bytes uint64
	flags, tos     uint8
	evidence       uint32
}

type reason int

const (
	reasonInactive reason = iota
	reasonActive
	reasonFinRst
	reasonFull
	reasonFlush
)

// Assembler is the flow table. It is not safe for concurrent use.
type Assembler struct {
	active, inactive int64
	maxFlows         int
	onDatagram       func(int64, *packet.Info, []byte)
	onTCP            func(int64, *packet.Info)
	onProblem        func(Problem)
	emit             func(*flow.Record)

	index      table
	slots      []slot
	head, tail int32 // least and most recently active flow; -1 when empty
	free       []int32
	now        int64

	frags fragTracker
	stats Stats
	out   flow.Record // the record handed to emit, reused
}

// New returns an Assembler that hands each finished flow to emit. The
// record passed to emit is only valid during the call (copy it to keep
// it), and emit must not call back into the Assembler.
func New(opts Options, emit func(*flow.Record)) *Assembler {
	if opts.ActiveTimeout <= 0 {
		opts.ActiveTimeout = DefaultActiveTimeout
	}
	if opts.InactiveTimeout <= 0 {
		opts.InactiveTimeout = DefaultInactiveTimeout
	}
	if opts.MaxFlows <= 0 {
		opts.MaxFlows = DefaultMaxFlows
	}
	if opts.MaxFragments <= 0 {
		opts.MaxFragments = DefaultMaxFragments
	}
	if opts.FragmentTimeout <= 0 {
		opts.FragmentTimeout = DefaultFragmentTimeout
	}
	if opts.MaxReassemblyBytes <= 0 {
		opts.MaxReassemblyBytes = DefaultMaxReassemblyBytes
	}
	if emit == nil {
		emit = func(*flow.Record) {}
	}
	a := &Assembler{
		active:     int64(opts.ActiveTimeout),
		inactive:   int64(opts.InactiveTimeout),
		maxFlows:   opts.MaxFlows,
		onDatagram: opts.OnDatagram,
		onTCP:      opts.OnTCPSegment,
		onProblem:  opts.OnProblem,
		emit:       emit,
		index:      newTable(),
		head:       -1,
		tail:       -1,
		now:        math.MinInt64,
	}
	a.frags.init(opts, a)
	return a
}

// Stats returns the counters so far.
func (a *Assembler) Stats() Stats {
	s := a.stats
	s.ActiveFlows = a.index.n
	return s
}

// Add accounts one IP packet (info from packet.Decoder.Decode returning
// nil) captured at ts (Unix ns) in a frame of frameLen bytes from evidence
// file number evidence. info is only read during the call.
func (a *Assembler) Add(ts int64, info *packet.Info, frameLen uint32, evidence uint32) {
	a.stats.Packets++
	a.stats.Bytes += uint64(info.IPLen)
	a.stats.FrameBytes += uint64(frameLen)
	a.advance(ts)

	if info.Fragment && (info.FragOffset != 0 || info.MoreFrags) {
		a.fragment(ts, info, evidence)
		return
	}
	c := contrib{first: ts, last: ts, packets: 1, bytes: uint64(info.IPLen), flags: info.TCPFlags, tos: info.ToS, evidence: evidence}
	k := makeKey(info.Src, info.Dst, info.SrcPort, info.DstPort, info.Proto, info.VLAN)
	a.count(&k, &c)

	switch info.Proto {
	case flow.ProtoUDP:
		if a.onDatagram != nil && info.Payload != nil {
			a.stats.Datagrams++
			a.onDatagram(ts, info, info.Payload)
		}
	case flow.ProtoTCP:
		if a.onTCP != nil && len(info.Payload) > 0 {
			a.stats.TCPSegments++
			a.onTCP(ts, info)
		}
	}
}

// advance moves the clock to ts if it is later and expires what became
// idle: flows first, then fragment datagrams.
func (a *Assembler) advance(ts int64) {
	if ts > a.now {
		a.now = ts
	}
	for h := a.head; h >= 0 && longer(a.now, a.slots[h].seen, a.inactive); h = a.head {
		a.export(h, reasonInactive)
	}
	a.frags.expire(a.now)
}

// lookup finds flow k: its slot (or -1), the table position where the
// probe ended (k's entry, or the empty entry where it would go) and the
// hash.
func (a *Assembler) lookup(k *key) (int32, uint32, uint32) {
	h := a.index.hash(k)
	t := &a.index
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		e := t.ents[i]
		if e.idx == 0 {
			return -1, i, h
		}
		if e.h == h {
			r := &a.slots[e.idx-1].rec
			if r.Src == k.src && r.Dst == k.dst && uint32(r.SrcPort)<<16|uint32(r.DstPort) == k.ports &&
				uint32(r.Proto)|uint32(r.VLAN)<<8 == k.pv {
				return int32(e.idx - 1), i, h
			}
		}
	}
}

// longer reports whether to - from > d, without overflow for any
// timestamps (a crafted capture may hold any 64-bit time).
func longer(to, from, d int64) bool {
	return to > from && uint64(to-from) > uint64(d)
}

// count adds c to the flow k, creating or splitting it as the rules say.
func (a *Assembler) count(k *key, c *contrib) {
	idx, pos, h := a.lookup(k)
	if idx >= 0 {
		if first := a.slots[idx].rec.First; c.last >= first && uint64(c.last-first) >= uint64(a.active) {
			a.export(idx, reasonActive)
			idx = -1
			_, pos, _ = a.lookup(k)
		}
	}
	if idx >= 0 {
		a.unlink(idx)
		a.pushBack(idx)
		s := &a.slots[idx]
		s.rec.First = min(s.rec.First, c.first)
		s.rec.Last = max(s.rec.Last, c.last)
	} else {
		if a.index.n >= a.maxFlows {
			a.export(a.head, reasonFull)
			_, pos, _ = a.lookup(k) // the removal may have shifted entries
		}
		idx = a.alloc()
		a.index.insertAt(pos, h, idx)
		a.pushBack(idx)
		a.slots[idx].rec = state{
			First: c.first, Last: c.last,
			Src: k.src, Dst: k.dst,
			SrcPort: uint16(k.ports >> 16), DstPort: uint16(k.ports),
			Proto: uint8(k.pv), VLAN: uint16(k.pv >> 8),
			ToS: c.tos, Evidence: c.evidence,
		}
	}
	s := &a.slots[idx]
	s.seen = a.now
	s.rec.Packets += c.packets
	s.rec.Bytes += c.bytes
	s.rec.TCPFlags |= c.flags
	if s.rec.Proto == flow.ProtoTCP && c.flags&(flow.TCPFin|flow.TCPRst) != 0 {
		a.export(idx, reasonFinRst)
	}
}

func (a *Assembler) pushBack(i int32) {
	s := &a.slots[i]
	s.prev, s.next = a.tail, -1
	if a.tail >= 0 {
		a.slots[a.tail].next = i
	} else {
		a.head = i
	}
	a.tail = i
}

func (a *Assembler) unlink(i int32) {
	s := &a.slots[i]
	if s.prev >= 0 {
		a.slots[s.prev].next = s.next
	} else {
		a.head = s.next
	}
	if s.next >= 0 {
		a.slots[s.next].prev = s.prev
	} else {
		a.tail = s.prev
	}
	s.prev, s.next = -1, -1
}

func (a *Assembler) alloc() int32 {
	if n := len(a.free); n > 0 {
		idx := a.free[n-1]
		a.free = a.free[:n-1]
		return idx
	}
	a.slots = append(a.slots, slot{})
	return int32(len(a.slots) - 1)
}

func (a *Assembler) export(idx int32, why reason) {
	s := &a.slots[idx]
	switch why {
	case reasonInactive:
		a.stats.ExpiredInactive++
	case reasonActive:
		a.stats.ExpiredActive++
	case reasonFinRst:
		a.stats.EndedFinRst++
	case reasonFull:
		a.stats.EvictedFull++
	case reasonFlush:
		a.stats.Flushed++
	}
	a.stats.Flows++
	s.rec.record(&a.out)
	a.emit(&a.out)
	k := recordKey(&s.rec)
	a.index.remove(a.index.hash(&k), idx)
	a.unlink(idx)
	s.rec = state{}
	a.free = append(a.free, idx)
}

// Flush ends the input: pending fragments are given up (counted in flows
// with ports 0), incomplete reassemblies dropped, and every remaining flow
// is exported ordered by (First, key). The Assembler is then empty and its
// clock reset, ready for unrelated input; Stats keep accumulating.
func (a *Assembler) Flush() {
	a.frags.flush()
	live := make([]int32, 0, a.index.n)
	for i := a.head; i >= 0; i = a.slots[i].next {
		live = append(live, i)
	}
	slices.SortFunc(live, func(x, y int32) int {
		rx, ry := &a.slots[x].rec, &a.slots[y].rec
		if c := cmp.Compare(rx.First, ry.First); c != 0 {
			return c
		}
		return compareKeys(rx, ry)
	})
	for _, idx := range live {
		a.export(idx, reasonFlush)
	}
	a.now = math.MinInt64
	// Drop the memory a burst of flows made the table grow to.
	a.index.reset()
	a.slots, a.free = nil, nil
}

func compareKeys(x, y *state) int {
	if c := bytes.Compare(x.Src[:], y.Src[:]); c != 0 {
		return c
	}
	if c := bytes.Compare(x.Dst[:], y.Dst[:]); c != 0 {
		return c
	}
	if c := cmp.Compare(x.SrcPort, y.SrcPort); c != 0 {
		return c
	}
	if c := cmp.Compare(x.DstPort, y.DstPort); c != 0 {
		return c
	}
	if c := cmp.Compare(x.Proto, y.Proto); c != 0 {
		return c
	}
	return cmp.Compare(x.VLAN, y.VLAN)
}
