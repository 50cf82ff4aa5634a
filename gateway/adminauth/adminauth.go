// Package adminauth guards the management APIs of the apimgr and anm roles with a bearer
// token. A management API never answers anonymously: without a configured token every
// request is refused, whatever the configuration says (the roles also refuse to start
// without one, config.EnvironmentPackage.RequireAdminToken).
package adminauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/apimctl/apimctl/gateway/proxy"
)

// Require wraps next so that only requests with "Authorization: Bearer <token>" reach it.
// realm names the API in WWW-Authenticate.
func Require(token, realm string, next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	challenge := `Bearer realm="` + realm + `"`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token == "" {
			proxy.WriteError(w, http.StatusServiceUnavailable, "management_api_disabled",
				"this management API has no admin token configured and answers nobody", "")
			return
		}
		if !Valid(r, want) {
			w.Header().Set("WWW-Authenticate", challenge)
			proxy.WriteError(w, http.StatusUnauthorized, "unauthorized", "send the admin token as Authorization: Bearer <token>", "")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Valid reports whether r carries the bearer token whose SHA-256 is want. Comparing hashes
// in constant time reveals neither the token nor its length.
func Valid(r *http.Request, want [32]byte) bool {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(h[7:])))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}
