package backup

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gocql/gocql"

	"github.com/apimctl/apimctl/internal/cql"
)

// CassandraOptions tune a keyspace's export (and CassandraRestore's defaults).
type CassandraOptions struct {
	// Parallel is how many token ranges are read at once (default 8).
	Parallel int
	// Splits is how many units a large table is cut into (default 4 × Parallel); a table of
	// fewer than SmallTable rows is one unit.
	Splits     int
	SmallTable int // default 10,000 rows
	// Consistency of every read (default QUORUM; LOCAL_QUORUM for a multi-DC cluster).
	Consistency gocql.Consistency
	// PageSize is the rows per page (default 2,000): memory is O(Parallel × PageSize).
	PageSize int
	// Progress is told about every finished unit.
	Progress func(Progress)
}

// Progress is one step of a backup or a restore, for the console's counters.
type Progress struct {
	Kind  string `json:"kind"`  // cassandra, mysql, files
	Scope string `json:"scope"` // keyspace, database or file set
	Table string `json:"table,omitempty"`
	Unit  int    `json:"unit"`
	Units int    `json:"units"`
	Rows  int64  `json:"rows"` // in this unit
	// Skipped: done by an earlier (interrupted) run.
	Skipped bool `json:"skipped,omitempty"`
}

func (o *CassandraOptions) defaults() {
	if o.Parallel <= 0 {
		o.Parallel = 8
	}
	if o.Splits <= 0 {
		o.Splits = 4 * o.Parallel
	}
	if o.SmallTable <= 0 {
		o.SmallTable = 10000
	}
	if o.Consistency == 0 { // gocql.Any is 0 and never a sensible read
		o.Consistency = gocql.Quorum
	}
	if o.PageSize <= 0 {
		o.PageSize = 2000
	}
}

// ringTokens reads the ring's tokens (the coordinator's and its peers') and whether the
// partitioner is Murmur3, the only one token ranges are planned for.
func ringTokens(ctx context.Context, s *gocql.Session) ([]int64, bool, error) {
	var partitioner string
	var local []string
	if err := s.Query("SELECT partitioner, tokens FROM system.local").WithContext(ctx).Scan(&partitioner, &local); err != nil {
		return nil, false, fmt.Errorf("cassandra: ring: %w", err)
	}
	if !strings.HasSuffix(partitioner, "Murmur3Partitioner") {
		return nil, false, nil
	}
	all := local
	it := s.Query("SELECT tokens FROM system.peers").WithContext(ctx).Iter()
	var peer []string
	for it.Scan(&peer) {
		all = append(all, peer...)
	}
	if err := it.Close(); err != nil {
		return nil, false, fmt.Errorf("cassandra: ring: %w", err)
	}
	out := make([]int64, 0, len(all))
	for _, t := range all {
		v, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			return nil, false, fmt.Errorf("cassandra: ring token %q: %w", t, err)
		}
		out = append(out, v)
	}
	return out, true, nil
}

type exportUnit struct {
	table  *tableSchema
	unit   int
	ranges []TokenRange // nil: the whole table, no token restriction
}

// Cassandra writes a keyspace: its schema (server-side DESCRIBE, Cassandra 4.0+, and each
// table's columns) and each table's rows, read at the chosen consistency in token-range
// units by Parallel workers, each unit its own compressed part, as dsbulk unloads.
func Cassandra(ctx context.Context, s *gocql.Session, keyspace string, w *Writer, o CassandraOptions) error {
	o.defaults()
	stmts, err := describeKeyspace(ctx, s, keyspace)
	if err != nil {
		return err
	}
	sch := cassandraSchema{Keyspace: keyspace, Statements: stmts}
	names, err := tableNames(ctx, s, keyspace)
	if err != nil {
		return err
	}
	tokens, murmur, err := ringTokens(ctx, s)
	if err != nil {
		return err
	}
	ring := RingRanges(tokens)
	var units []exportUnit
	sch.Tables = make([]tableSchema, len(names))
	for i, t := range names {
		cols, err := tableColumns(ctx, s, keyspace, t)
		if err != nil {
			return err
		}
		ts := &sch.Tables[i]
		ts.Name, ts.Columns = t, cols
		for _, c := range cols {
			ts.Counter = ts.Counter || c.Type == "counter"
		}
		small, err := smallTable(ctx, s, keyspace, ts, o)
		if err != nil {
			return err
		}
		if small || !murmur {
			units = append(units, exportUnit{table: ts})
			ts.Units = 1
			continue
		}
		plan := PlanUnits(ring, o.Splits)
		for u, rs := range plan {
			units = append(units, exportUnit{table: ts, unit: u, ranges: rs})
		}
		ts.Units = len(plan)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := newPool[exportUnit](ctx, cancel)
	var dropped sync.Map
	for range o.Parallel {
		p.worker(func(ctx context.Context, u exportUnit) error {
			if _, gone := dropped.Load(u.table.Name); gone {
				return nil
			}
			n, err := exportUnitRows(ctx, s, keyspace, u, w, o)
			if err != nil {
				if strings.Contains(err.Error(), "unconfigured table") {
					dropped.Store(u.table.Name, true)
					return nil
				}
				return err
			}
			if o.Progress != nil {
				o.Progress(Progress{Kind: "cassandra", Scope: keyspace, Table: u.table.Name, Unit: u.unit, Units: u.table.Units, Rows: n})
			}
			return nil
		})
	}
	if err := p.run(units); err != nil {
		return err
	}
	// Tables dropped while the backup ran: nothing to keep, and the manifest says so.
	kept := sch.Tables[:0]
	for _, t := range sch.Tables {
		if _, gone := dropped.Load(t.Name); gone {
			w.Note("cassandra table %s.%s was dropped during the backup", keyspace, t.Name)
			w.dropParts(KindCassandraRows, keyspace, t.Name)
			continue
		}
		kept = append(kept, t)
	}
	sch.Tables = kept
	return w.jsonPart(ctx, Part{Kind: KindCassandraSchema, Name: keyspace, Keyspace: keyspace,
		Path: "cassandra/" + pathElem(keyspace) + "/schema.json.zst", Compression: Zstd}, sch, len(sch.Statements))
}

// smallTable reports whether a table has fewer than SmallTable partitions' worth of rows,
// by reading at most that many keys: such a table is one unit.
func smallTable(ctx context.Context, s *gocql.Session, keyspace string, t *tableSchema, o CassandraOptions) (bool, error) {
	var keys []string
	for _, c := range t.Columns {
		if c.Kind == "partition_key" {
			keys = append(keys, cql.Quote(c.Name))
		}
	}
	q := fmt.Sprintf("SELECT %s FROM %s LIMIT %d", strings.Join(keys, ", "), cql.Qualified(keyspace, t.Name), o.SmallTable)
	it := s.Query(q).WithContext(ctx).Consistency(o.Consistency).PageSize(o.SmallTable).Iter()
	n := it.NumRows()
	if err := it.Close(); err != nil {
		return false, fmt.Errorf("cassandra: read %s.%s at %s: %w", keyspace, t.Name, o.Consistency, err)
	}
	return n < o.SmallTable, nil
}

// selectList is the columns a unit reads: every column, and for each non-key tuple column
// its WRITETIME (the driver hands a tuple over element by element, so a null tuple and a
// tuple of nulls look alike; only a null tuple has no write time).
func selectList(cols []columnSchema) (string, []bool, []int) {
	var sel []string
	var tupleNull []bool
	for _, c := range cols {
		sel = append(sel, cql.Quote(c.Name))
	}
	for _, c := range cols {
		isTuple := strings.HasPrefix(c.Type, "tuple<") || strings.HasPrefix(c.Type, "frozen<tuple<")
		tupleNull = append(tupleNull, isTuple && !c.key())
		if isTuple && !c.key() {
			sel = append(sel, "WRITETIME("+cql.Quote(c.Name)+")")
		}
	}
	var ttls []int
	for i, c := range cols {
		if ttlColumn(c) {
			ttls = append(ttls, i)
			sel = append(sel, "TTL("+cql.Quote(c.Name)+")")
		}
	}
	return strings.Join(sel, ", "), tupleNull, ttls
}

var nativeTypes = map[string]bool{"ascii": true, "bigint": true, "blob": true, "boolean": true, "date": true, "decimal": true,
	"double": true, "duration": true, "float": true, "inet": true, "int": true, "smallint": true, "text": true, "time": true,
	"timestamp": true, "timeuuid": true, "tinyint": true, "uuid": true, "varchar": true, "varint": true}

// ttlColumn reports whether a column has one time to live Cassandra can tell (TTL() takes
// no key, counter or multi-cell column: non-frozen collections and UDTs).
func ttlColumn(c columnSchema) bool {
	if c.key() || c.Type == "counter" {
		return false
	}
	t := c.Type
	return nativeTypes[t] || strings.HasPrefix(t, "frozen<") || strings.HasPrefix(t, "tuple<") || strings.HasPrefix(t, "vector<")
}

// exportUnitRows reads one unit into its own part.
func exportUnitRows(ctx context.Context, s *gocql.Session, keyspace string, u exportUnit, w *Writer, o CassandraOptions) (int64, error) {
	t := u.table
	sel, tupleNull, ttls := selectList(t.Columns)
	from := cql.Qualified(keyspace, t.Name)
	var keys []string
	for _, c := range t.Columns {
		if c.Kind == "partition_key" {
			keys = append(keys, cql.Quote(c.Name))
		}
	}
	h := rowsHeader{Keyspace: keyspace, Table: t.Name, Columns: t.Columns, TTLs: ttls, Exported: time.Now().UTC()}
	ranges := u.ranges
	if ranges == nil {
		ranges = []TokenRange{FullRing}
	}
	for _, r := range u.ranges {
		h.Ranges = append(h.Ranges, r.String())
	}
	part := Part{Kind: KindCassandraRows, Name: keyspace + "." + t.Name, Keyspace: keyspace, Table: t.Name,
		Path: fmt.Sprintf("cassandra/%s/%s/%04d.rows.zst", pathElem(keyspace), pathElem(t.Name), u.unit),
		Unit: u.unit, Units: t.Units, Compression: Zstd}
	if len(u.ranges) > 0 {
		part.Range = u.ranges[0].String()
		if len(u.ranges) > 1 {
			part.Range = fmt.Sprintf("(%d,%d]", u.ranges[0].Start, u.ranges[len(u.ranges)-1].End)
		}
	}
	pw, err := w.Part(ctx, part)
	if err != nil {
		return 0, err
	}
	rw, err := newRowsWriter(pw, h)
	if err != nil {
		pw.Abort()
		return 0, err
	}
	n, err := readRanges(ctx, s, from, sel, keys, ranges, u.ranges == nil, t.Columns, tupleNull, len(ttls), rw, o)
	if err == nil {
		err = rw.close()
	}
	if err != nil {
		pw.Abort()
		return n, err
	}
	pw.Items = n
	return n, pw.Close()
}

var rowsRead atomic.Int64 // for tests: rows read by every export

func readRanges(ctx context.Context, s *gocql.Session, from, sel string, keys []string, ranges []TokenRange, whole bool,
	cols []columnSchema, tupleNull []bool, nTTL int, rw *rowsWriter, o CassandraOptions) (int64, error) {
	// Destinations: one per column, a tuple column one per element, then the write times.
	var dest []any
	type colDest struct {
		first, n int // in dest
		tuple    bool
	}
	cds := make([]colDest, len(cols))
	var elems []*rawValue
	for i, c := range cols {
		n := 1
		if et := tupleArity(c.Type); et > 0 {
			n = et
		}
		cds[i] = colDest{first: len(dest), n: n, tuple: tupleArity(c.Type) > 0}
		for range n {
			v := &rawValue{}
			elems = append(elems, v)
			dest = append(dest, v)
		}
	}
	wt := map[int]**int64{}
	for i, isNullable := range tupleNull {
		if isNullable {
			p := new(*int64)
			wt[i] = p
			dest = append(dest, p)
		}
	}
	ttls := make([]*int32, nTTL)
	for i := range ttls {
		dest = append(dest, &ttls[i])
	}
	vals := make([][]byte, len(cols)+nTTL)
	var n int64
	for _, r := range ranges {
		q := "SELECT " + sel + " FROM " + from
		var args []any
		if !whole {
			tk := "token(" + strings.Join(keys, ", ") + ")"
			q += " WHERE " + tk + " > ? AND " + tk + " <= ?"
			args = []any{r.Start, r.End}
		}
		it := s.Query(q, args...).WithContext(ctx).Consistency(o.Consistency).PageSize(o.PageSize).Iter()
		for it.Scan(dest...) {
			for i, cd := range cds {
				switch {
				case !cd.tuple:
					vals[i] = elems[cd.first].b
				case wt[i] != nil && *wt[i] == nil && allNil(elems[cd.first:cd.first+cd.n]):
					vals[i] = nil
				default:
					parts := make([][]byte, cd.n)
					for k := range cd.n {
						parts[k] = elems[cd.first+k].b
					}
					vals[i] = tupleBytes(parts)
				}
			}
			for _, p := range wt {
				*p = nil
			}
			for k, ttl := range ttls {
				vals[len(cols)+k] = nil
				if ttl != nil {
					vals[len(cols)+k] = binary.BigEndian.AppendUint32(nil, uint32(*ttl))
				}
				ttls[k] = nil
			}
			rw.row(vals)
			n++
		}
		if err := it.Close(); err != nil {
			return n, fmt.Errorf("cassandra: read %s %s at %s: %w", from, r, o.Consistency, err)
		}
	}
	rowsRead.Add(n)
	return n, nil
}

func allNil(vs []*rawValue) bool {
	for _, v := range vs {
		if v.b != nil {
			return false
		}
	}
	return true
}

// tupleArity returns how many elements a top-level tuple type has (0: not a tuple).
func tupleArity(typ string) int {
	t := strings.TrimSpace(typ)
	if s, ok := strings.CutPrefix(t, "frozen<"); ok {
		t = strings.TrimSuffix(s, ">")
	}
	inner, ok := strings.CutPrefix(t, "tuple<")
	if !ok {
		return 0
	}
	inner = strings.TrimSuffix(inner, ">")
	depth, n, quoted := 0, 1, false
	for _, c := range inner {
		if c == '"' {
			quoted = !quoted
		}
		if quoted {
			continue
		}
		switch c {
		case '<', '(':
			depth++
		case '>', ')':
			depth--
		case ',':
			if depth == 0 {
				n++
			}
		}
	}
	return n
}

// ParseConsistency reads a --consistency value: QUORUM (the default), LOCAL_QUORUM for a
// multi-DC cluster, ALL, ONE or LOCAL_ONE.
func ParseConsistency(s string) (gocql.Consistency, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "", "QUORUM":
		return gocql.Quorum, nil
	case "LOCAL_QUORUM":
		return gocql.LocalQuorum, nil
	case "ALL":
		return gocql.All, nil
	case "ONE":
		return gocql.One, nil
	case "LOCAL_ONE":
		return gocql.LocalOne, nil
	}
	return 0, fmt.Errorf("consistency %q: one of QUORUM, LOCAL_QUORUM, ALL, ONE, LOCAL_ONE", s)
}
