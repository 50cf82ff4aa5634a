package store

import (
	"context"
	"errors"
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
	n := 0
	for i := range c.shards {
		n += len(c.shards[i].entries)
	}
	if n > 640+64 {
		t.Fatalf("cache holds %d entries, bound 640", n)
	}
}
