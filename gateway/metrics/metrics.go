// Package metrics holds the gateway's Prometheus metrics in its own registry. Every series
// carries the constant labels group and image_tag so the console can split traffic per
// gateway group and see a rollout's new tag.
package metrics

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the set of gateway metrics.
type Metrics struct {
	registry *prometheus.Registry

	requests       *prometheus.CounterVec
	latency        *prometheus.HistogramVec
	inFlight       prometheus.Gauge
	upstreamErrors *prometheus.CounterVec
	rejections     *prometheus.CounterVec
	cache          *prometheus.CounterVec
	storeErrors    *prometheus.CounterVec

	EventBytes        prometheus.Counter
	EventsWritten     prometheus.Counter
	EventsDropped     prometheus.Counter
	EventDiskBytes    prometheus.Gauge
	EventFilesDeleted prometheus.Counter

	ANMEvents       prometheus.Counter
	ANMBadLines     prometheus.Counter
	ANMPendingBytes prometheus.Gauge
	ANMFlushErrors  prometheus.Counter

	Info *prometheus.GaugeVec
}

// LatencyBuckets are the request duration buckets in seconds, dense around the 1-100 ms range
// where a gateway's p90 lives.
var LatencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// New creates the metrics for a gateway of group running image tag imageTag.
func New(group, imageTag string) *Metrics {
	reg := prometheus.NewRegistry()
	r := prometheus.WrapRegistererWith(prometheus.Labels{"group": group, "image_tag": imageTag}, reg)
	m := &Metrics{registry: reg}
	// Each metric is registered as it is made.
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
		r.MustRegister(c)
		return c
	}
	gauge := func(name, help string) prometheus.Gauge {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
		r.MustRegister(g)
		return g
	}
	counterVec := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
		r.MustRegister(c)
		return c
	}

	m.requests = counterVec("apigw_requests_total", "Requests handled, by API and status code class (2xx, 4xx, ...).", "api", "code_class")
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "apigw_request_duration_seconds", Help: "Time from request received to response written, by API.",
		Buckets: LatencyBuckets,
	}, []string{"api"})
	r.MustRegister(m.latency)
	m.inFlight = gauge("apigw_requests_in_flight", "Requests being handled now.")
	m.upstreamErrors = counterVec("apigw_upstream_errors_total", "Backend requests that failed (refused, timed out, reset), by API.", "api")
	m.rejections = counterVec("apigw_policy_rejections_total", "Requests refused by a policy, by API, policy and reason.", "api", "policy", "reason")
	m.cache = counterVec("apigw_store_cache_total", "Credential lookups by kind (key, token) and result: hit, miss (asked Cassandra), stale (served old answer while Cassandra failed), refused (an unknown credential over the client's lookup budget, not asked).", "kind", "result")
	m.storeErrors = counterVec("apigw_store_errors_total", "Cassandra operations that failed, by operation.", "op")
	m.EventBytes = counter("apigw_eventlog_bytes_total", "Bytes written to the transaction event log.")
	m.EventsWritten = counter("apigw_eventlog_events_total", "Transaction events written.")
	m.EventsDropped = counter("apigw_eventlog_dropped_total", "Transaction events dropped because the writer could not keep up or the disk failed.")
	m.EventDiskBytes = gauge("apigw_eventlog_disk_bytes", "Bytes this gateway's event files occupy on disk.")
	m.EventFilesDeleted = counter("apigw_eventlog_files_deleted_total", "Event files deleted to stay under the disk cap.")
	m.ANMEvents = counter("apigw_anm_events_total", "Transaction events streamed into the metrics database.")
	m.ANMBadLines = counter("apigw_anm_bad_lines_total", "Event lines that could not be parsed and were skipped.")
	m.ANMPendingBytes = gauge("apigw_anm_pending_bytes", "Bytes of event files not yet streamed to the metrics database.")
	m.ANMFlushErrors = counter("apigw_anm_flush_errors_total", "Failed transactions writing aggregates to the metrics database.")
	m.Info = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "apigw_info", Help: "Constant 1, labelled with the role and instance of this process.",
	}, []string{"role", "instance"})
	r.MustRegister(m.Info, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry (for tests and custom collectors).
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// InFlight is the in-flight requests gauge.
func (m *Metrics) InFlight() prometheus.Gauge { return m.inFlight }

// Rejected counts a policy rejection.
func (m *Metrics) Rejected(api, policy, reason string) {
	m.rejections.WithLabelValues(api, policy, reason).Inc()
}

// Cache counts a credential cache lookup result.
func (m *Metrics) Cache(kind, result string) { m.cache.WithLabelValues(kind, result).Inc() }

// CacheCounter returns the counter for kind/result, for callers that count on a hot path.
func (m *Metrics) CacheCounter(kind, result string) prometheus.Counter {
	return m.cache.WithLabelValues(kind, result)
}

// StoreError counts a failed Cassandra operation.
func (m *Metrics) StoreError(op string) { m.storeErrors.WithLabelValues(op).Inc() }

// API is the per-API metric children, resolved once so the request path does no label
// lookups (they hash and lock).
type API struct {
	classes        [6]prometheus.Counter // index status/100; 0 for anything out of range
	Latency        prometheus.Observer
	UpstreamErrors prometheus.Counter

	name       string
	rejections *prometheus.CounterVec
	rejMu      sync.RWMutex
	rejected   map[rejectionKey]prometheus.Counter // resolved on first use
}

type rejectionKey struct{ policy, reason string }

// ForAPI resolves the metric children of one API.
func (m *Metrics) ForAPI(name string) *API {
	a := &API{
		Latency:        m.latency.WithLabelValues(name),
		UpstreamErrors: m.upstreamErrors.WithLabelValues(name),
		name:           name, rejections: m.rejections, rejected: map[rejectionKey]prometheus.Counter{},
	}
	a.classes[0] = m.requests.WithLabelValues(name, "other")
	for i := 1; i <= 5; i++ {
		a.classes[i] = m.requests.WithLabelValues(name, strconv.Itoa(i)+"xx")
	}
	return a
}

// Rejected counts a policy rejection of this API. A flood of refused requests (bad keys, a
// throttled caller) is a hot path too: the child is resolved once per policy and reason, not
// hashed and looked up in the vector per request.
func (a *API) Rejected(policy, reason string) {
	k := rejectionKey{policy, reason}
	a.rejMu.RLock()
	c := a.rejected[k]
	a.rejMu.RUnlock()
	if c == nil {
		c = a.rejections.WithLabelValues(a.name, policy, reason)
		a.rejMu.Lock()
		a.rejected[k] = c
		a.rejMu.Unlock()
	}
	c.Inc()
}

// Request counts one finished request with its status code.
func (a *API) Request(status int) {
	i := status / 100
	if i < 1 || i > 5 {
		i = 0
	}
	a.classes[i].Inc()
}
