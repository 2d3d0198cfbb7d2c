package evidence

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/decodetest"
	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/decode/input"
	"github.com/spotctl/spotctl/decode/synth"
)

type result struct {
	flows  []flow.Record
	dns    int
	errs   []*decode.Error
	stats  []FileStats
	flushE []*decode.Error
}

func readAll(t *testing.T, opts Options, files ...string) *result {
	t.Helper()
	res := &result{}
	p, err := New(opts, func(r *flow.Record) { res.flows = append(res.flows, *r) }, func(*flow.DNSMessage) { res.dns++ })
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range files {
		ev, err := input.Open(f)
		if err != nil {
			t.Fatalf("open %s: %v", f, err)
		}
		st, err := p.ReadFile(ev, f, uint32(i), func(e *decode.Error) error {
			res.errs = append(res.errs, e)
			return nil
		})
		ev.Close()
		if err != nil {
			t.Fatalf("read %s: %v", f, err)
		}
		res.stats = append(res.stats, st)
	}
	if err := p.Flush(func(e *decode.Error) error { res.flushE = append(res.flushE, e); return nil }); err != nil {
		t.Fatal(err)
	}
	return res
}

// Every shared flow-evidence file reads; problems are reported only for
// the deliberately corrupt nfcapd file and the capture whose NetFlow v9
// templates are absent.
func TestSharedFlowEvidence(t *testing.T) {
	var files []string
	for _, sub := range []string{"netflow-pcap", "netflow-raw", "nfcapd", "flows"} {
		files = append(files, decodetest.SharedFiles(t, sub)...)
	}
	res := readAll(t, DefaultOptions(), files...)
	for _, e := range res.errs {
		if !strings.Contains(e.File, "nfcapd-corrupt") {
			t.Errorf("unexpected problem: %v", e)
		}
	}
	if len(res.flushE) != 1 || !strings.Contains(res.flushE[0].Error(), "without template") || !strings.Contains(res.flushE[0].Error(), "192.168.2.134") {
		t.Errorf("want one report of ndpi_netflowv9's template-less data, got %v", res.flushE)
	}
	byFile := map[string]uint64{}
	for i, st := range res.stats {
		byFile[filepath.Base(files[i])] = st.Flows
	}
	for name, want := range map[string]uint64{
		"chrispassas_nfcapd.sample":                3018,
		"chrispassas_nfcapd.sample.nfdump-csv.csv": 3018,
		"slips_test3-mixed.binetflow":              89,
		"akvorado_nfv5.pcap":                       29,
		"logstash_netflow5.dat":                    30,
		"chrispassas_nfcapd-empty":                 0,
		"akvorado_nfv9_data+templates.pcap":        21, // 10 tshark shows + 11 it cannot (data before its template in one datagram)
	} {
		if got := byFile[name]; got != want {
			t.Errorf("%s: %d flows, want %d", name, got, want)
		}
	}
}

// The nfcapd sample and nfdump's CSV rendering of it give the same flows.
func TestNfcapdEqualsItsCSV(t *testing.T) {
	dir := filepath.Join(decodetest.SharedDir(t), "nfcapd")
	bin := readAll(t, DefaultOptions(), filepath.Join(dir, "chrispassas_nfcapd.sample"))
	csv := readAll(t, DefaultOptions(), filepath.Join(dir, "chrispassas_nfcapd.sample.nfdump-csv.csv"))
	key := func(r flow.Record) string {
		return fmt.Sprintf("%d %d %s %s %d %d %d %d %d %d %d", r.First/1e9, r.Last/1e9, r.Src, r.Dst, r.SrcPort, r.DstPort, r.Proto, r.Packets, r.Bytes, r.TCPFlags, r.ToS)
	}
	var a, b []string
	for _, r := range bin.flows {
		a = append(a, key(r))
	}
	for _, r := range csv.flows {
		b = append(b, key(r))
	}
	slices.Sort(a)
	slices.Sort(b)
	if !slices.Equal(a, b) {
		for i := range a {
			if i < len(b) && a[i] != b[i] {
				t.Fatalf("first difference: binary %q, csv %q", a[i], b[i])
			}
		}
		t.Fatalf("binary %d flows, csv %d flows", len(a), len(b))
	}
}

// Round trip: a synthetic capture through Debian's nfpcapd gives an nfcapd
// file whose flows spotctl reads with the same packet and byte totals as
// nfdump reports, and as spotctl's own flows from the capture.
func TestRoundTripNfpcapd(t *testing.T) {
	nfpcapd := decodetest.Tool(t, "nfpcapd", "nfdump")
	nfdump := decodetest.Tool(t, "nfdump", "nfdump")
	dir := t.TempDir()
	pcap := filepath.Join(dir, "synth.pcap")
	f, err := os.Create(pcap)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if _, err := synth.Write(w, synth.Options{Seed: 5, Hosts: 10, Packets: 30000}); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	f.Close()
	out := filepath.Join(dir, "nf")
	os.Mkdir(out, 0o755)
	if b, err := exec.Command(nfpcapd, "-r", pcap, "-w", out, "-e", "300,60").CombinedOutput(); err != nil {
		t.Fatalf("nfpcapd: %v\n%s", err, b)
	}
	files, _ := filepath.Glob(filepath.Join(out, "nfcapd.*"))
	if len(files) == 0 {
		t.Fatal("nfpcapd wrote no file")
	}
	slices.Sort(files)
	ours := readAll(t, DefaultOptions(), files...)
	if len(ours.errs) > 0 {
		t.Fatalf("problems reading nfpcapd output: %v", ours.errs)
	}
	var pk, by uint64
	for _, r := range ours.flows {
		pk += r.Packets
		by += r.Bytes
	}
	// nfdump's own totals of the same files.
	wantFlows, wantPk, wantBy := nfdumpTotals(t, nfdump, files)
	if uint64(len(ours.flows)) != wantFlows || pk != wantPk || by != wantBy {
		t.Errorf("spotctl reads %d flows, %d packets, %d bytes from nfpcapd's files; nfdump reports %d, %d, %d",
			len(ours.flows), pk, by, wantFlows, wantPk, wantBy)
	}
	// And the capture itself, through spotctl's own flow assembly.
	direct := readAll(t, DefaultOptions(), pcap)
	var dpk, dby uint64
	for _, r := range direct.flows {
		dpk += r.Packets
		dby += r.Bytes
	}
	if dpk != pk || dby != by {
		t.Errorf("capture ingested directly: %d packets, %d bytes; via nfpcapd: %d, %d", dpk, dby, pk, by)
	}
}

// nfdumpTotals is what nfdump reports for nfcapd files: flows, packets and
// bytes summed over every record.
func nfdumpTotals(t *testing.T, nfdump string, files []string) (flows, packets, bytes uint64) {
	t.Helper()
	for _, file := range files {
		out, err := exec.Command(nfdump, "-r", file, "-q", "-N", "-o", "fmt:%ipkt %ibyt").Output()
		if err != nil {
			t.Fatalf("nfdump -r %s: %v", file, err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			fs := strings.Fields(line)
			if len(fs) != 2 {
				continue
			}
			p, _ := strconv.ParseUint(fs[0], 10, 64)
			b, _ := strconv.ParseUint(fs[1], 10, 64)
			flows, packets, bytes = flows+1, packets+p, bytes+b
		}
	}
	return
}
