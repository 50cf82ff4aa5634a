package cli

import (
	"encoding/json"
	"flag"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/apimctl/apimctl/ops/model"

	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/lab/labtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func run(t *testing.T, tty bool, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, _, out, errOut := Test()
	ios.InTTY, ios.OutTTY, ios.ErrTTY = tty, tty, tty
	t.Setenv("APIMCTL_AUDIT_LOG", auditLog(t))
	code = Main(ios, args)
	return code, out.String(), errOut.String()
}

var auditLogs sync.Map // *testing.T → path

// auditLog is the test's own audit log: every run of one test appends to the same file,
// never to the user's.
func auditLog(t *testing.T) string {
	if p, ok := auditLogs.Load(t); ok {
		return p.(string)
	}
	p := filepath.Join(t.TempDir(), "audit.log")
	auditLogs.Store(t, p)
	t.Cleanup(func() { auditLogs.Delete(t) })
	return p
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{{"nonsense"}, {"status", "--bogus"}, {"status", "-o", "xml"}, {"lab", "up", "--cassandra-nodes", "7", "--dry-run"}} {
		code, _, stderr := run(t, false, args...)
		if code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", args, code, ExitUsage, stderr)
		}
		if !strings.Contains(stderr, "error:") {
			t.Errorf("%v: stderr %q lacks the error", args, stderr)
		}
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := run(t, false, "version")
	if code != 0 || !strings.HasPrefix(out, "apimctl ") {
		t.Fatalf("exit %d, %q", code, out)
	}
}

func TestRootWithoutTTYPrintsHelp(t *testing.T) {
	code, out, _ := run(t, false)
	if code != 0 || !strings.Contains(out, "Exit codes:") || !strings.Contains(out, "make demo") {
		t.Fatalf("exit %d, help %q", code, out)
	}
}

func TestLabDownWipeNeedsYesWithoutTTY(t *testing.T) {
	dir := t.TempDir()
	// A lab state directory with nothing running.
	if err := os.WriteFile(filepath.Join(dir, "lab.json"), []byte(`{}`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, false, "lab", "down", "--wipe", "--state-dir", dir)
	if code != ExitUsage || !strings.Contains(stderr, "--yes") {
		t.Fatalf("exit %d, stderr %q: want a refusal naming --yes", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "lab.json")); err != nil {
		t.Fatal("the refused wipe deleted the state")
	}
	code, out, _ := run(t, false, "lab", "down", "--wipe", "--dry-run", "--state-dir", dir)
	if code != 0 || !strings.Contains(out, "would delete") {
		t.Fatalf("dry run: exit %d %q", code, out)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatal("the dry run deleted the state")
	}
	code, _, _ = run(t, false, "lab", "down", "--wipe", "--yes", "--state-dir", dir)
	if _, err := os.Stat(dir); code != 0 || err == nil {
		t.Fatalf("exit %d; --yes did not wipe", code)
	}
}

func TestLabUpWithTakenPortNamesItAndExitsNonZero(t *testing.T) {
	hold, err := net.Listen("tcp", "127.0.0.1:28090") // prometheus at port base 28000
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	dir := filepath.Join(t.TempDir(), "lab")
	code, _, stderr := run(t, false, "lab", "up", "--state-dir", dir, "--port-base", "28000", "--only", "registry,prometheus")
	if code == 0 {
		t.Fatal("lab up succeeded with its port taken")
	}
	for _, want := range []string{"127.0.0.1:28090", "prometheus", "nothing was started"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q lacks %q", stderr, want)
		}
	}
	if pids, _ := filepath.Glob(filepath.Join(dir, "run", "*.pid")); len(pids) != 0 {
		t.Errorf("PID files left: %v", pids)
	}
}

func TestLabEnvPrintsNoSecret(t *testing.T) {
	env := labtest.Require(t)
	code, out, _ := run(t, false, "lab", "env", "--state-dir", env.StateDir)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, secret := range []string{env.CassandraPassword, env.MySQLPassword} {
		if strings.Contains(out, secret) {
			t.Fatal("lab env printed a password")
		}
	}
	for _, k := range []string{"KUBECONFIG", "CASS_HOST", "CASS_PORT", "CASS_USERNAME", "CASS_PASS", "CASS_KEYSPACE", "CASS_TKEYSPACE", "METRICS_DB_URL", "METRICS_DB_USERNAME", "METRICS_DB_PASS", "PROMETHEUS_URL", "APIM_REGISTRY"} {
		if !strings.Contains(out, "export "+k+"=") {
			t.Errorf("lab env lacks %s", k)
		}
	}
	b, err := os.ReadFile(filepath.Join(env.StateDir, "secrets", "CASS_PASS"))
	if err != nil || string(b) != env.CassandraPassword {
		t.Errorf("CASS_PASS file: %v", err)
	}
	if st, _ := os.Stat(filepath.Join(env.StateDir, "secrets", "CASS_PASS")); st == nil || st.Mode().Perm() != 0o600 {
		t.Errorf("CASS_PASS file mode %v", st)
	}
}

func labEnv(t *testing.T, env *lab.Env) {
	for k, v := range env.Vars() {
		t.Setenv(k, v)
	}
}

// TestStatusAgainstTheLab: healthy lab, exit 0, one screenful without colour off a TTY,
// and JSON that carries the snapshot.
func TestStatusAgainstTheLab(t *testing.T) {
	env := labtest.Require(t)
	labEnv(t, env)
	code, out, stderr := run(t, false, "status", "-o", "json")
	if code != 0 && code != ExitDegraded {
		t.Fatalf("exit %d: %s %s", code, out, stderr)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["health"] != "healthy" && doc["health"] != "degraded" {
		t.Errorf("health %v", doc["health"])
	}
	for _, src := range doc["sources"].([]any) {
		m := src.(map[string]any)
		if m["synced"] != true || m["error"] != nil {
			t.Errorf("source %v: %v", m["name"], m)
		}
	}
	for _, secret := range []string{env.CassandraPassword, env.MySQLPassword} {
		if strings.Contains(out+stderr, secret) {
			t.Fatal("status printed a password")
		}
	}
	code, out, _ = run(t, false, "status")
	if strings.Contains(out, "\x1b[") {
		t.Errorf("colour escapes without a TTY: %q", out)
	}
	for _, want := range []string{"context " + lab.ContextName, "traffic", "cassandra 3/3 nodes up", "QUORUM ✓ reachable", "mysql     ✓", "findings"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if lines := strings.Count(out, "\n"); lines > 40 {
		t.Errorf("status is %d lines: more than a screenful", lines)
	}
}

// TestStatusJSONFieldsAreFrozen: the JSON field set of `status -o json` (from the types'
// json tags) matches testdata/status-fields.golden; change it deliberately with -update.
func TestStatusJSONFieldsAreFrozen(t *testing.T) {
	var paths []string
	var walk func(prefix string, ty reflect.Type)
	walk = func(prefix string, ty reflect.Type) {
		for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice || ty.Kind() == reflect.Map {
			if ty.Kind() == reflect.Map {
				prefix += "{}"
			} else if ty.Kind() == reflect.Slice {
				prefix += "[]"
			}
			ty = ty.Elem()
		}
		if ty.Kind() != reflect.Struct || ty.PkgPath() == "time" {
			return
		}
		for i := 0; i < ty.NumField(); i++ {
			f := ty.Field(i)
			name := strings.Split(f.Tag.Get("json"), ",")[0]
			if name == "-" || !f.IsExported() {
				continue
			}
			if f.Anonymous && name == "" {
				walk(prefix, f.Type)
				continue
			}
			if name == "" {
				name = f.Name
			}
			p := strings.TrimPrefix(prefix+"."+name, ".")
			paths = append(paths, p)
			walk(p, f.Type)
		}
	}
	walk("", reflect.TypeOf(model.StatusDocument{}))
	sort.Strings(paths)
	got := strings.Join(paths, "\n") + "\n"
	golden := filepath.Join("testdata", "status-fields.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update once)", err)
	}
	if got != string(want) {
		t.Errorf("the status JSON field set changed; if deliberate, run go test ./cmd/apimctl/cli -update and say so in the changelog.\ngot:\n%s", got)
	}
}

// TestStatusReadsTheSecrets: with only the kube context set, Cassandra and MySQL settings come
// from the Secrets the gateways use; without a Prometheus URL that source fails alone.
func TestStatusReadsTheSecrets(t *testing.T) {
	env := labtest.Require(t)
	for _, k := range []string{"CASS_HOST", "CASS_PORT", "CASS_USERNAME", "CASS_PASS", "METRICS_DB_URL", "METRICS_DB_USERNAME", "METRICS_DB_PASS", "PROMETHEUS_URL", "KUBECONFIG"} {
		t.Setenv(k, "")
	}
	code, out, _ := run(t, false, "--kubeconfig", env.Kubeconfig, "-n", env.Namespace, "status", "-o", "json")
	var doc model.StatusDocument
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if code != ExitDegraded {
		t.Errorf("exit %d, want 3 (Prometheus has no URL)", code)
	}
	for _, s := range doc.Sources {
		switch s.Name {
		case "cassandra", "mysql", "kube":
			if !s.Synced || s.Error != "" {
				t.Errorf("%s: %+v, want synced via the Secret", s.Name, s)
			}
		case "prometheus":
			if s.Error == "" || !strings.Contains(s.Error, "PROMETHEUS_URL") {
				t.Errorf("prometheus: %+v, want an error naming PROMETHEUS_URL", s)
			}
		}
	}
	if len(doc.Cassandra.Nodes) != len(env.CassandraHosts) {
		t.Errorf("cassandra nodes %+v", doc.Cassandra.Nodes)
	}
}

// TestStatusWithoutKubeCouldNotRun: an unusable kubeconfig is exit 1 with a hint.
func TestStatusWithoutKubeCouldNotRun(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(bad, []byte("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PROMETHEUS_URL", "")
	code, _, stderr := run(t, false, "--kubeconfig", bad, "status", "--timeout", "3s")
	if code != ExitError || !strings.Contains(stderr, "hint:") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func keys(m map[string]any) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}
