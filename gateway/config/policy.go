package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

// Policy names an API's access policy.
type Policy string

// The policies an API can use.
const (
	Passthrough Policy = "passthrough" // no credential: the request goes straight to the backend
	APIKey      Policy = "apikey"      // KeyId or X-API-Key header, looked up in Cassandra
	OAuth       Policy = "oauth"       // Authorization: Bearer token issued by the API Manager
)

// StoreFailure says what a gateway does when Cassandra cannot answer and no cached answer is
// usable: refuse (closed) or let the request through (open).
type StoreFailure string

// The store-failure modes.
const (
	FailClosed StoreFailure = "closed"
	FailOpen   StoreFailure = "open"
)

// PolicyPackage is the gateway group's policy package: the APIs and how they are guarded.
type PolicyPackage struct {
	// OnStoreFailure applies when Cassandra is unreachable and the cache holds no usable
	// answer (older than cache.staleFor): closed answers 503, open lets traffic through
	// unauthenticated (API key / OAuth) or unthrottled. Default closed.
	OnStoreFailure StoreFailure     `yaml:"onStoreFailure"`
	Cache          CacheSettings    `yaml:"cache"`
	Throttle       ThrottleSettings `yaml:"throttle"`
	Paths          PathSettings     `yaml:"paths"`
	LookupLimit    LookupLimit      `yaml:"lookupLimit"`
	APIs           []API            `yaml:"apis" cfg:"required"`

	File  string         `yaml:"-"`
	lines map[string]int `yaml:"-"`
}

// CacheSettings bound how stale a credential answer may be.
type CacheSettings struct {
	PositiveTTL time.Duration `yaml:"positiveTTL"` // a found key/token is trusted this long (30s)
	NegativeTTL time.Duration `yaml:"negativeTTL"` // an unknown key is remembered this long (5s)
	StaleFor    time.Duration `yaml:"staleFor"`    // when Cassandra fails, serve answers up to this old (10m)
	MaxEntries  int           `yaml:"maxEntries"`  // bound on cached credentials (100000)
}

// LookupLimit bounds how many keys or tokens the gateway has not cached a caller can make it
// look up in Cassandra: an attacker spraying random keys gets 429 once it has spent its
// budget, instead of a Cassandra query per request. A lookup that finds a valid credential
// is not counted.
type LookupLimit struct {
	PerClient float64 `yaml:"perClient"` // unknown credentials per second and client (10)
	Burst     int     `yaml:"burst"`     // a client's allowance at once (20)
	Total     float64 `yaml:"total"`     // per second for the whole gateway, all clients (500)
	// TrustedProxies are the load balancers (CIDRs) whose X-Forwarded-For names the client;
	// behind an ingress, list its pods' range, or every caller counts as the ingress.
	TrustedProxies []string `yaml:"trustedProxies"`

	TrustedNets []netip.Prefix `yaml:"-"`
}

// ThrottleSettings tune how rate-limit counters are shared through Cassandra.
type ThrottleSettings struct {
	// SyncInterval is how often a gateway adds its local counts to the shared Cassandra
	// counters and reads the totals back (100ms). Between syncs each gateway counts locally,
	// so a group may overshoot a limit by at most (gateways-1) × requests served per interval.
	SyncInterval time.Duration `yaml:"syncInterval"`
}

// EscapedSlashes says what the gateway does with a path segment holding an encoded slash
// (%2F), an encoded or raw backslash (%5C, \), the separators that let "..%2f" climb out of an
// API's base on backends that decode them (Envoy's path_with_escaped_slashes_action).
type EscapedSlashes string

// The escaped-slash actions.
const (
	// RejectEscapedSlashes answers 400 (the default): no backend ever sees one.
	RejectEscapedSlashes EscapedSlashes = "reject"
	// DecodeEscapedSlashes turns them into "/" and normalizes the path again, so they route
	// and forward as the separators they stand for.
	DecodeEscapedSlashes EscapedSlashes = "decode"
)

// PathSettings say how request paths are normalized before routing, policy and forwarding.
// Dot segments (".", "..", also written %2e) are always resolved (RFC 3986 §5.2.4) and
// repeated slashes merged; only the escaped-slash action is a choice.
type PathSettings struct {
	EscapedSlashes EscapedSlashes `yaml:"escapedSlashes"` // reject (default) or decode
}

// API is one API of the policy package.
type API struct {
	Name        string        `yaml:"name" cfg:"required"`
	Path        string        `yaml:"path" cfg:"required"`    // path prefix, e.g. /orders
	Backend     string        `yaml:"backend" cfg:"required"` // backend base URL
	Policy      Policy        `yaml:"policy" cfg:"required"`
	StripPrefix bool          `yaml:"stripPrefix"` // remove Path before forwarding
	Timeout     time.Duration `yaml:"timeout"`     // backend response-header timeout (30s)
	RateLimit   *RateLimit    `yaml:"rateLimit"`

	BackendURL *url.URL `yaml:"-"`
}

// RateLimit allows Requests per Per, counted per API key or per application.
type RateLimit struct {
	Requests int64         `yaml:"requests" cfg:"required"`
	Per      time.Duration `yaml:"per" cfg:"required"`
	By       string        `yaml:"by"` // key (default) or application
}

// Line returns the line of a field path in the package file, 0 if unknown.
func (p *PolicyPackage) Line(field string) int { return p.lines[field] }

var apiName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// LoadPolicyPackage reads, fills and validates a policy package.
func LoadPolicyPackage(file string, lookup Lookup) (*PolicyPackage, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read policy package: %w", err)
	}
	return ParsePolicyPackage(file, data, lookup)
}

// ParsePolicyPackage parses policy package text; file names it in errors.
func ParsePolicyPackage(file string, data []byte, lookup Lookup) (*PolicyPackage, error) {
	var p PolicyPackage
	lines, err := decodeFile(file, data, lookup, &p)
	if err != nil {
		return nil, err
	}
	p.File, p.lines = file, lines
	p.defaults()
	if err := p.validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

func (p *PolicyPackage) defaults() {
	if p.OnStoreFailure == "" {
		p.OnStoreFailure = FailClosed
	}
	if p.Cache.PositiveTTL == 0 {
		p.Cache.PositiveTTL = 30 * time.Second
	}
	if p.Cache.NegativeTTL == 0 {
		p.Cache.NegativeTTL = 5 * time.Second
	}
	if p.Cache.StaleFor == 0 {
		p.Cache.StaleFor = 10 * time.Minute
	}
	if p.Cache.MaxEntries == 0 {
		p.Cache.MaxEntries = 100000
	}
	if p.Throttle.SyncInterval == 0 {
		p.Throttle.SyncInterval = 100 * time.Millisecond
	}
	if p.Paths.EscapedSlashes == "" {
		p.Paths.EscapedSlashes = RejectEscapedSlashes
	}
	if l := &p.LookupLimit; l.PerClient == 0 {
		l.PerClient = 10
	}
	if l := &p.LookupLimit; l.Burst == 0 {
		l.Burst = 20
	}
	if l := &p.LookupLimit; l.Total == 0 {
		l.Total = 500
	}
	for i := range p.APIs {
		a := &p.APIs[i]
		if a.Timeout == 0 {
			a.Timeout = 30 * time.Second
		}
		if a.RateLimit != nil && a.RateLimit.By == "" {
			a.RateLimit.By = "key"
		}
	}
}

func (p *PolicyPackage) validate() error {
	var es Errors
	bad := func(field, format string, args ...any) {
		es = append(es, &FieldError{File: p.File, Field: field, Line: p.lines[field], Msg: fmt.Sprintf(format, args...)})
	}
	switch p.OnStoreFailure {
	case FailOpen, FailClosed:
	default:
		bad("onStoreFailure", "unknown value %q (use open or closed)", p.OnStoreFailure)
	}
	if p.Cache.PositiveTTL < 0 || p.Cache.NegativeTTL < 0 || p.Cache.StaleFor < 0 || p.Cache.MaxEntries < 0 {
		bad("cache", "durations and sizes must not be negative")
	}
	if p.Cache.StaleFor < p.Cache.PositiveTTL {
		bad("cache.staleFor", "%s is shorter than positiveTTL %s", p.Cache.StaleFor, p.Cache.PositiveTTL)
	}
	if p.Throttle.SyncInterval < 10*time.Millisecond {
		bad("throttle.syncInterval", "%s is too short (at least 10ms)", p.Throttle.SyncInterval)
	}
	switch p.Paths.EscapedSlashes {
	case RejectEscapedSlashes, DecodeEscapedSlashes:
	default:
		bad("paths.escapedSlashes", "unknown value %q (use reject or decode)", p.Paths.EscapedSlashes)
	}
	if l := &p.LookupLimit; l.PerClient < 0 || l.Burst < 0 || l.Total < 0 {
		bad("lookupLimit", "rates and burst must be positive")
	} else if l.Total < l.PerClient {
		bad("lookupLimit.total", "%g per second is below perClient %g", l.Total, l.PerClient)
	}
	for i, c := range p.LookupLimit.TrustedProxies {
		n, err := netip.ParsePrefix(strings.TrimSpace(c))
		if err != nil {
			if a, aerr := netip.ParseAddr(strings.TrimSpace(c)); aerr == nil {
				n, err = a.Prefix(a.BitLen())
			}
		}
		if err != nil {
			bad(fmt.Sprintf("lookupLimit.trustedProxies[%d]", i), "%q is not an address or CIDR (e.g. 10.244.0.0/16)", c)
			continue
		}
		p.LookupLimit.TrustedNets = append(p.LookupLimit.TrustedNets, n.Masked())
	}
	if len(p.APIs) == 0 {
		bad("apis", "no API defined")
	}
	names, paths := map[string]int{}, map[string]int{}
	for i := range p.APIs {
		a := &p.APIs[i]
		f := func(name string) string { return fmt.Sprintf("apis[%d].%s", i, name) }
		if !apiName.MatchString(a.Name) {
			bad(f("name"), "%q is not a valid API name (letters, digits, . _ -, at most 64)", a.Name)
		} else if j, dup := names[a.Name]; dup {
			bad(f("name"), "%q is already the name of apis[%d]", a.Name, j)
		}
		names[a.Name] = i
		if !strings.HasPrefix(a.Path, "/") || strings.ContainsAny(a.Path, "?# ") {
			bad(f("path"), "%q must start with / and hold no query, fragment or space", a.Path)
		} else if !normalPath(a.Path) {
			bad(f("path"), "%q is not a normalized path: write it decoded, without %%, \\, // or . and .. segments", a.Path)
		} else if a.Path == "/healthcheck" || strings.HasPrefix(a.Path, "/healthcheck/") {
			bad(f("path"), "%q is reserved for the gateway's health checks", a.Path)
		} else if j, dup := paths[a.Path]; dup {
			bad(f("path"), "%q is already the path of apis[%d]", a.Path, j)
		}
		paths[a.Path] = i
		u, err := url.Parse(a.Backend)
		shown := RedactURL(a.Backend)
		switch {
		case err != nil:
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // without the URL, which may hold a password
			}
			bad(f("backend"), "%q is not a URL: %v", shown, err)
		case u.Scheme != "http" && u.Scheme != "https":
			bad(f("backend"), "%q must be an http:// or https:// URL", shown)
		case u.Host == "":
			bad(f("backend"), "%q has no host", shown)
		case u.RawQuery != "" || u.Fragment != "":
			bad(f("backend"), "%q must not have a query or fragment", shown)
		default:
			a.BackendURL = u
		}
		switch a.Policy {
		case Passthrough, APIKey, OAuth:
		default:
			bad(f("policy"), "unknown policy %q (use passthrough, apikey or oauth)", a.Policy)
		}
		if a.Timeout < 0 {
			bad(f("timeout"), "must not be negative")
		}
		if rl := a.RateLimit; rl != nil {
			if rl.Requests <= 0 {
				bad(f("rateLimit.requests"), "must be at least 1, got %d", rl.Requests)
			}
			if rl.Per < time.Second || rl.Per%time.Second != 0 {
				bad(f("rateLimit.per"), "%s must be a whole number of seconds, at least 1s", rl.Per)
			}
			if rl.By != "key" && rl.By != "application" {
				bad(f("rateLimit.by"), "unknown value %q (use key or application)", rl.By)
			}
			if a.Policy == Passthrough {
				bad(f("rateLimit"), "a passthrough API has no caller identity to count by; use policy apikey or oauth")
			}
		}
	}
	return es.err()
}

// normalPath reports whether an API's path is what the gateway routes on: requests are
// normalized before routing, so a path with a dot segment, "//", a backslash or an escape
// could never match.
func normalPath(p string) bool {
	if strings.ContainsAny(p, "%\\") || strings.Contains(p, "//") {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// NeedsStore reports whether any API needs Cassandra (credentials or counters).
func (p *PolicyPackage) NeedsStore() bool {
	for _, a := range p.APIs {
		if a.Policy != Passthrough || a.RateLimit != nil {
			return true
		}
	}
	return false
}
