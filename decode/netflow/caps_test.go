package netflow

import (
	"errors"
	"runtime"
	"testing"

	"github.com/spotctl/spotctl/decode/flow"
)

// allocated returns the bytes allocated while fn ran.
func allocated(fn func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// TestHugeTemplate: a template claiming 65535 fields cannot fit a datagram
// and is malformed; one with 16000 fields that does fit exceeds MaxFields
// and is refused before anything is allocated for it; the template after it
// in the same set still counts (negative control).
func TestHugeTemplate(t *testing.T) {
	const secs = 1700000000
	fs := []fld{{8, 4, 0}, {12, 4, 0}}
	claim := ipfixMsg(secs, 1, flowset(2, cat(u16(300), u16(65535), make([]byte, 4*1000))))
	d := NewDecoder(Options{})
	var err error
	n := allocated(func() { _, errs := run(d, claim); err = errors.Join(errs...) })
	if !errors.Is(err, ErrMalformed) || n > 32<<10 { // sized from the count it would be >= 512 KiB
		t.Errorf("65535 fields: %v, %d bytes allocated", err, n)
	}

	big := make([]fld, 16000)
	for i := range big {
		big[i] = fld{uint16(1000 + i%1000), 4, 0}
	}
	msg := ipfixMsg(secs, 1, flowset(2, tmpl(301, big...), tmpl(302, fs...)), flowset(302, cat(u32(1), u32(2))))
	d = NewDecoder(Options{})
	var recs []flow.Record
	n = allocated(func() {
		var errs []error
		recs, errs = run(d, msg)
		err = errors.Join(errs...)
	})
	if !errors.Is(err, ErrTemplate) || len(recs) != 1 || d.Stats().TemplatesRefused != 1 || n > 32<<10 {
		t.Errorf("16000 fields: %v, %d records, %+v, %d bytes allocated", err, len(recs), d.Stats(), n)
	}
	// With the cap raised, the same template is accepted.
	d = NewDecoder(Options{MaxFields: 20000})
	recs, errs := run(d, msg)
	if len(errs) != 0 || len(recs) != 1 || d.nTemplates != 2 {
		t.Errorf("MaxFields 20000: %v, %d records, %d templates", errs, len(recs), d.nTemplates)
	}
}

// TestTemplateFlood sends a million distinct template ids (8189 per
// message): the cache stops at MaxTemplates, the rest is refused and
// counted, memory stays bounded, and templates defined before the flood
// still decode.
func TestTemplateFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const secs = 1700000000
	d := NewDecoder(Options{})
	good := []fld{{8, 4, 0}, {12, 4, 0}}
	if _, errs := run(d, ipfixMsg(secs, 1, flowset(2, tmpl(256, good...)))); len(errs) != 0 {
		t.Fatal(errs)
	}
	const total = 1_000_000
	const perMsg = (65535 - 16 - 4) / 8
	sent := 0
	id := 257
	var msgs [][]byte
	for sent < total {
		var recs [][]byte
		for i := 0; i < perMsg && sent < total; i++ {
			recs = append(recs, tmpl(uint16(id), fld{1, 4, 0}))
			sent++
			if id++; id > 65535 {
				id = 257
			}
		}
		msgs = append(msgs, ipfixMsg(secs, uint32(sent/65000), flowset(2, recs...)))
	}
	var errs []error
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, m := range msgs {
		if err := d.Datagram(exporter, 4739, 0, m, 0, func(*flow.Record) {}); err != nil {
			errs = append(errs, err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	st := d.Stats()
	if d.nTemplates != DefaultMaxTemplates || st.TemplatesRefused != total+1-DefaultMaxTemplates {
		t.Errorf("%d templates held, %d refused", d.nTemplates, st.TemplatesRefused)
	}
	if len(errs) == 0 || !errors.Is(errs[len(errs)-1], ErrTemplate) {
		t.Errorf("no template error reported")
	}
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 16<<20 {
		t.Errorf("heap grew by %d bytes", grew)
	}
	r := one(t, d, ipfixMsg(secs, 1, flowset(256, cat(u32(1), u32(2)))))
	if r.Dst != a4(0, 0, 0, 2) {
		t.Errorf("pre-flood template: %+v", r)
	}
}

// TestExporterCap: sessions beyond MaxExporters get no templates and no
// held data; both are counted, and the exporters within the cap work.
func TestExporterCap(t *testing.T) {
	const secs = 1700000000
	fs := []fld{{8, 4, 0}, {12, 4, 0}}
	d := NewDecoder(Options{MaxExporters: 3})
	var recs int
	emit := func(*flow.Record) { recs++ }
	var errs []error
	for i := 0; i < 5; i++ {
		exp := a4(10, 0, 0, byte(i))
		msg := ipfixMsg(secs, 1, flowset(2, tmpl(300, fs...)), flowset(300, cat(u32(1), u32(2))))
		if err := d.Datagram(exp, 4739, 0, msg, 0, emit); err != nil {
			errs = append(errs, err)
		}
		data := ipfixMsg(secs, 2, flowset(300, cat(u32(1), u32(2))))
		_ = d.Datagram(exp, 4739, 0, data, 0, emit) // domain 2: a new session
	}
	st := d.Stats()
	// exporter 0: domains 1 and 2 (held); exporter 1: domain 1; the rest
	// is refused: 2 records, 3 refused templates, 7 flowsets undecodable.
	if recs != 2 || len(d.sessions) != 3 || len(errs) != 3 || !errors.Is(errs[0], ErrTemplate) || st.UndecodableFlowsets != 7 || st.HeldFlowsets != 1 {
		t.Errorf("%d records, %d sessions, errors %v, %+v", recs, len(d.sessions), errs, st)
	}
}

// TestSamplerCap: an options flood of sampler ids stops at maxSamplers.
func TestSamplerCap(t *testing.T) {
	opt := v9OptTmpl(258, []fld{{1, 4, 0}}, []fld{{48, 2, 0}, {50, 4, 0}})
	var recs [][]byte
	for i := 0; i < 1000; i++ {
		recs = append(recs, cat(u32(0), u16(uint16(i)), u32(uint32(i+2))))
	}
	d := NewDecoder(Options{})
	if _, errs := run(d, v9Msg(1, 1, 1, 0, flowset(1, opt), flowset(258, recs...))); len(errs) != 0 {
		t.Fatal(errs)
	}
	for _, s := range d.sessions {
		if len(s.samplers) != maxSamplers || s.sampling != 1001 {
			t.Errorf("%d samplers, sampling %d", len(s.samplers), s.sampling)
		}
	}
}
