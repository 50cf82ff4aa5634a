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
}
