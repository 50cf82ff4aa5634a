package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ErrUnavailable means the store could not answer and no cached answer was recent enough.
var ErrUnavailable = errors.New("credential store unavailable")

// ErrLookupRefused means the credential is not cached and the caller's admission function
// refused the store lookup (a client over its budget of unknown credentials).
var ErrLookupRefused = errors.New("credential lookup refused")

// Fetch reads one credential from the store: ErrNotFound when it does not exist, any other
// error when the store failed.
type Fetch func(ctx context.Context, h Hash) (Credential, error)

// CacheOptions bound the staleness of cached answers.
type CacheOptions struct {
	PositiveTTL  time.Duration // a found credential is trusted this long
	NegativeTTL  time.Duration // "not found" is trusted this long
	StaleFor     time.Duration // when the store fails, answers up to this old are served
	MaxEntries   int           // bound on cached credentials that exist
	MaxNegative  int           // bound on cached "not found" answers (MaxEntries/4)
	FetchTimeout time.Duration // one store lookup, independent of the caller's context
	// Counters, optional: hit (fresh answer), miss (asked the store), stale (old answer
	// served because the store failed), refused (a lookup the admission function refused).
	Hit, Miss, Stale, Refused prometheus.Counter
}

// Cache is a credential cache in front of a Fetch, with bounded staleness. Concurrent lookups
// of the same credential share one store query. Shards keep lock contention per request low.
//
// Requests do not wait for the store while a usable answer is cached:
//   - refresh ahead: an answer in the last quarter of its TTL is still served, and one
//     background query refreshes it, so a credential in steady use never expires and its
//     callers never stall on Cassandra every TTL (the answer is still never older than TTL);
//   - while the store fails: once a query for an expired answer has failed, the answer (if
//     younger than StaleFor) is served at once and the store is retried in the background,
//     at most once per retryEvery, instead of making every request wait for a failing query.
//
// Credentials that exist and "not found" answers are kept apart, each within its own bound:
// a caller spraying random keys fills only the negative side, and can never push a valid key
// out. When a side is full, the entry fetched longest ago among a few sampled ones makes room
// (a credential in use is refreshed ahead, so it is never the oldest for long).
type Cache struct {
	opts   CacheOptions
	fetch  Fetch
	now    func() time.Time
	shards [64]cacheShard
}

type cacheShard struct {
	mu    sync.RWMutex
	found map[Hash]*cacheEntry // credentials that exist
	nf    map[Hash]*cacheEntry // "not found" answers
	calls map[Hash]*fetchCall
}

// entry returns the cached answer for h; the caller holds sh.mu.
func (sh *cacheShard) entry(h Hash) *cacheEntry {
	if e := sh.found[h]; e != nil {
		return e
	}
	return sh.nf[h]
}

type cacheEntry struct {
	cred     Credential
	found    bool
	fetched  time.Time
	failedAt atomic.Int64 // unix nanos of the last failed store query for this entry, 0 if none
}

// retryEvery is how often a failing store is retried in the background for one credential.
const retryEvery = time.Second

type fetchCall struct {
	done chan struct{}
	cred Credential
	err  error
}

// NewCache creates a cache over fetch.
func NewCache(fetch Fetch, o CacheOptions) *Cache {
	if o.FetchTimeout <= 0 {
		o.FetchTimeout = 3 * time.Second
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = 100000
	}
	if o.MaxNegative <= 0 {
		o.MaxNegative = max(o.MaxEntries/4, 64)
	}
	c := &Cache{opts: o, fetch: fetch, now: time.Now}
	for i := range c.shards {
		c.shards[i].found = map[Hash]*cacheEntry{}
		c.shards[i].nf = map[Hash]*cacheEntry{}
		c.shards[i].calls = map[Hash]*fetchCall{}
	}
	return c
}

func inc(c prometheus.Counter) {
	if c != nil {
		c.Inc()
	}
}

// Get returns the credential for h: ErrNotFound when it does not exist, ErrUnavailable when
// the store failed and nothing cached is younger than StaleFor.
func (c *Cache) Get(ctx context.Context, h Hash) (Credential, error) {
	return c.GetAdmitted(ctx, h, nil)
}

// GetAdmitted is Get, but before a lookup a caller would wait for (nothing usable cached, no
// lookup of h running), it calls admit, when not nil: false refuses the lookup
// (ErrLookupRefused), so a caller over its budget never reaches the store. Only the renewal of
// an expired valid credential is not asked about.
func (c *Cache) GetAdmitted(ctx context.Context, h Hash, admit func() bool) (Credential, error) {
	sh := &c.shards[h[0]&63]
	sh.mu.RLock()
	e := sh.entry(h)
	sh.mu.RUnlock()
	now := c.now()
	if e != nil {
		ttl := c.opts.NegativeTTL
		if e.found {
			ttl = c.opts.PositiveTTL
		}
		age := now.Sub(e.fetched)
		if age < ttl {
			inc(c.opts.Hit)
			if age >= ttl-ttl/4 && e.found {
				// Refresh ahead only what exists: a "not found" refreshed in the background
				// would let a caller repeating unknown keys query the store unasked.
				c.refresh(sh, h, e, now)
			}
			return e.answer()
		}
		if failed := e.failedAt.Load(); failed != 0 && age < c.opts.StaleFor {
			// The store already failed for this answer: serve it now, retry behind.
			inc(c.opts.Stale)
			c.refresh(sh, h, e, now)
			return e.answer()
		}
	}
	if admit != nil && (e == nil || !e.found) {
		sh.mu.RLock()
		_, running := sh.calls[h]
		sh.mu.RUnlock()
		if !running && !admit() {
			inc(c.opts.Refused)
			return Credential{}, ErrLookupRefused
		}
	}
	inc(c.opts.Miss)
	cred, err := c.load(ctx, sh, h)
	if err == nil || errors.Is(err, ErrNotFound) {
		return cred, err
	}
	if e != nil && now.Sub(e.fetched) < c.opts.StaleFor {
		inc(c.opts.Stale)
		return e.answer()
	}
	return Credential{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
}

// refresh starts a background query for h unless one is running or the store failed for e
// less than retryEvery ago. Background queries count as misses (they ask the store).
func (c *Cache) refresh(sh *cacheShard, h Hash, e *cacheEntry, now time.Time) {
	if f := e.failedAt.Load(); f != 0 && now.Sub(time.Unix(0, f)) < retryEvery {
		return
	}
	sh.mu.RLock()
	_, running := sh.calls[h]
	sh.mu.RUnlock()
	if running {
		return
	}
	inc(c.opts.Miss)
	go func() { _, _ = c.load(context.Background(), sh, h) }()
}

func (e *cacheEntry) answer() (Credential, error) {
	if !e.found {
		return Credential{}, ErrNotFound
	}
	return e.cred, nil
}

// load fetches h once for all concurrent callers and caches the answer.
func (c *Cache) load(ctx context.Context, sh *cacheShard, h Hash) (Credential, error) {
	sh.mu.Lock()
	call, running := sh.calls[h]
	if !running {
		call = &fetchCall{done: make(chan struct{})}
		sh.calls[h] = call
	}
	sh.mu.Unlock()
	if !running {
		// The store query gets its own deadline: a caller that gives up must not fail the
		// others waiting for the same answer.
		fctx, cancel := context.WithTimeout(context.Background(), c.opts.FetchTimeout)
		call.cred, call.err = c.fetch(fctx, h)
		cancel()
		sh.mu.Lock()
		delete(sh.calls, h)
		if call.err != nil && !errors.Is(call.err, ErrNotFound) {
			if e := sh.entry(h); e != nil {
				e.failedAt.Store(c.now().UnixNano())
			}
		} else {
			found := call.err == nil
			side, other, limit := sh.found, sh.nf, c.opts.MaxEntries/len(c.shards)+1
			if !found {
				side, other, limit = sh.nf, sh.found, c.opts.MaxNegative/len(c.shards)+1
			}
			delete(other, h) // a key created or revoked since the last answer
			if _, replace := side[h]; !replace && len(side) >= limit {
				evictOldest(side)
			}
			side[h] = &cacheEntry{cred: call.cred, found: found, fetched: c.now()}
		}
		sh.mu.Unlock()
		close(call.done)
	}
	select {
	case <-call.done:
		return call.cred, call.err
	case <-ctx.Done():
		return Credential{}, ctx.Err()
	}
}

// evictSample is how many entries evictOldest looks at: a map has no order, and a full scan
// per insertion would make a full cache slow; the oldest of a few random ones is close enough
// (Redis's approximated LRU does the same).
const evictSample = 8

// evictOldest removes, of a few entries of m, the one fetched longest ago.
func evictOldest(m map[Hash]*cacheEntry) {
	var victim Hash
	var oldest time.Time
	n := 0
	for k, e := range m {
		if n == 0 || e.fetched.Before(oldest) {
			victim, oldest = k, e.fetched
		}
		if n++; n == evictSample {
			break
		}
	}
	if n > 0 {
		delete(m, victim)
	}
}

// Len returns how many credentials that exist and how many "not found" answers are cached.
func (c *Cache) Len() (found, notFound int) {
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.RLock()
		found, notFound = found+len(sh.found), notFound+len(sh.nf)
		sh.mu.RUnlock()
	}
	return found, notFound
}

// Forget drops a cached answer (e.g. right after revoking a key on this process).
func (c *Cache) Forget(h Hash) {
	sh := &c.shards[h[0]&63]
	sh.mu.Lock()
	delete(sh.found, h)
	delete(sh.nf, h)
	sh.mu.Unlock()
}
