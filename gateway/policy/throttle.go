package policy

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apimctl/apimctl/gateway/store"
)

// Counters are the shared rate-limit counters (Cassandra counter table in the throttling
// keyspace, QUORUM). AddCount adds delta to bucket's counter in window and returns the new
// total; a delta of 0 only reads it.
type Counters interface {
	AddCount(ctx context.Context, bucket string, window int64, delta int64) (int64, error)
	DeleteCount(ctx context.Context, bucket string, window int64) error
}

// Throttle limits requests per fixed window (aligned on multiples of Per since the Unix epoch)
// per API key or per application, shared by all gateways of the group.
//
// Counting is batched: a request is decided locally from the last total read from Cassandra
// plus this gateway's own count since; every SyncInterval each gateway adds its local count to
// the shared counter and reads the total back. One gateway alone therefore never exceeds the
// limit; a group of N gateways may overshoot by what the other N-1 admit within one sync
// interval. This keeps Cassandra off the request path.
//
// When the counters cannot be reached for longer than FailAfter, FailOpen decides: open keeps
// counting locally (each gateway enforces the limit on its own share of traffic), closed
// answers 503.
type Throttle struct {
	API          string
	Limit        int64
	Per          time.Duration
	ByApp        bool // count per application instead of per key
	Counters     Counters
	SyncInterval time.Duration
	FailAfter    time.Duration
	FailOpen     bool
	Log          *slog.Logger
	OnSyncError  func()
	now          func() time.Time

	buckets    sync.Map     // identity -> *bucket
	failing    atomic.Int64 // unix nanos when syncs started failing; 0 when healthy
	stopOnce   sync.Once
	stop, done chan struct{}
}

type bucket struct {
	name    string // Cassandra bucket: api|key|<id> or api|app|<id>
	mu      sync.Mutex
	window  int64
	global  int64 // last total read from Cassandra for window (includes our synced counts)
	local   int64 // admitted here, not yet added to Cassandra
	pending int64 // being added right now
	used    bool  // admitted something in window
}

// Start starts the sync loop.
func (t *Throttle) Start() {
	if t.now == nil {
		t.now = time.Now
	}
	if t.SyncInterval <= 0 {
		t.SyncInterval = 100 * time.Millisecond
	}
	if t.FailAfter <= 0 {
		t.FailAfter = max(time.Second, 10*t.SyncInterval)
	}
	if t.Log == nil {
		t.Log = slog.Default()
	}
	t.stop, t.done = make(chan struct{}), make(chan struct{})
	go t.loop()
}

// Stop stops the sync loop after a last sync of pending counts.
func (t *Throttle) Stop() {
	t.stopOnce.Do(func() {
		close(t.stop)
		<-t.done
	})
}

// Name is the policy name for metrics.
func (t *Throttle) Name() string { return "ratelimit" }

func (t *Throttle) windowOf(now time.Time) int64 { return now.Unix() / int64(t.Per/time.Second) }

// Allow admits or rejects one request of id.
func (t *Throttle) Allow(id Identity) *Rejection {
	who, kind := id.KeyID, "key"
	if t.ByApp {
		who, kind = id.AppID, "app"
	}
	if who == "" {
		// No identity (the auth policy failed open): nothing to count by.
		return nil
	}
	v, ok := t.buckets.Load(who)
	if !ok {
		v, _ = t.buckets.LoadOrStore(who, &bucket{name: t.API + "|" + kind + "|" + who})
	}
	b := v.(*bucket)
	now := t.now()
	w := t.windowOf(now)
	if f := t.failing.Load(); f != 0 && !t.FailOpen && now.Sub(time.Unix(0, f)) > t.FailAfter {
		return storeDownThrottle
	}
	b.mu.Lock()
	if b.window != w {
		b.window, b.global, b.local, b.pending, b.used = w, 0, 0, 0, false
	}
	if b.global+b.local+b.pending >= t.Limit {
		b.mu.Unlock()
		end := time.Unix((w+1)*int64(t.Per/time.Second), 0)
		return &Rejection{Status: http.StatusTooManyRequests, Code: "rate_limited",
			Message:    "rate limit of " + strconv.FormatInt(t.Limit, 10) + " requests per " + t.Per.String() + " exceeded",
			Reason:     "rate_limited",
			RetryAfter: int(end.Sub(now)/time.Second) + 1}
	}
	b.local++
	b.used = true
	b.mu.Unlock()
	return nil
}

var storeDownThrottle = &Rejection{Status: http.StatusServiceUnavailable, Code: "rate_limit_store_unavailable",
	Message: "the rate-limit store cannot be reached; retry later", Reason: "store_unavailable"}

func (t *Throttle) loop() {
	defer close(t.done)
	tick := time.NewTicker(t.SyncInterval)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			t.syncAll()
			return
		case <-tick.C:
			t.syncAll()
		}
	}
}

// syncAll adds local counts to Cassandra and refreshes the totals of buckets in use, with
// bounded parallelism.
func (t *Throttle) syncAll() {
	cur := t.windowOf(t.now())
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	var okAny, failAny atomic.Bool
	t.buckets.Range(func(k, v any) bool {
		b := v.(*bucket)
		b.mu.Lock()
		w, delta, used := b.window, b.local, b.used
		if w < cur-1 && delta == 0 {
			// Long idle: forget it, and remove its finished window from Cassandra
			// (counter rows cannot expire by TTL).
			b.mu.Unlock()
			t.buckets.Delete(k)
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				_ = t.Counters.DeleteCount(ctx, b.name, w)
				cancel()
			}()
			return true
		}
		if delta == 0 && (!used || w != cur) {
			b.mu.Unlock()
			return true
		}
		b.local -= delta
		b.pending += delta
		b.mu.Unlock()
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			total, err := t.Counters.AddCount(ctx, b.name, w, delta)
			cancel()
			b.mu.Lock()
			if b.window == w {
				b.pending -= delta
				switch {
				case err == nil:
					b.global = total
				case errors.Is(err, store.ErrCountUnknown):
					b.global += delta // it may have counted: never send it twice
				default:
					b.local += delta // it did not count: add it again at the next sync
				}
			}
			b.mu.Unlock()
			if err != nil {
				failAny.Store(true)
				if t.OnSyncError != nil {
					t.OnSyncError()
				}
			} else {
				okAny.Store(true)
			}
		}()
		return true
	})
	wg.Wait()
	if !failAny.Load() && !okAny.Load() && t.failing.Load() != 0 {
		// Nothing to sync while failing: probe, or a closed throttle would never recover.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if _, err := t.Counters.AddCount(ctx, t.API+"|probe", cur, 0); err == nil {
			okAny.Store(true)
		}
		cancel()
	}
	switch {
	case failAny.Load() && !okAny.Load():
		if t.failing.CompareAndSwap(0, t.now().UnixNano()) {
			t.Log.Warn("rate-limit counters unreachable; counting locally", "api", t.API, "failOpen", t.FailOpen)
		}
	case okAny.Load():
		if t.failing.Swap(0) != 0 {
			t.Log.Info("rate-limit counters reachable again", "api", t.API)
		}
	}
}
