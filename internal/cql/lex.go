package cql

import (
	"fmt"
	"strings"
)

// TokenKind tells what a Token is.
type TokenKind int

// The kinds of token Lex returns.
const (
	Space      TokenKind = iota // white space and comments
	Word                        // an unquoted identifier or keyword
	QuotedName                  // "a quoted identifier"
	String                      // 'a string' or $$a string$$
	Number                      // digits, signs, dots and exponents as CQL writes numbers
	Punct                       // any other single character
)

// Token is one lexical element of a CQL statement; Text is exactly as written.
type Token struct {
	Kind TokenKind
	Text string
}

// Name returns the identifier a Word or QuotedName token names: a quoted one unquoted, an
// unquoted one folded to lower case (as Cassandra does). ok is false for other tokens.
func (t Token) Name() (name string, ok bool) {
	switch t.Kind {
	case Word:
		return strings.ToLower(t.Text), true
	case QuotedName:
		return strings.ReplaceAll(t.Text[1:len(t.Text)-1], `""`, `"`), true
	}
	return "", false
}

// Is reports whether t is the unquoted keyword kw (case-insensitive).
func (t Token) Is(kw string) bool { return t.Kind == Word && strings.EqualFold(t.Text, kw) }

// Lex splits CQL text into tokens; joining their Text gives the input back. It fails on an
// unterminated string, quoted name or comment.
func Lex(s string) ([]Token, error) {
	var out []Token
	for i := 0; i < len(s); {
		c := s[i]
		start := i
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			for i < len(s) && strings.IndexByte(" \t\n\r", s[i]) >= 0 {
				i++
			}
			out = append(out, Token{Space, s[start:i]})
		case c == '-' && strings.HasPrefix(s[i:], "--"), c == '/' && strings.HasPrefix(s[i:], "//"):
			for i < len(s) && s[i] != '\n' {
				i++
			}
			out = append(out, Token{Space, s[start:i]})
		case c == '/' && strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("unterminated comment at offset %d", start)
			}
			i += 2 + end + 2
			out = append(out, Token{Space, s[start:i]})
		case c == '"' || c == '\'':
			i++
			for {
				j := strings.IndexByte(s[i:], c)
				if j < 0 {
					return nil, fmt.Errorf("unterminated %c at offset %d", c, start)
				}
				i += j + 1
				if i < len(s) && s[i] == c { // doubled: an escaped quote
					i++
					continue
				}
				break
			}
			kind := String
			if c == '"' {
				kind = QuotedName
			}
			out = append(out, Token{kind, s[start:i]})
		case c == '$' && strings.HasPrefix(s[i:], "$$"):
			end := strings.Index(s[i+2:], "$$")
			if end < 0 {
				return nil, fmt.Errorf("unterminated $$ string at offset %d", start)
			}
			i += 2 + end + 2
			out = append(out, Token{String, s[start:i]})
		case isWordStart(c):
			for i < len(s) && (isWordStart(s[i]) || s[i] >= '0' && s[i] <= '9') {
				i++
			}
			out = append(out, Token{Word, s[start:i]})
		case c >= '0' && c <= '9':
			for i < len(s) && (isWordStart(s[i]) || s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == '-' && (s[i-1] == 'e' || s[i-1] == 'E')) {
				i++
			}
			out = append(out, Token{Number, s[start:i]})
		default:
			i++
			out = append(out, Token{Punct, s[start:i]})
		}
	}
	return out, nil
}

func isWordStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// Join returns the text of tokens.
func Join(toks []Token) string {
	var b strings.Builder
	for _, t := range toks {
		b.WriteString(t.Text)
	}
	return b.String()
}
