package drills

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apimctl/apimctl/backup"
	"github.com/apimctl/apimctl/cmd/apimctl/cli"
	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/lab/labtest"
)

// TestDisasterRecoveryRestore backs up a keyspace of its own (a regular and a counter table),
// the metrics database and the namespace, then restores it as a DR site would: the keyspace
// under another name with another replication, the database into metrics_dr, the namespace
// into a new one whose gateways (real processes) must become available. The first run is cut
// short (its wait times out) and the second resumes from the recorded steps.
func TestDisasterRecoveryRestore(t *testing.T) {
	env, _, cs := gatewayLab(t)
	ctx := context.Background()
	n := time.Now().UnixNano() % 1e6
	src, dst, ns := fmt.Sprintf("bksrc_%d", n), fmt.Sprintf("bkdr_%d", n), fmt.Sprintf("dr-%d", n)
	audit := filepath.Join(t.TempDir(), "audit.log")

	cl := labtest.Cassandra(t, env)
	s := cl.Session()
	labtest.ExecCQL(t, s, "CREATE KEYSPACE "+src+" WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}")
	t.Cleanup(func() {
		s.Query("DROP KEYSPACE IF EXISTS " + src).Exec()
		s.Query("DROP KEYSPACE IF EXISTS " + dst).Exec()
	})
	labtest.ExecCQL(t, s, "CREATE TABLE "+src+".items (id int PRIMARY KEY, v text)")
	labtest.ExecCQL(t, s, "CREATE TABLE "+src+".hits (k text PRIMARY KEY, n counter)")
	for i := range 100 {
		labtest.ExecCQL(t, s, "INSERT INTO "+src+".items (id, v) VALUES (?, ?)", i, fmt.Sprintf("item %d", i))
	}
	for i := range 10 {
		labtest.ExecCQL(t, s, fmt.Sprintf("UPDATE %s.hits SET n = n + %d WHERE k = ?", src, i*3+1), fmt.Sprintf("key-%d", i))
	}

	id, _ := age.GenerateX25519Identity()
	keyFile := filepath.Join(t.TempDir(), "dr.key")
	os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600)
	dir := t.TempDir()
	r := apimctl(t, env, audit, false, "", "backup", "create", "--dir", dir, "--keyspace", src, "--recipient", id.Recipient().String(), "--yes")
	if r.code != 0 {
		t.Fatalf("backup: exit %d", r.code)
	}
	entries, _ := os.ReadDir(dir)
	bdir := filepath.Join(dir, entries[0].Name())
	m, err := backup.ReadManifest(bdir)
	if err != nil {
		t.Fatal(err)
	}

	restore := []string{"backup", "restore", bdir, "--namespace", ns, "--keyspace-map", src + "=" + dst,
		"--replication", "{'class': 'NetworkTopologyStrategy', 'dc1': 3}", "--database", lab.MySQLDRDatabase, "--identity", keyFile}
	with := func(extra ...string) []string { return slices.Concat(restore, extra) }
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })

	if r = apimctl(t, env, audit, false, "", with("--dry-run")...); r.code != 0 || !strings.Contains(r.errOut, "cassandra "+src+" → "+dst) {
		t.Fatalf("dry run: exit %d", r.code)
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err == nil {
		t.Fatal("the dry run created the namespace")
	}
	other, _ := age.GenerateX25519Identity()
	otherKey := filepath.Join(t.TempDir(), "other.key")
	os.WriteFile(otherKey, []byte(other.String()+"\n"), 0o600)
	if r = apimctl(t, env, audit, false, "", with("--identity", otherKey, "--yes")...); r.code != cli.ExitUsage || !strings.Contains(r.errOut, "--identity") {
		t.Errorf("a wrong identity: exit %d", r.code)
	}

	// Interrupted: the workloads cannot be ready within 1 ms; every step before is recorded.
	if r = apimctl(t, env, audit, false, "", with("--yes", "--timeout", "1ms")...); r.code != cli.ExitError || !strings.Contains(r.errOut, "run the restore again to resume") {
		t.Fatalf("interrupted restore: exit %d", r.code)
	}
	r = apimctl(t, env, audit, false, "", with("--yes", "--timeout", "3m", "-o", "json")...)
	var rep struct {
		Steps []struct {
			Step    string `json:"step"`
			Skipped bool   `json:"skipped"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(r.out), &rep); r.code != 0 || err != nil {
		t.Fatalf("resumed restore: exit %d %v", r.code, err)
	}
	var skipped, ran []string
	for _, s := range rep.Steps {
		if s.Skipped {
			skipped = append(skipped, s.Step)
		} else {
			ran = append(ran, s.Step)
		}
	}
	if len(skipped) != 3 || len(ran) != 1 || ran[0] != "workloads ready" {
		t.Errorf("the second run redid %v and skipped %v; want only the wait redone", ran, skipped)
	}

	// Cassandra: the rows and the counters, under the new name with the new replication.
	var items, sum int64
	if err := s.Query("SELECT COUNT(*) FROM " + dst + ".items").Scan(&items); err != nil || items != 100 {
		t.Errorf("restored items: %d %v", items, err)
	}
	it := s.Query("SELECT n FROM " + dst + ".hits").Iter()
	var c int64
	for it.Scan(&c) {
		sum += c
	}
	if err := it.Close(); err != nil || sum != 145 { // Σ(3i+1), i<10
		t.Errorf("restored counters sum to %d (%v), want 145", sum, err)
	}
	ks, err := cl.Keyspace(dst)
	if err != nil || !strings.Contains(ks.Strategy, "NetworkTopology") {
		t.Errorf("restored keyspace replication: %+v %v", ks, err)
	}

	// MySQL: every table of the dump, with as many rows as were backed up — except the
	// event checkpoints, which the DR namespace's Admin Node Manager rewrites for its own
	// (empty) events volume as soon as it runs: the restored Secret points it at
	// metrics_dr, its own database, no longer at the primary's.
	db := labtest.MySQL(t, env, lab.MySQLDRDatabase)
	var rows, want int64
	counted := map[string]bool{}
	for _, p := range m.PartsOf(backup.KindMySQLRows) {
		if p.Table == "apigw_event_checkpoints" {
			continue
		}
		want += p.Items
		if counted[p.Table] {
			continue
		}
		counted[p.Table] = true
		var c int64
		if err := db.QueryRow("SELECT COUNT(*) FROM `" + strings.ReplaceAll(p.Table, "`", "``") + "`").Scan(&c); err != nil && err != sql.ErrNoRows {
			t.Fatal(err)
		}
		rows += c
	}
	if rows != want {
		t.Errorf("%d rows in %s, the backup holds %d", rows, lab.MySQLDRDatabase, want)
	}

	// Kubernetes: the gateways of the DR namespace run and are available (checked by the
	// restore's last step); their Secret kept keyspaces the map does not name.
	sec, err := cs.CoreV1().Secrets(ns).Get(ctx, "cassandra-credentials", metav1.GetOptions{})
	if err != nil || string(sec.Data["CASS_KEYSPACE"]) != env.Keyspace {
		t.Errorf("restored Secret: %v %q", err, sec.Data["CASS_KEYSPACE"])
	}
	msec, err := cs.CoreV1().Secrets(ns).Get(ctx, "metrics-db-credentials", metav1.GetOptions{})
	if err != nil || !strings.HasSuffix(string(msec.Data["METRICS_DB_URL"]), "/"+lab.MySQLDRDatabase) {
		t.Errorf("the restored metrics Secret does not follow the database map: %v %q", err, msec.Data["METRICS_DB_URL"])
	}
	for _, d := range []string{"anm", "apimgr", "traffic"} {
		dep, err := cs.AppsV1().Deployments(ns).Get(ctx, d, metav1.GetOptions{})
		if err != nil || dep.Status.AvailableReplicas < 1 {
			t.Errorf("deployment %s in %s: %v", d, ns, err)
		}
	}
	var outcomes []string
	for _, rec := range auditRecords(t, audit) {
		outcomes = append(outcomes, rec.Action+":"+rec.Outcome)
	}
	if got := strings.Join(outcomes, " "); got != "backup.create:ok backup.restore:ok backup.restore:failed backup.restore:ok" {
		t.Errorf("audit trail %s", got)
	}
}
