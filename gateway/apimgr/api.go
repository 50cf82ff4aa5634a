// Package apimgr is the API Manager role's REST API: APIs, applications, API keys, OAuth
// clients, and the OAuth 2.0 token endpoint (client-credentials grant), all kept in Cassandra.
package apimgr

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/apimctl/apimctl/gateway/adminauth"
	"github.com/apimctl/apimctl/gateway/proxy"
	"github.com/apimctl/apimctl/gateway/store"
)

// Store is what the API Manager needs from Cassandra.
type Store interface {
	PutAPI(ctx context.Context, a store.APIRecord) error
	GetAPI(ctx context.Context, name string) (store.APIRecord, error)
	ListAPIs(ctx context.Context) ([]store.APIRecord, error)
	DeleteAPI(ctx context.Context, name string) error
	PutApplication(ctx context.Context, a store.Application) error
	GetApplication(ctx context.Context, id string) (store.Application, error)
	ListApplications(ctx context.Context) ([]store.Application, error)
	DeleteApplication(ctx context.Context, id string) error
	CreateKey(ctx context.Context, appID string) (store.KeyInfo, string, error)
	ListKeys(ctx context.Context, appID string) ([]store.KeyInfo, error)
	DeleteKey(ctx context.Context, appID, keyID string) error
	CreateOAuthClient(ctx context.Context, appID string, lifetime time.Duration) (store.OAuthClient, string, error)
	AuthenticateClient(ctx context.Context, clientID, secret string) (store.OAuthClient, bool, error)
	IssueToken(ctx context.Context, cl store.OAuthClient, lifetime time.Duration) (string, time.Time, error)
}

var _ Store = (*store.Cassandra)(nil)

// Server is the management API.
type Server struct {
	Store         Store
	AdminToken    string        // required as Bearer on the management endpoints; empty refuses everyone
	TokenLifetime time.Duration // default for new OAuth clients
	Log           *slog.Logger
}

// Mount adds the routes to mux.
func (s *Server) Mount(mux *http.ServeMux) {
	a := s.admin
	mux.Handle("GET /api/apis", a(s.listAPIs))
	mux.Handle("POST /api/apis", a(s.putAPI))
	mux.Handle("GET /api/apis/{name}", a(s.getAPI))
	mux.Handle("DELETE /api/apis/{name}", a(s.deleteAPI))
	mux.Handle("GET /api/applications", a(s.listApps))
	mux.Handle("POST /api/applications", a(s.createApp))
	mux.Handle("GET /api/applications/{id}", a(s.getApp))
	mux.Handle("PUT /api/applications/{id}", a(s.updateApp))
	mux.Handle("DELETE /api/applications/{id}", a(s.deleteApp))
	mux.Handle("GET /api/applications/{id}/keys", a(s.listKeys))
	mux.Handle("POST /api/applications/{id}/keys", a(s.createKey))
	mux.Handle("DELETE /api/applications/{id}/keys/{keyId}", a(s.deleteKey))
	mux.Handle("POST /api/applications/{id}/oauth-clients", a(s.createClient))
	mux.HandleFunc("POST /api/oauth/token", s.token)
}

type handler func(w http.ResponseWriter, r *http.Request) error

// httpError is an error with the status and code the caller should see.
type httpError struct {
	status int
	code   string
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(msg string) error { return &httpError{http.StatusBadRequest, "invalid_request", msg} }

// admin guards a management endpoint: only the admin token gets through, and without a
// configured token nobody does (adminauth.Require).
func (s *Server) admin(h handler) http.Handler {
	return adminauth.Require(s.AdminToken, "apimgr", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, h(w, r))
	}))
}

// render writes err, if any, in the gateway's one error shape.
func (s *Server) render(w http.ResponseWriter, r *http.Request, err error) {
	if err == nil {
		return
	}
	var he *httpError
	switch {
	case errors.As(err, &he):
		proxy.WriteError(w, he.status, he.code, he.msg, "")
	case errors.Is(err, store.ErrNotFound):
		proxy.WriteError(w, http.StatusNotFound, "not_found", "no such item", "")
	default:
		s.Log.Error("management request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		proxy.WriteError(w, http.StatusServiceUnavailable, "store_unavailable", "the store could not complete the request; retry later", "")
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	return json.NewEncoder(w).Encode(v)
}

// answer writes v with status 200, or returns err.
func answer(w http.ResponseWriter, v any, err error) error {
	if err != nil {
		return err
	}
	return writeJSON(w, 200, v)
}

// noContent answers 204, or returns err.
func noContent(w http.ResponseWriter, err error) error {
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("invalid JSON body: " + err.Error())
	}
	return nil
}

var nameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func (s *Server) listAPIs(w http.ResponseWriter, r *http.Request) error {
	as, err := s.Store.ListAPIs(r.Context())
	return answer(w, as, err)
}

func (s *Server) putAPI(w http.ResponseWriter, r *http.Request) error {
	var a store.APIRecord
	if err := decode(r, &a); err != nil {
		return err
	}
	switch {
	case !nameRe.MatchString(a.Name):
		return badRequest("name must be letters, digits, . _ - (at most 64)")
	case !strings.HasPrefix(a.Path, "/"):
		return badRequest("path must start with /")
	case !strings.HasPrefix(a.Backend, "http://") && !strings.HasPrefix(a.Backend, "https://"):
		return badRequest("backend must be an http(s) URL")
	case a.Policy != "passthrough" && a.Policy != "apikey" && a.Policy != "oauth":
		return badRequest("policy must be passthrough, apikey or oauth")
	}
	a.Created = time.Now().UTC().Truncate(time.Millisecond)
	if err := s.Store.PutAPI(r.Context(), a); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, a)
}

func (s *Server) getAPI(w http.ResponseWriter, r *http.Request) error {
	a, err := s.Store.GetAPI(r.Context(), r.PathValue("name"))
	return answer(w, a, err)
}

func (s *Server) deleteAPI(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.Store.GetAPI(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	return noContent(w, s.Store.DeleteAPI(r.Context(), r.PathValue("name")))
}

type appInput struct {
	Name    string   `json:"name"`
	APIs    []string `json:"apis"`
	Enabled *bool    `json:"enabled"`
}

// decode reads an application from r's body and checks it.
func (in *appInput) decode(r *http.Request) error {
	if err := decode(r, in); err != nil {
		return err
	}
	return in.check()
}

func (in *appInput) check() error {
	if strings.TrimSpace(in.Name) == "" || len(in.Name) > 200 {
		return badRequest("name is required (at most 200 characters)")
	}
	for _, a := range in.APIs {
		if a != "*" && !nameRe.MatchString(a) {
			return badRequest("apis holds an invalid API name: " + a)
		}
	}
	return nil
}

func (s *Server) listApps(w http.ResponseWriter, r *http.Request) error {
	as, err := s.Store.ListApplications(r.Context())
	return answer(w, as, err)
}

func (s *Server) createApp(w http.ResponseWriter, r *http.Request) error {
	var in appInput
	if err := in.decode(r); err != nil {
		return err
	}
	a := store.Application{ID: store.NewID("app-"), Name: in.Name, APIs: in.APIs, Enabled: in.Enabled == nil || *in.Enabled,
		Created: time.Now().UTC().Truncate(time.Millisecond)}
	return s.putApp(w, r, a, http.StatusCreated)
}

func (s *Server) getApp(w http.ResponseWriter, r *http.Request) error {
	a, err := s.Store.GetApplication(r.Context(), r.PathValue("id"))
	return answer(w, a, err)
}

func (s *Server) updateApp(w http.ResponseWriter, r *http.Request) error {
	a, err := s.Store.GetApplication(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	var in appInput
	if err := in.decode(r); err != nil {
		return err
	}
	a.Name, a.APIs = in.Name, in.APIs
	if in.Enabled != nil {
		a.Enabled = *in.Enabled
	}
	return s.putApp(w, r, a, 200)
}

// putApp stores a (an empty APIs list rather than none) and answers it with status code.
func (s *Server) putApp(w http.ResponseWriter, r *http.Request, a store.Application, code int) error {
	if a.APIs == nil {
		a.APIs = []string{}
	}
	if err := s.Store.PutApplication(r.Context(), a); err != nil {
		return err
	}
	return writeJSON(w, code, a)
}

func (s *Server) deleteApp(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.Store.GetApplication(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	return noContent(w, s.Store.DeleteApplication(r.Context(), r.PathValue("id")))
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.Store.GetApplication(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	ks, err := s.Store.ListKeys(r.Context(), r.PathValue("id"))
	return answer(w, ks, err)
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request) error {
	app, err := s.Store.GetApplication(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	info, key, err := s.Store.CreateKey(r.Context(), app.ID)
	if err != nil {
		return err
	}
	// The key is in this answer only; the store keeps its hash.
	return writeJSON(w, http.StatusCreated, struct {
		store.KeyInfo
		Key string `json:"key"`
	}{info, key})
}

func (s *Server) deleteKey(w http.ResponseWriter, r *http.Request) error {
	return noContent(w, s.Store.DeleteKey(r.Context(), r.PathValue("id"), r.PathValue("keyId")))
}

func (s *Server) createClient(w http.ResponseWriter, r *http.Request) error {
	app, err := s.Store.GetApplication(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	var in struct {
		TokenLifetimeSeconds int `json:"tokenLifetimeSeconds"`
	}
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			return err
		}
	}
	lifetime := s.TokenLifetime
	if in.TokenLifetimeSeconds < 0 || in.TokenLifetimeSeconds > 86400 {
		return badRequest("tokenLifetimeSeconds must be between 1 and 86400")
	}
	if in.TokenLifetimeSeconds > 0 {
		lifetime = time.Duration(in.TokenLifetimeSeconds) * time.Second
	}
	cl, secret, err := s.Store.CreateOAuthClient(r.Context(), app.ID, lifetime)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{
		"clientId": cl.ClientID, "clientSecret": secret, "appId": cl.AppID,
		"tokenLifetimeSeconds": int(lifetime / time.Second),
	})
}

// token is the OAuth 2.0 token endpoint (RFC 6749 §4.4): client credentials in HTTP Basic
// authentication or in the form, grant_type=client_credentials.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	oauthErr := func(status int, code, desc string) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="apimgr"`)
		}
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		oauthErr(400, "invalid_request", "the body must be application/x-www-form-urlencoded")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		oauthErr(400, "unsupported_grant_type", "only grant_type=client_credentials is supported")
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id == "" || secret == "" {
		oauthErr(401, "invalid_client", "client credentials are missing")
		return
	}
	cl, valid, err := s.Store.AuthenticateClient(r.Context(), id, secret)
	if err != nil {
		s.Log.Error("token endpoint: store failed", "err", err)
		oauthErr(503, "temporarily_unavailable", "the store could not be reached; retry later")
		return
	}
	if !valid {
		oauthErr(401, "invalid_client", "unknown client or wrong secret")
		return
	}
	if _, err := s.Store.GetApplication(r.Context(), cl.AppID); err != nil {
		oauthErr(401, "invalid_client", "the client's application no longer exists")
		return
	}
	lifetime := cl.TokenLifetime
	if lifetime <= 0 {
		lifetime = s.TokenLifetime
	}
	tok, exp, err := s.Store.IssueToken(r.Context(), cl, lifetime)
	if err != nil {
		s.Log.Error("token endpoint: cannot store token", "err", err)
		oauthErr(503, "temporarily_unavailable", "the store could not be reached; retry later")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": tok, "token_type": "Bearer", "expires_in": int(time.Until(exp).Round(time.Second) / time.Second),
	})
}
