package backup

import (
	"strings"
	"testing"
)

func TestRewriteStatement(t *testing.T) {
	for _, c := range []struct{ in, rep, want string }{
		{`CREATE KEYSPACE src WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '3'} AND durable_writes = true;`,
			`{'class': 'NetworkTopologyStrategy', 'dc2': 3}`,
			`CREATE KEYSPACE IF NOT EXISTS "Dst" WITH replication = {'class': 'NetworkTopologyStrategy', 'dc2': 3} AND durable_writes = true`},
		{`CREATE KEYSPACE "src" WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '3'}`, "",
			`CREATE KEYSPACE IF NOT EXISTS "Dst" WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '3'}`},
		{`CREATE TABLE src."MixedCase" (
    "Key" text PRIMARY KEY,
    "select" frozen<src_type>,
    note text
) WITH comment = 'src.x; see src.y';`, "",
			`CREATE TABLE IF NOT EXISTS "Dst"."MixedCase" (
    "Key" text PRIMARY KEY,
    "select" frozen<src_type>,
    note text
) WITH comment = 'src.x; see src.y'`},
		{`CREATE TYPE src.addr (street text)`, "", `CREATE TYPE IF NOT EXISTS "Dst".addr (street text)`},
		{`CREATE INDEX i ON src.t (v);`, "", `CREATE INDEX IF NOT EXISTS i ON "Dst".t (v)`},
		{`CREATE CUSTOM INDEX i ON src.t (v) USING 'StorageAttachedIndex';`, "", `CREATE CUSTOM INDEX IF NOT EXISTS i ON "Dst".t (v) USING 'StorageAttachedIndex'`},
		{`CREATE MATERIALIZED VIEW src.v AS SELECT a FROM src.t WHERE a IS NOT NULL PRIMARY KEY (a);`, "",
			`CREATE MATERIALIZED VIEW IF NOT EXISTS "Dst".v AS SELECT a FROM "Dst".t WHERE a IS NOT NULL PRIMARY KEY (a)`},
		{`CREATE OR REPLACE FUNCTION src.f(a int) CALLED ON NULL INPUT RETURNS int LANGUAGE java AS $$ return src.a; $$;`, "",
			`CREATE OR REPLACE FUNCTION "Dst".f(a int) CALLED ON NULL INPUT RETURNS int LANGUAGE java AS $$ return src.a; $$`},
		{`CREATE TABLE IF NOT EXISTS "src".t (a int PRIMARY KEY)`, "", `CREATE TABLE IF NOT EXISTS "Dst".t (a int PRIMARY KEY)`},
	} {
		got, err := rewriteStatement(c.in, "src", "Dst", c.rep)
		if err != nil || got != c.want {
			t.Errorf("rewrite %q:\n got %q %v\nwant %q", c.in, got, err, c.want)
		}
	}
	// A keyspace named like a table's column is renamed only where it qualifies a name.
	got, _ := rewriteStatement(`CREATE TABLE ks.t (ks int PRIMARY KEY)`, "ks", "b", "")
	if got != `CREATE TABLE IF NOT EXISTS "b".t (ks int PRIMARY KEY)` {
		t.Errorf("got %q", got)
	}
	// A mixed-case source keyspace is matched exactly, not folded.
	got, _ = rewriteStatement(`CREATE TABLE "Src".t (a int PRIMARY KEY)`, "Src", "b", "")
	if !strings.Contains(got, `"b".t`) {
		t.Errorf("got %q", got)
	}
	if _, err := rewriteStatement(`DROP TABLE x`, "a", "b", ""); err == nil {
		t.Error("a DROP accepted as schema")
	}
}

func TestCheckReplication(t *testing.T) {
	for _, ok := range []string{`{'class': 'NetworkTopologyStrategy', 'dc2': 3}`, `{'class':'SimpleStrategy','replication_factor':1}`} {
		if err := CheckReplication(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{``, `{'a': 1}; DROP KEYSPACE x`, `{'a': 1} {'b': 2}`, `{'a': 1`, `{'a': (1)}`, `x`} {
		if err := CheckReplication(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
