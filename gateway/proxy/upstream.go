package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/apimctl/apimctl/gateway/config"
)

// upstream is the gateway's own HTTP/1.1 client for one backend, used for requests without a
// body (the bulk of API traffic: GET, HEAD, DELETE, bodiless POST).
//
// Why not http.Transport: it runs two goroutines per connection (a read loop and a write
// loop) and hands every request and response across channels between them and the handler,
// and ReverseProxy clones each request (URL, header map) before the transport serialises it
// again. Profiles of the traffic gateway put that at about a third of its CPU per request.
// Here the handler goroutine writes the request straight into the connection's buffer and
// parses the response from it with http.ReadResponse (the standard library's parser, so
// framing — Content-Length, chunked, read-until-close, HEAD, 204/304 — is the standard one).
//
// Requests with a body, protocol upgrades and Expect: 100-continue keep going through
// httputil.ReverseProxy and http.Transport, which read the response while the body is still
// being sent (a backend may answer early, e.g. 413) — see handles.
//
// Connections are kept in a LIFO pool: under load the most recently used connection is
// reused (its buffers are warm), and connections idle for longer than IdleConnTimeout are
// closed when met. A reused connection that turns out to be closed by the backend (it timed
// out its idle side) is retried once on a new connection when the request is replayable
// (GET, HEAD, OPTIONS, TRACE — http.Transport's rule); other requests first check that the
// connection is still open (a non-blocking peek, see alive).
type upstream struct {
	pool          *connPool
	host          string        // Host header sent to the backend
	headerTimeout time.Duration // time allowed for the response headers (the API's timeout)
	basePath      string        // the backend URL's path, escaped
	baseQuery     string        // the backend URL's query
}

// connPool holds the keep-alive connections to one backend address; the routes to the same
// backend share it.
type connPool struct {
	addr        string      // host:port to dial
	tlsConf     *tls.Config // nil for http://
	dialer      net.Dialer
	maxIdle     int
	idleTimeout time.Duration
	maxHeader   int64       // bytes a response head may take, 1xx responses included
	buffers     *bufferPool // body copy buffers, shared with ReverseProxy

	mu   sync.Mutex
	idle []*bconn // most recently used last
}

// bconn is one connection to a backend with its buffers.
type bconn struct {
	net.Conn
	lr     limitedConn // what br reads through: bounded while a response head is read
	br     *bufio.Reader
	bw     *bufio.Writer
	idleAt time.Time
}

// limitedConn reads from a connection until its budget n is spent, then fails: a backend
// cannot make the gateway buffer an endless response header (http.ReadResponse would). Reads
// are cut to the budget, so a header within it is always read whole. http.Transport does the
// same for MaxResponseHeaderBytes.
type limitedConn struct {
	c net.Conn
	n int64
}

const unlimited = 1<<63 - 1

var errHeaderTooLarge = errors.New("backend response header too large")

func (l *limitedConn) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errHeaderTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.c.Read(p)
	l.n -= int64(n)
	return n, err
}

// poolKey names the connection pool of a backend URL.
func poolKey(target *url.URL) string { return target.Scheme + "://" + target.Host }

func newConnPool(target *url.URL, u config.Upstream, buffers *bufferPool) *connPool {
	p := &connPool{
		buffers:     buffers,
		dialer:      net.Dialer{Timeout: u.DialTimeout, KeepAlive: 30 * time.Second},
		maxIdle:     u.MaxIdleConnsPerHost,
		idleTimeout: u.IdleConnTimeout,
		maxHeader:   maxHeader(u),
	}
	port := target.Port()
	if target.Scheme == "https" {
		p.tlsConf = &tls.Config{ServerName: target.Hostname(), MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
		if port == "" {
			port = "443"
		}
	} else if port == "" {
		port = "80"
	}
	p.addr = net.JoinHostPort(target.Hostname(), port)
	return p
}

func newUpstream(target *url.URL, pool *connPool, headerTimeout time.Duration) *upstream {
	return &upstream{pool: pool, host: target.Host, headerTimeout: headerTimeout,
		basePath: target.EscapedPath(), baseQuery: target.RawQuery}
}

// handles reports whether a request can take the direct path: no body to stream (so the
// request is written whole before the response is read), no protocol switch, no
// 100-continue handshake, an ordinary path.
func (up *upstream) handles(r *http.Request) bool {
	if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
		return false
	}
	if len(r.Header["Upgrade"]) > 0 || len(r.Header["Expect"]) > 0 {
		return false
	}
	return r.URL.Path != "" && r.URL.Path[0] == '/'
}

// get returns a pooled connection, or nil when none is usable.
func (p *connPool) get(checkAlive bool) *bconn {
	now := time.Now()
	for {
		p.mu.Lock()
		n := len(p.idle)
		if n == 0 {
			p.mu.Unlock()
			return nil
		}
		c := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		if p.idleTimeout > 0 && now.Sub(c.idleAt) > p.idleTimeout {
			c.Close()
			continue
		}
		if checkAlive && !alive(c.Conn) {
			c.Close()
			continue
		}
		return c
	}
}

// put returns a connection to the pool, closing it when the pool is full, and closes the
// connections that have been idle for too long at the cold end of the pool.
func (p *connPool) put(c *bconn) {
	c.idleAt = time.Now()
	var stale []*bconn
	p.mu.Lock()
	if p.idleTimeout > 0 {
		i := 0
		for i < len(p.idle) && c.idleAt.Sub(p.idle[i].idleAt) > p.idleTimeout {
			i++
		}
		if i > 0 {
			stale = append(stale, p.idle[:i]...)
			p.idle = append(p.idle[:0], p.idle[i:]...)
		}
	}
	if len(p.idle) < p.maxIdle {
		p.idle = append(p.idle, c)
		c = nil
	}
	p.mu.Unlock()
	if c != nil {
		c.Close()
	}
	for _, s := range stale {
		s.Close()
	}
}

func (p *connPool) dial(ctx context.Context) (*bconn, error) {
	conn, err := p.dialer.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, err
	}
	if p.tlsConf != nil {
		hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		tc := tls.Client(conn, p.tlsConf)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			conn.Close()
			return nil, err
		}
		conn = tc
	}
	c := &bconn{Conn: conn, lr: limitedConn{c: conn, n: unlimited}, bw: bufio.NewWriterSize(conn, 4<<10)}
	c.br = bufio.NewReaderSize(&c.lr, 32<<10)
	return c, nil
}

// replayable is http.Transport's rule for resending a bodiless request on a new connection.
func replayable(r *http.Request) bool {
	switch r.Method {
	case "GET", "HEAD", "OPTIONS", "TRACE":
		return true
	}
	return len(r.Header["Idempotency-Key"]) > 0 || len(r.Header["X-Idempotency-Key"]) > 0
}

// staleConnError is a failure on a connection before any byte of a response came back: on
// a reused connection, the backend had closed it while it sat in the pool.
type staleConnError struct{ err error }

func (e *staleConnError) Error() string {
	return "backend closed the connection before answering: " + e.err.Error()
}
func (e *staleConnError) Unwrap() error { return e.err }

// exchange is one request on one connection: the connection, its response, and the stop of
// the cancellation hook (the caller going away aborts reads and writes on the connection:
// http.Server cancels the request's context when the caller disconnects).
type exchange struct {
	c    *bconn
	resp *http.Response
	stop func() bool
}

// roundTrip sends r (rewritten for the route) and reads the response headers. The caller
// reads the body from x.resp and then calls up.release(x, complete).
func (up *upstream) roundTrip(r *http.Request, rt *route) (exchange, error) {
	canRetry := replayable(r)
	c := up.pool.get(!canRetry)
	reused := c != nil
	for {
		if c == nil {
			var err error
			if c, err = up.pool.dial(r.Context()); err != nil {
				return exchange{}, err
			}
		}
		x := exchange{c: c}
		conn := c.Conn
		x.stop = context.AfterFunc(r.Context(), func() { _ = conn.SetDeadline(aLongTimeAgo) })
		var err error
		if x.resp, err = up.send(c, r, rt); err == nil {
			return x, nil
		}
		x.stop()
		c.Close()
		var stale *staleConnError
		if reused && canRetry && errors.As(err, &stale) && r.Context().Err() == nil {
			c, reused = nil, false // once more, on a new connection
			continue
		}
		return exchange{}, err
	}
}

// aLongTimeAgo is a deadline in the past: setting it makes blocked reads and writes return.
var aLongTimeAgo = time.Unix(1, 0)

func (up *upstream) send(c *bconn, r *http.Request, rt *route) (*http.Response, error) {
	up.writeRequest(c.bw, r, rt)
	if err := c.bw.Flush(); err != nil {
		return nil, &staleConnError{err}
	}
	if up.headerTimeout > 0 {
		_ = c.SetReadDeadline(time.Now().Add(up.headerTimeout))
	}
	// The response head, informational ones included, gets maxHeader bytes (the pool put
	// back only connections with nothing buffered, so every byte read from here on is this
	// response's).
	c.lr.n = up.pool.maxHeader
	for informational := 0; ; informational++ {
		if _, err := c.br.Peek(1); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
				return nil, &staleConnError{err}
			}
			return nil, up.headErr(err)
		}
		resp, err := http.ReadResponse(c.br, r)
		if err != nil {
			return nil, up.headErr(err)
		}
		if resp.StatusCode == http.StatusSwitchingProtocols {
			return nil, errors.New("the backend switched protocols without being asked to")
		}
		if resp.StatusCode < 200 {
			if informational == maxInformational {
				return nil, errors.New("the backend sent too many informational (1xx) responses")
			}
			continue // 100 Continue, 103 Early Hints: informational, not forwarded
		}
		c.lr.n = unlimited
		if up.headerTimeout > 0 {
			_ = c.SetReadDeadline(time.Time{})
		}
		return resp, nil
	}
}

// maxInformational is how many 1xx responses may precede the response: a backend must not
// hold a request with an endless stream of them.
const maxInformational = 5

// headErr names an oversized response head; other errors pass as they are.
func (up *upstream) headErr(err error) error {
	if errors.Is(err, errHeaderTooLarge) {
		return fmt.Errorf("backend response header exceeds %d bytes (upstream.maxResponseHeaderSize)", up.pool.maxHeader)
	}
	return err
}

// release ends an exchange: the connection goes back to the pool when its response was read
// to the end and it can carry another request; otherwise it is closed.
func (up *upstream) release(x exchange, complete bool) {
	if !x.stop() || !complete || x.resp.Close || x.c.br.Buffered() > 0 {
		x.c.Close() // cancelled (its deadline is in the past), unfinished or to be closed
		return
	}
	up.pool.put(x.c)
}

// hopHeaders are the connection-level headers (RFC 9110 7.6.1) a proxy does not forward,
// plus the X-Forwarded-* and Forwarded headers a caller could forge (they are set by the
// gateway, as ReverseProxy's Rewrite mode does) and Content-Length (this path sends none but
// its own).
var hopHeaders = map[string]bool{
	"Connection": true, "Proxy-Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
}

var requestDropped = map[string]bool{
	"Forwarded": true, "X-Forwarded-For": true, "X-Forwarded-Host": true, "X-Forwarded-Proto": true,
	"Content-Length": true,
}

var credentialHeaders = map[string]bool{"Keyid": true, "X-Api-Key": true, "Authorization": true}

// writeRequest serialises the outbound request: the route's rewrite (prefix strip, backend
// path and query), the caller's end-to-end headers, X-Forwarded-*.
func (up *upstream) writeRequest(bw *bufio.Writer, r *http.Request, rt *route) {
	bw.WriteString(r.Method)
	bw.WriteByte(' ')
	writePath(bw, up.basePath, rt.outPath(r))
	switch q := r.URL.RawQuery; {
	case up.baseQuery != "" && q != "":
		bw.WriteByte('?')
		bw.WriteString(up.baseQuery)
		bw.WriteByte('&')
		bw.WriteString(q)
	case up.baseQuery != "":
		bw.WriteByte('?')
		bw.WriteString(up.baseQuery)
	case q != "":
		bw.WriteByte('?')
		bw.WriteString(q)
	}
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(up.host)
	bw.WriteString("\r\n")

	connTokens := r.Header["Connection"]
	for k, vv := range r.Header {
		if hopHeaders[k] || requestDropped[k] || (rt.hideCreds && credentialHeaders[k]) {
			continue
		}
		if len(connTokens) > 0 && listedIn(connTokens, k) {
			continue
		}
		for _, v := range vv {
			bw.WriteString(k)
			bw.WriteString(": ")
			bw.WriteString(v)
			bw.WriteString("\r\n")
		}
	}
	if te := r.Header["Te"]; len(te) > 0 && listedIn(te, "trailers") {
		bw.WriteString("Te: trailers\r\n")
	}
	switch r.Method {
	case "POST", "PUT", "PATCH":
		bw.WriteString("Content-Length: 0\r\n") // as http.Transport does for these methods
	}
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		bw.WriteString("X-Forwarded-For: ")
		bw.WriteString(ip)
		bw.WriteString("\r\n")
	}
	bw.WriteString("X-Forwarded-Host: ")
	bw.WriteString(r.Host)
	if r.TLS == nil {
		bw.WriteString("\r\nX-Forwarded-Proto: http\r\n\r\n")
	} else {
		bw.WriteString("\r\nX-Forwarded-Proto: https\r\n\r\n")
	}
}

// outPath is the escaped path of the request as the backend is to see it, before the
// backend's own path is put in front: the normalized path, without the API's prefix when the
// API strips it.
func (rt *route) outPath(r *http.Request) string {
	esc := r.URL.EscapedPath()
	if !rt.strip {
		return esc
	}
	return stripEscaped(esc, rt.prefix)
}

// writePath writes base and p joined by exactly one slash (ReverseProxy's singleJoiningSlash).
func writePath(bw *bufio.Writer, base, p string) {
	switch a, b := strings.HasSuffix(base, "/"), strings.HasPrefix(p, "/"); {
	case a && b:
		bw.WriteString(base)
		bw.WriteString(p[1:])
	case !a && !b:
		bw.WriteString(base)
		bw.WriteByte('/')
		bw.WriteString(p)
	default:
		bw.WriteString(base)
		bw.WriteString(p)
	}
}

// listedIn reports whether a comma-separated header value list holds token (case-insensitive).
func listedIn(values []string, token string) bool {
	for _, v := range values {
		for v != "" {
			var t string
			t, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
