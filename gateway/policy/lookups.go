package policy

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/apimctl/apimctl/gateway/store"
)

// LookupBudget bounds the credential lookups that callers can make the gateway send to
// Cassandra with keys or tokens it has not cached: per client (token bucket, refilled at
// PerClient per second up to Burst) and for the whole gateway (Total per second). A lookup
// that finds a valid credential is given back, so only unknown credentials are counted: a
// client spraying random API keys is answered 429 without a query once its budget is spent,
// while the keys in use, cached, are served as before (store.Cache keeps them apart from the
// "not found" answers the spray leaves).
//
// The client is the peer's IP address (an IPv6 address by its /64, which one host usually
// has whole); behind a load balancer listed in TrustedProxies, the rightmost address of
// X-Forwarded-For that is not one of them.
type LookupBudget struct {
	perClient, total float64 // tokens per second
	burst, totalMax  float64
	trusted          []netip.Prefix
	maxClients       int
	now              func() time.Time

	mu      sync.Mutex
	clients map[string]*tokens
	all     tokens
}

type tokens struct {
	n    float64
	last time.Time
}

// LookupBudgetOptions configure a LookupBudget.
type LookupBudgetOptions struct {
	PerClient      float64 // lookups of unknown credentials per second and client
	Burst          int     // a client's bucket size
	Total          float64 // per second for the whole gateway; its bucket holds one second
	TrustedProxies []netip.Prefix
	MaxClients     int // clients tracked at once (65536)
}

// NewLookupBudget returns a budget with full buckets.
func NewLookupBudget(o LookupBudgetOptions) *LookupBudget {
	if o.MaxClients <= 0 {
		o.MaxClients = 65536
	}
	b := &LookupBudget{perClient: o.PerClient, total: o.Total, burst: float64(max(o.Burst, 1)),
		totalMax: max(o.Total, 1), trusted: o.TrustedProxies, maxClients: o.MaxClients, now: time.Now,
		clients: map[string]*tokens{}}
	b.all = tokens{n: b.totalMax, last: b.now()}
	return b
}

// refill adds what accrued since t.last, up to max.
func (t *tokens) refill(now time.Time, rate, max float64) {
	if d := now.Sub(t.last).Seconds(); d > 0 {
		t.n = min(max, t.n+d*rate)
	}
	t.last = now
}

// take spends one lookup of client's budget and the gateway's; false when either is spent.
func (b *LookupBudget) take(client string) bool {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.clients[client]
	if c == nil {
		if len(b.clients) >= b.maxClients {
			b.forgetFull(now)
		}
		c = &tokens{n: b.burst, last: now}
		b.clients[client] = c
	}
	c.refill(now, b.perClient, b.burst)
	b.all.refill(now, b.total, b.totalMax)
	if c.n < 1 || b.all.n < 1 {
		return false
	}
	c.n--
	b.all.n--
	return true
}

// refund gives back a lookup that found a valid credential.
func (b *LookupBudget) refund(client string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c := b.clients[client]; c != nil {
		c.n = min(b.burst, c.n+1)
	}
	b.all.n = min(b.totalMax, b.all.n+1)
}

// forgetFull drops the clients whose bucket has refilled (they are as a new client would
// be); when every tracked client is still spending, arbitrary ones, so memory stays bounded
// (a caller rotating through more addresses than that is still held by the total).
func (b *LookupBudget) forgetFull(now time.Time) {
	for k, c := range b.clients {
		if c.n+now.Sub(c.last).Seconds()*b.perClient >= b.burst {
			delete(b.clients, k)
		}
	}
	for k := range b.clients {
		if len(b.clients) < b.maxClients*3/4 {
			break
		}
		delete(b.clients, k)
	}
}

// Client names the caller of r for the budget.
func (b *LookupBudget) Client(r *http.Request) string {
	peer := addrOf(r.RemoteAddr)
	if !peer.IsValid() {
		return r.RemoteAddr
	}
	if b.isTrusted(peer) {
		// The load balancer appends the address it saw: read from the right, past the
		// trusted hops; the first other one is the client (anything left of it the client
		// may have forged).
		xff := r.Header["X-Forwarded-For"]
		for i := len(xff) - 1; i >= 0; i-- {
			parts := strings.Split(xff[i], ",")
			for j := len(parts) - 1; j >= 0; j-- {
				a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
				if err != nil {
					return clientKey(peer) // garbage from a trusted hop: count it as the hop's
				}
				a = a.Unmap()
				if !b.isTrusted(a) {
					return clientKey(a)
				}
				peer = a
			}
		}
	}
	return clientKey(peer)
}

func (b *LookupBudget) isTrusted(a netip.Addr) bool {
	for _, p := range b.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func addrOf(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// clientKey is an IPv4 address, or the /64 of an IPv6 one.
func clientKey(a netip.Addr) string {
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// lookup resolves h through creds, within the caller's budget when there is one. The
// budget applies to store.Cache, called directly: through an interface the admission
// closure would escape to the heap, an allocation on every request.
func lookup(r *http.Request, creds Credentials, budget *LookupBudget, h store.Hash) (store.Credential, error) {
	cache, ok := creds.(*store.Cache)
	if budget == nil || !ok {
		return creds.Get(r.Context(), h)
	}
	var client string
	taken := false
	cred, err := cache.GetAdmitted(r.Context(), h, func() bool {
		client = budget.Client(r)
		taken = budget.take(client)
		return taken
	})
	if taken && err == nil {
		budget.refund(client) // a valid credential costs nothing
	}
	return cred, err
}

var lookupRefused = &Rejection{Status: http.StatusTooManyRequests, Code: "too_many_unknown_credentials",
	Message: "too many unknown keys or tokens from this client; retry later", Reason: "lookup_limited", RetryAfter: 1}

// lookupFailed answers a failed credential lookup: notFound for an unknown credential, 429
// past the lookup budget, and 503 when the store did not answer — or nothing (nil: let the
// request through) when the policy fails open.
func lookupFailed(err error, failOpen bool, notFound *Rejection) *Rejection {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFound
	case errors.Is(err, store.ErrLookupRefused):
		return lookupRefused
	case failOpen:
		return nil
	}
	return storeDown
}
