package synth

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestTsharkClean has Wireshark's dissectors judge the output: no
// malformed packet, no error-level expert info (bad checksums included),
// and the DNS and TLS it finds agree with what the generator says it wrote.
func TestTsharkClean(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed (apt-get install tshark); skipping the Wireshark cross-check")
	}
	if testing.Short() {
		t.Skip("runs tshark over a capture")
	}
	o := Options{Seed: 31, Hosts: 40, Start: busy, Duration: 8 * time.Minute, IPv6Share: 0.3}
	b, st := generate(t, o)
	file := filepath.Join(t.TempDir(), "synth.pcap")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		args = append([]string{"-n", "-r", file,
			"-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE"}, args...)
		cmd := exec.Command(tshark, args...)
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("tshark %s: %v", strings.Join(args, " "), err)
		}
		return string(out)
	}
	bad := run("-Y", "_ws.malformed || _ws.expert.severity == error", "-T", "fields", "-e", "frame.number", "-e", "_ws.col.Protocol", "-e", "_ws.col.Info")
	if bad != "" {
		lines := strings.Split(strings.TrimSpace(bad), "\n")
		t.Errorf("tshark finds %d malformed or erroneous frames, first: %s", len(lines), strings.Join(lines[:min(5, len(lines))], " | "))
	}

	out := run("-Y", "dns || tls.handshake.type == 1", "-T", "fields", "-E", "separator=/t", "-e", "frame.number", "-e", "dns.flags.response", "-e", "tls.handshake.extensions_server_name")
	var queries, responses, sni, frames int
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			continue
		}
		frames++
		// A frame can end several PDUs (DNS over TCP); count each value.
		for _, v := range strings.Split(f[1], ",") {
			switch v {
			case "0", "False":
				queries++
			case "1", "True":
				responses++
			}
		}
		if f[2] != "" {
			sni++
		}
	}
	if queries != st.DNSQueries || responses != st.DNSResponses {
		t.Errorf("tshark sees %d DNS queries and %d responses; stats say %d and %d", queries, responses, st.DNSQueries, st.DNSResponses)
	}
	if sni == 0 {
		t.Errorf("tshark finds no ClientHello with a server name")
	}
	count := strings.TrimSpace(run("-q", "-z", "io,stat,0"))
	if !strings.Contains(count, "|"+itoa(st.Packets)+" ") && !strings.Contains(count, " "+itoa(st.Packets)+" ") {
		t.Errorf("tshark io,stat does not show %d frames:\n%s", st.Packets, count)
	}
	t.Logf("%d packets; tshark: %d DNS queries, %d responses, %d ClientHellos with SNI", st.Packets, queries, responses, sni)
}

// TestTsharkInjected has Wireshark judge every injected frame: none is
// malformed or carries an error-level expert note, and the DNS messages
// tshark counts match the generator's statistics.
func TestTsharkInjected(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed (apt-get install tshark); skipping the Wireshark cross-check")
	}
	if testing.Short() {
		t.Skip("runs tshark over a capture")
	}
	o := Options{Seed: 33, Hosts: 20, Start: busy, Duration: 25 * time.Minute, IPv6Share: 0.3, Inject: mustInject(t, allKinds)}
	b, st, frames := generateTapped(t, o)
	file := filepath.Join(t.TempDir(), "inject.pcap")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-n", "-r", file, "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE",
		"-Y", "_ws.malformed || _ws.expert.severity == error", "-T", "fields", "-e", "frame.number", "-e", "_ws.col.Protocol", "-e", "_ws.col.Info"}
	cmd := exec.Command(tshark, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var bad []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.SplitN(line, "\t", 3)
		n, err := strconv.Atoi(f[0])
		if err != nil || n < 1 || n > len(frames) {
			continue
		}
		if frames[n-1].inj != 0 {
			bad = append(bad, line)
		}
	}
	if len(bad) > 0 {
		t.Errorf("tshark finds %d malformed or erroneous injected frames, first: %s", len(bad), strings.Join(bad[:min(5, len(bad))], " | "))
	}
	cmd = exec.Command(tshark, "-n", "-r", file, "-Y", "dns", "-T", "fields", "-e", "dns.flags.response")
	out, err = cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var q, r int
	for _, v := range strings.Fields(strings.ReplaceAll(string(out), ",", " ")) {
		switch v {
		case "0", "False":
			q++
		case "1", "True":
			r++
		}
	}
	if q != st.DNSQueries || r != st.DNSResponses {
		t.Errorf("tshark sees %d DNS queries and %d responses; stats say %d and %d", q, r, st.DNSQueries, st.DNSResponses)
	}
	injected := 0
	for _, f := range frames {
		if f.inj != 0 {
			injected++
		}
	}
	t.Logf("%d frames, %d injected; tshark: %d DNS queries, %d responses", len(frames), injected, q, r)
}
