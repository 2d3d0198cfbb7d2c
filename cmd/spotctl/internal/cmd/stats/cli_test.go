package stats_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmd/root"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/iostreams"
	"github.com/spotctl/spotctl/decode/decodetest"
)

// cli runs spotctl in-process, as a terminal (tty) or a pipe would see it.
func cli(t *testing.T, tty bool, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	ios.SetStdoutTTY(tty)
	code = root.Main(ios, args)
	return out.String(), errOut.String(), code
}

// TestCLI runs the command on the shared nfcapd sample: terminal and pipe
// output, masks, bins, -P, filters and usage errors.
func TestCLI(t *testing.T) {
	file := filepath.Join(decodetest.SharedDir(t), "nfcapd", "chrispassas_nfcapd.sample")
	c := filepath.Join(t.TempDir(), "c")
	if _, e, code := cli(t, false, "ingest", "-q", file, "-o", c); code != 0 {
		t.Fatalf("ingest: %d %s", code, e)
	}
	cases := []struct {
		name string
		tty  bool
		args []string
		code int
		out  []string // substrings of stdout
		err  string   // substring of stderr
	}{
		{"tty", true, []string{"-s", "srcip/bytes", "-n", "1"}, 0, []string{"Top 1 srcip ordered by bytes:", "186.192.90.3", "5189624"}, ""},
		{"pipe", false, []string{"-s", "srcip/bytes", "-n", "1"}, 0, []string{`{"stat":"srcip/bytes","src_ip":"186.192.90.3","flows":3,"packets":4128,"bytes":5189624,"pps":215,"bps":2169121,"bpp":1257,`}, ""},
		{"mask", false, []string{"--group-by", "srcip/16,proto", "-O", "bytes", "-n", "1", "--fields", "src_ip,proto"}, 0, []string{`{"src_ip":"186.192.0.0","proto":6}`}, ""},
		{"filter", false, []string{"-s", "proto", "proto udp", "--fields", "proto,flows"}, 0, []string{`{"proto":17,"flows":1650}` + "\n"}, ""},
		{"post", false, []string{"-s", "proto", "-P", "flows > 1000 and flows < 1500", "--fields", "proto,flows"}, 0, []string{`{"proto":6,"flows":1264}` + "\n"}, ""},
		{"bin", false, []string{"-s", "proto", "--bin", "1m", "-n", "1", "--fields", "bin,proto"}, 0, []string{`{"bin":"2023-01-25T18:35:00.000000000Z","proto":6}`, `{"bin":"2023-01-25T18:36:00.000000000Z","proto":17}`}, ""},
		{"unknown field", false, []string{"-s", "srcipp"}, 2, nil, "valid: srcip, dstip, ip,"},
		{"bad order", false, []string{"-s", "srcip/bogus"}, 2, nil, "bad mask or order"},
		{"mixed", false, []string{"-s", "srcip,qname"}, 2, nil, "mixes flow and DNS"},
		{"bad post", false, []string{"-s", "srcip", "-P", "dstport > 5"}, 2, nil, "unknown name"},
		{"bad filter", false, []string{"-s", "srcip", "port >"}, 2, nil, "filter:1:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := cli(t, tc.tty, append([]string{"stats", c}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
			for _, s := range tc.out {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			if !strings.Contains(errOut, tc.err) {
				t.Errorf("stderr lacks %q:\n%s", tc.err, errOut)
			}
		})
	}
}
