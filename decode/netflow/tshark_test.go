package netflow

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spotctl/spotctl/decode/decodetest"
	"github.com/spotctl/spotctl/decode/flow"
)

// tsharkRecords runs tshark's cflow dissector over a capture (every UDP
// port of the capture decoded as cflow) and returns, per frame, the flow
// records it shows, rendered like liveKey. A record is an object holding a
// source address and a packet or byte counter (as in cflow2tsv.py).
func tsharkRecords(t *testing.T, tshark, path string, ports []uint16) map[int][]string {
	t.Helper()
	args := []string{"-r", path, "-T", "json", "--no-duplicate-keys"}
	for _, p := range ports {
		args = append(args, "-d", fmt.Sprintf("udp.port==%d,cflow", p))
	}
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", path, err)
	}
	var pkts []struct {
		Source struct {
			Layers map[string]any `json:"layers"`
		} `json:"_source"`
	}
	if err := json.Unmarshal(out, &pkts); err != nil {
		t.Fatalf("tshark json: %v", err)
	}
	res := map[int][]string{}
	for _, p := range pkts {
		fr, _ := p.Source.Layers["frame"].(map[string]any)
		n, _ := strconv.Atoi(str(fr["frame.number"]))
		walkFlows(p.Source.Layers["cflow"], func(m map[string]any) {
			res[n] = append(res[n], tsharkFlowKey(m))
		})
	}
	return res
}

// str returns a JSON string value, or the first element of a list (tshark
// lists repeated fields; RFC 5103 reverse elements come second).
func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		if len(x) > 0 {
			return str(x[0])
		}
	}
	return ""
}

func walkFlows(v any, fn func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		_, a := x["cflow.srcaddr"]
		_, b := x["cflow.srcaddrv6"]
		_, c := x["cflow.packets"]
		_, d := x["cflow.octets"]
		_, e := x["cflow.packets64"]
		_, f := x["cflow.octets64"]
		if (a || b) && (c || d || e || f) {
			fn(x)
			return
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys) // tshark names flows "Flow 1", "Flow 2": order does not matter for multisets
		for _, k := range keys {
			walkFlows(x[k], fn)
		}
	case []any:
		for _, y := range x {
			walkFlows(y, fn)
		}
	}
}

// find returns the first value of the named fields at any depth of m.
func find(m map[string]any, names ...string) string {
	for _, n := range names {
		if v, ok := m[n]; ok {
			if s := str(v); s != "" {
				return s
			}
		}
	}
	for _, v := range m {
		if sub, ok := v.(map[string]any); ok {
			if s := find(sub, names...); s != "" {
				return s
			}
		}
	}
	return ""
}

func parseAbs(t *testing.T, s string) int64 {
	tm, err := time.Parse("Jan 2, 2006 15:04:05.000000000 MST", s)
	if err != nil {
		t.Fatalf("tshark time %q: %v", s, err)
	}
	return tm.UnixMilli()
}

func tsharkFlowKey(m map[string]any) string {
	src := find(m, "cflow.srcaddr")
	if v6 := find(m, "cflow.srcaddrv6"); v6 != "" && (src == "" || src == "0.0.0.0") {
		src = v6
	}
	dst := find(m, "cflow.dstaddr")
	if v6 := find(m, "cflow.dstaddrv6"); v6 != "" && (dst == "" || dst == "0.0.0.0") {
		dst = v6
	}
	sport, dport, proto := orZero(find(m, "cflow.srcport")), orZero(find(m, "cflow.dstport")), find(m, "cflow.protocol")
	if proto == "1" || proto == "58" {
		tc := find(m, "cflow.icmp_type_code_ipv4", "cflow.icmp_type_code_ipv6")
		if v, err := strconv.ParseUint(tc, 0, 16); err == nil {
			dport = strconv.FormatUint(v, 10)
		}
		sport = "0"
	}
	pk := find(m, "cflow.packets", "cflow.packets64")
	by := find(m, "cflow.octets", "cflow.octets64")
	times := ""
	// tshark prints a sysUptime-relative 0 as the epoch (reftools T3);
	// such times are not compared.
	const epoch = "Jan  1, 1970 00:00:00.000000000 UTC"
	if s, e := find(m, "cflow.abstimestart"), find(m, "cflow.abstimeend"); s != "" && e != "" && s != epoch && e != epoch && find(m, "cflow.timestart") == "" {
		times = fmt.Sprintf(" %s..%s", s, e)
	}
	return fmt.Sprintf("%s %s %s %s %s pk=%s by=%s%s", src, dst, sport, dport, proto, orZero(pk), orZero(by), times) + tsharkExtra(m)
}

// tsharkExtra renders the other fields tshark shows, as liveKey does.
func tsharkExtra(m map[string]any) string {
	num := func(names ...string) string {
		v := find(m, names...)
		if n, err := strconv.ParseUint(v, 0, 64); err == nil {
			return strconv.FormatUint(n, 10)
		}
		return "0"
	}
	hop := find(m, "cflow.nexthop", "cflow.nexthopv6")
	if hop == "" {
		hop = find(m, "cflow.bgpnexthop", "cflow.bgpnexthopv6")
	}
	if hop == "0.0.0.0" || hop == "" {
		hop = "-"
	}
	return fmt.Sprintf(" if=%s/%s as=%s/%s mask=%s/%s tos=%s fl=%s hop=%s", num("cflow.inputint"), num("cflow.outputint"),
		num("cflow.srcas"), num("cflow.dstas"), num("cflow.srcmask", "cflow.srcmaskv6"), num("cflow.dstmask", "cflow.dstmaskv6"),
		num("cflow.tos"), num("cflow.tcpflags"), hop)
}

func liveExtra(r *flow.Record) string {
	hop := r.NextHop.String()
	if hop == "0.0.0.0" || r.NextHop == (flow.Addr{}) {
		hop = "-"
	}
	return fmt.Sprintf(" if=%d/%d as=%d/%d mask=%d/%d tos=%d fl=%d hop=%s", r.InIf, r.OutIf, r.SrcAS, r.DstAS, r.SrcMask, r.DstMask, r.ToS, r.TCPFlags, hop)
}

func liveKey(r *flow.Record, withTimes bool) string {
	k := fmt.Sprintf("%s %s %d %d %d pk=%d by=%d", r.Src, r.Dst, r.SrcPort, r.DstPort, r.Proto, r.Packets, r.Bytes)
	if withTimes {
		f := "Jan _2, 2006 15:04:05.000000000 UTC"
		k += fmt.Sprintf(" %s..%s", time.Unix(0, r.First).UTC().Format(f), time.Unix(0, r.Last).UTC().Format(f))
	}
	return k + liveExtra(r)
}

// tsharkBlind lists, per capture and frame, records we decode that tshark
// cannot show, and why:
//   - akvorado_nfv9_data+templates frame 1: the first data flowset (11
//     records of template 257) comes before the template flowset in the
//     same datagram; tshark does not hold data for a later template.
//   - graylog_netflow9 frames 1, 7, 9: the exporter's v9 header count covers
//     data records only (reftools S3); tshark stops at the count, so it never
//     sees template 2048 of frame 1 (nor the data record after it), and
//     later cannot decode that template's data.
var tsharkBlind = map[string]map[int]int{
	"akvorado_nfv9_data+templates.pcap": {1: 11},
	"graylog_netflow9.pcap":             {1: 1, 7: 1, 9: 1},
}

// TestSharedCapturesMatchTshark runs tshark's cflow dissector over every
// capture of shared netflow-pcap/ and compares, per export datagram, the
// records we decode (each file alone, like tshark) with the ones it shows:
// the same number, and as multisets the same 5-tuple, packets and bytes,
// plus start and end where tshark prints absolute times.
func TestSharedCapturesMatchTshark(t *testing.T) {
	tshark := decodetest.Tool(t, "tshark", "tshark")
	for _, path := range decodetest.SharedFiles(t, "netflow-pcap") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			dgs := udpPayloads(t, path)
			portSet := map[uint16]bool{}
			for _, g := range dgs {
				portSet[g.dport] = true
			}
			var ports []uint16
			for p := range portSet {
				ports = append(ports, p)
			}
			sort.Slice(ports, func(i, j int) bool { return ports[i] < ports[j] })
			want := tsharkRecords(t, tshark, path, ports)
			d := NewDecoder(Options{})
			total := 0
			for _, g := range dgs {
				w := want[g.frame]
				total += len(w)
				// tshark prints absolute times only for some templates;
				// render ours with times when it does.
				withTimes := len(w) > 0
				for _, k := range w {
					withTimes = withTimes && strings.Contains(k, " UTC..")
				}
				if !withTimes {
					for i, k := range w {
						if j := strings.Index(k, " UTC.."); j >= 0 {
							e := strings.Index(k[j:], " UTC ") // end of the end time
							b := strings.LastIndex(k[:j], " by=")
							b += strings.IndexByte(k[b+1:], ' ') + 1
							w[i] = k[:b] + k[j+e+4:]
						}
					}
				}
				var got []string
				_ = d.Datagram(g.src, g.sport, g.ts, g.payload, 0, func(r *flow.Record) {
					got = append(got, liveKey(r, withTimes))
				})
				extra := tsharkBlind[filepath.Base(path)][g.frame]
				if len(got) != len(w)+extra {
					t.Errorf("frame %d: %d records, tshark shows %d (+%d it cannot see)", g.frame, len(got), len(w), extra)
				}
				diff := diffMultisets(got, w)
				if extra > 0 {
					diff = missingFrom(got, w) // ours must hold all tshark shows
				}
				if len(diff) > 0 {
					t.Errorf("frame %d: %d records, tshark %d:\n%s", g.frame, len(got), len(w), strings.Join(diff, "\n"))
				}
			}
			_ = d.Flush()
			t.Logf("%d records", total)
		})
	}
}

// missingFrom lists the entries of want that got lacks.
func missingFrom(got, want []string) []string {
	count := map[string]int{}
	for _, k := range got {
		count[k]++
	}
	var out []string
	for _, k := range want {
		if count[k] == 0 {
			out = append(out, "only reference: "+k)
			continue
		}
		count[k]--
	}
	return out
}
