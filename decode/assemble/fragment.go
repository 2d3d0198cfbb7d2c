package assemble

import (
	"bytes"
	"encoding/binary"
	"unsafe"

	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/decode/packet"
)

// fragKey identifies a fragmented datagram. IPv4 includes the protocol
// (RFC 791); IPv6 does not (RFC 8200), because a non-first fragment's next
// header names the fragmentable part's first header, which need not be the
// transport protocol.
type fragKey struct {
	src, dst flow.Addr
	id       uint32
	pv       uint32 // proto (IPv4 only) | vlan<<8 | ipv6<<24
}

// fragEntry tracks one datagram: the ports of its first fragment once
// seen, the fragments held until then, and an optional reassembly.
type fragEntry struct {
	k     fragKey
	seen  int64
	known bool // first fragment seen: sport, dport, proto are valid
	sport uint16
	dport uint16
	proto uint8

	pend      contrib // non-first fragments held while the first is unknown
	pendProto uint8   // protocol to count them under if given up

	rs     *reassembly // buffer while reassembling for OnDatagram
	rsOver bool        // reassembly delivered or dropped: ignore later fragments
}

type fragTracker struct {
	a        *Assembler
	max      int
	timeout  int64
	maxBytes int

	index   map[fragKey]int32
	entries []fragEntry
	list    lru
	free    []int32

	bufBytes int           // bytes held by reassemblies (structs and buffers), live or spare
	spare    []*reassembly // released reassemblies, kept for reuse
}

func (t *fragTracker) init(opts Options, a *Assembler) {
	t.a = a
	t.max = opts.MaxFragments
	t.timeout = int64(opts.FragmentTimeout)
	t.maxBytes = opts.MaxReassemblyBytes
	t.index = make(map[fragKey]int32)
	t.list = newLRU()
}

// fragment accounts a fragment (not an atomic IPv6 one).
func (a *Assembler) fragment(ts int64, info *packet.Info, evidence uint32) {
	a.stats.Fragments++
	t := &a.frags
	pv := uint32(info.VLAN) << 8
	if info.IPv6 {
		pv |= 1 << 24
	} else {
		pv |= uint32(info.Proto)
	}
	fk := fragKey{src: info.Src, dst: info.Dst, id: info.FragID, pv: pv}
	idx, ok := t.index[fk]
	if !ok {
		idx = t.add(fk)
	} else {
		t.list.moveToBack(idx)
	}
	e := &t.entries[idx]
	e.seen = a.now
	c := contrib{first: ts, last: ts, packets: 1, bytes: uint64(info.IPLen), tos: info.ToS, evidence: evidence}

	if info.FragOffset == 0 {
		e.known = true
		e.sport, e.dport, e.proto = info.SrcPort, info.DstPort, info.Proto
		k := makeKey(info.Src, info.Dst, e.sport, e.dport, e.proto, info.VLAN)
		if e.pend.packets > 0 {
			// Held fragments arrived first: count them first, in arrival
			// order, then the first fragment.
			p := e.pend
			e.pend = contrib{}
			a.count(&k, &p)
		}
		c.flags = info.TCPFlags
		a.count(&k, &c)
	} else if e.known {
		k := makeKey(info.Src, info.Dst, e.sport, e.dport, e.proto, info.VLAN)
		a.count(&k, &c)
	} else {
		a.stats.FragmentsHeld++
		if e.pend.packets == 0 {
			e.pend = c
		} else {
			e.pend.first = min(e.pend.first, ts)
			e.pend.last = max(e.pend.last, ts)
			e.pend.packets++
			e.pend.bytes += c.bytes
		}
		e.pendProto = info.Proto
	}

	// IPv6 non-first fragments do not say whether the datagram is UDP,
	// so buffer them all (bounded) and check the first fragment at the end.
	if a.onDatagram != nil && !e.rsOver && (info.IPv6 || info.Proto == flow.ProtoUDP) {
		t.reassemble(idx, ts, info)
	}
}

// add creates a tracker entry, making room first if the tracker is full.
func (t *fragTracker) add(fk fragKey) int32 {
	if len(t.index) >= t.max {
		t.a.stats.FragmentEvictions++
		t.problem(TrackerFull, &t.entries[t.list.head], t.max)
		t.giveUp(t.list.head)
	}
	var idx int32
	if n := len(t.free); n > 0 {
		idx = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		t.entries = append(t.entries, fragEntry{})
		t.list.grow(len(t.entries))
		idx = int32(len(t.entries) - 1)
	}
	t.entries[idx] = fragEntry{k: fk}
	t.index[fk] = idx
	t.list.pushBack(idx)
	return idx
}

// giveUp drops a tracker entry: held fragments are counted in a flow with
// ports 0 and an unfinished reassembly is dropped.
func (t *fragTracker) giveUp(idx int32) {
	e := &t.entries[idx]
	if e.rs != nil {
		t.a.stats.ReassemblyTimeout++
		t.release(e)
	}
	p := e.pend
	k := makeKey(e.k.src, e.k.dst, 0, 0, e.pendProto, uint16(e.k.pv>>8))
	delete(t.index, e.k)
	t.list.remove(idx)
	*e = fragEntry{}
	t.free = append(t.free, idx)
	if p.packets > 0 {
		t.a.stats.FragmentsOrphaned += p.packets
		t.a.count(&k, &p)
	}
}

func (t *fragTracker) expire(now int64) {
	for h := t.list.head; h >= 0 && longer(now, t.entries[h].seen, t.timeout); h = t.list.head {
		t.giveUp(h)
	}
}

// flush gives up every entry, oldest first.
func (t *fragTracker) flush() {
	for t.list.head >= 0 {
		t.giveUp(t.list.head)
	}
}

// reassembly buffers one fragmented UDP datagram. Coverage is tracked in
// 8-byte blocks (fragment offsets are multiples of 8), in a fixed bitmap
// large enough for MaxDatagram.
type reassembly struct {
	buf      []byte
	have     [(MaxDatagram + 8*64 - 1) / (8 * 64)]uint64
	blocks   int // distinct blocks received
	total    int // datagram length once the last fragment arrived, else -1
	l4off    int // offset of the UDP header in the first fragment's data
	first    packet.Info
	gotFirst bool
}

func (t *fragTracker) reassemble(idx int32, ts int64, info *packet.Info) {
	a := t.a
	e := &t.entries[idx]
	if e.rs == nil {
		if e.rs = t.get(); e.rs == nil {
			a.stats.ReassemblyMemory++
			t.problem(ReassemblyMemory, e, t.maxBytes)
			e.rsOver = true
			return
		}
	}
	r := e.rs
	data := info.FragData
	off := int(info.FragOffset)
	end := off + len(data)
	if end > MaxDatagram {
		a.stats.ReassemblyTooLarge++
		t.problem(ReassemblyTooLarge, e, MaxDatagram)
		t.fail(e)
		return
	}
	if info.MoreFrags && len(data)%8 != 0 {
		// Only the last fragment may end off the 8-byte grid (and a
		// snaplen-cut fragment would leave a hole anyway).
		a.stats.ReassemblyBad++
		t.problem(ReassemblyBad, e, 0)
		t.fail(e)
		return
	}
	if !info.MoreFrags {
		if r.total >= 0 && r.total != end {
			a.stats.ReassemblyBad++
			t.problem(ReassemblyBad, e, 0)
			t.fail(e)
			return
		}
		r.total = end
	}
	if r.total >= 0 && end > r.total {
		a.stats.ReassemblyBad++
		t.problem(ReassemblyBad, e, 0)
		t.fail(e)
		return
	}
	if end > len(r.buf) {
		if end > cap(r.buf) {
			newCap := max(2*cap(r.buf), end, 1024)
			newCap = min(newCap, MaxDatagram)
			if t.bufBytes-cap(r.buf)+newCap > t.maxBytes {
				a.stats.ReassemblyMemory++
				t.problem(ReassemblyMemory, e, t.maxBytes)
				t.fail(e)
				return
			}
			nb := make([]byte, end, newCap)
			copy(nb, r.buf)
			t.bufBytes += newCap - cap(r.buf)
			r.buf = nb
		} else {
			r.buf = r.buf[:end]
		}
	}
	// Copy block by block: new blocks are stored, blocks seen before must
	// hold the same bytes (a retransmitted duplicate). Overlaps that
	// disagree are how fragment-overlap evasion works; RFC 5722 says drop
	// the datagram, and so do we rather than pick one reading.
	for b := off / 8; b*8 < end; b++ {
		lo, hi := b*8, min(b*8+8, end)
		src := data[lo-off : hi-off]
		if r.have[b/64]&(1<<(b%64)) != 0 {
			if !bytes.Equal(r.buf[lo:hi], src) {
				a.stats.ReassemblyBad++
				t.problem(ReassemblyBad, e, 0)
				t.fail(e)
				return
			}
			continue
		}
		copy(r.buf[lo:hi], src)
		r.have[b/64] |= 1 << (b % 64)
		r.blocks++
	}
	if off == 0 {
		r.gotFirst = true
		r.first = *info
		r.first.L4, r.first.Payload, r.first.FragData = nil, nil, nil
		r.l4off = len(info.FragData) - len(info.L4)
	}
	if !r.gotFirst || r.total < 0 || r.blocks != (r.total+7)/8 {
		return
	}

	// Complete.
	defer t.end(e)
	if r.first.Proto != flow.ProtoUDP || r.total-r.l4off < 8 {
		return // IPv6 datagram of another protocol: nothing to deliver
	}
	dgram := r.buf[r.l4off:r.total]
	if ul := int(binary.BigEndian.Uint16(dgram[4:])); ul != len(dgram) {
		a.stats.ReassemblyBad++
		t.problem(ReassemblyBad, e, 0)
		return
	}
	out := r.first
	out.MoreFrags = false
	out.L4 = dgram
	out.Payload = dgram[8:]
	out.FragData = r.buf[:r.total]
	a.stats.Datagrams++
	a.stats.Reassembled++
	a.onDatagram(ts, &out, out.Payload)
}

// problem reports a problem with e's datagram to OnProblem.
func (t *fragTracker) problem(kind ProblemKind, e *fragEntry, limit int) {
	if t.a.onProblem == nil {
		return
	}
	t.a.onProblem(Problem{Kind: kind, Src: e.k.src, Dst: e.k.dst, ID: e.k.id, IPv6: e.k.pv>>24 != 0, Limit: limit})
}

// fail drops the datagram's buffer but keeps the entry, so the rest of its
// fragments are still attributed to the flow and ignored by reassembly.
func (t *fragTracker) fail(e *fragEntry) { t.end(e) }

// end finishes reassembly of e's datagram (delivered or dropped).
func (t *fragTracker) end(e *fragEntry) {
	t.release(e)
	e.rsOver = true
}

// rsSize is what a reassembly costs before its buffer (mostly the bitmap);
// it counts against MaxReassemblyBytes so that many tiny datagrams cannot
// get around the cap.
const rsSize = int(unsafe.Sizeof(reassembly{}))

// get returns a cleared reassembly, reusing a released one when possible,
// or nil when a new one would exceed MaxReassemblyBytes.
func (t *fragTracker) get() *reassembly {
	var r *reassembly
	if n := len(t.spare); n > 0 {
		r = t.spare[n-1]
		t.spare = t.spare[:n-1]
		buf := r.buf[:0]
		*r = reassembly{buf: buf}
	} else {
		if t.bufBytes+rsSize > t.maxBytes {
			return nil
		}
		t.bufBytes += rsSize
		r = &reassembly{}
	}
	r.total = -1
	return r
}

// release returns e's reassembly to the spare list (its buffer stays
// counted in bufBytes while spare, up to a few, then is dropped).
func (t *fragTracker) release(e *fragEntry) {
	r := e.rs
	if r == nil {
		return
	}
	e.rs = nil
	if len(t.spare) < 8 {
		t.spare = append(t.spare, r)
		return
	}
	t.bufBytes -= rsSize + cap(r.buf)
}
