package store

import (
	"context"
	"errors"
	"time"

	"github.com/gocql/gocql"
)

// Credential is what the traffic gateway needs to know about a presented key or token.
type Credential struct {
	KeyID    string    // public id of an API key, or the OAuth client id for a token
	AppID    string    // owning application
	APIs     []string  // APIs the application may call; "*" means all
	Disabled bool      // key, client or application disabled
	Expires  time.Time // tokens only
}

// Allows reports whether the credential grants access to api.
func (c *Credential) Allows(api string) bool {
	for _, a := range c.APIs {
		if a == api || a == "*" {
			return true
		}
	}
	return false
}

func notFound(err error) error {
	if errors.Is(err, gocql.ErrNotFound) {
		return ErrNotFound
	}
	return err
}

// LookupKey reads an API key and its application at QUORUM.
func (c *Cassandra) LookupKey(ctx context.Context, h Hash) (Credential, error) {
	var cr Credential
	var enabled bool
	err := c.s.Query(`SELECT key_id, app_id, enabled FROM `+c.t("api_keys")+` WHERE key_hash = ?`, h.String()).
		WithContext(ctx).Idempotent(true).Scan(&cr.KeyID, &cr.AppID, &enabled)
	if err != nil {
		return Credential{}, notFound(err)
	}
	cr.Disabled = !enabled
	return cr, c.fillApp(ctx, &cr)
}

// LookupToken reads an OAuth access token and its application at QUORUM.
func (c *Cassandra) LookupToken(ctx context.Context, h Hash) (Credential, error) {
	var cr Credential
	err := c.s.Query(`SELECT client_id, app_id, expires FROM `+c.t("oauth_tokens")+` WHERE token_hash = ?`, h.String()).
		WithContext(ctx).Idempotent(true).Scan(&cr.KeyID, &cr.AppID, &cr.Expires)
	if err != nil {
		return Credential{}, notFound(err)
	}
	return cr, c.fillApp(ctx, &cr)
}

func (c *Cassandra) fillApp(ctx context.Context, cr *Credential) error {
	var enabled bool
	err := c.s.Query(`SELECT apis, enabled FROM `+c.t("applications")+` WHERE id = ?`, cr.AppID).
		WithContext(ctx).Idempotent(true).Scan(&cr.APIs, &enabled)
	if errors.Is(err, gocql.ErrNotFound) {
		// The application was deleted: its keys are dead.
		cr.Disabled, cr.APIs = true, nil
		return nil
	}
	if err != nil {
		return err
	}
	if !enabled {
		cr.Disabled = true
	}
	return nil
}
