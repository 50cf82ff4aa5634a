package policy

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apimctl/apimctl/gateway/store"
)

func TestLookupBudgetClient(t *testing.T) {
	b := NewLookupBudget(LookupBudgetOptions{PerClient: 1, Burst: 1, Total: 1,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16"), netip.MustParsePrefix("192.0.2.1/32")}})
	for _, c := range []struct {
		remote string
		xff    []string
		want   string
	}{
		{"203.0.113.7:5555", nil, "203.0.113.7"},
		{"203.0.113.7:5555", []string{"1.2.3.4"}, "203.0.113.7"}, // an untrusted peer's XFF is ignored
		{"[2001:db8:1:2:3:4:5:6]:443", nil, "2001:db8:1:2::/64"},
		{"[::ffff:203.0.113.7]:1", nil, "203.0.113.7"},
		{"10.244.3.9:4000", []string{"198.51.100.20"}, "198.51.100.20"},
		{"10.244.3.9:4000", []string{"6.6.6.6, 198.51.100.20"}, "198.51.100.20"},   // the forged left part is not believed
		{"10.244.3.9:4000", []string{"198.51.100.20, 192.0.2.1"}, "198.51.100.20"}, // two trusted hops
		{"10.244.3.9:4000", []string{"6.6.6.6", "198.51.100.21"}, "198.51.100.21"}, // two header lines
		{"10.244.3.9:4000", []string{"not-an-ip"}, "10.244.3.9"},
		{"10.244.3.9:4000", nil, "10.244.3.9"},
	} {
		r := httptest.NewRequest("GET", "/x", nil)
		r.RemoteAddr = c.remote
		if c.xff != nil {
			r.Header["X-Forwarded-For"] = c.xff
		}
		if got := b.Client(r); got != c.want {
			t.Errorf("%s %v: client %q, want %q", c.remote, c.xff, got, c.want)
		}
	}
}

func TestLookupBudgetRefillsAndBounds(t *testing.T) {
	now := time.Unix(1000, 0)
	b := NewLookupBudget(LookupBudgetOptions{PerClient: 2, Burst: 3, Total: 100, MaxClients: 100})
	b.now = func() time.Time { return now }
	b.all.last = now
	for i := 0; i < 3; i++ {
		if !b.take("a") {
			t.Fatalf("burst: lookup %d refused", i)
		}
	}
	if b.take("a") {
		t.Fatal("a fourth lookup beyond the burst was allowed")
	}
	if !b.take("b") {
		t.Fatal("another client is held by the first one's spending")
	}
	b.refund("a")
	if !b.take("a") || b.take("a") {
		t.Fatal("a refund gives back exactly one lookup")
	}
	now = now.Add(time.Second) // 2 per second
	if !b.take("a") || !b.take("a") || b.take("a") {
		t.Fatal("refill at 2 per second")
	}
	// The total holds whatever the clients: 100 per second across 1000 addresses.
	allowed := 0
	for i := 0; i < 1000; i++ {
		if b.take(fmt.Sprintf("c%d", i)) {
			allowed++
		}
	}
	if allowed > 100 || len(b.clients) > 100 {
		t.Fatalf("%d lookups allowed across 1000 clients (total 100), %d clients tracked (max 100)", allowed, len(b.clients))
	}
}

// TestKeySprayIsRefusedWithoutQueries: through a real store.Cache, a client spraying random
// keys gets 401s until its burst is spent, then 429s without a store query; a valid key from
// the same client is still served from the cache, and other clients are not affected.
func TestKeySprayIsRefusedWithoutQueries(t *testing.T) {
	valid := store.HashOf("valid-key")
	var queries atomic.Int64
	fetch := func(_ context.Context, h store.Hash) (store.Credential, error) {
		queries.Add(1)
		if h == valid {
			return store.Credential{KeyID: "k", AppID: "a", APIs: []string{"orders"}}, nil
		}
		return store.Credential{}, store.ErrNotFound
	}
	cache := store.NewCache(fetch, store.CacheOptions{PositiveTTL: time.Hour, NegativeTTL: time.Hour, StaleFor: time.Hour, MaxEntries: 64})
	p := &APIKey{API: "orders", Creds: cache, Lookups: NewLookupBudget(LookupBudgetOptions{PerClient: 1, Burst: 5, Total: 1000})}
	req := func(remote, key string) *Rejection {
		r := httptest.NewRequest("GET", "/orders", nil)
		r.RemoteAddr = remote
		r.Header.Set("KeyId", key)
		_, rej := p.Check(r)
		return rej
	}
	// Valid keys are refunded: looking up ten of them costs the client nothing.
	for i := 0; i < 10; i++ {
		cache.Forget(valid)
		if rej := req("203.0.113.9:1", "valid-key"); rej != nil {
			t.Fatalf("valid key: %+v", rej)
		}
	}
	before := queries.Load()
	codes := map[string]int{}
	for i := 0; i < 500; i++ {
		if rej := req("203.0.113.9:2", fmt.Sprintf("random-%d", i)); rej != nil {
			codes[rej.Code]++
		}
	}
	if n := queries.Load() - before; n > 6 {
		t.Fatalf("a spray of 500 unknown keys made %d store queries (burst 5)", n)
	}
	if codes["invalid_api_key"] < 5 || codes["too_many_unknown_credentials"] < 490 {
		t.Fatalf("spray answers: %v", codes)
	}
	if rej := req("203.0.113.9:3", "valid-key"); rej != nil {
		t.Fatalf("cached valid key from the spraying client: %+v", rej)
	}
	if rej := req("198.51.100.1:1", "unknown-from-elsewhere"); rej == nil || rej.Code != "invalid_api_key" {
		t.Fatalf("another client: %+v", rej)
	}
	if found, _ := cache.Len(); found != 1 {
		t.Fatalf("the valid key left the cache: %d cached", found)
	}
}
