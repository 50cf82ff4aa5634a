package backup

import (
	"strings"
	"testing"

	"github.com/gocql/gocql"
)

func TestStatements(t *testing.T) {
	cols := []columnSchema{{Name: "Id", Type: "int", Kind: "partition_key"}, {Name: "ck", Type: "text", Kind: "clustering"},
		{Name: "s", Type: "text", Kind: "static"}, {Name: "select", Type: "tuple<int, text>", Kind: "regular"}, {Name: `we"ird`, Type: "blob", Kind: "regular"}}
	st := newStatements("Ks", "T", cols)
	tuple := tupleBytes([][]byte{{0, 0, 0, 1}, nil})
	q, args := st.insert([][]byte{{0, 0, 0, 1}, []byte("a"), nil, tuple, {}}, false)
	if q != `INSERT INTO "Ks"."T" ("Id", "ck", "s", "select", "we""ird") VALUES (?, ?, ?, (?, ?), ?)` || len(args) != 6 || args[2] != gocql.UnsetValue {
		t.Errorf("insert: %s %v", q, args)
	}
	if v, ok := args[4].(boundValue); !ok || v != nil {
		t.Errorf("a null tuple element is bound as %#v", args[4])
	}
	// A null tuple: left out after a truncate, a null literal with Merge.
	q, _ = st.insert([][]byte{{0, 0, 0, 1}, []byte("a"), nil, nil, nil}, false)
	if q != `INSERT INTO "Ks"."T" ("Id", "ck", "s", "we""ird") VALUES (?, ?, ?, ?)` {
		t.Errorf("null tuple: %s", q)
	}
	q, args = st.insert([][]byte{{0, 0, 0, 1}, []byte("a"), nil, nil, nil}, true)
	if q != `INSERT INTO "Ks"."T" ("Id", "ck", "s", "select", "we""ird") VALUES (?, ?, ?, null, ?)` || args[2] == gocql.UnsetValue {
		t.Errorf("null tuple with merge: %s %v", q, args)
	}
	// A partition with only its static value.
	q, _ = st.insert([][]byte{{0, 0, 0, 1}, nil, []byte("s"), nil, nil}, false)
	if q != `INSERT INTO "Ks"."T" ("Id", "s") VALUES (?, ?)` {
		t.Errorf("static only: %s", q)
	}

	cc := []columnSchema{{Name: "k", Type: "text", Kind: "partition_key"}, {Name: "b", Type: "int", Kind: "clustering"},
		{Name: "m", Type: "counter", Kind: "regular"}, {Name: "n", Type: "counter", Kind: "regular"}, {Name: "st", Type: "counter", Kind: "static"}}
	ct := newStatements("ks", "hits", cc)
	one := []byte{0, 0, 0, 0, 0, 0, 0, 1}
	row := [][]byte{[]byte("x"), {0, 0, 0, 2}, nil, {0, 0, 0, 0, 0, 0, 0, 5}, one}
	q, args = ct.update(row, false)
	if q != `UPDATE "ks"."hits" SET "n" = "n" + ? WHERE "k" = ? AND "b" = ?` || len(args) != 3 {
		t.Errorf("counter update: %s %v", q, args)
	}
	// The static counter, repeated on every row of its partition, is applied by the first.
	q, _ = ct.update(row, true)
	if q != `UPDATE "ks"."hits" SET "n" = "n" + ?, "st" = "st" + ? WHERE "k" = ? AND "b" = ?` {
		t.Errorf("first row's update: %s", q)
	}
	q, _ = ct.update([][]byte{[]byte("x"), nil, nil, nil, one}, true)
	if q != `UPDATE "ks"."hits" SET "st" = "st" + ? WHERE "k" = ?` {
		t.Errorf("static counter update: %s", q)
	}
	if q, _ := ct.update([][]byte{[]byte("x"), {0, 0, 0, 2}, nil, nil, nil}, false); q != "" {
		t.Errorf("a row without counters: %s", q)
	}
	q, _, idx := ct.selectCounters(row, false)
	if q != `SELECT "m", "n" FROM "ks"."hits" WHERE "k" = ? AND "b" = ?` || len(idx) != 2 || idx[0] != 2 {
		t.Errorf("select counters: %s %v", q, idx)
	}
	if string(st.partitionKey([][]byte{{1}, []byte("a")})) == string(st.partitionKey([][]byte{{2}, []byte("a")})) {
		t.Error("different partitions share a key")
	}

	// Times to live: one INSERT per distinct TTL (less the time elapsed), expired cells left
	// out, a row whose every value expired not written.
	tc := []columnSchema{{Name: "id", Type: "text", Kind: "partition_key"}, {Name: "a", Type: "text", Kind: "regular"},
		{Name: "b", Type: "int", Kind: "regular"}, {Name: "c", Type: "set<text>", Kind: "regular"}}
	tt := newStatements("ks", "t", tc)
	ttl := func(s uint32) []byte { return []byte{byte(s >> 24), byte(s >> 16), byte(s >> 8), byte(s)} }
	ws := tt.rowWrites([][]byte{[]byte("k"), []byte("x"), {0, 0, 0, 1}, []byte("set"), ttl(100), nil}, []int{1, 2}, 10, false)
	if len(ws) != 2 || ws[0].q != `INSERT INTO "ks"."t" ("id", "b", "c") VALUES (?, ?, ?)` || ws[1].q != `INSERT INTO "ks"."t" ("id", "a") VALUES (?, ?) USING TTL 90` {
		t.Errorf("ttl writes: %+v", ws)
	}
	if ws := tt.rowWrites([][]byte{[]byte("k"), []byte("x"), nil, nil, ttl(5), nil}, []int{1, 2}, 10, false); len(ws) != 0 {
		t.Errorf("an expired row is written: %+v", ws)
	}
	ws = tt.rowWrites([][]byte{[]byte("k"), []byte("x"), {0, 0, 0, 1}, nil, ttl(5), nil}, []int{1, 2}, 10, true)
	if len(ws) != 1 || ws[0].q != `INSERT INTO "ks"."t" ("id", "a", "b", "c") VALUES (?, null, ?, null)` {
		t.Errorf("expired cell with merge: %+v", ws)
	}
	if ws := tt.rowWrites([][]byte{[]byte("k"), []byte("x"), nil, nil, nil, nil}, []int{1, 2}, 10, false); len(ws) != 1 || strings.Contains(ws[0].q, "TTL") {
		t.Errorf("no TTL: %+v", ws)
	}
}
