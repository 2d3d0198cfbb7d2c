//go:build unix

package hostile

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// evilNames are query names (one label each, then .evil.example) and
// evilTXT are TXT strings that try to reach a terminal or a spreadsheet.
var (
	evilNames = []string{
		"\x1b[31mred\x1b[0m",         // CSI colour
		"\x1b]0;owned\x07",           // OSC window title
		"c1\xc2\x9b2Jcsi",            // C1 CSI (U+009B) as UTF-8
		"raw\x9b2Jc1",                // C1 byte alone (invalid UTF-8)
		"\u202egnp.exe",              // right-to-left override
		"iso\u2066late\u2069",        // isolates
		"bad\xff\xfeutf8",            // invalid UTF-8
		"cr\rlf\nbs\bdel\x7fnul\x00", // C0 controls and DEL
		"=cmd|' /C calc'!A0",         // CSV formulas
		"+SUM(1)",
		"-2+3",
		"@SUM(A1)",
	}
	evilTXT = []string{"\x1b[2J\x1b[H", "\x1b]8;;http://evil/\x07link", "\xc2\x9b6n", "\u202efdp.exe", "\xff\xfe\xfd", "=HYPERLINK(\"http://evil\")", "\t\r=1+1"}
)

func evilCase(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "evil.pcap")
	err := writePcap(p, func(c *Conversation) {
		cl := EP("192.0.2.77", 51000)
		for i, n := range evilNames {
			name := n + ".evil.example"
			c.UDP(cl, LegitResolver, rawQuery(uint16(i), name))
			c.UDP(LegitResolver, cl, TXTResponse(uint16(i), name, evilTXT...))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	casePath := filepath.Join(dir, "case")
	if r := run(t, nil, "ingest", "-q", p, "-o", casePath); r.code != 0 {
		t.Fatalf("ingest: exit %d: %s", r.code, r.stderr(t))
	}
	return casePath
}

// rawQuery encodes name's labels byte for byte (dots split labels; any
// other byte, even NUL, goes into the label).
func rawQuery(id uint16, name string) []byte {
	b := DNSHeader(nil, id, false, 1, 0, 0, 0)
	b = EncodeName(b, name)
	return append(b, 0, 16, 0, 1)
}

// unsafeRune reports runes a terminal would act on or that reorder text.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20 && r != '\n', r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

func TestOutputSafety(t *testing.T) {
	needBinary(t)
	casePath := evilCase(t)

	t.Run("table", func(t *testing.T) {
		r := run(t, []string{"SPOTCTL_FORCE_TTY=1"}, "dns", casePath, "--format", "table", "--fields", "qname,answers")
		if r.code != 0 {
			t.Fatalf("dns: exit %d: %s", r.code, r.stderr(t))
		}
		out := r.stdout
		for i, c := range out {
			if (c < 0x20 && c != '\n') || c == 0x7f {
				t.Fatalf("table output holds byte %#02x at %d: %q", c, i, out[max(0, i-40):min(len(out), i+40)])
			}
		}
		if !utf8.Valid(out) {
			t.Fatal("table output is not valid UTF-8")
		}
		for _, r := range string(out) {
			if unsafeRune(r) {
				t.Fatalf("table output holds %U", r)
			}
		}
		if n := bytes.Count(out, []byte(".evil.example")); n < len(evilNames) {
			t.Errorf("table shows %d of the %d names:\n%s", n, 2*len(evilNames), out)
		}
	})

	t.Run("json", func(t *testing.T) {
		r := run(t, nil, "dns", casePath, "--format", "json")
		if r.code != 0 {
			t.Fatalf("dns: exit %d: %s", r.code, r.stderr(t))
		}
		if !utf8.Valid(r.stdout) || !json.Valid(r.stdout) {
			t.Fatalf("JSON output is not valid UTF-8 JSON:\n%q", r.stdout)
		}
		var msgs []dnsRow
		if err := json.Unmarshal(r.stdout, &msgs); err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 2*len(evilNames) {
			t.Fatalf("%d messages, want %d", len(msgs), 2*len(evilNames))
		}
		// Invalid bytes are escaped visibly, never dropped or replaced.
		seen := map[string]bool{}
		for _, m := range msgs {
			seen[m.QName] = true
		}
		if !seen[`bad\xff\xfeutf8.evil.example`] {
			t.Errorf("the name with invalid UTF-8 is not kept as bad\\xff\\xfeutf8.evil.example; names: %q", keys(seen))
		}
		if !seen["\x1b[31mred\x1b[0m.evil.example"] {
			t.Errorf("valid UTF-8 with controls must round-trip through JSON exactly; names: %q", keys(seen))
		}
	})

	t.Run("csv", func(t *testing.T) {
		r := run(t, nil, "dns", casePath, "--format", "csv", "--fields", "qname,answers")
		if r.code != 0 {
			t.Fatalf("dns: exit %d: %s", r.code, r.stderr(t))
		}
		if !utf8.Valid(r.stdout) {
			t.Fatal("CSV output is not valid UTF-8")
		}
		rows, err := csv.NewReader(bytes.NewReader(r.stdout)).ReadAll()
		if err != nil {
			t.Fatalf("CSV does not parse: %v", err)
		}
		if len(rows) != 1+2*len(evilNames) {
			t.Fatalf("%d CSV rows, want %d", len(rows), 1+2*len(evilNames))
		}
		for _, row := range rows[1:] {
			for _, cell := range row {
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
					t.Errorf("CSV cell starts with %q: %q", cell[0], cell)
				}
			}
		}
	})
}

func keys(m map[string]bool) []string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	return s
}
