package stats

import (
	"reflect"
	"testing"
	"time"
)

// FuzzStats parses a -s spec and a -P expression as a user would type
// them, then aggregates random flows with the spec: nothing may panic, and
// the specialised loops must rank exactly what the general table ranks,
// with any limit and time bin.
func FuzzStats(f *testing.F) {
	for _, s := range aggSpecs {
		f.Add(s, "bytes > 1k", uint8(3), uint8(0), uint16(100))
	}
	f.Add("srcip/24/64,dstport/pps", "flows >= 2 and not (bpp < 100 or duration > 5000)", uint8(0), uint8(1), uint16(64))
	f.Add("ip/bytes", "srcip 10.0.0.0/8", uint8(10), uint8(2), uint16(7))
	f.Add("qname/messages", "flows > 1", uint8(5), uint8(0), uint16(3))
	c := randomColumns(9, 600)
	f.Fuzz(func(t *testing.T, spec, post string, limit, bin uint8, rows uint16) {
		sp, err := ParseSpec(spec, OrderFlows)
		if err != nil {
			return
		}
		if post != "" {
			if sp.Post, err = ParsePost(post, sp); err != nil {
				return
			}
		}
		sp.Limit = int(limit)
		sp.Bin = []time.Duration{0, time.Minute, time.Hour}[bin%3]
		cols := *c
		cols.N = int(rows) % (c.N + 1)
		var got [2][]Row
		for i, general := range []bool{false, true} {
			a, err := NewAggregator(sp)
			if err != nil {
				return
			}
			if general {
				a.fast.kind = fastNone
			}
			if err := a.AddFlows(&cols, nil); err != nil {
				if !sp.DNS() {
					t.Fatalf("%s: %v", spec, err)
				}
				return
			}
			got[i] = a.Top()
		}
		if !reflect.DeepEqual(got[0], got[1]) {
			t.Fatalf("%q -P %q: the fast loops rank %d groups, the general table %d", spec, post, len(got[0]), len(got[1]))
		}
	})
}
