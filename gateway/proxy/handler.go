package proxy

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apimctl/apimctl/gateway/config"
	"github.com/apimctl/apimctl/gateway/eventlog"
	"github.com/apimctl/apimctl/gateway/metrics"
	"github.com/apimctl/apimctl/gateway/policy"
)

// EventSink receives one event per transaction; it must not block (eventlog.Writer drops).
type EventSink interface {
	Log(e eventlog.Event) bool
}

// Route is one API as the handler serves it.
type Route struct {
	API      config.API
	Guard    policy.Guard
	Throttle *policy.Throttle // nil without a rate limit
}

type route struct {
	name      string
	prefix    string
	strip     bool
	guard     policy.Guard
	throttle  *policy.Throttle
	up        *upstream              // requests without a body
	proxy     *httputil.ReverseProxy // requests with a body, upgrades, 100-continue
	m         *metrics.API
	hideCreds bool
}

// Handler serves API traffic.
type Handler struct {
	router    *router
	metrics   *metrics.Metrics
	unmatched *metrics.API
	events    EventSink
	draining  *atomic.Bool
	log       *slog.Logger
	// decodeSlashes: %2F, %5C and \ in a path become "/" instead of a 400.
	decodeSlashes bool
	bodyTimeout   time.Duration
}

// Options configure a Handler.
type Options struct {
	Routes   []Route
	Upstream config.Upstream
	Metrics  *metrics.Metrics
	Events   EventSink // may be nil
	Draining *atomic.Bool
	Logger   *slog.Logger
	// EscapedSlashes is the policy package's paths.escapedSlashes; empty means reject.
	EscapedSlashes config.EscapedSlashes
	// BodyTimeout bounds how long a request body may take to arrive (0: unbounded); the
	// caller that is slower gets 408 (deadline.go).
	BodyTimeout time.Duration
}

// NewHandler builds the traffic handler.
func NewHandler(o Options) *Handler {
	h := &Handler{metrics: o.Metrics, events: o.Events, draining: o.Draining, log: o.Logger,
		decodeSlashes: o.EscapedSlashes == config.DecodeEscapedSlashes, bodyTimeout: o.BodyTimeout}
	if h.draining == nil {
		h.draining = new(atomic.Bool)
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	h.unmatched = o.Metrics.ForAPI("-")
	buffers := newBufferPool()
	transports := map[time.Duration]*http.Transport{}
	pools := map[string]*connPool{}
	errLog := slog.NewLogLogger(h.log.Handler(), slog.LevelWarn)
	var rs []*route
	for _, r := range o.Routes {
		tr := transports[r.API.Timeout]
		if tr == nil {
			tr = NewTransport(o.Upstream, r.API.Timeout)
			transports[r.API.Timeout] = tr
		}
		rt := &route{
			name: r.API.Name, prefix: r.API.Path, strip: r.API.StripPrefix,
			guard: r.Guard, throttle: r.Throttle, m: o.Metrics.ForAPI(r.API.Name),
			hideCreds: r.API.Policy != config.Passthrough,
		}
		target := r.API.BackendURL
		pool := pools[poolKey(target)]
		if pool == nil {
			pool = newConnPool(target, o.Upstream, buffers)
			pools[poolKey(target)] = pool
		}
		rt.up = newUpstream(target, pool, r.API.Timeout)
		rt.proxy = &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				if rt.strip {
					// The same path as the direct client sends (outPath); it decodes: the
					// handler normalized the request's path.
					esc := rt.outPath(pr.In)
					p, _ := url.PathUnescape(esc)
					pr.Out.URL.Path, pr.Out.URL.RawPath = p, esc
				}
				pr.SetURL(target)
				setXForwarded(pr)
				if rt.hideCreds {
					// The backend trusts the gateway; it never sees the caller's secret.
					// Canonical names, deleted directly: Header.Del("KeyId") allocates
					// the canonical form ("Keyid") per request.
					delete(pr.Out.Header, "Keyid")
					delete(pr.Out.Header, "X-Api-Key")
					delete(pr.Out.Header, "Authorization")
				}
			},
			Transport:    tr,
			BufferPool:   buffers,
			ErrorLog:     errLog,
			ErrorHandler: h.upstreamError(rt),
		}
		rs = append(rs, rt)
	}
	h.router = newRouter(rs)
	return h
}

// Shared one-element values of X-Forwarded-Proto. Header values are never modified in place
// (and an append to a full slice copies), so requests can share them: one allocation less
// per request than ProxyRequest.SetXForwarded.
var (
	protoHTTP  = []string{"http"}
	protoHTTPS = []string{"https"}
)

// setXForwarded is ProxyRequest.SetXForwarded: X-Forwarded-For is the caller's address
// (ReverseProxy's Rewrite mode has already removed any X-Forwarded-* the caller sent, so a
// caller cannot forge it), X-Forwarded-Host the requested host, X-Forwarded-Proto the scheme.
func setXForwarded(pr *httputil.ProxyRequest) {
	h := pr.Out.Header
	if clientIP, _, err := net.SplitHostPort(pr.In.RemoteAddr); err == nil {
		if prior := h["X-Forwarded-For"]; len(prior) > 0 {
			clientIP = strings.Join(prior, ", ") + ", " + clientIP
		}
		h["X-Forwarded-For"] = []string{clientIP}
	} else {
		delete(h, "X-Forwarded-For")
	}
	h["X-Forwarded-Host"] = []string{pr.In.Host}
	if pr.In.TLS == nil {
		h["X-Forwarded-Proto"] = protoHTTP
	} else {
		h["X-Forwarded-Proto"] = protoHTTPS
	}
}

// upstreamError answers when the backend could not be reached or did not answer in time.
func (h *Handler) upstreamError(rt *route) func(http.ResponseWriter, *http.Request, error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		if rec, ok := w.(*recorder); ok && rec.body.TimedOut() {
			// The caller's body did not arrive in time (the server has cancelled the
			// request for it, too); the backend is not at fault.
			w.Header().Set("Connection", "close")
			WriteError(w, http.StatusRequestTimeout, "request_timeout", "the request body did not arrive in time", rt.name)
			return
		}
		if r.Context().Err() != nil {
			// The caller went away; nobody reads this answer and the backend is not at fault.
			w.WriteHeader(499)
			return
		}
		rt.m.UpstreamErrors.Inc()
		status, code, msg := http.StatusBadGateway, "backend_unavailable", "the backend of this API could not be reached"
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			status, code, msg = http.StatusGatewayTimeout, "backend_timeout", "the backend of this API did not answer in time"
		}
		h.log.Warn("backend request failed", "api", rt.name, "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
		WriteError(w, status, code, msg, rt.name)
	}
}

// ServeHTTP routes, applies the policies, forwards, and accounts for the transaction.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	inFlight := h.metrics.InFlight()
	inFlight.Inc()
	// ReverseProxy aborts with a panic (http.ErrAbortHandler) when the client or backend
	// breaks off mid-body; the gauge must still come down.
	defer inFlight.Dec()
	if h.draining.Load() {
		// Tell keep-alive clients to reconnect: the load balancer sends them elsewhere.
		w.Header().Set("Connection", "close")
	}
	rec := recorders.Get().(*recorder)
	rec.ResponseWriter, rec.status, rec.bytes = w, 0, 0
	// A body must arrive in time, also one nobody reads (a rejected request's, which the
	// server drains for the next request on the connection).
	rec.body = withBodyDeadline(w, r, h.bodyTimeout)

	// Route, authorize and forward on the normalized path only (path.go).
	var rt *route
	badPath := normalizeRequestPath(r.URL, h.decodeSlashes) != nil
	if !badPath {
		rt = h.router.match(r.URL.Path)
	}
	m := h.unmatched
	name := "-"
	var id policy.Identity
	abort := false
	switch {
	case badPath:
		WriteError(rec, http.StatusBadRequest, "invalid_path",
			"the request path holds an encoded slash or backslash, a doubly encoded dot or slash, or a dot segment with parameters", "")
	case rt == nil:
		WriteError(rec, http.StatusNotFound, "no_such_api", "no API is published at this path", "")
	default:
		m, name = rt.m, rt.name
		var rej *policy.Rejection
		id, rej = rt.guard.Check(r)
		if rej == nil && rt.throttle != nil {
			rej = rt.throttle.Allow(id)
			if rej != nil {
				rt.m.Rejected(rt.throttle.Name(), rej.Reason)
			}
		} else if rej != nil {
			rt.m.Rejected(rt.guard.Name(), rej.Reason)
		}
		if rej != nil {
			writeRejection(rec, rej, rt.name)
		} else {
			abort = h.forward(rec, r, rt)
		}
	}

	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	elapsed := time.Since(start)
	m.Request(status)
	m.Latency.Observe(elapsed.Seconds())
	if h.events != nil {
		in := r.ContentLength
		if in < 0 {
			in = 0
		}
		h.events.Log(eventlog.Event{Time: start, API: name, Method: r.Method, Path: r.URL.Path, Status: status,
			Latency: elapsed, BytesIn: in, BytesOut: rec.bytes, KeyID: id.KeyID, AppID: id.AppID})
	}
	rec.ResponseWriter, rec.body = nil, nil
	recorders.Put(rec)
	if abort {
		// The response was cut short after its header went out: break the connection so the
		// caller sees a truncated response, not a complete short one (as ReverseProxy does).
		panic(http.ErrAbortHandler)
	}
}

// forward sends the request to the route's backend and copies the response back. It reports
// whether the response broke off after its header was sent.
func (h *Handler) forward(w *recorder, r *http.Request, rt *route) (abort bool) {
	if !rt.up.handles(r) {
		rt.proxy.ServeHTTP(w, r)
		return false
	}
	x, err := rt.up.roundTrip(r, rt)
	if err != nil {
		h.upstreamError(rt)(w, r, err)
		return false
	}
	dst := w.Header()
	conn := x.resp.Header["Connection"]
	for k, vv := range x.resp.Header {
		if hopHeaders[k] || (len(conn) > 0 && listedIn(conn, k)) {
			continue
		}
		dst[k] = vv
	}
	var cc *corkConn
	if n := x.resp.ContentLength; n >= 0 && n <= corkMax {
		if cc = corkFor(r); cc != nil {
			cc.cork()
		}
	}
	w.WriteHeader(x.resp.StatusCode)
	complete, backendErr, callerErr := copyBody(w, x.resp, rt.up.pool)
	for k, vv := range x.resp.Trailer {
		dst[http.TrailerPrefix+k] = vv
	}
	rt.up.release(x, complete)
	if backendErr != nil || cc != nil {
		w.Flush() // the whole response; after a break, the caller gets what came (as from nginx)
	}
	if cc != nil {
		if err := cc.uncork(); err != nil && callerErr == nil {
			callerErr = err
		}
	}
	switch {
	case backendErr != nil:
		rt.m.UpstreamErrors.Inc()
		h.log.Warn("backend response broke off", "api", rt.name, "method", r.Method, "path", r.URL.Path, "err", backendErr)
		return true
	case callerErr != nil:
		h.log.Debug("caller went away during the response", "api", rt.name, "err", callerErr)
		return true
	}
	return false
}

// copyBody copies a response body to the caller, flushing after every read when the body has
// no announced length (a stream: events, chunked output). complete means the body was read to
// its end; otherwise the error says which side failed.
func copyBody(w *recorder, resp *http.Response, p *connPool) (complete bool, backendErr, callerErr error) {
	if resp.Body == http.NoBody {
		return true, nil, nil
	}
	stream := resp.ContentLength == -1
	buf := p.buffers.Get()
	defer p.buffers.Put(buf)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return false, nil, werr
			}
			if stream {
				w.Flush()
			}
		}
		if rerr == io.EOF {
			return true, nil, nil
		}
		if rerr != nil {
			return false, rerr, nil
		}
	}
}
