package pcap

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/spotctl/spotctl/decode/decodetest"
)

// manifestCounts reads the packet counts (from capinfos) that MANIFEST.md
// lists for the shared captures, keyed by "folder/name".
func manifestCounts(t *testing.T) map[string]int {
	t.Helper()
	path := filepath.Join(decodetest.SharedDir(t), "MANIFEST.md")
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open manifest: %v", err)
	}
	defer f.Close()
	pkts := regexp.MustCompile(`^(\d+) pkts$`)
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cells := strings.Split(sc.Text(), "|")
		if len(cells) < 3 {
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[1]), "`")
		for _, c := range cells[2:] {
			if m := pkts.FindStringSubmatch(strings.TrimSpace(c)); m != nil {
				n, _ := strconv.Atoi(m[1])
				counts[name] = n
				break
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read manifest: %v", err)
	}
	return counts
}

// TestSharedCaptures reads every real capture to a clean end, checks the
// packet count against the manifest and every packet against gopacket's
// pcapgo reader.
func TestSharedCaptures(t *testing.T) {
	counts := manifestCounts(t)
	var files []string
	for _, sub := range []string{"pcap", "netflow-pcap"} {
		files = append(files, decodetest.SharedFiles(t, sub)...)
	}
	if len(files) < 40 {
		t.Fatalf("only %d shared captures found", len(files))
	}
	for _, path := range files {
		key := filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path)
		t.Run(key, func(t *testing.T) {
			want, ok := counts[key]
			if !ok {
				t.Fatalf("no packet count for %s in MANIFEST.md", key)
			}
			content, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			res := readClean(t, content)
			if len(res.Packets) != want {
				t.Errorf("%d packets, manifest says %d", len(res.Packets), want)
			}
			compareWithPcapgo(t, content, res.Packets)
		})
	}
}

// TestGeneratedCaptures covers the team's own captures (NetFlow exports of
// each variant, the loopback capture with 40 KB segments): clean end and
// agreement with pcapgo.
func TestGeneratedCaptures(t *testing.T) {
	dir := decodetest.SharedDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "generated", "*", "*.pcap"))
	if len(files) < 2 {
		t.Fatalf("only %d generated captures found", len(files))
	}
	for _, path := range files {
		t.Run(strings.TrimPrefix(path, dir+"/generated/"), func(t *testing.T) {
			content, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			res := readClean(t, content) // some exports are header-only: 0 packets
			if filepath.Base(path) == "spotctl_loopback.pcap" && len(res.Packets) != 2560 {
				t.Errorf("%d packets, README says 2560", len(res.Packets))
			}
			compareWithPcapgo(t, content, res.Packets)
		})
	}
}

func readClean(t *testing.T, content []byte) result {
	t.Helper()
	res, err := readAll(t, content)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	if len(res.Errors) > 0 || !res.CleanEOF {
		t.Fatalf("errors %+v, clean EOF %v", res.Errors, res.CleanEOF)
	}
	wantFormat := "pcap"
	if bytes.HasPrefix(content, []byte("\n\r\r\n")) {
		wantFormat = "pcapng"
	}
	if res.Format != wantFormat {
		t.Errorf("format %q, want %q", res.Format, wantFormat)
	}
	return res
}

// compareWithPcapgo reads content with gopacket's pcapgo (test-only use)
// and requires the same frames: timestamp, lengths, bytes and link type.
func compareWithPcapgo(t *testing.T, content []byte, pkts []got) {
	t.Helper()
	type source interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var src source
	var link func(gopacket.CaptureInfo) uint16
	if bytes.HasPrefix(content, []byte("\n\r\r\n")) {
		r, err := pcapgo.NewNgReader(bytes.NewReader(content), pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			t.Fatalf("pcapgo: %v", err)
		}
		src = r
		link = func(ci gopacket.CaptureInfo) uint16 { return uint16(ci.AncillaryData[0].(layers.LinkType)) }
	} else {
		r, err := pcapgo.NewReader(bytes.NewReader(content))
		if err != nil {
			t.Fatalf("pcapgo: %v", err)
		}
		src = r
		link = func(gopacket.CaptureInfo) uint16 { return uint16(r.LinkType()) }
	}
	for i := 0; ; i++ {
		data, ci, err := src.ReadPacketData()
		if err == io.EOF {
			if i != len(pkts) {
				t.Errorf("pcapgo read %d packets, we read %d", i, len(pkts))
			}
			return
		}
		if err != nil {
			t.Fatalf("pcapgo packet %d: %v", i, err)
		}
		if i >= len(pkts) {
			t.Fatalf("pcapgo has more than our %d packets", len(pkts))
		}
		p := pkts[i]
		if ts := ci.Timestamp.UnixNano(); ts != p.TS {
			t.Errorf("packet %d: ts %d, pcapgo %d", i, p.TS, ts)
		}
		if ci.CaptureLength != len(p.Data) || ci.Length != int(p.WireLen) || !bytes.Equal(data, p.Data) {
			t.Errorf("packet %d: caplen %d wire %d, pcapgo caplen %d wire %d (or bytes differ)", i, len(p.Data), p.WireLen, ci.CaptureLength, ci.Length)
		}
		if lt := link(ci); lt != p.LinkType {
			t.Errorf("packet %d: link type %d, pcapgo %d", i, p.LinkType, lt)
		}
	}
}

// TestMultiInterfaceTimestamps pins the per-interface resolutions of a
// merged capture against tshark 4.0.17's frame.time_epoch: interface 0 has
// if_tsresol 9 (ns), interface 1 the default µs.
func TestMultiInterfaceTimestamps(t *testing.T) {
	content, err := os.ReadFile(filepath.Join(decodetest.SharedDir(t), "pcap", "zeek_pcapng-multi-interface.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{
		1767663089500330493,
		1767663089514291940,
		1767663437111897000,
		1767663437126460000,
		1767663437128303000,
		1767663437140942000,
	}
	res := readClean(t, content)
	if len(res.Packets) != len(want) {
		t.Fatalf("%d packets, want %d", len(res.Packets), len(want))
	}
	for i, p := range res.Packets {
		if p.TS != want[i] {
			t.Errorf("packet %d: ts %d, tshark says %d", i, p.TS, want[i])
		}
	}
}

// TestEditcapFixtures reads captures that Wireshark's editcap wrote from a
// shared capture (see testdata/README.md): nanosecond pcap, pcapng with
// if_tsresol 9, and two concatenated sections of different resolution.
// Each must give the original's packets.
func TestEditcapFixtures(t *testing.T) {
	orig, err := os.ReadFile(filepath.Join(decodetest.SharedDir(t), "pcap", "tcpdump_dns_udp.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	base := readClean(t, orig).Packets
	for _, c := range []struct {
		file   string
		format string
		copies int
	}{
		{"dns_udp.nsec.pcap", "pcap-ns", 1},
		{"dns_udp.nsec.pcapng", "pcapng", 1},
		{"two_sections.pcapng", "pcapng", 2},
	} {
		t.Run(c.file, func(t *testing.T) {
			content, err := os.ReadFile(filepath.Join("testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			res, err := readAll(t, content)
			if err != nil || len(res.Errors) > 0 || !res.CleanEOF {
				t.Fatalf("err %v, errors %+v", err, res.Errors)
			}
			if res.Format != c.format {
				t.Errorf("format %q, want %q", res.Format, c.format)
			}
			if len(res.Packets) != c.copies*len(base) {
				t.Fatalf("%d packets, want %d", len(res.Packets), c.copies*len(base))
			}
			for i, p := range res.Packets {
				w := base[i%len(base)]
				if p.TS != w.TS || p.WireLen != w.WireLen || p.LinkType != w.LinkType || !bytes.Equal(p.Data, w.Data) {
					t.Errorf("packet %d: ts %d wire %d lt %d, want ts %d wire %d lt %d", i, p.TS, p.WireLen, p.LinkType, w.TS, w.WireLen, w.LinkType)
				}
			}
			compareWithPcapgo(t, content, res.Packets)
		})
	}
}
