package table

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spotctl/spotctl/report"
)

func TestTableEscapesAndAligns(t *testing.T) {
	cols := []report.Column{{Name: "qname", Kind: report.String}, {Name: "bytes", Kind: report.Uint}}
	var buf bytes.Buffer
	w := New(&buf, cols, Options{})
	w.WriteRow([]report.Value{{S: "evil\x1b[2J.example"}, {U: 7}})
	w.WriteRow([]report.Value{{S: "a"}, {U: 1234567}})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	want := `+---------------------+---------+
| qname               |   bytes |
+---------------------+---------+
| evil\x1b[2J.example |       7 |
| a                   | 1234567 |
+---------------------+---------+
`
	if got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
	if strings.ContainsRune(got, 0x1b) {
		t.Error("raw ESC reached the table")
	}
}

func TestTableTruncatesLongCells(t *testing.T) {
	cols := []report.Column{{Name: "answers", Kind: report.String}}
	var buf bytes.Buffer
	w := New(&buf, cols, Options{NoHeader: true})
	w.WriteRow([]report.Value{{S: strings.Repeat("x", 200)}})
	w.Flush()
	if !strings.Contains(buf.String(), strings.Repeat("x", MaxCell-1)+"…") || strings.Contains(buf.String(), strings.Repeat("x", MaxCell)) {
		t.Errorf("long cell not cut at %d runes:\n%s", MaxCell, buf.String())
	}
}
