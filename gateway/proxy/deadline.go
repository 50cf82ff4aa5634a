package proxy

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"
)

// Deadlines for callers that are slow on purpose.
//
// http.Server bounds the request header (ReadHeaderTimeout) and idle keep-alive time, but not
// the body nor the response. Its ReadTimeout would bound the body, but it is one deadline for
// the whole exchange: when it fires while the handler still waits for a slow backend, the
// server's background read fails and cancels the request. So:
//
//   - the body: a request with a body gets a read deadline when its handler starts, cleared
//     the moment the body has been read to its end (bodyDeadline). A caller that trickles its
//     body slower than that is answered 408 and the connection is closed;
//   - the response: every write to the caller must complete within the write timeout
//     (corkConn.Write, so it covers headers, bodies, streams, HTTP/2 and upgraded
//     connections alike, like nginx's send_timeout): a caller that stops reading is cut off,
//     and the backend connection and goroutine it held are released.

// bodyDeadline is a request body that must arrive by a deadline.
type bodyDeadline struct {
	io.ReadCloser
	rc       *http.ResponseController
	timedOut atomic.Bool // the deadline passed while reading (read by the handler goroutine)
	done     atomic.Bool // the body was read to its end and the deadline cleared
}

// withBodyDeadline sets the read deadline of r's body (d from now) and returns the body that
// clears it at its end; nil when r has no body or d is 0.
func withBodyDeadline(w http.ResponseWriter, r *http.Request, d time.Duration) *bodyDeadline {
	if d <= 0 || r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return nil
	}
	rc := http.NewResponseController(w)
	if rc.SetReadDeadline(time.Now().Add(d)) != nil {
		return nil // this connection cannot take a deadline
	}
	b := &bodyDeadline{ReadCloser: r.Body, rc: rc}
	r.Body = b
	return b
}

func (b *bodyDeadline) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == io.EOF:
		// The rest of the exchange must not time out: after the body, http.Server reads in
		// the background (to notice a caller going away) with the connection's deadline.
		if b.done.CompareAndSwap(false, true) {
			_ = b.rc.SetReadDeadline(time.Time{})
		}
	case err != nil && isTimeout(err):
		b.timedOut.Store(true)
	}
	return n, err
}

// LimitBodyTime gives every request with a body d to deliver it (the management roles: their
// handlers answer a timed-out body with their own error).
func LimitBodyTime(next http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		withBodyDeadline(w, r, d)
		next.ServeHTTP(w, r)
	})
}

// TimedOut reports whether the body did not arrive in time.
func (b *bodyDeadline) TimedOut() bool { return b != nil && b.timedOut.Load() }

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// extendWriteDeadline moves the connection's write deadline to now + the write timeout
// before a write. It does so only when the deadline set last has aged by more than a tenth of
// the timeout, so a busy connection pays one SetWriteDeadline every few seconds, not one per
// write; every write still gets at least 9/10 of the timeout. A deadline someone else set
// (http.Server during a TLS handshake, an abort) is left alone until they clear it.
func (c *corkConn) extendWriteDeadline() {
	if c.writeTimeout <= 0 || c.external.Load() {
		return
	}
	d := time.Now().Add(c.writeTimeout).UnixNano()
	if d-c.deadline.Load() > int64(c.writeTimeout/10) {
		c.deadline.Store(d)
		_ = c.Conn.SetWriteDeadline(time.Unix(0, d))
	}
}

// SetWriteDeadline is net.Conn's: an explicit deadline wins over the write timeout until it
// is cleared.
func (c *corkConn) SetWriteDeadline(t time.Time) error {
	c.external.Store(!t.IsZero())
	c.deadline.Store(0)
	return c.Conn.SetWriteDeadline(t)
}

// SetDeadline is net.Conn's, see SetWriteDeadline.
func (c *corkConn) SetDeadline(t time.Time) error {
	c.external.Store(!t.IsZero())
	c.deadline.Store(0)
	return c.Conn.SetDeadline(t)
}
