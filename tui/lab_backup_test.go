package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apimctl/apimctl/backup"
	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/lab/labtest"
)

// TestLabBackupActionsFromTheConsole backs up a throwaway namespace and keyspace from the
// console (B), then from the backups dialog (V): verifies it (a read: no record), restores it
// into a new namespace, keyspace and the DR database with the form (the rows, the objects
// and the tables are there after), prunes the older backups (the directory loses them), and
// verifies a tampered copy (the file is named). Every change has its intent and outcome in
// the audit log.
func TestLabBackupActionsFromTheConsole(t *testing.T) {
	env := labtest.Require(t)
	cs := labtest.Clientset(t, env)
	ctx := context.Background()
	ns, objs := labtest.Topology(t, env, "tui-backup")
	labtest.ApplyOf(t, env, objs, map[string]bool{"Secret": true, "ConfigMap": true})
	n := time.Now().UnixNano() % 1e6
	// The keyspaces are the test's own, the throttle keyspace too: the connection would take
	// the lab's from the namespace's Secret otherwise, and restore into it.
	src, dst, nsDR := fmt.Sprintf("tuibk_%d", n), fmt.Sprintf("tuidr_%d", n), ns+"-dr"
	srcT, dstT := src+"_t", dst+"_t"
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), nsDR, metav1.DeleteOptions{}) })

	s := labtest.Cassandra(t, env).Session() // closed after the keyspaces are dropped (cleanups run last-registered first)
	t.Cleanup(func() {
		for _, ks := range []string{src, dst, srcT, dstT} {
			if err := s.Query("DROP KEYSPACE IF EXISTS " + ks).Exec(); err != nil {
				t.Errorf("drop keyspace %s: %v", ks, err)
			}
		}
	})
	for _, ks := range []string{src, srcT} {
		labtest.ExecCQL(t, s, "CREATE KEYSPACE "+ks+" WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}")
	}
	labtest.ExecCQL(t, s, "CREATE TABLE "+src+".items (id int PRIMARY KEY, v text)")
	labtest.ExecCQL(t, s, "CREATE TABLE "+srcT+".hits (k text PRIMARY KEY, n counter)")
	labtest.ExecCQL(t, s, "UPDATE "+srcT+".hits SET n = n + 7 WHERE k = ?", "key")
	for i := range 60 {
		labtest.ExecCQL(t, s, "INSERT INTO "+src+".items (id, v) VALUES (?, ?)", i, fmt.Sprintf("item %d", i))
	}

	// Two older backups (real ones, of nothing) for prune; the age key for the Secrets.
	dir := t.TempDir()
	var older []string
	for _, age := range []time.Duration{72 * time.Hour, 48 * time.Hour} {
		at := time.Now().Add(-age)
		w, err := backup.Create(context.Background(), backup.Dir(dir), backup.NewID(at, ns), backup.Source{Context: lab.ContextName, Namespace: ns, Tool: "test"}, at)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Finish(context.Background(), at); err != nil {
			t.Fatal(err)
		}
		older = append(older, filepath.Base(w.Dir()))
	}
	id, _ := age.GenerateX25519Identity()
	keyFile := filepath.Join(t.TempDir(), "dr.key")
	if err := os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		return map[string]string{"APIMCTL_BACKUP_DIR": dir, "APIMCTL_BACKUP_RECIPIENTS": id.Recipient().String()}[k]
	}
	tg := labTargets(env, ns)
	tg.Keyspace, tg.ThrottleKeyspace = src, srcT
	c := startLabConsole(t, env, tg, getenv, false)

	// B: the plan (the Secrets encrypted to the recipient), y, the backup is written.
	c.keys("B")
	c.waitFor(30*time.Second, "Back up namespace "+ns+" into "+dir, "encrypted to 1 recipient(s)", src)
	c.keys("y")
	c.waitFor(2*time.Minute, "written:", "apimctl backup verify")
	created := c.requireRan("backup.create")
	bid := created.Details["id"]
	if bid == "" {
		t.Fatalf("backup record %+v", created)
	}

	// V, v: verified, a read — nothing recorded.
	c.keys("esc", "V")
	c.waitFor(30*time.Second, "Backups", bid, older[0], older[1])
	c.keys("v")
	c.waitFor(time.Minute, "backup "+bid+":", "files match the manifest")
	if recs, _ := readAudit(c.audit); len(recs) != 2 {
		t.Errorf("verify recorded something: %+v", recs)
	}

	// r: the form, the plan, y: restored into a new namespace, keyspace and the DR database.
	c.keys("esc", "V")
	c.waitFor(30*time.Second, "▸ "+bid)
	c.keys("r")
	c.waitFor(10*time.Second, "Restore · "+bid, "identity file")
	c.keys("text:"+nsDR, "enter", "text:"+src+"="+dst+", "+srcT+"="+dstT, "enter", "text:"+lab.MySQLDRDatabase, "enter", "text:"+keyFile, "enter", "enter", "enter", "enter")
	c.waitFor(time.Minute, "Restore · "+bid+" → "+nsDR, "cassandra "+src+" → "+dst, "cassandra "+srcT+" → "+dstT, "mysql "+env.MySQLDatabase+" → "+lab.MySQLDRDatabase,
		"kubernetes namespace "+nsDR, "overwritten)?")
	if _, err := cs.CoreV1().Namespaces().Get(ctx, nsDR, metav1.GetOptions{}); err == nil {
		t.Fatal("the plan created the namespace")
	}
	c.keys("y")
	t.Log("\n" + c.waitFor(3*time.Minute, "restored into "+nsDR))
	rec := c.requireRan("backup.restore")
	if rec.KeyspaceMap[src] != dst || rec.KeyspaceMap[srcT] != dstT || rec.Database != lab.MySQLDRDatabase || rec.Namespace != nsDR {
		t.Errorf("restore record %+v", rec)
	}
	var rows int
	if err := s.Query("SELECT COUNT(*) FROM " + dst + ".items").Scan(&rows); err != nil || rows != 60 {
		t.Errorf("restored rows: %d %v, want 60", rows, err)
	}
	var hits int
	if err := s.Query("SELECT n FROM "+dstT+".hits WHERE k = ?", "key").Scan(&hits); err != nil || hits != 7 {
		t.Errorf("restored counter: %d %v, want 7", hits, err)
	}
	if _, err := cs.CoreV1().Secrets(nsDR).Get(ctx, "cassandra-credentials", metav1.GetOptions{}); err != nil {
		t.Errorf("restored Secret: %v", err)
	}
	requireDatabaseRestored(t, env, filepath.Join(dir, bid))

	// p: keep 1 — the plan names the two older backups, y deletes them.
	c.keys("esc", "V")
	c.waitFor(30*time.Second, "▸ "+bid)
	c.keys("p")
	c.waitFor(10*time.Second, "Prune backups", "keep newest")
	c.keys("text:1", "enter")
	c.waitFor(30*time.Second, "delete      ! "+older[0], "delete      ! "+older[1], "Delete 2 backups from "+dir+" (keeping the newest 1)?")
	c.keys("y")
	c.waitFor(30*time.Second, "2 backups deleted from "+dir)
	left, _ := backup.List(dir)
	if len(left) != 1 || left[0].ID != bid {
		t.Errorf("after prune the directory holds %+v", left)
	}
	if rec := c.requireRan("backup.prune"); rec.Details["keep"] != "1" {
		t.Errorf("prune record %+v", rec)
	}

	// A tampered file is named by verify.
	m, err := backup.ReadManifest(filepath.Join(dir, bid))
	if err != nil {
		t.Fatal(err)
	}
	part := m.PartsOf(backup.KindCassandraRows)[0]
	if err := os.WriteFile(filepath.Join(dir, bid, filepath.FromSlash(part.Path)), []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.keys("esc", "V")
	c.waitFor(30*time.Second, "▸ "+bid)
	c.keys("v")
	c.waitFor(time.Minute, "problems: backup "+bid, part.Path+": size")
}

// requireDatabaseRestored checks that every table of the backup's database is in the DR
// database with as many rows as the backup holds.
func requireDatabaseRestored(t *testing.T, env *lab.Env, bdir string) {
	t.Helper()
	m, err := backup.ReadManifest(bdir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	for _, p := range m.PartsOf(backup.KindMySQLRows) {
		if p.Database == env.MySQLDatabase {
			want[p.Table] += p.Items
		}
	}
	db := labtest.MySQL(t, env, lab.MySQLDRDatabase)
	if len(want) == 0 {
		t.Fatalf("the backup holds no table of %s", env.MySQLDatabase)
	}
	for table, rows := range want {
		var n int64
		if err := db.QueryRow("SELECT COUNT(*) FROM `" + table + "`").Scan(&n); err != nil {
			t.Fatalf("table %s in %s: %v", table, lab.MySQLDRDatabase, err)
		}
		if n != rows {
			t.Errorf("%s.%s: %d rows, the backup holds %d", lab.MySQLDRDatabase, table, n, rows)
		}
	}
}
