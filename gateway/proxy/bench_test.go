package proxy

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apimctl/apimctl/gateway/config"
	"github.com/apimctl/apimctl/gateway/eventlog"
	"github.com/apimctl/apimctl/gateway/metrics"
	"github.com/apimctl/apimctl/gateway/policy"
	"github.com/apimctl/apimctl/gateway/store"
)

// The hot-path benchmarks run the gateway's handler in process against a real loopback
// backend (keep-alive, as in production) and a discarding response writer, so allocs/op is
// what the gateway itself costs per request: routing, policy, ReverseProxy + transport,
// metrics and the event log hand-off. The inbound http.Server's own parsing is not included
// (it is the same for every handler). Run:
//
//	go test ./gateway/proxy -run '^$' -bench . -benchmem

// discardWriter is a minimal http.ResponseWriter that reuses its header map.
type discardWriter struct {
	h      http.Header
	status int
	n      int64
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) WriteHeader(code int)        { d.status = code }
func (d *discardWriter) Write(b []byte) (int, error) { d.n += int64(len(b)); return len(b), nil }
func (d *discardWriter) Flush()                      {}

func (d *discardWriter) reset() {
	clear(d.h)
	d.status, d.n = 0, 0
}

// nopSink accepts events like eventlog.Writer's queue does, without a disk.
type nopSink struct{ n int }

func (s *nopSink) Log(eventlog.Event) bool { s.n++; return true }

// benchBackend is a keep-alive HTTP/1.1 backend that answers /…/1k and /…/10k with canned
// responses and allocates nothing per request, so the benchmark's allocs/op are the gateway's
// alone (testing counts the allocations of the whole process).
func benchBackend(b *testing.B) string {
	b.Helper()
	resp := func(n int) []byte {
		return []byte("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
			strconv.Itoa(n) + "\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n\r\n" + strings.Repeat("a", n))
	}
	small, large := resp(1024), resp(10240)
	url, _ := rawBackend(b, func(c net.Conn, br *bufio.Reader) {
		for {
			line, err := br.ReadSlice('\n') // request line
			if err != nil {
				return
			}
			out := small
			if bytes.Contains(line, []byte("/10k ")) {
				out = large
			}
			for { // headers; the benchmark sends no body
				h, err := br.ReadSlice('\n')
				if err != nil {
					return
				}
				if len(h) <= 2 {
					break
				}
			}
			if _, err := c.Write(out); err != nil {
				return
			}
		}
	})
	return url
}

const benchKey = "bench-key-0123456789abcdefghijklmnopqrstuv"

func benchHandler(b *testing.B, backendURL string) *Handler {
	b.Helper()
	// A real credential cache over a fake store: after the first request every lookup is a
	// cache hit, as in steady state in production.
	fetch := func(_ context.Context, h store.Hash) (store.Credential, error) {
		if h == store.HashOf(benchKey) {
			return store.Credential{KeyID: "key-1", AppID: "app-1", APIs: []string{"key"}}, nil
		}
		return store.Credential{}, store.ErrNotFound
	}
	m := metrics.New("bench", "dev")
	keys := store.NewCache(fetch, store.CacheOptions{PositiveTTL: time.Hour, NegativeTTL: time.Minute, StaleFor: time.Hour,
		Hit: m.CacheCounter("key", "hit"), Miss: m.CacheCounter("key", "miss"), Stale: m.CacheCounter("key", "stale")})
	return NewHandler(Options{
		Routes: []Route{
			{API: api("pass", "/pass", backendURL, config.Passthrough, true), Guard: policy.Passthrough{}},
			{API: api("key", "/key", backendURL, config.APIKey, true), Guard: &policy.APIKey{API: "key", Creds: keys,
				Lookups: policy.NewLookupBudget(policy.LookupBudgetOptions{PerClient: 10, Burst: 20, Total: 500})}},
		},
		Upstream: config.Upstream{MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute, DialTimeout: time.Second},
		Metrics:  m, Events: &nopSink{},
	})
}

func benchProxy(b *testing.B, path string, hdr map[string]string, wantBytes int64) {
	h := benchHandler(b, benchBackend(b))
	// A request as wrk sends it, as http.Server hands it over. The handler does not modify
	// it (ReverseProxy clones), so one request serves every iteration.
	req := httptest.NewRequest("GET", "http://127.0.0.1:18083"+path, nil)
	req.RemoteAddr = "127.0.0.1:40000"
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	w := &discardWriter{h: http.Header{}}
	// Warm up: connection to the backend, credential cache.
	h.ServeHTTP(w, req)
	if w.status != http.StatusOK || w.n != wantBytes {
		b.Fatalf("warm-up: status %d, %d bytes", w.status, w.n)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, req)
		if w.n != wantBytes {
			b.Fatalf("status %d, %d bytes", w.status, w.n)
		}
	}
}

// BenchmarkPassthrough1KB: passthrough API, 1 KB response.
func BenchmarkPassthrough1KB(b *testing.B) { benchProxy(b, "/pass/1k", nil, 1024) }

// BenchmarkPassthrough10KB: passthrough API, 10 KB response.
func BenchmarkPassthrough10KB(b *testing.B) { benchProxy(b, "/pass/10k", nil, 10240) }

// BenchmarkAPIKey1KB: API-key API (credential cache hit), 1 KB response.
func BenchmarkAPIKey1KB(b *testing.B) {
	benchProxy(b, "/key/1k", map[string]string{"KeyId": benchKey}, 1024)
}

// BenchmarkRouterMatch: the route lookup alone.
func BenchmarkRouterMatch(b *testing.B) {
	var rs []*route
	for _, p := range []string{"/orders", "/catalog", "/users", "/payments", "/pass", "/key", "/a/b/c"} {
		rs = append(rs, &route{name: p, prefix: p})
	}
	r := newRouter(rs)
	b.ReportAllocs()
	for b.Loop() {
		if r.match("/pass/1k") == nil {
			b.Fatal("no route")
		}
	}
}

// BenchmarkNormalizeCleanPath: the path check every request pays (a clean path: no change).
func BenchmarkNormalizeCleanPath(b *testing.B) {
	u, _ := url.Parse("http://h/pass/10k/orders/123/items")
	b.ReportAllocs()
	for b.Loop() {
		if err := normalizeRequestPath(u, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteDeadline: what the write timeout adds to each write on a caller's connection
// (compare with the same write without it).
func BenchmarkWriteDeadline(b *testing.B) {
	for _, wt := range []time.Duration{0, time.Minute} {
		b.Run(fmt.Sprint("timeout=", wt), func(b *testing.B) {
			c1, c2 := net.Pipe()
			defer c1.Close()
			defer c2.Close()
			go io.Copy(io.Discard, c2)
			cc := &corkConn{Conn: c1, writeTimeout: wt}
			p := make([]byte, 64)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := cc.Write(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
