package assemble

import (
	"math/rand/v2"
	"testing"

	"github.com/spotctl/spotctl/decode/flow"
)

// TestTableAgainstMap drives the flow index through random inserts and
// deletions (many colliding home positions, wrap-around at the table's
// end, growth) and checks after each step that exactly the live keys are
// found, each at its own slot.
func TestTableAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	a := New(Options{InactiveTimeout: 1 << 62, ActiveTimeout: 1 << 62}, nil)
	live := map[key]int32{}
	keyOf := func(n int) key {
		return makeKey(flow.AddrFrom4([4]byte{10, 0, byte(n >> 8), byte(n)}), ip4(1), uint16(n), 53, flow.ProtoUDP, 0)
	}
	check := func(step int) {
		if a.index.n != len(live) {
			t.Fatalf("step %d: table holds %d, want %d", step, a.index.n, len(live))
		}
		for k, want := range live {
			got, _, _ := a.lookup(&k)
			if got != want {
				t.Fatalf("step %d: key at slot %d found at %d", step, want, got)
			}
		}
		used := 0
		for _, e := range a.index.ents {
			if e.idx != 0 {
				used++
			}
		}
		if used != len(live) {
			t.Fatalf("step %d: %d entries in use, %d live keys", step, used, len(live))
		}
	}
	for step := range 6000 {
		n := rng.IntN(3000)
		k := keyOf(n)
		if idx, ok := live[k]; ok && rng.IntN(3) > 0 {
			a.export(idx, reasonFlush)
			delete(live, k)
		} else if !ok {
			c := contrib{packets: 1, bytes: 1}
			a.count(&k, &c)
			idx, _, _ := a.lookup(&k)
			if idx < 0 {
				t.Fatalf("step %d: inserted key not found", step)
			}
			live[k] = idx
		}
		if step%500 == 0 || step > 5900 {
			check(step)
		}
	}
	check(-1)
}

// TestTableWrapAround forces probe runs across the end of the entry array
// and deletes from their middle.
func TestTableWrapAround(t *testing.T) {
	var tb table
	tb.ents = make([]tent, 8)
	tb.mask = 7
	// Entries homed at 6 and 7 spill to 0 and 1.
	for i, h := range []uint32{6, 6, 7, 6} {
		pos := h & tb.mask
		for tb.ents[pos].idx != 0 {
			pos = (pos + 1) & tb.mask
		}
		tb.ents[pos] = tent{h: h, idx: uint32(i) + 1}
		tb.n++
	}
	// Layout: [6]=slot0 [7]=slot1 [0]=slot2(home 7) [1]=slot3(home 6)
	tb.remove(6, 1) // remove slot1 at position 7: slot2 and slot3 shift back
	want := []tent{{6, 4}, {}, {}, {}, {}, {}, {6, 1}, {7, 3}}
	for i, e := range tb.ents {
		if e != want[i] {
			t.Fatalf("entries %v, want %v", tb.ents, want)
		}
	}
	tb.remove(6, 0) // slot0 at 6: slot3 (home 6) moves to 6, slot2 (home 7) stays
	want = []tent{{}, {}, {}, {}, {}, {}, {6, 4}, {7, 3}}
	for i, e := range tb.ents {
		if e != want[i] {
			t.Fatalf("entries %v, want %v", tb.ents, want)
		}
	}
}
