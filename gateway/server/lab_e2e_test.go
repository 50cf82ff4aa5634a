package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/apimctl/apimctl/gateway/config"
	"github.com/apimctl/apimctl/gateway/store"
	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/lab/labtest"
)

var storeTables = []string{"apis", "applications", "api_keys", "app_keys", "oauth_clients", "oauth_tokens"}

// labStore opens the lab's Cassandra with tables under a unique prefix, dropped at the end.
func labStore(t *testing.T, env *lab.Env, prefix string) *store.Cassandra {
	t.Helper()
	c := &config.Cassandra{HostList: env.CassandraHosts, Port: env.CassandraPort, Username: env.CassandraUser, Password: env.CassandraPassword,
		Keyspace: env.Keyspace, ThrottleKeyspace: env.ThrottleKeyspace, TablePrefix: prefix, Timeout: 10 * time.Second, ConnectTimeout: 10 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := store.Open(ctx, c, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureSchema(ctx); err != nil {
		s.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, tb := range storeTables {
			_ = s.Session().Query("DROP TABLE IF EXISTS " + env.Keyspace + "." + prefix + tb).Exec()
		}
		_ = s.Session().Query("DROP TABLE IF EXISTS " + env.ThrottleKeyspace + "." + prefix + "throttle").Exec()
		s.Close()
	})
	return s
}

// labApp stores an enabled application name for the API "orders", with one API key: the
// application, the key's record and the key.
func labApp(t *testing.T, s *store.Cassandra, name string) (store.Application, store.KeyInfo, string) {
	t.Helper()
	ctx := context.Background()
	app := store.Application{ID: store.NewID("app-"), Name: name, APIs: []string{"orders"}, Enabled: true, Created: time.Now()}
	if err := s.PutApplication(ctx, app); err != nil {
		t.Fatal(err)
	}
	info, key, err := s.CreateKey(ctx, app.ID)
	if err != nil {
		t.Fatal(err)
	}
	return app, info, key
}

// TestStoreAtQuorum exercises keys, tokens and counters against the lab's three Cassandra
// nodes; every statement runs at QUORUM (the session's consistency).
func TestStoreAtQuorum(t *testing.T) {
	env := labtest.Require(t)
	prefix := "it" + uniq() + "_"
	s := labStore(t, env, prefix)
	if got := s.Session().Query("SELECT now() FROM system.local").GetConsistency().String(); got != "QUORUM" {
		t.Fatalf("session consistency %s, want QUORUM", got)
	}
	ctx := context.Background()
	app, info, key := labApp(t, s, "it")
	cr, err := s.LookupKey(ctx, store.HashOf(key))
	if err != nil || cr.KeyID != info.KeyID || cr.AppID != app.ID || !cr.Allows("orders") || cr.Allows("payments") || cr.Disabled {
		t.Fatalf("lookup key: %+v %v", cr, err)
	}
	// The key itself is not stored anywhere: only its hash.
	var stored string
	if err := s.Session().Query("SELECT key_hash FROM "+env.Keyspace+"."+prefix+"api_keys WHERE key_hash = ?", store.HashOf(key).String()).Scan(&stored); err != nil || strings.Contains(stored, key) {
		t.Fatalf("stored %q %v", stored, err)
	}
	if _, err := s.LookupKey(ctx, store.HashOf("wrong")); err != store.ErrNotFound {
		t.Fatalf("unknown key: %v", err)
	}
	if err := s.DeleteKey(ctx, app.ID, info.KeyID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LookupKey(ctx, store.HashOf(key)); err != store.ErrNotFound {
		t.Fatalf("revoked key: %v", err)
	}
	cl, secret, err := s.CreateOAuthClient(ctx, app.ID, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.AuthenticateClient(ctx, cl.ClientID, "nope"); ok || err != nil {
		t.Fatalf("wrong secret accepted: %v", err)
	}
	cl2, ok, err := s.AuthenticateClient(ctx, cl.ClientID, secret)
	if !ok || err != nil || cl2.TokenLifetime != time.Minute {
		t.Fatalf("client auth: %+v %v %v", cl2, ok, err)
	}
	tok, exp, err := s.IssueToken(ctx, cl2, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := s.LookupToken(ctx, store.HashOf(tok))
	if err != nil || tc.AppID != app.ID || tc.KeyID != cl.ClientID || !tc.Expires.Equal(exp) {
		t.Fatalf("token: %+v %v (exp %v)", tc, err, exp)
	}
	bucket := "it|" + uniq()
	for i := 1; i <= 3; i++ {
		total, err := s.AddCount(ctx, bucket, 42, 2)
		if err != nil || total != int64(2*i) {
			t.Fatalf("add %d: total %d %v", i, total, err)
		}
	}
	if err := s.DeleteCount(ctx, bucket, 42); err != nil {
		t.Fatal(err)
	}
}

// TestRolesEndToEnd runs the three roles as processes against the lab: the API Manager issues
// keys and tokens into Cassandra, the traffic gateway enforces them (and a rate limit with
// counters in the throttling keyspace), and the ANM streams the events into MariaDB.
func TestRolesEndToEnd(t *testing.T) {
	env := labtest.Require(t)
	id := uniq()
	prefix := "it" + id + "_"
	s := labStore(t, env, prefix) // also creates the tables the traffic role reads
	dir := t.TempDir()
	events := dir + "/events"

	db, err := sql.Open("mysql", env.MySQLDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t.Cleanup(func() {
		db.Exec("DROP TABLE IF EXISTS " + prefix + "api_minute")
		db.Exec("DROP TABLE IF EXISTS " + prefix + "event_checkpoints")
	})

	var backendHits atomic.Int64
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		backendHits.Add(1)
		if r.Header.Get("KeyId") != "" || r.Header.Get("Authorization") != "" {
			http.Error(w, "credential leaked to backend", 500)
			return
		}
		io.WriteString(w, `{"ok":true,"path":"`+r.URL.Path+`"}`)
	}))
	defer backend.Close()

	anmPort, anmAdmin := freePort(t), freePort(t)
	mgrPort, mgrAdmin := freePort(t), freePort(t)
	trPort, trAdmin := freePort(t), freePort(t)
	// The ANM serves its API over TLS (a certificate of a CA of this test); traffic and
	// apimgr verify it in their prechecks. The ANM verifies MariaDB against the lab's CA.
	anmCA, anmCert, anmKey := testPKI(t, dir)
	vars := env.Vars()
	vars["EVENTS_DIR"] = events
	vars["ANM_URL"] = fmt.Sprintf("https://127.0.0.1:%d", anmPort)
	vars["ANM_CA_FILE"] = anmCA
	vars["METRICS_DB_CA_FILE"] = env.MySQLCAFile()
	vars["BACKEND"] = backend.URL
	vars["APIM_GROUP"] = "grp-" + id
	vars["APIM_IMAGE_TAG"] = "it-" + id
	mgrToken, anmToken := "mgr-"+uniq()+uniq()+uniq(), "anm-"+uniq()+uniq()+uniq()
	vars["APIMGR_ADMIN_TOKEN"], vars["ANM_ADMIN_TOKEN"] = mgrToken, anmToken
	envFile := writeFile(t, dir, "env.yaml", labCassandraEnv(prefix)+`  timeout: 5s
metricsDB:
  url: ${environment.METRICS_DB_URL}
  username: ${environment.METRICS_DB_USERNAME}
  password: ${environment.METRICS_DB_PASS}
  tablePrefix: `+prefix+`
  tls: {caFile: "${environment.METRICS_DB_CA_FILE}"}
anm:
  url: ${environment.ANM_URL}
  adminToken: ${environment.ANM_ADMIN_TOKEN}
  tls: {caFile: "${environment.ANM_CA_FILE}"}
eventLog:
  dir: ${environment.EVENTS_DIR}
apimgr:
  adminToken: ${environment.APIMGR_ADMIN_TOKEN}
`)
	polFile := writeFile(t, dir, "pol.yaml", `
apis:
  - {name: orders, path: /orders, backend: "${environment.BACKEND}", policy: apikey, stripPrefix: true}
  - {name: limited, path: /limited, backend: "${environment.BACKEND}", policy: apikey, rateLimit: {requests: 5, per: 60s, by: application}}
  - {name: payments, path: /payments, backend: "${environment.BACKEND}", policy: oauth}
  - {name: broken, path: /broken, backend: "http://127.0.0.1:`+fmt.Sprint(freePort(t))+`", policy: passthrough}
`)
	common := []string{"--env", envFile, "--precheck-timeout", "60s", "--drain-delay", "200ms"}
	anmTLS := []string{"--tls-cert", anmCert, "--tls-key", anmKey}
	anmP := startApigw(t, vars, append(append(common, anmTLS...), "--role", "anm", "--port", fmt.Sprint(anmPort), "--admin-port", fmt.Sprint(anmAdmin), "--anm-interval", "500ms")...)
	anmP.waitReady(t, fmt.Sprintf("http://127.0.0.1:%d/healthcheck", anmAdmin), 60*time.Second)
	mgr := startApigw(t, vars, append(common, "--role", "apimgr", "--port", fmt.Sprint(mgrPort), "--admin-port", fmt.Sprint(mgrAdmin))...)
	mgr.waitReady(t, fmt.Sprintf("http://127.0.0.1:%d/healthcheck", mgrPort), 90*time.Second)
	tr := startApigw(t, vars, append(common, "--role", "traffic", "--pol", polFile, "--instance", "gw-"+id, "--port", fmt.Sprint(trPort), "--admin-port", fmt.Sprint(trAdmin))...)
	tr.waitReady(t, fmt.Sprintf("http://127.0.0.1:%d/healthcheck", trAdmin), 90*time.Second)
	for _, p := range []*proc{mgr, tr} {
		if !regexp.MustCompile(`"msg":"precheck passed".*"dependency":"anm"`).MatchString(p.logs.String()) {
			t.Errorf("no ANM precheck in logs:\n%s", p.logs.String())
		}
	}

	pool := x509.NewCertPool()
	caPEM, _ := os.ReadFile(anmCA)
	pool.AppendCertsFromPEM(caPEM)
	c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	mgrURL := fmt.Sprintf("http://127.0.0.1:%d", mgrPort)
	trURL := fmt.Sprintf("http://127.0.0.1:%d", trPort)
	jsonBody := func(v any) io.Reader { b, _ := json.Marshal(v); return strings.NewReader(string(b)) }
	adm := map[string]string{"Authorization": "Bearer " + mgrToken}
	anmAdm := map[string]string{"Authorization": "Bearer " + anmToken}

	// No management call is answered without the admin token (or with the other role's).
	for _, hdr := range []map[string]string{nil, {"Authorization": "Bearer " + anmToken}, {"Authorization": "Bearer "}} {
		if r := call(t, c, "POST", mgrURL+"/api/applications", jsonBody(map[string]any{"name": "anon"}), hdr); r.code != 401 {
			t.Fatalf("management API without the admin token (%v): %d %s", hdr, r.code, r.body)
		}
		if r := call(t, c, "GET", mgrURL+"/api/applications", nil, hdr); r.code != 401 {
			t.Fatalf("listing applications without the admin token: %d %s", r.code, r.body)
		}
	}

	r := call(t, c, "POST", mgrURL+"/api/applications", jsonBody(map[string]any{"name": "shop", "apis": []string{"orders", "limited", "payments"}}), adm)
	if r.code != 201 {
		t.Fatalf("create app: %d %s", r.code, r.body)
	}
	var app store.Application
	json.Unmarshal([]byte(r.body), &app)
	r = call(t, c, "POST", mgrURL+"/api/applications/"+app.ID+"/keys", nil, adm)
	var key struct{ KeyID, Key string }
	if json.Unmarshal([]byte(r.body), &key); r.code != 201 || key.Key == "" {
		t.Fatalf("create key: %d %s", r.code, r.body)
	}
	r = call(t, c, "POST", mgrURL+"/api/applications/"+app.ID+"/keys", nil, adm)
	var key2 struct{ KeyID, Key string }
	json.Unmarshal([]byte(r.body), &key2)
	if r = call(t, c, "POST", mgrURL+"/api/applications", strings.NewReader(`{"name":"x","colour":"red"}`), adm); r.code != 400 {
		t.Fatalf("unknown field accepted: %d %s", r.code, r.body)
	}
	if r = call(t, c, "GET", mgrURL+"/api/applications/app-nope", nil, adm); r.code != 404 {
		t.Fatalf("unknown app: %d %s", r.code, r.body)
	}

	// API key.
	if r = call(t, c, "GET", trURL+"/orders/7", nil, map[string]string{"KeyId": key.Key}); r.code != 200 || !strings.Contains(r.body, `"path":"/7"`) {
		t.Fatalf("valid key: %d %s", r.code, r.body)
	}
	if r = call(t, c, "GET", trURL+"/orders/7", nil, map[string]string{"X-API-Key": "not-a-key"}); r.code != 401 || !strings.Contains(r.body, `"error":"invalid_api_key"`) {
		t.Fatalf("invalid key: %d %s", r.code, r.body)
	}
	if r = call(t, c, "GET", trURL+"/nothing-here", nil, nil); r.code != 404 || !strings.Contains(r.body, `"error":"no_such_api"`) {
		t.Fatalf("unknown path: %d %s", r.code, r.body)
	}
	if r = call(t, c, "GET", trURL+"/broken/x", nil, nil); r.code != 502 || !strings.Contains(r.body, `"error":"backend_unavailable"`) {
		t.Fatalf("refused backend: %d %s", r.code, r.body)
	}

	// Rate limit per application, across two keys: 5 per minute. Windows are aligned on the
	// minute, so avoid starting in its last seconds.
	if s := time.Now().Second(); s > 50 {
		time.Sleep(time.Duration(61-s) * time.Second)
	}
	ok, limited := 0, 0
	for i := 0; i < 8; i++ {
		k := key.Key
		if i%2 == 1 {
			k = key2.Key
		}
		r = call(t, c, "GET", trURL+"/limited", nil, map[string]string{"KeyId": k})
		switch r.code {
		case 200:
			ok++
		case 429:
			limited++
			if r.header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		default:
			t.Fatalf("limited: %d %s", r.code, r.body)
		}
	}
	if ok != 5 || limited != 3 {
		t.Fatalf("rate limit 5/min: %d allowed, %d limited", ok, limited)
	}
	// The shared counter in the throttling keyspace reaches 5 (read at QUORUM).
	bucket := "limited|app|" + app.ID
	window := time.Now().Unix() / 60
	deadline := time.Now().Add(5 * time.Second)
	var total int64
	for time.Now().Before(deadline) {
		total, _ = s.AddCount(context.Background(), bucket, window, 0)
		if total == 5 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if total != 5 {
		t.Fatalf("shared counter %s/%d = %d, want 5", bucket, window, total)
	}

	// OAuth: client-credentials token, valid, then expired.
	r = call(t, c, "POST", mgrURL+"/api/applications/"+app.ID+"/oauth-clients", strings.NewReader(`{"tokenLifetimeSeconds":2}`), adm)
	var cl struct{ ClientID, ClientSecret string }
	if json.Unmarshal([]byte(r.body), &cl); r.code != 201 || cl.ClientSecret == "" {
		t.Fatalf("create client: %d %s", r.code, r.body)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {cl.ClientID}, "client_secret": {"wrong"}}
	if r = call(t, c, "POST", mgrURL+"/api/oauth/token", strings.NewReader(form.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}); r.code != 401 {
		t.Fatalf("wrong client secret: %d %s", r.code, r.body)
	}
	form.Set("client_secret", cl.ClientSecret)
	r = call(t, c, "POST", mgrURL+"/api/oauth/token", strings.NewReader(form.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if json.Unmarshal([]byte(r.body), &tok); r.code != 200 || tok.TokenType != "Bearer" || tok.ExpiresIn < 1 || tok.ExpiresIn > 2 {
		t.Fatalf("token: %d %s", r.code, r.body)
	}
	bearer := map[string]string{"Authorization": "Bearer " + tok.AccessToken}
	if r = call(t, c, "GET", trURL+"/payments/1", nil, bearer); r.code != 200 {
		t.Fatalf("valid token: %d %s", r.code, r.body)
	}
	if r = call(t, c, "GET", trURL+"/payments/1", nil, map[string]string{"Authorization": "Bearer forged"}); r.code != 401 {
		t.Fatalf("forged token: %d %s", r.code, r.body)
	}
	time.Sleep(2500 * time.Millisecond)
	if r = call(t, c, "GET", trURL+"/payments/1", nil, bearer); r.code != 401 || !strings.Contains(r.header.Get("WWW-Authenticate"), "invalid_token") || !strings.Contains(r.body, "expired") {
		t.Fatalf("expired token: %d %s %v", r.code, r.body, r.header)
	}

	// Prometheus metrics carry group and image_tag.
	r = call(t, c, "GET", fmt.Sprintf("http://127.0.0.1:%d/metrics", trAdmin), nil, nil)
	for _, want := range []string{
		fmt.Sprintf(`apigw_requests_total{api="orders",code_class="2xx",group="grp-%s",image_tag="it-%s"} 1`, id, id),
		fmt.Sprintf(`apigw_policy_rejections_total{api="limited",group="grp-%s",image_tag="it-%s",policy="ratelimit",reason="rate_limited"} 3`, id, id),
		fmt.Sprintf(`apigw_upstream_errors_total{api="broken",group="grp-%s",image_tag="it-%s"} 1`, id, id),
		`apigw_store_cache_total{group="grp-` + id + `",image_tag="it-` + id + `",kind="key",result="hit"}`,
		`apigw_request_duration_seconds_bucket{api="payments"`,
		`apigw_eventlog_bytes_total{group="grp-` + id + `"`,
		`apigw_requests_in_flight{group="grp-` + id + `"`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// Events reach MariaDB as per-minute aggregates. Traffic so far: orders 2 (200, 401),
	// limited 8, payments 3 (200, forged, expired), broken 1, unmatched 1 (api "-").
	want := map[string]int64{"orders": 2, "limited": 8, "payments": 3, "broken": 1, "-": 1}
	waitAggregates := func() {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			got := map[string]int64{}
			rows, err := db.Query("SELECT api, SUM(requests) FROM "+prefix+"api_minute WHERE group_name = ? GROUP BY api", "grp-"+id)
			if err == nil {
				for rows.Next() {
					var a string
					var n int64
					rows.Scan(&a, &n)
					got[a] = n
				}
				rows.Close()
			}
			match := true
			for a, n := range want {
				if got[a] != n {
					match = false
				}
			}
			if match {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("aggregates %v, want %v (err %v)", got, want, err)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	waitAggregates()
	if r = call(t, c, "GET", fmt.Sprintf("https://127.0.0.1:%d/api/metrics?api=limited&group=grp-%s", anmPort, id), nil, adm); r.code != 401 {
		t.Fatalf("ANM metrics API with the API Manager's token: %d %s", r.code, r.body)
	}
	r = call(t, c, "GET", fmt.Sprintf("https://127.0.0.1:%d/api/metrics?api=limited&group=grp-%s", anmPort, id), nil, anmAdm)
	var rows []struct {
		Requests, Status2xx, Status4xx int64
	}
	if json.Unmarshal([]byte(r.body), &rows); r.code != 200 || len(rows) == 0 {
		t.Fatalf("ANM metrics API: %d %s", r.code, r.body)
	}
	var s2, s4 int64
	for _, row := range rows {
		s2 += row.Status2xx
		s4 += row.Status4xx
	}
	if s2 != 5 || s4 != 3 {
		t.Fatalf("ANM metrics for limited: 2xx %d 4xx %d, want 5 and 3", s2, s4)
	}
	if r = call(t, c, "GET", fmt.Sprintf("https://127.0.0.1:%d/api/topology", anmPort), nil, nil); r.code != 401 {
		t.Fatalf("anonymous ANM topology: %d %s", r.code, r.body)
	}
	r = call(t, c, "GET", fmt.Sprintf("https://127.0.0.1:%d/api/topology", anmPort), nil, anmAdm)
	if !strings.Contains(r.body, `"instance":"gw-`+id+`"`) || !strings.Contains(r.body, `"name":"grp-`+id+`"`) {
		t.Fatalf("topology: %s", r.body)
	}

	// Restart the ANM: the checkpoints in MariaDB keep it from counting anything twice.
	anmP.sigterm(t)
	if code := anmP.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("anm exit code %d", code)
	}
	anm2 := startApigw(t, vars, append(append(common, anmTLS...), "--role", "anm", "--port", fmt.Sprint(anmPort), "--admin-port", fmt.Sprint(anmAdmin), "--anm-interval", "300ms")...)
	anm2.waitReady(t, fmt.Sprintf("http://127.0.0.1:%d/healthcheck", anmAdmin), 60*time.Second)
	call(t, c, "GET", trURL+"/orders/8", nil, map[string]string{"KeyId": key.Key})
	want["orders"] = 3
	waitAggregates()
	time.Sleep(1500 * time.Millisecond) // several more stream cycles
	waitAggregates()

	// No secret in any log.
	for _, p := range []*proc{anmP, mgr, tr, anm2} {
		logs := p.logs.String()
		for _, secret := range []string{env.CassandraPassword, env.MySQLPassword, key.Key, cl.ClientSecret, tok.AccessToken, mgrToken, anmToken} {
			if secret != "" && strings.Contains(logs, secret) {
				t.Fatalf("a secret appears in the logs of %v", p.cmd.Args)
			}
		}
	}
	for _, p := range []*proc{tr, mgr, anm2} {
		p.sigterm(t)
		if code := p.wait(t, 30*time.Second); code != 0 {
			t.Fatalf("%v exit code %d", p.cmd.Args, code)
		}
	}
}
