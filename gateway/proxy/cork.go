package proxy

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Corking: one write per response instead of two.
//
// http.Server writes a response through a 4 KB buffer, so a 10 KB response leaves in two
// write(2) calls (the header and the first 4 KB, then the rest), and each write on a TCP
// socket costs the gateway a trip through the network stack — about a sixth of its CPU per
// request at 10 KB. nginx sends the same response with one writev.
//
// The traffic listener hands http.Server connections that can be corked (the idea of
// Linux's TCP_CORK, in user space, without its two extra setsockopt calls): while a handler
// has the connection corked, writes collect in a buffer; uncorking sends them with one
// write. The handler corks only HTTP/1.x responses of a known, bounded length, flushes the
// response when its body is complete and uncorks at once, so nothing waits in the buffer
// beyond the handler's own copy loop.

// corkMax is the largest response body that is corked; larger bodies are streamed as they come.
const corkMax = 64 << 10

type corkConn struct {
	net.Conn
	corked bool    // only ever set by the goroutine that serves the connection (HTTP/1.x)
	buf    *[]byte // collected writes while corked

	writeTimeout time.Duration // each write must complete within it (deadline.go); 0: none
	deadline     atomic.Int64  // unix nanos of the write deadline set last, 0: none
	external     atomic.Bool   // a deadline set through SetWriteDeadline/SetDeadline holds
}

var corkBufs = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

func (c *corkConn) Write(p []byte) (int, error) {
	if !c.corked {
		c.extendWriteDeadline()
		return c.Conn.Write(p)
	}
	*c.buf = append(*c.buf, p...)
	return len(p), nil
}

// CloseWrite lets http.Server half-close the connection as it does a plain *net.TCPConn.
func (c *corkConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *corkConn) cork() {
	c.corked = true
	c.buf = corkBufs.Get().(*[]byte)
}

// uncork sends what was collected, in one write.
func (c *corkConn) uncork() error {
	c.corked = false
	var err error
	if b := *c.buf; len(b) > 0 {
		c.extendWriteDeadline()
		_, err = c.Conn.Write(b)
	}
	if cap(*c.buf) <= 2*corkMax {
		*c.buf = (*c.buf)[:0]
		corkBufs.Put(c.buf)
	}
	c.buf = nil
	return err
}

type corkListener struct {
	net.Listener
	writeTimeout time.Duration
}

func (l corkListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &corkConn{Conn: c, writeTimeout: l.writeTimeout}, nil
}

// CorkListener wraps the traffic listener (beneath TLS, when there is TLS) so the handler can
// send each response with one write, and each write to a caller must complete within
// writeTimeout (0: no limit); the server must use ConnContext.
func CorkListener(ln net.Listener, writeTimeout time.Duration) net.Listener {
	return corkListener{ln, writeTimeout}
}

type corkKey struct{}

// ConnContext is http.Server's ConnContext for a server on a CorkListener.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if cc, ok := c.(*corkConn); ok {
		return context.WithValue(ctx, corkKey{}, cc)
	}
	return ctx
}

// corkFor returns the connection of an HTTP/1.x request, to cork, or nil.
func corkFor(r *http.Request) *corkConn {
	if r.ProtoMajor != 1 {
		return nil // HTTP/2 frames many streams onto the connection from another goroutine
	}
	cc, _ := r.Context().Value(corkKey{}).(*corkConn)
	return cc
}
