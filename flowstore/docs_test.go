package flowstore

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsPythonScript runs the numpy reader printed in docs/flowstore.md
// against a real column file and compares its sums with Go's, so the
// document cannot drift from the format.
func TestDocsPythonScript(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "flowstore.md")) // tests run in the package directory
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "<!-- sum-script -->\n```python\n")
	script, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/flowstore.md: sum script not found")
	}
	if n := strings.Count(script, "\n"); n > 20 {
		t.Errorf("the doc promises a script of at most 20 lines; it has %d", n)
	}
	var python string
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import numpy").Run() == nil {
			python = p
			break
		}
	}
	if python == "" {
		t.Skip("no python3 with numpy (Debian: apt-get install python3-numpy)")
	}
	sp := filepath.Join(t.TempDir(), "sum.py")
	os.WriteFile(sp, []byte(script), 0o644)
	// Segment 1 as from a pcap (no sparse columns), segment 2 as from
	// NetFlow (every column).
	c := newCase(t)
	d := genSegment(50, 5000, 10, 3)
	writeSegment(t, c, d)
	e := withExport(genSegment(51, 5000, 0, 0), 51, 1)
	writeSegment(t, c, e)
	pcapPath := filepath.Join(c.Segments()[0].Dir(), "flows.col")
	exportPath := filepath.Join(c.Segments()[1].Dir(), "flows.col")
	var bytesSum, portSum, outBytesSum, samplingSum, maskSum uint64
	var firstSum int64
	for _, r := range d.flows {
		bytesSum += r.Bytes
		portSum += uint64(r.DstPort)
		firstSum += r.First
	}
	for _, r := range e.flows {
		outBytesSum += r.OutBytes
		samplingSum += uint64(r.Sampling)
		maskSum += uint64(r.DstMask)
	}
	for _, tc := range []struct {
		path string
		col  string
		want string
	}{
		{pcapPath, ColBytes, fmt.Sprint(bytesSum)},
		{pcapPath, ColDstPort, fmt.Sprint(portSum)},
		{pcapPath, ColFirst, fmt.Sprint(firstSum)},
		{exportPath, ColOutBytes, fmt.Sprint(outBytesSum)},
		{exportPath, ColSampling, fmt.Sprint(samplingSum)},
		{exportPath, ColDstMask, fmt.Sprint(maskSum)},
	} {
		out, err := exec.Command(python, sp, tc.path, tc.col).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.col, err, out)
		}
		if got, want := strings.TrimSpace(string(out)), fmt.Sprintf("%s 5000 %s", tc.col, tc.want); got != want {
			t.Errorf("script printed %q, want %q", got, want)
		}
	}
	// A sparse column absent from a pcap segment: the script says so.
	out, err := exec.Command(python, sp, pcapPath, ColOutBytes).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "no column out_bytes") {
		t.Errorf("absent column: %v\n%s", err, out)
	}
}
