package backup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gocql/gocql"

	"github.com/apimctl/apimctl/internal/cql"
	"github.com/apimctl/apimctl/lab/labtest"
)

// cassandraLab returns a session on the lab's Cassandra.
func cassandraLab(t *testing.T) *gocql.Session {
	t.Helper()
	env := labtest.Require(t)
	return labtest.Cassandra(t, env).Session()
}

// jsonRows returns a table's rows as SELECT JSON gives them, sorted.
func jsonRows(t *testing.T, s *gocql.Session, ks, table string) []string {
	t.Helper()
	it := s.Query("SELECT JSON * FROM " + cql.Qualified(ks, table)).PageSize(5000).Iter()
	var out []string
	var l string
	for it.Scan(&l) {
		out = append(out, l)
	}
	if err := it.Close(); err != nil {
		t.Fatalf("select json from %s.%s: %v", ks, table, err)
	}
	slices.Sort(out)
	return out
}

func sameTables(t *testing.T, s *gocql.Session, a, b string, tables ...string) {
	t.Helper()
	for _, tb := range tables {
		x, y := jsonRows(t, s, a, tb), jsonRows(t, s, b, tb)
		if !slices.Equal(x, y) {
			var diff []string
			for _, l := range x {
				if !slices.Contains(y, l) {
					diff = append(diff, "- "+l)
				}
			}
			for _, l := range y {
				if !slices.Contains(x, l) {
					diff = append(diff, "+ "+l)
				}
			}
			if len(diff) > 8 {
				diff = append(diff[:8], "…")
			}
			t.Errorf("table %s: %s has %d rows, %s %d; differences:\n%s", tb, a, len(x), b, len(y), strings.Join(diff, "\n"))
		}
	}
}

const everyTypeTable = `CREATE TABLE %s.every (
	id int, ck text, s_static text STATIC,
	a ascii, bi bigint, bl blob, bo boolean, da date, de decimal, dbl double, du duration, fl float, ine inet, i int,
	sm smallint, te text, ti time, ts timestamp, tu timeuuid, tiny tinyint, u uuid, vc varchar, vi varint,
	li list<int>, se set<text>, ma map<text, decimal>, fli frozen<list<int>>, tup tuple<int, text, decimal>,
	ad frozen<addr>, ad_nf addr, nested map<text, frozen<list<tuple<int, text>>>>, vec vector<float, 3>,
	"Quoted Col" text, "select" int, "we""ird" text,
	PRIMARY KEY ((id), ck)
) WITH CLUSTERING ORDER BY (ck DESC)`

// fillEveryType creates the source keyspace: a table of every CQL type (a static column,
// DESC clustering, a UDT frozen and not, tuples null and of nulls, decimals with many
// digits and trailing zeros, empty values), a quoted mixed-case table and a counter table.
func fillEveryType(t *testing.T, s *gocql.Session, ks string, counters int) {
	labtest.ExecCQL(t, s, "CREATE KEYSPACE "+ks+" WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
	labtest.ExecCQL(t, s, "CREATE TYPE "+ks+`.addr (street text, "Zip" int, tags frozen<set<text>>)`)
	labtest.ExecCQL(t, s, fmt.Sprintf(everyTypeTable, ks))
	labtest.ExecCQL(t, s, "CREATE TABLE "+ks+`."MixedCase" ("Key" text PRIMARY KEY, "Value" decimal, "select" text)`)
	labtest.ExecCQL(t, s, "CREATE TABLE "+ks+".hits (k text, b int, n counter, m counter, total counter static, PRIMARY KEY (k, b))")
	for i := range 60 {
		labtest.ExecCQL(t, s, "INSERT INTO "+ks+`.every (id, ck, s_static, a, bi, bl, bo, da, de, dbl, du, fl, ine, i, sm, te, ti, ts, tu, tiny, u, vc, vi,
			li, se, ma, fli, tup, ad, ad_nf, nested, vec, "Quoted Col", "select", "we""ird") VALUES (?, ?, 'static '+'x', 'ascii', 9223372036854775807, 0x00ff00, true,
			'2026-11-28', 12345678901234567890.123456789012, 0.1, 1y2mo3w4d5h6m7s8ms9us10ns, 3.14159274, '::1', -2147483648,
			-32768, 'ünïcødé ✓ "q" ''s'' \n', '23:59:59.123456789', '2026-11-28 03:00:00.123+0000', now(), -128, uuid(), '',
			-123456789012345678901234567890, [1, 2, 1], {'b', 'a'}, {'x': 10.50, 'y': 0.000}, [3, 2, 1], (1, null, 1.0),
			{street: 'Main', "Zip": 12345, tags: {'t'}}, {street: null, "Zip": 1}, {'k': [(1, 'a'), (2, null)]}, [1.5, -0.0, 3.25],
			'quoted', 7, 'weird')`, i%20, fmt.Sprintf("ck-%03d", i))
	}
	// A partition with only its static value; a null tuple, a tuple of nulls; empty values.
	labtest.ExecCQL(t, s, "INSERT INTO "+ks+".every (id, s_static) VALUES (99, 'only static')")
	labtest.ExecCQL(t, s, "INSERT INTO "+ks+".every (id, ck, tup, de) VALUES (100, 'nulls', (null, null, null), 10.50)")
	labtest.ExecCQL(t, s, "INSERT INTO "+ks+".every (id, ck, tup) VALUES (100, 'null', null)")
	labtest.ExecCQL(t, s, "INSERT INTO "+ks+".every (id, ck, i, bl, te) VALUES (101, 'empty', blobAsInt(0x), 0x, '')")
	for i := range 30 {
		labtest.ExecCQL(t, s, "INSERT INTO "+ks+`."MixedCase" ("Key", "Value", "select") VALUES (?, 10.50, 'x')`, fmt.Sprintf("K%02d", i))
	}
	for i := range counters {
		labtest.ExecCQL(t, s, fmt.Sprintf("UPDATE %s.hits SET n = n + %d, m = m + %d WHERE k = ? AND b = ?", ks, i*3+1, -i), fmt.Sprintf("key-%d", i%97), i)
		labtest.ExecCQL(t, s, fmt.Sprintf("UPDATE %s.hits SET total = total + %d WHERE k = ?", ks, i), fmt.Sprintf("key-%d", i%97))
	}
	labtest.ExecCQL(t, s, "UPDATE "+ks+".hits SET total = total + 3 WHERE k = 'static-only'") // a partition with only its static counter
	labtest.ExecCQL(t, s, "UPDATE "+ks+".hits SET n = n + 5 WHERE k = 'only-n' AND b = 0")    // m stays null
}

func restoreKeyspace(t *testing.T, ctx context.Context, s *gocql.Session, b *Backup, from, to string, o CassandraRestoreOptions) (int64, error) {
	t.Helper()
	stmts, err := CassandraSchema(ctx, b, from, to, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range stmts {
		if err := s.Query(st).WithContext(ctx).Exec(); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	return CassandraRows(ctx, s, b, from, to, o)
}

func TestCassandraRoundTrip(t *testing.T) {
	s := cassandraLab(t)
	ctx := context.Background()
	n := time.Now().UnixNano() % 1e6
	src, dst, dst2 := fmt.Sprintf("bk_src_%d", n), fmt.Sprintf("bk_dst_%d", n), fmt.Sprintf("Bk_Dst2_%d", n)
	t.Cleanup(func() {
		for _, k := range []string{src, dst, dst2} {
			s.Query("DROP KEYSPACE IF EXISTS " + cql.Quote(k)).Exec()
		}
	})
	fillEveryType(t, s, src, 600)
	tables := []string{"every", "MixedCase", "hits"}

	loc := Dir(t.TempDir())
	w, err := Create(ctx, loc, "b1", Source{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var units atomic.Int64
	o := CassandraOptions{Parallel: 4, Splits: 8, SmallTable: 10, Progress: func(Progress) { units.Add(1) }}
	if err := Cassandra(ctx, s, src, w, o); err != nil {
		t.Fatal(err)
	}
	b := finishOpen(t, ctx, w, time.Now())
	if _, probs, err := VerifyAt(ctx, loc, "b1"); err != nil || len(probs) > 0 {
		t.Fatalf("verify: %v %v", err, probs)
	}
	if units.Load() < 3*8 {
		t.Errorf("%d units read; each table should be split in token ranges", units.Load())
	}

	// Into another keyspace: every table equal, by SELECT JSON.
	rows, err := restoreKeyspace(t, ctx, s, b, src, dst, CassandraRestoreOptions{Parallel: 4, InFlight: 16})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("restored %d rows", rows)
	sameTables(t, s, src, dst, tables...)
	var decimalText string
	if err := s.Query("SELECT JSON de FROM " + dst + ".every WHERE id = 100 AND ck = 'nulls'").Scan(&decimalText); err != nil || decimalText != `{"de": 10.50}` {
		t.Errorf("decimal scale: %s %v", decimalText, err)
	}

	// The target drifts: rows removed, rows added, counters changed. A second restore
	// makes it equal again.
	labtest.ExecCQL(t, s, "DELETE FROM "+dst+".every WHERE id = 3")
	labtest.ExecCQL(t, s, "INSERT INTO "+dst+".every (id, ck, te) VALUES (555, 'extra', 'not in the backup')")
	labtest.ExecCQL(t, s, "DELETE FROM "+dst+`."MixedCase" WHERE "Key" = 'K01'`)
	labtest.ExecCQL(t, s, "UPDATE "+dst+".hits SET n = n + 1000 WHERE k = 'key-1' AND b = 1")
	labtest.ExecCQL(t, s, "UPDATE "+dst+".hits SET n = n + 1 WHERE k = 'drift' AND b = 1")
	if _, err := restoreKeyspace(t, ctx, s, b, src, dst, CassandraRestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	sameTables(t, s, src, dst, tables...)

	// Merge keeps rows the backup lacks and sets the others to the backup's values.
	labtest.ExecCQL(t, s, "INSERT INTO "+dst+".every (id, ck, te) VALUES (555, 'extra', 'kept')")
	labtest.ExecCQL(t, s, "UPDATE "+dst+".every SET te = 'changed', tup = null WHERE id = 4 AND ck = 'ck-004'")
	labtest.ExecCQL(t, s, "UPDATE "+dst+".hits SET n = n + 7 WHERE k = 'key-2' AND b = 2")
	if _, err := restoreKeyspace(t, ctx, s, b, src, dst, CassandraRestoreOptions{Merge: true}); err != nil {
		t.Fatal(err)
	}
	labtest.ExecCQL(t, s, "DELETE FROM "+dst+".every WHERE id = 555")
	sameTables(t, s, src, dst, tables...)

	// Interrupted mid-counters (cancelled after a few units), then resumed with the same
	// journal: exact, every increment applied once.
	j := &MemoryJournal{}
	cctx, cancel := context.WithCancel(ctx)
	var seen atomic.Int64
	ro := CassandraRestoreOptions{Parallel: 2, InFlight: 4, Journal: j, Progress: func(p Progress) {
		if p.Table == "hits" && seen.Add(1) == 2 {
			cancel()
		}
	}}
	_, err = restoreKeyspace(t, cctx, s, b, src, dst2, ro)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted restore: %v", err)
	}
	var stopped int
	for u := range 8 {
		if st := j.Get(unitKey(dst2, "hits", u)); strings.HasPrefix(st, "stopped:") {
			stopped++
		}
	}
	t.Logf("after the interruption: %d counter units stopped mid-way", stopped)
	ro.Progress = nil
	if _, err := restoreKeyspace(t, ctx, s, b, src, dst2, ro); err != nil {
		t.Fatal(err)
	}
	sameTables(t, s, src, dst2, tables...)

	// A unit left "applying" (killed with increments in flight) puts its table in doubt:
	// the next run resets the table and applies everything once.
	labtest.ExecCQL(t, s, "UPDATE "+cql.Quote(dst2)+".hits SET n = n + 9 WHERE k = 'key-5' AND b = 5") // as if half applied
	j.Set(unitKey(dst2, "hits", 0), "applying")
	ro.CounterSettle = 100 * time.Millisecond
	if _, err := restoreKeyspace(t, ctx, s, b, src, dst2, ro); err != nil {
		t.Fatal(err)
	}
	sameTables(t, s, src, dst2, "hits")
}

func TestCassandraBadInput(t *testing.T) {
	s := cassandraLab(t)
	ctx := context.Background()
	w, _ := Create(ctx, Dir(t.TempDir()), "b", Source{}, time.Now())
	err := Cassandra(ctx, s, "no_such_keyspace_x", w, CassandraOptions{})
	if err == nil || !strings.Contains(err.Error(), "no_such_keyspace_x") {
		t.Errorf("unknown keyspace: %v", err)
	}
}

// TestCassandraTTL: data written with a time to live keeps expiring after a restore (an
// expired token must not come back for good), per column, and what expired meanwhile is
// not restored.
func TestCassandraTTL(t *testing.T) {
	s := cassandraLab(t)
	ctx := context.Background()
	n := time.Now().UnixNano() % 1e6
	src, dst := fmt.Sprintf("bk_ttl_%d", n), fmt.Sprintf("bk_ttl_dst_%d", n)
	t.Cleanup(func() {
		s.Query("DROP KEYSPACE IF EXISTS " + src).Exec()
		s.Query("DROP KEYSPACE IF EXISTS " + dst).Exec()
	})
	labtest.ExecCQL(t, s, "CREATE KEYSPACE "+src+" WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
	labtest.ExecCQL(t, s, "CREATE TABLE "+src+".tokens (id text PRIMARY KEY, owner text, scopes frozen<set<text>>, pair tuple<int, text>, tags set<text>, n int)")
	labtest.ExecCQL(t, s, "INSERT INTO "+src+".tokens (id, owner, scopes, pair, tags, n) VALUES ('forever', 'a', {'r'}, (1, 'x'), {'t'}, 1)")
	labtest.ExecCQL(t, s, "INSERT INTO "+src+".tokens (id, owner, scopes, pair) VALUES ('hour', 'b', {'r', 'w'}, (2, 'y')) USING TTL 3600")
	labtest.ExecCQL(t, s, "INSERT INTO "+src+".tokens (id, owner, n) VALUES ('mixed', 'c', 5)")
	labtest.ExecCQL(t, s, "UPDATE "+src+".tokens USING TTL 600 SET owner = 'c2' WHERE id = 'mixed'")
	labtest.ExecCQL(t, s, "INSERT INTO "+src+".tokens (id, owner) VALUES ('brief', 'd') USING TTL 2")

	loc := Dir(t.TempDir())
	w, _ := Create(ctx, loc, "b", Source{}, time.Now())
	if err := Cassandra(ctx, s, src, w, CassandraOptions{}); err != nil {
		t.Fatal(err)
	}
	w.Finish(ctx, time.Now())
	b, _ := Open(ctx, loc, "b")
	time.Sleep(2500 * time.Millisecond) // 'brief' expires, in the source and in the backup
	if _, err := restoreKeyspace(t, ctx, s, b, src, dst, CassandraRestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	sameTables(t, s, src, dst, "tokens")
	ttl := func(ks, id, col string) int {
		var v *int
		if err := s.Query("SELECT TTL("+col+") FROM "+ks+".tokens WHERE id = ?", id).Scan(&v); err != nil {
			t.Fatalf("ttl of %s.%s: %v", id, col, err)
		}
		if v == nil {
			return 0
		}
		return *v
	}
	for _, c := range []struct{ id, col string }{{"forever", "owner"}, {"hour", "owner"}, {"hour", "scopes"}, {"hour", "pair"},
		{"mixed", "owner"}, {"mixed", "n"}} {
		a, b := ttl(src, c.id, c.col), ttl(dst, c.id, c.col)
		if (a == 0) != (b == 0) || b > a || a-b > 10 {
			t.Errorf("%s.%s: TTL %d in the source, %d restored", c.id, c.col, a, b)
		}
	}
}
