package adminauth

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRequire(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	const tok = "0123456789abcdef0123"
	for _, c := range []struct {
		token, header string
		want          int
	}{
		{tok, "", 401},
		{tok, "Bearer " + tok, 204},
		{tok, "bearer " + tok, 204},
		{tok, "Bearer " + tok + "x", 401},
		{tok, "Bearer " + tok[:10], 401},
		{tok, "Basic " + tok, 401},
		{tok, tok, 401},
		{"", "", 503},        // no token configured: nobody gets in
		{"", "Bearer ", 503}, // not even with an empty one
		{"", "Bearer anything", 503},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/api/applications", nil)
		if c.header != "" {
			req.Header.Set("Authorization", c.header)
		}
		Require(c.token, "apimgr", ok).ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("token %q header %q: %d, want %d", c.token, c.header, rec.Code, c.want)
		}
		if c.want == 401 && rec.Header().Get("WWW-Authenticate") != `Bearer realm="apimgr"` {
			t.Errorf("401 without the challenge: %v", rec.Header())
		}
	}
}
