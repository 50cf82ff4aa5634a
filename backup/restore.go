package backup

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"filippo.io/age"
	"github.com/gocql/gocql"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
)

// The restore engines: each puts one kind of part back into a target.

// PartsOf returns the manifest's parts of a kind.
func (m *Manifest) PartsOf(kind string) []Part {
	var out []Part
	for _, p := range m.Parts {
		if p.Kind == kind {
			out = append(out, p)
		}
	}
	return out
}

// Keyspaces are the keyspaces the backup holds.
func (m *Manifest) Keyspaces() []string {
	var out []string
	for _, p := range m.PartsOf("cassandra-schema") {
		out = append(out, p.Name)
	}
	return out
}

func open(dir string, p Part) (*os.File, error) {
	return os.Open(filepath.Join(dir, filepath.FromSlash(p.Path)))
}

var keyspaceStmt = regexp.MustCompile(`(?is)^CREATE KEYSPACE\s+(?:IF NOT EXISTS\s+)?\S+\s+WITH\s+replication\s*=\s*(\{[^}]*\})(.*)$`)

// CassandraSchema returns a keyspace's statements from the backup rewritten for the target:
// the keyspace renamed (from → to), its replication replaced when replication is not empty
// (e.g. {'class': 'NetworkTopologyStrategy', 'dc2': 3} at a DR site), and IF NOT EXISTS
// everywhere so a restore can run again.
func CassandraSchema(dir string, m *Manifest, from, to, replication string) ([]string, error) {
	var part *Part
	for _, p := range m.PartsOf("cassandra-schema") {
		if p.Name == from {
			part = &p
		}
	}
	if part == nil {
		return nil, fmt.Errorf("the backup has no keyspace %s (it has %s)", from, strings.Join(m.Keyspaces(), ", "))
	}
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(part.Path)))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, stmt := range strings.Split(string(b), ";\n") {
		stmt = strings.TrimSpace(stmt)
		if stmt == "" {
			continue
		}
		if mm := keyspaceStmt.FindStringSubmatch(stmt); mm != nil {
			rep := mm[1]
			if replication != "" {
				rep = replication
			}
			out = append(out, fmt.Sprintf("CREATE KEYSPACE IF NOT EXISTS %s WITH replication = %s%s", to, rep, strings.TrimSuffix(mm[2], ";")))
			continue
		}
		stmt = strings.ReplaceAll(stmt, " "+from+".", " "+to+".")
		for _, kw := range []string{"TABLE", "TYPE", "INDEX", "CUSTOM INDEX", "MATERIALIZED VIEW", "FUNCTION", "AGGREGATE"} {
			if rest, ok := strings.CutPrefix(stmt, "CREATE "+kw+" "); ok && !strings.HasPrefix(rest, "IF NOT EXISTS") {
				stmt = "CREATE " + kw + " IF NOT EXISTS " + rest
				break
			}
		}
		out = append(out, strings.TrimSuffix(stmt, ";"))
	}
	return out, nil
}

// CassandraRows inserts a keyspace's rows (INSERT JSON, at QUORUM, workers in parallel) into
// keyspace to, and returns how many. progress (nil: none) hears of each table as it starts,
// every RowsProgressEvery rows read, and when it ends.
func CassandraRows(ctx context.Context, s *gocql.Session, dir string, m *Manifest, from, to string, workers int,
	progress func(table string, read, total int64)) (int64, error) {
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	var n atomic.Int64
	for _, p := range m.PartsOf("cassandra-table") {
		ks, table, _ := strings.Cut(p.Name, ".")
		if ks != from {
			continue
		}
		write, err := rowWriter(ctx, s, to, table)
		if err != nil {
			return n.Load(), err
		}
		if write == nil {
			continue // a counter table that already holds data: see rowWriter
		}
		f, err := open(dir, p)
		if err != nil {
			return n.Load(), err
		}
		lines := make(chan string, 256)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var first error
		for range max(workers, 1) {
			wg.Go(func() {
				for l := range lines {
					if err := write(l); err != nil {
						mu.Lock()
						if first == nil {
							first = fmt.Errorf("cassandra: insert into %s.%s: %w", to, table, err)
						}
						mu.Unlock()
						continue
					}
					n.Add(1)
				}
			})
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		var read int64
		progress(table, 0, p.Items)
		for sc.Scan() {
			lines <- sc.Text()
			if read++; read%RowsProgressEvery == 0 {
				progress(table, read, p.Items)
			}
		}
		close(lines)
		wg.Wait()
		f.Close()
		progress(table, read, p.Items)
		if err := sc.Err(); err != nil {
			return n.Load(), err
		}
		if first != nil {
			return n.Load(), first
		}
	}
	return n.Load(), nil
}

// RowsProgressEvery is how often CassandraRows reports a table's progress, in rows.
const RowsProgressEvery = 5000

// rowWriter returns how one JSON row goes into to.table: INSERT JSON, or for a counter table
// (which takes no INSERT) an UPDATE adding each counter's value. Counters add up, so a counter
// table that already holds rows is left alone (nil writer): restoring it twice would double it.
func rowWriter(ctx context.Context, s *gocql.Session, to, table string) (func(string) error, error) {
	// The columns straight from system_schema, not the driver's cached metadata: the cache
	// is cleared by schema events the driver debounces, so right after CREATE TABLE it may
	// still hold the keyspace without the table (seen restoring a second keyspace).
	it := s.Query("SELECT column_name, kind, type FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?", to, table).
		WithContext(ctx).Consistency(gocql.One).Iter()
	var counters, keys []string
	var name, kind, typ string
	for it.Scan(&name, &kind, &typ) {
		switch {
		case kind == "partition_key" || kind == "clustering":
			keys = append(keys, name)
		case typ == "counter":
			counters = append(counters, name)
		}
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("cassandra: columns of %s.%s: %w", to, table, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("cassandra: table %s.%s was not created", to, table)
	}
	if len(counters) == 0 {
		q := "INSERT INTO " + to + "." + table + " JSON ?"
		return func(l string) error { return s.Query(q, l).WithContext(ctx).Consistency(gocql.Quorum).Exec() }, nil
	}
	var probe string
	if err := s.Query("SELECT JSON * FROM " + to + "." + table + " LIMIT 1").WithContext(ctx).Consistency(gocql.Quorum).Scan(&probe); err == nil {
		return nil, nil
	} else if err != gocql.ErrNotFound {
		return nil, err
	}
	sort.Strings(counters)
	sort.Strings(keys)
	var set, where []string
	for _, c := range counters {
		set = append(set, fmt.Sprintf("%q = %q + ?", c, c))
	}
	for _, k := range keys {
		where = append(where, fmt.Sprintf("%q = fromJson(?)", k))
	}
	q := "UPDATE " + to + "." + table + " SET " + strings.Join(set, ", ") + " WHERE " + strings.Join(where, " AND ")
	return func(l string) error {
		var row map[string]json.RawMessage
		if err := json.Unmarshal([]byte(l), &row); err != nil {
			return err
		}
		args := make([]any, 0, len(counters)+len(keys))
		for _, c := range counters {
			var v int64
			if raw := row[c]; len(raw) > 0 && string(raw) != "null" {
				if err := json.Unmarshal(raw, &v); err != nil {
					return fmt.Errorf("counter %s: %w", c, err)
				}
			}
			args = append(args, v)
		}
		for _, k := range keys {
			args = append(args, string(row[k]))
		}
		return s.Query(q, args...).WithContext(ctx).Consistency(gocql.Quorum).Exec()
	}, nil
}

// MySQLStatements returns the statements of the backup's dump of database (the writer ends
// each with ";\n" and never writes a bare newline inside a value).
func MySQLStatements(dir string, m *Manifest, database string) ([]string, error) {
	for _, p := range m.PartsOf("mysql") {
		if p.Name != database {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p.Path)))
		if err != nil {
			return nil, err
		}
		var out []string
		for _, st := range strings.Split(string(b), ";\n") {
			var keep []string
			for _, l := range strings.Split(st, "\n") {
				if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "-- ") {
					keep = append(keep, l)
				}
			}
			if len(keep) > 0 {
				out = append(out, strings.Join(keep, "\n"))
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("the backup has no MySQL database %s", database)
}

// MySQL replays statements on one connection (session settings such as
// FOREIGN_KEY_CHECKS hold for the whole replay).
func MySQLReplay(ctx context.Context, db *sql.DB, stmts []string) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for i, st := range stmts {
		if _, err := conn.ExecContext(ctx, st); err != nil {
			return fmt.Errorf("mysql: statement %d of %d (%.60s…): %w", i+1, len(stmts), st, err)
		}
	}
	return nil
}

// KubernetesObjects decodes the backup's resources, and its Secrets when identities are
// given (the Secrets part is age-encrypted).
func KubernetesObjects(dir string, m *Manifest, identities []age.Identity) (objs, secrets []runtime.Object, err error) {
	decode := func(r io.Reader, into *[]runtime.Object) error {
		yr := utilyaml.NewYAMLReader(bufio.NewReader(r))
		for {
			doc, err := yr.Read()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if strings.TrimSpace(string(doc)) == "" {
				continue
			}
			o, _, err := scheme.Codecs.UniversalDeserializer().Decode(doc, nil, nil)
			if err != nil {
				return err
			}
			*into = append(*into, o)
		}
	}
	for _, p := range m.PartsOf("kube") {
		f, err := open(dir, p)
		if err != nil {
			return nil, nil, err
		}
		err = decode(f, &objs)
		f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", p.Path, err)
		}
	}
	parts := m.PartsOf("kube-secrets")
	if len(identities) == 0 || len(parts) == 0 {
		return objs, nil, nil
	}
	for _, p := range parts {
		f, err := open(dir, p)
		if err != nil {
			return nil, nil, err
		}
		r, err := age.Decrypt(f, identities...)
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("%s: %w (is --identity the key the backup was encrypted to?)", p.Path, err)
		}
		err = decode(r, &secrets)
		f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", p.Path, err)
		}
	}
	return objs, secrets, nil
}
