package live

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/apimctl/apimctl/cluster/prom"
	"github.com/apimctl/apimctl/internal/redact"
	"github.com/apimctl/apimctl/ops/model"
)

// TrafficQueries are the PromQL behind the traffic panels. Group queries must return series
// labelled `group`; API queries `group` and `api`.
type TrafficQueries struct {
	GroupRPS, GroupP90, GroupErrors string
	APIRPS, APIP90, APIErrors       string
	// Window and Step of the sparkline history.
	Window, Step time.Duration
}

// DefaultTrafficQueries read apigw's own metrics, from every namespace. A group's traffic is
// its gateways' (its APIs and the requests no API matched), not the Admin Node Manager's and
// API Manager's own requests, which apigw counts under the api labels "anm" and "apimgr"; the
// per-API table lists APIs only.
func DefaultTrafficQueries() TrafficQueries { return TrafficQueriesIn("") }

// TrafficQueriesIn are DefaultTrafficQueries scoped to one namespace (by the namespace label
// the scrape configuration sets): another site's or stage's group of the same name in the
// same Prometheus is not added in. "" is every namespace.
func TrafficQueriesIn(namespace string) TrafficQueries {
	ns := ""
	if namespace != "" {
		ns = "namespace=" + strconv.Quote(namespace) + ","
	}
	g := ns + `api!~"anm|apimgr"`
	a := ns + `api!~"anm|apimgr|-"`
	return TrafficQueries{
		GroupRPS:    `sum by (group) (rate(apigw_requests_total{` + g + `}[1m]))`,
		GroupP90:    `histogram_quantile(0.9, sum by (group, le) (rate(apigw_request_duration_seconds_bucket{` + g + `}[1m])))`,
		GroupErrors: `sum by (group) (rate(apigw_requests_total{` + g + `,code_class="5xx"}[1m])) / sum by (group) (rate(apigw_requests_total{` + g + `}[1m]))`,
		APIRPS:      `sum by (group, api) (rate(apigw_requests_total{` + a + `}[1m]))`,
		APIP90:      `histogram_quantile(0.9, sum by (group, api, le) (rate(apigw_request_duration_seconds_bucket{` + a + `}[1m])))`,
		APIErrors:   `sum by (group, api) (rate(apigw_requests_total{` + a + `,code_class="5xx"}[1m])) / sum by (group, api) (rate(apigw_requests_total{` + a + `}[1m]))`,
		Window:      10 * time.Minute,
		Step:        15 * time.Second,
	}
}

// promSource polls Prometheus for the traffic panels and the alerts. The sparklines' history
// is read once by range queries (at start, and again after an outage longer than the window);
// each later poll asks only for the newest values and moves the history on by the steps that
// passed.
type promSource struct {
	t       Targets
	opts    LiveOptions
	changed func()
	fresh   freshness
	client  *prom.Client
	err     error

	hist *trafficHistory // only the polling goroutine touches it

	mu     sync.Mutex
	state  model.TrafficState
	alerts []model.Alert
}

func newPromSource(t Targets, opts LiveOptions, changed func()) *promSource {
	p := &promSource{t: t, opts: opts, changed: changed, hist: newTrafficHistory(opts.Queries.Window, opts.Queries.Step)}
	if t.PrometheusURL == "" {
		p.err = errors.New("no Prometheus URL: set --prometheus-url or PROMETHEUS_URL")
	} else {
		p.client, p.err = prom.New(t.PrometheusURL)
	}
	return p
}

func (p *promSource) answered() bool { return p.fresh.answered() }

func (p *promSource) run(ctx context.Context) {
	poll(ctx, p.opts, &p.fresh, p.changed, p.err, func(cctx context.Context) error {
		st, terr := p.pollTraffic(cctx)
		alerts, aerr := p.pollAlerts(cctx)
		p.mu.Lock()
		if terr == nil {
			p.state = st
		}
		if aerr == nil {
			p.alerts = alerts
		}
		p.mu.Unlock()
		return errors.Join(terr, aerr)
	})
}

// trafficKey is one series of the traffic panels: a group (api "") or one of its APIs.
type trafficKey struct{ group, api string }

// trafficHistory is the sparklines' history on a fixed grid of n points ending at last.
type trafficHistory struct {
	step time.Duration
	n    int
	last time.Time // the newest grid point; zero until the backfill
	// vals holds each series' rps, p90 and 5xx ratio histories (NaN where unknown), now the
	// newest values read.
	vals map[trafficKey]*[3][]float64
	now  map[trafficKey]*[3]float64
}

func newTrafficHistory(window, step time.Duration) *trafficHistory {
	if step <= 0 {
		step = 15 * time.Second
	}
	return &trafficHistory{step: step, n: max(int(window/step), 1)}
}

func (h *trafficHistory) reset(grid time.Time) {
	h.last = grid
	h.vals, h.now = map[trafficKey]*[3][]float64{}, map[trafficKey]*[3]float64{}
}

// series returns k's histories, made all NaN when new.
func (h *trafficHistory) series(k trafficKey) *[3][]float64 {
	s := h.vals[k]
	if s == nil {
		s = &[3][]float64{}
		for i := range s {
			s[i] = make([]float64, h.n)
			for j := range s[i] {
				s[i][j] = math.NaN()
			}
		}
		h.vals[k] = s
		h.now[k] = &[3]float64{math.NaN(), math.NaN(), math.NaN()}
	}
	return s
}

// advance moves every history on to grid: one NaN per step that passed, the oldest dropped.
func (h *trafficHistory) advance(grid time.Time) {
	k := int(grid.Sub(h.last) / h.step)
	if k <= 0 {
		return
	}
	for _, s := range h.vals {
		for i := range s {
			if k >= h.n {
				for j := range s[i] {
					s[i][j] = math.NaN()
				}
				continue
			}
			copy(s[i], s[i][k:])
			for j := h.n - k; j < h.n; j++ {
				s[i][j] = math.NaN()
			}
		}
	}
	for _, v := range h.now {
		*v = [3]float64{math.NaN(), math.NaN(), math.NaN()}
	}
	h.last = h.last.Add(time.Duration(k) * h.step)
}

// prune forgets the series with no value left in the window.
func (h *trafficHistory) prune() {
	for k, s := range h.vals {
		empty := true
		for i := range s {
			for _, v := range s[i] {
				if !math.IsNaN(v) {
					empty = false
				}
			}
		}
		if empty {
			delete(h.vals, k)
			delete(h.now, k)
		}
	}
}

// keyOf is the series' key, false when it is not one the panels show (an API series whose
// api label is not an API).
func keyOf(labels map[string]string, withAPI bool) (trafficKey, bool) {
	k := trafficKey{group: labels["group"]}
	if withAPI {
		k.api = labels["api"]
		if !model.IsAPI(k.api) {
			return k, false
		}
	}
	return k, true
}

func (p *promSource) pollTraffic(ctx context.Context) (model.TrafficState, error) {
	q := p.opts.Queries
	h := p.hist
	now := p.opts.Now()
	grid := now.Truncate(h.step)
	queries := [2][3]string{{q.GroupRPS, q.GroupP90, q.GroupErrors}, {q.APIRPS, q.APIP90, q.APIErrors}}
	if h.last.IsZero() || grid.Sub(h.last) >= time.Duration(h.n)*h.step {
		// Backfill: the whole window from range queries.
		fresh := &trafficHistory{step: h.step, n: h.n}
		fresh.reset(grid)
		start := grid.Add(-time.Duration(h.n-1) * h.step)
		for w, set := range queries {
			for i, query := range set {
				ss, err := p.client.RangeSeries(ctx, query, start, grid, h.step)
				if err != nil {
					return model.TrafficState{}, fmt.Errorf("query %q: %w", query, err)
				}
				for _, s := range ss {
					k, ok := keyOf(s.Labels, w == 1)
					if !ok {
						continue
					}
					aligned := model.AlignSeries(start, h.step, h.n, s.Times, s.Values)
					fresh.series(k)[i] = aligned.Values
					fresh.now[k][i] = aligned.Last()
				}
			}
		}
		*h = *fresh
	} else {
		// The newest values, into the grid point they belong to.
		type sample struct {
			k trafficKey
			i int
			v float64
		}
		var got []sample
		for w, set := range queries {
			for i, query := range set {
				ss, err := p.client.Instant(ctx, query, now)
				if err != nil {
					return model.TrafficState{}, fmt.Errorf("query %q: %w", query, err)
				}
				for _, s := range ss {
					if k, ok := keyOf(s.Labels, w == 1); ok {
						got = append(got, sample{k, i, s.Value})
					}
				}
			}
		}
		h.advance(grid)
		for _, s := range got {
			v := s.v
			if math.IsInf(v, 0) {
				v = math.NaN()
			}
			h.series(s.k)[s.i][h.n-1] = v
			h.now[s.k][s.i] = v
		}
		h.prune()
	}
	return h.state(), nil
}

// state is the panels' data: groups and APIs sorted by name, NaN shown as 0 (JSON has no
// NaN; an idle series draws flat).
func (h *trafficHistory) state() model.TrafficState {
	var st model.TrafficState
	zero := func(v float64) float64 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0
		}
		return v
	}
	hist := func(vs []float64) []float64 {
		out := make([]float64, len(vs))
		for i, v := range vs {
			out[i] = zero(v)
		}
		return out
	}
	for k, s := range h.vals {
		now := h.now[k]
		ts := model.TrafficSeries{Group: k.group, API: k.api,
			RPS: zero(now[0]), P90Seconds: zero(now[1]), ErrorRatio: zero(now[2]),
			RPSHistory: hist(s[0]), P90History: hist(s[1]), ErrHistory: hist(s[2])}
		if k.api == "" {
			st.Groups = append(st.Groups, ts)
		} else {
			st.APIs = append(st.APIs, ts)
		}
	}
	less := func(a []model.TrafficSeries) func(i, j int) bool {
		return func(i, j int) bool {
			if a[i].Group != a[j].Group {
				return a[i].Group < a[j].Group
			}
			return a[i].API < a[j].API
		}
	}
	sort.Slice(st.Groups, less(st.Groups))
	sort.Slice(st.APIs, less(st.APIs))
	st.NoData = len(st.Groups) == 0 && len(st.APIs) == 0
	return st
}

// pollAlerts reads Prometheus's pending and firing alerts about this deployment, each linked
// to what it names.
func (p *promSource) pollAlerts(ctx context.Context) ([]model.Alert, error) {
	as, err := p.client.Alerts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]model.Alert, 0, len(as))
	for _, a := range as {
		if !model.AlertConcerns(a.Labels, p.t.Namespace) {
			continue
		}
		subject, ref := model.AlertSubject(a.Labels, p.t.Namespace)
		summary := a.Annotations["summary"]
		if summary == "" {
			summary = a.Annotations["description"]
		}
		out = append(out, model.Alert{Name: a.Labels["alertname"], State: a.State, Severity: a.Labels["severity"],
			Summary: summary, Value: a.Value, Since: a.ActiveAt, Labels: a.Labels, Subject: subject, Ref: ref})
	}
	model.SortAlerts(out)
	return out, nil
}

func (p *promSource) fill(s *model.Snapshot, now time.Time) {
	s.Sources = append(s.Sources, p.fresh.source(model.SourcePrometheus, redact.URL(p.t.PrometheusURL), now, p.opts.StaleAfter))
	p.mu.Lock()
	s.Traffic = p.state
	s.Alerts = append([]model.Alert(nil), p.alerts...)
	p.mu.Unlock()
}
