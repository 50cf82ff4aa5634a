package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/apimctl/apimctl/cluster/mysql"
	"github.com/apimctl/apimctl/lab/labtest"
)

// mysqlLab returns the metrics user's pool on two throwaway databases (created by root over
// the lab's socket, granted to the user, dropped at the end) and their names.
func mysqlLab(t *testing.T) (user *sql.DB, src, dst string) {
	t.Helper()
	env := labtest.Require(t)
	cfg := gomysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr = "root", "unix", filepath.Join(env.StateDir, "mariadb", "mariadb.sock")
	root, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	n := time.Now().UnixNano() % 1e6
	src, dst = fmt.Sprintf("bk_src_%d", n), fmt.Sprintf("bk dst-%d", n) // a name that needs quoting
	for _, d := range []string{src, dst} {
		for _, q := range []string{"CREATE DATABASE " + quoteIdent(d),
			"GRANT ALL ON " + quoteIdent(d) + ".* TO 'metrics'@'127.0.0.1'", "GRANT ALL ON " + quoteIdent(d) + ".* TO 'metrics'@'localhost'"} {
			if _, err := root.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		t.Cleanup(func() { root.Exec("DROP DATABASE IF EXISTS " + quoteIdent(d)) })
	}
	user, err = mysql.Open(mysql.Target{Addr: env.MySQLAddr, Database: src, User: env.MySQLUser, Password: env.MySQLPassword, Timeout: time.Minute, TextValues: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { user.Close() })
	return user, src, dst
}

const everyMySQLType = "CREATE TABLE %s.every (" + `
	id INT PRIMARY KEY AUTO_INCREMENT,
	ti TINYINT, si SMALLINT UNSIGNED, mi MEDIUMINT, bi BIGINT UNSIGNED,
	de DECIMAL(40,12), de2 DECIMAL(6,2), fl FLOAT, db DOUBLE, bt BIT(10), bo BOOLEAN,
	dt DATETIME(6), ts TIMESTAMP(3) NULL, d DATE, tm TIME(4), yr YEAR,
	c CHAR(5), vc VARCHAR(100), tx TEXT, lt LONGTEXT, latin VARCHAR(20) CHARACTER SET latin1,
	bn BINARY(4), vb VARBINARY(20), bl BLOB,
	en ENUM('a','b','c d'), st SET('x','y','z'),
	js JSON,
	pt POINT, geo GEOMETRY,
	gen_v INT AS (id * 2) VIRTUAL, gen_s VARCHAR(120) AS (CONCAT(vc, '!')) STORED,
	` + "`we``ird col`" + ` INT
) DEFAULT CHARSET=utf8mb4`

func fillMySQL(t *testing.T, db *sql.DB, src string, bigRows int) {
	t.Helper()
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := c.ExecContext(context.Background(), q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("SET time_zone = '+05:30'") // TIMESTAMPs are stored as UTC whatever the session says
	exec(fmt.Sprintf(everyMySQLType, quoteIdent(src)))
	tricky := []string{"plain", "it's", `back\slash`, "new\nline;\nsemicolon", "tab\tzero\x00end", `"double"`, "ünïcødé ✓ 🙂", ""}
	for i, s := range tricky {
		exec("INSERT INTO "+quoteIdent(src)+".every (ti, si, mi, bi, de, de2, fl, db, bt, bo, dt, ts, d, tm, yr, c, vc, tx, lt, latin, bn, vb, bl, en, st, js, pt, geo, `we``ird col`) VALUES "+
			"(?, ?, ?, ?, ?, ?, ?, ?, b'1010101010', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ST_GeomFromText('POINT(1.5 -2.25)', 4326), ST_GeomFromText('LINESTRING(0 0, 1 1, 2 0.5)'), ?)",
			-128+i, 65535-i, -8388608+i, "18446744073709551615", "12345678901234567890123456.123456789012", "10.50", float32(1.2345678)+float32(i), 0.1+float64(i)/3, i%2 == 0,
			"2026-11-28 03:04:05.123456", "2038-01-19 03:14:07.999", "2026-02-28", "-838:59:59.0001", 2026, "ab", s, s, strings.Repeat(s, 100), "café",
			[]byte{0, 1, 0, byte(i)}, []byte{0, '\'', '\\', 0}, []byte(s+"\x00\xff"), "c d", "x,z", `{"a": [1, 2.50, "s"], "b": null}`, i)
	}
	exec("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")
	exec("INSERT INTO " + quoteIdent(src) + ".every (id) VALUES (0)") // AUTO_INCREMENT 0 stays 0
	exec("INSERT INTO " + quoteIdent(src) + ".every (id, vc) VALUES (1000, NULL)")
	exec("CREATE TABLE " + quoteIdent(src) + ".nokey (a INT, b VARCHAR(10))")
	exec("INSERT INTO " + quoteIdent(src) + ".nokey VALUES (1, 'x'), (1, 'x'), (NULL, NULL)")
	exec("CREATE TABLE " + quoteIdent(src) + ".big (id BIGINT PRIMARY KEY, v VARCHAR(40), parent INT, FOREIGN KEY (parent) REFERENCES " + quoteIdent(src) + ".every (id))")
	exec(fmt.Sprintf("INSERT INTO %s.big SELECT seq, CONCAT('row ', seq), IF(seq %% 7 = 0, 1000, NULL) FROM seq_1_to_%d", quoteIdent(src), bigRows))
	exec("ANALYZE TABLE " + quoteIdent(src) + ".big")
	exec("CREATE VIEW " + quoteIdent(src) + ".v AS SELECT id, vc FROM " + quoteIdent(src) + ".every WHERE id < 3")
	exec("CREATE TRIGGER " + quoteIdent(src) + ".nokey_bi BEFORE INSERT ON " + quoteIdent(src) + ".nokey FOR EACH ROW SET NEW.b = UPPER(NEW.b)")
}

// tableState is a table's CHECKSUM TABLE and its rows as text, sorted.
func tableState(t *testing.T, db *sql.DB, database, table string) (string, []string) {
	t.Helper()
	var name string
	var sum sql.NullString
	if err := db.QueryRow("CHECKSUM TABLE "+quoteIdent(database)+"."+quoteIdent(table)).Scan(&name, &sum); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query("SELECT * FROM " + quoteIdent(database) + "." + quoteIdent(table))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		rows.Scan(ptrs...)
		var parts []string
		for _, v := range vals {
			if v == nil {
				parts = append(parts, "NULL")
			} else {
				parts = append(parts, fmt.Sprintf("%q", v))
			}
		}
		out = append(out, strings.Join(parts, ","))
	}
	slices.Sort(out)
	return sum.String, out
}

func sameMySQL(t *testing.T, db *sql.DB, a, b string, tables ...string) {
	t.Helper()
	for _, tb := range tables {
		sa, ra := tableState(t, db, a, tb)
		sb, rb := tableState(t, db, b, tb)
		if sa != sb || !slices.Equal(ra, rb) {
			t.Errorf("table %s: checksum %s vs %s, %d vs %d rows", tb, sa, sb, len(ra), len(rb))
			for i := range min(len(ra), len(rb)) {
				if ra[i] != rb[i] {
					t.Errorf("first difference:\n%s\n%s", ra[i], rb[i])
					break
				}
			}
		}
	}
}

func TestMySQLRoundTrip(t *testing.T) {
	db, src, dst := mysqlLab(t)
	ctx := context.Background()
	fillMySQL(t, db, src, 5000)
	loc := Dir(t.TempDir())
	w, _ := Create(ctx, loc, "b1", Source{}, time.Now())
	if err := MySQL(ctx, db, src, w, MySQLOptions{Parallel: 3, ChunkRows: 1000, StatementBytes: 4096}); err != nil {
		t.Fatal(err)
	}
	b := finishOpen(t, ctx, w, time.Now())
	if n := len(b.Manifest.PartsOf(KindMySQLRows)); n < 6 {
		t.Errorf("%d row parts: the big table should be in chunks", n)
	}
	for _, p := range b.Manifest.PartsOf(KindMySQLRows) {
		if p.Table == "every" {
			r, _ := b.Open(ctx, p)
			var sb strings.Builder
			buf := make([]byte, 1<<16)
			for {
				n, err := r.Read(buf)
				sb.Write(buf[:n])
				if err != nil {
					break
				}
			}
			r.Close()
			if strings.Contains(sb.String(), "gen_v") || strings.Contains(sb.String(), "gen_s") {
				t.Error("the dump writes generated columns")
			}
		}
	}
	tables := []string{"every", "nokey", "big"}

	n, err := MySQLRestore(ctx, db, b, src, dst, MySQLRestoreOptions{Parallel: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("restored %d rows", n)
	sameMySQL(t, db, src, dst, tables...)
	var vrows, want int
	db.QueryRow("SELECT COUNT(*) FROM " + quoteIdent(src) + ".v").Scan(&want)
	if err := db.QueryRow("SELECT COUNT(*) FROM " + quoteIdent(dst) + ".v").Scan(&vrows); err != nil || vrows != want || want == 0 {
		t.Errorf("restored view: %d rows, %v; want %d", vrows, err, want)
	}
	if _, err := db.Exec("INSERT INTO " + quoteIdent(dst) + ".nokey VALUES (2, 'low')"); err != nil {
		t.Fatal(err)
	}
	var up string
	if err := db.QueryRow("SELECT b FROM " + quoteIdent(dst) + ".nokey WHERE a = 2").Scan(&up); err != nil || up != "LOW" {
		t.Errorf("restored trigger: %q %v", up, err)
	}

	// Drift, then restore: equal again.
	for _, q := range []string{"DELETE FROM %s.big WHERE id < 100", "INSERT INTO %s.big VALUES (999999, 'extra', NULL)", "UPDATE %s.every SET vc = 'changed'"} {
		if _, err := db.Exec(fmt.Sprintf(q, quoteIdent(dst))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := MySQLRestore(ctx, db, b, src, dst, MySQLRestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	sameMySQL(t, db, src, dst, tables...)

	// Merge keeps extra rows, replaces the others.
	db.Exec(fmt.Sprintf("INSERT INTO %s.big VALUES (999999, 'extra', NULL)", quoteIdent(dst)))
	db.Exec(fmt.Sprintf("UPDATE %s.big SET v = 'changed' WHERE id = 5", quoteIdent(dst)))
	if _, err := MySQLRestore(ctx, db, b, src, dst, MySQLRestoreOptions{Merge: true}); err != nil {
		t.Fatal(err)
	}
	var v string
	db.QueryRow(fmt.Sprintf("SELECT v FROM %s.big WHERE id = 5", quoteIdent(dst))).Scan(&v)
	var extra int
	db.QueryRow(fmt.Sprintf("SELECT COUNT(*) FROM %s.big WHERE id = 999999", quoteIdent(dst))).Scan(&extra)
	if v != "row 5" || extra != 1 {
		t.Errorf("merge: row 5 is %q, extra rows %d", v, extra)
	}

	// Interrupted mid-table, then resumed with the same journal: exact.
	db.Exec(fmt.Sprintf("DROP TABLE %s.big", quoteIdent(dst)))
	j := &MemoryJournal{}
	cctx, cancel := context.WithCancel(ctx)
	var done atomic.Int64
	_, err = MySQLRestore(cctx, db, b, src, dst, MySQLRestoreOptions{Parallel: 1, Journal: j, Progress: func(p Progress) {
		if p.Table == "big" && done.Add(1) == 2 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted restore: %v", err)
	}
	// A chunk left "loading" with some of its rows in (a non-transactional engine would
	// keep them): the resumed run empties its range first.
	var chunk Part
	for _, p := range b.Manifest.PartsOf(KindMySQLRows) {
		if p.Table == "big" && j.Get(fmt.Sprintf("mysql/%s/big/%d", dst, p.Unit)) != "done" {
			chunk = p
			break
		}
	}
	j.Set(fmt.Sprintf("mysql/%s/big/%d", dst, chunk.Unit), "loading")
	db.Exec(fmt.Sprintf("INSERT INTO %s.big SELECT id, 'half loaded', NULL FROM %s.big WHERE %s LIMIT 10", quoteIdent(dst), quoteIdent(src), chunk.Range))
	if _, err := MySQLRestore(ctx, db, b, src, dst, MySQLRestoreOptions{Journal: j}); err != nil {
		t.Fatal(err)
	}
	sameMySQL(t, db, src, dst, tables...)
}

func TestMySQLBadInput(t *testing.T) {
	db, src, _ := mysqlLab(t)
	ctx := context.Background()
	w, _ := Create(ctx, Dir(t.TempDir()), "b", Source{}, time.Now())
	if err := MySQL(ctx, db, "no_such_db_x", w, MySQLOptions{}); err == nil || !strings.Contains(err.Error(), "no_such_db_x") {
		t.Errorf("unknown database: %v", err)
	}
	if err := MySQL(ctx, db, src, w, MySQLOptions{}); err != nil {
		t.Fatal(err)
	}
	w.Finish(ctx, time.Now())
	b, _ := Open(ctx, w.Location(), "b")
	if _, err := MySQLRestore(ctx, db, b, src, "no_such_target_db", MySQLRestoreOptions{}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing target database: %v", err)
	}
	if _, err := MySQLRestore(ctx, db, b, "other", src, MySQLRestoreOptions{}); err == nil || !strings.Contains(err.Error(), "no MySQL database other") {
		t.Errorf("database not in the backup: %v", err)
	}
}
