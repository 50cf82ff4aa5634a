package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type fakeSource struct {
	mu    sync.Mutex
	creds map[Hash]Credential
	fail  error
	calls atomic.Int64
	delay time.Duration
}

func (f *fakeSource) fetch(ctx context.Context, h Hash) (Credential, error) {
	f.calls.Add(1)
	time.Sleep(f.delay)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return Credential{}, f.fail
	}
	c, ok := f.creds[h]
	if !ok {
		return Credential{}, ErrNotFound
	}
	return c, nil
}

func TestCacheTTLStaleAndNegative(t *testing.T) {
	k := HashOf("key-1")
	src := &fakeSource{creds: map[Hash]Credential{k: {KeyID: "k1", AppID: "a1", APIs: []string{"orders"}}}}
	now := time.Unix(1000, 0)
	c := NewCache(src.fetch, CacheOptions{PositiveTTL: 30 * time.Second, NegativeTTL: 5 * time.Second, StaleFor: 10 * time.Minute})
	c.now = func() time.Time { return now }
	ctx := context.Background()

	if cr, err := c.Get(ctx, k); err != nil || cr.AppID != "a1" {
		t.Fatalf("first get: %+v %v", cr, err)
	}
	c.Get(ctx, k)
	if src.calls.Load() != 1 {
		t.Fatalf("second get within TTL asked the store: %d calls", src.calls.Load())
	}
	// After the TTL the store is asked again.
	now = now.Add(31 * time.Second)
	c.Get(ctx, k)
	if src.calls.Load() != 2 {
		t.Fatalf("expired entry not refreshed: %d calls", src.calls.Load())
	}
	// The store fails: a cached answer younger than StaleFor is still served.
	src.fail = errors.New("cassandra: no hosts available")
	now = now.Add(5 * time.Minute)
	if cr, err := c.Get(ctx, k); err != nil || cr.KeyID != "k1" {
		t.Fatalf("stale answer not served: %+v %v", cr, err)
	}
	// Beyond StaleFor the failure shows.
	now = now.Add(6 * time.Minute)
	if _, err := c.Get(ctx, k); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("want ErrUnavailable, got %v", err)
	}
	// Unknown credentials: not found is cached for NegativeTTL, never served as valid.
	src.fail = nil
	u := HashOf("nope")
	before := src.calls.Load()
	if _, err := c.Get(ctx, u); !errors.Is(err, ErrNotFound) {
		t.Fatalf("want not found, got %v", err)
	}
	if _, err := c.Get(ctx, u); !errors.Is(err, ErrNotFound) || src.calls.Load() != before+1 {
		t.Fatalf("negative answer not cached: %v, calls %d", err, src.calls.Load()-before)
	}
	// A revoked key disappears after the positive TTL.
	src.mu.Lock()
	delete(src.creds, k)
	src.mu.Unlock()
	now = now.Add(31 * time.Second)
	if _, err := c.Get(ctx, k); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoked key still served: %v", err)
	}
}

func TestCacheSingleFlight(t *testing.T) {
	k := HashOf("k")
	src := &fakeSource{creds: map[Hash]Credential{k: {AppID: "a"}}, delay: 50 * time.Millisecond}
	c := NewCache(src.fetch, CacheOptions{PositiveTTL: time.Minute, NegativeTTL: time.Second, StaleFor: time.Hour})
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Get(context.Background(), k); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := src.calls.Load(); n != 1 {
		t.Fatalf("50 concurrent lookups made %d store queries", n)
	}
}

func TestCacheBounded(t *testing.T) {
	src := &fakeSource{creds: map[Hash]Credential{}}
	c := NewCache(src.fetch, CacheOptions{PositiveTTL: time.Minute, NegativeTTL: time.Minute, StaleFor: time.Hour, MaxEntries: 640})
	for i := 0; i < 10000; i++ {
		c.Get(context.Background(), HashOf(string(rune(i))+"x"))
	}
	found, nf := c.Len()
	if found != 0 || nf > 160+64 {
		t.Fatalf("cache holds %d found and %d not-found entries, bound 0 and 160", found, nf)
	}
}

// TestCacheUnknownKeysNeverEvictValidOnes: a spray of random keys fills only the "not found"
// side of a full cache; every valid key stays cached and is answered without the store.
func TestCacheUnknownKeysNeverEvictValidOnes(t *testing.T) {
	src := &fakeSource{creds: map[Hash]Credential{}}
	var valid []Hash
	for i := 0; i < 200; i++ {
		h := HashOf(fmt.Sprintf("valid-%d", i))
		src.creds[h] = Credential{KeyID: fmt.Sprint(i), AppID: "a"}
		valid = append(valid, h)
	}
	c := NewCache(src.fetch, CacheOptions{PositiveTTL: time.Hour, NegativeTTL: time.Hour, StaleFor: time.Hour, MaxEntries: 64 * 8})
	ctx := context.Background()
	for _, h := range valid {
		if _, err := c.Get(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 20000; i++ {
		if _, err := c.Get(ctx, HashOf(fmt.Sprintf("spray-%d", i))); !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
	}
	before := src.calls.Load()
	for _, h := range valid {
		if cr, err := c.Get(ctx, h); err != nil || cr.AppID != "a" {
			t.Fatalf("valid key after the spray: %+v %v", cr, err)
		}
	}
	if n := src.calls.Load() - before; n != 0 {
		t.Fatalf("%d valid keys were evicted by unknown ones and asked of the store again", n)
	}
	if found, nf := c.Len(); found != len(valid) || nf > 64*2+64 {
		t.Fatalf("cache holds %d found (want %d) and %d not-found (bound %d)", found, len(valid), nf, 64*2)
	}
}

// TestCacheAdmission: a lookup the caller would wait for is asked about first; a refused one
// never reaches the store, cached answers and running lookups are not asked about.
func TestCacheAdmission(t *testing.T) {
	k := HashOf("valid")
	src := &fakeSource{creds: map[Hash]Credential{k: {AppID: "a"}}}
	now := time.Unix(1000, 0)
	c := NewCache(src.fetch, CacheOptions{PositiveTTL: time.Minute, NegativeTTL: 5 * time.Second, StaleFor: time.Hour})
	c.now = func() time.Time { return now }
	ctx := context.Background()
	asked := 0
	no := func() bool { asked++; return false }
	yes := func() bool { asked++; return true }
	if _, err := c.GetAdmitted(ctx, HashOf("unknown"), no); !errors.Is(err, ErrLookupRefused) || src.calls.Load() != 0 {
		t.Fatalf("refused lookup: %v, %d store calls", err, src.calls.Load())
	}
	if _, err := c.GetAdmitted(ctx, k, yes); err != nil || asked != 2 {
		t.Fatalf("admitted lookup: %v (asked %d)", err, asked)
	}
	if _, err := c.GetAdmitted(ctx, k, no); err != nil || asked != 2 {
		t.Fatalf("cached answer: %v (asked %d)", err, asked)
	}
	now = now.Add(2 * time.Minute) // an expired valid key is renewed without asking
	if _, err := c.GetAdmitted(ctx, k, no); err != nil || asked != 2 {
		t.Fatalf("expired valid key: %v (asked %d)", err, asked)
	}
	c.GetAdmitted(ctx, HashOf("unknown"), yes)
	now = now.Add(6 * time.Second) // an expired "not found" is asked about again
	if _, err := c.GetAdmitted(ctx, HashOf("unknown"), no); !errors.Is(err, ErrLookupRefused) {
		t.Fatalf("expired not-found: %v", err)
	}
}

func waitCalls(t *testing.T, src *fakeSource, want int64) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if src.calls.Load() >= want {
			return
		}
	}
	t.Fatalf("store asked %d times, want %d", src.calls.Load(), want)
}

func TestCacheRefreshAhead(t *testing.T) {
	k := HashOf("key-1")
	src := &fakeSource{creds: map[Hash]Credential{k: {KeyID: "k1", AppID: "a1"}}, delay: 100 * time.Millisecond}
	var mu sync.Mutex
	now := time.Unix(1000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	c := NewCache(src.fetch, CacheOptions{PositiveTTL: 30 * time.Second, NegativeTTL: 5 * time.Second, StaleFor: 10 * time.Minute})
	c.now = clock
	ctx := context.Background()
	c.Get(ctx, k)
	// In the last quarter of the TTL the cached answer is served at once, and refreshed behind.
	advance(25 * time.Second)
	start := time.Now()
	if cr, err := c.Get(ctx, k); err != nil || cr.KeyID != "k1" {
		t.Fatalf("get before expiry: %+v %v", cr, err)
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Fatalf("a fresh answer waited %s for the store", d)
	}
	waitCalls(t, src, 2)
	time.Sleep(150 * time.Millisecond) // the refresh lands
	// The refreshed answer is counted from its own fetch: still fresh past the first TTL.
	advance(10 * time.Second)
	c.Get(ctx, k)
	if n := src.calls.Load(); n != 2 {
		t.Fatalf("refreshed answer not used: %d store calls", n)
	}
	// A key revoked meanwhile is gone after one refresh, within the TTL.
	src.mu.Lock()
	delete(src.creds, k)
	src.mu.Unlock()
	advance(20 * time.Second)
	c.Get(ctx, k)
	waitCalls(t, src, 3)
	time.Sleep(150 * time.Millisecond)
	if _, err := c.Get(ctx, k); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoked key still served after its refresh: %v", err)
	}
}

func TestCacheStaleDoesNotWaitForFailingStore(t *testing.T) {
	k := HashOf("key-1")
	src := &fakeSource{creds: map[Hash]Credential{k: {KeyID: "k1", AppID: "a1"}}, delay: 100 * time.Millisecond}
	var mu sync.Mutex
	now := time.Unix(1000, 0)
	c := NewCache(src.fetch, CacheOptions{PositiveTTL: 30 * time.Second, NegativeTTL: 5 * time.Second, StaleFor: 10 * time.Minute})
	c.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	ctx := context.Background()
	c.Get(ctx, k)
	src.mu.Lock()
	src.fail = errors.New("cassandra: no hosts available")
	src.mu.Unlock()
	advance(31 * time.Second)
	// The first lookup after expiry asks the store, which fails: the stale answer is served.
	if cr, err := c.Get(ctx, k); err != nil || cr.KeyID != "k1" {
		t.Fatalf("stale answer not served: %+v %v", cr, err)
	}
	// From then on lookups do not wait for the failing store.
	start := time.Now()
	for i := 0; i < 20; i++ {
		if cr, err := c.Get(ctx, k); err != nil || cr.KeyID != "k1" {
			t.Fatalf("stale answer not served: %+v %v", cr, err)
		}
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Fatalf("stale answers waited %s for a failing store", d)
	}
	if n := src.calls.Load(); n != 2 {
		t.Fatalf("store retried within %s: %d calls", retryEvery, n)
	}
	// After retryEvery the store is retried in the background; once it is back the answer
	// is fresh again.
	src.mu.Lock()
	src.fail = nil
	src.mu.Unlock()
	advance(2 * time.Second)
	c.Get(ctx, k)
	waitCalls(t, src, 3)
	time.Sleep(150 * time.Millisecond)
	before := src.calls.Load()
	c.Get(ctx, k)
	if src.calls.Load() != before {
		t.Fatal("recovered answer not cached")
	}
	// Beyond StaleFor a failing store shows again.
	src.mu.Lock()
	src.fail = errors.New("down")
	src.mu.Unlock()
	advance(11 * time.Minute)
	c.Get(ctx, k) // fails, marks the entry
	if _, err := c.Get(ctx, k); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("answer older than StaleFor served: %v", err)
	}
}
