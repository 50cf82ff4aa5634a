package live

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apimctl/apimctl/internal/redact"
	"github.com/apimctl/apimctl/ops/model"

	pmodel "github.com/prometheus/common/model"

	"github.com/apimctl/apimctl/cluster/cassandra"
	"github.com/apimctl/apimctl/cluster/mysql"
	"github.com/apimctl/apimctl/cluster/prom"
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
	every(ctx, c.opts.PollInterval, func() {
		err := c.poll(ctx)
		if err != nil {
			c.fresh.fail(c.opts.Now(), err)
		} else {
			c.fresh.ok(c.opts.Now())
		}
		c.changed()
	})
}

func (c *cassandraSource) poll(ctx context.Context) error {
	if len(c.t.CassandraHosts) == 0 {
		return errors.New("no Cassandra hosts: set --cass-host or CASS_HOST, or create the cassandra-credentials Secret")
	}
	cctx, cancel := context.WithTimeout(ctx, c.opts.CallTimeout)
	defer cancel()
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
	st := c.fresh.get(now, c.opts.StaleAfter)
	st.Endpoint = strings.Join(c.t.CassandraHosts, ",")
	s.Sources = append(s.Sources, withName(st, model.SourceCassandra))
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
	addr, name, err := mysql.ParseJDBC(t.MetricsDBURL)
	if err != nil {
		m.dbErr = err
		return m
	}
	m.name = name
	m.db, m.dbErr = mysql.Open(mysql.Target{Addr: addr, Database: name, User: t.MetricsDBUser, Password: t.MetricsDBPassword, Timeout: opts.CallTimeout})
	return m
}

func (m *mysqlSource) answered() bool { return m.fresh.answered() }

func (m *mysqlSource) run(ctx context.Context) {
	if m.db != nil {
		defer m.db.Close()
	}
	every(ctx, m.opts.PollInterval, func() {
		if m.dbErr != nil {
			m.fresh.fail(m.opts.Now(), m.dbErr)
			m.changed()
			return
		}
		cctx, cancel := context.WithTimeout(ctx, m.opts.CallTimeout)
		st, err := mysql.ReadStatus(cctx, m.db, m.name)
		cancel()
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
		if err != nil {
			m.fresh.fail(m.opts.Now(), err)
		} else {
			m.fresh.ok(m.opts.Now())
		}
		m.changed()
	})
}

func (m *mysqlSource) fill(s *model.Snapshot, now time.Time) {
	st := m.fresh.get(now, m.opts.StaleAfter)
	st.Endpoint = redact.URL(m.t.MetricsDBURL)
	s.Sources = append(s.Sources, withName(st, model.SourceMySQL))
	m.mu.Lock()
	s.MySQL = m.state
	m.mu.Unlock()
}

// TrafficQueries are the PromQL behind the traffic panels. Group queries must return series
// labelled `group`; API queries `group` and `api`.
type TrafficQueries struct {
	GroupRPS, GroupP90, GroupErrors string
	APIRPS, APIP90, APIErrors       string
	// Window and Step of the sparkline history.
	Window, Step time.Duration
}

// DefaultTrafficQueries read apigw's own metrics.
func DefaultTrafficQueries() TrafficQueries {
	return TrafficQueries{
		GroupRPS:    `sum by (group) (rate(apigw_requests_total[1m]))`,
		GroupP90:    `histogram_quantile(0.9, sum by (group, le) (rate(apigw_request_duration_seconds_bucket[1m])))`,
		GroupErrors: `sum by (group) (rate(apigw_requests_total{code_class="5xx"}[1m])) / sum by (group) (rate(apigw_requests_total[1m]))`,
		APIRPS:      `sum by (group, api) (rate(apigw_requests_total[1m]))`,
		APIP90:      `histogram_quantile(0.9, sum by (group, api, le) (rate(apigw_request_duration_seconds_bucket[1m])))`,
		APIErrors:   `sum by (group, api) (rate(apigw_requests_total{code_class="5xx"}[1m])) / sum by (group, api) (rate(apigw_requests_total[1m]))`,
		Window:      10 * time.Minute,
		Step:        15 * time.Second,
	}
}

// promSource polls Prometheus for the traffic panels.
type promSource struct {
	t       Targets
	opts    LiveOptions
	changed func()
	fresh   freshness
	client  *prom.Client
	err     error

	mu    sync.Mutex
	state model.TrafficState
}

func newPromSource(t Targets, opts LiveOptions, changed func()) *promSource {
	p := &promSource{t: t, opts: opts, changed: changed}
	if t.PrometheusURL == "" {
		p.err = errors.New("no Prometheus URL: set --prometheus-url or PROMETHEUS_URL")
	} else {
		p.client, p.err = prom.New(t.PrometheusURL)
	}
	return p
}

func (p *promSource) answered() bool { return p.fresh.answered() }

func (p *promSource) run(ctx context.Context) {
	every(ctx, p.opts.PollInterval, func() {
		if p.err != nil {
			p.fresh.fail(p.opts.Now(), p.err)
			p.changed()
			return
		}
		st, err := p.poll(ctx)
		if err != nil {
			p.fresh.fail(p.opts.Now(), err)
		} else {
			p.mu.Lock()
			p.state = st
			p.mu.Unlock()
			p.fresh.ok(p.opts.Now())
		}
		p.changed()
	})
}

func (p *promSource) poll(ctx context.Context) (model.TrafficState, error) {
	cctx, cancel := context.WithTimeout(ctx, p.opts.CallTimeout)
	defer cancel()
	q := p.opts.Queries
	end := p.opts.Now()
	start := end.Add(-q.Window)
	type key struct{ group, api string }
	collect := func(queries [3]string, withAPI bool) ([]model.TrafficSeries, error) {
		series := map[key]*model.TrafficSeries{}
		for i, query := range queries {
			v, err := p.client.QueryRange(cctx, query, start, end, q.Step)
			if err != nil {
				return nil, fmt.Errorf("query %q: %w", query, err)
			}
			m, ok := v.(pmodel.Matrix)
			if !ok {
				return nil, fmt.Errorf("query %q: not a range vector", query)
			}
			for _, ss := range m {
				k := key{group: string(ss.Metric["group"])}
				if withAPI {
					k.api = string(ss.Metric["api"])
				}
				ts := series[k]
				if ts == nil {
					ts = &model.TrafficSeries{Group: k.group, API: k.api}
					series[k] = ts
				}
				hist := make([]float64, 0, len(ss.Values))
				for _, sp := range ss.Values {
					f := float64(sp.Value)
					if math.IsNaN(f) || math.IsInf(f, 0) {
						f = 0
					}
					hist = append(hist, f)
				}
				last := 0.0
				if len(hist) > 0 {
					last = hist[len(hist)-1]
				}
				switch i {
				case 0:
					ts.RPS, ts.RPSHistory = last, hist
				case 1:
					ts.P90Seconds, ts.P90History = last, hist
				case 2:
					ts.ErrorRatio, ts.ErrHistory = last, hist
				}
			}
		}
		out := make([]model.TrafficSeries, 0, len(series))
		for _, s := range series {
			out = append(out, *s)
		}
		sort.Slice(out, func(i, j int) bool {
			if out[i].Group != out[j].Group {
				return out[i].Group < out[j].Group
			}
			return out[i].API < out[j].API
		})
		return out, nil
	}
	groups, err := collect([3]string{q.GroupRPS, q.GroupP90, q.GroupErrors}, false)
	if err != nil {
		return model.TrafficState{}, err
	}
	apis, err := collect([3]string{q.APIRPS, q.APIP90, q.APIErrors}, true)
	if err != nil {
		return model.TrafficState{}, err
	}
	return model.TrafficState{Groups: groups, APIs: apis, NoData: len(groups) == 0 && len(apis) == 0}, nil
}

func (p *promSource) fill(s *model.Snapshot, now time.Time) {
	st := p.fresh.get(now, p.opts.StaleAfter)
	st.Endpoint = redact.URL(p.t.PrometheusURL)
	s.Sources = append(s.Sources, withName(st, model.SourcePrometheus))
	p.mu.Lock()
	s.Traffic = p.state
	p.mu.Unlock()
}
