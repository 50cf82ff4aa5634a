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
func NewTransport(u config.Upstream, responseHeaderTimeout time.Duration) *http.Transport {
	d := &net.Dialer{Timeout: u.DialTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 nil, // never route backend traffic through an environment proxy
		DialContext:           d.DialContext,
		MaxIdleConns:          4 * u.MaxIdleConnsPerHost,
		MaxIdleConnsPerHost:   u.MaxIdleConnsPerHost,
		IdleConnTimeout:       u.IdleConnTimeout,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: responseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
		WriteBufferSize:       32 << 10,
		ReadBufferSize:        32 << 10,
	}
}

// bufferPool lends ReverseProxy its copy buffers, so a response body copy does not allocate
// 32 KB per request.
type bufferPool struct{ p sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}
}

// Get implements httputil.BufferPool.
func (bp *bufferPool) Get() []byte { return *(bp.p.Get().(*[]byte)) }

// Put implements httputil.BufferPool.
func (bp *bufferPool) Put(b []byte) {
	if cap(b) < 32<<10 {
		return
	}
	b = b[:cap(b)]
	bp.p.Put(&b)
}
