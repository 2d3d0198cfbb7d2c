package flowstore

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/spotctl/spotctl/decode/flow"
)

func heapInuse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// TestWriterMemoryBounded: writer memory must not grow with the number of
// rows. Flows (flow-export fields from row 50,000 on, so every sparse
// column is created mid-segment): the heap after 1M rows is the heap after
// 100k rows, give or take noise. DNS with every qname distinct
// (tunnelling): the dictionary gives up at its cap and the heap stays
// bounded.
func TestWriterMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes ~100 MB")
	}
	c := newCase(t)
	w, err := c.NewSegment()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	rng := newRand(3)
	r := randFlow(rng)
	base := heapInuse()
	var at100k uint64
	for i := 1; i <= 1_000_000; i++ {
		r.First++
		r.Bytes += 3
		if i == 50_000 {
			randExport(rng, &r, false)
		}
		if err := w.AddFlow(&r); err != nil {
			t.Fatal(err)
		}
		if i == 100_000 {
			at100k = heapInuse()
		}
	}
	at1m := heapInuse()
	if w.sparseOn != fCount-fSparse {
		t.Fatalf("%d sparse columns created, want %d", w.sparseOn, fCount-fSparse)
	}
	t.Logf("heap: before %d KiB, 100k flows %d KiB, 1M flows %d KiB", base>>10, at100k>>10, at1m>>10)
	if at1m > at100k+2<<20 {
		t.Errorf("heap grew from %d to %d bytes between 100k and 1M flow rows", at100k, at1m)
	}
	if at1m > base+8<<20 {
		t.Errorf("flow writer holds %d bytes", at1m-base)
	}
	var peak uint64
	var m flow.DNSMessage
	const n = 400_000 // above maxDictEntries (262144): forces the fallback
	for i := 0; i < n; i++ {
		m.QName = fmt.Sprintf("%016x.tunnel.example.com", uint64(i)*0x9e3779b97f4a7c15)
		m.TS = int64(i)
		if err := w.AddDNS(&m); err != nil {
			t.Fatal(err)
		}
		if i%50_000 == 0 {
			peak = max(peak, heapInuse())
		}
	}
	end := heapInuse()
	t.Logf("heap: dns peak %d KiB, after %d unique qnames %d KiB (dictionary dropped: %v)", peak>>10, n, end>>10, w.dict.overflow)
	if !w.dict.overflow {
		t.Errorf("dictionary did not give up at its cap")
	}
	if peak > base+48<<20 {
		t.Errorf("dns writer peak heap %d bytes above base", peak-base)
	}
	if end > at1m+4<<20 {
		t.Errorf("dictionary memory not released after overflow: %d -> %d", at1m, end)
	}
	if err := w.Commit(nil); err != nil {
		t.Fatal(err)
	}
	dt, err := c.Segments()[0].DNS()
	if err != nil {
		t.Fatal(err)
	}
	qn, err := dt.Strings(ColQName)
	if err != nil {
		t.Fatal(err)
	}
	last := uint64(n - 1)
	if got, want := qn.At(n-1), fmt.Sprintf("%016x.tunnel.example.com", last*0x9e3779b97f4a7c15); got != want {
		t.Errorf("last qname %q, want %q", got, want)
	}
}
