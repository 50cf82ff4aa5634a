package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocql/gocql"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apimctl/apimctl/backup"
	"github.com/apimctl/apimctl/cmd/apimctl/cli/factory"
	"github.com/apimctl/apimctl/lab/labtest"
	"github.com/apimctl/apimctl/ops/action"
)

// Restores through the command line against the lab's Cassandra: exact over a drifted
// target, not skipped for a second target, resumed to an exact result after an
// interruption mid-keyspace, --merge keeping extra rows, and the audit record naming the
// keyspace map.

type keyspaceRows struct {
	Items map[int]string
	Hits  map[string]int64
}

func readKeyspace(t *testing.T, s *gocql.Session, ks string) keyspaceRows {
	t.Helper()
	out := keyspaceRows{Items: map[int]string{}, Hits: map[string]int64{}}
	it := s.Query("SELECT id, v FROM " + ks + ".items").PageSize(5000).Iter()
	var id int
	var v string
	for it.Scan(&id, &v) {
		out.Items[id] = v
	}
	if err := it.Close(); err != nil {
		t.Fatalf("%s.items: %v", ks, err)
	}
	it = s.Query("SELECT k, n FROM " + ks + ".hits").Iter()
	var k string
	var n int64
	for it.Scan(&k, &n) {
		out.Hits[k] = n
	}
	if err := it.Close(); err != nil {
		t.Fatalf("%s.hits: %v", ks, err)
	}
	return out
}

// runAudited is run with the audit log kept in audit.
func runAudited(t *testing.T, audit string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, _, out, errOut := Test()
	t.Setenv("APIMCTL_AUDIT_LOG", audit)
	code = Main(ios, args)
	return code, out.String(), errOut.String()
}

// cancelOn is a progress stream that cancels the command once a line contains match.
type cancelOn struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	match  string
	cancel context.CancelFunc
}

func (c *cancelOn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(b)
	if c.match != "" && strings.Contains(c.buf.String(), c.match) {
		c.cancel()
	}
	return len(b), nil
}

func TestRestoreIsExactAndResumes(t *testing.T) {
	env := labtest.Require(t)
	labEnv(t, env)
	t.Setenv("XDG_STATE_HOME", t.TempDir()) // the journals
	audit := filepath.Join(t.TempDir(), "audit.log")
	ctx := context.Background()
	s := labtest.Cassandra(t, env).Session()
	n := time.Now().UnixNano() % 1e6
	src, dstA, dstB := fmt.Sprintf("rx_src_%d", n), fmt.Sprintf("rx_a_%d", n), fmt.Sprintf("rx_b_%d", n)
	exec := func(q string, args ...any) {
		t.Helper()
		if err := s.Query(q, args...).Exec(); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("CREATE KEYSPACE " + src + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}")
	t.Cleanup(func() {
		for _, ks := range []string{src, dstA, dstB} {
			_ = s.Query("DROP KEYSPACE IF EXISTS " + ks).Exec()
		}
	})
	exec("CREATE TABLE " + src + ".items (id int PRIMARY KEY, v text)")
	exec("CREATE TABLE " + src + ".hits (k text PRIMARY KEY, n counter)")
	// More rows than a small table (10,000): the items are read and loaded in token-range
	// units, so an interruption lands between units.
	var wg sync.WaitGroup
	rows := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range rows {
				if err := s.Query("INSERT INTO "+src+".items (id, v) VALUES (?, ?)", i, fmt.Sprintf("item %d", i)).Exec(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for i := range 12000 {
		rows <- i
	}
	close(rows)
	wg.Wait()
	for i := range 40 {
		exec(fmt.Sprintf("UPDATE %s.hits SET n = n + %d WHERE k = ?", src, i+1), fmt.Sprintf("k%d", i))
	}
	want := readKeyspace(t, s, src)

	loc := t.TempDir()
	if code, _, errOut := runAudited(t, audit, "backup", "create", "--location", loc, "--only", "cassandra", "--keyspace", src, "--parallel", "2", "--yes"); code != 0 {
		t.Fatalf("backup: exit %d\n%s", code, errOut)
	}
	entries, _ := os.ReadDir(loc)
	id := entries[0].Name()
	restore := func(ks string, extra ...string) []string {
		return append([]string{"backup", "restore", id, "--location", loc, "--only", "cassandra", "--keyspace-map", src + "=" + ks, "--yes", "--parallel", "2"}, extra...)
	}

	// Interrupted once the first table is loaded (the other is then midway or not started).
	cctx, cancel := context.WithCancel(ctx)
	ios, _, _, _ := Test()
	progress := &cancelOn{match: " rows in ", cancel: cancel}
	ios.ErrOut = progress
	code := Run(cctx, factory.New(ios, "test", "test"), restore(dstA))
	cancel()
	if code == 0 {
		t.Fatalf("the interrupted restore ended 0:\n%s", progress.buf.String())
	}
	t.Logf("interrupted: exit %d\n%s", code, progress.buf.String())
	if !strings.Contains(progress.buf.String(), "run the restore again to resume") {
		t.Errorf("the interrupted restore does not say how to resume:\n%s", progress.buf.String())
	}
	// Run again: it resumes, and the result is exact.
	code, _, errOut := runAudited(t, audit, restore(dstA)...)
	if code != 0 || !strings.Contains(errOut, "resumes the interrupted run") {
		t.Fatalf("resumed restore: exit %d\n%s", code, errOut)
	}
	if got := readKeyspace(t, s, dstA); !reflect.DeepEqual(got, want) {
		t.Errorf("after the resumed restore %s differs: %d items, %d hits; want %d, %d", dstA, len(got.Items), len(got.Hits), len(want.Items), len(want.Hits))
	}

	// Drift: rows removed and added, a counter bumped; restoring again makes it equal again.
	for i := range 20 {
		exec("DELETE FROM "+dstA+".items WHERE id = ?", i)
	}
	exec("INSERT INTO " + dstA + ".items (id, v) VALUES (999999, 'added after the backup')")
	exec("UPDATE " + dstA + ".hits SET n = n + 100 WHERE k = 'k1'")
	if code, _, errOut := runAudited(t, audit, restore(dstA)...); code != 0 || strings.Contains(errOut, "earlier run") {
		t.Fatalf("restore over the drifted target: exit %d\n%s", code, errOut)
	}
	if got := readKeyspace(t, s, dstA); !reflect.DeepEqual(got, want) {
		t.Errorf("after restoring over drift %s differs: %d items (row 999999: %q), hits k1 %d; want %d items, k1 %d",
			dstA, len(got.Items), got.Items[999999], got.Hits["k1"], len(want.Items), want.Hits["k1"])
	}

	// A second target is restored, not skipped.
	if code, _, errOut := runAudited(t, audit, restore(dstB)...); code != 0 || strings.Contains(errOut, "earlier run") {
		t.Fatalf("restore to a second target: exit %d\n%s", code, errOut)
	}
	if got := readKeyspace(t, s, dstB); !reflect.DeepEqual(got, want) {
		t.Errorf("second target %s differs", dstB)
	}
	// --merge keeps a row the backup does not have.
	exec("INSERT INTO " + dstB + ".items (id, v) VALUES (999999, 'kept')")
	exec("DELETE FROM " + dstB + ".items WHERE id = 5")
	if code, _, errOut := runAudited(t, audit, restore(dstB, "--merge")...); code != 0 {
		t.Fatalf("merge: exit %d\n%s", code, errOut)
	}
	got := readKeyspace(t, s, dstB)
	if got.Items[999999] != "kept" || got.Items[5] != "item 5" || len(got.Items) != len(want.Items)+1 || !reflect.DeepEqual(got.Hits, want.Hits) {
		t.Errorf("after --merge: %d items, row 999999 %q, row 5 %q", len(got.Items), got.Items[999999], got.Items[5])
	}

	// The audit records carry the keyspace map and the target keyspaces.
	recs, err := action.ReadLog(audit)
	if err != nil {
		t.Fatal(err)
	}
	var restores int
	for _, r := range recs {
		if r.Action == "backup.restore" && r.Phase == action.PhaseOutcome {
			restores++
			if len(r.KeyspaceMap) != 1 || r.KeyspaceMap[src] == "" || len(r.Keyspaces) != 1 || r.Keyspaces[0] != r.KeyspaceMap[src] {
				t.Errorf("restore record without its keyspace map: %+v", r.Scope)
			}
		}
	}
	if restores != 5 {
		t.Errorf("%d restore outcomes recorded, want 5", restores)
	}
}

// TestRestorePlanSaysWhatTheWorkloadsLack is the case: a backup made without
// --recipient (so without Secrets), restored into a new namespace. The plan says the
// workloads will lack their Secrets and stops (exit 3, nothing created); forced, the wait
// names the pods' CreateContainerConfigError and fails early instead of timing out.
func TestRestorePlanSaysWhatTheWorkloadsLack(t *testing.T) {
	env := labtest.Require(t)
	labEnv(t, env)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	cs := labtest.Clientset(t, env)
	loc := t.TempDir()
	if code, _, errOut := run(t, false, "backup", "create", "--location", loc, "--only", "kube", "--yes"); code != 0 {
		t.Fatalf("backup: exit %d\n%s", code, errOut)
	}
	entries, _ := os.ReadDir(loc)
	ns := fmt.Sprintf("lack-%d", time.Now().UnixNano()%1e6)
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	args := []string{"backup", "restore", entries[0].Name(), "--location", loc, "--namespace", ns, "--yes", "--timeout", "5m", "--stuck-after", "5s"}

	code, _, errOut := run(t, false, args...)
	if code != ExitDegraded || !strings.Contains(errOut, "lacks") || !strings.Contains(errOut, "secret cassandra-credentials used by deployment/") ||
		!strings.Contains(errOut, "--force") {
		t.Fatalf("the plan: exit %d, want 3 naming the missing Secret\n%s", code, errOut)
	}
	if _, err := cs.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{}); err == nil {
		t.Fatal("the blocked restore created the namespace")
	}
	start := time.Now()
	code, _, errOut = run(t, false, append(args, "--force")...)
	took := time.Since(start)
	t.Logf("forced restore: exit %d after %s\n%s", code, took.Round(time.Second), errOut)
	if code != ExitError || !strings.Contains(errOut, "CreateContainerConfigError") || !strings.Contains(errOut, "cassandra-credentials") ||
		!strings.Contains(errOut, "waiting does not resolve") || strings.Contains(errOut, "not available within") {
		t.Fatalf("the forced restore: exit %d, want 1 naming CreateContainerConfigError and the Secret", code)
	}
	pods, _ := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	stuck := 0
	for _, p := range pods.Items {
		for _, c := range p.Status.ContainerStatuses {
			if c.State.Waiting != nil && c.State.Waiting.Reason == "CreateContainerConfigError" {
				stuck++
			}
		}
	}
	if stuck == 0 {
		t.Errorf("no pod of %s is in CreateContainerConfigError: %d pods", ns, len(pods.Items))
	}
}

// TestBackupToAzurite: a backup written straight to the lab's Azurite (Cassandra keyspace,
// events), listed, verified and restored from there; wrong credentials are refused with
// exit 1 and no key in the message.
func TestBackupToAzurite(t *testing.T) {
	env := labtest.Require(t)
	if env.AzureBlobEndpoint == "" {
		labtest.Missing(t, "the lab has no azurite component (apimctl lab up)")
	}
	labEnv(t, env)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	t.Setenv("AZURE_STORAGE_CONNECTION_STRING", env.AzureConnectionString())
	where := fmt.Sprintf("azure://bk-cli-%d/site", time.Now().UnixNano()%1e9)
	events := t.TempDir()
	writeFiles(t, events, map[string]string{"traffic-1/a.log": "one\n", "traffic-2/b.log": "two\n"})

	code, out, errOut := run(t, false, "backup", "create", "--location", where, "--only", "cassandra,events", "--keyspace", env.Keyspace, "--events", events, "--yes")
	if code != 0 {
		t.Fatalf("create on Azure: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = run(t, false, "backup", "list", "--location", where, "-o", "json")
	var list []struct {
		ID       string `json:"id"`
		Complete bool   `json:"complete"`
	}
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list) != 1 || !list[0].Complete {
		t.Fatalf("list on Azure: exit %d %v\n%s%s", code, err, out, errOut)
	}
	id := list[0].ID
	if code, out, errOut := run(t, false, "backup", "verify", id, "--location", where); code != 0 || !strings.Contains(out, "match the manifest") {
		t.Fatalf("verify on Azure: exit %d\n%s%s", code, out, errOut)
	}
	to := t.TempDir()
	if code, _, errOut := run(t, false, "backup", "restore", id, "--location", where, "--only", "events", "--events", to, "--yes"); code != 0 {
		t.Fatalf("restore from Azure: exit %d\n%s", code, errOut)
	}
	if b, err := os.ReadFile(filepath.Join(to, "traffic-2", "b.log")); err != nil || string(b) != "two\n" {
		t.Errorf("restored from Azure: %q %v", b, err)
	}

	// Wrong credentials: another key for the account.
	bad := strings.Replace(env.AzureConnectionString(), "AccountKey="+env.AzureKey, "AccountKey=d3Jvbmcta2V5LXdyb25nLWtleQ==", 1)
	t.Setenv("AZURE_STORAGE_CONNECTION_STRING", bad)
	for _, args := range [][]string{{"backup", "list", "--location", where}, {"backup", "verify", id, "--location", where},
		{"backup", "restore", id, "--location", where, "--only", "events", "--events", to, "--yes"}} {
		code, _, errOut := run(t, false, args...)
		if code != ExitError || !strings.Contains(errOut, "refused the credentials") || strings.Contains(errOut, env.AzureKey) {
			t.Errorf("%v with a wrong key: exit %d\n%s", args[:2], code, errOut)
		}
	}
}

// TestBackupOfTheLabsEvents backs up the gateways' event files from the lab's shared events
// volume (APIMCTL_EVENTS_DIR, as `lab env` sets it) twice — the second time a file the
// gateways did not write to since is kept in the first, not copied — and restores them on
// their own. It only reads the volume.
func TestBackupOfTheLabsEvents(t *testing.T) {
	env := labtest.Require(t)
	labEnv(t, env)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	events := os.Getenv("APIMCTL_EVENTS_DIR")
	// A fresh lab's gateways write event files only once they carry traffic: send some.
	if files, err := os.ReadDir(events); err != nil || len(files) == 0 {
		if code, _, errOut := run(t, false, "lab", "traffic", "--rps", "20", "--duration", "3s"); code != 0 {
			t.Fatalf("lab traffic: exit %d\n%s", code, errOut)
		}
	}
	var files []os.DirEntry
	var err error
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		if files, err = os.ReadDir(events); err == nil && len(files) > 0 {
			break
		}
	}
	if err != nil || len(files) == 0 {
		t.Fatalf("the lab's events volume %s has no files after traffic (%v): are the gateways running?", events, err)
	}
	loc := t.TempDir()
	create := func() *backup.Backup {
		t.Helper()
		code, out, errOut := run(t, false, "backup", "create", "--location", loc, "--only", "events", "--yes", "-o", "json")
		if code != 0 {
			t.Fatalf("backup of the events: exit %d\n%s", code, errOut)
		}
		var doc struct {
			Summary struct{ ID string } `json:"summary"`
		}
		json.Unmarshal([]byte(out), &doc)
		b, err := backup.Open(context.Background(), backup.Dir(loc), doc.Summary.ID)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	first := create()
	time.Sleep(1100 * time.Millisecond) // IDs are per second
	second := create()
	was := map[string]backup.Part{}
	for _, p := range first.Manifest.PartsOf(backup.KindFiles) {
		was[p.File] = p
	}
	refs := 0
	for _, p := range second.Manifest.PartsOf(backup.KindFiles) {
		prev, ok := was[p.File]
		switch {
		case p.Ref == first.ID:
			refs++
			if p.Raw != prev.Raw || !p.Modified.Equal(*prev.Modified) {
				t.Errorf("%s is referred to the first backup but changed since", p.File)
			}
		case ok && p.Raw == prev.Raw && p.Modified.Equal(*prev.Modified):
			t.Errorf("%s is unchanged since the first backup but was copied again", p.File)
		}
	}
	t.Logf("second backup: %d event files, %d kept in the first", len(second.Manifest.PartsOf(backup.KindFiles)), refs)
	to := t.TempDir()
	if code, _, errOut := run(t, false, "backup", "restore", second.ID, "--location", loc, "--only", "events", "--events", to, "--yes"); code != 0 {
		t.Fatalf("restore of the events: exit %d\n%s", code, errOut)
	}
	restored, _ := os.ReadDir(to)
	if len(restored) != len(second.Manifest.PartsOf(backup.KindFiles)) {
		t.Errorf("%d files restored, the backup has %d", len(restored), len(second.Manifest.PartsOf(backup.KindFiles)))
	}
}

// TestUnknownKeyspaceAndDatabase: a keyspace to back up that does not exist, and a target
// database that does not exist, are bad input (exit 2) and change nothing.
func TestUnknownKeyspaceAndDatabase(t *testing.T) {
	env := labtest.Require(t)
	labEnv(t, env)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	loc := t.TempDir()
	code, _, errOut := run(t, false, "backup", "create", "--location", loc, "--only", "cassandra", "--keyspace", "no_such_keyspace", "--yes")
	if code != ExitUsage || !strings.Contains(errOut, "keyspace no_such_keyspace does not exist") {
		t.Errorf("an unknown keyspace: exit %d\n%s", code, errOut)
	}
	if left, _ := os.ReadDir(loc); len(left) != 0 {
		t.Errorf("the refused backup left %v", left)
	}
	if code, _, errOut := run(t, false, "backup", "create", "--location", loc, "--only", "mysql", "--yes"); code != 0 {
		t.Fatalf("backup of the database: exit %d\n%s", code, errOut)
	}
	entries, _ := os.ReadDir(loc)
	code, _, errOut = run(t, false, "backup", "restore", entries[0].Name(), "--location", loc, "--only", "mysql", "--database", "no_such_db", "--yes")
	if code != ExitUsage || !strings.Contains(errOut, "target database no_such_db does not exist") {
		t.Errorf("an unknown target database: exit %d\n%s", code, errOut)
	}
	code, _, errOut = run(t, false, "backup", "restore", entries[0].Name(), "--location", loc, "--only", "cassandra", "--yes")
	if code != ExitUsage || !strings.Contains(errOut, "the backup holds no keyspace") {
		t.Errorf("--only cassandra of a backup without: exit %d\n%s", code, errOut)
	}
}
