package cql

import "strings"

// Identifier reports whether s is a plain (unquoted) CQL identifier of at most 48 characters —
// Cassandra's limit for keyspace and table names — so it can be put into a statement as is.
// It checks names a user types (the gateway's configured keyspaces); names read from a
// cluster's schema are quoted with Quote instead, whatever they hold.
func Identifier(s string) bool {
	if s == "" || len(s) > 48 {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// ValidName reports whether s can name a keyspace or a table: Cassandra allows 1 to 48
// letters, digits and underscores (any case, a digit first too, once quoted).
func ValidName(s string) bool {
	if s == "" || len(s) > 48 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// Quote returns s as a quoted CQL identifier: double quotes around it, each double quote in
// it doubled. A quoted identifier is taken exactly (case kept, reserved words and any
// character allowed), so every name read from system_schema goes into a statement this way.
func Quote(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// Qualified quotes keyspace.name.
func Qualified(keyspace, name string) string { return Quote(keyspace) + "." + Quote(name) }
