package stats_test

import (
	"encoding/csv"
	"fmt"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spotctl/spotctl/decode/decodetest"
)

// group is one row of a statistic: its key and totals.
type group struct {
	key                                  string
	flows, packets, bytes, pps, bps, bpp uint64
}

// normKey canonicalizes an address or a number so both tools' spellings compare.
func normKey(s string) string {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().String()
	}
	return s
}

func atou(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		t.Fatalf("number %q: %v", s, err)
	}
	return v
}

// nfdumpStat runs nfdump -s STAT/bytes -n 0 and parses its CSV rows.
func nfdumpStat(t *testing.T, nfdump, file, stat string) []group {
	t.Helper()
	out, err := exec.Command(nfdump, "-r", file, "-s", stat+"/bytes", "-n", "0", "-o", "csv", "-q").Output()
	if err != nil {
		t.Fatalf("nfdump -r %s -s %s/bytes: %v", file, stat, err)
	}
	recs, err := csv.NewReader(strings.NewReader(string(out))).ReadAll()
	if err != nil {
		t.Fatalf("nfdump csv: %v\n%s", err, out)
	}
	var gs []group
	for _, r := range recs {
		if len(r) < 14 || r[0] == "ts" {
			continue
		}
		gs = append(gs, group{key: normKey(r[4]), flows: atou(t, r[5]), packets: atou(t, r[7]), bytes: atou(t, r[9]),
			pps: atou(t, r[11]), bps: atou(t, r[12]), bpp: atou(t, r[13])})
	}
	return gs
}

// spotctlStat runs spotctl stats -s STAT/bytes -n 0 --format csv.
func spotctlStat(t *testing.T, casePath, stat, col string) []group {
	t.Helper()
	out, errOut, code := cli(t, false, "stats", casePath, "-s", stat+"/bytes", "-n", "0", "--format", "csv",
		"--fields", col+",flows,packets,bytes,pps,bps,bpp")
	if code != 0 {
		t.Fatalf("spotctl stats -s %s/bytes: exit %d: %s", stat, code, errOut)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("spotctl csv: %v", err)
	}
	var gs []group
	for _, r := range recs[1:] {
		gs = append(gs, group{key: normKey(r[0]), flows: atou(t, r[1]), packets: atou(t, r[2]), bytes: atou(t, r[3]),
			pps: atou(t, r[4]), bps: atou(t, r[5]), bpp: atou(t, r[6])})
	}
	return gs
}

// TestTopBytesEqualsNfdump is the acceptance check: on the shared
// nfcapd files, `spotctl stats -s srcip|dstip|dstport/bytes` over a case
// ingested from the file gives exactly nfdump's groups — every group's
// flows, packets, bytes, pps, bps and bpp — and the same top-10 ranking
// (where nfdump's order among equal byte counts is unspecified, the
// groups of a tie must be the same set).
func TestTopBytesEqualsNfdump(t *testing.T) {
	nfdump := decodetest.Tool(t, "nfdump", "nfdump")
	shared := decodetest.SharedDir(t)
	files := []string{filepath.Join(shared, "nfcapd", "chrispassas_nfcapd.sample")}
	more, _ := filepath.Glob(filepath.Join(shared, "generated", "*", "*.nfpcapd.nfcapd"))
	files = append(files, more...)
	if len(files) < 2 {
		t.Fatalf("expected the shared nfcapd files, found %v", files)
	}
	checked := 0
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			casePath := filepath.Join(t.TempDir(), "c")
			if _, errOut, code := cli(t, false, "ingest", "-q", file, "-o", casePath); code != 0 {
				t.Fatalf("ingest: exit %d: %s", code, errOut)
			}
			for _, st := range []struct{ stat, col string }{{"srcip", "src_ip"}, {"dstip", "dst_ip"}, {"dstport", "dst_port"}} {
				want := nfdumpStat(t, nfdump, file, st.stat)
				got := spotctlStat(t, casePath, st.stat, st.col)
				if len(want) == 0 {
					t.Fatalf("%s: nfdump printed no groups", st.stat)
				}
				compareGroups(t, st.stat, got, want)
				checked++
			}
		})
	}
	if checked == 0 {
		t.Fatal("nothing compared")
	}
}

func compareGroups(t *testing.T, stat string, got, want []group) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d groups, nfdump has %d", stat, len(got), len(want))
	}
	byKey := map[string]group{}
	for _, g := range want {
		byKey[g.key] = g
	}
	for _, g := range got {
		w, ok := byKey[g.key]
		if !ok {
			t.Errorf("%s: group %s not in nfdump's output", stat, g.key)
			continue
		}
		if g != w {
			t.Errorf("%s %s: spotctl %+v, nfdump %+v", stat, g.key, g, w)
		}
	}
	// Top 10: the same byte counts in the same order, and at each rank a
	// key nfdump has at that byte count.
	n := min(10, len(got), len(want))
	for i := 0; i < n; i++ {
		if got[i].bytes != want[i].bytes {
			t.Fatalf("%s rank %d: %s with %d bytes, nfdump %s with %d bytes\n%s", stat, i+1, got[i].key, got[i].bytes, want[i].key, want[i].bytes, dump(got[:n], want[:n]))
		}
		if byKey[got[i].key].bytes != got[i].bytes {
			t.Fatalf("%s rank %d: %s differs from nfdump", stat, i+1, got[i].key)
		}
	}
	for i := 1; i < len(got); i++ {
		if got[i].bytes > got[i-1].bytes || got[i].bytes == got[i-1].bytes && got[i].key == got[i-1].key {
			t.Fatalf("%s: rows %d and %d out of order", stat, i, i+1)
		}
	}
}

func dump(got, want []group) string {
	var b strings.Builder
	for i := range got {
		fmt.Fprintf(&b, "  %-40s %10d | %-40s %10d\n", got[i].key, got[i].bytes, want[i].key, want[i].bytes)
	}
	return b.String()
}
