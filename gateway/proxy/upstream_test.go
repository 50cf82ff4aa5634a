package proxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apimctl/apimctl/gateway/config"
	"github.com/apimctl/apimctl/gateway/internal/testnet"
	"github.com/apimctl/apimctl/gateway/metrics"
	"github.com/apimctl/apimctl/gateway/policy"
)

// gateway serves one passthrough or API-key route to backend through a Handler on a real
// loopback server.
func gateway(t *testing.T, routes ...Route) (*httptest.Server, *sink, *metrics.Metrics) {
	t.Helper()
	m := metrics.New("g", "v")
	ev := &sink{}
	h := NewHandler(Options{Routes: routes, Metrics: m, Events: ev,
		Upstream: config.Upstream{MaxIdleConnsPerHost: 8, IdleConnTimeout: time.Minute, DialTimeout: time.Second}})
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = CorkListener(srv.Listener, time.Minute) // as apigw serves traffic
	srv.Config.ConnContext = ConnContext
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, ev, m
}

func passRoute(name, path, backend string, strip bool) Route {
	return Route{API: api(name, path, backend, config.Passthrough, strip), Guard: policy.Passthrough{}}
}

// rawRequest sends a request as raw bytes and returns the raw response head and body.
func rawGet(t *testing.T, addr, req string) (*http.Response, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestUpstreamRewritesRequests(t *testing.T) {
	type seenReq struct {
		uri  string
		host string
		hdr  http.Header
	}
	seen := make(chan seenReq, 1)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- seenReq{r.RequestURI, r.Host, r.Header.Clone()}
	}))
	defer backend.Close()
	bu := backend.URL
	srv, _, _ := gateway(t,
		passRoute("plain", "/plain", bu, false),
		passRoute("strip", "/strip", bu+"/base", true),
		passRoute("slash", "/slash/", bu+"/base/", true),
		passRoute("query", "/query", bu+"/q?fixed=1", true),
		Route{API: api("keyed", "/keyed", bu, config.APIKey, true), Guard: allowAll{}},
	)
	addr := srv.Listener.Addr().String()
	for _, c := range []struct{ req, uri string }{
		{"/plain/a/b?x=1", "/plain/a/b?x=1"},
		{"/strip/orders/7", "/base/orders/7"},
		{"/strip", "/base/"},
		{"/strip/a%20b/c", "/base/a%20b/c"}, // the caller's escapes are kept (an escaped slash: traversal_test.go)
		{"/strip/x/../orders/./7", "/base/orders/7"},
		{"/strip/caf%C3%A9", "/base/caf%C3%A9"},
		{"/slash/x", "/base/x"},
		{"/query/list?page=2", "/q/list?fixed=1&page=2"},
		{"/query/list", "/q/list?fixed=1"},
	} {
		// Without a body (the gateway's own client) and with one (ReverseProxy): the same.
		for _, head := range []string{"GET " + c.req + " HTTP/1.1\r\nHost: api.example\r\nConnection: close\r\n\r\n",
			"POST " + c.req + " HTTP/1.1\r\nHost: api.example\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}"} {
			resp, _ := rawGet(t, addr, head)
			if resp.StatusCode != 200 {
				t.Fatalf("%s: status %d", head, resp.StatusCode)
			}
			if got := <-seen; got.uri != c.uri || got.host != backend.Listener.Addr().String() {
				t.Errorf("%s: backend saw %s (Host %s), want %s", head, got.uri, got.host, c.uri)
			}
		}
	}

	// Hop-by-hop headers and the ones a caller could forge do not pass; end-to-end ones do,
	// with every value.
	req := "GET /keyed/x HTTP/1.1\r\nHost: api.example\r\n" +
		"Connection: keep-alive, X-Hop\r\nX-Hop: secret-hop\r\nKeep-Alive: timeout=5\r\nTe: trailers, deflate\r\n" +
		"Proxy-Authorization: Basic cHJveHk=\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Host: evil\r\nForwarded: for=6.6.6.6\r\n" +
		"KeyId: the-key\r\nX-Api-Key: the-key\r\nAuthorization: Bearer tok\r\n" +
		"Accept: a/b\r\nAccept: c/d\r\nAccept-Encoding: gzip\r\nX-Request-Id: r1\r\n\r\n"
	resp, _ := rawGet(t, addr, req)
	if resp.StatusCode != 200 {
		t.Fatalf("keyed: %d", resp.StatusCode)
	}
	got := (<-seen).hdr
	for _, k := range []string{"X-Hop", "Keep-Alive", "Proxy-Authorization", "Forwarded", "Keyid", "X-Api-Key", "Authorization"} {
		if v := got[k]; len(v) > 0 {
			t.Errorf("backend saw %s: %q", k, v)
		}
	}
	if v := got.Get("X-Forwarded-For"); v != "127.0.0.1" {
		t.Errorf("X-Forwarded-For %q, want the caller's address only", v)
	}
	if v := got.Get("X-Forwarded-Host"); v != "api.example" {
		t.Errorf("X-Forwarded-Host %q", v)
	}
	if v := got.Get("X-Forwarded-Proto"); v != "http" {
		t.Errorf("X-Forwarded-Proto %q", v)
	}
	if v := got.Values("Te"); len(v) != 1 || v[0] != "trailers" {
		t.Errorf("Te %q, want trailers only", v)
	}
	if v := got.Values("Accept"); len(v) != 2 || got.Get("Accept-Encoding") != "gzip" || got.Get("X-Request-Id") != "r1" {
		t.Errorf("end-to-end headers lost: %v", got)
	}
}

// allowAll lets every request through a non-passthrough route (credentials are hidden there).
type allowAll struct{}

func (allowAll) Name() string { return "allow" }
func (allowAll) Check(*http.Request) (policy.Identity, *policy.Rejection) {
	return policy.Identity{KeyID: "k"}, nil
}

func TestUpstreamResponses(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cookies":
			w.Header().Add("Set-Cookie", "a=1")
			w.Header().Add("Set-Cookie", "b=2")
			w.Header().Set("Connection", "X-Private")
			w.Header().Set("X-Private", "hop")
			w.Header().Set("Keep-Alive", "timeout=9")
			io.WriteString(w, "ok")
		case "/created":
			w.Header().Set("Location", "/x/1")
			w.WriteHeader(201)
			io.WriteString(w, "made")
		case "/none":
			w.WriteHeader(204)
		case "/same":
			w.WriteHeader(304)
		case "/hints":
			w.Header().Set("Link", "</style.css>; rel=preload")
			w.WriteHeader(103)
			io.WriteString(w, "after hints")
		case "/trailers":
			w.Header().Set("Trailer", "X-Sum")
			io.WriteString(w, "part1,")
			w.(http.Flusher).Flush()
			io.WriteString(w, "part2")
			w.Header().Set("X-Sum", "42")
		case "/head":
			w.Header().Set("Content-Length", "1234")
		}
	}))
	defer backend.Close()
	srv, _, _ := gateway(t, passRoute("b", "/b", backend.URL, true))
	client := srv.Client()

	get := func(method, path string) (*http.Response, string) {
		req, _ := http.NewRequest(method, srv.URL+"/b"+path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("%s %s body: %v", method, path, err)
		}
		return resp, string(b)
	}
	resp, body := get("GET", "/cookies")
	if c := resp.Header.Values("Set-Cookie"); len(c) != 2 || body != "ok" {
		t.Errorf("cookies %q body %q", c, body)
	}
	if resp.Header.Get("X-Private") != "" || resp.Header.Get("Keep-Alive") != "" {
		t.Errorf("hop-by-hop response headers passed: %v", resp.Header)
	}
	if resp, body = get("GET", "/created"); resp.StatusCode != 201 || resp.Header.Get("Location") != "/x/1" || body != "made" {
		t.Errorf("201: %d %v %q", resp.StatusCode, resp.Header, body)
	}
	if resp, body = get("DELETE", "/none"); resp.StatusCode != 204 || body != "" {
		t.Errorf("204: %d %q", resp.StatusCode, body)
	}
	if resp, _ = get("GET", "/same"); resp.StatusCode != 304 {
		t.Errorf("304: %d", resp.StatusCode)
	}
	if resp, body = get("GET", "/hints"); resp.StatusCode != 200 || body != "after hints" {
		t.Errorf("after 103: %d %q", resp.StatusCode, body)
	}
	if resp, body = get("GET", "/trailers"); body != "part1,part2" || resp.Trailer.Get("X-Sum") != "42" {
		t.Errorf("trailers: %q %v", body, resp.Trailer)
	}
	if resp, body = get("HEAD", "/head"); resp.StatusCode != 200 || resp.ContentLength != 1234 || body != "" {
		t.Errorf("HEAD: %d %d %q", resp.StatusCode, resp.ContentLength, body)
	}
	if resp, body = get("POST", "/created"); resp.StatusCode != 201 {
		t.Errorf("bodiless POST: %d %q", resp.StatusCode, body)
	}
}

// rawBackend serves each connection with fn, counting connections; the test's end closes
// the listener and every connection (the gateway keeps its own idle ones open).
func rawBackend(t testing.TB, fn func(c net.Conn, br *bufio.Reader)) (string, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int32
	testnet.Accept(t, ln, func(s *testnet.Server, c net.Conn) {
		conns.Add(1)
		s.Go(func() {
			defer c.Close()
			fn(c, bufio.NewReader(c))
		})
	})
	return "http://" + ln.Addr().String(), &conns
}

// readHead reads one request head; false at end of stream.
func readHead(br *bufio.Reader) (string, bool) {
	line, err := br.ReadString('\n')
	if err != nil {
		return "", false
	}
	for {
		h, err := br.ReadString('\n')
		if err != nil {
			return "", false
		}
		if h == "\r\n" {
			return line, true
		}
	}
}

func TestUpstreamKeepsConnections(t *testing.T) {
	url, conns := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		for {
			if _, ok := readHead(br); !ok {
				return
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	srv, _, _ := gateway(t, passRoute("b", "/b", url, true), passRoute("c", "/c", url, true))
	for i := range 20 {
		path := "/b/x"
		if i%2 == 1 {
			path = "/c/y" // another API on the same backend shares its connections
		}
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("20 sequential requests used %d backend connections, want 1", n)
	}
}

func TestUpstreamRetriesConnectionsTheBackendClosed(t *testing.T) {
	// The backend answers one request per connection and then closes it without saying so
	// (as a backend whose idle timeout fired between two requests does).
	url, conns := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if _, ok := readHead(br); !ok {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	srv, _, m := gateway(t, passRoute("b", "/b", url, true))
	for i, method := range []string{"GET", "GET", "DELETE", "POST", "GET", "PATCH"} {
		req, _ := http.NewRequest(method, srv.URL+"/b/x", nil)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "ok" {
			t.Fatalf("request %d (%s) on a connection the backend had closed: %d %q", i, method, resp.StatusCode, b)
		}
		time.Sleep(20 * time.Millisecond) // let the close arrive
	}
	if n := conns.Load(); n != 6 {
		t.Errorf("%d backend connections for 6 requests, want 6", n)
	}
	for _, line := range strings.Split(scrape(t, m), "\n") {
		if strings.HasPrefix(line, `apigw_upstream_errors_total{api="b"`) && !strings.HasSuffix(line, " 0") {
			t.Errorf("upstream errors counted for retried requests: %s", line)
		}
	}
}

func TestUpstreamFailures(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	cancelled := make(chan struct{}, 1)
	url, _ := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		line, ok := readHead(br)
		if !ok {
			return
		}
		switch {
		case strings.Contains(line, "/slow"):
			select { // never answers; the gateway gives up at the API's timeout
			case <-release:
			case <-time.After(10 * time.Second):
			}
		case strings.Contains(line, "/abandoned"):
			// The caller goes away: the gateway must close this connection.
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := br.ReadByte(); errors.Is(err, io.EOF) {
				cancelled <- struct{}{}
			}
		case strings.Contains(line, "/cut"):
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\nonly a little")
		case strings.Contains(line, "/old"):
			io.WriteString(c, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close")
		case strings.Contains(line, "/garbage"):
			io.WriteString(c, "this is not HTTP\r\n\r\n")
		}
	})
	slow := api("slow", "/slow", url, config.Passthrough, false)
	slow.Timeout = 200 * time.Millisecond
	srv, ev, m := gateway(t, Route{API: slow, Guard: policy.Passthrough{}},
		passRoute("b", "/b", url, false), passRoute("abandoned", "/abandoned", url, false))

	resp, err := srv.Client().Get(srv.URL + "/slow")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 504 || !strings.Contains(string(b), "backend_timeout") {
		t.Errorf("slow backend: %d %s", resp.StatusCode, b)
	}

	if resp, err = srv.Client().Get(srv.URL + "/b/garbage"); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 502 {
		t.Errorf("garbage from the backend: %d", resp.StatusCode)
	}

	if resp, err = srv.Client().Get(srv.URL + "/b/old"); err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "until close" {
		t.Errorf("HTTP/1.0 backend: %d %q", resp.StatusCode, b)
	}

	// A body that breaks off: the caller sees an error, not a short complete response.
	if resp, err = srv.Client().Get(srv.URL + "/b/cut"); err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil {
		t.Error("a truncated backend body reached the caller as a complete response")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/abandoned", nil)
	if _, err := srv.Client().Do(req); err == nil {
		t.Fatal("abandoned request answered")
	}
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the backend connection of an abandoned request stayed open")
	}

	text := scrape(t, m)
	for _, want := range []string{
		`apigw_upstream_errors_total{api="slow",group="g",image_tag="v"} 1`,
		`apigw_upstream_errors_total{api="b",group="g",image_tag="v"} 2`, // garbage, cut
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// Every transaction is in the event log, the cut one too.
	deadline := time.Now().Add(2 * time.Second)
	for {
		ev.mu.Lock()
		n := len(ev.ev)
		ev.mu.Unlock()
		if n == 5 || time.Now().After(deadline) {
			if n != 5 {
				t.Errorf("%d events, want 5", n)
			}
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestUpstreamStreamsResponses(t *testing.T) {
	next := make(chan struct{})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		<-next
		io.WriteString(w, "data: second\n\n")
	}))
	defer backend.Close()
	srv, _, _ := gateway(t, passRoute("s", "/s", backend.URL, true))
	resp, err := srv.Client().Get(srv.URL + "/s/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n') // arrives while the backend still holds the rest
	if err != nil || line != "data: first\n" {
		t.Fatalf("first event: %q %v", line, err)
	}
	close(next)
	rest, _ := io.ReadAll(br)
	if string(rest) != "\ndata: second\n\n" {
		t.Fatalf("rest %q", rest)
	}
}

func TestUpstreamBodiesGoThroughReverseProxy(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, r.Method+" "+string(b))
	}))
	defer backend.Close()
	srv, _, _ := gateway(t, passRoute("b", "/b", backend.URL, true))
	resp, err := srv.Client().Post(srv.URL+"/b/orders", "application/json", strings.NewReader(`{"n":1}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != `POST {"n":1}` {
		t.Fatalf("body %q", b)
	}
}

// writeCounter counts the writes on the connections it accepts.
type writeCounter struct {
	net.Listener
	writes *atomic.Int32
}

func (l writeCounter) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countedConn{c, l.writes}, nil
}

type countedConn struct {
	net.Conn
	writes *atomic.Int32
}

func (c countedConn) Write(p []byte) (int, error) { c.writes.Add(1); return c.Conn.Write(p) }

func TestResponsesLeaveInOneWrite(t *testing.T) {
	body := strings.Repeat("x", 10<<10)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10240")
		io.WriteString(w, body)
	}))
	defer backend.Close()
	h := NewHandler(Options{Routes: []Route{passRoute("b", "/b", backend.URL, true)}, Metrics: metrics.New("g", "v"),
		Upstream: config.Upstream{MaxIdleConnsPerHost: 8, IdleConnTimeout: time.Minute, DialTimeout: time.Second}})
	for _, cork := range []bool{false, true} {
		var writes atomic.Int32
		srv := httptest.NewUnstartedServer(h)
		srv.Listener = writeCounter{srv.Listener, &writes}
		if cork {
			srv.Listener = CorkListener(srv.Listener, time.Minute)
			srv.Config.ConnContext = ConnContext
		}
		srv.Start()
		for range 5 {
			resp, err := srv.Client().Get(srv.URL + "/b/10k")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != body {
				t.Fatalf("cork %v: body of %d bytes", cork, len(b))
			}
		}
		srv.Close()
		switch n := writes.Load(); {
		case cork && n != 5:
			t.Errorf("corked: %d writes for 5 responses of 10 KB, want 5", n)
		case !cork && n <= 5:
			t.Errorf("uncorked: %d writes for 5 responses of 10 KB; the test no longer shows what corking saves", n)
		}
	}
}
