// Package health serves the readiness (/healthcheck) and liveness (/healthcheck/live) probes.
//
// Readiness answers from the last result of background probes, so a flood of probe requests
// never turns into a flood of dependency queries. A dependency may have a grace period: a
// traffic gateway keeps serving from its credential cache while Cassandra is briefly away, so
// it reports "degraded" (200) during the grace period instead of taking every pod of the group
// out of the load balancer at once.
package health

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apimctl/apimctl/internal/tick"
)

// Check is one dependency of a role.
type Check struct {
	Name  string
	Grace time.Duration                   // failing for less than this keeps the role ready
	Probe func(ctx context.Context) error // must return within ctx
}

// Liveness is a condition of the process itself, e.g. a writer goroutine still making progress.
type Liveness struct {
	Name  string
	Probe func() error
}

type checkState struct {
	Check
	mu          sync.Mutex
	ok          bool
	err         string
	failingFrom time.Time
	checked     time.Time
}

// Health tracks readiness and liveness of a role.
type Health struct {
	checks   []*checkState
	live     []Liveness
	draining atomic.Bool
	started  time.Time
	probed   atomic.Bool
}

// New creates a Health with the role's dependency checks.
func New(checks ...Check) *Health {
	h := &Health{started: time.Now()}
	for _, c := range checks {
		h.checks = append(h.checks, &checkState{Check: c})
	}
	return h
}

// AddLiveness adds a liveness condition.
func (h *Health) AddLiveness(l Liveness) { h.live = append(h.live, l) }

// SetDraining turns readiness off for good: the process is shutting down.
func (h *Health) SetDraining() { h.draining.Store(true) }

// ProbeOnce runs every check now.
func (h *Health) ProbeOnce(ctx context.Context) {
	var wg sync.WaitGroup
	for _, c := range h.checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			err := c.Probe(cctx)
			cancel()
			now := time.Now()
			c.mu.Lock()
			defer c.mu.Unlock()
			c.checked = now
			if err == nil {
				c.ok, c.err, c.failingFrom = true, "", time.Time{}
				return
			}
			if c.ok || c.failingFrom.IsZero() {
				c.failingFrom = now
			}
			c.ok, c.err = false, err.Error()
		}()
	}
	wg.Wait()
	h.probed.Store(true)
}

// Run probes every interval until ctx ends.
func (h *Health) Run(ctx context.Context, interval time.Duration) {
	tick.Every(ctx, interval, func() { h.ProbeOnce(ctx) })
}

// CheckResult is one dependency in the readiness answer.
type CheckResult struct {
	Name        string     `json:"name"`
	OK          bool       `json:"ok"`
	Error       string     `json:"error,omitempty"`
	FailingFrom *time.Time `json:"failingSince,omitempty"`
	CheckedAt   time.Time  `json:"checkedAt"`
}

// Readiness is the readiness answer.
type Readiness struct {
	Status string        `json:"status"` // ready, degraded, not_ready, draining
	Checks []CheckResult `json:"checks"`
}

// Ready computes readiness from the last probe results.
func (h *Health) Ready() (Readiness, bool) {
	r := Readiness{Status: "ready", Checks: []CheckResult{}}
	ready := true
	if !h.probed.Load() && len(h.checks) > 0 {
		r.Status, ready = "not_ready", false
	}
	now := time.Now()
	for _, c := range h.checks {
		c.mu.Lock()
		cr := CheckResult{Name: c.Name, OK: c.ok, Error: c.err, CheckedAt: c.checked}
		if !c.ok && !c.failingFrom.IsZero() {
			t := c.failingFrom
			cr.FailingFrom = &t
			if now.Sub(c.failingFrom) >= c.Grace {
				ready = false
				r.Status = "not_ready"
			} else if ready {
				r.Status = "degraded"
			}
		}
		c.mu.Unlock()
		r.Checks = append(r.Checks, cr)
	}
	if h.draining.Load() {
		r.Status, ready = "draining", false
	}
	return r, ready
}

// ReadyHandler serves readiness: 200 when ready or degraded, 503 otherwise.
func (h *Health) ReadyHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		r, ok := h.Ready()
		code := http.StatusOK
		if !ok {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, r)
	})
}

// LiveHandler serves liveness: 200 while every liveness condition holds. Dependencies are not
// part of it: restarting a pod because Cassandra is down would not bring Cassandra back.
func (h *Health) LiveHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		type cond struct {
			Name  string `json:"name"`
			Error string `json:"error,omitempty"`
		}
		body := struct {
			Status string `json:"status"`
			Uptime string `json:"uptime"`
			Failed []cond `json:"failed,omitempty"`
		}{Status: "live", Uptime: time.Since(h.started).Truncate(time.Second).String()}
		for _, l := range h.live {
			if err := l.Probe(); err != nil {
				body.Failed = append(body.Failed, cond{l.Name, err.Error()})
			}
		}
		code := http.StatusOK
		if len(body.Failed) > 0 {
			body.Status, code = "not_live", http.StatusServiceUnavailable
		}
		writeJSON(w, code, body)
	})
}

// Mount adds /healthcheck and /healthcheck/live to mux.
func (h *Health) Mount(mux *http.ServeMux) {
	mux.Handle("GET /healthcheck", h.ReadyHandler())
	mux.Handle("GET /healthcheck/live", h.LiveHandler())
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
