package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportDirections keeps the architecture of style.md true as the code
// grows: data flows decode → flowstore → detect → report and only
// cmd/spotctl wires them; only cmd/spotctl touches cobra and the terminal;
// only report/table draws tables; only report/parquet links parquet-go;
// nothing links libpcap.
func TestImportDirections(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not on PATH")
	}
	out, err := exec.Command(goBin, "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "github.com/spotctl/spotctl/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/spotctl/spotctl/"
	rules := []struct {
		pkg    string // package path prefix (module-relative)
		banned []string
		why    string
	}{
		{"decode", []string{mod + "flowstore", mod + "detect", mod + "report", mod + "cmd"}, "decoders know nothing of storage, detection or output"},
		{"flowstore", []string{mod + "decode/pcap", mod + "decode/packet", mod + "decode/netflow", mod + "decode/nfcapd", mod + "decode/flowlog", mod + "decode/capture", mod + "decode/evidence", mod + "detect", mod + "report", mod + "cmd"}, "the case store only knows the record model"},
		{"detect", []string{mod + "flowstore", mod + "report", mod + "cmd", mod + "decode/pcap", mod + "decode/evidence"}, "detectors take columns, not files"},
		{"report", []string{mod + "flowstore", mod + "decode/pcap", mod + "decode/evidence", mod + "cmd"}, "renderers take rows"},
	}
	everywhere := map[string]string{
		"github.com/spf13/cobra":            "cmd/spotctl",
		"github.com/mattn/go-isatty":        "cmd/spotctl",
		"github.com/olekukonko/tablewriter": "report/table",
		"github.com/parquet-go/parquet-go":  "report/parquet",
		"github.com/gopacket/gopacket/pcap": "nowhere (cgo libpcap)",
		"github.com/google/gopacket/pcap":   "nowhere (cgo libpcap)",
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := strings.TrimPrefix(fields[0], mod), fields[1:]
		for _, imp := range imports {
			for _, r := range rules {
				if pkg != r.pkg && !strings.HasPrefix(pkg, r.pkg+"/") {
					continue
				}
				for _, b := range r.banned {
					if imp == b || strings.HasPrefix(imp, b+"/") {
						t.Errorf("%s imports %s: %s", pkg, imp, r.why)
					}
				}
			}
			for lib, owner := range everywhere {
				if imp != lib && !strings.HasPrefix(imp, lib+"/") {
					continue
				}
				if !strings.HasPrefix(pkg, owner) {
					t.Errorf("%s imports %s; only %s may", pkg, imp, owner)
				}
			}
		}
	}
}
