package synth

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmdutil"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/iostreams"
	gen "github.com/spotctl/spotctl/decode/synth"
)

// parse runs the command's flag handling only and returns the options Run
// would get.
func parse(t *testing.T, args ...string) (*Options, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmd(ios, func(_ context.Context, o *Options) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(new(bytes.Buffer))
	cmd.SetErr(new(bytes.Buffer))
	err := cmd.Execute()
	return got, err
}

func TestParseFlags(t *testing.T) {
	for _, c := range []struct {
		args   []string
		inject []gen.Injection
		truth  string
	}{
		{[]string{"-o", "a.pcap"}, nil, ""},
		{[]string{"-o", "a.pcap", "--truth", "t.jsonl"}, nil, "t.jsonl"},
		{[]string{"-o", "a.pcap", "--inject", "beacon,scan"}, []gen.Injection{{Kind: gen.Beacon}, {Kind: gen.Scan}}, "a.pcap.truth.jsonl"},
		{[]string{"-o", "x/a.pcap", "--inject", "all"}, []gen.Injection{{Kind: gen.Beacon}, {Kind: gen.Scan}, {Kind: gen.DNSTunnel}, {Kind: gen.Exfil}, {Kind: gen.DGA}, {Kind: gen.Lateral}}, "x/a.pcap.truth.jsonl"},
		{[]string{"-o", "a.pcap", "--inject", "beacon:interval=60s:jitter=20%", "--inject", "exfil:at=02:30:bytes=1GB"},
			[]gen.Injection{{Kind: gen.Beacon, Interval: time.Minute, Jitter: 0.2}, {Kind: gen.Exfil, At: "02:30", Bytes: 1e9}}, "a.pcap.truth.jsonl"},
		{[]string{"-o", "-", "--inject", "scan:ports=1-1024,3389", "--truth", "s.jsonl"}, []gen.Injection{{Kind: gen.Scan, Ports: "1-1024,3389"}}, "s.jsonl"},
	} {
		o, err := parse(t, c.args...)
		if err != nil {
			t.Errorf("%q: %v", c.args, err)
			continue
		}
		if !reflect.DeepEqual(o.Gen.Inject, c.inject) || o.Truth != c.truth {
			t.Errorf("%q: inject %+v truth %q; want %+v %q", c.args, o.Gen.Inject, o.Truth, c.inject, c.truth)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-o", "a.pcap", "--inject", "bogus"}, "unknown kind"},
		{[]string{"-o", "a.pcap", "--inject", "beacon:interval=x"}, "interval"},
		{[]string{"-o", "-", "--inject", "beacon"}, "--truth"},
		{[]string{"-o", "a.pcap", "--truth", "a.pcap"}, "differ"},
		{[]string{"-o", "-", "--truth", "-"}, "differ"},
	} {
		_, err := parse(t, c.args...)
		var fe *cmdutil.FlagError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want a usage error about %q", c.args, err, c.want)
		}
	}
}

// run executes the whole command in-process.
func run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	cmd := NewCmd(ios, nil)
	cmd.SetArgs(args)
	cmd.SetOut(new(bytes.Buffer))
	cmd.SetErr(new(bytes.Buffer))
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestRunWritesCaptureAndTruth(t *testing.T) {
	dir := t.TempDir()
	pcap := filepath.Join(dir, "a.pcap")
	args := []string{"--seed", "5", "--hosts", "12", "--duration", "20m", "--start", "2026-03-02T09:30:00Z",
		"--inject", "beacon:interval=60s,scan:at=+2m:ports=1-100,dns-tunnel:at=+3m:for=5m:interval=2s", "-o", pcap}
	_, stderr, err := run(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"wrote ", "injected beacon", "injected scan", "injected dns-tunnel", "truth: " + pcap + ".truth.jsonl (3 activities)"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, stderr)
		}
	}
	tr, err := gen.ReadTruthFile(pcap + ".truth.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Activities) != 3 || tr.Activities[1].Kind != gen.Scan || tr.Activities[0].Packets == 0 {
		t.Fatalf("truth %+v", tr.Activities)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("directory holds %d files, want the capture and its truth (no temp files)", len(entries))
	}
	capture1, _ := os.ReadFile(pcap)
	truth1, _ := os.ReadFile(pcap + ".truth.jsonl")

	// Same flags, same bytes; the capture on standard output with the truth
	// beside it matches too.
	if _, _, err := run(t, args...); err != nil {
		t.Fatal(err)
	}
	capture2, _ := os.ReadFile(pcap)
	truth2, _ := os.ReadFile(pcap + ".truth.jsonl")
	if !bytes.Equal(capture1, capture2) || !bytes.Equal(truth1, truth2) {
		t.Fatal("two runs with the same flags differ")
	}
	tf := filepath.Join(dir, "other.jsonl")
	stdArgs := append(args[:len(args)-1:len(args)-1], "-", "--truth", tf, "-q")
	stdout, stderr, err := run(t, stdArgs...)
	if err != nil || stderr != "" {
		t.Fatalf("-o -: %v, stderr %q", err, stderr)
	}
	truth3, _ := os.ReadFile(tf)
	if stdout != string(capture1) || !bytes.Equal(truth1, truth3) {
		t.Fatal("-o - gives another capture or truth")
	}
}

func TestRunRefusesBackgroundAddress(t *testing.T) {
	dir := t.TempDir()
	pcap := filepath.Join(dir, "a.pcap")
	_, _, err := run(t, "--hosts", "8", "--duration", "1m", "--inject", "beacon:dst=198.51.100.1", "-o", pcap)
	var fe *cmdutil.FlagError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "background") {
		t.Fatalf("error %v, want a usage error about the background", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a refused run left %d files", len(entries))
	}
}

func TestRunWarnsAboutEmptyInjection(t *testing.T) {
	pcap := filepath.Join(t.TempDir(), "a.pcap")
	// The default exfil is at 02:00; a 10-minute capture from midnight
	// does not reach it.
	_, stderr, err := run(t, "--hosts", "8", "--duration", "10m", "--inject", "exfil", "-o", pcap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "warning: injected exfil") {
		t.Fatalf("no warning:\n%s", stderr)
	}
	tr, err := gen.ReadTruthFile(pcap + ".truth.jsonl")
	if err != nil || len(tr.Activities) != 1 || tr.Activities[0].Packets != 0 {
		t.Fatalf("truth %+v, %v", tr, err)
	}
}
