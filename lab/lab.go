// Package lab runs the local lab: a real Kubernetes control plane with simulated nodes (kwok),
// three Apache Cassandra nodes, MariaDB, Prometheus and an OCI registry, all on loopback, each
// a process with a PID file and its own state directory. It is the console's embedded default
// and the bed of every integration test.
package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
)

// Lab is one lab, identified by its state directory.
type Lab struct {
	opts    Options
	ports   ports
	secrets *secrets
	tools   *tools
}

const optionsFile = "lab.json"

// New validates opts and returns the lab they describe. Nothing is started.
func New(opts Options) (*Lab, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	l := &Lab{opts: opts, ports: opts.ports(), tools: &tools{}, secrets: &secrets{}}
	if b, err := os.ReadFile(filepath.Join(opts.StateDir, "secrets.json")); err == nil {
		_ = json.Unmarshal(b, l.secrets)
	}
	return l, nil
}

// Open returns the lab last brought up in stateDir, with the options it was started with.
func Open(stateDir string) (*Lab, error) {
	opts := DefaultOptions()
	opts.StateDir = stateDir
	b, err := os.ReadFile(filepath.Join(stateDir, optionsFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no lab in %s: run `apimctl lab up` first", stateDir)
		}
		return nil, err
	}
	// A damaged options file must not keep `lab down` from stopping the recorded PIDs: fall
	// back to the defaults, which only change the addresses `lab status` probes.
	_ = json.Unmarshal(b, &opts)
	opts.StateDir = stateDir
	return New(opts)
}

// Options returns the lab's options.
func (l *Lab) Options() Options { return l.opts }

func (l *Lab) progress(format string, args ...any) {
	if l.opts.Progress != nil {
		l.opts.Progress(format, args...)
	}
}

// ticker reports every 30 s that a long step still runs; stop ends it.
func (l *Lab) ticker(what string, start time.Time) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				l.progress("  … %s (%s)", what, time.Since(start).Round(time.Second))
			}
		}
	}()
	return func() { close(done) }
}

func (l *Lab) want(group string) bool {
	return len(l.opts.Components) == 0 || slices.Contains(l.opts.Components, group)
}

// components lists the selected components in start order.
func (l *Lab) components() []*component {
	var cs []*component
	if l.want("kube") {
		cs = append(cs, l.kubeComponents(l.tools)...)
		cs = append(cs, l.agentComponents(l.tools)...)
		cs = append(cs, l.metricsServerComponent(l.tools), l.kubeStateMetricsComponent(l.tools))
	}
	if l.want("cassandra") {
		cs = append(cs, l.cassandraComponents(l.tools)...)
	}
	if l.want("mariadb") {
		cs = append(cs, l.mariadbComponent(l.tools))
	}
	if l.want("prometheus") {
		cs = append(cs, l.blackboxComponent(l.tools), l.prometheusComponent(l.tools))
	}
	if l.want("registry") {
		cs = append(cs, l.registryComponent(l.tools))
	}
	if l.want(azuriteName) {
		cs = append(cs, l.azuriteComponent(l.tools))
	}
	return cs
}

// lock serialises lab commands on one state directory.
func (l *Lab) lock() (unlock func(), err error) {
	if err := os.MkdirAll(l.opts.StateDir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(l.opts.StateDir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("another apimctl lab command is running on %s", l.opts.StateDir)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// PortInUseError says which port a component needs and something else holds.
type PortInUseError struct {
	Component, Addr string
	Err             error
}

func (e *PortInUseError) Error() string {
	return fmt.Sprintf("port %s, needed by %s, is already in use (%v): stop what holds it, or run the lab on other ports with --port-base", e.Addr, e.Component, e.Err)
}

// Preflight checks, before anything starts, that every component not already running can
// bind its ports.
func (l *Lab) Preflight() error {
	for _, c := range l.components() {
		if r, err := readRecord(l.opts.StateDir, c.name); err == nil && r.alive() {
			continue
		}
		for _, a := range c.listen {
			if err := portFree(a); err != nil {
				return &PortInUseError{Component: c.name, Addr: a, Err: errors.Unwrap(err)}
			}
		}
	}
	return nil
}

// Up brings every selected component up (those already running are left as they are) and
// returns the lab's Env. On failure it stops what this call started, so no half-started
// process stays behind.
func (l *Lab) Up(ctx context.Context) (env *Env, err error) {
	unlock, err := l.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := l.Preflight(); err != nil {
		return nil, err
	}
	if l.secrets, err = loadOrCreateSecrets(l.opts.StateDir); err != nil {
		return nil, err
	}
	// A partial `up --only …` (the drills restart one group) must not shrink what the lab's
	// options file says the lab is: keep the union.
	persist := l.opts
	if prev, err := Open(l.opts.StateDir); err == nil && len(persist.Components) > 0 {
		if len(prev.opts.Components) == 0 {
			persist.Components = nil
		} else {
			for _, c := range prev.opts.Components {
				if !slices.Contains(persist.Components, c) {
					persist.Components = append(persist.Components, c)
				}
			}
		}
	}
	b, _ := json.MarshalIndent(persist, "", "  ")
	if err := writeFileAtomic(filepath.Join(l.opts.StateDir, optionsFile), b, 0o644); err != nil {
		return nil, err
	}
	t, err := l.ensureTools(ctx, l.needs)
	if err != nil {
		return nil, err
	}
	*l.tools = *t

	var mu sync.Mutex
	var mine []*started
	defer func() {
		if err == nil {
			return
		}
		// Undo: stop what this call started, newest first.
		for i := len(mine) - 1; i >= 0; i-- {
			_ = stopProcess(l.opts.StateDir, mine[i].rec, 10*time.Second)
		}
	}()
	comps := map[string]*component{}
	for _, c := range l.components() {
		comps[c.name] = c
	}
	run := func(ctx context.Context, names ...string) error {
		g, ctx := errgroup.WithContext(ctx)
		for _, n := range names {
			c := comps[n]
			g.Go(func() error {
				s, err := l.startOne(ctx, c)
				if s != nil {
					mu.Lock()
					mine = append(mine, s)
					mu.Unlock()
				}
				return err
			})
		}
		return g.Wait()
	}
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	if l.want("kube") {
		g.Go(func() error {
			for _, step := range [][]string{{"etcd"}, {"kube-apiserver"}, {"kube-controller-manager", "kube-scheduler", "kwok", agentName, backendName, metricsServerName, kubeStateMetricsName}} {
				if err := run(gctx, step...); err != nil {
					return err
				}
			}
			return l.setupCluster(gctx)
		})
	}
	if l.want("cassandra") {
		g.Go(func() error {
			var names []string
			for i := range l.opts.CassandraNodes {
				names = append(names, fmt.Sprintf("cassandra-%d", i+1))
			}
			if err := run(gctx, names...); err != nil {
				return err
			}
			return l.step("cassandra keyspaces and roles", func() error { return l.bootstrapCassandra(gctx) })
		})
	}
	if l.want("mariadb") {
		g.Go(func() error {
			if err := run(gctx, "mariadb"); err != nil {
				return err
			}
			return l.step("metrics database and user", func() error { return l.bootstrapMariaDB(gctx) })
		})
	}
	if l.want("prometheus") {
		g.Go(func() error { return run(gctx, blackboxName, "prometheus") })
	}
	if l.want("registry") {
		g.Go(func() error {
			if err := run(gctx, "registry"); err != nil {
				return err
			}
			return l.step("gateway images in the registry", func() error { return l.pushGatewayImages(gctx) })
		})
	}
	if l.want(azuriteName) {
		g.Go(func() error { return run(gctx, azuriteName) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if l.want("kube") && l.want("cassandra") && l.want("mariadb") {
		if err := l.step("gateways ready", func() error { return l.waitGateways(ctx, 3*time.Minute) }); err != nil {
			return nil, err
		}
	}
	env = l.env()
	if err := writeEnv(env); err != nil {
		return nil, err
	}
	if err := writeAzureSecret(env); err != nil {
		return nil, err
	}
	l.progress("lab up in %s — state in %s", time.Since(start).Round(100*time.Millisecond), l.opts.StateDir)
	return env, nil
}

func (l *Lab) needs(name string) bool {
	for _, c := range l.components() {
		if c.name == name {
			return true
		}
	}
	return false
}

func (l *Lab) step(what string, f func() error) error {
	start := time.Now()
	if err := f(); err != nil {
		return err
	}
	l.progress("  ✓ %-24s %s", what, time.Since(start).Round(100*time.Millisecond))
	return nil
}

// startOne starts c unless it runs already, and waits until it is ready. It returns the
// process it started, if any, so that a failed Up can stop it.
func (l *Lab) startOne(ctx context.Context, c *component) (*started, error) {
	timeout := 90 * time.Second
	if c.group == "cassandra" {
		timeout = 240 * time.Second
	}
	if r, err := readRecord(l.opts.StateDir, c.name); err == nil && r.alive() {
		if err := waitReady(ctx, c, nil, timeout); err != nil {
			return nil, fmt.Errorf("%s (pid %d, already running) is not healthy: %w; see %s", c.name, r.PID, err, r.Log)
		}
		if c.refresh != nil {
			if err := c.refresh(ctx); err != nil {
				return nil, fmt.Errorf("refresh %s (pid %d): %w", c.name, r.PID, err)
			}
		}
		l.progress("  ✓ %-24s %-28s already running (pid %d)", c.name, c.addr, r.PID)
		return nil, nil
	}
	begin := time.Now()
	if c.prepare != nil {
		if err := c.prepare(ctx); err != nil {
			return nil, fmt.Errorf("prepare %s: %w", c.name, err)
		}
	}
	logPath := filepath.Join(l.opts.StateDir, "logs", c.name+".log")
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, err
	}
	s, err := startProcess(l.opts.StateDir, c.name, c.command(), logPath)
	if err != nil {
		return nil, err
	}
	if err := waitReady(ctx, c, s, timeout); err != nil {
		return s, fmt.Errorf("%s did not become ready: %w\nlast lines of %s:\n%s", c.name, err, logPath, tailFile(logPath, 15))
	}
	l.progress("  ✓ %-24s %-28s ready in %s (pid %d)", c.name, c.addr, time.Since(begin).Round(100*time.Millisecond), s.rec.PID)
	return s, nil
}

func waitReady(ctx context.Context, c *component, s *started, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		last = c.ready(pctx)
		cancel()
		if last == nil {
			return nil
		}
		if s != nil {
			select {
			case <-s.exited:
				return fmt.Errorf("it exited (%v)", s.err)
			default:
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s: %w", timeout, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (l *Lab) env() *Env {
	e := &Env{
		StateDir:          l.opts.StateDir,
		Kubeconfig:        filepath.Join(l.opts.StateDir, "kubeconfig", "admin.kubeconfig"),
		Context:           ContextName,
		Namespace:         l.opts.Namespace,
		CassandraHosts:    l.opts.cassandraHosts(),
		CassandraPort:     l.opts.CassandraPort,
		CassandraUser:     cassandraUser,
		CassandraPassword: l.secrets.CassandraPassword,
		Keyspace:          Keyspace,
		ThrottleKeyspace:  ThrottleKeyspace,
		MySQLAddr:         fmt.Sprintf("127.0.0.1:%d", l.ports.MariaDB),
		MySQLDatabase:     mysqlDatabase,
		MySQLUser:         mysqlUser,
		MySQLPassword:     l.secrets.MySQLPassword,
		PrometheusURL:     fmt.Sprintf("http://127.0.0.1:%d", l.ports.Prometheus),
		RegistryAddr:      fmt.Sprintf("127.0.0.1:%d", l.ports.Registry),
	}
	if l.want(azuriteName) {
		e.AzureBlobEndpoint = fmt.Sprintf("http://127.0.0.1:%d/%s", l.ports.Azurite, AzureAccount)
		e.AzureAccount, e.AzureKey = AzureAccount, l.secrets.AzuriteKey
	}
	return e
}

// Stopped is one process Down ended.
type Stopped struct {
	Name string `json:"name"`
	PID  int    `json:"pid"`
}

// Down stops every process of the lab by the PIDs it recorded (never by name): the kube
// control plane from the top down, everything else at once. With wipe it also removes the
// state directory. It returns what it stopped.
func (l *Lab) Down(ctx context.Context, wipe bool) ([]Stopped, error) {
	unlock, err := l.lock()
	if err != nil {
		return nil, err
	}
	recs, err := l.records()
	if err != nil {
		return nil, err
	}
	grace := map[string]time.Duration{}
	for _, c := range l.components() {
		grace[c.name] = c.grace
	}
	var out []Stopped
	var mu sync.Mutex
	var errs []error
	stop := func(rs []*procRecord) {
		var wg sync.WaitGroup
		for _, r := range rs {
			wg.Go(func() {
				alive := r.alive()
				g := grace[r.Name]
				if g == 0 {
					g = 10 * time.Second
				}
				err := stopProcess(l.opts.StateDir, r, g)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
				} else if alive {
					out = append(out, Stopped{Name: r.Name, PID: r.PID})
				}
			})
		}
		wg.Wait()
	}
	// Controllers before the apiserver before etcd; data stores in parallel with the first wave.
	waves := [][]string{{"kwok", "kube-controller-manager", "kube-scheduler", agentName}, {"kube-apiserver"}, {"etcd"}}
	var first []*procRecord
	placed := map[string]bool{}
	for _, w := range waves {
		for _, n := range w {
			placed[n] = true
		}
	}
	for _, r := range recs {
		if !placed[r.Name] {
			first = append(first, r)
		}
	}
	for i, w := range waves {
		batch := []*procRecord{}
		if i == 0 {
			batch = append(batch, first...)
		}
		for _, r := range recs {
			if slices.Contains(w, r.Name) {
				batch = append(batch, r)
			}
		}
		stop(batch)
	}
	out = append(out, l.sweepGateways()...)
	unlock()
	if len(errs) > 0 {
		return out, errors.Join(errs...)
	}
	if wipe {
		if !fileExists(filepath.Join(l.opts.StateDir, optionsFile)) {
			return out, fmt.Errorf("%s does not look like a lab state directory; not removing it", l.opts.StateDir)
		}
		if err := os.RemoveAll(l.opts.StateDir); err != nil {
			return out, err
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// records reads every PID file of the lab.
func (l *Lab) records() ([]*procRecord, error) {
	files, err := filepath.Glob(filepath.Join(l.opts.StateDir, "run", "*.pid"))
	if err != nil {
		return nil, err
	}
	var recs []*procRecord
	for _, f := range files {
		name := filepath.Base(f[:len(f)-len(".pid")])
		r, err := readRecord(l.opts.StateDir, name)
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// PIDs returns the recorded PID of every lab process, running or not (tests check them).
func (l *Lab) PIDs() (map[string]int, error) {
	recs, err := l.records()
	if err != nil {
		return nil, err
	}
	m := map[string]int{}
	for _, r := range recs {
		m[r.Name] = r.PID
	}
	return m, nil
}

// ComponentStatus is one line of `lab status`.
type ComponentStatus struct {
	Name   string `json:"name"`
	State  string `json:"state"` // healthy, unhealthy, stopped
	PID    int    `json:"pid,omitempty"`
	Addr   string `json:"address"`
	RSSKiB int64  `json:"rssKiB,omitempty"`
	Error  string `json:"error,omitempty"`
	Log    string `json:"log,omitempty"`
}

// Status probes every component of the lab concurrently.
func (l *Lab) Status(ctx context.Context) []ComponentStatus {
	comps := l.components()
	out := make([]ComponentStatus, len(comps))
	var wg sync.WaitGroup
	for i, c := range comps {
		wg.Go(func() {
			st := ComponentStatus{Name: c.name, Addr: c.addr, State: "stopped"}
			if r, err := readRecord(l.opts.StateDir, c.name); err == nil && r.alive() {
				st.PID, st.RSSKiB, st.Log = r.PID, r.rssKiB(), r.Log
				pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
				defer cancel()
				if err := c.ready(pctx); err != nil {
					st.State, st.Error = "unhealthy", err.Error()
				} else {
					st.State = "healthy"
				}
			}
			out[i] = st
		})
	}
	wg.Wait()
	if l.want("kube") {
		out = append(out, l.gatewayStatus(ctx)...)
	}
	return out
}

// Stop stops one component (e.g. "cassandra-2") by its PID, for fault drills. `lab up` starts
// it again.
func (l *Lab) Stop(ctx context.Context, name string) error {
	r, err := readRecord(l.opts.StateDir, name)
	if err != nil {
		return fmt.Errorf("no running component %q in this lab", name)
	}
	for _, c := range l.components() {
		if c.name == name {
			return stopProcess(l.opts.StateDir, r, c.grace)
		}
	}
	return stopProcess(l.opts.StateDir, r, 10*time.Second)
}
