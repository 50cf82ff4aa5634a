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
