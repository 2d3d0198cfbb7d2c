package suspicious

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/detect/lda"
	"github.com/spotctl/spotctl/detect/words"
)

func addr(s string) flow.Addr { return flow.AddrFromNetip(netip.MustParseAddr(s)) }

var day = time.Date(2016, 7, 8, 0, 0, 0, 0, time.UTC)

// Spot's FlowSuspiciousConnectsAnalysisTest toy: one IP pair
// 172.16.0.129:1024 → 10.0.2.202:80 TCP, 39 packets, 12522 bytes; one flow at
// hour 0 and nine at hour 13 → the odd one scores 0.1 ± 0.01, the rest
// 0.9 ± 0.01 (K = 20, α = 1.02, β = 1.001, 20 EM iterations, any seed).
func TestFlowToyEndToEnd(t *testing.T) {
	var recs Records
	for i := 0; i < 10; i++ {
		h := 13
		if i == 0 {
			h = 0
		}
		at := day.Add(time.Duration(h)*time.Hour + time.Duration(i)*time.Minute).UnixNano()
		recs = append(recs, flow.Record{First: at, Last: at + 1e9, Src: addr("172.16.0.129"), Dst: addr("10.0.2.202"),
			SrcPort: 1024, DstPort: 80, Proto: flow.ProtoTCP, Packets: 39, Bytes: 12522})
	}
	for _, seed := range []uint64{0, 1, 99, 0xfeedface} {
		r, err := RunFlows(context.Background(), recs, FlowOptions{LDA: lda.Options{Seed: seed}, Threshold: 1})
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range r.Scores {
			want := 0.9
			if i == 0 {
				want = 0.1
			}
			if math.Abs(s-want) >= 0.01 {
				t.Errorf("seed %d: flow %d scores %v, want %v ± 0.01", seed, i, s, want)
			}
		}
		if r.Selected[0] != 0 || len(r.Selected) != 10 {
			t.Errorf("seed %d: selection %v, want flow 0 first and all 10", seed, r.Selected)
		}
		// The words are Spot's: 111111 on both sides (both ports ≤ 1024).
		var got []string
		for _, w := range r.Corpus.Words {
			got = append(got, w.String())
		}
		if want := []string{"111111_TCP_0_14_6", "111111_TCP_13_14_6"}; !slices.Equal(got, want) {
			t.Errorf("vocabulary %v, want %v", got, want)
		}
	}
	// With Spot's default threshold nothing that frequent is reported.
	r, _ := RunFlows(context.Background(), recs, FlowOptions{})
	if len(r.Selected) != 0 {
		t.Errorf("default threshold selected %v", r.Selected)
	}
}

// Spot's DNS toy sets (DNSSuspiciousConnectsAnalysisTest): five responses to
// one client, one of them odd → 0.2 ± 0.01 for the odd one, 0.8 ± 0.01 for
// the four others. Odd by frame length (1 vs 168), and odd by name (a
// 61-character all-'1' subdomain vs tinker.turner.com).
func TestDNSToyEndToEnd(t *testing.T) {
	client, server := addr("10.0.2.15"), addr("172.16.9.132")
	mk := func(frameLen uint32, name string) flow.DNSMessage {
		return flow.DNSMessage{TS: day.Add(11 * time.Hour).UnixNano(), Client: client, Server: server, ClientPort: 40000,
			ServerPort: 53, Transport: flow.ProtoUDP, Response: true, QName: name, QType: 1, QClass: 1,
			Answers: []flow.Answer{{Type: 1, Data: "1.2.3.4"}}, FrameLen: frameLen}
	}
	sets := map[string][]flow.DNSMessage{
		"frame length": {mk(1, "tinker.turner.com"), mk(168, "tinker.turner.com"), mk(168, "tinker.turner.com"),
			mk(168, "tinker.turner.com"), mk(168, "tinker.turner.com")},
		"subdomain": {mk(168, strings.Repeat("1", 61)+".turner.com"), mk(168, "tinker.turner.com"),
			mk(168, "tinker.turner.com"), mk(168, "tinker.turner.com"), mk(168, "tinker.turner.com")},
	}
	for name, msgs := range sets {
		// Queries are not Spot input and must not change anything.
		q := mk(168, "query.only.com")
		q.Response = false
		msgs = append(msgs, q)
		ev := SpotEvents(msgs)
		if len(ev) != 5 {
			t.Fatalf("%s: %d events, want 5", name, len(ev))
		}
		r, err := RunDNS(context.Background(), ev, DNSRunOptions{Threshold: 1})
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range r.Scores {
			want := 0.8
			if i == 0 {
				want = 0.2
			}
			if math.Abs(s-want) >= 0.01 {
				t.Errorf("%s: event %d scores %v, want %v ± 0.01", name, i, s, want)
			}
		}
		if r.Selected[0] != 0 {
			t.Errorf("%s: selection %v, want event 0 first", name, r.Selected)
		}
	}
}

func TestSpotEvent(t *testing.T) {
	base := flow.DNSMessage{TS: 5, Client: addr("10.0.0.1"), Server: addr("10.0.0.53"), Response: true, QName: "a.b.com",
		QClass: 1, QType: 28, Rcode: 3, FrameLen: 99}
	ev, ok := SpotEvent(&base)
	if !ok || ev.Type != -1 || ev.Rcode != 3 || ev.Name != "a.b.com" || ev.Client != base.Client || ev.FrameLen != 99 {
		t.Errorf("NXDOMAIN without answers: %+v, %v", ev, ok)
	}
	withAns := base
	withAns.Rcode = 0
	withAns.Answers = []flow.Answer{{Type: 5, Data: "x.b.com"}, {Type: 28, Data: "::1"}}
	if ev, _ := SpotEvent(&withAns); ev.Type != 5 {
		t.Errorf("type of the first answer: got %d, want 5 (CNAME)", ev.Type)
	}
	for _, m := range []flow.DNSMessage{
		{Response: false, QName: "a.com"}, {Response: true, QName: ""}, {Response: true, QName: "-"},
		{Response: true, QName: "(empty)"}, {Response: true, QName: "a.com", TS: -1},
	} {
		if _, ok := SpotEvent(&m); ok {
			t.Errorf("SpotEvent accepted %+v", m)
		}
	}
}

// Learned popularity: a domain asked for by at least Threshold(clients)
// distinct clients is popular; None and "" never are.
func TestLearnPopular(t *testing.T) {
	var ev DNSEventSlice
	for c := 0; c < 300; c++ {
		cl := flow.AddrFrom4([4]byte{10, 0, byte(c >> 8), byte(c)})
		ev = append(ev, DNSEvent{Client: cl, Name: "www.google.com"})
		if c < 3 {
			ev = append(ev, DNSEvent{Client: cl, Name: "mail.rare.net"}, DNSEvent{Client: cl, Name: "x.example.info"},
				DNSEvent{Client: cl, Name: "ab..com"})
		}
		if c == 0 {
			for i := 0; i < 50; i++ { // one client asking often is not popularity
				ev = append(ev, DNSEvent{Client: cl, Name: "beacon.evil.org"})
			}
		}
	}
	dc, err := BuildDNSCorpus(context.Background(), ev, DNSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !dc.Popular.Has("google") || !dc.Popular.Has("rare") || dc.Popular.Has("evil") ||
		dc.Popular.Has(words.None) || dc.Popular.Has("") || len(dc.Popular) != 2 {
		t.Errorf("learned %v, want google and rare", dc.Popular)
	}
	// 3 clients of 301 no longer reach 1 %.
	ev = append(ev, DNSEvent{Client: addr("10.9.9.9"), Name: "www.google.com"})
	dc, _ = BuildDNSCorpus(context.Background(), ev, DNSOptions{})
	if dc.Popular.Has("rare") || !dc.Popular.Has("google") {
		t.Errorf("with 301 clients learned %v", dc.Popular)
	}
	// A given list wins; an empty one disables popularity.
	dc, _ = BuildDNSCorpus(context.Background(), ev, DNSOptions{Popular: words.Popular{}})
	if len(dc.Popular) != 0 {
		t.Errorf("empty list replaced by %v", dc.Popular)
	}
}

// randomFlows draws flows over few addresses, ports and sizes so that words
// and documents repeat.
func randomFlows(rng *rand.Rand, n int) Records {
	ports := []uint16{0, 22, 53, 80, 443, 1024, 1025, 3306, 8080, 40000, 55555}
	recs := make(Records, n)
	for i := range recs {
		recs[i] = flow.Record{
			First:   day.UnixNano() + rng.Int64N(int64(48*time.Hour)),
			Src:     flow.AddrFrom4([4]byte{10, 0, 0, byte(rng.IntN(12))}),
			Dst:     flow.AddrFrom4([4]byte{10, 0, 1, byte(rng.IntN(12))}),
			SrcPort: ports[rng.IntN(len(ports))], DstPort: ports[rng.IntN(len(ports))],
			Proto: []uint8{1, 6, 17, 47}[rng.IntN(4)], Packets: uint64(rng.IntN(20)), Bytes: uint64(rng.IntN(5000)),
			OutPackets: uint64(rng.IntN(3)), OutBytes: uint64(rng.IntN(300)),
		}
		if rng.IntN(10) == 0 {
			recs[i].Src = addr("2001:db8::1")
		}
	}
	return recs
}

// BuildFlowCorpus equals a naive string-keyed construction: the same sorted
// documents and vocabulary, the same counts.
func TestBuildFlowCorpusMatchesNaive(t *testing.T) {
	defer func(c int) { minInternChunk = c }(minInternChunk)
	minInternChunk = 100 // many chunks: exercise the merge of chunk tables
	recs := randomFlows(rand.New(rand.NewPCG(5, 6)), 3000)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		ny = time.FixedZone("X", -4*3600)
	}
	for _, loc := range []*time.Location{nil, ny} {
		fc, err := BuildFlowCorpus(context.Background(), recs, loc, 2)
		if err != nil {
			t.Fatal(err)
		}
		naive := map[string]map[string]float64{}
		vocab := map[string]bool{}
		for _, r := range recs {
			tl := loc
			if tl == nil {
				tl = time.UTC
			}
			h := time.Unix(0, r.First).In(tl).Hour()
			s, d := words.FlowWords(r.SrcPort, r.DstPort, r.Proto, h, r.Bytes, r.Packets)
			for _, side := range []struct {
				a flow.Addr
				w string
			}{{r.Src, s.String()}, {r.Dst, d.String()}} {
				k := string(side.a[:])
				if naive[k] == nil {
					naive[k] = map[string]float64{}
				}
				naive[k][side.w]++
				vocab[side.w] = true
			}
		}
		wantVocab := make([]string, 0, len(vocab))
		for w := range vocab {
			wantVocab = append(wantVocab, w)
		}
		sort.Strings(wantVocab)
		var gotVocab []string
		for _, w := range fc.Words {
			gotVocab = append(gotVocab, w.String())
		}
		if !slices.Equal(gotVocab, wantVocab) {
			t.Fatalf("vocabulary differs:\n got %v\nwant %v", gotVocab, wantVocab)
		}
		if len(fc.Docs) != len(naive) || !slices.IsSortedFunc(fc.Docs, func(a, b flow.Addr) int { return bytes.Compare(a[:], b[:]) }) {
			t.Fatalf("%d documents (sorted: %v), want %d", len(fc.Docs), slices.IsSortedFunc(fc.Docs, func(a, b flow.Addr) int { return bytes.Compare(a[:], b[:]) }), len(naive))
		}
		c := fc.Corpus
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		for d, a := range fc.Docs {
			want := naive[string(a[:])]
			if got := c.DocStart[d+1] - c.DocStart[d]; got != len(want) {
				t.Fatalf("doc %v has %d words, want %d", a, got, len(want))
			}
			for i := c.DocStart[d]; i < c.DocStart[d+1]; i++ {
				if w := gotVocab[c.Word[i]]; want[w] != c.Count[i] {
					t.Fatalf("doc %v word %s count %v, want %v", a, w, c.Count[i], want[w])
				}
			}
		}
		// Per-flow ids point at the right documents and words.
		for i, r := range recs {
			if fc.Docs[fc.SrcDoc[i]] != r.Src || fc.Docs[fc.DstDoc[i]] != r.Dst {
				t.Fatalf("flow %d: wrong documents", i)
			}
		}
	}
}

// Same input, same seed: bit-identical scores and selection for any
// GOMAXPROCS and worker count.
func TestRunFlowsDeterministic(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	defer func(c int) { minInternChunk = c }(minInternChunk)
	minInternChunk = 64
	recs := randomFlows(rand.New(rand.NewPCG(8, 9)), 5000)
	var ref *FlowResult
	for _, procs := range []int{1, 2, 8} {
		runtime.GOMAXPROCS(procs)
		for _, workers := range []int{0, 1, 5} {
			r, err := RunFlows(context.Background(), recs, FlowOptions{Threshold: 1, MaxResults: 100, Workers: workers,
				LDA: lda.Options{BlockSize: 37}})
			if err != nil {
				t.Fatal(err)
			}
			if ref == nil {
				ref = r
				continue
			}
			for i := range r.Scores {
				if math.Float64bits(r.Scores[i]) != math.Float64bits(ref.Scores[i]) {
					t.Fatalf("procs %d workers %d: score %d differs: %v vs %v", procs, workers, i, r.Scores[i], ref.Scores[i])
				}
			}
			if !slices.Equal(r.Selected, ref.Selected) {
				t.Fatalf("procs %d workers %d: selection differs", procs, workers)
			}
		}
	}
}

// The bounded top-N selection equals the first N of the full ordering, and
// the full ordering follows score, then CompareFlows, then index.
func TestSelectFlows(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	recs := randomFlows(rng, 2000)
	for i := 1500; i < 2000; i++ {
		recs[i] = recs[i-500] // exact duplicates: only the index separates them
	}
	scores := make([]float64, len(recs))
	for i := range scores {
		scores[i] = []float64{-1, -0.5, 0, 1e-7, 1e-6, 2e-6, 0.5, math.NaN()}[rng.IntN(8)]
	}
	all := SelectFlows(recs, scores, 1e-6, 0)
	for _, i := range all {
		if !(scores[i] > -1 && scores[i] <= 1e-6) {
			t.Fatalf("selected score %v", scores[i])
		}
	}
	n := 0
	for _, s := range scores {
		if Selected(s, 1e-6) {
			n++
		}
	}
	if len(all) != n {
		t.Fatalf("selected %d of %d candidates", len(all), n)
	}
	for k := 1; k < len(all); k++ {
		a, b := all[k-1], all[k]
		c := cmpFloat(scores[a], scores[b])
		if c == 0 {
			c = CompareFlows(recs.Flow(a), recs.Flow(b))
		}
		if c > 0 || c == 0 && a > b {
			t.Fatalf("order broken at %d: %d (%v) before %d (%v)", k, a, scores[a], b, scores[b])
		}
	}
	for _, max := range []int{1, 7, 100, n, n + 5} {
		top := SelectFlows(recs, scores, 1e-6, max)
		if want := all[:min(max, len(all))]; !slices.Equal(top, want) {
			t.Fatalf("top %d = %v..., want %v...", max, top[:min(5, len(top))], want[:min(5, len(want))])
		}
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestCompareDNS(t *testing.T) {
	a := DNSEvent{Time: 1, Client: addr("10.0.0.1"), Name: "a.com", Type: 1}
	for _, b := range []DNSEvent{
		{Time: 2}, {Time: 1, Client: addr("10.0.0.2")}, {Time: 1, Client: addr("10.0.0.1"), Server: addr("1.1.1.1")},
		{Time: 1, Client: addr("10.0.0.1"), ClientPort: 1}, {Time: 1, Client: addr("10.0.0.1"), Name: "b.com"},
		{Time: 1, Client: addr("10.0.0.1"), Name: "a.com", Type: 2}, {Time: 1, Client: addr("10.0.0.1"), Name: "a.com", Type: 1, Rcode: 3},
	} {
		if CompareDNS(a, b) >= 0 || CompareDNS(b, a) <= 0 {
			t.Errorf("%+v should sort before %+v", a, b)
		}
	}
	if CompareDNS(a, a) != 0 {
		t.Error("event differs from itself")
	}
}

func TestColumnsAdapter(t *testing.T) {
	recs := randomFlows(rand.New(rand.NewPCG(1, 1)), 50)
	var c Columns
	for _, r := range recs {
		c.Time = append(c.Time, r.First)
		c.Duration = append(c.Duration, r.Last-r.First)
		c.Src, c.Dst = append(c.Src, r.Src), append(c.Dst, r.Dst)
		c.SrcPort, c.DstPort = append(c.SrcPort, r.SrcPort), append(c.DstPort, r.DstPort)
		c.Proto, c.Packets, c.Bytes = append(c.Proto, r.Proto), append(c.Packets, r.Packets), append(c.Bytes, r.Bytes)
		c.OutPackets, c.OutBytes = append(c.OutPackets, r.OutPackets), append(c.OutBytes, r.OutBytes)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if c.Flow(i) != recs.Flow(i) {
			t.Fatalf("flow %d: %+v vs %+v", i, c.Flow(i), recs.Flow(i))
		}
	}
	c.Proto = c.Proto[:10]
	if err := c.Validate(); err == nil {
		t.Error("short column accepted")
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	recs := randomFlows(rand.New(rand.NewPCG(1, 2)), 100)
	if _, err := RunFlows(ctx, recs, FlowOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("RunFlows: %v", err)
	}
	ev := DNSEventSlice{{Name: "a.com"}}
	if _, err := RunDNS(ctx, ev, DNSRunOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("RunDNS: %v", err)
	}
}

func TestU64Table(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	var tab u64Table
	ref := map[uint64]int32{}
	keys := []uint64{0, 1, math.MaxUint64, math.MaxUint64 - 1, 1 << 63}
	for i := 0; i < 20000; i++ {
		keys = append(keys, rng.Uint64()>>uint(rng.IntN(64)))
	}
	for _, k := range keys {
		if _, ok := ref[k]; ok {
			continue
		}
		if _, ok := tab.get(k); ok {
			t.Fatalf("key %#x present before insertion", k)
		}
		id := int32(len(ref))
		ref[k] = id
		tab.put(k, id)
	}
	for k, want := range ref {
		if got, ok := tab.get(k); !ok || got != want {
			t.Fatalf("get(%#x) = %d, %v; want %d", k, got, ok, want)
		}
	}
	for i := 0; i < 1000; i++ {
		k := rng.Uint64()
		if _, in := ref[k]; !in {
			if _, ok := tab.get(k); ok {
				t.Fatalf("absent key %#x found", k)
			}
		}
	}
}

// Every event's word in the DNS corpus is NewDNSWord of the event (the name
// cache must not leak one event's per-event tokens into another).
func TestBuildDNSCorpusWords(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	names := []string{"www.google.com", "a.b.example.co.uk", "x.example.info", "abcdefg.apache.com", "mail.intel.com"}
	var ev DNSEventSlice
	for i := 0; i < 3000; i++ {
		ev = append(ev, DNSEvent{Time: day.UnixNano() + rng.Int64N(int64(24*time.Hour)),
			Client: flow.AddrFrom4([4]byte{10, 0, 0, byte(rng.IntN(50))}), FrameLen: uint32(rng.IntN(1500)),
			Name: names[rng.IntN(len(names))], Type: int32(rng.IntN(3)) - 1, Rcode: int32(rng.IntN(4))})
	}
	pop := words.Popular{"google": {}}
	dc, err := BuildDNSCorpus(context.Background(), ev, DNSOptions{UserDomain: "intel", Popular: pop})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range ev {
		want := words.NewDNSWord(uint64(e.FrameLen), time.Unix(0, e.Time).UTC().Hour(), e.Name, e.Type, e.Rcode, "intel", pop)
		if got := dc.Words[dc.Word[i]]; got != want {
			t.Fatalf("event %d: word %v, want %v", i, got, want)
		}
		if dc.Docs[dc.Doc[i]] != e.Client {
			t.Fatalf("event %d: wrong document", i)
		}
	}
}
