package cassandra

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gocql/gocql"
)

// Target says how to reach the cluster.
type Target struct {
	Hosts    []string
	Port     int
	Username string
	Password string
	// Timeout bounds connecting and each query; 5 s when zero.
	Timeout time.Duration
	// Logger receives the driver's own diagnostics; discarded when nil (they would scribble
	// over a terminal UI).
	Logger gocql.StdLogger
}

// Node is one Cassandra node as the driver sees it now.
type Node struct {
	Addr    string   `json:"address"`
	DC      string   `json:"dc"`
	Rack    string   `json:"rack"`
	Version string   `json:"version"`
	HostID  string   `json:"hostID"`
	Up      bool     `json:"up"`
	Tokens  []string `json:"tokens,omitempty"`
}

// Keyspace is a keyspace's replication.
type Keyspace struct {
	Name              string            `json:"name"`
	Strategy          string            `json:"strategy"`
	ReplicationFactor int               `json:"replicationFactor"`
	Options           map[string]string `json:"options,omitempty"`
	// Tables are its tables' names, sorted.
	Tables []string `json:"tables,omitempty"`
}

// Client is a session plus the driver's live view of the ring.
type Client struct {
	session *gocql.Session
	hosts   *hostTracker
}

// Dial connects with password authentication.
func Dial(ctx context.Context, t Target) (*Client, error) {
	if len(t.Hosts) == 0 {
		return nil, errors.New("cassandra: no hosts given (CASS_HOST)")
	}
	timeout := t.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	c := gocql.NewCluster(t.Hosts...)
	if t.Port != 0 {
		c.Port = t.Port
	}
	if t.Username != "" {
		c.Authenticator = gocql.PasswordAuthenticator{Username: t.Username, Password: t.Password}
	}
	c.Timeout, c.ConnectTimeout = timeout, timeout
	c.Consistency = gocql.Quorum
	c.ReconnectInterval = 2 * time.Second
	c.Logger = t.Logger
	if c.Logger == nil {
		c.Logger = log.New(io.Discard, "", 0)
	}
	tr := &hostTracker{inner: gocql.TokenAwareHostPolicy(gocql.RoundRobinHostPolicy()), hosts: map[string]*gocql.HostInfo{}, up: map[string]bool{}}
	c.PoolConfig.HostSelectionPolicy = tr
	type result struct {
		s   *gocql.Session
		err error
	}
	ch := make(chan result, 1)
	go func() { s, err := c.CreateSession(); ch <- result{s, err} }()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("cassandra: connect to %v: %w", t.Hosts, r.err)
		}
		return &Client{session: r.s, hosts: tr}, nil
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.s != nil {
				r.s.Close()
			}
		}()
		return nil, fmt.Errorf("cassandra: connect to %v: %w", t.Hosts, ctx.Err())
	}
}

// Session is the underlying gocql session.
func (c *Client) Session() *gocql.Session { return c.session }

// Close ends the session.
func (c *Client) Close() { c.session.Close() }

// Nodes returns every node the driver knows, sorted by address.
func (c *Client) Nodes() []Node { return c.hosts.nodes() }

// Keyspace reads a keyspace's replication from the schema.
func (c *Client) Keyspace(name string) (Keyspace, error) {
	md, err := c.session.KeyspaceMetadata(name)
	if err != nil {
		return Keyspace{}, fmt.Errorf("cassandra: keyspace %s: %w", name, err)
	}
	k := Keyspace{Name: name, Strategy: shortClass(md.StrategyClass), Options: map[string]string{}}
	for t := range md.Tables {
		k.Tables = append(k.Tables, t)
	}
	sort.Strings(k.Tables)
	for key, v := range md.StrategyOptions {
		s := fmt.Sprint(v)
		k.Options[key] = s
		if key == "replication_factor" {
			k.ReplicationFactor, _ = strconv.Atoi(s)
		}
	}
	if k.ReplicationFactor == 0 { // NetworkTopologyStrategy: the sum over DCs
		for key, s := range k.Options {
			if key != "class" {
				n, _ := strconv.Atoi(s)
				k.ReplicationFactor += n
			}
		}
	}
	return k, nil
}

func shortClass(c string) string {
	for i := len(c) - 1; i >= 0; i-- {
		if c[i] == '.' {
			return c[i+1:]
		}
	}
	return c
}

// hostTracker is the host-selection policy the driver uses, wrapped to record the host-state
// notifications the driver sends it (from Cassandra's topology and status events and from its
// own connection failures).
type hostTracker struct {
	inner gocql.HostSelectionPolicy
	mu    sync.Mutex
	hosts map[string]*gocql.HostInfo
	up    map[string]bool
}

func key(h *gocql.HostInfo) string {
	return net.JoinHostPort(h.ConnectAddress().String(), strconv.Itoa(h.Port()))
}

func (t *hostTracker) set(h *gocql.HostInfo, up bool) {
	t.mu.Lock()
	t.hosts[key(h)], t.up[key(h)] = h, up
	t.mu.Unlock()
}

func (t *hostTracker) AddHost(h *gocql.HostInfo)  { t.set(h, h.IsUp()); t.inner.AddHost(h) }
func (t *hostTracker) HostUp(h *gocql.HostInfo)   { t.set(h, true); t.inner.HostUp(h) }
func (t *hostTracker) HostDown(h *gocql.HostInfo) { t.set(h, false); t.inner.HostDown(h) }
func (t *hostTracker) RemoveHost(h *gocql.HostInfo) {
	t.mu.Lock()
	delete(t.hosts, key(h))
	delete(t.up, key(h))
	t.mu.Unlock()
	t.inner.RemoveHost(h)
}
func (t *hostTracker) KeyspaceChanged(e gocql.KeyspaceUpdateEvent) { t.inner.KeyspaceChanged(e) }
func (t *hostTracker) Init(s *gocql.Session)                       { t.inner.Init(s) }
func (t *hostTracker) IsLocal(h *gocql.HostInfo) bool              { return t.inner.IsLocal(h) }
func (t *hostTracker) SetPartitioner(p string)                     { t.inner.SetPartitioner(p) }
func (t *hostTracker) Pick(q gocql.ExecutableQuery) gocql.NextHost { return t.inner.Pick(q) }

func (t *hostTracker) nodes() []Node {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Node, 0, len(t.hosts))
	for k, h := range t.hosts {
		out = append(out, Node{Addr: k, DC: h.DataCenter(), Rack: h.Rack(), Version: strings.TrimPrefix(h.Version().String(), "v"), HostID: h.HostID(), Up: t.up[k], Tokens: h.Tokens()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Addr < out[j].Addr })
	return out
}

// SchemaVersions returns the distinct schema versions the coordinator knows: its own and its
// peers' (one version means the cluster agrees).
func (c *Client) SchemaVersions(ctx context.Context) (int, error) {
	seen := map[string]bool{}
	var v gocql.UUID
	if err := c.session.Query("SELECT schema_version FROM system.local").WithContext(ctx).Scan(&v); err != nil {
		return 0, err
	}
	seen[v.String()] = true
	it := c.session.Query("SELECT schema_version FROM system.peers").WithContext(ctx).Iter()
	for it.Scan(&v) {
		seen[v.String()] = true
	}
	return len(seen), it.Close()
}

// UserKeyspaces lists the keyspaces that are not Cassandra's own.
func (c *Client) UserKeyspaces(ctx context.Context) ([]string, error) {
	it := c.session.Query("SELECT keyspace_name FROM system_schema.keyspaces").WithContext(ctx).Iter()
	var out []string
	var name string
	for it.Scan(&name) {
		if name != "system" && !strings.HasPrefix(name, "system_") {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, it.Close()
}

// ClusterID names the cluster for comparison: its cluster_name and the sorted host IDs of
// the nodes the coordinator knows ("apim/0b1c…,5d2e…"). SameCluster compares two of them.
func (c *Client) ClusterID(ctx context.Context) (string, error) {
	var name string
	var local gocql.UUID
	if err := c.session.Query("SELECT cluster_name, host_id FROM system.local").WithContext(ctx).Scan(&name, &local); err != nil {
		return "", err
	}
	ids := map[string]bool{local.String(): true}
	it := c.session.Query("SELECT host_id FROM system.peers").WithContext(ctx).Iter()
	var id gocql.UUID
	for it.Scan(&id) {
		ids[id.String()] = true
	}
	if err := it.Close(); err != nil {
		return "", err
	}
	for _, n := range c.Nodes() { // the driver's view of the ring: nodes a stale peers table lacks
		if n.HostID != "" {
			ids[n.HostID] = true
		}
	}
	delete(ids, (gocql.UUID{}).String())
	return name + "/" + strings.Join(slices.Sorted(maps.Keys(ids)), ","), nil
}

// SameCluster reports whether two ClusterIDs name the same cluster: the same cluster_name and
// at least one node in common. A node replaced or a peers table that lags behind does not
// make the same cluster look like another. IDs of older backups (a hash of the host IDs in
// place of the list) are compared whole.
func SameCluster(a, b string) bool {
	an, aids, _ := strings.Cut(a, "/")
	bn, bids, _ := strings.Cut(b, "/")
	if an != bn {
		return false
	}
	if !strings.Contains(aids, "-") || !strings.Contains(bids, "-") {
		return a == b
	}
	as := strings.Split(aids, ",")
	for _, id := range strings.Split(bids, ",") {
		if slices.Contains(as, id) {
			return true
		}
	}
	return false
}
