package server_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/apimctl/apimctl/lab/labtest"
)

// cacheCount reads apigw_store_cache_total{kind="key",result=…} from the admin port.
func cacheCount(t *testing.T, admin int, result string) float64 {
	t.Helper()
	r := call(t, http.DefaultClient, "GET", fmt.Sprintf("http://127.0.0.1:%d/metrics", admin), nil, nil)
	m := regexp.MustCompile(`apigw_store_cache_total\{[^}]*kind="key",result="` + result + `"\} ([0-9.e+]+)`).FindStringSubmatch(r.body)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// TestKeySprayIsThrottledAndValidKeysStayCached runs a traffic gateway on the lab's Cassandra
// with a small credential cache and sprays random API keys at it, first from one client, then
// from a thousand (through a trusted proxy's X-Forwarded-For). Cassandra sees no more lookups
// than the budgets allow (per client, then for the gateway), the rest are answered 429
// without a query, and a valid key keeps being served from the cache throughout.
func TestKeySprayIsThrottledAndValidKeysStayCached(t *testing.T) {
	env := labtest.Require(t)
	id := uniq()
	prefix := "ks" + id + "_"
	s := labStore(t, env, prefix)
	_, _, key := labApp(t, s, "spray")
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer backend.Close()

	dir := t.TempDir()
	envFile := writeFile(t, dir, "env.yaml", labCassandraEnv(prefix))
	polFile := writeFile(t, dir, "pol.yaml", `
cache: {positiveTTL: 10m, negativeTTL: 10m, staleFor: 20m, maxEntries: 64}
lookupLimit: {perClient: 2, burst: 10, total: 20, trustedProxies: [127.0.0.0/8]}
apis:
  - {name: orders, path: /orders, backend: "`+backend.URL+`", policy: apikey}
`)
	port, admin := freePort(t), freePort(t)
	p := startApigw(t, env.Vars(), "--role", "traffic", "--pol", polFile, "--env", envFile, "--skip-prechecks",
		"--port", fmt.Sprint(port), "--admin-port", fmt.Sprint(admin))
	p.waitReady(t, fmt.Sprintf("http://127.0.0.1:%d/healthcheck", admin), 90*time.Second)
	c := &http.Client{Timeout: 15 * time.Second}
	url := fmt.Sprintf("http://127.0.0.1:%d/orders/1", port)
	get := func(k, xff string) int {
		t.Helper()
		hdr := map[string]string{"KeyId": k}
		if xff != "" {
			hdr["X-Forwarded-For"] = xff
		}
		return call(t, c, "GET", url, nil, hdr).code
	}
	if code := get(key, ""); code != 200 {
		t.Fatalf("valid key: %d", code)
	}
	validServedFromCache := func(phase string) {
		t.Helper()
		before := cacheCount(t, admin, "miss")
		for i := 0; i < 5; i++ {
			if code := get(key, ""); code != 200 {
				t.Fatalf("%s: valid key answered %d", phase, code)
			}
		}
		if n := cacheCount(t, admin, "miss") - before; n != 0 {
			t.Fatalf("%s: the valid key was looked up in Cassandra %v times: it left the cache", phase, n)
		}
	}

	// One client: its burst of 10, then 2 per second.
	start := time.Now()
	misses0 := cacheCount(t, admin, "miss")
	codes := map[int]int{}
	for i := 0; i < 300; i++ {
		codes[get(fmt.Sprintf("spray-%s-%d", id, i), "")]++
	}
	lookups := cacheCount(t, admin, "miss") - misses0
	allowed := 10 + 2*time.Since(start).Seconds() + 1
	t.Logf("one client, 300 random keys in %s: %v, %v Cassandra lookups (budget %.0f)", time.Since(start).Round(time.Millisecond), codes, lookups, allowed)
	if lookups > allowed || codes[429] < 300-int(allowed) || codes[401] != int(lookups) {
		t.Fatalf("one client's spray: %v with %v lookups, budget %.0f", codes, lookups, allowed)
	}
	validServedFromCache("after one client's spray")

	// A thousand clients behind the trusted proxy: each within its own budget, all together
	// within the gateway's 20 per second.
	start = time.Now()
	misses0 = cacheCount(t, admin, "miss")
	codes = map[int]int{}
	for i := 0; i < 1000; i++ {
		codes[get(fmt.Sprintf("wide-%s-%d", id, i), fmt.Sprintf("198.18.%d.%d", i/250, i%250+1))]++
		if i%200 == 0 {
			validServedFromCache(fmt.Sprintf("during the wide spray (%d)", i))
		}
	}
	lookups = cacheCount(t, admin, "miss") - misses0
	allowed = 20 + 20*time.Since(start).Seconds() + 1
	t.Logf("1000 clients, one random key each, in %s: %v, %v Cassandra lookups (budget %.0f)", time.Since(start).Round(time.Millisecond), codes, lookups, allowed)
	if lookups > allowed || codes[429] == 0 {
		t.Fatalf("wide spray: %v with %v lookups, budget %.0f", codes, lookups, allowed)
	}
	validServedFromCache("after the wide spray")
	if refused := cacheCount(t, admin, "refused"); refused < float64(codes[429]) {
		t.Errorf("refused lookups counted %v, want at least %d", refused, codes[429])
	}
}
