package stats

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/detect/filter"
)

// randomColumns makes n flows with few enough distinct values that groups
// repeat: IPv4 and IPv6 addresses (and :: and 0.0.0.0, which group
// together), ports, protocols, flags and VLANs from small sets.
func randomColumns(seed uint64, n int) *filter.FlowColumns {
	r := rand.New(rand.NewPCG(seed, 7))
	addr := func() flow.Addr {
		switch r.IntN(10) {
		case 0:
			return flow.Addr{} // ::
		case 1:
			return flow.AddrFrom4([4]byte{})
		case 2, 3:
			var a [16]byte
			a[0], a[1] = 0x20, 0x01
			a[15] = byte(r.IntN(6))
			a[7] = byte(r.IntN(3))
			return flow.Addr(a)
		}
		return flow.AddrFrom4([4]byte{10, byte(r.IntN(3)), byte(r.IntN(4)), byte(r.IntN(40))})
	}
	c := &filter.FlowColumns{N: n}
	for i := 0; i < n; i++ {
		c.First = append(c.First, int64(r.IntN(1e12))-5e11)
		c.Last = append(c.Last, c.First[i]+int64(r.IntN(1e10)))
		c.Src = append(c.Src, addr())
		c.Dst = append(c.Dst, addr())
		c.Exporter = append(c.Exporter, addr())
		c.SrcPort = append(c.SrcPort, uint16([]int{53, 80, 443, 65535, 0, 1024 + r.IntN(5)}[r.IntN(6)]))
		c.DstPort = append(c.DstPort, uint16([]int{53, 80, 443, 0, 8080}[r.IntN(5)]))
		c.Proto = append(c.Proto, uint8([]int{6, 17, 1, 255}[r.IntN(4)]))
		c.TCPFlags = append(c.TCPFlags, uint8(r.IntN(256)))
		c.VLAN = append(c.VLAN, uint16(r.IntN(3)*100))
		c.SrcAS = append(c.SrcAS, uint32(r.IntN(4)))
		c.DstAS = append(c.DstAS, uint32(r.IntN(4)))
		c.Packets = append(c.Packets, uint64(1+r.IntN(100)))
		c.Bytes = append(c.Bytes, uint64(40+r.IntN(100000)))
	}
	return c
}

var aggSpecs = []string{
	"srcip", "dstip/bytes", "ip/packets", "exporter", "srcip/24", "dstip/16/64", "ip/0",
	"srcport", "dstport/bytes", "port", "proto", "flags/bpp", "vlan", "srcas", "dstas", "as",
	"srcip,dstport", "proto,srcip/8", "srcport/pps", "dstip/bps",
}

// run aggregates c (a selection in two calls, as the segments of a case
// are added); general forces the general path.
func run(t *testing.T, spec Spec, c *filter.FlowColumns, sel []int32, general bool) []Row {
	t.Helper()
	a, err := NewAggregator(spec)
	if err != nil {
		t.Fatal(err)
	}
	if general {
		a.fast.kind = fastNone
	}
	if sel == nil {
		if err := a.AddFlows(c, nil); err != nil {
			t.Fatal(err)
		}
		return a.Top()
	}
	for _, part := range [][]int32{sel[:len(sel)/2], sel[len(sel)/2:]} {
		if err := a.AddFlows(c, part); err != nil {
			t.Fatal(err)
		}
	}
	return a.Top()
}

// TestFastPathEqualsGeneral checks that every specialised loop ranks the
// same groups with the same totals as the general table, with and without
// a selection, including rows that fall back (IPv6) and sparse columns.
func TestFastPathEqualsGeneral(t *testing.T) {
	c := randomColumns(1, 5000)
	var sel []int32
	for i := int32(0); i < int32(c.N); i += 3 {
		sel = append(sel, i)
	}
	sel = append(sel, -1, int32(c.N)+5) // out of range: ignored by both
	sparse := *c
	sparse.VLAN = sparse.VLAN[:10]
	sparse.TCPFlags = nil
	sparse.Exporter = sparse.Exporter[:100]
	for _, s := range aggSpecs {
		for _, order := range []Order{OrderFlows, OrderBytes} {
			spec, err := ParseSpec(s, order)
			if err != nil {
				t.Fatalf("%s: %v", s, err)
			}
			for name, in := range map[string]struct {
				c   *filter.FlowColumns
				sel []int32
			}{"all": {c, nil}, "selected": {c, sel}, "sparse": {&sparse, nil}} {
				fast := run(t, spec, in.c, in.sel, false)
				gen := run(t, spec, in.c, in.sel, true)
				if len(fast) == 0 {
					t.Fatalf("%s %s: no groups", s, name)
				}
				if !reflect.DeepEqual(fast, gen) {
					t.Errorf("%s/%v %s: fast path gives %d groups, general %d; first fast %+v, general %+v",
						s, order, name, len(fast), len(gen), fast[0], gen[0])
				}
			}
		}
	}
}

// TestAggregateMatchesMap checks totals against a plain map over the rows,
// adding the columns in two calls as the segments of a case are.
func TestAggregateMatchesMap(t *testing.T) {
	c := randomColumns(2, 4000)
	type tot struct {
		flows, packets, bytes uint64
		first, last           int64
	}
	for _, s := range []string{"srcip", "ip", "dstport", "port", "proto", "srcip/24"} {
		spec, err := ParseSpec(s, OrderBytes)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]*tot{}
		add := func(k string, i int) {
			e := want[k]
			if e == nil {
				e = &tot{first: c.First[i], last: c.Last[i]}
				want[k] = e
			}
			e.flows++
			e.packets += c.Packets[i]
			e.bytes += c.Bytes[i]
			e.first = min(e.first, c.First[i])
			e.last = max(e.last, c.Last[i])
		}
		ipKey := func(a flow.Addr, bits int) string {
			ad := netip.AddrFrom16(a).Unmap()
			if a == (flow.Addr{}) {
				ad = netip.AddrFrom4([4]byte{})
			}
			if bits >= 0 {
				p, _ := ad.Prefix(min(bits, ad.BitLen()))
				ad = p.Addr()
			}
			return ad.String()
		}
		for i := 0; i < c.N; i++ {
			switch s {
			case "srcip":
				add(ipKey(c.Src[i], -1), i)
			case "srcip/24":
				add(ipKey(c.Src[i], 24), i)
			case "ip":
				add(ipKey(c.Src[i], -1), i)
				add(ipKey(c.Dst[i], -1), i)
			case "dstport":
				add(fmt.Sprint(c.DstPort[i]), i)
			case "port":
				add(fmt.Sprint(c.SrcPort[i]), i)
				add(fmt.Sprint(c.DstPort[i]), i)
			case "proto":
				add(fmt.Sprint(c.Proto[i]), i)
			}
		}
		a, _ := NewAggregator(spec)
		lo := *c
		lo.N = c.N / 2
		hi := &filter.FlowColumns{N: c.N - lo.N, First: c.First[lo.N:], Last: c.Last[lo.N:],
			Src: c.Src[lo.N:], Dst: c.Dst[lo.N:], SrcPort: c.SrcPort[lo.N:], DstPort: c.DstPort[lo.N:],
			Proto: c.Proto[lo.N:], Packets: c.Packets[lo.N:], Bytes: c.Bytes[lo.N:]}
		if err := a.AddFlows(&lo, nil); err != nil {
			t.Fatal(err)
		}
		if err := a.AddFlows(hi, nil); err != nil {
			t.Fatal(err)
		}
		rows := a.Top()
		if len(rows) != len(want) {
			t.Fatalf("%s: %d groups, want %d", s, len(rows), len(want))
		}
		for i, r := range rows {
			var k string
			if spec.Parts[0].Field.IsAddr() {
				k = ipKey(r.Key[0].Addr, -1)
			} else {
				k = fmt.Sprint(r.Key[0].U)
			}
			w := want[k]
			if w == nil {
				t.Fatalf("%s: unexpected group %s", s, k)
			}
			got := tot{r.Flows, r.Packets, r.Bytes, r.First, r.Last}
			if got != *w {
				t.Errorf("%s %s: %+v, want %+v", s, k, got, *w)
			}
			if i > 0 && (rows[i-1].Bytes < r.Bytes) {
				t.Errorf("%s: row %d out of order", s, i)
			}
		}
	}
}

// TestTopTies checks the documented tie order: equal metrics rank by key
// ascending, and a limit keeps the first of them.
func TestTopTies(t *testing.T) {
	c := &filter.FlowColumns{N: 4,
		First: []int64{1, 2, 3, 4}, Last: []int64{5, 6, 7, 8},
		DstPort: []uint16{443, 80, 22, 80}, Packets: []uint64{1, 1, 1, 1}, Bytes: []uint64{10, 10, 10, 10}}
	spec, _ := ParseSpec("dstport/bytes", OrderFlows)
	spec.Limit = 2
	a, _ := NewAggregator(spec)
	if err := a.AddFlows(c, nil); err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for _, r := range a.Top() {
		got = append(got, r.Key[0].U)
	}
	if want := []uint64{80, 22}; !slices.Equal(got, want) {
		t.Fatalf("top 2 dstport by bytes: %v, want %v", got, want)
	}
}

func TestParseSpec(t *testing.T) {
	for _, tc := range []struct {
		in    string
		name  string // Spec.Name(); empty: an error is expected
		order Order
		err   string // part of the error text
	}{
		{in: "srcip", name: "srcip/flows", order: OrderFlows},
		{in: "dstip/bytes", name: "dstip/bytes", order: OrderBytes},
		{in: "srcip/24/64", name: "srcip/24/64/flows", order: OrderFlows},
		{in: "srcip/40", name: "srcip/40/flows", order: OrderFlows}, // one mask for both families, clipped for IPv4
		{in: "SRCIP,dst_port/packets", name: "srcip,dstport/packets", order: OrderPackets},
		{in: "qname/messages", name: "qname/messages", order: OrderFlows},
		{in: "nosuch", err: "unknown statistic field"},
		{in: "ip,port", err: "at most one either-side field"},
		{in: "dstport/24"},
		{in: "srcip,qname"},
		{in: "srcip/129"},
		{in: "srcip/33/64"},
		{in: "srcip/bytes/24"},
		{in: ""},
	} {
		sp, err := ParseSpec(tc.in, OrderFlows)
		if tc.name == "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseSpec(%q) = %v, %v; want an error containing %q", tc.in, sp.Name(), err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSpec(%q): %v", tc.in, err)
			continue
		}
		if sp.Name() != tc.name || sp.Order != tc.order {
			t.Errorf("ParseSpec(%q) = %q ordered by %v, want %q by %v", tc.in, sp.Name(), sp.Order, tc.name, tc.order)
		}
	}
}

// TestFastPathTaken guards the comparison above: the one-field statistics
// really run the specialised loops on full columns.
func TestFastPathTaken(t *testing.T) {
	c := randomColumns(3, 100)
	for _, s := range []string{"srcip", "dstip/24", "ip", "exporter", "srcport", "dstport", "port", "proto", "flags", "vlan"} {
		spec, _ := ParseSpec(s, OrderBytes)
		a, _ := NewAggregator(spec)
		if err := a.AddFlows(c, nil); err != nil {
			t.Fatal(err)
		}
		if a.fast.dense == nil && a.fast.parts == nil {
			t.Errorf("%s: the general path ran", s)
		}
	}
}

// TestNeedsSuffice checks Spec.Needs: with only those columns the groups
// and totals are the same.
func TestNeedsSuffice(t *testing.T) {
	c := randomColumns(4, 3000)
	for _, s := range aggSpecs {
		spec, err := ParseSpec(s, OrderBytes)
		if err != nil {
			t.Fatal(err)
		}
		want := run(t, spec, c, nil, false)
		if got := run(t, spec, c.Keep(spec.Needs()), nil, false); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: with only the needed columns the result differs", s)
		}
	}
}

// TestFastPathMixedAndRepeated adds a segment the fast loop takes and one
// it cannot (a short column: the general table), whose groups overlap, and
// calls Top twice with rows added in between.
func TestFastPathMixedAndRepeated(t *testing.T) {
	c := randomColumns(5, 4000)
	short := *c
	short.VLAN = short.VLAN[:10]
	short.Exporter = short.Exporter[:10]
	for _, s := range []string{"srcip", "exporter", "vlan", "ip", "dstport"} {
		spec, err := ParseSpec(s, OrderBytes)
		if err != nil {
			t.Fatal(err)
		}
		var got [2][][]Row
		for i, general := range []bool{false, true} {
			a, _ := NewAggregator(spec)
			if general {
				a.fast.kind = fastNone
			}
			for _, in := range []*filter.FlowColumns{c, &short} {
				if err := a.AddFlows(in, nil); err != nil {
					t.Fatal(err)
				}
			}
			first := a.Top()
			again := a.Top()
			if !reflect.DeepEqual(first, again) {
				t.Errorf("%s: a second Top differs", s)
			}
			if err := a.AddFlows(c, nil); err != nil {
				t.Fatal(err)
			}
			got[i] = [][]Row{first, a.Top()}
		}
		if !reflect.DeepEqual(got[0], got[1]) {
			t.Errorf("%s: fast and general paths differ when mixed or added to after Top", s)
		}
	}
}

// TestPostNumbersAsFilter: -P reads numbers as the filter language does
// ("010" is ten, not octal eight; 1k is 1000).
func TestPostNumbersAsFilter(t *testing.T) {
	c := &filter.FlowColumns{N: 10, First: make([]int64, 10), Last: make([]int64, 10),
		DstPort: make([]uint16, 10), Packets: make([]uint64, 10), Bytes: make([]uint64, 10)}
	for i := range c.Bytes {
		c.Bytes[i] = 100
	}
	for _, tc := range []struct {
		post string
		want int
	}{{"flows = 010", 1}, {"flows = 8", 0}, {"bytes = 1k", 1}, {"bytes > 0x3e8", 0}} {
		spec, _ := ParseSpec("dstport", OrderFlows)
		p, err := ParsePost(tc.post, spec)
		if err != nil {
			t.Fatal(err)
		}
		spec.Post = p
		a, _ := NewAggregator(spec)
		if err := a.AddFlows(c, nil); err != nil {
			t.Fatal(err)
		}
		if got := len(a.Top()); got != tc.want {
			t.Errorf("-P %q: %d groups, want %d", tc.post, got, tc.want)
		}
	}
	if _, err := ParsePost("bytes > 1x", Spec{Parts: []Part{{Field: DstPort}}}); err == nil {
		t.Error("-P accepted 1x")
	}
}
