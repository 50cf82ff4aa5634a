package cql

import (
	"strings"
	"testing"
)

func TestIdentifier(t *testing.T) {
	for s, ok := range map[string]bool{"apim_default": true, "T1": true, "_x": true, "1t": false, "a-b": false, "a;drop": false, "": false,
		strings.Repeat("a", 48): true, strings.Repeat("a", 49): false, "é": false} {
		if Identifier(s) != ok {
			t.Errorf("Identifier(%q) != %v", s, ok)
		}
	}
	for s, ok := range map[string]bool{"MixedCase": true, "1abc": true, "a_b": true, "a-b": false, "": false, `a"b`: false, strings.Repeat("a", 49): false} {
		if ValidName(s) != ok {
			t.Errorf("ValidName(%q) != %v", s, ok)
		}
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{"MixedCase": `"MixedCase"`, "select": `"select"`, `we"ird`: `"we""ird"`, "ünï code": `"ünï code"`, "": `""`} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
		toks, err := Lex(Quote(in))
		if err != nil || len(toks) != 1 {
			t.Fatalf("Lex(Quote(%q)): %v %v", in, toks, err)
		}
		if name, _ := toks[0].Name(); name != in {
			t.Errorf("round trip of %q gave %q", in, name)
		}
	}
	if Qualified("Ks", "t") != `"Ks"."t"` {
		t.Error(Qualified("Ks", "t"))
	}
}

func TestLex(t *testing.T) {
	in := `CREATE TABLE "a""b".t (x int) WITH comment = 'it''s -- not' AND x = 1.5e-3; -- tail
/* block */ $$ body " $$`
	toks, err := Lex(in)
	if err != nil {
		t.Fatal(err)
	}
	if Join(toks) != in {
		t.Error("tokens do not join back to the input")
	}
	var kinds []TokenKind
	for _, tk := range toks {
		if tk.Kind != Space {
			kinds = append(kinds, tk.Kind)
		}
	}
	if toks[4].Kind != QuotedName || toks[4].Text != `"a""b"` {
		t.Errorf("quoted name token %+v", toks[4])
	}
	if n, _ := (Token{Kind: Word, Text: "MixedCase"}).Name(); n != "mixedcase" {
		t.Error("unquoted names fold to lower case")
	}
	for _, bad := range []string{`'open`, `"open`, `/* open`, `$$ open`} {
		if _, err := Lex(bad); err == nil {
			t.Errorf("Lex(%q) accepted", bad)
		}
	}
	_ = kinds
}
