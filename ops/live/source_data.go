package live

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/apimctl/apimctl/internal/redact"
	"github.com/apimctl/apimctl/ops/model"

	"github.com/apimctl/apimctl/cluster/cassandra"
	"github.com/apimctl/apimctl/cluster/mysql"
)

// cassandraSource polls the ring through one long-lived session; the driver's own host-state
// events say which nodes are up between polls.
type cassandraSource struct {
	t       Targets
	opts    LiveOptions
	changed func()
	fresh   freshness

	mu     sync.Mutex
	client *cassandra.Client
	state  model.CassandraState
}

func newCassandraSource(t Targets, opts LiveOptions, changed func()) *cassandraSource {
	return &cassandraSource{t: t, opts: opts, changed: changed}
}

func (c *cassandraSource) answered() bool { return c.fresh.answered() }

func (c *cassandraSource) run(ctx context.Context) {
	defer func() {
		c.mu.Lock()
		if c.client != nil {
			c.client.Close()
		}
		c.mu.Unlock()
	}()
	poll(ctx, c.opts, &c.fresh, c.changed, nil, c.poll)
}

// poll reads the cluster once; cctx bounds the call.
func (c *cassandraSource) poll(cctx context.Context) error {
	if len(c.t.CassandraHosts) == 0 {
		return errors.New("no Cassandra hosts: set --cass-host or CASS_HOST, or create the cassandra-credentials Secret")
	}
	c.mu.Lock()
	cl := c.client
	c.mu.Unlock()
	if cl == nil {
		var err error
		cl, err = cassandra.Dial(cctx, cassandra.Target{Hosts: c.t.CassandraHosts, Port: c.t.CassandraPort,
			Username: c.t.CassandraUser, Password: c.t.CassandraPassword, Timeout: c.opts.CallTimeout})
		if err != nil {
			c.mu.Lock()
			for i := range c.state.Nodes { // unreachable: nobody is known to be up
				c.state.Nodes[i].Up = false
			}
			c.mu.Unlock()
			return err
		}
		c.mu.Lock()
		c.client = cl
		c.mu.Unlock()
	}
	st := model.CassandraState{}
	var ring []model.RingNode
	for _, n := range cl.Nodes() {
		st.Nodes = append(st.Nodes, model.CassandraNode{Address: n.Addr, DC: n.DC, Rack: n.Rack, Version: n.Version, HostID: n.HostID, Up: n.Up})
		ring = append(ring, model.RingNode{Address: n.Addr, DC: n.DC, Rack: n.Rack, Up: n.Up, Tokens: n.Tokens})
	}
	var errs []error
	if v, err := cl.SchemaVersions(cctx); err != nil {
		errs = append(errs, fmt.Errorf("schema versions: %w", err))
	} else {
		st.SchemaVersions = v
	}
	names, err := cl.UserKeyspaces(cctx)
	if err != nil {
		errs = append(errs, fmt.Errorf("keyspaces: %w", err))
	}
	for _, name := range names {
		k, err := cl.Keyspace(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ks := model.KeyspaceState{Name: k.Name, Strategy: k.Strategy, ReplicationFactor: k.ReplicationFactor, Tables: k.Tables}
		st.Keyspaces = append(st.Keyspaces, model.KeyspaceQuorum(ring, ks, k.Options))
	}
	c.mu.Lock()
	if len(errs) > 0 && len(names) == 0 { // keep the last keyspaces when they could not be read
		st.Keyspaces = c.state.Keyspaces
		st.SchemaVersions = c.state.SchemaVersions
	}
	c.state = st
	c.mu.Unlock()
	return errors.Join(errs...)
}

func (c *cassandraSource) fill(s *model.Snapshot, now time.Time) {
	s.Sources = append(s.Sources, c.fresh.source(model.SourceCassandra, strings.Join(c.t.CassandraHosts, ","), now, c.opts.StaleAfter))
	c.mu.Lock()
	s.Cassandra = c.state
	s.Cassandra.Nodes = append([]model.CassandraNode(nil), c.state.Nodes...)
	s.Cassandra.Keyspaces = append([]model.KeyspaceState(nil), c.state.Keyspaces...)
	c.mu.Unlock()
}

// mysqlSource polls the metrics database.
type mysqlSource struct {
	t       Targets
	opts    LiveOptions
	changed func()
	fresh   freshness

	mu    sync.Mutex
	db    *sql.DB
	dbErr error
	name  string
	state model.MySQLState
}

func newMySQLSource(t Targets, opts LiveOptions, changed func()) *mysqlSource {
	m := &mysqlSource{t: t, opts: opts, changed: changed}
	if t.MetricsDBURL == "" {
		m.dbErr = errors.New("no metrics database URL: set --metrics-db-url or METRICS_DB_URL, or create the metrics-db-credentials Secret")
		return m
	}
	m.db, m.name, m.dbErr = mysql.OpenJDBC(t.MetricsDBURL, t.MetricsDBUser, t.MetricsDBPassword, opts.CallTimeout)
	return m
}

func (m *mysqlSource) answered() bool { return m.fresh.answered() }

func (m *mysqlSource) run(ctx context.Context) {
	if m.db != nil {
		defer m.db.Close()
	}
	poll(ctx, m.opts, &m.fresh, m.changed, m.dbErr, func(cctx context.Context) error {
		st, err := mysql.ReadStatus(cctx, m.db, m.name)
		m.mu.Lock()
		if err != nil {
			m.state.Reachable = false
		} else {
			m.state = model.MySQLState{Reachable: true, Version: st.Version, Uptime: st.Uptime,
				ThreadsConnected: st.ThreadsConnected, MaxConnections: st.MaxConnections,
				TLS: st.TLSVersion != "", TLSVersion: st.TLSVersion, DatabaseSizeBytes: st.DatabaseSize}
			if r := st.Replica; r != nil {
				m.state.Replica = &model.ReplicaState{IORunning: r.IORunning, SQLRunning: r.SQLRunning, LagSeconds: r.LagSeconds, LastError: r.LastError}
			}
		}
		m.mu.Unlock()
		return err
	})
}

func (m *mysqlSource) fill(s *model.Snapshot, now time.Time) {
	s.Sources = append(s.Sources, m.fresh.source(model.SourceMySQL, redact.URL(m.t.MetricsDBURL), now, m.opts.StaleAfter))
	m.mu.Lock()
	s.MySQL = m.state
	m.mu.Unlock()
}
