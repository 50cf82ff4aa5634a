// Package store keeps the gateway group's data in Cassandra: API definitions, applications,
// API keys, OAuth clients and tokens in the group's keyspace, rate-limit counters in the
// throttling keyspace. Every read and write is at QUORUM, as the reference architecture
// requires, so an answer survives the loss of one of three replicas.
//
// Secrets are never stored: API keys, client secrets and tokens are kept as SHA-256 hashes,
// and a key is known elsewhere only by its public key id.
package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gocql/gocql"

	"github.com/apimctl/apimctl/gateway/config"
)

// ErrNotFound means the store answered and the item does not exist.
var ErrNotFound = errors.New("not found")

// Cassandra is a session on the group's Cassandra cluster.
type Cassandra struct {
	s      *gocql.Session
	ks     string // group keyspace
	tks    string // throttling keyspace
	prefix string // table name prefix
	cfg    *config.Cassandra
}

// Open connects to Cassandra with QUORUM consistency for every query.
func Open(ctx context.Context, c *config.Cassandra, log *slog.Logger) (*Cassandra, error) {
	cl, err := clusterConfig(c)
	if err != nil {
		return nil, err
	}
	return open(cl, c)
}

func open(cl *gocql.ClusterConfig, c *config.Cassandra) (*Cassandra, error) {
	s, err := cl.CreateSession()
	if err != nil {
		return nil, fmt.Errorf("connect to cassandra %v:%d: %w", c.HostList, c.Port, err)
	}
	return &Cassandra{s: s, ks: c.Keyspace, tks: c.ThrottleKeyspace, prefix: c.TablePrefix, cfg: c}, nil
}

// clusterConfig is the session configuration of c.
//
// Retries: every statement of this store is idempotent (reads, INSERTs and DELETEs of fixed
// values; the session's default) except the counter UPDATE of the rate limits, which says so
// (AddCount). gocql's query loop asks the retry policy about any failed query, idempotent or
// not, so the policy itself refuses non-idempotent ones: a counter update that timed out on
// one host and was retried on the next would count the requests twice.
func clusterConfig(c *config.Cassandra) (*gocql.ClusterConfig, error) {
	cl := gocql.NewCluster(c.HostList...)
	cl.Port = c.Port
	cl.Consistency = gocql.Quorum
	cl.SerialConsistency = gocql.Serial
	cl.Timeout = c.Timeout
	cl.WriteTimeout = c.Timeout
	cl.ConnectTimeout = c.ConnectTimeout
	cl.NumConns = 2
	cl.ProtoVersion = 4
	cl.ReconnectInterval = 5 * time.Second
	cl.DefaultIdempotence = true
	// Idempotent statements move to another replica when one is slow or down.
	cl.RetryPolicy = idempotentOnly{&gocql.SimpleRetryPolicy{NumRetries: 1}}
	cl.PoolConfig.HostSelectionPolicy = gocql.TokenAwareHostPolicy(gocql.RoundRobinHostPolicy())
	if c.Username != "" {
		cl.Authenticator = gocql.PasswordAuthenticator{Username: c.Username, Password: c.Password}
	}
	tc, err := c.TLS.ClientConfig("cassandra.tls", config.TLSDisabled)
	if err != nil {
		return nil, err
	}
	if tc != nil {
		// gocql verifies the name of each node's address unless told otherwise.
		cl.SslOpts = &gocql.SslOptions{Config: tc, EnableHostVerification: !tc.InsecureSkipVerify}
	}
	return cl, nil
}

// idempotentOnly is a retry policy that never retries a statement not marked idempotent.
type idempotentOnly struct{ gocql.RetryPolicy }

func (p idempotentOnly) Attempt(q gocql.RetryableQuery) bool {
	if iq, ok := q.(interface{ IsIdempotent() bool }); !ok || !iq.IsIdempotent() {
		return false
	}
	return p.RetryPolicy.Attempt(q)
}

// idempotent marks every statement of a batch idempotent (batch entries default to not).
func idempotent(b *gocql.Batch) *gocql.Batch {
	for i := range b.Entries {
		b.Entries[i].Idempotent = true
	}
	return b
}

// Close closes the session.
func (c *Cassandra) Close() { c.s.Close() }

// Session is the underlying session (tests use it to inspect rows).
func (c *Cassandra) Session() *gocql.Session { return c.s }

func (c *Cassandra) t(name string) string  { return c.ks + "." + c.prefix + name }
func (c *Cassandra) tt(name string) string { return c.tks + "." + c.prefix + name }

// Ping reads from system.local: the cluster answers on this session.
func (c *Cassandra) Ping(ctx context.Context) error {
	var v string
	return c.s.Query(`SELECT release_version FROM system.local`).WithContext(ctx).Consistency(gocql.One).Scan(&v)
}

// QuorumCheck reads one of the gateway's tables at QUORUM: enough replicas of the group's
// keyspace are up to serve credentials.
func (c *Cassandra) QuorumCheck(ctx context.Context) error {
	var n int
	err := c.s.Query(`SELECT COUNT(*) FROM `+c.t("api_keys")+` WHERE key_hash = ?`, "quorum-check").
		WithContext(ctx).Scan(&n)
	return err
}

// EnsureSchema creates the tables the gateway uses if they do not exist. Only the API Manager
// role runs it: concurrent schema changes from many pods can disagree in Cassandra.
func (c *Cassandra) EnsureSchema(ctx context.Context) error {
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS ` + c.t("apis") + ` (name text PRIMARY KEY, path text, backend text, policy text, description text, created timestamp)`,
		`CREATE TABLE IF NOT EXISTS ` + c.t("applications") + ` (id text PRIMARY KEY, name text, apis set<text>, enabled boolean, created timestamp)`,
		`CREATE TABLE IF NOT EXISTS ` + c.t("api_keys") + ` (key_hash text PRIMARY KEY, key_id text, app_id text, enabled boolean, created timestamp)`,
		`CREATE TABLE IF NOT EXISTS ` + c.t("app_keys") + ` (app_id text, key_id text, key_hash text, created timestamp, PRIMARY KEY (app_id, key_id))`,
		`CREATE TABLE IF NOT EXISTS ` + c.t("oauth_clients") + ` (client_id text PRIMARY KEY, secret_hash text, app_id text, token_lifetime_s int, enabled boolean, created timestamp)`,
		`CREATE TABLE IF NOT EXISTS ` + c.t("oauth_tokens") + ` (token_hash text PRIMARY KEY, client_id text, app_id text, expires timestamp)`,
		`CREATE TABLE IF NOT EXISTS ` + c.tt("throttle") + ` (bucket text, window bigint, count counter, PRIMARY KEY ((bucket, window)))`,
	}
	for _, q := range stmts {
		if err := c.s.Query(q).WithContext(ctx).Exec(); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
	}
	return nil
}

// Hash is the SHA-256 of a secret (API key, client secret, token).
type Hash [32]byte

// HashOf hashes a secret. Secrets up to 128 bytes (every key and token this gateway issues)
// are hashed from a stack copy: converting the string would allocate on every request.
func HashOf(secret string) Hash {
	if len(secret) <= 128 {
		var buf [128]byte
		return sha256.Sum256(buf[:copy(buf[:], secret)])
	}
	return sha256.Sum256([]byte(secret))
}

func (h Hash) String() string { return hex.EncodeToString(h[:]) }
