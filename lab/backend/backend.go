// Package backend is the lab's API backend: sized responses on loopback, so traffic through
// the gateways moves realistic bodies (1 KB, 10 KB, 50 KB, 100 KB).
package backend

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sizes are the paths the backend answers, with their body sizes.
var Sizes = map[string]int{"1k": 1 << 10, "10k": 10 << 10, "50k": 50 << 10, "100k": 100 << 10}

// Handler answers /…/<size> (the last path element) with a body of that size; / and unknown
// sizes get 1 KB. /healthz answers ok.
func Handler() http.Handler {
	bodies := map[string][]byte{}
	for k, n := range Sizes {
		bodies[k] = bytes.Repeat([]byte("x"), n)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			_, _ = w.Write([]byte("ok\n"))
			return
		}
		last := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		b, ok := bodies[last]
		if !ok {
			b = bodies["1k"]
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		_, _ = w.Write(b)
	})
}

// Serve serves on addr (which must be on loopback) until ctx ends.
func Serve(ctx context.Context, addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("backend address %q: want a loopback host:port", addr)
	}
	srv := &http.Server{Addr: addr, Handler: Handler(), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 120 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		return err
	}
	return nil
}
