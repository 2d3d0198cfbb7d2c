package assemble

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
)

// table is the flow index: open addressing with linear probing over
// 8-byte entries (32 bits of hash, slot index + 1), kept at most half full.
// It replaces a Go map because a lookup then costs one cache line of
// index plus the slot the caller needs anyway (the key is compared in the
// slot's record), it holds no pointers, and deletion by backward shift
// leaves no tombstones, so a long capture with constant churn does not
// degrade it.
//
// The hash is seeded per table from the runtime's random source, so a
// crafted capture cannot aim its flow keys at one probe chain. Iteration
// order never depends on it: nothing iterates the table.
type table struct {
	ents []tent
	mask uint32
	n    int
	seed [4]uint64
}

type tent struct {
	h   uint32 // low 32 bits of the key's hash: home position and filter
	idx uint32 // slot index + 1; 0 marks an empty entry
}

const minTable = 1024

func newTable() table {
	t := table{ents: make([]tent, minTable), mask: minTable - 1}
	for i := range t.seed {
		t.seed[i] = rand.Uint64() | 1
	}
	return t
}

func mum(x, y uint64) uint64 {
	hi, lo := bits.Mul64(x, y)
	return hi ^ lo
}

func (t *table) hash(k *key) uint32 {
	le := binary.LittleEndian
	h := mum(le.Uint64(k.src[:8])^t.seed[0], le.Uint64(k.src[8:])^t.seed[1])
	h = mum(h^le.Uint64(k.dst[:8]), le.Uint64(k.dst[8:])^t.seed[2])
	h = mum(h^(uint64(k.ports)<<32|uint64(k.pv)), t.seed[3])
	return uint32(h) ^ uint32(h>>32)
}

// insertAt stores slot idx with hash h at pos (an empty position returned
// by Assembler.lookup) and grows the table when it becomes half full.
func (t *table) insertAt(pos uint32, h uint32, idx int32) {
	t.ents[pos] = tent{h: h, idx: uint32(idx) + 1}
	t.n++
	if t.n*2 > len(t.ents) {
		t.resize(len(t.ents) * 2)
	}
}

func (t *table) resize(size int) {
	old := t.ents
	t.ents = make([]tent, size)
	t.mask = uint32(size - 1)
	for _, e := range old {
		if e.idx == 0 {
			continue
		}
		i := e.h & t.mask
		for t.ents[i].idx != 0 {
			i = (i + 1) & t.mask
		}
		t.ents[i] = e
	}
}

// remove deletes the entry of slot idx (hash h), shifting later entries of
// the probe run back so lookups never need tombstones.
func (t *table) remove(h uint32, idx int32) {
	i := h & t.mask
	for t.ents[i].idx != uint32(idx)+1 {
		i = (i + 1) & t.mask
	}
	t.n--
	for {
		t.ents[i] = tent{}
		j := i
		for {
			j = (j + 1) & t.mask
			e := t.ents[j]
			if e.idx == 0 {
				return
			}
			// e may move to the hole at i unless its home lies
			// cyclically in (i, j].
			home := e.h & t.mask
			if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
				t.ents[i] = e
				i = j
				break
			}
		}
	}
}

// reset empties the table and shrinks it back to its initial size.
func (t *table) reset() {
	t.ents = make([]tent, minTable)
	t.mask = minTable - 1
	t.n = 0
}
