package netflow

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/decodetest"
	"github.com/spotctl/spotctl/decode/flow"
)

func readShared(tb testing.TB, sub, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(sharedPath(tb, sub, name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// readRaw runs ReadRaw over content and collects records and errors.
func readRaw(d *Decoder, content []byte, evidence uint32) ([]flow.Record, []*decode.Error, Stats, error) {
	var recs []flow.Record
	var errs []*decode.Error
	st, err := ReadRaw(bytes.NewReader(content), "f.dat", evidence, d, func(r *flow.Record) { recs = append(recs, *r) },
		func(e *decode.Error) error { errs = append(errs, e); return nil })
	return recs, errs, st, err
}

func TestDetect(t *testing.T) {
	for name, want := range map[string]string{
		"logstash_ipfix.dat":                     FormatIPFIX,
		"logstash_ipfix_openbsd_pflow_data.dat":  FormatIPFIX,
		"logstash_ipfix_openbsd_pflow_tpl.dat":   FormatIPFIX,
		"logstash_netflow5.dat":                  FormatV5,
		"logstash_netflow9_cisco_asa_1_data.dat": FormatV9,
		"logstash_netflow9_cisco_asa_1_tpl.dat":  FormatV9,
	} {
		b := readShared(t, "netflow-raw", name)
		for _, n := range []int{24, 64, 512, len(b)} {
			if got, ok := Detect(b[:min(n, len(b))]); !ok || got != want {
				t.Errorf("%s (%d bytes): %q %v, want %q", name, n, got, ok, want)
			}
		}
	}
	// Every real export datagram is recognised too.
	for _, path := range decodetest.SharedFiles(t, "netflow-pcap") {
		for _, g := range udpPayloads(t, path) {
			if f, ok := Detect(g.payload); !ok || f != map[uint16]string{5: FormatV5, 9: FormatV9, 10: FormatIPFIX}[be16(g.payload)] {
				t.Errorf("%s frame %d: %q %v", filepath.Base(path), g.frame, f, ok)
			}
		}
	}
	// Other evidence is not.
	for _, sub := range []string{"pcap", "nfcapd", "flows"} {
		for _, path := range decodetest.SharedFiles(t, sub) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if f, ok := Detect(b[:min(512, len(b))]); ok {
				t.Errorf("%s detected as %s", filepath.Base(path), f)
			}
		}
	}
	v5 := v5Msg(1, 1, 1, 0, 0, 0, v5Rec{})
	for name, head := range map[string][]byte{
		"empty":              nil,
		"short":              {0, 5, 0},
		"v5 count 0":         cat(u16(5), u16(0), make([]byte, 20)),
		"v5 nsecs >= 1e9":    cat(v5[:12], u32(1e9), v5[16:]),
		"v5 then junk":       cat(v5, []byte("GET / HTTP/1.1\r\n")),
		"v9 bad flowset id":  v9Msg(1, 1, 1, 0, flowset(7, u32(0))),
		"v9 flowset len 2":   cat(v9Msg(1, 1, 1, 0), u16(0), u16(2)),
		"ipfix length 10":    cat(u16(10), u16(10), make([]byte, 16)),
		"ipfix set past msg": cat(u16(10), u16(24), make([]byte, 12), u16(256), u16(12), make([]byte, 8)),
		"ipfix bad set id":   ipfixMsg(1, 1, flowset(4, u32(0))),
		"version 7":          cat(u16(7), make([]byte, 40)),
		"text":               []byte("\x00\x09hello world, this is not a flow export at all"),
		"ipfix text":         []byte("\x00\x0aAB hello world, this is not a flow export at all either"),
	} {
		if f, ok := Detect(head); ok {
			t.Errorf("%s: detected as %s", name, f)
		}
	}
}

func TestIsExport(t *testing.T) {
	// Real exports are covered by TestSharedCaptures. No UDP payload of
	// the ordinary captures (DNS, mDNS, NTP, QUIC, NBNS, LLMNR...) is one.
	n := 0
	for _, sub := range []string{"pcap", "generated/inputs"} {
		for _, path := range decodetest.SharedFiles(t, sub) {
			for _, g := range udpPayloads(t, path) {
				n++
				if IsExport(g.payload) {
					t.Errorf("%s frame %d (port %d→%d) taken for an export", filepath.Base(path), g.frame, g.sport, g.dport)
				}
			}
		}
	}
	if n < 100 {
		t.Errorf("only %d UDP payloads checked", n)
	}
	good := v9Msg(1, 1, 1, 0, flowset(0, tmpl(300, fld{8, 4, 0})))
	ipfix := ipfixMsg(1, 1, flowset(2, tmpl(300, fld{8, 4, 0})))
	v5 := v5Msg(1, 1, 1, 0, 0, 0, v5Rec{}, v5Rec{})
	for name, tc := range map[string]struct {
		p    []byte
		want bool
	}{
		"v9":                 {good, true},
		"v9 cut":             {good[:len(good)-1], false},
		"v9 header only":     {good[:20], false},
		"v9 3 zero pad":      {cat(good, []byte{0, 0, 0}), true},
		"v9 3 junk":          {cat(good, []byte{1, 2, 3}), false},
		"ipfix":              {ipfix, true},
		"ipfix trailing":     {cat(ipfix, []byte{0}), false},
		"ipfix cut":          {ipfix[:len(ipfix)-1], false},
		"v5":                 {v5, true},
		"v5 cut":             {v5[:len(v5)-1], false},
		"v5 padded":          {cat(v5, make([]byte, 47)), true},
		"v5 a record extra":  {cat(v5, make([]byte, 48)), false},
		"v5 count 31":        {cat(u16(5), u16(31), make([]byte, 20+31*48)), false},
		"v9 reserved set id": {v9Msg(1, 1, 1, 0, flowset(255, u32(0))), false},
		"ipfix v9 set id":    {ipfixMsg(1, 1, flowset(0, tmpl(300, fld{8, 4, 0}))), false},
	} {
		if got := IsExport(tc.p); got != tc.want {
			t.Errorf("%s: IsExport %v, want %v", name, got, tc.want)
		}
	}
}

func TestReadRaw(t *testing.T) {
	for _, tc := range []struct {
		name                string
		v5, v9, ipfix       uint64
		records, held, late uint64
	}{
		{"logstash_netflow5.dat", 12, 0, 0, 30, 0, 0},
		{"logstash_ipfix.dat", 0, 0, 3, 12, 0, 0},
		{"logstash_ipfix_openbsd_pflow_tpl.dat", 0, 0, 1, 0, 0, 0},
		{"logstash_ipfix_openbsd_pflow_data.dat", 0, 0, 1, 0, 1, 0},
		{"logstash_netflow9_cisco_asa_1_tpl.dat", 0, 1, 0, 0, 0, 0},
		{"logstash_netflow9_cisco_asa_1_data.dat", 0, 1, 0, 0, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(Options{})
			recs, errs, st, err := readRaw(d, readShared(t, "netflow-raw", tc.name), 0)
			if err != nil || len(errs) != 0 {
				t.Fatalf("%v %v", err, errs)
			}
			if st.V5Datagrams != tc.v5 || st.V9Datagrams != tc.v9 || st.IPFIXDatagrams != tc.ipfix || st.Records != tc.records ||
				uint64(len(recs)) != tc.records || st.HeldFlowsets != tc.held || st.DecodedLate != tc.late {
				t.Errorf("stats %+v", st)
			}
		})
	}

	// Template and data files of one exporter, data first, as two files
	// of one ingest; then both in one file (two v9 messages back to back,
	// framed at the second header).
	for _, pair := range [][2]string{
		{"logstash_netflow9_cisco_asa_1_data.dat", "logstash_netflow9_cisco_asa_1_tpl.dat"},
		{"logstash_ipfix_openbsd_pflow_data.dat", "logstash_ipfix_openbsd_pflow_tpl.dat"},
	} {
		a, b := readShared(t, "netflow-raw", pair[0]), readShared(t, "netflow-raw", pair[1])
		d := NewDecoder(Options{})
		r1, e1, _, _ := readRaw(d, a, 1)
		r2, e2, _, _ := readRaw(d, b, 2)
		if len(r1) != 0 || len(r2) == 0 || len(e1)+len(e2) != 0 || d.Flush() != nil || r2[0].Evidence != 1 {
			t.Errorf("%s: %d+%d records, errors %v %v", pair[0], len(r1), len(r2), e1, e2)
		}
		d2 := NewDecoder(Options{})
		r3, e3, st, _ := readRaw(d2, cat(a, b), 0)
		if len(r3) != len(r2) || len(e3) != 0 || st.Datagrams() != 2 {
			t.Errorf("%s concatenated: %d records, %v, %+v", pair[0], len(r3), e3, st)
		}
	}
}

func TestReadRawDamage(t *testing.T) {
	v5 := readShared(t, "netflow-raw", "logstash_netflow5.dat")
	ipfix := readShared(t, "netflow-raw", "logstash_ipfix.dat")
	// Message boundaries of the v5 file.
	var bounds []int
	for off := 0; off < len(v5); off += 24 + 48*int(be16(v5[off+2:])) {
		bounds = append(bounds, off)
	}
	if len(bounds) != 12 {
		t.Fatalf("%d v5 messages", len(bounds))
	}

	// Cut inside the 5th message's second record: 4 messages and the
	// first record of the 5th decode; the error names the cut record.
	cut := bounds[4] + 24 + 48 + 10
	d := NewDecoder(Options{})
	recs, errs, _, err := readRaw(d, v5[:cut], 0)
	full, _, _, _ := readRaw(NewDecoder(Options{}), v5[:bounds[4]], 0)
	if err != nil || len(errs) != 1 || !errors.Is(errs[0], decode.ErrTruncated) || errs[0].Offset != int64(bounds[4]+24+48) || len(recs) != len(full)+1 {
		t.Errorf("cut v5: %v %v, %d records (%d before the message)", err, errs, len(recs), len(full))
	}
	// Cut inside a header, and inside an IPFIX message.
	for _, c := range []struct {
		content []byte
		at      int64
	}{{v5[:bounds[3]+10], int64(bounds[3])}, {v5[:bounds[3]+2], int64(bounds[3])}, {ipfix[:500], 500}} {
		_, errs, _, err := readRaw(NewDecoder(Options{}), c.content, 0)
		if err != nil || len(errs) != 1 || !errors.Is(errs[0], decode.ErrTruncated) || errs[0].Offset != c.at || errs[0].File != "f.dat" {
			t.Errorf("cut at %d: %v %v", len(c.content), err, errs)
		}
	}

	// Junk after the 3rd message: reported at its offset, the file ends
	// there, everything before is kept.
	junk := cat(v5[:bounds[3]], []byte("\x00\x07 not an export"), v5[bounds[3]:])
	recs, errs, _, err = readRaw(NewDecoder(Options{}), junk, 0)
	before, _, _, _ := readRaw(NewDecoder(Options{}), v5[:bounds[3]], 0)
	if err != nil || len(errs) != 1 || !errors.Is(errs[0], ErrNotExport) || errs[0].Offset != int64(bounds[3]) || len(recs) != len(before) {
		t.Errorf("junk: %v %v %d records", err, errs, len(recs))
	}
	// An IPFIX length shorter than its header.
	bad := cat(ipfix, u16(10), u16(8), make([]byte, 20))
	_, errs, _, _ = readRaw(NewDecoder(Options{}), bad, 0)
	if len(errs) != 1 || !errors.Is(errs[0], ErrMalformed) || errs[0].Offset != int64(len(ipfix)+2) {
		t.Errorf("bad IPFIX length: %v", errs)
	}

	// The caller aborts: ReadRaw stops and returns its error.
	stop := errors.New("stop")
	_, err = ReadRaw(bytes.NewReader(junk), "f.dat", 0, NewDecoder(Options{}), func(*flow.Record) {}, func(*decode.Error) error { return stop })
	if err != stop {
		t.Errorf("abort: %v", err)
	}
	// A read error is reported with the file name and returned.
	_, err = ReadRaw(io.MultiReader(bytes.NewReader(v5[:bounds[2]]), iotest.ErrReader(io.ErrUnexpectedEOF)), "f.dat", 0,
		NewDecoder(Options{}), func(*flow.Record) {}, nil)
	var de *decode.Error
	if !errors.As(err, &de) || !errors.Is(err, io.ErrUnexpectedEOF) || de.Offset != int64(bounds[2]) {
		t.Errorf("read error: %v", err)
	}
	// One byte at a time: same result as all at once.
	var n int
	_, err = ReadRaw(iotest.OneByteReader(bytes.NewReader(cat(v5, ipfix))), "f.dat", 0, NewDecoder(Options{}), func(*flow.Record) { n++ }, nil)
	if err != nil || n != 42 {
		t.Errorf("one byte reader: %v, %d records", err, n)
	}
}
