package config

import "regexp"

var (
	// userinfo with a password: //user:password@ (the password may hold '@': up to the last one
	// before the path).
	urlPassword = regexp.MustCompile(`(//[^/?#@:]*:)[^/?#]*@`)
	// query or JDBC parameters that carry a secret: ?password=…, &token=…
	urlSecretParam = regexp.MustCompile(`(?i)([?&;](?:password|passwd|pass|pwd|secret|client_secret|token|access_token|api_?key|key)=)[^&;#]*`)
)

// RedactURL returns s, a URL or something meant to be one (it need not parse: an invalid URL
// is exactly what an error message shows), with the password of its userinfo and the values of
// secret-looking parameters replaced by "xxxxx". Every URL the gateway logs or puts in an
// error goes through it.
func RedactURL(s string) string {
	s = urlPassword.ReplaceAllString(s, "${1}xxxxx@")
	return urlSecretParam.ReplaceAllString(s, "${1}xxxxx")
}
