package policy

import (
	"net/http"
	"strings"
	"time"

	"github.com/apimctl/apimctl/gateway/store"
)

// OAuth accepts requests with a valid, unexpired bearer token issued by the API Manager's
// token endpoint (client-credentials grant) to an application granted the API.
type OAuth struct {
	API      string
	Creds    Credentials
	FailOpen bool
	Now      func() time.Time
	// Lookups, when set, bounds the store lookups of unknown tokens per client (429 beyond).
	Lookups *LookupBudget
}

const bearerRealm = `Bearer realm="apigw"`

var (
	missingToken = &Rejection{Status: http.StatusUnauthorized, Code: "missing_token", Message: "send an access token as Authorization: Bearer <token>", Reason: "missing_credentials", Authn: bearerRealm}
	invalidToken = &Rejection{Status: http.StatusUnauthorized, Code: "invalid_token", Message: "the access token is not valid", Reason: "invalid_credentials", Authn: bearerRealm + `, error="invalid_token"`}
	expiredToken = &Rejection{Status: http.StatusUnauthorized, Code: "invalid_token", Message: "the access token has expired", Reason: "expired", Authn: bearerRealm + `, error="invalid_token", error_description="expired"`}
	tokenDenied  = &Rejection{Status: http.StatusForbidden, Code: "insufficient_scope", Message: "the application is not granted this API", Reason: "not_granted", Authn: bearerRealm + `, error="insufficient_scope"`}
)

// Name implements Guard.
func (p *OAuth) Name() string { return "oauth" }

// Check implements Guard.
func (p *OAuth) Check(r *http.Request) (Identity, *Rejection) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return Identity{}, missingToken
	}
	tok := strings.TrimSpace(h[7:])
	if tok == "" {
		return Identity{}, missingToken
	}
	cred, err := lookup(r, p.Creds, p.Lookups, store.HashOf(tok))
	if err != nil {
		return Identity{}, lookupFailed(err, p.FailOpen, invalidToken)
	}
	id := Identity{KeyID: cred.KeyID, AppID: cred.AppID}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	// Expiry is checked on every use, so a cached token dies on time.
	switch {
	case !now().Before(cred.Expires):
		return id, expiredToken
	case cred.Disabled:
		return id, tokenDenied
	case !cred.Allows(p.API):
		return id, tokenDenied
	}
	return id, nil
}
