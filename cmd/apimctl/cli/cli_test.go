package cli

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/lab/labtest"
)

func run(t *testing.T, tty bool, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, _, out, errOut := Test()
	ios.InTTY, ios.OutTTY, ios.ErrTTY = tty, tty, tty
	t.Setenv("APIMCTL_AUDIT_LOG", filepath.Join(t.TempDir(), "audit.log"))
	code = Main(ios, args)
	return code, out.String(), errOut.String()
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

// TestStatusAgainstTheLab: every source reachable, exit 0, and the JSON field set is frozen.
func TestStatusAgainstTheLab(t *testing.T) {
	env := labtest.Require(t)
	labEnv(t, env)
	code, out, stderr := run(t, false, "status", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, stderr)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(keys(rep), []string{"healthy", "sources"}) {
		t.Errorf("top-level fields %v", keys(rep))
	}
	srcs := rep["sources"].([]any)
	var names []string
	for _, s := range srcs {
		m := s.(map[string]any)
		names = append(names, m["source"].(string))
		for _, k := range keys(m) {
			if !map[string]bool{"source": true, "reachable": true, "endpoint": true, "detail": true, "error": true, "hint": true}[k] {
				t.Errorf("unexpected field %q", k)
			}
		}
		if m["reachable"] != true {
			t.Errorf("%v unreachable: %v", m["source"], m["error"])
		}
	}
	if strings.Join(names, ",") != "kube,cassandra,mysql,prometheus" {
		t.Errorf("sources %v", names)
	}
	for _, secret := range []string{env.CassandraPassword, env.MySQLPassword} {
		if strings.Contains(out+stderr, secret) {
			t.Fatal("status printed a password")
		}
	}
	// Table output without a TTY has no colour escapes.
	code, out, _ = run(t, false, "status")
	if code != 0 || strings.Contains(out, "\x1b[") || !strings.Contains(out, "✓ reachable") {
		t.Errorf("table: exit %d, %q", code, out)
	}
}

// TestStatusReadsTheSecrets: with only the kube context set, Cassandra and MySQL settings come
// from the Secrets the gateways use.
func TestStatusReadsTheSecrets(t *testing.T) {
	env := labtest.Require(t)
	for _, k := range []string{"CASS_HOST", "CASS_PORT", "CASS_USERNAME", "CASS_PASS", "METRICS_DB_URL", "METRICS_DB_USERNAME", "METRICS_DB_PASS", "PROMETHEUS_URL"} {
		t.Setenv(k, "")
	}
	code, out, _ := run(t, false, "--kubeconfig", env.Kubeconfig, "-n", env.Namespace, "status", "-o", "json")
	var rep StatusReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if code != ExitDegraded {
		t.Errorf("exit %d, want 3 (Prometheus has no URL)", code)
	}
	for _, s := range rep.Sources {
		switch s.Source {
		case "cassandra", "mysql":
			if !s.Reachable || !strings.Contains(s.Detail, "secret "+env.Namespace) {
				t.Errorf("%s: %+v, want reachable via the Secret", s.Source, s)
			}
		case "prometheus":
			if s.Reachable || s.Hint == "" {
				t.Errorf("prometheus: %+v, want unreachable with a hint", s)
			}
		}
	}
}

// TestStatusUnreachableSourceIsDegraded: a MySQL URL nobody listens on gives exit 3 and says
// why, while the other sources are still probed.
func TestStatusUnreachableSourceIsDegraded(t *testing.T) {
	env := labtest.Require(t)
	labEnv(t, env)
	t.Setenv("METRICS_DB_URL", "jdbc:mysql://127.0.0.1:1/metrics")
	code, out, _ := run(t, false, "status", "-o", "json", "--timeout", "3s")
	if code != ExitDegraded {
		t.Fatalf("exit %d, want 3", code)
	}
	var rep StatusReport
	_ = json.Unmarshal([]byte(out), &rep)
	for _, s := range rep.Sources {
		if s.Source == "mysql" && (s.Reachable || !strings.Contains(s.Error, "refused")) {
			t.Errorf("mysql: %+v", s)
		}
		if s.Source == "kube" && !s.Reachable {
			t.Errorf("kube unreachable: %+v", s)
		}
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
