package redact

import (
	"regexp"
	"strings"
)

// Mask replaces a secret.
const Mask = "xxxxx"

var (
	// userinfo with a password in any URL-like text, JDBC URLs included.
	userinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]*):[^@\s/]*@`)
	// secret query or connection-string parameters.
	param = regexp.MustCompile(`(?i)\b(password|passwd|pass|pwd|secret|token|access_token|sig|accountkey|sharedaccesssignature|apikey|api_key|key)=([^&;\s]*)`)
)

// URL returns s with every credential it holds masked. Text without any is returned as is.
func URL(s string) string {
	if !strings.ContainsAny(s, "@=") {
		return s
	}
	s = userinfo.ReplaceAllString(s, "${1}:"+Mask+"@")
	return param.ReplaceAllStringFunc(s, func(m string) string {
		k, v, _ := strings.Cut(m, "=")
		if v == "" {
			return m
		}
		return k + "=" + Mask
	})
}

// Map returns a copy of m with every value passed through URL.
func Map(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = URL(v)
	}
	return out
}

// sqlSecret finds the statements that carry a credential as a literal (CREATE USER …
// IDENTIFIED BY 'x', SET PASSWORD = PASSWORD('x'), GRANT … IDENTIFIED BY, CHANGE MASTER …
// MASTER_PASSWORD='x', IDENTIFIED VIA … USING 'x').
var sqlSecret = regexp.MustCompile(`(?i)\b(identified|password|master_password|source_password|using)\b`)

// sqlLiteral is a quoted SQL string literal, with doubled or backslash-escaped quotes inside.
var sqlLiteral = regexp.MustCompile(`'(?:[^'\\]|\\.|'')*'?|"(?:[^"\\]|\\.|"")*"?`)

// SQL returns a statement with every string literal masked when it carries a credential
// (the process list shows other sessions' statements). Other statements are returned as is.
func SQL(s string) string {
	if !sqlSecret.MatchString(s) {
		return s
	}
	return sqlLiteral.ReplaceAllString(s, "'"+Mask+"'")
}
