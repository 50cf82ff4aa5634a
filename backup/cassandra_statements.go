package backup

import (
	"encoding/binary"
	"strings"

	"github.com/gocql/gocql"

	"github.com/apimctl/apimctl/internal/cql"
)

// statements builds a table's write statements from its columns, every name quoted. The
// texts are few per table (gocql prepares and caches each once).
type statements struct {
	table string // "ks"."t"
	cols  []columnSchema
	// full row and static-only row (a partition with static values and no rows yet comes
	// back with null clustering columns, and must be written without them)
	insertAll, insertStatic string
	hasClustering           bool
}

func newStatements(to, table string, cols []columnSchema) *statements {
	st := &statements{table: cql.Qualified(to, table), cols: cols}
	var all, static []string
	for _, c := range cols {
		all = append(all, cql.Quote(c.Name))
		if c.Kind == "partition_key" || c.Kind == "static" {
			static = append(static, cql.Quote(c.Name))
		}
		st.hasClustering = st.hasClustering || c.Kind == "clustering"
	}
	st.insertAll = insertText(st.table, all)
	st.insertStatic = insertText(st.table, static)
	return st
}

func insertText(table string, cols []string) string {
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
}

// staticOnly reports whether a row is a partition's static values alone.
func (st *statements) staticOnly(vals [][]byte) bool {
	if !st.hasClustering {
		return false
	}
	for i, c := range st.cols {
		if c.Kind == "clustering" && vals[i] != nil {
			return false
		}
	}
	return true
}

func (st *statements) value(v []byte, merge bool) any {
	if v == nil {
		if merge {
			return nil // overwrite what the target has
		}
		return gocql.UnsetValue // after a truncate: nothing to overwrite, no tombstone
	}
	return boundValue(v)
}

// insert returns the statement and arguments writing one row.
func (st *statements) insert(vals [][]byte, merge bool) (string, []any) {
	static := st.staticOnly(vals)
	args := make([]any, 0, len(vals))
	for i, c := range st.cols {
		if static && c.Kind != "partition_key" && c.Kind != "static" {
			continue
		}
		args = append(args, st.value(vals[i], merge))
	}
	if static {
		return st.insertStatic, args
	}
	return st.insertAll, args
}

// update returns the counter increments of one row (each counter by its value; null
// counters left unset, which Cassandra skips), or "" when the row has none.
func (st *statements) update(vals [][]byte) (string, []any) {
	static := st.staticOnly(vals)
	var set, where []string
	var setArgs, whereArgs []any
	for i, c := range st.cols {
		switch {
		case c.Kind == "partition_key" || c.Kind == "clustering" && !static:
			where = append(where, cql.Quote(c.Name)+" = ?")
			whereArgs = append(whereArgs, boundValue(vals[i]))
		case c.Kind == "clustering":
		case static && c.Kind != "static":
		case c.Type == "counter" && vals[i] != nil:
			q := cql.Quote(c.Name)
			set = append(set, q+" = "+q+" + ?")
			setArgs = append(setArgs, boundValue(vals[i]))
		}
	}
	if len(set) == 0 {
		return "", nil
	}
	return "UPDATE " + st.table + " SET " + strings.Join(set, ", ") + " WHERE " + strings.Join(where, " AND "), append(setArgs, whereArgs...)
}

// selectCounters returns a query reading a row's counters and, for each result column, the
// index of its column.
func (st *statements) selectCounters(vals [][]byte) (string, []any, []int) {
	static := st.staticOnly(vals)
	var sel, where []string
	var args []any
	var idx []int
	for i, c := range st.cols {
		switch {
		case c.Kind == "partition_key" || c.Kind == "clustering" && !static:
			where = append(where, cql.Quote(c.Name)+" = ?")
			args = append(args, boundValue(vals[i]))
		case c.Type == "counter" && (!static || c.Kind == "static"):
			sel = append(sel, cql.Quote(c.Name))
			idx = append(idx, i)
		}
	}
	if len(sel) == 0 {
		sel = []string{cql.Quote(st.cols[0].Name)}
		idx = []int{-1}
	}
	return "SELECT " + strings.Join(sel, ", ") + " FROM " + st.table + " WHERE " + strings.Join(where, " AND "), args, idx
}

// partitionKey returns a row's partition key bytes (to group a partition's rows).
func (st *statements) partitionKey(vals [][]byte) []byte {
	var out []byte
	for i, c := range st.cols {
		if c.Kind != "partition_key" {
			continue
		}
		out = binary.AppendUvarint(out, uint64(len(vals[i])))
		out = append(out, vals[i]...)
	}
	return out
}
