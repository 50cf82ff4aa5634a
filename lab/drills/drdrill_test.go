package drills

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apimctl/apimctl/cluster/cassandra"
	"github.com/apimctl/apimctl/cmd/apimctl/cli"
	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/lab/labtest"
)

// TestDRDrill is `apimctl dr drill` on the lab as the issue asks: a canary made on the
// primary, a backup, then the newest backup restored into the DR context (apim-lab-dr, a
// namespace of its own, keyspaces and the metrics database under other names) with the
// images copied to the DR registry's stand-in (REG/dr/…), and smoke traffic: the key issued
// before the backup accepted by the DR gateways, the revoked one refused, the metrics
// database answering. It logs the timed report. Then the refusals: a drill onto its own
// source, a smoke test that fails (exit 3), and images the DR cluster cannot run (fails
// early naming the cause, exit 1). It stops nothing of the lab.
func TestDRDrill(t *testing.T) {
	env, l, cs := gatewayLab(t)
	if ok, err := l.AgentRunsDRImages(); !ok {
		t.Fatalf("the lab's agent does not run the DR registry's images (%v): restart the lab (apimctl lab down && apimctl lab up)", err)
	}
	ctx := context.Background()
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	keys := filepath.Join(state, "drill-keys.json")
	t.Setenv("APIMCTL_DRILL_KEYS", keys)
	audit := filepath.Join(t.TempDir(), "audit.log")
	n := time.Now().UnixNano() % 1e6
	ns, ns2, ks, tks := fmt.Sprintf("drill-%d", n), fmt.Sprintf("drill-x-%d", n), fmt.Sprintf("drill_%d", n), fmt.Sprintf("drill_t_%d", n)
	t.Cleanup(func() {
		_ = cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
		_ = cs.CoreV1().Namespaces().Delete(context.Background(), ns2, metav1.DeleteOptions{})
		if cl, err := cassandra.Dial(context.Background(), labtest.CassandraTarget(env, 30*time.Second)); err == nil {
			_ = cl.Session().Query("DROP KEYSPACE IF EXISTS " + ks).Exec()
			_ = cl.Session().Query("DROP KEYSPACE IF EXISTS " + tks).Exec()
			cl.Close()
		}
	})

	if r := apimctl(t, env, audit, false, "", "dr", "canary", "--api", "orders", "--path", "/orders/1k", "--yes"); r.code != 0 {
		t.Fatalf("canary: exit %d", r.code)
	}
	id, _ := age.GenerateX25519Identity()
	keyFile := filepath.Join(t.TempDir(), "dr.key")
	os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600)
	loc := t.TempDir()
	if r := apimctl(t, env, audit, false, "", "backup", "create", "--location", loc, "--recipient", id.Recipient().String(), "--yes"); r.code != 0 {
		t.Fatalf("backup: exit %d", r.code)
	}

	reg := env.RegistryAddr + "/"
	drillInto := func(ns string, extra ...string) []string {
		return append([]string{"--context", lab.DRContext, "dr", "drill", "--location", loc, "--namespace", ns,
			"--keyspace-map", env.Keyspace + "=" + ks, "--keyspace-map", env.ThrottleKeyspace + "=" + tks, "--database", lab.MySQLDRDatabase,
			"--identity", keyFile, "--yes"}, extra...)
	}
	drill := func(extra ...string) []string { return drillInto(ns, extra...) }

	// Onto its own source: refused before anything happens.
	if r := apimctl(t, env, audit, false, "", "dr", "drill", "--location", loc, "--namespace", env.Namespace, "--identity", keyFile,
		"--database", lab.MySQLDRDatabase, "--yes"); r.code != cli.ExitUsage || !strings.Contains(r.errOut, "target is the backup's source") {
		t.Errorf("a drill onto its source: exit %d", r.code)
	}
	if r := apimctl(t, env, audit, false, "", "--context", lab.DRContext, "dr", "drill", "--location", loc, "--namespace", ns, "--identity", keyFile,
		"--database", lab.MySQLDRDatabase, "--yes"); r.code != cli.ExitUsage || !strings.Contains(r.errOut, "own keyspaces in the same Cassandra cluster") {
		t.Errorf("a drill over the source's keyspaces: exit %d", r.code)
	}

	// Images the DR cluster cannot run (copied where its nodes do not pull from): the wait
	// fails early naming the pods' cause. In a namespace of its own, deleted before the
	// drill proper so that the lab's nodes have room for it.
	if r := apimctl(t, env, audit, false, "", drillInto(ns2, "--registry", reg+"="+reg+"elsewhere/", "--stuck-after", "5s")...); r.code != cli.ExitError ||
		!strings.Contains(r.errOut, "ErrImagePull") || !strings.Contains(r.errOut, "waiting does not resolve") {
		t.Errorf("images the cluster cannot run: exit %d", r.code)
	}
	_ = cs.CoreV1().Namespaces().Delete(ctx, ns2, metav1.DeleteOptions{})
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		if _, err := cs.CoreV1().Namespaces().Get(ctx, ns2, metav1.GetOptions{}); err != nil {
			break
		}
	}

	// The drill.
	r := apimctl(t, env, audit, false, "", drill("--registry", reg+"="+reg+lab.DRRepositoryPrefix, "-o", "json")...)
	var doc struct {
		Report struct {
			Steps []struct {
				Step    string  `json:"step"`
				Seconds float64 `json:"seconds"`
				OK      bool    `json:"ok"`
				Detail  string  `json:"detail"`
			} `json:"steps"`
			Seconds float64 `json:"seconds"`
			Passed  bool    `json:"passed"`
		} `json:"report"`
	}
	if err := json.Unmarshal([]byte(r.out), &doc); r.code != 0 || err != nil || !doc.Report.Passed {
		t.Fatalf("drill: exit %d %v", r.code, err)
	}
	var report strings.Builder
	for _, s := range doc.Report.Steps {
		fmt.Fprintf(&report, "  %-58s %6.1fs  %s\n", s.Step, s.Seconds, s.Detail)
	}
	t.Logf("the drill's timed report (%.1fs end to end):\n%s", doc.Report.Seconds, report.String())
	for _, want := range []string{"copy images", "workloads ready", "smoke: key issued before the backup is accepted",
		"smoke: key revoked before the backup is refused", "smoke: the metrics database answers"} {
		if !strings.Contains(report.String(), want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	dep, err := cs.AppsV1().Deployments(ns).Get(ctx, "traffic", metav1.GetOptions{})
	if err != nil || !strings.HasPrefix(dep.Spec.Template.Spec.Containers[0].Image, reg+lab.DRRepositoryPrefix) {
		t.Errorf("the DR gateways do not run the copied image: %v", err)
	}

	// A smoke test that fails (the "valid" key is not one): restored, exit 3.
	var k map[string]any
	b, _ := os.ReadFile(keys)
	json.Unmarshal(b, &k)
	k["valid"] = "not-a-key-of-the-canary"
	bad := filepath.Join(state, "bad-keys.json")
	b, _ = json.Marshal(k)
	os.WriteFile(bad, b, 0o600)
	if r := apimctl(t, env, audit, false, "", drill("--registry", reg+"="+reg+lab.DRRepositoryPrefix, "--smoke-keys", bad)...); r.code != cli.ExitDegraded ||
		!strings.Contains(r.out, "smoke test FAILED") || !strings.Contains(r.out, "answered 401, want 2xx") {
		t.Errorf("a failing smoke test: exit %d", r.code)
	}

	var outcomes []string
	for _, rec := range auditRecords(t, audit) {
		if rec.Action == "dr.drill" {
			outcomes = append(outcomes, rec.Phase+":"+rec.Outcome)
			if rec.Phase == "outcome" && (rec.Context != lab.DRContext || rec.KeyspaceMap[env.Keyspace] != ks) {
				t.Errorf("drill record %+v", rec.Scope)
			}
		}
	}
	if got := strings.Join(outcomes, " "); got != "outcome:failed outcome:ok outcome:smoke-failed" {
		t.Errorf("drill audit trail %s", got)
	}
}
