package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/decodetest"
	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/decode/input"
	"github.com/spotctl/spotctl/decode/packet"
	"github.com/spotctl/spotctl/decode/pcap"
)

// result is everything one pipeline run produced.
type result struct {
	flows  []flow.Record
	dns    []flow.DNSMessage
	stats  []FileStats
	errors []*decode.Error
}

func (r *result) totals() (packets, bytes uint64) {
	for _, f := range r.flows {
		packets += f.Packets
		bytes += f.Bytes
	}
	return
}

// run reads the files through one pipeline, in order, as ingest does.
func run(t *testing.T, files ...string) *result {
	t.Helper()
	res := &result{}
	p := New(DefaultOptions(),
		func(r *flow.Record) { res.flows = append(res.flows, *r) },
		func(m *flow.DNSMessage) {
			c := *m
			c.Answers = slices.Clone(m.Answers)
			res.dns = append(res.dns, c)
		})
	for i, f := range files {
		ev, err := input.Open(f)
		if err != nil {
			t.Fatalf("open %s: %v", f, err)
		}
		st, err := p.ReadFile(ev.Content(), f, uint32(i), func(e *decode.Error) error {
			res.errors = append(res.errors, e)
			return nil
		})
		ev.Close()
		if err != nil {
			t.Fatalf("read %s: %v", f, err)
		}
		res.stats = append(res.stats, st)
	}
	p.Flush()
	return res
}

func sharedCaptures(t *testing.T) []string {
	files := decodetest.SharedFiles(t, "pcap")
	if len(files) < 25 {
		t.Fatalf("only %d shared captures", len(files))
	}
	return files
}

// tsharkCounts runs tshark once over a capture and returns what it counts:
// frames with an IPv4 or IPv6 header (the outermost one decides) and the
// sum of their L3 lengths (ip.len, or ipv6.plen + 40); and the DNS queries
// and responses on port 53 as tshark dissects them (fragments reassembled,
// several messages per TCP segment). DNS quoted inside an ICMP error is not
// a message on the wire and is left out.
func tsharkCounts(t *testing.T, tshark, file string) (packets, bytes uint64, queries, responses int) {
	t.Helper()
	out, err := exec.Command(tshark, "-r", file, "-n", "-T", "fields",
		"-e", "frame.protocols", "-e", "ip.len", "-e", "ipv6.plen",
		"-e", "udp.port", "-e", "tcp.port", "-e", "dns.flags.response",
		"-E", "occurrence=a", "-E", "aggregator=,").Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", file, err)
	}
	first := func(s string) string { v, _, _ := strings.Cut(s, ","); return v }
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 6 {
			continue
		}
		protos := ":" + f[0] + ":"
		i4, i6 := strings.Index(protos, ":ip:"), strings.Index(protos, ":ipv6:")
		switch {
		case i4 >= 0 && (i6 < 0 || i4 < i6) && f[1] != "":
			n, _ := strconv.ParseUint(first(f[1]), 10, 64)
			packets, bytes = packets+1, bytes+n
		case i6 >= 0 && f[2] != "":
			n, _ := strconv.ParseUint(first(f[2]), 10, 64)
			packets, bytes = packets+1, bytes+n+40
		}
		if !strings.Contains(protos, ":dns:") || strings.Contains(protos, ":icmp:") || strings.Contains(protos, ":icmpv6:") {
			continue
		}
		if !slices.Contains(strings.Split(f[3], ","), "53") && !slices.Contains(strings.Split(f[4], ","), "53") {
			continue
		}
		for _, v := range strings.Split(f[5], ",") {
			switch v {
			case "0", "False":
				queries++
			case "1", "True":
				responses++
			}
		}
	}
	return
}

// TestTotalsMatchTshark is issue 2's acceptance check: over every shared
// capture, the packets and bytes of all flows equal tshark's count of IP
// packets and their L3 length, and the DNS queries and responses on port 53
// equal tshark's.
func TestTotalsMatchTshark(t *testing.T) {
	tshark := decodetest.Tool(t, "tshark", "tshark")
	for _, file := range sharedCaptures(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			res := run(t, file)
			if len(res.errors) > 0 {
				t.Errorf("clean capture reported problems: %v", res.errors)
			}
			gotP, gotB := res.totals()
			wantP, wantB, wq, wr := tsharkCounts(t, tshark, file)
			if gotP != wantP || gotB != wantB {
				t.Errorf("flows hold %d packets / %d bytes; tshark counts %d IP packets / %d bytes", gotP, gotB, wantP, wantB)
			}
			var q, r int
			for _, m := range res.dns {
				if m.Response {
					r++
				} else {
					q++
				}
			}
			if q != wq || r != wr {
				t.Errorf("DNS: %d queries, %d responses; tshark: %d, %d", q, r, wq, wr)
			}
		})
	}
}

// TestSplitCaptureEqualsWhole: a capture cut into three files with editcap
// -c and ingested together gives exactly the flows of the whole file.
func TestSplitCaptureEqualsWhole(t *testing.T) {
	editcap := decodetest.Tool(t, "editcap", "wireshark-common")
	for _, file := range sharedCaptures(t) {
		whole := run(t, file)
		var frames uint64
		for _, st := range whole.stats {
			frames += st.Frames
		}
		if frames < 30 {
			continue
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			dir := t.TempDir()
			per := (frames + 2) / 3
			out := filepath.Join(dir, "part.pcap")
			if b, err := exec.Command(editcap, "-c", strconv.FormatUint(per, 10), file, out).CombinedOutput(); err != nil {
				t.Fatalf("editcap: %v\n%s", err, b)
			}
			ents, _ := os.ReadDir(dir)
			var parts []string
			for _, e := range ents {
				parts = append(parts, filepath.Join(dir, e.Name()))
			}
			slices.Sort(parts)
			if len(parts) != 3 {
				t.Fatalf("editcap made %d files, want 3", len(parts))
			}
			split := run(t, parts...)
			if !equalFlows(whole.flows, split.flows) {
				t.Errorf("split into 3 files: %d flows, whole file: %d flows; first difference: %s",
					len(split.flows), len(whole.flows), firstDiff(whole.flows, split.flows))
			}
			if len(split.dns) != len(whole.dns) {
				t.Errorf("split: %d DNS messages, whole: %d", len(split.dns), len(whole.dns))
			}
		})
	}
}

// equalFlows compares flows ignoring the evidence index (which file a flow
// started in necessarily differs).
func equalFlows(a, b []flow.Record) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		x.Evidence, y.Evidence = 0, 0
		if x != y {
			return false
		}
	}
	return true
}

func firstDiff(a, b []flow.Record) string {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		x.Evidence, y.Evidence = 0, 0
		if x != y {
			return fmt.Sprintf("#%d %+v vs %+v", i, x, y)
		}
	}
	return "length"
}

// TestDeterministic: the same evidence gives the same records, whatever
// GOMAXPROCS is.
func TestDeterministic(t *testing.T) {
	files := sharedCaptures(t)
	prev := runtime.GOMAXPROCS(1)
	one := run(t, files...)
	runtime.GOMAXPROCS(2)
	two := run(t, files...)
	runtime.GOMAXPROCS(prev)
	if !slices.Equal(one.flows, two.flows) {
		t.Error("flows differ between GOMAXPROCS=1 and 2")
	}
	if len(one.dns) != len(two.dns) {
		t.Fatal("DNS differs between runs")
	}
	for i := range one.dns {
		if fmt.Sprint(one.dns[i]) != fmt.Sprint(two.dns[i]) {
			t.Fatalf("DNS message %d differs", i)
		}
	}
}

// boundaries walks a capture's structure directly (record headers in pcap,
// block lengths in pcapng) and returns every offset at which a cut leaves
// only whole records, and, per packet record, where it ends and whether it
// is an IP packet.
func boundaries(t *testing.T, content []byte) (clean map[int64]bool, ends []int64, isIP []bool) {
	t.Helper()
	clean = map[int64]bool{}
	r, err := pcap.NewReader(bytes.NewReader(content), "x")
	if err != nil {
		t.Fatal(err)
	}
	var d packet.Decoder
	var info packet.Info
	for {
		pkt, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("clean read: %v", err)
		}
		ends = append(ends, r.Offset())
		isIP = append(isIP, d.Decode(pkt.LinkType, pkt.Data, &info) == nil)
	}
	if len(content) >= 4 && binary.LittleEndian.Uint32(content) == 0x0a0d0d0a {
		// pcapng: every block boundary (a cut there is a clean end).
		for off := 0; off+12 <= len(content); {
			var n uint32
			if content[8] == 0x4d { // byte-order magic 1a2b3c4d little-endian
				n = binary.LittleEndian.Uint32(content[off+4:])
			} else {
				n = binary.BigEndian.Uint32(content[off+4:])
			}
			if n < 12 || off+int(n) > len(content) {
				break
			}
			off += int(n)
			clean[int64(off)] = true
		}
	} else {
		for _, e := range ends {
			clean[e] = true
		}
		clean[24] = true
	}
	return
}

// TestTruncatedCaptures cuts every shared capture at ten random offsets:
// no panic, a warning that names the file and an offset, and every IP
// packet that lies wholly before the cut still counted in the flows.
func TestTruncatedCaptures(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, file := range sharedCaptures(t) {
		content, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		clean, ends, isIP := boundaries(t, content)
		for k := 0; k < 10; k++ {
			cut := 1 + rng.IntN(len(content)-1)
			name := fmt.Sprintf("%s@%d", filepath.Base(file), cut)
			t.Run(name, func(t *testing.T) {
				var want uint64
				for i, e := range ends {
					if e <= int64(cut) && isIP[i] {
						want++
					}
				}
				var got uint64
				var errs []*decode.Error
				p := New(DefaultOptions(), func(r *flow.Record) { got += r.Packets }, func(*flow.DNSMessage) {})
				_, err := p.ReadFile(bytes.NewReader(content[:cut]), name, 0, func(e *decode.Error) error {
					errs = append(errs, e)
					return nil
				})
				p.Flush()
				if err != nil {
					t.Fatalf("ReadFile: %v", err)
				}
				if got != want {
					t.Errorf("cut at %d: flows hold %d packets, %d IP packets lie before the cut", cut, got, want)
				}
				if !clean[int64(cut)] && (len(errs) == 0 || !strings.Contains(errs[0].Error(), name) || errs[0].Offset < 0 || errs[0].Offset > int64(cut)) {
					t.Errorf("cut at %d: want a warning naming the file and an offset ≤ the cut, got %v", cut, errs)
				}
			})
		}
	}
}
