package proxy

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apimctl/apimctl/gateway/config"
	"github.com/apimctl/apimctl/gateway/eventlog"
	"github.com/apimctl/apimctl/gateway/metrics"
	"github.com/apimctl/apimctl/gateway/policy"
	"github.com/apimctl/apimctl/gateway/store"
)

type sink struct {
	mu sync.Mutex
	ev []eventlog.Event
}

func (s *sink) Log(e eventlog.Event) bool {
	s.mu.Lock()
	s.ev = append(s.ev, e)
	s.mu.Unlock()
	return true
}

type creds map[store.Hash]store.Credential

func (c creds) Get(_ context.Context, h store.Hash) (store.Credential, error) {
	if v, ok := c[h]; ok {
		return v, nil
	}
	return store.Credential{}, store.ErrNotFound
}

func api(name, path, backend string, pol config.Policy, strip bool) config.API {
	u, _ := url.Parse(backend)
	return config.API{Name: name, Path: path, Backend: backend, BackendURL: u, Policy: pol, StripPrefix: strip, Timeout: 2 * time.Second}
}

func refusedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now: connections are refused
	return addr
}

func TestHandler(t *testing.T) {
	var seen sync.Map
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.URL.Path, r.Header.Clone())
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "hello from "+r.URL.Path)
	}))
	defer backend.Close()
	m := metrics.New("g1", "v1")
	ev := &sink{}
	c := creds{store.HashOf("good-key"): {KeyID: "key-1", AppID: "app-1", APIs: []string{"orders"}}}
	h := NewHandler(Options{
		Routes: []Route{
			{API: api("catalog", "/catalog", backend.URL+"/v1", config.Passthrough, false), Guard: policy.Passthrough{}},
			{API: api("orders", "/orders", backend.URL, config.APIKey, true), Guard: &policy.APIKey{API: "orders", Creds: c}},
			{API: api("down", "/down", "http://"+refusedAddr(t), config.Passthrough, false), Guard: policy.Passthrough{}},
		},
		Upstream: config.Upstream{MaxIdleConnsPerHost: 8, IdleConnTimeout: time.Minute, DialTimeout: time.Second},
		Metrics:  m, Events: ev,
	})
	srv := httptest.NewServer(h)
	defer srv.Close()

	do := func(path, key string) (int, string, http.Header) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if key != "" {
			req.Header.Set("KeyId", key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	type errBody struct {
		Error, Message, API string
		Status              int
	}
	jsonErr := func(body string) errBody {
		var e errBody
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			t.Fatalf("error body is not JSON: %q", body)
		}
		return e
	}

	if code, body, _ := do("/catalog/items", ""); code != 200 || body != "hello from /v1/catalog/items" {
		t.Fatalf("passthrough: %d %q", code, body)
	}
	if code, body, _ := do("/orders/42", "good-key"); code != 200 || body != "hello from /42" {
		t.Fatalf("apikey with strip: %d %q", code, body)
	}
	if hv, _ := seen.Load("/42"); hv.(http.Header).Get("KeyId") != "" || hv.(http.Header).Get("X-Forwarded-For") == "" {
		t.Fatalf("backend saw the key or no X-Forwarded-For: %v", hv)
	}
	code, body, _ := do("/orders/42", "bad-key")
	if e := jsonErr(body); code != 401 || e.Error != "invalid_api_key" || e.API != "orders" || e.Status != 401 {
		t.Fatalf("invalid key: %d %q", code, body)
	}
	code, body, _ = do("/nowhere", "")
	if e := jsonErr(body); code != 404 || e.Error != "no_such_api" {
		t.Fatalf("unknown path: %d %q", code, body)
	}
	code, body, _ = do("/catalogue", "") // not under /catalog/
	if code != 404 {
		t.Fatalf("prefix boundary: %d %q", code, body)
	}
	code, body, _ = do("/down/x", "")
	if e := jsonErr(body); code != 502 || e.Error != "backend_unavailable" || e.API != "down" {
		t.Fatalf("refused backend: %d %q", code, body)
	}

	checks := map[string]float64{
		`apigw_requests_total{api="catalog",code_class="2xx",group="g1",image_tag="v1"}`:                                     1,
		`apigw_requests_total{api="orders",code_class="4xx",group="g1",image_tag="v1"}`:                                      1,
		`apigw_requests_total{api="down",code_class="5xx",group="g1",image_tag="v1"}`:                                        1,
		`apigw_upstream_errors_total{api="down",group="g1",image_tag="v1"}`:                                                  1,
		`apigw_policy_rejections_total{api="orders",group="g1",image_tag="v1",policy="apikey",reason="invalid_credentials"}`: 1,
	}
	text := scrape(t, m)
	for series, want := range checks {
		if !strings.Contains(text, series+" "+strconvF(want)) {
			t.Errorf("metrics lack %s %v", series, want)
		}
	}
	if !strings.Contains(text, `apigw_request_duration_seconds_bucket{api="orders",group="g1",image_tag="v1",le="0.005"}`) {
		t.Error("no latency histogram for orders")
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if len(ev.ev) != 6 {
		t.Fatalf("%d events, want 6", len(ev.ev))
	}
	e := ev.ev[1]
	if e.API != "orders" || e.Status != 200 || e.KeyID != "key-1" || e.AppID != "app-1" || e.BytesOut != int64(len("hello from /42")) {
		t.Fatalf("event %+v", e)
	}
}

func strconvF(f float64) string { b, _ := json.Marshal(f); return string(b) }

func scrape(t *testing.T, m *metrics.Metrics) string {
	rr := httptest.NewRecorder()
	m.Handler().ServeHTTP(rr, httptest.NewRequest("GET", "/metrics", nil))
	return rr.Body.String()
}

func TestRouterLongestPrefix(t *testing.T) {
	r := newRouter([]*route{{name: "a", prefix: "/a"}, {name: "ab", prefix: "/a/b"}, {name: "root", prefix: "/"}})
	for path, want := range map[string]string{"/a": "a", "/a/": "a", "/a/c": "a", "/a/b/c": "ab", "/a/b": "ab", "/ab": "root", "/": "root", "/x": "root"} {
		if got := r.match(path); got == nil || got.name != want {
			t.Errorf("%s: got %v want %s", path, got, want)
		}
	}
}
