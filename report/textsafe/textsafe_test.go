package textsafe

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTerminal(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "www.example.com", "www.example.com"},
		{"unicode letters pass", "bücher.example", "bücher.example"},
		{"ESC sequence", "a\x1b[2Jb", `a\x1b[2Jb`},
		{"bell and NUL", "\x07\x00", `\x07\x00`},
		{"DEL", "a\x7f", `a\x7f`},
		{"newline", "a\nb", `a\nb`[:1] + `\x0ab`},
		{"C1 CSI as UTF-8", "a\u009bb", `a\u{009b}b`},
		{"invalid UTF-8", "a\xff\xfeb", `a\xff\xfeb`},
		{"RLO bidi override", "evil\u202Etxt.exe", `evil\u{202e}txt.exe`},
		{"isolate", "\u2067x\u2069", `\u{2067}x\u{2069}`},
		{"zero width", "pay\u200bpal", `pay\u{200b}pal`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Terminal(tt.in)
			if got != tt.want {
				t.Errorf("Terminal(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// Every C0 and C1 control and DEL must come out as printable ASCII.
func TestTerminalEveryControl(t *testing.T) {
	for c := 0; c < 0x20; c++ {
		assertInert(t, string(rune(c)))
	}
	assertInert(t, "\x7f")
	for r := rune(0x80); r <= 0x9f; r++ {
		assertInert(t, string(r))
		assertInert(t, string([]byte{byte(r)})) // the raw byte, invalid UTF-8
	}
}

func assertInert(t *testing.T, in string) {
	t.Helper()
	out := Terminal(in)
	for i := 0; i < len(out); i++ {
		if out[i] < 0x20 || out[i] >= 0x7f {
			t.Fatalf("Terminal(%q) = %q still holds byte %#x", in, out, out[i])
		}
	}
}

func TestTSV(t *testing.T) {
	if got, want := TSV("a\tb\nc\\d\x1b"), `a\tb\nc\\d\x1b`; got != want {
		t.Errorf("TSV = %q, want %q", got, want)
	}
	if got := TSV("plain"); got != "plain" {
		t.Errorf("TSV(plain) = %q", got)
	}
}

func TestSpreadsheet(t *testing.T) {
	for _, in := range []string{"=cmd|' /C calc'!A0", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"} {
		if got := Spreadsheet(in); !strings.HasPrefix(got, "'") {
			t.Errorf("Spreadsheet(%q) = %q, not defused", in, got)
		}
	}
	for _, in := range []string{"", "example.com", "10.0.0.1"} {
		if got := Spreadsheet(in); got != in {
			t.Errorf("Spreadsheet(%q) = %q, changed a harmless cell", in, got)
		}
	}
}

func FuzzTerminal(f *testing.F) {
	for _, s := range []string{"", "abc", "\x1b]0;title\x07", "\u202e", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Terminal(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Terminal(%q) gave invalid UTF-8 %q", s, out)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f || dangerousRune(r) {
				t.Fatalf("Terminal(%q) = %q keeps %U", s, out, r)
			}
		}
		if Terminal(out) != out {
			t.Fatalf("Terminal is not idempotent on %q", out)
		}
	})
}

func BenchmarkTerminalClean(b *testing.B) {
	s := "mail.google.com"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = Terminal(s)
	}
}
