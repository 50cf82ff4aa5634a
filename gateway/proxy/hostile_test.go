package proxy

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apimctl/apimctl/gateway/config"
	"github.com/apimctl/apimctl/gateway/metrics"
)

// hostileGateway serves routes like apigw: cork listener with a write timeout, body timeout.
func hostileGateway(t *testing.T, bodyTimeout, writeTimeout time.Duration, routes ...Route) *httptest.Server {
	t.Helper()
	h := NewHandler(Options{Routes: routes, Metrics: metrics.New("g", "v"), BodyTimeout: bodyTimeout,
		Upstream: config.Upstream{MaxIdleConnsPerHost: 8, IdleConnTimeout: time.Minute, DialTimeout: time.Second}})
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = CorkListener(srv.Listener, writeTimeout)
	srv.Config.ConnContext = ConnContext
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// TestSlowBodyIsCutOff: a real client announces a 600-byte body and trickles it one byte
// every 50 ms (30 s in all). With a 300 ms body timeout the gateway answers 408 and closes
// the connection long before the client is done, and no backend ever gets a whole request.
func TestSlowBodyIsCutOff(t *testing.T) {
	var complete atomic.Int32
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err == nil {
			complete.Add(1)
		}
	}))
	defer backend.Close()
	srv := hostileGateway(t, 300*time.Millisecond, time.Minute, passRoute("up", "/up", backend.URL, false))
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST /up/x HTTP/1.1\r\nHost: a\r\nContent-Length: 600\r\n\r\n")
	sent := 0
	writeErr := make(chan error, 1)
	go func() {
		for ; sent < 600; sent++ {
			if _, err := c.Write([]byte{'x'}); err != nil {
				writeErr <- err
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		writeErr <- nil
	}()
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second)) // a failing test must not hang
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a slow body: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), "request_timeout") || !resp.Close {
		t.Fatalf("slow body: %d close=%v %s", resp.StatusCode, resp.Close, body)
	}
	// The gateway closed the connection: the client's next writes fail, well before its 600th byte.
	select {
	case err := <-writeErr:
		if err == nil {
			t.Fatal("the client trickled its whole body into an open connection")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the connection of a slow body stayed open")
	}
	if sent >= 600 || complete.Load() != 0 {
		t.Fatalf("sent %d bytes, backend completed %d requests", sent, complete.Load())
	}
	// A body that arrives in time still goes through, and the deadline does not outlive it:
	// a backend slower than the body timeout is waited for.
	slowBackend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		time.Sleep(600 * time.Millisecond)
		io.WriteString(w, "late but fine")
	}))
	defer slowBackend.Close()
	srv2 := hostileGateway(t, 300*time.Millisecond, time.Minute, passRoute("slow", "/slow", slowBackend.URL, false))
	r2, err := srv2.Client().Post(srv2.URL+"/slow/x", "text/plain", strings.NewReader("quick body"))
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := io.ReadAll(r2.Body)
	r2.Body.Close()
	if r2.StatusCode != 200 || string(b2) != "late but fine" {
		t.Fatalf("body in time, slow backend: %d %q", r2.StatusCode, b2)
	}
}

// TestCallerThatStopsReadingIsCutOff: a caller asks for a large response and never reads it.
// Once the socket buffers are full the gateway's write cannot complete; after the write
// timeout it gives up, and the backend connection it held is closed.
func TestCallerThatStopsReadingIsCutOff(t *testing.T) {
	backendDone := make(chan error, 1)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 64<<10)
		for i := 0; i < 4096; i++ { // 256 MB, far more than any socket buffer
			if _, err := w.Write(chunk); err != nil {
				backendDone <- err
				return
			}
		}
		backendDone <- nil
	}))
	defer backend.Close()
	srv := hostileGateway(t, time.Minute, 300*time.Millisecond, passRoute("big", "/big", backend.URL, false))
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /big/x HTTP/1.1\r\nHost: a\r\n\r\n") // and never read
	select {
	case err := <-backendDone:
		if err == nil {
			t.Fatal("the whole response went out to a caller that reads nothing")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the gateway kept the backend connection of a caller that stopped reading")
	}
}

// TestBackendResponseHeaderIsBounded: a backend that sends an endless header or endless
// informational responses gets a 502, on both forwarding paths.
func TestBackendResponseHeaderIsBounded(t *testing.T) {
	url, _ := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		line, ok := readHead(br)
		if !ok {
			return
		}
		if strings.HasPrefix(line, "POST") {
			br.Discard(2)
		}
		switch {
		case strings.Contains(line, "/huge"):
			io.WriteString(c, "HTTP/1.1 200 OK\r\n")
			for i := 0; i < 4096; i++ { // 4 MB of header
				if _, err := fmt.Fprintf(c, "X-Filler-%d: %s\r\n", i, strings.Repeat("a", 1000)); err != nil {
					return
				}
			}
			io.WriteString(c, "Content-Length: 2\r\n\r\nok")
		case strings.Contains(line, "/early"):
			for i := 0; i < 50; i++ {
				io.WriteString(c, "HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n")
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		case strings.Contains(line, "/fine"):
			io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Big: "+strings.Repeat("b", 40<<10)+"\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	srv := hostileGateway(t, time.Minute, time.Minute, passRoute("b", "/b", url, false))
	for _, c := range []struct {
		path string
		want int
	}{{"/b/huge", 502}, {"/b/early", 502}, {"/b/fine", 200}} {
		for _, method := range []string{"GET", "POST"} {
			var body io.Reader
			if method == "POST" {
				body = strings.NewReader("{}")
			}
			req, _ := http.NewRequest(method, srv.URL+c.path, body)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want && !(method == "POST" && c.path == "/b/early" && resp.StatusCode == 200) {
				t.Errorf("%s %s: %d, want %d", method, c.path, resp.StatusCode, c.want)
			}
		}
	}
}

// TestAliveSeesWhatTheBackendDid: the check made before reusing a pooled connection for a
// request that cannot be retried tells an open connection from one the backend closed, reset,
// or wrote to unasked — over plain TCP and TLS.
func TestAliveSeesWhatTheBackendDid(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pair := func() (client, server net.Conn) {
		accepted := make(chan net.Conn, 1)
		go func() { c, _ := ln.Accept(); accepted <- c }()
		client, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		return client, <-accepted
	}
	settle := func() { time.Sleep(50 * time.Millisecond) } // let the segment arrive
	c, s := pair()
	if !alive(c) {
		t.Error("an open idle connection looked dead")
	}
	s.Write([]byte("HTTP/1.1 408 Request Timeout\r\n\r\n"))
	settle()
	if alive(c) {
		t.Error("a connection with unrequested bytes looked reusable")
	}
	c.Close()
	s.Close()

	c, s = pair()
	s.Close()
	settle()
	if alive(c) {
		t.Error("a connection the backend closed looked alive")
	}
	c.Close()

	c, s = pair()
	s.(*net.TCPConn).SetLinger(0) // RST
	s.Close()
	settle()
	if alive(c) {
		t.Error("a reset connection looked alive")
	}
	c.Close()

	// TLS: the check looks at the socket beneath.
	backend := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer backend.Close()
	raw, err := net.Dial("tcp", backend.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	tc := tls.Client(raw, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	if !alive(tc) {
		t.Error("an open TLS connection looked dead")
	}
	backend.CloseClientConnections()
	settle()
	if alive(tc) {
		t.Error("a TLS connection the backend closed looked alive")
	}
	tc.Close()
}
