package cql

// Identifier reports whether s is a plain (unquoted) CQL identifier of at most 48 characters —
// Cassandra's limit for keyspace and table names — so it can be put into a statement as is.
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
