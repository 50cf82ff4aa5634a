// Package policy holds the access policies of an API: passthrough, API key and OAuth bearer
// tokens, and the rate limit that may follow them. A policy answers with the caller's
// identity or a Rejection; the proxy renders rejections, so every refusal looks the same.
package policy

import (
	"context"
	"net/http"

	"github.com/apimctl/apimctl/gateway/store"
)

// Credentials resolves a hashed key or token. store.Cache implements it; it returns
// store.ErrNotFound for unknown credentials and store.ErrUnavailable when Cassandra failed and
// nothing cached is usable.
type Credentials interface {
	Get(ctx context.Context, h store.Hash) (store.Credential, error)
}

var _ Credentials = (*store.Cache)(nil)

// Identity is who is calling, as far as the policy knows. It never holds the secret.
type Identity struct {
	KeyID string // API key id or OAuth client id
	AppID string
}

// Rejection is a refused request.
type Rejection struct {
	Status     int    // HTTP status
	Code       string // stable machine-readable code, e.g. invalid_key
	Message    string // for the caller
	Reason     string // metric label
	Authn      string // WWW-Authenticate value, if any
	RetryAfter int    // seconds, for 429
}

// Guard checks a request for one API.
type Guard interface {
	// Check returns the caller's identity, or a rejection.
	Check(r *http.Request) (Identity, *Rejection)
	// Name is the policy name for metrics.
	Name() string
}

// Passthrough lets every request through.
type Passthrough struct{}

// Check implements Guard.
func (Passthrough) Check(*http.Request) (Identity, *Rejection) { return Identity{}, nil }

// Name implements Guard.
func (Passthrough) Name() string { return "passthrough" }

var storeDown = &Rejection{Status: http.StatusServiceUnavailable, Code: "credential_store_unavailable",
	Message: "the credential store cannot be reached; retry later", Reason: "store_unavailable"}
