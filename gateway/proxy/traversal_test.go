package proxy

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apimctl/apimctl/gateway/config"
	"github.com/apimctl/apimctl/gateway/metrics"
	"github.com/apimctl/apimctl/gateway/policy"
	"github.com/apimctl/apimctl/gateway/store"
)

// recordingBackend is a real loopback backend that notes every request target it receives.
type recordingBackend struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newRecordingBackend(t *testing.T) *recordingBackend {
	b := &recordingBackend{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.seen = append(b.seen, r.RequestURI)
		b.mu.Unlock()
		fmt.Fprint(w, r.RequestURI)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *recordingBackend) take() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.seen
	b.seen = nil
	return s
}

// TraversalCase is one hostile path and what the gateway must do with it: the status, and
// for a forwarded request the target the backend of that API receives.
type TraversalCase struct {
	Path           string
	Status         int    // with escapedSlashes reject (the default)
	Public         string // what the /public API's backend receives, "" if nothing
	DecodeStatus   int    // with escapedSlashes decode
	DecodedForward string // what the /public backend receives then
}

// TraversalCases are shared with the lab test (which sends them through the lab's gateways).
// The /public API strips its prefix onto the backend base /base; /admin needs an API key.
var TraversalCases = []TraversalCase{
	{"/public/x", 200, "/base/x", 200, "/base/x"},
	{"/public/../admin/x", 401, "", 401, ""},
	{"/public/%2e%2e/admin/x", 401, "", 401, ""},
	{"/public/%2E%2e/admin/x", 401, "", 401, ""},
	{"/public/..%2fadmin/x", 400, "", 401, ""},
	{"/public/..%2Fadmin/x", 400, "", 401, ""},
	{"/public/a%2Fb", 400, "", 200, "/base/a/b"},
	{"/public/%5c..%5cadmin", 400, "", 401, ""},
	{"/public/%252e%252e/admin/x", 400, "", 400, ""},
	{"/public/%252e%252e%252fadmin", 400, "", 400, ""},
	{"/public//x", 200, "/base/x", 200, "/base/x"},
	{"//public/x", 200, "/base/x", 200, "/base/x"},
	{"/public/./x", 200, "/base/x", 200, "/base/x"},
	{"/public/%2e/x", 200, "/base/x", 200, "/base/x"},
	{"/public/a/b/../c", 200, "/base/a/c", 200, "/base/a/c"},
	{"/public/a/../../admin/x", 401, "", 401, ""},
	{"/public/..", 404, "", 404, ""},
	{"/public/%2e%2e/%2e%2e/etc/passwd", 404, "", 404, ""},
	{"/public/..;/admin/x", 400, "", 400, ""},
	{"/public/x?q=../y", 200, "/base/x?q=../y", 200, "/base/x?q=../y"},
}

// hasRawDotSegment reports whether a request target's path, decoded once, has a dot segment
// or an escaped separator.
func hasRawDotSegment(target string) bool {
	p, _, _ := strings.Cut(target, "?")
	return hasDotSegment(strings.TrimPrefix(p, "/"))
}

// TestTraversalNeverReachesABackend sends each case as raw bytes (no client normalizes it)
// to a gateway in front of two real loopback backends, without a body (the gateway's own
// client) and with one (ReverseProxy), in both escaped-slash modes: no backend ever receives
// a dot segment, the /public backend nothing outside /base/, the /admin one nothing without
// the API key its policy asks for.
func TestTraversalNeverReachesABackend(t *testing.T) {
	public, admin := newRecordingBackend(t), newRecordingBackend(t)
	keys := creds{store.HashOf("k1"): {KeyID: "k1", AppID: "a", APIs: []string{"admin"}}}
	routes := []Route{
		passRoute("public", "/public", public.URL+"/base", true),
		{API: api("admin", "/admin", admin.URL, config.APIKey, false), Guard: &policy.APIKey{API: "admin", Creds: keys}},
	}
	for _, mode := range []config.EscapedSlashes{config.RejectEscapedSlashes, config.DecodeEscapedSlashes} {
		h := NewHandler(Options{Routes: routes, Metrics: metrics.New("g", "v"), EscapedSlashes: mode,
			Upstream: config.Upstream{MaxIdleConnsPerHost: 8, IdleConnTimeout: time.Minute, DialTimeout: time.Second}})
		srv := httptest.NewUnstartedServer(h)
		srv.Listener = CorkListener(srv.Listener, time.Minute)
		srv.Config.ConnContext = ConnContext
		srv.Start()
		addr := srv.Listener.Addr().String()
		for _, c := range TraversalCases {
			status, want := c.Status, c.Public
			if mode == config.DecodeEscapedSlashes {
				status, want = c.DecodeStatus, c.DecodedForward
			}
			for _, head := range []string{
				"GET " + c.Path + " HTTP/1.1\r\nHost: api.example\r\nConnection: close\r\n\r\n",
				"POST " + c.Path + " HTTP/1.1\r\nHost: api.example\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}",
			} {
				resp, body := rawGet(t, addr, head)
				if resp.StatusCode != status {
					t.Errorf("%s %s: status %d, want %d (%s)", mode, strings.Fields(head)[0]+" "+c.Path, resp.StatusCode, status, body)
				}
				got := public.take()
				switch {
				case want == "" && len(got) > 0:
					t.Errorf("%s %s: the public backend received %q", mode, c.Path, got)
				case want != "" && (len(got) != 1 || got[0] != want):
					t.Errorf("%s %s: the public backend received %q, want %q", mode, c.Path, got, want)
				}
				for _, g := range got {
					if !strings.HasPrefix(g, "/base/") || hasRawDotSegment(g) {
						t.Errorf("%s %s: the public backend received %q, outside /base/ or with a dot segment", mode, c.Path, g)
					}
				}
				if got := admin.take(); len(got) > 0 {
					t.Errorf("%s %s: the admin backend was reached without a key: %q", mode, c.Path, got)
				}
			}
		}
		// With the key, a traversal into /admin reaches it on its normalized path.
		resp, _ := rawGet(t, addr, "GET /public/%2e%2e/admin/x HTTP/1.1\r\nHost: a\r\nKeyId: k1\r\nConnection: close\r\n\r\n")
		if got := admin.take(); resp.StatusCode != 200 || len(got) != 1 || got[0] != "/admin/x" {
			t.Errorf("%s: keyed traversal: %d, admin backend saw %q, want /admin/x", mode, resp.StatusCode, got)
		}
		srv.Close()
	}
}
