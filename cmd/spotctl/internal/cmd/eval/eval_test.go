package eval

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestAUC(t *testing.T) {
	bg := []float64{0.2, 0.3, 0.3, 0.9}
	if got := auc([]float64{0.1}, bg); got != 1 {
		t.Errorf("perfect: %v", got)
	}
	if got := auc([]float64{1.0}, bg); got != 0 {
		t.Errorf("worst: %v", got)
	}
	if got := auc([]float64{0.3}, bg); got != (1+0.5*2)/4.0 {
		t.Errorf("ties: %v", got)
	}
	if !math.IsNaN(auc(nil, bg)) {
		t.Error("no positives must be NaN")
	}
}

func TestMeasure(t *testing.T) {
	// Items 0..4 ranked 3,1,0,4,2; items 1 and 4 are "beacon".
	ranking := []int{3, 1, 0, 4, 2}
	scores := []float64{0.3, 0.2, 0.9, 0.1, 0.4}
	labels := []string{"", "beacon", "", "", "beacon"}
	m := measure(ranking, scores, labels)["beacon"]
	if m.n != 2 || m.firstRank != 2 || m.prec != [3]int{2, 2, 2} {
		t.Errorf("measure = %+v", m)
	}
	// beacon scores 0.2, 0.4 vs background 0.1, 0.3, 0.9: (2 + 1)/6.
	if m.auc != 0.5 {
		t.Errorf("auc = %v", m.auc)
	}
}

func TestOverlap(t *testing.T) {
	mean, min := overlap([][]int{{1, 2}, {1, 2}, {2, 3}})
	if min != 0.5 || math.Abs(mean-2.0/3) > 1e-12 {
		t.Errorf("overlap = %v, %v", mean, min)
	}
}

func TestReplaceSection(t *testing.T) {
	p := filepath.Join(t.TempDir(), "d.md")
	os.WriteFile(p, []byte("# T\nintro\n"+beginMarker+"\nold\n"+endMarker+"\nafter\n"), 0o644)
	if err := replaceSection(p, []byte("new\n")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if want := "# T\nintro\n" + beginMarker + "\nnew\n" + endMarker + "\nafter\n"; string(b) != want {
		t.Errorf("got %q, want %q", b, want)
	}
}
