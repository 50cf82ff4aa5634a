package config

import (
	"strings"
	"testing"
	"time"
)

func vars(m map[string]string) Lookup {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

var labVars = vars(map[string]string{
	"CASS_HOST": "127.0.0.1,127.0.0.2, 127.0.0.3", "CASS_PORT": "9042", "CASS_USERNAME": "cassandra",
	"CASS_PASS": "s3cret-pass", "CASS_KEYSPACE": "apim_default", "CASS_TKEYSPACE": "apim_default_throttle",
	"METRICS_DB_URL": "jdbc:mysql://127.0.0.1:16306/metrics", "METRICS_DB_USERNAME": "metrics",
	"METRICS_DB_PASS": "db-pass",
})

func TestExamplesLoad(t *testing.T) {
	p, err := LoadPolicyPackage("../examples/policy.yaml", labVars)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.APIs) != 3 || p.APIs[1].Policy != APIKey || p.APIs[1].RateLimit.Per != time.Second ||
		p.APIs[2].RateLimit.By != "application" || p.APIs[0].BackendURL.Host != "127.0.0.1:9001" {
		t.Fatalf("unexpected policy package: %+v", p.APIs)
	}
	if l := p.LookupLimit; l.PerClient != 10 || l.Burst != 20 || l.Total != 500 || len(l.TrustedNets) != 0 {
		t.Fatalf("lookup limit defaults %+v", l)
	}
	if p.Cache.PositiveTTL != 30*time.Second || p.OnStoreFailure != FailClosed || p.Paths.EscapedSlashes != RejectEscapedSlashes {
		t.Fatalf("cache %+v", p.Cache)
	}
	e, err := LoadEnvironmentPackage("../examples/environment.yaml", labVars)
	if err != nil {
		t.Fatal(err)
	}
	c := e.Cassandra
	if strings.Join(c.HostList, "|") != "127.0.0.1|127.0.0.2|127.0.0.3" || c.Port != 9042 || c.Password != "s3cret-pass" || c.ThrottleKeyspace != "apim_default_throttle" {
		t.Fatalf("cassandra %+v", c)
	}
	if e.MetricsDB.Addr != "127.0.0.1:16306" || e.MetricsDB.Database != "metrics" {
		t.Fatalf("metricsDB %+v", e.MetricsDB)
	}
	if e.EventLog.MaxDiskSize != 1<<30 || e.EventLog.MaxFileSize != 64<<20 || e.ANM.URL != "http://127.0.0.1:8090" {
		t.Fatalf("eventLog %+v anm %+v", e.EventLog, e.ANM)
	}
	if e.APIMgr.AdminToken != "" {
		t.Fatalf("empty default not applied: %q", e.APIMgr.AdminToken)
	}
}

// wantErr asserts that err holds a FieldError at file:line on field, whose message contains msg.
func wantErr(t *testing.T, err error, file, field string, line int, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %s:%d %s %q", file, line, field, msg)
	}
	for _, fe := range AsFieldErrors(err) {
		if fe.File == file && fe.Field == field && fe.Line == line && strings.Contains(fe.Msg, msg) {
			if !strings.Contains(err.Error(), file) {
				t.Fatalf("error text does not name the file: %v", err)
			}
			return
		}
	}
	t.Fatalf("error %q lacks %s:%d field %s %q", err, file, line, field, msg)
}

func TestPolicyPackageErrors(t *testing.T) {
	cases := []struct {
		name, text, field string
		line              int
		msg               string
	}{
		{"malformed", "apis:\n  - name: a\n    path: /x: y\n", "", 3, "mapping values are not allowed"},
		{"tabs", "apis:\n\t- name: a\n", "", 2, "malformed YAML"},
		{"empty", "", "", 0, "file is empty"},
		{"unknown policy", "apis:\n  - name: a\n    path: /a\n    backend: http://127.0.0.1:1\n    policy: jwt\n", "apis[0].policy", 5, `unknown policy "jwt"`},
		{"unknown field", "apis:\n  - name: a\n    path: /a\n    backend: http://127.0.0.1:1\n    policy: apikey\n    ratelimit: {requests: 1, per: 1s}\n", "apis[0].ratelimit", 6, `unknown field "ratelimit"`},
		{"unknown top field", "api:\n  - name: a\n", "api", 1, `unknown field "api"`},
		{"missing backend", "apis:\n  - name: a\n    path: /a\n    policy: apikey\n", "apis[0].backend", 2, "is required"},
		{"bad duration", "apis:\n  - name: a\n    path: /a\n    backend: http://127.0.0.1:1\n    policy: apikey\n    rateLimit: {requests: 1, per: often}\n", "apis[0].rateLimit.per", 6, "not a duration"},
		{"bad int", "apis:\n  - name: a\n    path: /a\n    backend: http://127.0.0.1:1\n    policy: apikey\n    rateLimit:\n      requests: many\n      per: 1s\n", "apis[0].rateLimit.requests", 7, "not an integer"},
		{"rate limit without identity", "apis:\n  - name: a\n    path: /a\n    backend: http://127.0.0.1:1\n    policy: passthrough\n    rateLimit: {requests: 5, per: 1s}\n", "apis[0].rateLimit", 6, "no caller identity"},
		{"bad by", "apis:\n  - name: a\n    path: /a\n    backend: http://127.0.0.1:1\n    policy: oauth\n    rateLimit: {requests: 5, per: 1s, by: ip}\n", "apis[0].rateLimit.by", 6, `unknown value "ip"`},
		{"duplicate path", "apis:\n  - {name: a, path: /a, backend: 'http://127.0.0.1:1', policy: passthrough}\n  - {name: b, path: /a, backend: 'http://127.0.0.1:1', policy: passthrough}\n", "apis[1].path", 3, "already the path of apis[0]"},
		{"bad backend", "apis:\n  - {name: a, path: /a, backend: 'ftp://x', policy: passthrough}\n", "apis[0].backend", 2, "http:// or https://"},
		{"missing variable", "apis:\n  - name: a\n    path: /a\n    backend: ${environment.NOPE_BACKEND}\n    policy: passthrough\n", "apis[0].backend", 4, "NOPE_BACKEND is not set"},
		{"store failure", "onStoreFailure: maybe\napis:\n  - {name: a, path: /a, backend: 'http://127.0.0.1:1', policy: passthrough}\n", "onStoreFailure", 1, `unknown value "maybe"`},
		{"list expected", "apis: {name: a}\n", "apis", 1, "must be a list"},
		{"bad trusted proxy", "lookupLimit:\n  trustedProxies: [10.0.0.0/8, ingress]\napis:\n  - {name: a, path: /a, backend: 'http://127.0.0.1:1', policy: apikey}\n", "lookupLimit.trustedProxies[1]", 2, `"ingress" is not an address or CIDR`},
		{"total below per client", "lookupLimit: {perClient: 50, total: 10}\napis:\n  - {name: a, path: /a, backend: 'http://127.0.0.1:1', policy: apikey}\n", "lookupLimit.total", 1, "below perClient"},
		{"escaped slashes", "paths: {escapedSlashes: keep}\napis:\n  - {name: a, path: /a, backend: 'http://127.0.0.1:1', policy: passthrough}\n", "paths.escapedSlashes", 1, `unknown value "keep" (use reject or decode)`},
		{"dot segment path", "apis:\n  - {name: a, path: /a/../b, backend: 'http://127.0.0.1:1', policy: passthrough}\n", "apis[0].path", 2, "not a normalized path"},
		{"double slash path", "apis:\n  - {name: a, path: //a, backend: 'http://127.0.0.1:1', policy: passthrough}\n", "apis[0].path", 2, "not a normalized path"},
		{"escaped path", "apis:\n  - {name: a, path: /caf%C3%A9, backend: 'http://127.0.0.1:1', policy: passthrough}\n", "apis[0].path", 2, "write it decoded"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParsePolicyPackage("pol.yaml", []byte(c.text), labVars)
			wantErr(t, err, "pol.yaml", c.field, c.line, c.msg)
		})
	}
}

func TestEnvironmentPackageErrors(t *testing.T) {
	cases := []struct {
		name, text, field string
		line              int
		msg               string
		vars              map[string]string
	}{
		{"missing variable", "cassandra:\n  hosts: ${environment.CASS_HOST}\n  keyspace: k\n  throttleKeyspace: t\n", "cassandra.hosts", 2, "CASS_HOST is not set", map[string]string{}},
		{"port not a number", "cassandra:\n  hosts: h1\n  port: ${environment.CASS_PORT}\n  keyspace: k\n  throttleKeyspace: t\n", "cassandra.port", 3, `"nine" is not an integer`, map[string]string{"CASS_PORT": "nine"}},
		{"missing keyspace", "cassandra:\n  hosts: h1\n  throttleKeyspace: t\n", "cassandra.keyspace", 2, "is required", nil},
		{"bad keyspace", "cassandra:\n  hosts: h1\n  keyspace: 'a-b'\n  throttleKeyspace: t\n", "cassandra.keyspace", 3, "not a keyspace name", nil},
		{"jdbc", "metricsDB:\n  url: ${environment.METRICS_DB_URL}\n", "metricsDB.url", 2, "not a JDBC URL", map[string]string{"METRICS_DB_URL": "mysql://127.0.0.1/m"}},
		{"size", "eventLog:\n  dir: /tmp/x\n  maxDiskSize: 1 parsec\n", "eventLog.maxDiskSize", 3, "unknown unit", nil},
		{"unknown field", "eventlog:\n  dir: /tmp/x\n", "eventlog", 1, `unknown field "eventlog"`, nil},
		{"host with port", "cassandra:\n  hosts: 127.0.0.1:9042\n  keyspace: k\n  throttleKeyspace: t\n", "cassandra.hosts", 2, "give the port in cassandra.port", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseEnvironmentPackage("env.yaml", []byte(c.text), vars(c.vars))
			wantErr(t, err, "env.yaml", c.field, c.line, c.msg)
		})
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	// A password with a wrong type must not be echoed; here the secret is a mapping.
	text := "cassandra:\n  hosts: h\n  keyspace: k\n  throttleKeyspace: t\n  password: ${environment.CASS_PASS}\n  port: ${environment.CASS_PASS}\n"
	_, err := ParseEnvironmentPackage("env.yaml", []byte(text), vars(map[string]string{"CASS_PASS": "hunter2-secret"}))
	if err == nil {
		t.Fatal("want an error for the port")
	}
	// The port field is not secret, so its value may appear; the password field must parse.
	text = "metricsDB:\n  url: jdbc:mysql://127.0.0.1:1/m\n  password: [a, b]\n"
	_, err = ParseEnvironmentPackage("env.yaml", []byte(text), vars(nil))
	wantErr(t, err, "env.yaml", "metricsDB.password", 3, "must be a single value")
}

func TestRequireNamesFile(t *testing.T) {
	e, err := ParseEnvironmentPackage("env.yaml", []byte("eventLog:\n  maxDiskSize: 1GB\n"), vars(nil))
	if err != nil {
		t.Fatal(err)
	}
	err = e.Require("anm", "metricsDB", "eventLog.dir")
	if err == nil || !strings.Contains(err.Error(), "env.yaml: field metricsDB: is required by the anm role") || !strings.Contains(err.Error(), "eventLog.dir") {
		t.Fatalf("got %v", err)
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]ByteSize{"1GB": 1 << 30, "512MB": 512 << 20, "64KiB": 64 << 10, "4096": 4096, "1.5K": 1536} {
		got, err := ParseByteSize(in)
		if err != nil || got != want {
			t.Errorf("%s: got %d %v want %d", in, got, err, want)
		}
	}
	if _, err := ParseByteSize("-1GB"); err == nil {
		t.Error("negative size accepted")
	}
}

func TestJDBC(t *testing.T) {
	addr, db, err := ParseJDBCURL("jdbc:mariadb://db.example:3307/metrics?useSSL=true")
	if err != nil || addr != "db.example:3307" || db != "metrics" {
		t.Fatalf("%s %s %v", addr, db, err)
	}
	addr, _, err = ParseJDBCURL("jdbc:mysql://db/metrics")
	if err != nil || addr != "db:3306" {
		t.Fatalf("%s %v", addr, err)
	}
	if _, _, err := ParseJDBCURL("jdbc:mysql://db/"); err == nil {
		t.Fatal("no database accepted")
	}
}

func TestRequireAdminToken(t *testing.T) {
	text := "anm:\n  adminToken: ${environment.ANM_ADMIN_TOKEN:-}\napimgr:\n  adminToken: ${environment.APIMGR_ADMIN_TOKEN:-}\n"
	for _, c := range []struct {
		role, token, want string
	}{
		{"apimgr", "", "env.yaml:4: field apimgr.adminToken: is empty: the API Manager's management API"},
		{"apimgr", "s3cr3t-x", "is too short (at least 16 characters)"},
		{"apimgr", "0123456789abcdef", ""},
		{"anm", "", "env.yaml:2: field anm.adminToken: is empty: the Admin Node Manager's API"},
		{"anm", "0123456789abcdef", ""},
		{"traffic", "", ""},
	} {
		v := map[string]string{"ANM_ADMIN_TOKEN": c.token, "APIMGR_ADMIN_TOKEN": c.token}
		e, err := ParseEnvironmentPackage("env.yaml", []byte(text), vars(v))
		if err != nil {
			t.Fatal(err)
		}
		err = e.RequireAdminToken(c.role)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s %q: %v", c.role, c.token, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s %q: %v, want %q", c.role, c.token, err, c.want)
		case err != nil && !strings.Contains(err.Error(), "Secret") || c.token != "" && err != nil && strings.Contains(err.Error(), c.token):
			t.Errorf("%s %q: error does not name the Secret, or shows the token: %v", c.role, c.token, err)
		}
	}
	// No anm section at all: still refused, naming the setting.
	e, _ := ParseEnvironmentPackage("env.yaml", []byte("eventLog:\n  dir: /x\n"), vars(nil))
	if err := e.RequireAdminToken("anm"); err == nil || !strings.Contains(err.Error(), "anm.adminToken") || !strings.Contains(err.Error(), "ANM_ADMIN_TOKEN") {
		t.Errorf("no anm section: %v", err)
	}
}

func TestRedactURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"http://backend:8080/x", "http://backend:8080/x"},
		{"http://user:pa55@backend/x", "http://user:xxxxx@backend/x"},
		{"http://user:p@ss@backend/x", "http://user:xxxxx@backend/x"},
		{"http://user@backend/x", "http://user@backend/x"},
		{"jdbc:mysql://metrics:hunter2@db:3306/metrics?useSSL=true", "jdbc:mysql://metrics:xxxxx@db:3306/metrics?useSSL=true"},
		{"jdbc:mysql://db/metrics?user=m&password=hunter2&x=1", "jdbc:mysql://db/metrics?user=m&password=xxxxx&x=1"},
		{"http://u:s3cret@bad host%zz/", "http://u:xxxxx@bad host%zz/"},
		{"https://api/x?api_key=abc&token=def", "https://api/x?api_key=xxxxx&token=xxxxx"},
	} {
		if got := RedactURL(c.in); got != c.want {
			t.Errorf("RedactURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	_, err := ParsePolicyPackage("pol.yaml", []byte("apis:\n  - {name: a, path: /a, backend: 'http://u:hunter2@bad host/', policy: passthrough}\n"), vars(nil))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("backend error shows the password: %v", err)
	}
	_, err = ParseEnvironmentPackage("env.yaml", []byte("metricsDB:\n  url: 'jdbc:mysql://u:hunter2@db'\n"), vars(nil))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("JDBC error shows the password: %v", err)
	}
}
