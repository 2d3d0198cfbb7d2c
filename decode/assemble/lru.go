package assemble

// lru is an intrusive doubly linked list over slab indices: the links live
// in a slice parallel to the slab, so the list costs two int32 per entry,
// holds no pointers for the garbage collector to scan, and moving an entry
// to the back is O(1). Entries enter at the back when touched, so the front
// is always the least recently touched entry.
type lru struct {
	links      []link
	head, tail int32 // -1 when empty
}

type link struct{ prev, next int32 }

func newLRU() lru { return lru{head: -1, tail: -1} }

// grow makes room for index i (slabs grow one entry at a time).
func (l *lru) grow(n int) {
	for len(l.links) < n {
		l.links = append(l.links, link{-1, -1})
	}
}

func (l *lru) pushBack(i int32) {
	l.links[i] = link{prev: l.tail, next: -1}
	if l.tail >= 0 {
		l.links[l.tail].next = i
	} else {
		l.head = i
	}
	l.tail = i
}

func (l *lru) remove(i int32) {
	lk := l.links[i]
	if lk.prev >= 0 {
		l.links[lk.prev].next = lk.next
	} else {
		l.head = lk.next
	}
	if lk.next >= 0 {
		l.links[lk.next].prev = lk.prev
	} else {
		l.tail = lk.prev
	}
	l.links[i] = link{-1, -1}
}

func (l *lru) moveToBack(i int32) {
	if l.tail == i {
		return
	}
	l.remove(i)
	l.pushBack(i)
}
