package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"time"

	"github.com/gocql/gocql"
)

// APIRecord is an API as registered in the API Manager.
type APIRecord struct {
	Name        string    `json:"name"`
	Path        string    `json:"path"`
	Backend     string    `json:"backend"`
	Policy      string    `json:"policy"`
	Description string    `json:"description,omitempty"`
	Created     time.Time `json:"created"`
}

// Application owns API keys and OAuth clients and is granted APIs.
type Application struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	APIs    []string  `json:"apis"`
	Enabled bool      `json:"enabled"`
	Created time.Time `json:"created"`
}

// KeyInfo describes an API key without its secret.
type KeyInfo struct {
	KeyID   string    `json:"keyId"`
	AppID   string    `json:"appId"`
	Created time.Time `json:"created"`
}

// OAuthClient is a client-credentials client of an application (secret not included).
type OAuthClient struct {
	ClientID      string        `json:"clientId"`
	AppID         string        `json:"appId"`
	TokenLifetime time.Duration `json:"-"`
	Enabled       bool          `json:"enabled"`
	Created       time.Time     `json:"created"`
}

// NewID returns a random identifier with a readable prefix.
func NewID(prefix string) string {
	var b [9]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// NewSecret returns a random secret suitable as an API key, client secret or token.
func NewSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// PutAPI creates or replaces an API record.
func (c *Cassandra) PutAPI(ctx context.Context, a APIRecord) error {
	return c.s.Query(`INSERT INTO `+c.t("apis")+` (name, path, backend, policy, description, created) VALUES (?, ?, ?, ?, ?, ?)`,
		a.Name, a.Path, a.Backend, a.Policy, a.Description, a.Created).WithContext(ctx).Exec()
}

// GetAPI reads an API record.
func (c *Cassandra) GetAPI(ctx context.Context, name string) (APIRecord, error) {
	a := APIRecord{Name: name}
	err := c.s.Query(`SELECT path, backend, policy, description, created FROM `+c.t("apis")+` WHERE name = ?`, name).
		WithContext(ctx).Scan(&a.Path, &a.Backend, &a.Policy, &a.Description, &a.Created)
	return a, notFound(err)
}

// ListAPIs lists API records.
func (c *Cassandra) ListAPIs(ctx context.Context) ([]APIRecord, error) {
	it := c.s.Query(`SELECT name, path, backend, policy, description, created FROM ` + c.t("apis")).WithContext(ctx).Iter()
	out := []APIRecord{}
	var a APIRecord
	for it.Scan(&a.Name, &a.Path, &a.Backend, &a.Policy, &a.Description, &a.Created) {
		out = append(out, a)
	}
	return out, it.Close()
}

// DeleteAPI deletes an API record.
func (c *Cassandra) DeleteAPI(ctx context.Context, name string) error {
	return c.s.Query(`DELETE FROM `+c.t("apis")+` WHERE name = ?`, name).WithContext(ctx).Exec()
}

// PutApplication creates or replaces an application.
func (c *Cassandra) PutApplication(ctx context.Context, a Application) error {
	return c.s.Query(`INSERT INTO `+c.t("applications")+` (id, name, apis, enabled, created) VALUES (?, ?, ?, ?, ?)`,
		a.ID, a.Name, a.APIs, a.Enabled, a.Created).WithContext(ctx).Exec()
}

// GetApplication reads an application.
func (c *Cassandra) GetApplication(ctx context.Context, id string) (Application, error) {
	a := Application{ID: id}
	err := c.s.Query(`SELECT name, apis, enabled, created FROM `+c.t("applications")+` WHERE id = ?`, id).
		WithContext(ctx).Scan(&a.Name, &a.APIs, &a.Enabled, &a.Created)
	if a.APIs == nil {
		a.APIs = []string{}
	}
	return a, notFound(err)
}

// ListApplications lists applications.
func (c *Cassandra) ListApplications(ctx context.Context) ([]Application, error) {
	it := c.s.Query(`SELECT id, name, apis, enabled, created FROM ` + c.t("applications")).WithContext(ctx).Iter()
	out := []Application{}
	for {
		var a Application
		if !it.Scan(&a.ID, &a.Name, &a.APIs, &a.Enabled, &a.Created) {
			break
		}
		if a.APIs == nil {
			a.APIs = []string{}
		}
		out = append(out, a)
	}
	return out, it.Close()
}

// DeleteApplication deletes an application, its keys and its key index. Its OAuth clients
// and tokens stop working because their application is gone.
func (c *Cassandra) DeleteApplication(ctx context.Context, id string) error {
	keys, err := c.ListKeys(ctx, id)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := c.DeleteKey(ctx, id, k.KeyID); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return c.s.Query(`DELETE FROM `+c.t("applications")+` WHERE id = ?`, id).WithContext(ctx).Exec()
}

// CreateKey issues a new API key for an application and returns its id and the key itself,
// which is shown once and stored only as a hash.
func (c *Cassandra) CreateKey(ctx context.Context, appID string) (KeyInfo, string, error) {
	key := NewSecret()
	h := HashOf(key).String()
	info := KeyInfo{KeyID: NewID("key-"), AppID: appID, Created: time.Now().UTC().Truncate(time.Millisecond)}
	b := c.s.NewBatch(gocql.LoggedBatch).WithContext(ctx)
	b.Query(`INSERT INTO `+c.t("api_keys")+` (key_hash, key_id, app_id, enabled, created) VALUES (?, ?, ?, true, ?)`, h, info.KeyID, appID, info.Created)
	b.Query(`INSERT INTO `+c.t("app_keys")+` (app_id, key_id, key_hash, created) VALUES (?, ?, ?, ?)`, appID, info.KeyID, h, info.Created)
	if err := c.s.ExecuteBatch(idempotent(b)); err != nil {
		return KeyInfo{}, "", err
	}
	return info, key, nil
}

// ListKeys lists an application's keys (ids only).
func (c *Cassandra) ListKeys(ctx context.Context, appID string) ([]KeyInfo, error) {
	it := c.s.Query(`SELECT key_id, created FROM `+c.t("app_keys")+` WHERE app_id = ?`, appID).WithContext(ctx).Iter()
	out := []KeyInfo{}
	k := KeyInfo{AppID: appID}
	for it.Scan(&k.KeyID, &k.Created) {
		out = append(out, k)
	}
	return out, it.Close()
}

// DeleteKey revokes an API key. Gateways stop accepting it within their cache's positive TTL.
func (c *Cassandra) DeleteKey(ctx context.Context, appID, keyID string) error {
	var h string
	err := c.s.Query(`SELECT key_hash FROM `+c.t("app_keys")+` WHERE app_id = ? AND key_id = ?`, appID, keyID).
		WithContext(ctx).Scan(&h)
	if err != nil {
		return notFound(err)
	}
	b := c.s.NewBatch(gocql.LoggedBatch).WithContext(ctx)
	b.Query(`DELETE FROM `+c.t("api_keys")+` WHERE key_hash = ?`, h)
	b.Query(`DELETE FROM `+c.t("app_keys")+` WHERE app_id = ? AND key_id = ?`, appID, keyID)
	return c.s.ExecuteBatch(idempotent(b))
}

// CreateOAuthClient registers a client-credentials client and returns it with its secret,
// shown once and stored only as a hash.
func (c *Cassandra) CreateOAuthClient(ctx context.Context, appID string, lifetime time.Duration) (OAuthClient, string, error) {
	secret := NewSecret()
	cl := OAuthClient{ClientID: NewID("client-"), AppID: appID, TokenLifetime: lifetime, Enabled: true, Created: time.Now().UTC().Truncate(time.Millisecond)}
	err := c.s.Query(`INSERT INTO `+c.t("oauth_clients")+` (client_id, secret_hash, app_id, token_lifetime_s, enabled, created) VALUES (?, ?, ?, ?, true, ?)`,
		cl.ClientID, HashOf(secret).String(), appID, int(lifetime/time.Second), cl.Created).WithContext(ctx).Exec()
	return cl, secret, err
}

// AuthenticateClient checks a client id and secret and returns the client.
func (c *Cassandra) AuthenticateClient(ctx context.Context, clientID, secret string) (OAuthClient, bool, error) {
	var h string
	var secs int
	cl := OAuthClient{ClientID: clientID}
	err := c.s.Query(`SELECT secret_hash, app_id, token_lifetime_s, enabled, created FROM `+c.t("oauth_clients")+` WHERE client_id = ?`, clientID).
		WithContext(ctx).Scan(&h, &cl.AppID, &secs, &cl.Enabled, &cl.Created)
	if errors.Is(err, gocql.ErrNotFound) {
		return cl, false, nil
	}
	if err != nil {
		return cl, false, err
	}
	cl.TokenLifetime = time.Duration(secs) * time.Second
	want := HashOf(secret).String()
	return cl, cl.Enabled && constantTimeEqual(h, want), nil
}

// IssueToken stores a new access token for a client; Cassandra expires the row with the token.
func (c *Cassandra) IssueToken(ctx context.Context, cl OAuthClient, lifetime time.Duration) (string, time.Time, error) {
	token := NewSecret()
	exp := time.Now().Add(lifetime).UTC().Truncate(time.Millisecond)
	ttl := int(lifetime/time.Second) + 60 // keep the row a little past expiry: an expired token answers "expired", not "unknown"
	err := c.s.Query(`INSERT INTO `+c.t("oauth_tokens")+` (token_hash, client_id, app_id, expires) VALUES (?, ?, ?, ?) USING TTL ?`,
		HashOf(token).String(), cl.ClientID, cl.AppID, exp, ttl).WithContext(ctx).Exec()
	return token, exp, err
}

func constantTimeEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := 0; i < len(a); i++ {
		v |= a[i] ^ b[i]
	}
	return v == 0
}
