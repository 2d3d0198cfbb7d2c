package evidence

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spotctl/spotctl/decode/decodetest"
	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/decode/netflow"
	"github.com/spotctl/spotctl/decode/synth"
)

// TestRoundTripSoftflowd: a synthetic capture goes through Debian's
// softflowd, which exports NetFlow v5, v9 and IPFIX over UDP on loopback.
// The test receives every export datagram, decodes it with spotctl's
// decoder and forwards it to Debian's nfcapd; spotctl's totals must equal
// nfdump's totals of the nfcapd file made from the same datagrams.
func TestRoundTripSoftflowd(t *testing.T) {
	softflowd := decodetest.Tool(t, "softflowd", "softflowd")
	nfcapdBin := decodetest.Tool(t, "nfcapd", "nfdump")
	nfdump := decodetest.Tool(t, "nfdump", "nfdump")
	dir := t.TempDir()
	pcap := filepath.Join(dir, "synth.pcap")
	f, err := os.Create(pcap)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if _, err := synth.Write(w, synth.Options{Seed: 9, Hosts: 8, Packets: 20000, IPv6Share: -1}); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	f.Close()
	for _, v := range []string{"5", "9", "10"} {
		t.Run("v"+v, func(t *testing.T) {
			roundTrip(t, softflowd, nfcapdBin, nfdump, pcap, v)
		})
	}
}

func roundTrip(t *testing.T, softflowd, nfcapdBin, nfdump, pcap, version string) {
	// Our listener for softflowd, and a free port for nfcapd.
	in, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	probe, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	nfPort := probe.LocalAddr().(*net.UDPAddr).Port
	probe.Close()
	outDir := filepath.Join(t.TempDir(), "nfcapd")
	os.Mkdir(outDir, 0o755)
	collector := exec.Command(nfcapdBin, "-b", "127.0.0.1", "-p", strconv.Itoa(nfPort), "-w", outDir)
	if err := collector.Start(); err != nil {
		t.Fatal(err)
	}
	defer collector.Process.Kill()
	// Wait (at most 10 s) until nfcapd holds its port: then we cannot bind it.
	for start := time.Now(); ; {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: nfPort})
		if err != nil {
			break
		}
		c.Close()
		if time.Since(start) > 10*time.Second {
			t.Fatal("nfcapd did not bind its port within 10 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	fwd, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: nfPort})
	if err != nil {
		t.Fatal(err)
	}
	defer fwd.Close()

	// Receive and forward until softflowd has finished and the socket is quiet.
	type dgram struct {
		b    []byte
		from *net.UDPAddr
	}
	got := make(chan dgram, 4096)
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := in.ReadFromUDP(buf)
			if err != nil {
				close(got)
				return
			}
			got <- dgram{append([]byte(nil), buf[:n]...), from}
		}
	}()
	port := in.LocalAddr().(*net.UDPAddr).Port
	sf := exec.Command(softflowd, "-a", "-r", filepath.Base(pcap), "-n", "127.0.0.1:"+strconv.Itoa(port), "-v", version)
	sf.Dir = filepath.Dir(pcap)
	if b, err := sf.CombinedOutput(); err != nil {
		t.Fatalf("softflowd: %v\n%s", err, b)
	}
	d := netflow.NewDecoder(netflow.Options{})
	var flows, packets, bytes uint64
	deadline := time.After(20 * time.Second)
	quiet := time.NewTimer(time.Second)
	datagrams := 0
loop:
	for {
		select {
		case g := <-got:
			datagrams++
			if _, err := fwd.Write(g.b); err != nil {
				t.Fatal(err)
			}
			exp := flow.AddrFromSlice(g.from.IP.To4())
			if err := d.Datagram(exp, uint16(g.from.Port), time.Now().UnixNano(), g.b, 0, func(r *flow.Record) {
				flows, packets, bytes = flows+1, packets+r.Packets, bytes+r.Bytes
			}); err != nil {
				t.Errorf("datagram %d: %v", datagrams, err)
			}
			quiet.Reset(time.Second)
		case <-quiet.C:
			break loop
		case <-deadline:
			t.Fatal("no quiet second within 20 s")
		}
	}
	if datagrams == 0 {
		t.Fatal("softflowd sent nothing")
	}
	// nfcapd writes its file when it ends.
	time.Sleep(200 * time.Millisecond)
	collector.Process.Signal(syscall.SIGTERM)
	collector.Wait()
	files, _ := filepath.Glob(filepath.Join(outDir, "nfcapd.*"))
	files = slices.DeleteFunc(files, func(s string) bool { return strings.Contains(s, "current") })
	if len(files) == 0 {
		t.Fatal("nfcapd wrote no file")
	}
	wf, wp, wb := nfdumpTotals(t, nfdump, files)
	if flows != wf || packets != wp || bytes != wb {
		t.Errorf("NetFlow v%s, %d datagrams: spotctl decodes %d flows, %d packets, %d bytes; nfdump %d, %d, %d",
			version, datagrams, flows, packets, bytes, wf, wp, wb)
	}
	t.Logf("NetFlow v%s: %d datagrams, %d flows, %d packets, %d bytes", version, datagrams, flows, packets, bytes)
}
