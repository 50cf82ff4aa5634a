package policy

import (
	"net/http"

	"github.com/apimctl/apimctl/gateway/store"
)

// APIKey accepts requests carrying a valid API key in the KeyId or X-API-Key header whose
// application is granted the API.
type APIKey struct {
	API   string
	Creds Credentials
	// FailOpen lets requests through (unauthenticated) when the store cannot answer and no
	// cached answer is usable; otherwise they get 503.
	FailOpen bool
	// Lookups, when set, bounds the store lookups of unknown keys per client (429 beyond).
	Lookups *LookupBudget
}

var (
	missingKey  = &Rejection{Status: http.StatusUnauthorized, Code: "missing_api_key", Message: "send an API key in the KeyId or X-API-Key header", Reason: "missing_credentials"}
	invalidKey  = &Rejection{Status: http.StatusUnauthorized, Code: "invalid_api_key", Message: "the API key is not valid", Reason: "invalid_credentials"}
	disabledKey = &Rejection{Status: http.StatusForbidden, Code: "api_key_disabled", Message: "the API key or its application is disabled", Reason: "disabled"}
	notGranted  = &Rejection{Status: http.StatusForbidden, Code: "not_authorized", Message: "the application is not granted this API", Reason: "not_granted"}
)

// Name implements Guard.
func (p *APIKey) Name() string { return "apikey" }

// Check implements Guard.
func (p *APIKey) Check(r *http.Request) (Identity, *Rejection) {
	// The header names in canonical form (what the server stores): Header.Get("KeyId") would
	// canonicalise "KeyId" to "Keyid" into a new string on every request.
	key := headerValue(r.Header, "Keyid")
	if key == "" {
		key = headerValue(r.Header, "X-Api-Key")
	}
	if key == "" {
		return Identity{}, missingKey
	}
	cred, err := lookup(r, p.Creds, p.Lookups, store.HashOf(key))
	if err != nil {
		return Identity{}, lookupFailed(err, p.FailOpen, invalidKey)
	}
	switch {
	case cred.Disabled:
		return Identity{KeyID: cred.KeyID, AppID: cred.AppID}, disabledKey
	case !cred.Allows(p.API):
		return Identity{KeyID: cred.KeyID, AppID: cred.AppID}, notGranted
	}
	return Identity{KeyID: cred.KeyID, AppID: cred.AppID}, nil
}

// headerValue is h.Get(key) for a key already in canonical form.
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}
