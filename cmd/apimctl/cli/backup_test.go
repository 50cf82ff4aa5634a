package cli

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/apimctl/apimctl/backup"
	"github.com/apimctl/apimctl/lab/labtest"
)

// TestBackupOfTheLab backs up the lab with known rows in a Cassandra table and a MySQL table
// of its own, then checks every part: the rows come back (the MySQL dump is replayed into
// MariaDB and compared), the Secrets are only in the encrypted file and decrypt with the
// identity, verify passes and then names a tampered file.
func TestBackupOfTheLab(t *testing.T) {
	env := labtest.Require(t)
	labEnv(t, env)
	ctx := context.Background()
	suffix := fmt.Sprint(time.Now().UnixNano() % 1e9)

	// Cassandra: 250 rows of several types in the group's keyspace.
	s := labtest.Cassandra(t, env).Session()
	table := "apimctl_bk_" + suffix
	if err := s.Query("CREATE TABLE " + env.Keyspace + "." + table + " (id int PRIMARY KEY, name text, data blob, tags map<text,int>, at timestamp)").Exec(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Query("DROP TABLE IF EXISTS " + env.Keyspace + "." + table).Exec() })
	at := time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC)
	for i := range 250 {
		if err := s.Query("INSERT INTO "+env.Keyspace+"."+table+" (id, name, data, tags, at) VALUES (?, ?, ?, ?, ?)",
			i, fmt.Sprintf("row %d 'quoted' \"x\" é", i), []byte{0, byte(i), 255}, map[string]int{"n": i}, at).Exec(); err != nil {
			t.Fatal(err)
		}
	}

	// MySQL: rows that test the quoting.
	db := labtest.MySQL(t, env, env.MySQLDatabase)
	mt := "bk_" + suffix
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("CREATE TABLE `" + mt + "` (id INT PRIMARY KEY, s VARCHAR(200), b VARBINARY(50), n DOUBLE NULL, at DATETIME(6)) DEFAULT CHARSET=utf8mb4")
	t.Cleanup(func() { db.Exec("DROP TABLE IF EXISTS `" + mt + "`"); db.Exec("DROP TABLE IF EXISTS `" + mt + "_r`") })
	tricky := []string{"plain", "it's", `back\slash`, "new\nline;\nsemicolon", "tab\tzero\x00end", `"double"`, "ünïcødé ✓", ""}
	for i, v := range tricky {
		exec("INSERT INTO `"+mt+"` VALUES (?, ?, ?, ?, ?)", i, v, []byte{byte(i), 0, '\'', '\\'}, nil, at.Add(time.Duration(i)*1500*time.Microsecond))
	}
	exec("UPDATE `"+mt+"` SET n = ? WHERE id = 1", 3.25)

	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()

	// A dry run reads and writes nothing.
	if code, _, errOut := run(t, false, "backup", "create", "--dir", filepath.Join(dir, "dry"), "--dry-run"); code != 0 || !strings.Contains(errOut, "dry run") {
		t.Fatalf("dry run: exit %d %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "dry")); !os.IsNotExist(err) {
		t.Error("the dry run created the backup directory")
	}
	if code, _, errOut := run(t, false, "backup", "create", "--dir", dir, "--recipient", "not-a-key"); code != ExitUsage || !strings.Contains(errOut, "age public key") {
		t.Errorf("bad recipient: exit %d %s", code, errOut)
	}

	code, out, errOut := run(t, false, "backup", "create", "--dir", dir, "--recipient", id.Recipient().String(), "--yes", "-o", "json")
	if code != 0 {
		t.Fatalf("backup create: exit %d\n%s", code, errOut)
	}
	var res struct {
		Dir      string `json:"dir"`
		Manifest backup.Manifest
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	parts := map[string]backup.Part{}
	for _, p := range res.Manifest.Parts {
		parts[p.Path] = p
	}
	t.Logf("backup %s: %d parts, notes %v, images %v", res.Manifest.ID, len(parts), res.Manifest.Notes, res.Manifest.Images)

	// Cassandra rows: every one, in the table's parts (their round trip, value by value, is
	// backup's TestCassandraRoundTrip); the schema has the table.
	bk, err := backup.OpenDir(res.Dir)
	if err != nil {
		t.Fatal(err)
	}
	var cp backup.Part
	var cassRows int64
	for _, p := range res.Manifest.PartsOf(backup.KindCassandraRows) {
		if p.Table == table {
			cp = p
			cassRows += p.Items
		}
	}
	if cassRows != 250 {
		t.Fatalf("cassandra parts of %s hold %d rows, want 250", table, cassRows)
	}
	stmts, err := backup.CassandraSchema(ctx, bk, env.Keyspace, env.Keyspace, "")
	if err != nil || !strings.Contains(strings.Join(stmts, "\n"), "."+table+" (") {
		t.Errorf("schema lacks the table: %v\n%s", err, strings.Join(stmts, "\n"))
	}

	// MySQL: replay the table's part of the dump under another name and compare.
	var dump strings.Builder
	for _, p := range res.Manifest.PartsOf(backup.KindMySQLRows) {
		if p.Table == mt {
			dump.WriteString(readPart(t, bk, p))
		}
	}
	if dump.Len() == 0 {
		t.Fatalf("the dump lacks table %s", mt)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{"SET NAMES utf8mb4", "SET time_zone = '+00:00'", "SET sql_mode = 'NO_AUTO_VALUE_ON_ZERO'",
		"CREATE TABLE `" + mt + "_r` LIKE `" + mt + "`"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, stmt := range strings.Split(strings.ReplaceAll(dump.String(), "`"+mt+"`", "`"+mt+"_r`"), ";\n") {
		if stmt = strings.TrimSpace(stmt); stmt != "" {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				t.Fatalf("%.80s: %v", stmt, err)
			}
		}
	}
	if a, b := tableRows(t, db, mt), tableRows(t, db, mt+"_r"); !reflect.DeepEqual(a, b) || len(a) != len(tricky) {
		t.Errorf("replayed rows differ:\n%q\n%q", a, b)
	}

	// Kubernetes: resources without server fields; Secrets only encrypted.
	res1 := readPart(t, bk, res.Manifest.PartsOf(backup.KindKube)[0])
	for _, want := range []string{"kind: Deployment", "name: traffic", "kind: HorizontalPodAutoscaler", "apiVersion: apps/v1"} {
		if !strings.Contains(res1, want) {
			t.Errorf("resources.yaml lacks %q", want)
		}
	}
	if strings.Contains(res1, "resourceVersion:") || strings.Contains(res1, "\nstatus:") {
		t.Error("resources.yaml keeps server-set fields")
	}
	f, err := os.Open(filepath.Join(res.Dir, "kube", "secrets.yaml.age"))
	if err != nil {
		t.Fatal(err)
	}
	dec, err := age.Decrypt(f, id)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(dec)
	f.Close()
	pass64 := base64.StdEncoding.EncodeToString([]byte(env.CassandraPassword))
	if !bytes.Contains(plain, []byte("cassandra-credentials")) || !bytes.Contains(plain, []byte(pass64)) {
		t.Error("the decrypted Secrets lack cassandra-credentials and its password")
	}
	filepath.WalkDir(res.Dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, []byte(env.CassandraPassword)) || bytes.Contains(b, []byte(pass64)) || bytes.Contains(b, []byte(env.MySQLPassword)) {
			t.Errorf("%s holds a password in clear", p)
		}
		return nil
	})

	// verify, list; then a tampered row is named and exits 3.
	if code, out, _ := run(t, false, "backup", "verify", "--dir", dir, res.Manifest.ID); code != 0 || !strings.Contains(out, "files match the manifest") {
		t.Errorf("verify: exit %d %s", code, out)
	}
	if code, out, _ := run(t, false, "backup", "list", "--dir", dir); code != 0 || !strings.Contains(out, res.Manifest.ID) || !strings.Contains(out, "complete") {
		t.Errorf("list: exit %d %s", code, out)
	}
	p := filepath.Join(res.Dir, filepath.FromSlash(cp.Path))
	b, _ := os.ReadFile(p)
	b[len(b)/2] ^= 0x20
	os.WriteFile(p, b, 0o600)
	if code, out, _ := run(t, false, "backup", "verify", res.Dir); code != ExitDegraded || !strings.Contains(out, cp.Path+": checksum differs") {
		t.Errorf("verify of a tampered backup: exit %d %s", code, out)
	}
	if code, _, errOut := run(t, false, "backup", "prune", "--dir", dir, "--keep", "1"); code != 0 || !strings.Contains(errOut, "nothing to prune") {
		t.Errorf("prune with one backup: exit %d %s", code, errOut)
	}
}

// readPart returns a part's content (decompressed, checked against the manifest).
func readPart(t *testing.T, b *backup.Backup, p backup.Part) string {
	t.Helper()
	r, err := b.Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// tableRows returns a table's rows as strings, by id.
func tableRows(t *testing.T, db *sql.DB, table string) []string {
	t.Helper()
	rows, err := db.Query("SELECT id, s, HEX(b), n, at FROM `" + table + "` ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id int
		var s, b sql.NullString
		var n sql.NullFloat64
		var at time.Time
		if err := rows.Scan(&id, &s, &b, &n, &at); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%d|%q|%s|%v|%s", id, s.String, b.String, n, at.Format(time.RFC3339Nano)))
	}
	return out
}
