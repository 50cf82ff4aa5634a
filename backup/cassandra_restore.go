package backup

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gocql/gocql"

	"github.com/apimctl/apimctl/internal/cql"
)

// CassandraRestoreOptions tune CassandraRows.
type CassandraRestoreOptions struct {
	// Merge keeps the target's rows that the backup does not have (upserts only); by default
	// each table is truncated first, so it ends equal to the backup.
	Merge bool
	// Parallel is how many units are loaded at once (default 8); InFlight bounds the writes
	// in flight across them (default 64): the back-pressure that keeps memory bounded.
	Parallel, InFlight int
	// Consistency of the writes (default QUORUM).
	Consistency gocql.Consistency
	// BatchRows and BatchBytes bound an unlogged batch (defaults 100 rows, 32 KiB of values:
	// see upserts).
	BatchRows, BatchBytes int
	// Journal records finished units; nil keeps nothing (no resume).
	Journal  Journal
	Progress func(Progress)
	// CounterSettle is how long a resumed counter restore waits before resetting a table
	// whose last run may have left writes in flight (default 10 s: longer than
	// Cassandra's counter_write_request_timeout, after which a coordinator has applied or
	// dropped them).
	CounterSettle time.Duration
}

// CassandraRows restores keyspace from's rows from the backup into keyspace to (whose
// tables CassandraSchema's statements created), table by table, unit by unit, with bounded
// concurrent writes, and returns how many rows it wrote.
//
// Exactness. Without Merge each table is truncated, then loaded: it ends equal to the
// backup. Values are bound as the bytes they were read as; nulls are left unset (no
// tombstones) after a truncate, and written as nulls with Merge.
//
// Resuming (with a Journal). Keys are "cassandra/TO/TABLE" (table state) and
// "cassandra/TO/TABLE/UNIT" (unit state). A table is "reset" once truncated; a unit "done"
// once every write of it succeeded. A resumed run skips done units; rows are upserts, so a
// unit interrupted halfway is simply loaded again.
//
// Counters cannot be upserted: an increment applied twice counts twice, and a deleted
// counter cannot be incremented again (its tombstone wins), so they are reset only by
// TRUNCATE and applied exactly once, with this scheme per unit:
//
//   - "applying" is recorded (durably) before its first increment is sent;
//   - increments are sent in file order, never retried by the driver (non-idempotent, no
//     retry policy), with a context that a cancellation does not cut short;
//   - on cancellation no new increment is sent, those in flight are waited for, and if all
//     succeeded "stopped:K" records that exactly the first K rows are applied; a resumed
//     run skips them;
//   - "done" when all rows succeeded.
//
// A unit left "applying" (the process was killed, or an increment failed or timed out, so
// whether it was applied is unknown) puts its whole table in doubt: the resumed run waits
// CounterSettle, truncates the table and applies every unit again. With Merge, counters are
// set to the backup's values by adding the difference to what the target holds (read at the
// write consistency), which a resumed run simply repeats.
func CassandraRows(ctx context.Context, s *gocql.Session, b *Backup, from, to string, o CassandraRestoreOptions) (int64, error) {
	if o.Parallel <= 0 {
		o.Parallel = 8
	}
	if o.InFlight <= 0 {
		o.InFlight = 64
	}
	if o.Consistency == 0 {
		o.Consistency = gocql.Quorum
	}
	if o.BatchRows <= 0 {
		o.BatchRows = 100
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = 32 << 10
	}
	if o.Journal == nil {
		o.Journal = &MemoryJournal{}
	}
	if o.CounterSettle == 0 {
		o.CounterSettle = 10 * time.Second
	}
	sch, err := readSchemaPart(ctx, b, from)
	if err != nil {
		return 0, err
	}
	type unitJob struct {
		t    *tableSchema
		part Part
	}
	var jobs []unitJob
	for i := range sch.Tables {
		t := &sch.Tables[i]
		parts, err := b.Manifest.tableParts(KindCassandraRows, from, t.Name)
		if err != nil {
			return 0, err
		}
		if len(parts) != t.Units {
			return 0, fmt.Errorf("table %s.%s: the backup has %d of its %d parts", from, t.Name, len(parts), t.Units)
		}
		if err := checkTargetColumns(ctx, s, to, t); err != nil {
			return 0, err
		}
		if err := prepareTable(ctx, s, to, t, o); err != nil {
			return 0, err
		}
		for _, p := range parts {
			jobs = append(jobs, unitJob{t, p})
		}
	}

	var rows atomic.Int64
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, o.InFlight)
	p := newPool[unitJob](ctx, cancel)
	for range o.Parallel {
		p.worker(func(ctx context.Context, j unitJob) error {
			key := unitKey(to, j.t.Name, j.part.Unit)
			if o.Journal.Get(key) == "done" {
				if o.Progress != nil {
					o.Progress(Progress{Kind: "cassandra", Scope: to, Table: j.t.Name, Unit: j.part.Unit, Units: j.t.Units, Skipped: true})
				}
				return nil
			}
			l := &unitLoader{s: s, b: b, to: to, t: j.t, part: j.part, o: o, sem: sem, key: key, multiPartition: j.part.Range != ""}
			n, err := l.run(ctx)
			rows.Add(n)
			if err != nil {
				return err
			}
			if o.Progress != nil {
				o.Progress(Progress{Kind: "cassandra", Scope: to, Table: j.t.Name, Unit: j.part.Unit, Units: j.t.Units, Rows: n})
			}
			return nil
		})
	}
	err = p.run(jobs)
	return rows.Load(), err
}

func tableKey(to, table string) string       { return "cassandra/" + to + "/" + table }
func unitKey(to, table string, u int) string { return tableKey(to, table) + "/" + strconv.Itoa(u) }

// checkTargetColumns checks that the target table has every column of the backup, of the
// same type: otherwise the load would fail midway, or worse, bind bytes to another type.
func checkTargetColumns(ctx context.Context, s *gocql.Session, to string, t *tableSchema) error {
	have, err := tableColumns(ctx, s, to, t.Name)
	if err != nil {
		return err
	}
	if len(have) == 0 {
		return fmt.Errorf("cassandra: table %s.%s does not exist in the target (was the schema restored?)", to, t.Name)
	}
	types := map[string]string{}
	for _, c := range have {
		types[c.Name] = c.Type
	}
	for _, c := range t.Columns {
		got, ok := types[c.Name]
		switch {
		case !ok:
			return fmt.Errorf("cassandra: table %s.%s has no column %s (the backup's has; the target's schema differs)", to, t.Name, cql.Quote(c.Name))
		case got != c.Type:
			return fmt.Errorf("cassandra: column %s of %s.%s is %s in the target, %s in the backup", cql.Quote(c.Name), to, t.Name, got, c.Type)
		}
	}
	return nil
}

// prepareTable resets a table for a load (unless Merge), recording it in the journal.
func prepareTable(ctx context.Context, s *gocql.Session, to string, t *tableSchema, o CassandraRestoreOptions) error {
	if o.Merge {
		return nil
	}
	key := tableKey(to, t.Name)
	state := o.Journal.Get(key)
	inDoubt := false
	if state == "reset" && t.Counter {
		for u := range t.Units {
			if o.Journal.Get(unitKey(to, t.Name, u)) == "applying" {
				inDoubt = true
			}
		}
	}
	if state == "reset" && !inDoubt {
		return nil
	}
	if inDoubt {
		// Increments of the interrupted run may still be in flight: let them land or be
		// dropped before the truncate, or one could land after it and count twice.
		select {
		case <-time.After(o.CounterSettle):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := o.Journal.Set(key, "resetting"); err != nil {
		return err
	}
	if err := s.Query("TRUNCATE TABLE " + cql.Qualified(to, t.Name)).WithContext(ctx).Exec(); err != nil {
		return fmt.Errorf("cassandra: truncate %s.%s (every node must be up): %w", to, t.Name, err)
	}
	for u := range t.Units {
		if err := o.Journal.Set(unitKey(to, t.Name, u), ""); err != nil {
			return err
		}
	}
	return o.Journal.Set(key, "reset")
}

// unitLoader loads one unit.
type unitLoader struct {
	s    *gocql.Session
	b    *Backup
	to   string
	t    *tableSchema
	part Part
	o    CassandraRestoreOptions
	sem  chan struct{}
	key  string

	wg     sync.WaitGroup
	mu     sync.Mutex
	failed error
	// multiPartition: batches may hold several partitions of the unit (see upserts).
	multiPartition bool
	// ttls, width, elapsed: the rows file's time-to-live columns, values per row, and the
	// seconds since it was written.
	ttls    []int
	width   int
	elapsed int64
}

func (l *unitLoader) fail(err error) {
	l.mu.Lock()
	if l.failed == nil {
		l.failed = err
	}
	l.mu.Unlock()
}

func (l *unitLoader) err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failed
}

// next reads the unit's next row; false at its end, or on an error (which fails the loader).
func (l *unitLoader) next(rr *rowsReader) ([][]byte, bool) {
	vals := make([][]byte, l.width)
	if err := rr.next(vals); err != nil {
		if err != io.EOF {
			l.fail(err)
		}
		return nil, false
	}
	return vals, true
}

// send runs f in a goroutine once the in-flight budget has room, and reports whether it
// did (not when ctx ends first); an error f returns fails the loader.
func (l *unitLoader) send(ctx context.Context, f func() error) bool {
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	l.wg.Go(func() {
		defer func() { <-l.sem }()
		if err := f(); err != nil {
			l.fail(err)
		}
	})
	return true
}

func (l *unitLoader) run(ctx context.Context) (int64, error) {
	r, err := l.b.Open(ctx, l.part)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	rr, err := newRowsReader(r, l.part.Path)
	if err != nil {
		return 0, err
	}
	st := newStatements(l.to, l.t.Name, rr.header.Columns)
	l.ttls = rr.header.TTLs
	l.width = rr.header.width()
	if !rr.header.Exported.IsZero() {
		l.elapsed = int64(math.Ceil(time.Since(rr.header.Exported).Seconds()))
	}
	if l.t.Counter {
		return l.counters(ctx, rr, st)
	}
	n, err := l.upserts(ctx, rr, st)
	if err != nil {
		return n, err
	}
	return n, l.o.Journal.Set(l.key, "done")
}

// upserts loads a unit of a regular table in unlogged batches of adjacent rows (by default
// up to 100 rows or 32 KiB of values, under Cassandra's batch_size_fail_threshold of 50 KiB;
// above its warn threshold of 5 KiB it logs one line per batch, yet measured on 1M rows the
// 32 KiB batches load in 24 s and 4 KiB ones in 30 s). A unit is a token
// range of the ring, so its partitions share their replicas, and a batch goes to them as
// one request — the grouping cqlsh COPY FROM does by replica; rows of one partition become
// one mutation.
func (l *unitLoader) upserts(ctx context.Context, rr *rowsReader, st *statements) (int64, error) {
	var n int64
	var batch [][][]byte
	var batchBytes int
	var batchKey []byte
	flush := func() {
		if len(batch) == 0 {
			return
		}
		rowsOf := batch
		batch = nil
		batchBytes = 0
		l.send(ctx, func() error { return l.write(ctx, st, rowsOf) })
	}
	for {
		if err := l.err(); err != nil {
			break
		}
		vals, ok := l.next(rr)
		if !ok {
			break
		}
		n++
		pk := st.partitionKey(vals)
		size := rowSize(vals)
		if len(batch) > 0 && (len(batch) >= l.o.BatchRows || batchBytes+size > l.o.BatchBytes || !l.multiPartition && string(pk) != string(batchKey)) {
			flush()
		}
		batch = append(batch, vals)
		batchKey = pk
		batchBytes += size
		if ctx.Err() != nil {
			break
		}
	}
	if ctx.Err() == nil {
		flush()
	}
	l.wg.Wait()
	if err := l.err(); err != nil {
		return n, err
	}
	return n, ctx.Err()
}

func (l *unitLoader) write(ctx context.Context, st *statements, rows [][][]byte) error {
	var ws []write
	for _, vals := range rows {
		ws = append(ws, st.rowWrites(vals, l.ttls, l.elapsed, l.o.Merge)...)
	}
	var err error
	switch len(ws) {
	case 0:
		return nil
	case 1:
		err = l.s.Query(ws[0].q, ws[0].args...).WithContext(ctx).Consistency(l.o.Consistency).Idempotent(true).RetryPolicy(upsertRetry).Exec()
	default:
		batch := l.s.NewBatch(gocql.UnloggedBatch).WithContext(ctx).RetryPolicy(upsertRetry)
		batch.SetConsistency(l.o.Consistency)
		for _, w := range ws {
			batch.Entries = append(batch.Entries, gocql.BatchEntry{Stmt: w.q, Args: w.args, Idempotent: true})
		}
		err = l.s.ExecuteBatch(batch)
	}
	if err != nil {
		return fmt.Errorf("cassandra: write to %s.%s (%s): %w", l.to, l.t.Name, l.part.Path, err)
	}
	return nil
}

func rowSize(vals [][]byte) int {
	n := 0
	for _, v := range vals {
		n += len(v) + 4
	}
	return n
}

// upsertRetry: an upsert is idempotent, so a write timed out on a busy cluster is sent
// again, backing off.
var upsertRetry = &gocql.ExponentialBackoffRetryPolicy{NumRetries: 6, Min: 200 * time.Millisecond, Max: 5 * time.Second}
