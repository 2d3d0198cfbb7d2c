// Package textsafe defuses untrusted strings (DNS names, TXT data, file
// names from evidence) before they reach a terminal, a TSV file or a
// spreadsheet. Evidence is written by attackers: an ESC in a qname must not
// repaint a responder's screen, and a bidi override must not reorder what
// they read.
package textsafe

import (
	"strings"
	"unicode/utf8"
)

const hex = "0123456789abcdef"

// Terminal returns s with every byte or rune that could control a terminal
// or mislead a reader shown as a visible escape: C0 and C1 control
// characters and DEL as \xNN, invalid UTF-8 bytes as \xNN, and Unicode
// bidirectional controls and other invisible format characters as \u{NNNN}.
// Printable text, including non-ASCII letters, passes unchanged. Strings that
// need no change are returned without allocating.
func Terminal(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				writeByteEscape(&b, c)
			} else {
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			writeByteEscape(&b, c)
		case dangerousRune(r):
			writeRuneEscape(&b, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// TSV is Terminal plus escapes for the characters that carry structure in
// tab-separated output: tab, newline and carriage return become \t, \n and
// \r and a backslash is doubled, so one field stays one field.
func TSV(s string) string {
	if clean(s) && !strings.ContainsRune(s, '\\') {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case '\t':
			b.WriteString(`\t`)
			i++
			continue
		case '\n':
			b.WriteString(`\n`)
			i++
			continue
		case '\r':
			b.WriteString(`\r`)
			i++
			continue
		case '\\':
			b.WriteString(`\\`)
			i++
			continue
		}
		j := i + 1
		for j < len(s) && s[j] != '\t' && s[j] != '\n' && s[j] != '\r' && s[j] != '\\' {
			j++
		}
		b.WriteString(Terminal(s[i:j]))
		i = j
	}
	return b.String()
}

// Spreadsheet makes a CSV cell inert for spreadsheet programs: a cell that
// starts with = + - @ or a tab or carriage return would be evaluated as a
// formula, so it gets a leading single quote (OWASP's advice).
func Spreadsheet(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// clean reports whether s needs no escaping for a terminal.
func clean(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f {
			return asciiFreeClean(s[i:])
		}
	}
	return true
}

func asciiFreeClean(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || dangerousRune(r) {
			return false
		}
		i += size
	}
	return true
}

// dangerousRune reports C1 controls and the invisible formatting characters
// that reorder or hide text (the "Trojan Source" set and friends).
func dangerousRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f: // C1 controls, CSI among them
		return true
	case r >= 0x200b && r <= 0x200f: // zero-width space/joiners, LRM, RLM
		return true
	case r >= 0x202a && r <= 0x202e: // LRE RLE PDF LRO RLO
		return true
	case r >= 0x2066 && r <= 0x2069: // LRI RLI FSI PDI
		return true
	case r == 0x061c || r == 0xfeff || r == 0x2028 || r == 0x2029:
		return true
	}
	return false
}

func writeByteEscape(b *strings.Builder, c byte) {
	b.WriteString(`\x`)
	b.WriteByte(hex[c>>4])
	b.WriteByte(hex[c&0xf])
}

func writeRuneEscape(b *strings.Builder, r rune) {
	b.WriteString(`\u{`)
	const digits = 4
	for shift := (digits - 1) * 4; shift >= 0; shift -= 4 {
		b.WriteByte(hex[(r>>uint(shift))&0xf])
	}
	b.WriteByte('}')
}
