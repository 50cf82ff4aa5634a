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
	"github.com/apimctl/apimctl/cluster/cassandra"
	"github.com/apimctl/apimctl/cluster/mysql"
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
	cl, err := cassandra.Dial(ctx, cassandra.Target{Hosts: env.CassandraHosts, Port: env.CassandraPort, Username: env.CassandraUser,
		Password: env.CassandraPassword, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	table := "apimctl_bk_" + suffix
	s := cl.Session()
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
	db, err := mysql.Open(mysql.Target{Addr: env.MySQLAddr, Database: env.MySQLDatabase, User: env.MySQLUser, Password: env.MySQLPassword})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
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

	// Cassandra rows: every one, as JSON that decodes to what was written.
	cp, ok := parts["cassandra/"+env.Keyspace+"/"+table+".jsonl"]
	if !ok || cp.Items != 250 {
		t.Fatalf("cassandra part %+v", cp)
	}
	lines := strings.Split(strings.TrimSpace(readFile(t, res.Dir, cp.Path)), "\n")
	found := false
	for _, l := range lines {
		var row struct {
			ID   int            `json:"id"`
			Name string         `json:"name"`
			Data string         `json:"data"`
			Tags map[string]int `json:"tags"`
			At   string         `json:"at"`
		}
		if err := json.Unmarshal([]byte(l), &row); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if row.ID == 7 {
			found = row.Name == "row 7 'quoted' \"x\" é" && row.Data == "0x0007ff" && row.Tags["n"] == 7 && strings.HasPrefix(row.At, "2026-11-28 03:00:00")
			if !found {
				t.Errorf("row 7 came back as %+v", row)
			}
		}
	}
	if len(lines) != 250 || !found {
		t.Errorf("%d lines, row 7 found %v", len(lines), found)
	}
	if schema := readFile(t, res.Dir, "cassandra/"+env.Keyspace+"/schema.cql"); !strings.Contains(schema, "CREATE TABLE "+env.Keyspace+"."+table) {
		t.Errorf("schema lacks the table:\n%s", schema)
	}

	// MySQL: replay the table's part of the dump under another name and compare.
	dump := readFile(t, res.Dir, "mysql/"+env.MySQLDatabase+".sql")
	start := strings.Index(dump, "DROP TABLE IF EXISTS `"+mt+"`;")
	if start < 0 {
		t.Fatalf("the dump lacks table %s", mt)
	}
	section := dump[start:]
	if end := strings.Index(section[1:], "DROP TABLE IF EXISTS"); end > 0 {
		section = section[:end+1]
	}
	section = strings.ReplaceAll(section, "`"+mt+"`", "`"+mt+"_r`")
	for _, stmt := range strings.Split(section, ";\n") {
		if stmt = strings.TrimSpace(stmt); stmt != "" && !strings.HasPrefix(stmt, "SET FOREIGN_KEY_CHECKS") {
			exec(stmt)
		}
	}
	if a, b := tableRows(t, db, mt), tableRows(t, db, mt+"_r"); !reflect.DeepEqual(a, b) || len(a) != len(tricky) {
		t.Errorf("replayed rows differ:\n%q\n%q", a, b)
	}

	// Kubernetes: resources without server fields; Secrets only encrypted.
	res1 := readFile(t, res.Dir, "kube/resources.yaml")
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
	os.WriteFile(p, bytes.Replace(b, []byte(`"id": 7`), []byte(`"id": 8`), 1), 0o600)
	if code, out, _ := run(t, false, "backup", "verify", res.Dir); code != ExitDegraded || !strings.Contains(out, cp.Path+": checksum differs") {
		t.Errorf("verify of a tampered backup: exit %d %s", code, out)
	}
	if code, _, errOut := run(t, false, "backup", "prune", "--dir", dir, "--keep", "1"); code != 0 || !strings.Contains(errOut, "nothing to prune") {
		t.Errorf("prune with one backup: exit %d %s", code, errOut)
	}
}

func readFile(t *testing.T, dir, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
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
