package netflow

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/decodetest"
	"github.com/spotctl/spotctl/decode/flow"
)

// The committed corpora in testdata/fuzz/Fuzz{V5,V9,IPFIX,Raw} hold every
// real export datagram of the shared captures and raw files (written by
// TestWriteFuzzCorpus), so the targets start from real templates, options
// records and data; the f.Add seeds below are crafted edge cases.

// decodeAll feeds p twice to a fresh decoder (templates of the first pass
// decode data of the second) and returns the records and errors.
func decodeAll(t *testing.T, p []byte, opts Options) ([]flow.Record, []error, Stats) {
	d := NewDecoder(opts)
	var recs []flow.Record
	var errs []error
	emit := func(r *flow.Record) {
		checkRecord(t, r)
		recs = append(recs, *r)
	}
	for i := 0; i < 2; i++ {
		if err := d.Datagram(exporter, 2055, 1700000000e9, p, 4, emit); err != nil {
			errs = append(errs, err)
			var de *DatagramError
			if !errors.As(err, &de) || de.Offset < 0 || de.Offset > len(p) {
				t.Fatalf("error without a valid offset: %v", err)
			}
		}
	}
	if err := d.Flush(); err != nil {
		var ue *UndecodableError
		if !errors.As(err, &ue) {
			t.Fatalf("flush: %v", err)
		}
	}
	st := d.Stats()
	if st.Records != uint64(len(recs)) {
		t.Fatalf("Stats.Records %d, emitted %d", st.Records, len(recs))
	}
	if d.pendingBytes != 0 || len(d.pending) != 0 {
		t.Fatalf("pending after Flush: %d bytes", d.pendingBytes)
	}
	if d.nTemplates > opts.withDefaults().MaxTemplates || len(d.sessions) > opts.withDefaults().MaxExporters {
		t.Fatalf("caps exceeded: %d templates, %d sessions", d.nTemplates, len(d.sessions))
	}
	return recs, errs, st
}

// checkRecord asserts what every emitted record must satisfy.
func checkRecord(t *testing.T, r *flow.Record) {
	if r.Exporter != exporter || r.Evidence != 4 {
		t.Fatalf("exporter/evidence not set: %+v", r)
	}
	if r.Proto == flow.ProtoICMP || r.Proto == flow.ProtoICMPv6 {
		// only when a type/code element was present is SrcPort forced to 0;
		// nothing to assert beyond no panic
		_ = r.DstPort
	}
}

func fuzzDatagram(t *testing.T, version uint16, p []byte) {
	if len(p) >= 2 {
		p[0], p[1] = byte(version>>8), byte(version)
	}
	opts := Options{MaxTemplates: 64, MaxFields: 128, MaxExporters: 4, MaxPending: 1 << 16, ApplySampling: true}
	recs1, errs1, st1 := decodeAll(t, p, opts)
	recs2, errs2, st2 := decodeAll(t, p, opts)
	if !reflect.DeepEqual(recs1, recs2) || fmt.Sprint(errs1) != fmt.Sprint(errs2) || st1 != st2 {
		t.Fatalf("not deterministic")
	}
	if IsExport(p) {
		// A datagram that passes the validation frames cleanly: whatever
		// goes wrong is inside a flowset, never the framing.
		for _, err := range errs1 {
			if errors.Is(err, decode.ErrTruncated) && version != 5 {
				t.Fatalf("IsExport but truncated: %v", err)
			}
		}
	}
	_, _ = Detect(p)
}

func sharedFilesOf(tb testing.TB, sub string) []string {
	return decodetest.SharedFiles(tb, sub)
}

func addCorpusSeeds(f *testing.F, seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s)
	}
}

func FuzzV5(f *testing.F) {
	addCorpusSeeds(f,
		v5Msg(5000, 1700000000, 1, 1, 2, 1<<14|10, v5Rec{first: 0xFFFFFFFF, last: 5000, prot: 1, dport: 0x0800}),
		cat(u16(5), u16(30), make([]byte, 40)),
	)
	f.Fuzz(func(t *testing.T, p []byte) { fuzzDatagram(t, 5, p) })
}

func FuzzV9(f *testing.F) {
	fs := []fld{{8, 4, 0}, {12, 4, 0}, {22, 4, 0}, {21, 4, 0}, {32, 2, 0}, {4, 1, 0}, {48, 1, 0}}
	addCorpusSeeds(f,
		v9Msg(4, 100, 1700000000, 1,
			flowset(1, v9OptTmpl(257, []fld{{1, 0, 0}}, []fld{{48, 1, 0}, {34, 4, 0}})), flowset(257, u8(1), u32(100)),
			flowset(300, make([]byte, 20)), flowset(0, tmpl(300, fs...)), flowset(300, make([]byte, 20))),
		v9Msg(1, 1, 1, 1, flowset(0, cat(u16(300), u16(0xFFFF)))),
	)
	f.Fuzz(func(t *testing.T, p []byte) { fuzzDatagram(t, 9, p) })
}

func FuzzIPFIX(f *testing.F) {
	fs := []fld{{8, 4, 0}, {82, varLen, 0}, {12, 4, 0}, {22, 4, 0}, {21, 4, 0}, {1, 8, penReverse}, {156, 8, 0}}
	addCorpusSeeds(f,
		ipfixMsg(1700000000, 1,
			flowset(3, ipfixOptTmpl(257, 1, fld{149, 4, 0}, fld{160, 8, 0}, fld{305, 4, 0}, fld{306, 4, 0})),
			flowset(257, u32(1), u64(1699990000000), u32(1), u32(9)),
			flowset(300, cat(u32(1), u8(255), u16(2), u16(0))),
			flowset(2, tmpl(300, fs...), u16(301), u16(0)),
			flowset(300, cat(u32(1), u8(3), []byte("eth"), u32(2), u32(1), u32(2), u64(3), u64(4)))),
	)
	f.Fuzz(func(t *testing.T, p []byte) { fuzzDatagram(t, 10, p) })
}

// FuzzRaw frames arbitrary content as a raw datagram file: no panic, every
// error has the file name and an offset within the content, the decoder's
// counters agree with what was emitted, and the result is the same when the
// content arrives one byte at a time.
func FuzzRaw(f *testing.F) {
	f.Add(cat(v5Msg(1, 1, 1, 0, 0, 0, v5Rec{}), v9Msg(1, 1, 1, 0, flowset(0, tmpl(300, fld{8, 4, 0}))), ipfixMsg(1, 1)))
	f.Fuzz(func(t *testing.T, content []byte) {
		run := func(src *bytes.Reader, oneByte bool) ([]flow.Record, []string) {
			d := NewDecoder(Options{MaxTemplates: 64, MaxPending: 1 << 16})
			var recs []flow.Record
			var errs []string
			var r interface{ Read([]byte) (int, error) } = src
			if oneByte {
				r = oneByteReader{src}
			}
			st, err := ReadRaw(r, "f.dat", 0, d, func(r *flow.Record) { recs = append(recs, *r) }, func(e *decode.Error) error {
				if e.File != "f.dat" || e.Offset < 0 || e.Offset > int64(len(content)) {
					t.Fatalf("bad error position: %v", e)
				}
				errs = append(errs, e.Error())
				return nil
			})
			if err != nil {
				t.Fatalf("ReadRaw: %v", err)
			}
			if st.Records != uint64(len(recs)) {
				t.Fatalf("stats %d records, emitted %d", st.Records, len(recs))
			}
			return recs, errs
		}
		r1, e1 := run(bytes.NewReader(content), false)
		r2, e2 := run(bytes.NewReader(content), true)
		if !reflect.DeepEqual(r1, r2) || !reflect.DeepEqual(e1, e2) {
			t.Fatalf("depends on read sizes:\n%v\n%v", e1, e2)
		}
	})
}

type oneByteReader struct{ r *bytes.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

// TestWriteFuzzCorpus writes the real datagrams of the shared data into the
// committed seed corpora. It runs only with NETFLOW_WRITE_CORPUS=1.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("NETFLOW_WRITE_CORPUS") == "" {
		t.Skip("set NETFLOW_WRITE_CORPUS=1 to rewrite testdata/fuzz")
	}
	write := func(target, name string, b []byte) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	add := func(name string, p []byte) {
		if seen[string(p)] || len(p) < 2 {
			return
		}
		seen[string(p)] = true
		target := map[uint16]string{5: "FuzzV5", 9: "FuzzV9", 10: "FuzzIPFIX"}[be16(p)]
		if target != "" {
			write(target, name, p)
		}
	}
	var paths []string
	paths = append(paths, sharedFilesOf(t, "netflow-pcap")...)
	for _, p := range exportCaptures(t) {
		if filepath.Base(filepath.Dir(p)) == "spotctl_loopback" || filepath.Base(filepath.Dir(p)) == "zeek_icmp_dot1q" {
			paths = append(paths, p) // two inputs cover every exporter variant
		}
	}
	for _, path := range paths {
		for i, g := range udpPayloads(t, path) {
			if i == 3 {
				break // templates and options come first; a few data datagrams suffice
			}
			add(fmt.Sprintf("%s-%d", filepath.Base(path), g.frame), g.payload)
		}
	}
	for _, path := range sharedFilesOf(t, "netflow-raw") {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		write("FuzzRaw", filepath.Base(path), b)
	}
}
