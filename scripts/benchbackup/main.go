// Command benchbackup drives the backup engine (package backup, what `apimctl backup`
// runs) against the lab for scripts/bench-backup.sh: seeding the bench data and timing one
// dump or load at a time, so that the script can compare it with cqlsh COPY, mysqldump and
// mydumper in the same run and measure its peak RSS with /usr/bin/time.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/gocql/gocql"
	"gopkg.in/inf.v0"

	"github.com/apimctl/apimctl/backup"
	"github.com/apimctl/apimctl/cluster/cassandra"
	"github.com/apimctl/apimctl/lab"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchbackup cassandra-seed|cassandra-dump|cassandra-load|mysql-dump|mysql-load [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	ks := fs.String("keyspace", "bench_backup", "source keyspace")
	to := fs.String("to", "", "target keyspace or database")
	db := fs.String("database", "bench_backup", "source database")
	dir := fs.String("dir", "", "backup location (a directory)")
	parallel := fs.Int("parallel", 4, "workers")
	rows := fs.Int("rows", 1000000, "rows to seed")
	batchKiB := fs.Int("batch-kib", 0, "Cassandra restore: KiB of values per batch (0: the engine's default)")
	fs.Parse(os.Args[2:])
	env, err := lab.LoadEnv(lab.DefaultStateDir())
	if err != nil {
		fail(err)
	}
	if p := os.Getenv("BENCHBACKUP_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			fail(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	ctx := context.Background()
	start := time.Now()
	var n int64
	switch os.Args[1] {
	case "cassandra-seed":
		n, err = seed(ctx, session(env), *ks, *rows, *parallel)
	case "cassandra-dump":
		err = dump(ctx, *dir, func(w *backup.Writer) error {
			return backup.Cassandra(ctx, session(env), *ks, w, backup.CassandraOptions{Parallel: *parallel})
		})
	case "cassandra-load":
		b := open(ctx, *dir)
		s := session(env)
		var stmts []string
		if stmts, err = backup.CassandraSchema(ctx, b, *ks, *to, ""); err == nil {
			for _, st := range stmts {
				if err = s.Query(st).Exec(); err != nil {
					break
				}
			}
		}
		if err == nil {
			n, err = backup.CassandraRows(ctx, s, b, *ks, *to, backup.CassandraRestoreOptions{Parallel: *parallel, InFlight: 16 * *parallel, BatchBytes: *batchKiB << 10})
		}
	case "mysql-dump":
		err = dump(ctx, *dir, func(w *backup.Writer) error {
			return backup.MySQL(ctx, rootDB(env), *db, w, backup.MySQLOptions{Parallel: *parallel})
		})
	case "mysql-load":
		n, err = backup.MySQLRestore(ctx, rootDB(env), open(ctx, *dir), *db, *to, backup.MySQLRestoreOptions{Parallel: *parallel})
	default:
		fail(fmt.Errorf("unknown command %s", os.Args[1]))
	}
	if err != nil {
		pprof.StopCPUProfile()
		fail(err)
	}
	fmt.Fprintf(os.Stderr, "%s: %d rows in %s\n", os.Args[1], n, time.Since(start).Round(time.Millisecond))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchbackup:", err)
	os.Exit(1)
}

func session(env *lab.Env) *gocql.Session {
	cl, err := cassandra.Dial(context.Background(), cassandra.Target{Hosts: env.CassandraHosts, Port: env.CassandraPort,
		Username: env.CassandraUser, Password: env.CassandraPassword, Timeout: time.Minute})
	if err != nil {
		fail(err)
	}
	return cl.Session()
}

// rootDB is the lab's MariaDB as root over its socket: every tool of the bench uses the
// same user, with the RELOAD privilege mydumper's and apimctl's snapshot lock use.
func rootDB(env *lab.Env) *sql.DB {
	cfg := gomysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr = "root", "unix", filepath.Join(env.StateDir, "mariadb", "mariadb.sock")
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		fail(err)
	}
	return db
}

// dump creates the backup dir, has write fill it and finishes it.
func dump(ctx context.Context, dir string, write func(*backup.Writer) error) error {
	w, err := backup.Create(ctx, backup.Dir(filepath.Dir(dir)), filepath.Base(dir), backup.Source{Tool: "benchbackup"}, time.Now())
	if err != nil {
		fail(err)
	}
	if err := write(w); err != nil {
		return err
	}
	_, err = w.Finish(ctx, time.Now())
	return err
}

func open(ctx context.Context, dir string) *backup.Backup {
	b, err := backup.OpenDir(dir)
	if err != nil {
		fail(err)
	}
	return b
}

// seed writes the bench table: rows/10 partitions of 10 rows, a mix of the types an API
// management keyspace holds, by unlogged batches of one partition, 64 in flight.
func seed(ctx context.Context, s *gocql.Session, ks string, rows, parallel int) (int64, error) {
	for _, q := range []string{
		"CREATE KEYSPACE IF NOT EXISTS " + ks + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
		"CREATE TABLE IF NOT EXISTS " + ks + ".rows (id int, ck int, api text, at timestamp, n bigint, amount decimal, tags set<text>, payload text, PRIMARY KEY ((id), ck))",
	} {
		if err := s.Query(q).Exec(); err != nil {
			return 0, err
		}
	}
	// Kept between runs: a finished seed records its size.
	if err := s.Query("CREATE TABLE IF NOT EXISTS " + ks + ".meta (k text PRIMARY KEY, rows int)").Exec(); err != nil {
		return 0, err
	}
	var have int
	if err := s.Query("SELECT rows FROM " + ks + ".meta WHERE k = 'rows'").Scan(&have); err == nil && have == rows {
		fmt.Fprintf(os.Stderr, "cassandra-seed: %s.rows has its %d rows from an earlier run\n", ks, rows)
		return 0, nil
	}
	if err := s.Query("TRUNCATE " + ks + ".rows").Exec(); err != nil {
		return 0, err
	}
	ins := "INSERT INTO " + ks + ".rows (id, ck, api, at, n, amount, tags, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
	parts := rows / 10
	work := make(chan int, 256)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	payload := strings.Repeat("x", 60)
	for range max(parallel, 1) * 16 {
		wg.Go(func() {
			for p := range work {
				b := s.NewBatch(gocql.UnloggedBatch).WithContext(ctx)
				for ck := range 10 {
					i := p*10 + ck
					b.Query(ins, p, ck, fmt.Sprintf("api-%d", i%50), base.Add(time.Duration(i)*time.Second), int64(i)*7,
						inf.NewDec(int64(i)*1234+5, 3), []string{"a", fmt.Sprint(i % 7)}, fmt.Sprintf("%s %d", payload, i))
				}
				if err := s.ExecuteBatch(b); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for p := range parts {
		work <- p
	}
	close(work)
	wg.Wait()
	if first != nil {
		return 0, first
	}
	return int64(parts * 10), s.Query("INSERT INTO "+ks+".meta (k, rows) VALUES ('rows', ?)", parts*10).Exec()
}
