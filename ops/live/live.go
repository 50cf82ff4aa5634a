package live

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/apimctl/apimctl/internal/redact"
	"github.com/apimctl/apimctl/internal/tick"
	"github.com/apimctl/apimctl/ops/check"
	"github.com/apimctl/apimctl/ops/model"
)

// LiveOptions tune the live model.
type LiveOptions struct {
	// PollInterval is how often Cassandra, MySQL and Prometheus are asked (5 s when zero);
	// Kubernetes is watched, not polled.
	PollInterval time.Duration
	// CallTimeout bounds every call to a source (4 s when zero).
	CallTimeout time.Duration
	// StaleAfter marks a source stale when its last success is older (3 × PollInterval).
	StaleAfter time.Duration
	// Queries are the PromQL of the traffic panels (TrafficQueriesIn the connection's
	// namespace when empty).
	Queries TrafficQueries
	// Selectors tell roles and groups from labels (DefaultSelectors when zero).
	Selectors *model.Selectors
	ReadOnly  bool
	Now       func() time.Time
	// Backups reads the backup status (ops/dr.BackupStatus) every BackupsInterval; nil
	// leaves Snapshot.Backups empty.
	Backups func(ctx context.Context, now time.Time) model.BackupStatus
}

func (o *LiveOptions) defaults() {
	if o.PollInterval == 0 {
		o.PollInterval = 5 * time.Second
	}
	if o.CallTimeout == 0 {
		o.CallTimeout = 4 * time.Second
	}
	if o.StaleAfter == 0 {
		o.StaleAfter = 3 * o.PollInterval
	}
	if o.Queries.GroupRPS == "" {
		o.Queries = DefaultTrafficQueries()
	}
	if o.Selectors == nil {
		s := model.DefaultSelectors()
		o.Selectors = &s
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Live is the live model: independent sources, each refreshing on its own schedule with its
// own timeout, error and freshness, and a publisher that turns their latest data into
// Snapshots — at most one per coalescing interval, so a burst of watch events costs one
// rebuild. A slow or failing source never blocks the others: each keeps its last data.
type Live struct {
	opts LiveOptions
	conn *Connection

	kube  *kubeSource
	cass  *cassandraSource
	mysql *mysqlSource
	prom  *promSource
	bkp   *backupsSource

	dirty chan struct{}
	out   chan model.Snapshot

	mu   sync.Mutex
	last model.Snapshot
}

// NewLive prepares the sources of conn. Nothing runs until Start.
func NewLive(conn *Connection, opts LiveOptions) *Live {
	if opts.Queries.GroupRPS == "" {
		opts.Queries = TrafficQueriesIn(conn.Targets.Namespace)
	}
	opts.defaults()
	l := &Live{opts: opts, conn: conn, dirty: make(chan struct{}, 1), out: make(chan model.Snapshot, 1)}
	l.kube = newKubeSource(conn, opts, l.markDirty)
	l.cass = newCassandraSource(conn.Targets, opts, l.markDirty)
	l.mysql = newMySQLSource(conn.Targets, opts, l.markDirty)
	l.prom = newPromSource(conn.Targets, opts, l.markDirty)
	l.bkp = &backupsSource{read: opts.Backups, opts: opts, changed: l.markDirty}
	return l
}

func (l *Live) markDirty() {
	select {
	case l.dirty <- struct{}{}:
	default:
	}
}

// Start runs every source and the publisher until ctx ends; Updates is closed then.
func (l *Live) Start(ctx context.Context) {
	go l.kube.run(ctx)
	go l.cass.run(ctx)
	go l.mysql.run(ctx)
	go l.prom.run(ctx)
	go l.bkp.run(ctx)
	go l.publish(ctx)
}

// Updates delivers snapshots; a slow reader only ever gets the newest one.
func (l *Live) Updates() <-chan model.Snapshot { return l.out }

const coalesce = 50 * time.Millisecond

func (l *Live) publish(ctx context.Context) {
	defer close(l.out)
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.dirty:
		}
		// Let a burst of changes land, then build once.
		select {
		case <-ctx.Done():
			return
		case <-time.After(coalesce):
		}
		s := l.Snapshot()
		select { // drop an unread older snapshot: only the newest matters
		case <-l.out:
		default:
		}
		select {
		case l.out <- s:
		case <-ctx.Done():
			return
		}
	}
}

// Snapshot builds a snapshot from every source's latest data now.
func (l *Live) Snapshot() model.Snapshot {
	now := l.opts.Now()
	s := model.Snapshot{Taken: now, Namespace: l.conn.Targets.Namespace, Context: l.conn.Targets.Context, ReadOnly: l.opts.ReadOnly}
	l.kube.fill(&s, now)
	l.cass.fill(&s, now)
	l.mysql.fill(&s, now)
	l.prom.fill(&s, now)
	l.bkp.fill(&s, now)
	s.Findings = check.Check(s)
	l.mu.Lock()
	l.last = s
	l.mu.Unlock()
	return s
}

// WaitAnswered waits until every source has answered once (success or error), or ctx ends.
func (l *Live) WaitAnswered(ctx context.Context) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if l.kube.answered() && l.cass.answered() && l.mysql.answered() && l.prom.answered() && l.bkp.answered() {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// freshness is a source's success/error bookkeeping.
type freshness struct {
	mu    sync.Mutex
	state model.SourceState
	tried bool
}

func (f *freshness) ok(now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state.Synced, f.state.LastSuccess, f.state.LastAttempt, f.state.Error, f.tried = true, now, now, "", true
}

func (f *freshness) fail(now time.Time, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state.LastAttempt, f.state.Error, f.tried = now, redact.URL(err.Error()), true
}

// record is an attempt's outcome: ok when err is nil, else fail.
func (f *freshness) record(now time.Time, err error) {
	if err != nil {
		f.fail(now, err)
	} else {
		f.ok(now)
	}
}

func (f *freshness) answered() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tried
}

// source is the state of the source name at endpoint, as Snapshot.Sources lists it.
func (f *freshness) source(name, endpoint string, now time.Time, staleAfter time.Duration) model.SourceState {
	st := f.get(now, staleAfter)
	st.Name, st.Endpoint = name, endpoint
	return st
}

func (f *freshness) get(now time.Time, staleAfter time.Duration) model.SourceState {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.state
	st.Stale = st.Synced && now.Sub(st.LastSuccess) > staleAfter
	return st
}

// poll runs a polled source until ctx ends: now and then every opts.PollInterval, f under
// opts.CallTimeout (or, for a source that could not be set up, its setupErr instead), the
// outcome recorded in fresh, then changed.
func poll(ctx context.Context, opts LiveOptions, fresh *freshness, changed func(), setupErr error, f func(ctx context.Context) error) {
	tick.Every(ctx, opts.PollInterval, func() {
		err := setupErr
		if err == nil {
			cctx, cancel := context.WithTimeout(ctx, opts.CallTimeout)
			err = recovered(func() error { return f(cctx) })
			cancel()
		}
		fresh.record(opts.Now(), err)
		changed()
	})
}

// recovered runs f and turns a panic into its error: a source's bug shows as that source's
// error in the console, which goes on running (a panic on this goroutine would end the
// process with the terminal left in raw mode).
func recovered(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error (a bug; please report it): %v", p)
		}
	}()
	return f()
}
