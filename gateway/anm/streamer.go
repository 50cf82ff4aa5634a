// Package anm is the Admin Node Manager role: it streams the transaction events the traffic
// gateways write to the shared events directory into the metrics database as per-minute
// aggregates per API, and serves a small monitoring API over them.
package anm

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/apimctl/apimctl/gateway/config"
	"github.com/apimctl/apimctl/gateway/eventlog"
	"github.com/apimctl/apimctl/gateway/metrics"
)

// OpenDB opens the metrics database described by an environment package's metricsDB. The
// connection is TLS unless metricsDB.tls.mode is disabled, and the server is verified unless
// it is insecure-skip-verify; there is no fallback to plaintext.
func OpenDB(m *config.MetricsDB) (*sql.DB, error) {
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr, c.DBName = m.Username, m.Password, "tcp", m.Addr, m.Database
	c.ParseTime, c.Loc = true, time.UTC
	c.Timeout, c.ReadTimeout, c.WriteTimeout = 5*time.Second, 30*time.Second, 30*time.Second
	tc, err := m.TLS.ClientConfig("metricsDB.tls", config.TLSVerify)
	if err != nil {
		return nil, err
	}
	c.TLS = tc
	conn, err := mysql.NewConnector(c)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(4)
	db.SetConnMaxLifetime(10 * time.Minute)
	return db, nil
}

// Streamer moves events from files into aggregates. A file's read offset is stored in the
// same transaction as the aggregates computed from the bytes before it, so a crash or restart
// never counts an event twice or skips one that is still on disk.
type Streamer struct {
	DB       *sql.DB
	Dir      string
	Prefix   string // table name prefix
	Interval time.Duration
	MaxChunk int64 // bytes read from one file per transaction (8 MB)
	Metrics  *metrics.Metrics
	Log      *slog.Logger

	mu        sync.Mutex
	instances map[string]*Instance
	lastRun   time.Time
	lastErr   string
	pending   int64
	files     int
}

// Instance is a gateway seen in the events.
type Instance struct {
	Group     string    `json:"group"`
	Instance  string    `json:"instance"`
	LastEvent time.Time `json:"lastEvent"`
	Events    int64     `json:"eventsStreamed"`
}

func (s *Streamer) aggTable() string { return s.Prefix + "api_minute" }
func (s *Streamer) cpTable() string  { return s.Prefix + "event_checkpoints" }

// EnsureSchema creates the aggregate and checkpoint tables if missing.
func (s *Streamer) EnsureSchema(ctx context.Context) error {
	for _, q := range []string{
		`CREATE TABLE IF NOT EXISTS ` + s.aggTable() + ` (
			group_name VARCHAR(64) NOT NULL, api VARCHAR(128) NOT NULL, minute DATETIME NOT NULL,
			requests BIGINT NOT NULL DEFAULT 0,
			status_1xx BIGINT NOT NULL DEFAULT 0, status_2xx BIGINT NOT NULL DEFAULT 0, status_3xx BIGINT NOT NULL DEFAULT 0,
			status_4xx BIGINT NOT NULL DEFAULT 0, status_5xx BIGINT NOT NULL DEFAULT 0,
			latency_ms_sum DOUBLE NOT NULL DEFAULT 0, latency_ms_max DOUBLE NOT NULL DEFAULT 0,
			bytes_in BIGINT NOT NULL DEFAULT 0, bytes_out BIGINT NOT NULL DEFAULT 0,
			PRIMARY KEY (group_name, api, minute)) ENGINE=InnoDB`,
		`CREATE TABLE IF NOT EXISTS ` + s.cpTable() + ` (
			file VARCHAR(255) NOT NULL PRIMARY KEY, ` + "`offset`" + ` BIGINT NOT NULL, updated DATETIME(6) NOT NULL) ENGINE=InnoDB`,
	} {
		if _, err := s.DB.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create metrics tables: %w", err)
		}
	}
	return nil
}

// Run streams every Interval until ctx ends.
func (s *Streamer) Run(ctx context.Context) {
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		if err := s.RunOnce(ctx); err != nil && ctx.Err() == nil {
			s.Log.Error("streaming events to the metrics database failed; will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

type aggKey struct {
	group, api string
	minute     time.Time
}

type agg struct {
	requests          int64
	classes           [6]int64
	latSum, latMax    float64
	bytesIn, bytesOut int64
}

// RunOnce streams what is in the directory now.
func (s *Streamer) RunOnce(ctx context.Context) error {
	ents, err := os.ReadDir(s.Dir)
	if err != nil {
		return s.done(fmt.Errorf("read events directory %s: %w", s.Dir, err))
	}
	cps, err := s.checkpoints(ctx)
	if err != nil {
		return s.done(err)
	}
	var names []string
	present := map[string]bool{}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), eventlog.FilePrefix) && strings.HasSuffix(e.Name(), ".jsonl") {
			names = append(names, e.Name())
			present[e.Name()] = true
		}
	}
	sort.Strings(names)
	var pending int64
	var firstErr error
	for _, name := range names {
		for {
			n, left, err := s.streamFile(ctx, name, cps[name])
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				break
			}
			cps[name] += n
			if n == 0 || left == 0 {
				pending += left
				break
			}
		}
	}
	// Checkpoints of files the gateways deleted (rotation) are no longer needed.
	for f := range cps {
		if !present[f] {
			if _, err := s.DB.ExecContext(ctx, `DELETE FROM `+s.cpTable()+` WHERE file = ?`, f); err != nil && firstErr == nil {
				firstErr = err
			}
		}
	}
	s.mu.Lock()
	s.pending, s.files = pending, len(names)
	s.mu.Unlock()
	if s.Metrics != nil {
		s.Metrics.ANMPendingBytes.Set(float64(pending))
	}
	return s.done(firstErr)
}

func (s *Streamer) done(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastRun = time.Now()
	s.lastErr = ""
	if err != nil {
		s.lastErr = err.Error()
		if s.Metrics != nil {
			s.Metrics.ANMFlushErrors.Inc()
		}
	}
	return err
}

func (s *Streamer) checkpoints(ctx context.Context) (map[string]int64, error) {
	rows, err := s.DB.QueryContext(ctx, "SELECT file, `offset` FROM "+s.cpTable())
	if err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var f string
		var o int64
		if err := rows.Scan(&f, &o); err != nil {
			return nil, err
		}
		out[f] = o
	}
	return out, rows.Err()
}

var errMoved = errors.New("checkpoint moved by another streamer")

// streamFile aggregates complete lines of name after offset (up to MaxChunk bytes) and commits
// them with the new offset. It returns the bytes consumed and the bytes left after them.
func (s *Streamer) streamFile(ctx context.Context, name string, offset int64) (int64, int64, error) {
	f, err := os.Open(filepath.Join(s.Dir, name))
	if err != nil {
		if os.IsNotExist(err) {
			return 0, 0, nil // rotated away between listing and reading
		}
		return 0, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	size := fi.Size()
	if size <= offset {
		return 0, 0, nil
	}
	chunk := min(size-offset, s.MaxChunk)
	buf := make([]byte, chunk)
	if _, err := f.ReadAt(buf, offset); err != nil && !errors.Is(err, io.EOF) {
		return 0, 0, err
	}
	end := bytes.LastIndexByte(buf, '\n')
	if end < 0 {
		return 0, size - offset, nil // a line still being written
	}
	buf = buf[:end+1]
	aggs := map[aggKey]*agg{}
	seen := map[string]*Instance{}
	var events, bad int64
	for _, line := range bytes.Split(buf[:len(buf)-1], []byte{'\n'}) {
		var l eventlog.Line
		if err := json.Unmarshal(line, &l); err != nil || l.Time.IsZero() {
			bad++
			continue
		}
		events++
		k := aggKey{group: trunc(l.Group, 64), api: trunc(l.API, 128), minute: l.Time.UTC().Truncate(time.Minute)}
		a := aggs[k]
		if a == nil {
			a = &agg{}
			aggs[k] = a
		}
		a.requests++
		if c := l.Status / 100; c >= 1 && c <= 5 {
			a.classes[c]++
		}
		a.latSum += l.LatencyMs
		a.latMax = max(a.latMax, l.LatencyMs)
		a.bytesIn += l.BytesIn
		a.bytesOut += l.BytesOut
		in := seen[l.Instance]
		if in == nil {
			in = &Instance{Group: l.Group, Instance: l.Instance}
			seen[l.Instance] = in
		}
		in.Events++
		if l.Time.After(in.LastEvent) {
			in.LastEvent = l.Time
		}
	}
	newOff := offset + int64(len(buf))
	if err := s.commit(ctx, name, offset, newOff, aggs); err != nil {
		return 0, 0, err
	}
	if s.Metrics != nil {
		s.Metrics.ANMEvents.Add(float64(events))
		s.Metrics.ANMBadLines.Add(float64(bad))
	}
	if bad > 0 {
		s.Log.Warn("skipped malformed event lines", "file", name, "lines", bad)
	}
	s.mu.Lock()
	if s.instances == nil {
		s.instances = map[string]*Instance{}
	}
	for k, v := range seen {
		cur := s.instances[k]
		if cur == nil {
			s.instances[k] = v
			continue
		}
		cur.Events += v.Events
		cur.Group = v.Group
		if v.LastEvent.After(cur.LastEvent) {
			cur.LastEvent = v.LastEvent
		}
	}
	s.mu.Unlock()
	return int64(len(buf)), size - newOff, nil
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (s *Streamer) commit(ctx context.Context, file string, from, to int64, aggs map[aggKey]*agg) error {
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	var cur int64
	err = tx.QueryRowContext(ctx, "SELECT `offset` FROM "+s.cpTable()+" WHERE file = ? FOR UPDATE", file).Scan(&cur)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if from != 0 {
			return errMoved
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+s.cpTable()+" (file, `offset`, updated) VALUES (?, ?, UTC_TIMESTAMP(6))", file, to); err != nil {
			return fmt.Errorf("insert checkpoint: %w", err)
		}
	case err != nil:
		return fmt.Errorf("lock checkpoint: %w", err)
	case cur != from:
		return errMoved
	default:
		if _, err := tx.ExecContext(ctx, "UPDATE "+s.cpTable()+" SET `offset` = ?, updated = UTC_TIMESTAMP(6) WHERE file = ?", to, file); err != nil {
			return fmt.Errorf("update checkpoint: %w", err)
		}
	}
	q := `INSERT INTO ` + s.aggTable() + ` (group_name, api, minute, requests, status_1xx, status_2xx, status_3xx, status_4xx, status_5xx,
		latency_ms_sum, latency_ms_max, bytes_in, bytes_out) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON DUPLICATE KEY UPDATE requests = requests + VALUES(requests),
		status_1xx = status_1xx + VALUES(status_1xx), status_2xx = status_2xx + VALUES(status_2xx),
		status_3xx = status_3xx + VALUES(status_3xx), status_4xx = status_4xx + VALUES(status_4xx),
		status_5xx = status_5xx + VALUES(status_5xx), latency_ms_sum = latency_ms_sum + VALUES(latency_ms_sum),
		latency_ms_max = GREATEST(latency_ms_max, VALUES(latency_ms_max)),
		bytes_in = bytes_in + VALUES(bytes_in), bytes_out = bytes_out + VALUES(bytes_out)`
	stmt, err := tx.PrepareContext(ctx, q)
	if err != nil {
		return fmt.Errorf("prepare aggregate upsert: %w", err)
	}
	defer stmt.Close()
	for k, a := range aggs {
		if _, err := stmt.ExecContext(ctx, k.group, k.api, k.minute, a.requests, a.classes[1], a.classes[2], a.classes[3],
			a.classes[4], a.classes[5], a.latSum, a.latMax, a.bytesIn, a.bytesOut); err != nil {
			return fmt.Errorf("upsert aggregate: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
