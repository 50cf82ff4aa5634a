package policy

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/apimctl/apimctl/gateway/store"
)

type fakeCreds map[store.Hash]store.Credential

var errDown = errors.New("no hosts available")

func (f fakeCreds) Get(_ context.Context, h store.Hash) (store.Credential, error) {
	if _, down := f[store.HashOf("__down__")]; down {
		return store.Credential{}, fmt.Errorf("%w: %v", store.ErrUnavailable, errDown)
	}
	c, ok := f[h]
	if !ok {
		return store.Credential{}, store.ErrNotFound
	}
	return c, nil
}

func TestAPIKey(t *testing.T) {
	creds := fakeCreds{
		store.HashOf("good"):     {KeyID: "key-1", AppID: "app-1", APIs: []string{"orders"}},
		store.HashOf("all"):      {KeyID: "key-2", AppID: "app-2", APIs: []string{"*"}},
		store.HashOf("other"):    {KeyID: "key-3", AppID: "app-3", APIs: []string{"payments"}},
		store.HashOf("disabled"): {KeyID: "key-4", AppID: "app-4", APIs: []string{"*"}, Disabled: true},
	}
	p := &APIKey{API: "orders", Creds: creds}
	cases := []struct {
		header, value string
		status        int
		code, keyID   string
	}{
		{"KeyId", "good", 0, "", "key-1"},
		{"X-API-Key", "all", 0, "", "key-2"},
		{"", "", 401, "missing_api_key", ""},
		{"KeyId", "wrong", 401, "invalid_api_key", ""},
		{"KeyId", "other", 403, "not_authorized", "key-3"},
		{"X-API-Key", "disabled", 403, "api_key_disabled", "key-4"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/orders/1", nil)
		if c.header != "" {
			r.Header.Set(c.header, c.value)
		}
		id, rej := p.Check(r)
		switch {
		case c.status == 0 && rej != nil:
			t.Errorf("%s=%s: rejected %+v", c.header, c.value, rej)
		case c.status != 0 && (rej == nil || rej.Status != c.status || rej.Code != c.code):
			t.Errorf("%s=%s: got %+v, want %d %s", c.header, c.value, rej, c.status, c.code)
		case id.KeyID != c.keyID:
			t.Errorf("%s=%s: identity %+v", c.header, c.value, id)
		}
	}
	// Store down and nothing cached: closed gives 503, open lets the request through.
	down := fakeCreds{store.HashOf("__down__"): {}}
	r := httptest.NewRequest("GET", "/orders", nil)
	r.Header.Set("KeyId", "good")
	if _, rej := (&APIKey{API: "orders", Creds: down}).Check(r); rej == nil || rej.Status != 503 {
		t.Fatalf("closed: %+v", rej)
	}
	if _, rej := (&APIKey{API: "orders", Creds: down, FailOpen: true}).Check(r); rej != nil {
		t.Fatalf("open: %+v", rej)
	}
}

func TestOAuth(t *testing.T) {
	now := time.Unix(5000, 0)
	creds := fakeCreds{
		store.HashOf("tok"):     {KeyID: "client-1", AppID: "app-1", APIs: []string{"payments"}, Expires: now.Add(time.Minute)},
		store.HashOf("expired"): {KeyID: "client-1", AppID: "app-1", APIs: []string{"payments"}, Expires: now.Add(-time.Second)},
		store.HashOf("nogrant"): {KeyID: "client-2", AppID: "app-2", APIs: []string{"orders"}, Expires: now.Add(time.Minute)},
	}
	p := &OAuth{API: "payments", Creds: creds, Now: func() time.Time { return now }}
	for auth, want := range map[string]string{
		"Bearer tok": "", "bearer tok": "", "": "missing_token", "Basic abc": "missing_token", "Bearer ": "missing_token",
		"Bearer nope": "invalid_token", "Bearer expired": "invalid_token", "Bearer nogrant": "insufficient_scope",
	} {
		r := httptest.NewRequest("GET", "/payments", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		_, rej := p.Check(r)
		if want == "" {
			if rej != nil {
				t.Errorf("%q rejected: %+v", auth, rej)
			}
			continue
		}
		if rej == nil || rej.Code != want || rej.Authn == "" {
			t.Errorf("%q: got %+v want %s", auth, rej, want)
		}
		if auth == "Bearer expired" && (rej.Status != 401 || rej.Reason != "expired") {
			t.Errorf("expired token: %+v", rej)
		}
	}
}

// memCounters is a shared counter table standing in for Cassandra in pure-logic tests.
type memCounters struct {
	mu   sync.Mutex
	m    map[string]int64
	fail bool
	// lostAnswers: the next this many adds are applied but their answer is lost (a timeout
	// after the update left, as store.AddCount reports it).
	lostAnswers int
}

func (c *memCounters) AddCount(_ context.Context, b string, w int64, d int64) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail {
		return 0, errDown
	}
	k := fmt.Sprintf("%s/%d", b, w)
	c.m[k] += d
	if c.lostAnswers > 0 && d != 0 {
		c.lostAnswers--
		return 0, fmt.Errorf("%w: gocql: no response received from cassandra within timeout period", store.ErrCountUnknown)
	}
	return c.m[k], nil
}

func (c *memCounters) DeleteCount(_ context.Context, b string, w int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, fmt.Sprintf("%s/%d", b, w))
	return nil
}

func TestThrottleSingleGatewayExact(t *testing.T) {
	c := &memCounters{m: map[string]int64{}}
	now := time.Unix(1_000_000, 0)
	th := &Throttle{API: "orders", Limit: 5, Per: 10 * time.Second, Counters: c, SyncInterval: time.Hour, now: func() time.Time { return now }}
	th.Start()
	defer th.Stop()
	id := Identity{KeyID: "k1", AppID: "a1"}
	for i := 0; i < 5; i++ {
		if rej := th.Allow(id); rej != nil {
			t.Fatalf("request %d rejected: %+v", i, rej)
		}
	}
	rej := th.Allow(id)
	if rej == nil || rej.Status != 429 || rej.RetryAfter < 1 || rej.RetryAfter > 11 {
		t.Fatalf("6th request: %+v", rej)
	}
	if th.Allow(Identity{KeyID: "k2"}) != nil {
		t.Fatal("another key shares the limit")
	}
	// Next window: allowed again.
	now = now.Add(10 * time.Second)
	if rej := th.Allow(id); rej != nil {
		t.Fatalf("next window rejected: %+v", rej)
	}
}

func TestThrottleSharedAcrossGateways(t *testing.T) {
	c := &memCounters{m: map[string]int64{}}
	now := time.Unix(2_000_000, 0)
	clock := func() time.Time { return now }
	mk := func() *Throttle {
		th := &Throttle{API: "orders", Limit: 10, Per: time.Minute, ByApp: true, Counters: c, SyncInterval: time.Hour, now: clock}
		th.Start()
		return th
	}
	g1, g2 := mk(), mk()
	defer g1.Stop()
	defer g2.Stop()
	for i := 0; i < 6; i++ {
		if g1.Allow(Identity{KeyID: fmt.Sprint("k", i), AppID: "app"}) != nil {
			t.Fatalf("g1 request %d rejected", i)
		}
	}
	g1.syncAll()
	g2.Allow(Identity{AppID: "app"}) // creates the bucket on g2 (and uses 1)
	g2.syncAll()                     // reads the shared total 6+1
	allowed := 0
	for i := 0; i < 10; i++ {
		if g2.Allow(Identity{AppID: "app"}) == nil {
			allowed++
		}
	}
	if allowed != 3 {
		t.Fatalf("g2 admitted %d more, want 3 (limit 10, 7 used)", allowed)
	}
	g2.syncAll()
	if got := c.m[fmt.Sprintf("orders|app|app/%d", now.Unix()/60)]; got != 10 {
		t.Fatalf("shared counter %d, want 10", got)
	}
}

func TestThrottleStoreFailure(t *testing.T) {
	c := &memCounters{m: map[string]int64{}, fail: true}
	now := time.Unix(3_000_000, 0)
	mk := func(open bool) *Throttle {
		th := &Throttle{API: "a", Limit: 100, Per: time.Minute, Counters: c, SyncInterval: time.Hour, FailAfter: time.Second, FailOpen: open, now: func() time.Time { return now }}
		th.Start()
		return th
	}
	closed, open := mk(false), mk(true)
	defer closed.Stop()
	defer open.Stop()
	id := Identity{KeyID: "k"}
	closed.Allow(id)
	open.Allow(id)
	closed.syncAll()
	open.syncAll()
	now = now.Add(2 * time.Second)
	if rej := closed.Allow(id); rej == nil || rej.Status != 503 {
		t.Fatalf("closed throttle with store down: %+v", rej)
	}
	if rej := open.Allow(id); rej != nil {
		t.Fatalf("open throttle with store down: %+v", rej)
	}
	// The store comes back: the closed throttle recovers at the next sync (probe).
	c.mu.Lock()
	c.fail = false
	c.mu.Unlock()
	closed.syncAll()
	if rej := closed.Allow(id); rej != nil {
		t.Fatalf("closed throttle did not recover: %+v", rej)
	}
}

// TestThrottleCountsOnceWhenAnAnswerIsLost: an update whose answer was lost (it may have
// counted) is taken as counted and never sent again: the shared counter sees each request
// once, and the gateway still enforces its limit.
func TestThrottleCountsOnceWhenAnAnswerIsLost(t *testing.T) {
	c := &memCounters{m: map[string]int64{}, lostAnswers: 1}
	now := time.Unix(4_000_000, 0)
	th := &Throttle{API: "a", Limit: 10, Per: time.Minute, Counters: c, SyncInterval: time.Hour, now: func() time.Time { return now }}
	th.Start()
	defer th.Stop()
	id := Identity{KeyID: "k"}
	for i := 0; i < 4; i++ {
		if rej := th.Allow(id); rej != nil {
			t.Fatal(rej)
		}
	}
	th.syncAll() // applied, answer lost
	th.syncAll()
	th.syncAll()
	key := fmt.Sprintf("a|key|k/%d", now.Unix()/60)
	if got := c.m[key]; got != 4 {
		t.Fatalf("shared counter %d after 4 requests and a lost answer, want 4", got)
	}
	allowed := 0
	for i := 0; i < 10; i++ {
		if th.Allow(id) == nil {
			allowed++
		}
	}
	th.syncAll()
	if allowed != 6 || c.m[key] != 10 {
		t.Fatalf("after the lost answer: %d more admitted (want 6), counter %d (want 10)", allowed, c.m[key])
	}
}
