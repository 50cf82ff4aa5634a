package backup

import (
	"encoding/binary"
	"strconv"
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
	// tuples[i] is column i's arity when it is a tuple. gocql cannot bind a whole tuple
	// column (it counts a tuple parameter as one value per element, CASSANDRA-unrelated
	// driver limitation), so tuple columns are written as tuple literals of one bind marker
	// per element: "(?, ?, ?)".
	tuples   []int
	hasTuple bool
}

func newStatements(to, table string, cols []columnSchema) *statements {
	st := &statements{table: cql.Qualified(to, table), cols: cols}
	var all, static []string
	st.tuples = make([]int, len(cols))
	for i, c := range cols {
		st.tuples[i] = tupleArity(c.Type)
		st.hasTuple = st.hasTuple || st.tuples[i] > 0
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
			return boundValue(nil) // a null: overwrite what the target has
		}
		return gocql.UnsetValue // after a truncate: nothing to overwrite, no tombstone
	}
	return boundValue(v)
}

// insert returns the statement and arguments writing one row.
func (st *statements) insert(vals [][]byte, merge bool) (string, []any) {
	static := st.staticOnly(vals)
	if st.hasTuple {
		return st.insertTuples(vals, merge, static)
	}
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

// insertTuples is insert for a table with tuple columns: its text depends on which tuples
// are null (left out after a truncate, a null literal with Merge).
func (st *statements) insertTuples(vals [][]byte, merge, static bool) (string, []any) {
	var cols, marks []string
	args := make([]any, 0, len(vals)+4)
	for i, c := range st.cols {
		if static && c.Kind != "partition_key" && c.Kind != "static" {
			continue
		}
		n := st.tuples[i]
		switch {
		case n == 0:
			cols, marks = append(cols, cql.Quote(c.Name)), append(marks, "?")
			args = append(args, st.value(vals[i], merge))
		case vals[i] == nil && merge:
			cols, marks = append(cols, cql.Quote(c.Name)), append(marks, "null")
		case vals[i] == nil:
		default:
			cols = append(cols, cql.Quote(c.Name))
			marks = append(marks, "("+strings.TrimSuffix(strings.Repeat("?, ", n), ", ")+")")
			args = append(args, tupleArgs(vals[i], n)...)
		}
	}
	return "INSERT INTO " + st.table + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(marks, ", ") + ")", args
}

// tupleArgs splits a serialized tuple into its elements' bound values (null elements as
// nulls: a tuple literal takes no unset element).
func tupleArgs(b []byte, n int) []any {
	out := make([]any, 0, n)
	for range n {
		if len(b) < 4 {
			out = append(out, boundValue(nil))
			continue
		}
		l := int32(binary.BigEndian.Uint32(b))
		b = b[4:]
		if l < 0 || int(l) > len(b) {
			out = append(out, boundValue(nil))
			continue
		}
		out = append(out, boundValue(b[:l:l]))
		b = b[l:]
	}
	return out
}

// keyMatch is "col = ?" for a key column, "col = (?, ?)" for a tuple one, with its values.
func (st *statements) keyMatch(i int, v []byte) (string, []any) {
	q := cql.Quote(st.cols[i].Name)
	if n := st.tuples[i]; n > 0 {
		return q + " = (" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")", tupleArgs(v, n)
	}
	return q + " = ?", []any{boundValue(v)}
}

// update returns the counter increments of one row (each counter by its value; null
// counters left out), or "" when the row has none. Static counters repeat on every row of
// their partition in a result: withStatic says whether this row applies them (the first
// row of its partition does).
func (st *statements) update(vals [][]byte, withStatic bool) (string, []any) {
	static := st.staticOnly(vals)
	var set, where []string
	var setArgs, whereArgs []any
	for i, c := range st.cols {
		switch {
		case c.Kind == "partition_key" || c.Kind == "clustering" && !static:
			m, a := st.keyMatch(i, vals[i])
			where = append(where, m)
			whereArgs = append(whereArgs, a...)
		case c.Kind == "clustering":
		case static && c.Kind != "static":
		case c.Kind == "static" && !withStatic:
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
func (st *statements) selectCounters(vals [][]byte, withStatic bool) (string, []any, []int) {
	static := st.staticOnly(vals)
	var sel, where []string
	var args []any
	var idx []int
	for i, c := range st.cols {
		switch {
		case c.Kind == "partition_key" || c.Kind == "clustering" && !static:
			m, a := st.keyMatch(i, vals[i])
			where = append(where, m)
			args = append(args, a...)
		case c.Type == "counter" && (!static || c.Kind == "static") && (withStatic || c.Kind != "static"):
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

// write is one statement and its arguments.
type write struct {
	q    string
	args []any
}

// rowWrites returns the statements writing one row whose values may be followed by the
// times to live of the columns ttls names (seconds left when exported, elapsed seconds ago):
// the columns without one in one INSERT, each distinct time to live in one INSERT … USING
// TTL with what is left of it. Cells that have expired since are left out (nulls with
// Merge), and a row whose every value expired is not written at all.
func (st *statements) rowWrites(vals [][]byte, ttls []int, elapsed int64, merge bool) []write {
	n := len(st.cols)
	live := map[int]int64{}
	for k, i := range ttls {
		if b := vals[n+k]; len(b) == 4 && vals[i] != nil {
			live[i] = int64(int32(binary.BigEndian.Uint32(b))) - elapsed
		}
	}
	if len(live) == 0 {
		q, args := st.insert(vals[:n], merge)
		return []write{{q, args}}
	}
	static := st.staticOnly(vals)
	var keys, base []int
	groups := map[int64][]int{}
	var order []int64
	baseValues := false
	for i, c := range st.cols {
		switch {
		case c.Kind == "partition_key" || c.Kind == "clustering" && !static:
			keys = append(keys, i)
		case c.Kind == "clustering" || static && c.Kind != "static":
		case live[i] > 0:
			if _, ok := groups[live[i]]; !ok {
				order = append(order, live[i])
			}
			groups[live[i]] = append(groups[live[i]], i)
		case vals[i] != nil && func() bool { _, expiring := live[i]; return expiring }():
			if merge { // expired: a null over what the target has
				base = append(base, -i-1)
			}
		default:
			base = append(base, i)
			baseValues = baseValues || vals[i] != nil
		}
	}
	if !baseValues && len(order) == 0 {
		return nil // every value expired: so has the row, where it was
	}
	var out []write
	if baseValues || merge && len(base) > 0 {
		q, args := st.insertCols(keys, base, vals, merge, 0)
		out = append(out, write{q, args})
	}
	for _, ttl := range order {
		q, args := st.insertCols(keys, groups[ttl], vals, merge, ttl)
		out = append(out, write{q, args})
	}
	return out
}

// insertCols writes the key columns and cols (an index -i-1 writes column i as null) of a
// row, USING TTL ttl when ttl > 0.
func (st *statements) insertCols(keys, cols []int, vals [][]byte, merge bool, ttl int64) (string, []any) {
	var names, marks []string
	var args []any
	for _, i := range append(append([]int{}, keys...), cols...) {
		v := []byte(nil)
		null := i < 0
		if null {
			i = -i - 1
		} else {
			v = vals[i]
		}
		name := cql.Quote(st.cols[i].Name)
		switch n := st.tuples[i]; {
		case v == nil && (merge || null):
			names, marks = append(names, name), append(marks, "null")
		case v == nil:
		case n > 0:
			names = append(names, name)
			marks = append(marks, "("+strings.TrimSuffix(strings.Repeat("?, ", n), ", ")+")")
			args = append(args, tupleArgs(v, n)...)
		default:
			names, marks = append(names, name), append(marks, "?")
			args = append(args, boundValue(v))
		}
	}
	q := "INSERT INTO " + st.table + " (" + strings.Join(names, ", ") + ") VALUES (" + strings.Join(marks, ", ") + ")"
	if ttl > 0 {
		q += " USING TTL " + strconv.FormatInt(ttl, 10)
	}
	return q, args
}
