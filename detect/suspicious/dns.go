package suspicious

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/detect/lda"
	"github.com/spotctl/spotctl/detect/words"
)

// DNSEvent is what the DNS model reads of one DNS record: Spot's dns table
// row (spot-method.md §1.4, §3.1).
type DNSEvent struct {
	Time       int64 // Unix ns
	Client     flow.Addr
	Server     flow.Addr
	ClientPort uint16
	ServerPort uint16
	FrameLen   uint32
	Name       string // the name the word is built from
	Class      uint16 // only for the dns_qry_class output column
	Type       int32  // record type; −1 when absent
	Rcode      int32  // response code; −1 when absent
}

// DNSEvents is random access to the DNS events being analysed; safe for
// concurrent reads.
type DNSEvents interface {
	Len() int
	Event(i int) DNSEvent
}

// DNSEventSlice adapts a slice of events.
type DNSEventSlice []DNSEvent

func (s DNSEventSlice) Len() int             { return len(s) }
func (s DNSEventSlice) Event(i int) DNSEvent { return s[i] }

// SpotEvent projects a DNS message the way Spot's tshark ingest did
// (spot-method.md §1.4): only responses count, the document is the client
// (the response's destination), and the name and type are those of the
// first answer record. ok is false for queries and for names Spot's cleaning
// dropped ("", "-", "(empty)") or a negative time.
//
// The shared record model keeps the question name, not the first answer's
// owner name; in a well-formed response the first answer is owned by the
// question name (a CNAME chain starts there), so QName stands in for it.
// A response without answers (NXDOMAIN, NODATA) keeps the question name and
// type −1: Spot would have seen the authority record's name and type (e.g.
// the zone's SOA) or dropped the row; keeping NXDOMAIN responses is
// deliberate, as they are what DGA malware produces. The class column is the
// question class.
func SpotEvent(m *flow.DNSMessage) (DNSEvent, bool) {
	if !m.Response || m.TS < 0 {
		return DNSEvent{}, false
	}
	switch m.QName {
	case "", "-", "(empty)":
		return DNSEvent{}, false
	}
	ev := DNSEvent{Time: m.TS, Client: m.Client, Server: m.Server, ClientPort: m.ClientPort, ServerPort: m.ServerPort,
		FrameLen: m.FrameLen, Name: m.QName, Class: m.QClass, Type: -1, Rcode: int32(m.Rcode)}
	if len(m.Answers) > 0 {
		ev.Type = int32(m.Answers[0].Type)
	}
	return ev, true
}

// SpotEvents applies SpotEvent to every message and keeps the accepted ones.
// Names are shared with the messages, not copied.
func SpotEvents(msgs []flow.DNSMessage) DNSEventSlice {
	var out DNSEventSlice
	for i := range msgs {
		if ev, ok := SpotEvent(&msgs[i]); ok {
			out = append(out, ev)
		}
	}
	return out
}

// DNSOptions are the word parameters of the DNS model.
type DNSOptions struct {
	Loc        *time.Location // hour zone; nil means UTC
	UserDomain string         // the user's own domain label (e.g. "intel"); "" for none
	// Popular is the popular-domain set (e.g. from words.ReadPopular). When
	// nil, popularity is learned from the events with Rule; pass an empty
	// non-nil set to have no popular domains at all.
	Popular words.Popular
	Rule    words.LearnRule // zero value means words.DefaultLearnRule
	Workers int
}

// DNSCorpus is the DNS data as Spot's corpus: one document per client.
type DNSCorpus struct {
	Docs    []flow.Addr     // document d is the client Docs[d]; ascending
	Words   []words.DNSWord // word w; ascending by Spot text
	Corpus  *lda.Corpus
	Popular words.Popular // the popular set used (given or learned)
	Doc     []int32       // per event
	Word    []int32       // per event
}

// maxNameCache bounds the per-name token cache of BuildDNSCorpus.
const maxNameCache = 1 << 20

// BuildDNSCorpus computes the word of every event and counts them into
// per-client documents.
func BuildDNSCorpus(ctx context.Context, ev DNSEvents, o DNSOptions) (*DNSCorpus, error) {
	n := ev.Len()
	dc := &DNSCorpus{Doc: make([]int32, n), Word: make([]int32, n), Popular: o.Popular}
	docs, vocab := newAddrTable(), newKeyTable()
	var err error
	for i := 0; i < n; i++ {
		if dc.Doc[i], err = docs.id(ev.Event(i).Client); err != nil {
			return nil, err
		}
	}
	if dc.Popular == nil {
		rule := o.Rule
		if rule == (words.LearnRule{}) {
			rule = words.DefaultLearnRule
		}
		dc.Popular = learnPopular(ev, dc.Doc, len(docs.addrs), rule)
	}
	clock := words.NewClock(o.Loc)
	// Names repeat heavily in DNS traffic; their tokens (domain class,
	// subdomain length and entropy bins, label count) are cached. The cache
	// is bounded so that a flood of unique names cannot grow it without limit.
	cache := make(map[string]words.DNSWord)
	for i := 0; i < n; i++ {
		if i&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		e := ev.Event(i)
		w, ok := cache[e.Name]
		if !ok {
			w = words.NewDNSWord(0, 0, e.Name, 0, 0, o.UserDomain, dc.Popular)
			if len(cache) < maxNameCache {
				cache[e.Name] = w
			}
		}
		w.FrameLenBin = uint8(words.FloorLog2(uint64(e.FrameLen)))
		w.Hour = uint8(clock.Hour(e.Time))
		w.Type, w.Rcode = e.Type, e.Rcode
		if dc.Word[i], err = vocab.id(w.Key()); err != nil {
			return nil, err
		}
	}
	var docMap, wordMap []int32
	dc.Docs, docMap = docs.sorted()
	keys, wordMap := vocab.sortedBy(func(k uint64) string { return words.DNSWordFromKey(k).String() })
	dc.Words = make([]words.DNSWord, len(keys))
	for i, k := range keys {
		dc.Words[i] = words.DNSWordFromKey(k)
	}
	remapAll(docMap, o.Workers, dc.Doc)
	remapAll(wordMap, o.Workers, dc.Word)
	dc.Corpus = buildCorpus(len(dc.Docs), len(dc.Words), o.Workers, docWords{dc.Doc, dc.Word})
	return dc, nil
}

// learnPopular applies the learning rule: a domain label (words.SplitDomain)
// is popular when at least rule.Threshold(clients) distinct clients asked
// for it. Names without a domain (None) and the empty label never count.
func learnPopular(ev DNSEvents, doc []int32, clients int, rule words.LearnRule) words.Popular {
	ids := map[string]int32{}
	var labels []string
	pairs := make([]uint64, 0, len(doc))
	for i := range doc {
		d, _ := words.SplitDomain(ev.Event(i).Name)
		if d == words.None || d == "" {
			continue
		}
		id, ok := ids[d]
		if !ok {
			if len(labels) == math.MaxInt32 {
				continue
			}
			id = int32(len(labels))
			ids[d] = id
			labels = append(labels, d)
		}
		pairs = append(pairs, uint64(id)<<32|uint64(uint32(doc[i])))
	}
	slices.Sort(pairs)
	pairs = slices.Compact(pairs)
	need := rule.Threshold(clients)
	p := words.Popular{}
	for i := 0; i < len(pairs); {
		j := i
		for j < len(pairs) && pairs[j]>>32 == pairs[i]>>32 {
			j++
		}
		if j-i >= need {
			p.AddLabel(labels[pairs[i]>>32])
		}
		i = j
	}
	return p
}

// ScoreDNS scores every event: P(word | client).
func ScoreDNS(dc *DNSCorpus, m *lda.Model, workers int) []float64 {
	scores := make([]float64, len(dc.Doc))
	forChunks(len(scores), 1<<14, workers, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			scores[i] = m.Score(int(dc.Doc[i]), int(dc.Word[i]))
		}
	})
	return scores
}

// checkLen guards the per-event arrays against an input whose Len changed.
func checkLen(what string, got, want int) error {
	if got != want {
		return fmt.Errorf("%s: %d scores for %d events", what, got, want)
	}
	return nil
}
