package cassandra

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gocql/gocql"
)

// A node's own view, from its virtual tables (system_views, Cassandra 4.0 and later) and its
// system keyspace: what nodetool would print, without JMX. Every query here is answered by
// the one node the session is pinned to (DialNode): virtual tables are node-local.

// NodeSession is a session that talks to exactly one node.
type NodeSession struct {
	Addr    string // host:port
	session *gocql.Session
}

// DialNode connects to the node at addr (host or host:port) and to no other: the driver's
// host filter drops every peer it discovers, so each query is answered by that node.
func DialNode(ctx context.Context, t Target, addr string) (*NodeSession, error) {
	host, port := splitHostPort(addr, t.Port)
	timeout := t.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	c := gocql.NewCluster(host)
	c.Port = port
	if t.Username != "" {
		c.Authenticator = gocql.PasswordAuthenticator{Username: t.Username, Password: t.Password}
	}
	c.Timeout, c.ConnectTimeout = timeout, timeout
	c.Consistency = gocql.One
	c.HostFilter = gocql.WhiteListHostFilter(host)
	// One node, asked a few questions: no ring discovery, no event subscriptions.
	c.DisableInitialHostLookup = true
	c.Events.DisableNodeStatusEvents, c.Events.DisableTopologyEvents, c.Events.DisableSchemaEvents = true, true, true
	c.NumConns = 1
	// Protocol v4 (Cassandra 2.2 and later): no extra connection to discover the version.
	c.ProtoVersion = 4
	c.Logger = t.Logger
	if c.Logger == nil {
		c.Logger = discard
	}
	type result struct {
		s   *gocql.Session
		err error
	}
	ch := make(chan result, 1)
	go func() { s, err := c.CreateSession(); ch <- result{s, err} }()
	hp := net.JoinHostPort(host, strconv.Itoa(port))
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("cassandra %s: %w", hp, r.err)
		}
		return &NodeSession{Addr: hp, session: r.s}, nil
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.s != nil {
				r.s.Close()
			}
		}()
		return nil, fmt.Errorf("cassandra %s: %w", hp, ctx.Err())
	}
}

// Close ends the session.
func (n *NodeSession) Close() { n.session.Close() }

func splitHostPort(addr string, defPort int) (string, int) {
	if defPort == 0 {
		defPort = 9042
	}
	if h, p, err := net.SplitHostPort(addr); err == nil {
		if n, err := strconv.Atoi(p); err == nil {
			return h, n
		}
		return h, defPort
	}
	return addr, defPort
}

// LocalInfo is system.local: who the node is.
type LocalInfo struct {
	Address       string // broadcast address
	HostID        string
	DC, Rack      string
	Version       string
	SchemaVersion string
	Tokens        []string
	ClusterName   string
	Partitioner   string
}

// PeerRow is one row of system.peers_v2: a peer as this node's system keyspace records it.
type PeerRow struct {
	Address       string
	HostID        string
	DC, Rack      string
	Version       string
	SchemaVersion string
	Tokens        []string
}

// GossipRow is one endpoint of system_views.gossip_info: a node as this node's gossiper
// knows it (itself included).
type GossipRow struct {
	Address    string
	Status     string // NORMAL, LEAVING, shutdown, … (the first field of STATUS_WITH_PORT)
	Load       float64
	Schema     string
	Heartbeat  int64
	Generation int64
	HostID     string
	RPCReady   bool
}

// Outbound is one peer of system_views.internode_outbound: this node's messaging connections
// to it. ActiveConnections 0 with failing attempts means the peer does not answer.
type Outbound struct {
	Address            string
	ActiveConnections  int64
	Attempts           int64
	SuccessfulAttempts int64
	PendingMessages    int64
	Errors             int64
	Dropped            int64 // overloaded and expired messages
}

// ThreadPool is one row of system_views.thread_pools.
type ThreadPool struct {
	Name                             string
	Active, Pending, Blocked         int64
	AllTimeBlocked, Completed, Limit int64
}

// SSTableTask is a running compaction (or cleanup, scrub, …) of system_views.sstable_tasks.
type SSTableTask struct {
	Keyspace, Table, Kind, Unit string
	Progress, Total             int64
}

// TableLatency is one table's local read or write latency (system_views.local_read_latency
// or local_write_latency).
type TableLatency struct {
	Keyspace, Table string
	Count           int64
	PerSecond       float64
	P50, P99, Max   time.Duration
}

// ClientConn is one connection of system_views.clients.
type ClientConn struct {
	Address, User, Driver, DriverVersion, Stage string
	Requests                                    int64
	SSL                                         bool
}

// NodeView is everything one node says about itself and the ring.
type NodeView struct {
	Local    LocalInfo
	Peers    []PeerRow
	Gossip   []GossipRow
	Outbound []Outbound
}

// ReadView reads the node's identity and its view of the ring: system.local, system.peers_v2,
// gossip_info and internode_outbound.
func (n *NodeSession) ReadView(ctx context.Context) (*NodeView, error) {
	v := &NodeView{}
	var hostID, schema gocql.UUID
	var bcast net.IP
	if err := n.session.Query(`SELECT broadcast_address, host_id, data_center, rack, release_version, schema_version, tokens, cluster_name, partitioner FROM system.local`).
		WithContext(ctx).Scan(&bcast, &hostID, &v.Local.DC, &v.Local.Rack, &v.Local.Version, &schema, &v.Local.Tokens, &v.Local.ClusterName, &v.Local.Partitioner); err != nil {
		return nil, fmt.Errorf("system.local on %s: %w", n.Addr, err)
	}
	v.Local.Address, v.Local.HostID, v.Local.SchemaVersion = ipString(bcast), uuidString(hostID), uuidString(schema)

	it := n.session.Query(`SELECT peer, host_id, data_center, rack, release_version, schema_version, tokens FROM system.peers_v2`).WithContext(ctx).Iter()
	for {
		var p PeerRow
		var peer net.IP
		var id, sv gocql.UUID
		if !it.Scan(&peer, &id, &p.DC, &p.Rack, &p.Version, &sv, &p.Tokens) {
			break
		}
		p.Address, p.HostID, p.SchemaVersion = ipString(peer), uuidString(id), uuidString(sv)
		v.Peers = append(v.Peers, p)
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("system.peers_v2 on %s: %w", n.Addr, err)
	}
	sort.Slice(v.Peers, func(i, j int) bool { return v.Peers[i].Address < v.Peers[j].Address })

	var errs []error
	// Gossip: strings as the gossiper holds them ("NORMAL,-3074…", "112270.0").
	it = n.session.Query(`SELECT address, status_with_port, load, "schema", heartbeat, generation, host_id, rpc_ready FROM system_views.gossip_info`).WithContext(ctx).Iter()
	for {
		var g GossipRow
		var addr net.IP
		var status, load, schemaS, hb, gen, id, ready *string
		if !it.Scan(&addr, &status, &load, &schemaS, &hb, &gen, &id, &ready) {
			break
		}
		g.Address = ipString(addr)
		g.Status, _, _ = strings.Cut(deref(status), ",")
		g.Load, _ = strconv.ParseFloat(deref(load), 64)
		g.Schema, g.HostID = deref(schemaS), deref(id)
		g.Heartbeat, _ = strconv.ParseInt(deref(hb), 10, 64)
		g.Generation, _ = strconv.ParseInt(deref(gen), 10, 64)
		g.RPCReady = deref(ready) == "true"
		v.Gossip = append(v.Gossip, g)
	}
	if err := it.Close(); err != nil {
		errs = append(errs, fmt.Errorf("gossip_info on %s: %w", n.Addr, err))
	}
	sort.Slice(v.Gossip, func(i, j int) bool { return v.Gossip[i].Address < v.Gossip[j].Address })

	it = n.session.Query(`SELECT address, active_connections, connection_attempts, successful_connection_attempts, pending_count, error_count, overload_count, expired_count FROM system_views.internode_outbound`).WithContext(ctx).Iter()
	for {
		var o Outbound
		var addr net.IP
		var overload, expired int64
		if !it.Scan(&addr, &o.ActiveConnections, &o.Attempts, &o.SuccessfulAttempts, &o.PendingMessages, &o.Errors, &overload, &expired) {
			break
		}
		o.Address, o.Dropped = ipString(addr), overload+expired
		v.Outbound = append(v.Outbound, o)
	}
	if err := it.Close(); err != nil {
		errs = append(errs, fmt.Errorf("internode_outbound on %s: %w", n.Addr, err))
	}
	sort.Slice(v.Outbound, func(i, j int) bool { return v.Outbound[i].Address < v.Outbound[j].Address })
	return v, errors.Join(errs...)
}

// ThreadPools reads system_views.thread_pools.
func (n *NodeSession) ThreadPools(ctx context.Context) ([]ThreadPool, error) {
	it := n.session.Query(`SELECT name, active_tasks, pending_tasks, blocked_tasks, blocked_tasks_all_time, completed_tasks, active_tasks_limit FROM system_views.thread_pools`).WithContext(ctx).Iter()
	var out []ThreadPool
	for {
		var p ThreadPool
		if !it.Scan(&p.Name, &p.Active, &p.Pending, &p.Blocked, &p.AllTimeBlocked, &p.Completed, &p.Limit) {
			break
		}
		out = append(out, p)
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("thread_pools on %s: %w", n.Addr, err)
	}
	return out, nil
}

// SSTableTasks reads the running compactions of system_views.sstable_tasks.
func (n *NodeSession) SSTableTasks(ctx context.Context) ([]SSTableTask, error) {
	it := n.session.Query(`SELECT keyspace_name, table_name, kind, progress, total, unit FROM system_views.sstable_tasks`).WithContext(ctx).Iter()
	var out []SSTableTask
	for {
		var t SSTableTask
		if !it.Scan(&t.Keyspace, &t.Table, &t.Kind, &t.Progress, &t.Total, &t.Unit) {
			break
		}
		out = append(out, t)
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("sstable_tasks on %s: %w", n.Addr, err)
	}
	return out, nil
}

// Latencies reads the node's local read (write=false) or write latencies per table.
func (n *NodeSession) Latencies(ctx context.Context, write bool) ([]TableLatency, error) {
	table := "local_read_latency"
	if write {
		table = "local_write_latency"
	}
	it := n.session.Query(`SELECT keyspace_name, table_name, count, per_second, p50th_ms, p99th_ms, max_ms FROM system_views.` + table).WithContext(ctx).Iter()
	var out []TableLatency
	for {
		var l TableLatency
		var p50, p99, mx float64
		if !it.Scan(&l.Keyspace, &l.Table, &l.Count, &l.PerSecond, &p50, &p99, &mx) {
			break
		}
		l.P50, l.P99, l.Max = millis(p50), millis(p99), millis(mx)
		out = append(out, l)
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("%s on %s: %w", table, n.Addr, err)
	}
	return out, nil
}

// Clients reads the node's client connections (system_views.clients).
func (n *NodeSession) Clients(ctx context.Context) ([]ClientConn, error) {
	it := n.session.Query(`SELECT address, username, driver_name, driver_version, connection_stage, request_count, ssl_enabled FROM system_views.clients`).WithContext(ctx).Iter()
	var out []ClientConn
	for {
		var c ClientConn
		var addr net.IP
		var user, driver, dv, stage *string
		var ssl *bool
		if !it.Scan(&addr, &user, &driver, &dv, &stage, &c.Requests, &ssl) {
			break
		}
		c.Address, c.User, c.Driver, c.DriverVersion, c.Stage = ipString(addr), deref(user), deref(driver), deref(dv), deref(stage)
		c.SSL = ssl != nil && *ssl
		out = append(out, c)
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("clients on %s: %w", n.Addr, err)
	}
	return out, nil
}

// VirtualTables lists the tables of system_views this node has (they differ by version).
func (n *NodeSession) VirtualTables(ctx context.Context) ([]string, error) {
	it := n.session.Query(`SELECT table_name FROM system_virtual_schema.tables WHERE keyspace_name = 'system_views'`).WithContext(ctx).Iter()
	var out []string
	var name string
	for it.Scan(&name) {
		out = append(out, name)
	}
	sort.Strings(out)
	return out, it.Close()
}

// discard swallows the driver's diagnostics.
var discard = log.New(io.Discard, "", 0)

func millis(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func ipString(ip net.IP) string {
	if ip == nil {
		return ""
	}
	return ip.String()
}

func uuidString(u gocql.UUID) string {
	if u == (gocql.UUID{}) {
		return ""
	}
	return u.String()
}

// Replication reads every keyspace's replication options (class, replication_factor or a
// factor per DC) from system_schema.keyspaces.
func (n *NodeSession) Replication(ctx context.Context) (map[string]map[string]string, error) {
	it := n.session.Query(`SELECT keyspace_name, replication FROM system_schema.keyspaces`).WithContext(ctx).Iter()
	out := map[string]map[string]string{}
	var name string
	var repl map[string]string
	for it.Scan(&name, &repl) {
		out[name] = repl
		repl = nil
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("keyspaces on %s: %w", n.Addr, err)
	}
	return out, nil
}
