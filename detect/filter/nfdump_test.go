package filter

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spotctl/spotctl/decode/decodetest"
	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/decode/nfcapd"
)

// nfdumpFilters run through both nfdump 1.7.1 and this package. They cover
// every primitive nfdump 1.7.1 evaluates without extra databases. Left out,
// with the reason (nfdump 1.7.1 quirks found while writing this test):
//   - "first seen"/"last seen": a syntax error in 1.7.1 (added later);
//   - "as", "src as", "as in [...]": 1.7.1 refuses them without a geo
//     database ("Can not filter according geo elements");
//   - "exporter ip": not in 1.7.1's grammar ("router ip" is, but 1.7.1
//     compares it with the address the file's exporter record names, which
//     nfpcapd leaves empty);
//   - comparators on icmp-type, icmp-code, if, vlan and mask: a syntax
//     error in 1.7.1 (we accept them);
//   - "not flags XY" with several letters: 1.7.1 inverts the blocks of its
//     implied "proto tcp and flags" chain one by one, so "flags S and not
//     flags AFRPU" equals "flags S and not flags A" there; we negate the
//     whole term. Single-letter negations agree and are tested;
//   - a comma in a list that holds a CIDR ("[10.0.0.0/8, 10.1.2.3]") is a
//     syntax error in 1.7.1; commas between bare addresses or ports work.
var nfdumpFilters = []string{
	"any",
	"proto tcp", "proto udp", "proto icmp", "proto icmp6", "proto 6", "PROTO UDP",
	"not proto tcp", "! proto udp", "proto tcp or proto udp", "proto tcp || proto icmp",
	"ipv4", "ipv6", "inet6 and proto udp",
	"port 53", "src port 53", "dst port 53", "port > 1024", "dst port < 1024", "src port >= 443",
	"dst port <= 80", "port eq 80", "dst port gt 1023", "src port lt 1024",
	"port in [53 80 443]", "dst port in [ 443, 8080 ]", "src port in [53]",
	"flags S", "flags SA", "flags S and not flags A", "flags R", "flags F", "flags P", "flags X", "flags AP",
	"packets > 5", "packets < 3", "packets = 1", "bytes > 1k", "bytes >= 1500", "bytes < 100",
	"bytes > 0x400", "bytes < 1M",
	"duration > 1000", "duration < 10", "duration = 0",
	"pps > 10", "pps = 0", "bps > 100k", "bps < 1k", "bpp > 500", "bpp < 100",
	"icmp-type 8", "icmp-type 0", "icmp-type 128", "icmp-code 0", "icmp-type 3 and icmp-code 3",
	"tos > 0", "tos 0",
	"net 10.0.0.0/8", "src net 192.168.0.0/16", "dst net 192.168.0.0 255.255.0.0", "net 172.16/12",
	"ip in [ 10.0.0.0/8 192.168.0.0/16 172.16.0.0/12 ]", "not ip in [10.0.0.0/8 192.168.0.0/16 172.16.0.0/12]",
	"net 2000::/3", "dst net ff00::/8", "src net fe80::/10",
	"in if 0", "out if 0", "if 0", "not if 0",
	"vlan 0", "not vlan 0", "src vlan 0",
	"mask 0", "src mask 0", "not dst mask 0",
	"out packets > 0", "out bytes > 0", "in packets > 2", "in bytes > 200",
	"next ip 0.0.0.0",
	"(proto tcp or proto udp) and not port 53",
	"proto udp and (src port 53 or dst port 53) and bytes > 100",
	"not (port 80 or port 443) and proto tcp",
	"proto tcp and port 80 or proto udp and port 53",
	"PROTO TCP AND NOT PORT 443",
	"proto tcp # a comment\n  and dst port 80",
	"proto tcp && (flags S || flags F) && !flags R",
}

// TestNfdumpDifferential runs every filter through nfdump -o csv and through
// MatchFlow on the same nfcapd files (read with decode/nfcapd) and compares
// the multisets of matching flows: 5-tuple, first/last at ms, packets, bytes.
func TestNfdumpDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("runs nfdump about 2500 times; skipped with -short")
	}
	nfdump := decodetest.Tool(t, "nfdump", "nfdump")
	shared := decodetest.SharedDir(t)
	files, err := filepath.Glob(filepath.Join(shared, "generated", "*", "*.nfpcapd.nfcapd"))
	if err != nil {
		t.Fatal(err)
	}
	files = append([]string{filepath.Join(shared, "nfcapd", "chrispassas_nfcapd.sample")}, files...)
	if len(files) < 5 {
		t.Fatalf("found only %d nfcapd files", len(files))
	}
	if len(nfdumpFilters) < 40 {
		t.Fatalf("%d filters, want at least 40", len(nfdumpFilters))
	}
	compared, nonEmpty := 0, 0
	for _, path := range files {
		recs := readNfcapd(t, path)
		filters := slices.Clone(nfdumpFilters)
		// Address terms on addresses that occur in this file.
		if len(recs) > 0 {
			a, b := recs[0].Src.Netip().Unmap(), recs[len(recs)/2].Dst.Netip().Unmap()
			filters = append(filters, "ip "+a.String(), "src ip "+a.String(), "dst host "+b.String(),
				fmt.Sprintf("ip in [%s %s]", a, b), fmt.Sprintf("src ip in [%s, %s] or dst ip %s", a, b, a),
				"not host "+a.String())
			if a.Is4() {
				pfx, _ := a.Prefix(24)
				filters = append(filters, "net "+pfx.String(), "dst net "+pfx.String())
			}
		}
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			for _, expr := range filters {
				f, err := Compile(expr, Flow)
				if err != nil {
					t.Fatalf("Compile(%q): %v", expr, err)
				}
				want := nfdumpKeys(t, nfdump, path, expr)
				got := map[string]int{}
				n := 0
				for i := range recs {
					if f.MatchFlow(&recs[i]) {
						got[flowKey(&recs[i])]++
						n++
					}
				}
				// The column evaluator selects the same rows.
				if sel := f.Select(columnsOf(recs), nil); len(sel) != n {
					t.Errorf("%q: Select picks %d rows, MatchFlow %d", expr, len(sel), n)
				}
				compared++
				if n > 0 {
					nonEmpty++
				}
				if diff := diffKeys(want, got); diff != "" {
					t.Errorf("filter %q: nfdump and we disagree:\n%s", expr, diff)
				}
			}
		})
	}
	t.Logf("%d filter×file comparisons, %d with matches", compared, nonEmpty)
	if nonEmpty < compared/3 {
		t.Errorf("only %d of %d comparisons matched any flow: the test would not see differences", nonEmpty, compared)
	}
}

func readNfcapd(t *testing.T, path string) []flow.Record {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var recs []flow.Record
	_, err = nfcapd.Read(fh, path, 0, func(r *flow.Record) { recs = append(recs, *r) }, nil)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return recs
}

func flowKey(r *flow.Record) string {
	ms := func(ns int64) string { return time.Unix(0, ns).UTC().Format("2006-01-02 15:04:05.000") }
	return fmt.Sprintf("%s|%s|%s|%d|%s|%d|%d|%d|%d", ms(r.First), ms(r.Last),
		r.Src.Netip().Unmap(), r.SrcPort, r.Dst.Netip().Unmap(), r.DstPort, r.Proto, r.Packets, r.Bytes)
}

// nfdumpKeys runs the filter through nfdump: -o csv for the tuple and the
// counters, and fmt:%ts|%te for the times at ms (the CSV has seconds).
func nfdumpKeys(t *testing.T, nfdump, path, expr string) map[string]int {
	t.Helper()
	run := func(args ...string) []byte {
		cmd := exec.Command(nfdump, args...)
		cmd.Env = append(os.Environ(), "TZ=UTC")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("nfdump %q: %v\n%s%s", args, err, stderr.String(), out)
		}
		return out
	}
	out := run("-r", path, "-o", "csv", expr)
	var body bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line == "Summary" || strings.HasPrefix(line, "No matching flows") {
			break
		}
		body.WriteString(line + "\n")
	}
	cr := csv.NewReader(&body)
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil || len(rows) == 0 || rows[0][0] != "ts" {
		t.Fatalf("nfdump csv for %q: %v\n%s", expr, err, out)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	var times []string
	for _, l := range strings.Split(string(run("-r", path, "-q", "-o", "fmt:%ts|%te", expr)), "\n") {
		if strings.Contains(l, "|") {
			times = append(times, strings.Join(strings.Fields(strings.ReplaceAll(l, "|", " | ")), " "))
		}
	}
	if len(times) != len(rows)-1 {
		t.Fatalf("nfdump %q: %d csv rows but %d time rows", expr, len(rows)-1, len(times))
	}
	keys := map[string]int{}
	for i, row := range rows[1:] {
		get := func(h string) string { return strings.TrimSpace(row[col[h]]) }
		ts, te, _ := strings.Cut(times[i], " | ")
		sa, err1 := netip.ParseAddr(get("sa"))
		da, err2 := netip.ParseAddr(get("da"))
		if err1 != nil || err2 != nil {
			t.Fatalf("nfdump row %v: bad address", row)
		}
		proto, ok := protoNames[strings.ToLower(get("pr"))]
		if !ok {
			p, err := strconv.ParseUint(get("pr"), 10, 8)
			if err != nil {
				t.Fatalf("nfdump protocol %q", get("pr"))
			}
			proto = p
		}
		keys[fmt.Sprintf("%s|%s|%s|%s|%s|%s|%d|%s|%s", ts, te, sa.Unmap(), get("sp"), da.Unmap(), get("dp"),
			proto, get("ipkt"), get("ibyt"))]++
	}
	return keys
}

func diffKeys(want, got map[string]int) string {
	var lines []string
	for k, n := range want {
		if got[k] != n {
			lines = append(lines, fmt.Sprintf("  nfdump %d× ours %d×: %s", n, got[k], k))
		}
	}
	for k, n := range got {
		if _, ok := want[k]; !ok {
			lines = append(lines, fmt.Sprintf("  nfdump 0× ours %d×: %s", n, k))
		}
	}
	slices.Sort(lines)
	if len(lines) > 10 {
		lines = append(lines[:10], fmt.Sprintf("  ... %d differences in all", len(lines)))
	}
	return strings.Join(lines, "\n")
}
