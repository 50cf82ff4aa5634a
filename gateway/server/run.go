package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/apimctl/apimctl/gateway/anm"
	"github.com/apimctl/apimctl/gateway/apimgr"
	"github.com/apimctl/apimctl/gateway/config"
	"github.com/apimctl/apimctl/gateway/eventlog"
	"github.com/apimctl/apimctl/gateway/health"
	"github.com/apimctl/apimctl/gateway/metrics"
	"github.com/apimctl/apimctl/gateway/policy"
	"github.com/apimctl/apimctl/gateway/proxy"
	"github.com/apimctl/apimctl/gateway/store"
)

// Exit codes of apigw.
const (
	ExitOK      = 0
	ExitError   = 1 // configuration, precheck or runtime failure
	ExitUsage   = 2
	ExitUnclean = 3 // drain timed out: some requests were cut
)

// Main runs apigw with the process's arguments, environment and signals; it returns the exit
// code.
func Main(args []string) int {
	o, err := ParseFlags(args, os.Getenv, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "apigw:", strings.TrimPrefix(err.Error(), "usage: "))
		if errors.Is(err, errUsage) {
			return ExitUsage
		}
		return ExitError
	}
	log := newLogger(os.Stderr, o.LogLevel)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	code, err := Run(ctx, o, os.LookupEnv, log)
	if err != nil {
		log.Error("apigw stopped", "role", string(o.Role), "err", err.Error())
	}
	return code
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// app is a started role: its handlers, checks and what to stop on the way out.
type app struct {
	main     http.Handler
	admin    *http.ServeMux
	health   *health.Health
	draining *atomic.Bool
	closers  []func() // run in order after the listeners are shut down
}

// Run runs a role until ctx is cancelled (SIGTERM), then drains.
func Run(ctx context.Context, o Options, lookup config.Lookup, log *slog.Logger) (int, error) {
	log = log.With("role", string(o.Role), "group", o.Group, "instance", o.Instance)
	limit, err := applyMemoryLimit(o.MemoryLimit, func(k string) string { v, _ := lookup(k); return v })
	if err != nil {
		return ExitUsage, err
	}
	env, err := config.LoadEnvironmentPackage(o.EnvFile, lookup)
	if err != nil {
		return ExitError, fmt.Errorf("invalid environment package:\n%w", err)
	}
	var pol *config.PolicyPackage
	if o.PolicyFile != "" {
		if pol, err = config.LoadPolicyPackage(o.PolicyFile, lookup); err != nil {
			return ExitError, fmt.Errorf("invalid policy package:\n%w", err)
		}
	}
	if err := requireSections(o.Role, env, pol); err != nil {
		return ExitError, err
	}
	tlsCfg, err := tlsConfig(o)
	if err != nil {
		return ExitError, err
	}
	for _, w := range keyFilesReadableByOthers(o, env) {
		log.Warn("private key file too open", "problem", w)
	}
	flt, err := faultFromEnv(lookup)
	if err != nil {
		return ExitUsage, err
	}
	log.Info("starting apigw", "imageTag", o.ImageTag, "listen", hostPort(o.ListenIP, o.Port),
		"admin", hostPort(o.ListenIP, o.AdminPort), "tls", tlsCfg != nil, "memoryLimit", limit)

	if !o.SkipPrechecks {
		deps, err := dependencies(o.Role, env)
		if err != nil {
			return ExitError, err
		}
		if err := waitFor(ctx, deps, o.PrecheckTimeout, log); err != nil {
			return ExitError, err
		}
	}

	m := metrics.New(o.Group, o.ImageTag)
	m.Info.WithLabelValues(string(o.Role), o.Instance).Set(1)
	var a *app
	switch o.Role {
	case Traffic:
		a, err = startTraffic(ctx, o, env, pol, m, log)
	case APIMgr:
		a, err = startAPIMgr(ctx, o, env, m, log)
	case ANM:
		a, err = startANM(ctx, o, env, m, log)
	}
	if err != nil {
		return ExitError, err
	}
	defer func() {
		for _, c := range a.closers {
			c()
		}
	}()
	if flt.active() {
		log.Warn("fault injection on", "neverReady", flt.neverReady, "errorRate", flt.errorRate)
		a.main = flt.wrap(a.main, pol, m)
	}

	// Listen before announcing readiness: a port in use is a startup error, not a log line.
	mainLn, err := net.Listen("tcp", hostPort(o.ListenIP, o.Port))
	if err != nil {
		return ExitError, fmt.Errorf("listen on %s: %w", hostPort(o.ListenIP, o.Port), err)
	}
	adminLn, err := net.Listen("tcp", hostPort(o.ListenIP, o.AdminPort))
	if err != nil {
		mainLn.Close()
		return ExitError, fmt.Errorf("listen on admin port %s: %w", hostPort(o.ListenIP, o.AdminPort), err)
	}
	errLog := slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	mainSrv := &http.Server{
		Handler:           a.main,
		ConnContext:       proxy.ConnContext, // responses leave in one write (proxy.CorkListener)
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          errLog,
		TLSConfig:         tlsCfg,
	}
	a.admin.Handle("GET /metrics", m.Handler())
	a.health.Mount(a.admin)
	// The admin port serves small answers to Prometheus and the kubelet: tight deadlines.
	adminSrv := &http.Server{Handler: a.admin, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 16 << 10, ErrorLog: errLog}

	hctx, hcancel := context.WithCancel(context.Background())
	defer hcancel()
	go a.health.Run(hctx, 5*time.Second)

	serveErr := make(chan error, 2)
	go func() {
		var err error
		if tlsCfg != nil {
			err = mainSrv.Serve(tls.NewListener(proxy.CorkListener(mainLn, o.WriteTimeout), tlsCfg))
		} else {
			err = mainSrv.Serve(proxy.CorkListener(mainLn, o.WriteTimeout))
		}
		serveErr <- err
	}()
	go func() { serveErr <- adminSrv.Serve(adminLn) }()
	if o.PprofAddr != "" {
		stopPprof, err := servePprof(o.PprofAddr, errLog)
		if err != nil {
			return ExitError, err
		}
		defer stopPprof()
		log.Warn("serving pprof: a debug endpoint, do not expose it", "address", o.PprofAddr)
	}
	log.Info("serving", "address", mainLn.Addr().String(), "adminAddress", adminLn.Addr().String())

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		return ExitError, fmt.Errorf("server failed: %w", err)
	}

	// Drain: readiness goes false first and the process keeps serving for DrainDelay, so the
	// endpoints controller removes this pod before its listener closes; keep-alive clients
	// are told to reconnect (Connection: close). Then Shutdown stops accepting and waits for
	// in-flight requests up to DrainTimeout.
	a.health.SetDraining()
	a.draining.Store(true)
	mainSrv.SetKeepAlivesEnabled(false)
	log.Info("draining: readiness is false, still serving", "delay", o.DrainDelay.String(), "timeout", o.DrainTimeout.String())
	time.Sleep(o.DrainDelay)
	sctx, scancel := context.WithTimeout(context.Background(), o.DrainTimeout)
	defer scancel()
	code := ExitOK
	if err := mainSrv.Shutdown(sctx); err != nil {
		log.Error("drain timed out: closing remaining connections", "err", err.Error())
		mainSrv.Close()
		code = ExitUnclean
	} else {
		log.Info("drained: every in-flight request finished")
	}
	for _, c := range a.closers {
		c()
	}
	a.closers = nil
	actx, acancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer acancel()
	_ = adminSrv.Shutdown(actx)
	log.Info("stopped")
	return code, nil
}

// requireSections checks that the packages hold what the role needs, and that a role with a
// management API has its token: such a role does not start to answer anonymously.
func requireSections(r Role, env *config.EnvironmentPackage, pol *config.PolicyPackage) error {
	switch r {
	case Traffic:
		if pol.NeedsStore() {
			return env.Require(string(r), "cassandra")
		}
	case APIMgr:
		if err := env.Require(string(r), "cassandra"); err != nil {
			return err
		}
		return env.RequireAdminToken(string(r))
	case ANM:
		if err := env.Require(string(r), "metricsDB", "eventLog.dir"); err != nil {
			return err
		}
		return env.RequireAdminToken(string(r))
	}
	return nil
}

// dependencies are what each role waits for at startup: Cassandra hosts, the RDBMS, and for
// traffic and apimgr the Admin Node Manager (and the API Manager for traffic, when given).
func dependencies(r Role, env *config.EnvironmentPackage) ([]dependency, error) {
	var deps []dependency
	if c := env.Cassandra; c != nil && r != ANM {
		for _, h := range c.HostList {
			deps = append(deps, dependency{name: "cassandra", addr: hostPort(h, c.Port)})
		}
	}
	if env.MetricsDB != nil {
		deps = append(deps, dependency{name: "rdbms", addr: env.MetricsDB.Addr})
	}
	if r != ANM && env.ANM != nil && env.ANM.URL != "" {
		tc, err := env.ANM.TLS.ClientConfig("anm.tls", config.TLSVerify)
		if err != nil {
			return nil, err
		}
		deps = append(deps, dependency{name: "anm", addr: healthURL(env.ANM.URL), httpc: true, tls: tc})
	}
	if r == Traffic && env.APIManager != nil {
		deps = append(deps, dependency{name: "apimgr", addr: healthURL(env.APIManager.URL), httpc: true})
	}
	return deps, nil
}

// withHealth serves /healthcheck on the role's main port too (the reference adds the path on
// the API ports), ahead of everything else.
func withHealth(h *health.Health, next http.Handler) http.Handler {
	ready, live := h.ReadyHandler(), h.LiveHandler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthcheck":
			ready.ServeHTTP(w, r)
		case "/healthcheck/live":
			live.ServeHTTP(w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func openCassandra(ctx context.Context, c *config.Cassandra, log *slog.Logger) (*store.Cassandra, error) {
	s, err := store.Open(ctx, c, log)
	if err != nil {
		return nil, err
	}
	log.Info("connected to cassandra", "hosts", c.HostList, "keyspace", c.Keyspace, "throttleKeyspace", c.ThrottleKeyspace, "consistency", "QUORUM")
	return s, nil
}

func startTraffic(ctx context.Context, o Options, env *config.EnvironmentPackage, pol *config.PolicyPackage, m *metrics.Metrics, log *slog.Logger) (*app, error) {
	a := &app{admin: http.NewServeMux(), draining: new(atomic.Bool)}
	var checks []health.Check
	var keys, tokens *store.Cache
	var cass *store.Cassandra
	if pol.NeedsStore() {
		var err error
		if cass, err = openCassandra(ctx, env.Cassandra, log); err != nil {
			return nil, err
		}
		a.closers = append(a.closers, cass.Close)
		opts := func(kind string) store.CacheOptions {
			return store.CacheOptions{
				PositiveTTL: pol.Cache.PositiveTTL, NegativeTTL: pol.Cache.NegativeTTL,
				StaleFor: pol.Cache.StaleFor, MaxEntries: pol.Cache.MaxEntries, FetchTimeout: env.Cassandra.Timeout + time.Second,
				Hit: m.CacheCounter(kind, "hit"), Miss: m.CacheCounter(kind, "miss"), Stale: m.CacheCounter(kind, "stale"),
				Refused: m.CacheCounter(kind, "refused"),
			}
		}
		keys = store.NewCache(counted(cass.LookupKey, m, "lookup_key"), opts("key"))
		tokens = store.NewCache(counted(cass.LookupToken, m, "lookup_token"), opts("token"))
		// Traffic keeps serving from its cache while Cassandra is away, so readiness only
		// fails once the cache can no longer cover (staleFor).
		checks = append(checks, health.Check{Name: "cassandra", Grace: pol.Cache.StaleFor, Probe: cass.QuorumCheck})
	}
	failOpen := pol.OnStoreFailure == config.FailOpen
	ll := pol.LookupLimit
	lookups := policy.NewLookupBudget(policy.LookupBudgetOptions{PerClient: ll.PerClient, Burst: ll.Burst, Total: ll.Total,
		TrustedProxies: ll.TrustedNets})
	var routes []proxy.Route
	for _, api := range pol.APIs {
		r := proxy.Route{API: api}
		switch api.Policy {
		case config.Passthrough:
			r.Guard = policy.Passthrough{}
		case config.APIKey:
			r.Guard = &policy.APIKey{API: api.Name, Creds: keys, FailOpen: failOpen, Lookups: lookups}
		case config.OAuth:
			r.Guard = &policy.OAuth{API: api.Name, Creds: tokens, FailOpen: failOpen, Lookups: lookups}
		}
		if rl := api.RateLimit; rl != nil {
			th := &policy.Throttle{API: api.Name, Limit: rl.Requests, Per: rl.Per, ByApp: rl.By == "application",
				Counters: cass, SyncInterval: pol.Throttle.SyncInterval, FailOpen: failOpen, Log: log,
				OnSyncError: func() { m.StoreError("throttle_sync") }}
			th.Start()
			a.closers = append([]func(){th.Stop}, a.closers...) // stop before the session closes
			r.Throttle = th
		}
		routes = append(routes, r)
	}
	var sink proxy.EventSink
	a.health = health.New(checks...)
	if env.EventLog.Dir != "" {
		w, err := eventlog.Open(eventlog.Options{Dir: env.EventLog.Dir, Group: o.Group, Instance: o.Instance,
			MaxDiskSize: int64(env.EventLog.MaxDiskSize), MaxFileSize: int64(env.EventLog.MaxFileSize),
			Buffer: env.EventLog.Buffer, Metrics: m, Logger: log})
		if err != nil {
			return nil, err
		}
		sink = w
		a.health.AddLiveness(health.Liveness{Name: "event-writer", Probe: w.Alive})
		a.closers = append([]func(){func() { _ = w.Close() }}, a.closers...)
	}
	h := proxy.NewHandler(proxy.Options{Routes: routes, Upstream: env.Upstream, Metrics: m, Events: sink, Draining: a.draining, Logger: log,
		EscapedSlashes: pol.Paths.EscapedSlashes, BodyTimeout: o.BodyTimeout})
	a.main = withHealth(a.health, h)
	for _, api := range pol.APIs {
		log.Info("api published", "api", api.Name, "path", api.Path, "backend", api.BackendURL.Redacted(), "policy", string(api.Policy), "rateLimited", api.RateLimit != nil)
	}
	return a, nil
}

// counted wraps a store lookup so failures are counted (not-found is an answer, not a failure).
func counted(f store.Fetch, m *metrics.Metrics, op string) store.Fetch {
	return func(ctx context.Context, h store.Hash) (store.Credential, error) {
		c, err := f(ctx, h)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			m.StoreError(op)
		}
		return c, err
	}
}

func startAPIMgr(ctx context.Context, o Options, env *config.EnvironmentPackage, m *metrics.Metrics, log *slog.Logger) (*app, error) {
	a := &app{admin: http.NewServeMux(), draining: new(atomic.Bool)}
	cass, err := openCassandra(ctx, env.Cassandra, log)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, cass.Close)
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := cass.EnsureSchema(sctx); err != nil {
		cass.Close()
		return nil, err
	}
	log.Info("schema ready", "keyspace", env.Cassandra.Keyspace, "throttleKeyspace", env.Cassandra.ThrottleKeyspace)
	a.health = health.New(health.Check{Name: "cassandra", Probe: cass.QuorumCheck})
	mux := http.NewServeMux()
	(&apimgr.Server{Store: cass, AdminToken: env.APIMgr.AdminToken, TokenLifetime: env.APIMgr.TokenLifetime, Log: log}).Mount(mux)
	a.main = withHealth(a.health, countRequests(proxy.LimitBodyTime(mux, o.BodyTimeout), m.ForAPI("apimgr"), m, a.draining))
	return a, nil
}

func startANM(ctx context.Context, o Options, env *config.EnvironmentPackage, m *metrics.Metrics, log *slog.Logger) (*app, error) {
	a := &app{admin: http.NewServeMux(), draining: new(atomic.Bool)}
	db, err := anm.OpenDB(env.MetricsDB)
	if err != nil {
		return nil, err
	}
	st := &anm.Streamer{DB: db, Dir: env.EventLog.Dir, Prefix: env.MetricsDB.TablePrefix, Interval: o.ANMInterval,
		MaxChunk: 8 << 20, Metrics: m, Log: log}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := st.EnsureSchema(sctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := os.MkdirAll(env.EventLog.Dir, 0o755); err != nil {
		db.Close()
		return nil, fmt.Errorf("events directory: %w", err)
	}
	rctx, rcancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); st.Run(rctx) }()
	a.closers = append(a.closers, func() { rcancel(); wg.Wait(); db.Close() })
	a.health = health.New(health.Check{Name: "rdbms", Probe: db.PingContext})
	mux := http.NewServeMux()
	st.Mount(mux, env.ANM.AdminToken)
	a.main = withHealth(a.health, countRequests(proxy.LimitBodyTime(mux, o.BodyTimeout), m.ForAPI("anm"), m, a.draining))
	log.Info("streaming events", "dir", env.EventLog.Dir, "database", env.MetricsDB.Database, "interval", o.ANMInterval.String())
	return a, nil
}

// countRequests counts the management roles' requests like the traffic path does.
func countRequests(next http.Handler, am *metrics.API, m *metrics.Metrics, draining *atomic.Bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.InFlight().Inc()
		defer m.InFlight().Dec()
		if draining.Load() {
			w.Header().Set("Connection", "close")
		}
		sw := &statusWriter{ResponseWriter: w, status: 200}
		next.ServeHTTP(sw, r)
		am.Request(sw.status)
		am.Latency.Observe(time.Since(start).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(c int) {
	if !s.wrote {
		s.status, s.wrote = c, true
	}
	s.ResponseWriter.WriteHeader(c)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
