package proxy

import (
	"bufio"
	"bytes"
	"net/url"
	"strings"
	"testing"
)

func TestNormalizePath(t *testing.T) {
	const bad = "400"
	for _, c := range []struct{ in, reject, decode string }{
		{"/", "/", "/"},
		{"/a/b", "/a/b", "/a/b"},
		{"/a/b/", "/a/b/", "/a/b/"},
		{"/a/.well-known/x", "/a/.well-known/x", "/a/.well-known/x"},
		{"/a/...", "/a/...", "/a/..."},
		{"/caf%C3%A9/x%20y", "/caf%C3%A9/x%20y", "/caf%C3%A9/x%20y"},
		{"/public/../admin/x", "/admin/x", "/admin/x"},
		{"/public/%2e%2e/admin/x", "/admin/x", "/admin/x"},
		{"/public/%2E%2e/admin", "/admin", "/admin"},
		{"/public/.%2E/admin", "/admin", "/admin"},
		{"/public/..%2fadmin/x", bad, "/admin/x"},
		{"/public/..%2Fadmin/x", bad, "/admin/x"},
		{"/public/a%2Fb", bad, "/public/a/b"},
		{"/public/%5c..%5cadmin", bad, "/admin"},
		{"/public\\..\\admin", bad, "/admin"},
		{"/public/%252e%252e/admin", bad, bad},
		{"/public/%252E%252F", bad, bad},
		{"/public/%255c", bad, bad},
		{"/public/100%25", "/public/100%25", "/public/100%25"},
		{"/public/%2525", "/public/%2525", "/public/%2525"},
		{"/public//admin", "/public/admin", "/public/admin"},
		{"//public/x", "/public/x", "/public/x"},
		{"/public/./x", "/public/x", "/public/x"},
		{"/public/.", "/public/", "/public/"},
		{"/public/..", "/", "/"},
		{"/..", "/", "/"},
		{"/../../etc/passwd", "/etc/passwd", "/etc/passwd"},
		{"/a/b/../../../c/", "/c/", "/c/"},
		{"/a/b/./../c", "/a/c", "/a/c"},
		{"/public/..;/admin", bad, bad},
		{"/public/.;x/admin", bad, bad},
		{"/public/%2e%2e;/admin", bad, bad},
		{"/public/..x/y", "/public/..x/y", "/public/..x/y"},
		{"", bad, bad},
		{"*", bad, bad},
	} {
		for _, mode := range []struct {
			decode bool
			want   string
		}{{false, c.reject}, {true, c.decode}} {
			got, err := normalizePath(c.in, mode.decode)
			if err != nil {
				got = bad
			}
			if got != mode.want {
				t.Errorf("normalizePath(%q, decode=%v) = %q, want %q", c.in, mode.decode, got, mode.want)
			}
		}
	}
}

func TestStripEscaped(t *testing.T) {
	for _, c := range []struct{ esc, prefix, want string }{
		{"/orders", "/orders", "/"},
		{"/orders/", "/orders", "/"},
		{"/orders/7", "/orders", "/7"},
		{"/%6Frders/7", "/orders", "/7"}, // the caller escaped a letter of the prefix
		{"/v1/x/y", "/v1/", "/x/y"},
		{"/v1/", "/v1/", "/"},
		{"/a/b/c%20d", "/a/b", "/c%20d"},
		{"/x", "/", "/x"},
	} {
		if got := stripEscaped(c.esc, c.prefix); got != c.want {
			t.Errorf("stripEscaped(%q, %q) = %q, want %q", c.esc, c.prefix, got, c.want)
		}
	}
}

// TestNormalPathsDoNotAllocate: the check every request pays must be free for clean paths.
// (A path with escapes costs the one allocation url.URL.EscapedPath always made for it.)
func TestNormalPathsDoNotAllocate(t *testing.T) {
	u, _ := url.Parse("http://h/pass/10k/.well-known/a-b_c~d.json")
	if n := testing.AllocsPerRun(100, func() {
		if err := normalizeRequestPath(u, false); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("%v allocations per clean path, want 0", n)
	}
}

// forwardedPath is what a route's backend receives as the path of a request whose escaped
// path is esc, or ok false when the gateway answers itself (400, or no API at the path).
func forwardedPath(esc string, decode bool, routes *router, base map[string]string) (rt *route, fwd string, ok bool) {
	u, err := url.ParseRequestURI(esc)
	if err != nil {
		return nil, "", false
	}
	if normalizeRequestPath(u, decode) != nil {
		return nil, "", false
	}
	if rt = routes.match(u.Path); rt == nil {
		return nil, "", false
	}
	var b bytes.Buffer
	bw := bufio.NewWriter(&b)
	out := u.EscapedPath()
	if rt.strip {
		out = stripEscaped(out, rt.prefix)
	}
	writePath(bw, base[rt.name], out)
	bw.Flush()
	return rt, b.String(), true
}

// hasDotSegment reports whether p, once decoded, has a "." or ".." segment, a path-parameter
// form of one, an empty segment, or a separator that was escaped.
func hasDotSegment(p string) bool {
	if strings.Contains(p, "//") || strings.ContainsAny(p, "\\") {
		return true
	}
	for _, seg := range strings.Split(p, "/") {
		d, err := url.PathUnescape(seg)
		if err != nil || strings.ContainsAny(d, "/\\") {
			return true
		}
		d, _, _ = strings.Cut(d, ";")
		if d == "." || d == ".." {
			return true
		}
	}
	return false
}

var fuzzRoutes = []struct{ name, prefix, base string }{
	{"public", "/public", "/base"},
	{"slash", "/v1/", "/b1/"},
	{"admin", "/admin", ""},
	{"root", "/", "/root"},
}

func fuzzRouter() (*router, map[string]string) {
	var rs []*route
	base := map[string]string{}
	for _, r := range fuzzRoutes {
		rs = append(rs, &route{name: r.name, prefix: r.prefix, strip: r.name != "admin"})
		base[r.name] = r.base
	}
	return newRouter(rs), base
}

// FuzzNormalizePath checks the invariant of path handling: whatever the caller sends, the
// path a backend receives is under its route's base (and prefix, when not stripped) and holds
// no dot segment, no empty segment and no escaped separator; and normalizing is idempotent.
// Run: go test ./gateway/proxy -run '^$' -fuzz FuzzNormalizePath -fuzztime 20s (scripts/fuzz.sh).
func FuzzNormalizePath(f *testing.F) {
	for _, s := range []string{"/public/../admin/x", "/public/%2e%2e/admin/x", "/public/..%2fadmin/x",
		"/public/%2E%2e/%2e%2E/etc", "/public/%252e%252e/x", "//public//x", "/public/./x", "/v1/../v1/..;/x",
		"/public\\..\\admin", "/public/%5c..", "/a/b/c/../../..", "/public/caf%C3%A9/.well-known/"} {
		f.Add(s)
	}
	routes, base := fuzzRouter()
	f.Fuzz(func(t *testing.T, esc string) {
		for _, decode := range []bool{false, true} {
			u, err := url.ParseRequestURI(esc)
			if err != nil || !strings.HasPrefix(esc, "/") {
				return // http.Server refuses it before the handler
			}
			n, err := normalizePath(u.EscapedPath(), decode)
			if err != nil {
				continue
			}
			if again, err := normalizePath(n, decode); err != nil || again != n {
				t.Fatalf("not idempotent: %q -> %q -> %q (%v)", esc, n, again, err)
			}
			if hasDotSegment(n[1:]) && n != "/" {
				t.Fatalf("normalized %q to %q, which has a dot or empty segment", esc, n)
			}
			rt, fwd, ok := forwardedPath(esc, decode, routes, base)
			if !ok {
				continue
			}
			want := strings.TrimSuffix(base[rt.name], "/") + "/"
			if !rt.strip {
				want = strings.TrimSuffix(base[rt.name], "/") + rt.prefix
			}
			dec, err := url.PathUnescape(fwd)
			if err != nil {
				t.Fatalf("%q forwarded as %q, which does not decode: %v", esc, fwd, err)
			}
			if !strings.HasPrefix(dec, want) && dec+"/" != want {
				t.Fatalf("%q (decode=%v) forwarded to %s as %q, outside %q", esc, decode, rt.name, fwd, want)
			}
			if hasDotSegment(strings.TrimPrefix(fwd, "/")) && fwd != "/" {
				t.Fatalf("%q (decode=%v) forwarded to %s as %q, with a dot or empty segment", esc, decode, rt.name, fwd)
			}
		}
	})
}
