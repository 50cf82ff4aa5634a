package backup

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gocql/gocql"
)

// Counter tables: applied exactly once (the scheme is in CassandraRows' doc).

// noRetry: a counter increment whose outcome is unknown must never be sent again.
var noRetry = &gocql.SimpleRetryPolicy{NumRetries: 0}

// counters loads a unit of a counter table, exactly once (see CassandraRows).
func (l *unitLoader) counters(ctx context.Context, rr *rowsReader, st *statements) (int64, error) {
	skip := int64(0)
	if s, ok := strings.CutPrefix(l.o.Journal.Get(l.key), "stopped:"); ok && !l.o.Merge {
		skip, _ = strconv.ParseInt(s, 10, 64)
	}
	if !l.o.Merge {
		if err := l.o.Journal.Set(l.key, "applying"); err != nil {
			return 0, err
		}
	}
	// Increments are never cut short by a cancellation (their outcome would be unknown);
	// they end on their own timeout.
	wctx := context.WithoutCancel(ctx)
	var row, sent int64
	var prevPK []byte
	for ctx.Err() == nil && l.err() == nil {
		vals, ok := l.next(rr)
		if !ok {
			break
		}
		row++
		// A partition's rows are adjacent and all in this unit: its first row applies the
		// static counters.
		pk := st.partitionKey(vals)
		withStatic := string(pk) != string(prevPK)
		prevPK = pk
		if row <= skip {
			continue
		}
		if l.send(ctx, func() error { return l.increment(wctx, st, vals, withStatic) }) {
			sent++
		}
	}
	l.wg.Wait()
	if err := l.err(); err != nil {
		// Left "applying": in doubt, the table is reset by the next run.
		return sent, err
	}
	if ctx.Err() != nil {
		if !l.o.Merge {
			if err := l.o.Journal.Set(l.key, "stopped:"+strconv.FormatInt(skip+sent, 10)); err != nil {
				return sent, err
			}
		}
		return sent, ctx.Err()
	}
	return sent, l.o.Journal.Set(l.key, "done")
}

func (l *unitLoader) increment(ctx context.Context, st *statements, vals [][]byte, withStatic bool) error {
	if l.o.Merge {
		cur, err := l.currentCounters(ctx, st, vals, withStatic)
		if err != nil {
			return err
		}
		vals = append([][]byte(nil), vals...)
		changed := false
		for i, c := range st.cols {
			if c.key() || c.Kind == "static" && !withStatic {
				continue
			}
			want := counterValue(vals[i])
			d := want - cur[i]
			if vals[i] == nil && cur[i] == 0 || d == 0 {
				vals[i] = nil
				continue
			}
			vals[i] = binary.BigEndian.AppendUint64(nil, uint64(d))
			changed = true
		}
		if !changed {
			return nil
		}
	}
	q, args := st.update(vals, withStatic)
	if q == "" {
		return nil
	}
	err := l.s.Query(q, args...).WithContext(ctx).Consistency(l.o.Consistency).Idempotent(false).RetryPolicy(noRetry).Exec()
	if err != nil {
		return fmt.Errorf("cassandra: counter update of %s.%s (%s), not retried: %w", l.to, l.t.Name, l.part.Path, err)
	}
	return nil
}

// currentCounters reads a counter row's values in the target (0 where absent).
func (l *unitLoader) currentCounters(ctx context.Context, st *statements, vals [][]byte, withStatic bool) ([]int64, error) {
	q, args, idx := st.selectCounters(vals, withStatic)
	out := make([]int64, len(st.cols))
	dest := make([]any, len(idx))
	raws := make([]rawValue, len(idx))
	for i := range raws {
		dest[i] = &raws[i]
	}
	err := l.s.Query(q, args...).WithContext(ctx).Consistency(l.o.Consistency).Scan(dest...)
	if errors.Is(err, gocql.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cassandra: read counters of %s.%s: %w", l.to, l.t.Name, err)
	}
	for k, i := range idx {
		if i >= 0 {
			out[i] = counterValue(raws[k].b)
		}
	}
	return out, nil
}

func counterValue(b []byte) int64 {
	if len(b) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}
