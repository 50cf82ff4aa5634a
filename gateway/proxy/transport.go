package proxy

import (
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/apimctl/apimctl/gateway/config"
)

// NewTransport returns the backend transport: many idle connections per backend so that
// keep-alive connections are reused under load instead of redialled (each new connection
// costs a handshake and, on a busy host, an ephemeral port in TIME_WAIT).
//
// Backends are spoken to in HTTP/1.1 only (ForceAttemptHTTP2 off: with a custom dialer that
// means no h2 even to TLS backends): a pool of keep-alive connections spreads the load of
// many callers where one h2 connection would serialise it, and h1 is cheaper per request.
// DisableCompression passes the caller's Accept-Encoding through untouched: otherwise the
// transport would ask the backend for gzip when the caller did not, and the gateway would
// spend CPU inflating it again.
func NewTransport(u config.Upstream, responseHeaderTimeout time.Duration) *http.Transport {
	d := &net.Dialer{Timeout: u.DialTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                  nil, // never route backend traffic through an environment proxy
		DialContext:            d.DialContext,
		MaxIdleConns:           4 * u.MaxIdleConnsPerHost,
		MaxIdleConnsPerHost:    u.MaxIdleConnsPerHost,
		IdleConnTimeout:        u.IdleConnTimeout,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  responseHeaderTimeout,
		ExpectContinueTimeout:  time.Second,
		ForceAttemptHTTP2:      false,
		DisableCompression:     true,
		WriteBufferSize:        32 << 10,
		ReadBufferSize:         32 << 10,
		MaxResponseHeaderBytes: maxHeader(u),
	}
}

// maxHeader is the cap on a backend's response header, 64 KB unless configured.
func maxHeader(u config.Upstream) int64 {
	if u.MaxResponseHeaderSize > 0 {
		return int64(u.MaxResponseHeaderSize)
	}
	return 64 << 10
}

const copyBufferSize = 32 << 10

// bufferPool lends ReverseProxy its copy buffers, so a response body copy does not allocate
// 32 KB per request. It pools array pointers: converting the slice back to one is free, where
// boxing a slice header for sync.Pool would allocate on every Put.
type bufferPool struct{ p sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { return new([copyBufferSize]byte) }}}
}

// Get implements httputil.BufferPool.
func (bp *bufferPool) Get() []byte { return bp.p.Get().(*[copyBufferSize]byte)[:] }

// Put implements httputil.BufferPool.
func (bp *bufferPool) Put(b []byte) {
	if cap(b) < copyBufferSize {
		return
	}
	bp.p.Put((*[copyBufferSize]byte)(b[:copyBufferSize]))
}
