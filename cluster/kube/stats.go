package kube

import (
	"net/http"
	"strings"
	"sync/atomic"
)

// RequestStats counts the requests a client made, by kind. A LIST is a GET of a collection
// without watch=true; the console's promise is none while idle after its informers synced.
type RequestStats struct {
	List, Watch, Get, Write atomic.Int64
}

type countingTransport struct {
	next  http.RoundTripper
	stats *RequestStats
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	switch {
	case r.Method != http.MethodGet:
		t.stats.Write.Add(1)
	case r.URL.Query().Get("watch") == "true" || r.URL.Query().Get("watch") == "1":
		t.stats.Watch.Add(1)
	case isCollection(r.URL.Path):
		t.stats.List.Add(1)
	default:
		t.stats.Get.Add(1)
	}
	return t.next.RoundTrip(r)
}

// isCollection tells /api/v1/namespaces/x/pods (a collection) from …/pods/name (an object).
// Paths: /api/v1[/namespaces/NS]/RES[/NAME[/SUB]] and /apis/G/V[/namespaces/NS]/RES[/NAME[/SUB]].
func isCollection(path string) bool {
	p := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(p) >= 2 && p[0] == "api":
		p = p[2:]
	case len(p) >= 3 && p[0] == "apis":
		p = p[3:]
	default:
		return false
	}
	if len(p) >= 2 && p[0] == "namespaces" {
		if len(p) == 2 {
			return true // the namespaces collection's member: /namespaces/NS is an object, but…
		}
		p = p[2:]
	}
	return len(p) == 1
}

// WrappedRoundTripper lets client-go reach the transport underneath (to cancel requests).
func (t *countingTransport) WrappedRoundTripper() http.RoundTripper { return t.next }
