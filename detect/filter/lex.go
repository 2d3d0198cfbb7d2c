package filter

import (
	"strings"
	"unicode/utf8"
)

// tokKind classifies a token. Keywords are not reserved at the lexer level:
// the parser decides by position, so "qtype any" or "kind dns" read as values.
type tokKind uint8

const (
	tEOF    tokKind = iota
	tWord           // bare word: keyword, number, address, name
	tString         // 'quoted' or "quoted"
	tLParen
	tRParen
	tLBrack
	tRBrack
	tComma
	tNot   // !
	tAnd   // &&
	tOr    // ||
	tCmp   // = == < <= > >=
	tTilde // ~
	tBad   // a character that starts no token
)

type token struct {
	kind tokKind
	text string // word or string contents, operator text
	pos  int    // byte offset in the source
}

// lexer splits a filter into tokens. It never fails: unknown characters and
// unterminated strings become tokens the parser reports with a position.
type lexer struct {
	src string
	pos int
}

func isWordByte(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\f', '\v', '(', ')', '[', ']', ',', '!', '&', '|', '=', '<', '>', '~', '#', '\'', '"':
		return false
	}
	return true
}

func (l *lexer) next() token {
	// Skip blanks and comments (# to end of line).
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' {
			l.pos++
			continue
		}
		if c == '#' {
			nl := strings.IndexByte(l.src[l.pos:], '\n')
			if nl < 0 {
				l.pos = len(l.src)
			} else {
				l.pos += nl + 1
			}
			continue
		}
		break
	}
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: tEOF, pos: start}
	}
	c := l.src[l.pos]
	two := ""
	if l.pos+1 < len(l.src) {
		two = l.src[l.pos : l.pos+2]
	}
	switch {
	case c == '(':
		l.pos++
		return token{tLParen, "(", start}
	case c == ')':
		l.pos++
		return token{tRParen, ")", start}
	case c == '[':
		l.pos++
		return token{tLBrack, "[", start}
	case c == ']':
		l.pos++
		return token{tRBrack, "]", start}
	case c == ',':
		l.pos++
		return token{tComma, ",", start}
	case c == '~':
		l.pos++
		return token{tTilde, "~", start}
	case two == "&&":
		l.pos += 2
		return token{tAnd, "&&", start}
	case two == "||":
		l.pos += 2
		return token{tOr, "||", start}
	case two == "==" || two == "<=" || two == ">=":
		l.pos += 2
		return token{tCmp, two, start}
	case c == '=' || c == '<' || c == '>':
		l.pos++
		return token{tCmp, string(c), start}
	case c == '!':
		l.pos++
		return token{tNot, "!", start}
	case c == '\'' || c == '"':
		end := strings.IndexByte(l.src[l.pos+1:], c)
		if end < 0 {
			l.pos = len(l.src)
			return token{tBad, "unterminated string", start}
		}
		l.pos += end + 2
		return token{tString, l.src[start+1 : start+1+end], start}
	case c == '&' || c == '|':
		l.pos++
		return token{tBad, string(c), start}
	}
	for l.pos < len(l.src) && isWordByte(l.src[l.pos]) {
		l.pos++
	}
	if l.pos == start { // cannot happen: every byte is either a word byte or handled above
		_, n := utf8.DecodeRuneInString(l.src[l.pos:])
		l.pos += n
		return token{tBad, l.src[start:l.pos], start}
	}
	return token{tWord, l.src[start:l.pos], start}
}
