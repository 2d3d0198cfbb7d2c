package netflow

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/spotctl/spotctl/decode/decodetest"
	"github.com/spotctl/spotctl/decode/flow"
)

// exportCaptures lists the *.export.pcap files of the generated reference
// outputs (softflowd and pmacctd exports of the shared pcaps).
func exportCaptures(tb testing.TB) []string {
	tb.Helper()
	dirs, err := filepath.Glob(filepath.Join(decodetest.SharedDir(tb), "generated", "*", "*.export.pcap"))
	if err != nil || len(dirs) == 0 {
		tb.Fatalf("no generated export captures found (%v)", err)
	}
	sort.Strings(dirs)
	return dirs
}

// readTable reads a tab- or comma-separated file with a header line into
// maps keyed by column name.
func readTable(tb testing.TB, path string, sep string) []map[string]string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var cols []string
	var rows []map[string]string
	for sc.Scan() {
		fields := strings.Split(sc.Text(), sep)
		if cols == nil {
			cols = fields
			continue
		}
		if len(fields) != len(cols) {
			tb.Fatalf("%s: %d fields, header has %d: %q", path, len(fields), len(cols), sc.Text())
		}
		m := make(map[string]string, len(cols))
		for i, c := range cols {
			m[c] = fields[i]
		}
		rows = append(rows, m)
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	return rows
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

// keyed is a record as rendered for comparison: the full key and the key
// without the end time.
type keyed struct {
	full, noEnd string
	s6          bool // reference row whose end cflow2tsv could not know
}

// recordKey renders what the reference tools show of a record: 5-tuple,
// counters, TCP flags and start/end in epoch milliseconds.
func recordKey(r *flow.Record) keyed {
	k := fmt.Sprintf("%s %s %d %d %d pk=%d by=%d fl=%d rev=%d/%d t=%d",
		r.Src, r.Dst, r.SrcPort, r.DstPort, r.Proto, r.Packets, r.Bytes, r.TCPFlags,
		r.OutPackets, r.OutBytes, floorMs(r.First))
	return keyed{full: fmt.Sprintf("%s..%d", k, floorMs(r.Last)), noEnd: k}
}

func floorMs(ns int64) int64 {
	ms := ns / 1e6
	if ns%1e6 < 0 {
		ms--
	}
	return ms
}

// tsharkKey renders one cflow2tsv row like recordKey. When tshark shows a
// relative start of 0 it prints it as the epoch, and cflow2tsv then maps
// start and end both to boot + 0 (reftools S6) although the end may be
// later (nfdump shows it): such rows are marked s6 and their end is not
// compared.
func tsharkKey(m map[string]string) keyed {
	k := fmt.Sprintf("%s %s %s %s %s pk=%s by=%s fl=%s rev=%s/%s t=%s",
		m["src"], m["dst"], orZero(m["sport"]), orZero(m["dport"]), m["proto"], m["packets"], m["octets"], m["flags"],
		orZero(m["rev_packets"]), orZero(m["rev_octets"]), m["start_ms"])
	return keyed{full: fmt.Sprintf("%s..%s", k, m["end_ms"]), noEnd: k,
		s6: m["rel_start"] == "0.000000000" && m["rel_end"] == "0.000000000"}
}

// matchKeyed pairs records with reference rows: first on full keys, then
// the s6 reference rows on keys without the end time. It returns what is
// left on either side.
func matchKeyed(got, want []keyed) []string {
	count := map[string]int{}
	for _, k := range got {
		count[k.full]++
	}
	var loose []keyed
	for _, k := range want {
		if count[k.full] > 0 {
			count[k.full]--
			continue
		}
		loose = append(loose, k)
	}
	var leftGot []string
	rest := map[string]int{}
	for _, k := range got {
		if count[k.full] > 0 {
			count[k.full]--
			rest[k.noEnd]++
			leftGot = append(leftGot, k.full)
		}
	}
	var leftWant []string
	for _, k := range loose {
		if k.s6 && rest[k.noEnd] > 0 {
			rest[k.noEnd]--
			continue
		}
		leftWant = append(leftWant, k.full)
	}
	// Remove the ours that the loose pass consumed.
	var unmatched []string
	for _, g := range leftGot {
		noEnd := g[:strings.LastIndex(g, "..")]
		if rest[noEnd] > 0 {
			rest[noEnd]--
			unmatched = append(unmatched, g)
		}
	}
	return diffMultisets(unmatched, leftWant)
}

// diffMultisets reports keys whose counts differ (at most 10 lines).
func diffMultisets(got, want []string) []string {
	count := map[string]int{}
	for _, k := range got {
		count[k]++
	}
	for _, k := range want {
		count[k]--
	}
	var out []string
	for k, n := range count {
		switch {
		case n > 0:
			out = append(out, fmt.Sprintf("only ours (%d): %s", n, k))
		case n < 0:
			out = append(out, fmt.Sprintf("only reference (%d): %s", -n, k))
		}
	}
	sort.Strings(out)
	if len(out) > 10 {
		out = append(out[:10], fmt.Sprintf("... %d more", len(out)-10))
	}
	return out
}

// TestGeneratedExportsMatchTshark decodes every export capture in
// generated/ and compares, per export datagram, the multiset of records
// (5-tuple, packets, bytes, flags, start and end ms, reverse counters) with
// tshark's cflow dissection (*.tshark.tsv). Where tshark shows no records
// because softflowd's v9 header count covers data records only (reftools
// S3), the comparison is made against nfdump (*.nfdump.fmt.csv) instead.
func TestGeneratedExportsMatchTshark(t *testing.T) {
	for _, path := range exportCaptures(t) {
		base := strings.TrimSuffix(path, ".export.pcap")
		name := filepath.Base(base)
		t.Run(name, func(t *testing.T) {
			d := NewDecoder(Options{})
			byFrame := map[int][]keyed{}
			var all []flow.Record
			n := 0
			for _, g := range udpPayloads(t, path) {
				if !IsExport(g.payload) {
					t.Errorf("frame %d: IsExport false", g.frame)
				}
				err := d.Datagram(g.src, g.sport, g.ts, g.payload, 0, func(r *flow.Record) {
					byFrame[g.frame] = append(byFrame[g.frame], recordKey(r))
					all = append(all, *r)
					n++
				})
				if err != nil {
					t.Errorf("frame %d: %v", g.frame, err)
				}
			}
			if err := d.Flush(); err != nil {
				t.Errorf("flush: %v", err)
			}
			st := d.Stats()
			if st.Errors != 0 || st.NoTimeBase != 0 || st.TemplatesRefused != 0 {
				t.Errorf("stats: %+v", st)
			}
			rows := readTable(t, base+".tshark.tsv", "\t")
			fmtRows := readTable(t, base+".nfdump.fmt.csv", ",")
			if len(rows) == 0 && len(fmtRows) > 0 {
				compareNfdump(t, all, fmtRows)
				return
			}
			want := map[int][]keyed{}
			for _, m := range rows {
				f, _ := strconv.Atoi(m["frame"])
				want[f] = append(want[f], tsharkKey(m))
			}
			if len(rows) != n {
				t.Errorf("%d records, tshark has %d", n, len(rows))
			}
			frames := map[int]bool{}
			for f := range byFrame {
				frames[f] = true
			}
			for f := range want {
				frames[f] = true
			}
			for f := range frames {
				if diff := matchKeyed(byFrame[f], want[f]); len(diff) > 0 {
					t.Errorf("frame %d: %d records, tshark %d:\n%s", f, len(byFrame[f]), len(want[f]), strings.Join(diff, "\n"))
				}
			}
		})
	}
}

// compareNfdump compares records with nfdump's fmt output: 5-tuple,
// packets, bytes and start/end ms (tsr + td).
func compareNfdump(t *testing.T, recs []flow.Record, rows []map[string]string) {
	t.Helper()
	var got, want []string
	for i := range recs {
		r := &recs[i]
		got = append(got, fmt.Sprintf("%s %s %d %d %d pk=%d by=%d t=%d..%d", r.Src, r.Dst, r.SrcPort, r.DstPort, r.Proto,
			r.Packets, r.Bytes, floorMs(r.First), floorMs(r.Last)))
	}
	for _, m := range rows {
		dp := m["dp"]
		if tc, code, ok := strings.Cut(dp, "."); ok { // ICMP "type.code"
			a, _ := strconv.Atoi(tc)
			b, _ := strconv.Atoi(code)
			dp = strconv.Itoa(a*256 + b)
		}
		start := msOf(t, m["tsr"])
		end := start + msOf(t, m["td"])
		want = append(want, fmt.Sprintf("%s %s %s %s %s pk=%s by=%s t=%d..%d", m["sa"], m["da"], m["sp"], dp, m["pr"],
			m["ipkt"], m["ibyt"], start, end))
	}
	if diff := diffMultisets(got, want); len(diff) > 0 {
		t.Errorf("%d records, nfdump %d:\n%s", len(got), len(want), strings.Join(diff, "\n"))
	}
}

func msOf(t *testing.T, s string) int64 {
	sec, frac, _ := strings.Cut(s, ".")
	a, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		t.Fatalf("bad seconds %q", s)
	}
	frac = (frac + "000")[:3]
	b, _ := strconv.ParseInt(frac, 10, 64)
	return a*1000 + b
}
