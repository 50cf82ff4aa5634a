// Command backend is the benchmark's upstream: it answers /1k and /10k (any prefix) with
// fixed bodies of 1 KB and 10 KB, so the bench measures the proxies, not the backend.
package main

import (
	"flag"
	"log"
	"net/http"
	"strconv"
	"strings"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:18081", "address to listen on (loopback)")
	flag.Parse()
	small, large := []byte(strings.Repeat("a", 1024)), []byte(strings.Repeat("b", 10240))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := small
		if strings.HasSuffix(r.URL.Path, "/10k") {
			body = large
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	log.Fatal((&http.Server{Addr: *addr, Handler: h}).ListenAndServe())
}
