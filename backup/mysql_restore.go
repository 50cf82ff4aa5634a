package backup

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"github.com/go-sql-driver/mysql"
)

// MySQLRestoreOptions tune MySQLRestore.
type MySQLRestoreOptions struct {
	// Merge keeps the target's rows that the backup does not have (rows replace those with
	// the same key, REPLACE INTO); by default each table is dropped and created again.
	Merge bool
	// Parallel is how many connections load chunks at once (default 4).
	Parallel int
	// Journal records finished tables and chunks; nil keeps nothing (no resume).
	Journal  Journal
	Progress func(Progress)
}

// loadSession is what every replay connection sets on top of mysqlSession, as mysqldump's
// output does: no foreign-key or unique checks while loading (the data was consistent).
var loadSession = []string{"SET SESSION foreign_key_checks = 0", "SET SESSION unique_checks = 0"}

// MySQLRestore replays database from's dump into database to (which must exist), and
// returns the rows it loaded: tables first (dropped and created again, or created if
// missing with Merge), then their chunks streamed over Parallel connections, each chunk in
// one transaction, then views and triggers. Memory is one statement per connection.
//
// Resuming (with a Journal): keys "mysql/TO/TABLE" ("created") and "mysql/TO/TABLE/CHUNK"
// ("loading", "done"). Finished chunks are skipped. A chunk left "loading" is first emptied
// (its primary-key range deleted, or the table truncated when it is the only chunk), in
// case its engine is not transactional, then loaded again.
func MySQLRestore(ctx context.Context, db *sql.DB, b *Backup, from, to string, o MySQLRestoreOptions) (int64, error) {
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	if o.Journal == nil {
		o.Journal = &MemoryJournal{}
	}
	sch, err := readMySQLSchema(ctx, b, from)
	if err != nil {
		return 0, err
	}
	db.SetMaxOpenConns(o.Parallel + 1)
	ddl, err := replayConn(ctx, db, to)
	if err != nil {
		return 0, err
	}
	defer ddl.Close()
	type job struct {
		t    *mysqlTable
		part Part
	}
	var jobs []job
	for i := range sch.Tables {
		t := &sch.Tables[i]
		parts, err := b.Manifest.tableParts(KindMySQLRows, from, t.Name)
		if err != nil {
			return 0, err
		}
		if len(parts) != t.Chunks {
			return 0, fmt.Errorf("table %s.%s: the backup has %d of its %d chunks", from, t.Name, len(parts), t.Chunks)
		}
		key := "mysql/" + to + "/" + t.Name
		if o.Journal.Get(key) != "created" {
			if err := createTable(ctx, ddl, t, o.Merge); err != nil {
				return 0, err
			}
			for u := range t.Chunks {
				if err := o.Journal.Set(fmt.Sprintf("%s/%d", key, u), ""); err != nil {
					return 0, err
				}
			}
			if err := o.Journal.Set(key, "created"); err != nil {
				return 0, err
			}
		}
		for _, p := range parts {
			jobs = append(jobs, job{t, p})
		}
	}

	var rows atomic.Int64
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := newPool[job](ctx, cancel)
	for range o.Parallel {
		c, err := replayConn(ctx, db, to)
		if err != nil {
			p.fail(err)
			break
		}
		p.wg.Go(func() {
			defer c.Close()
			p.serve(func(ctx context.Context, j job) error {
				key := fmt.Sprintf("mysql/%s/%s/%d", to, j.t.Name, j.part.Unit)
				state := o.Journal.Get(key)
				if state == "done" {
					if o.Progress != nil {
						o.Progress(Progress{Kind: "mysql", Scope: to, Table: j.t.Name, Unit: j.part.Unit, Units: j.t.Chunks, Skipped: true})
					}
					return nil
				}
				n, err := loadChunk(ctx, c, b, j.t, j.part, state == "loading" && !o.Merge, o, key)
				rows.Add(n)
				if err != nil {
					return err
				}
				if o.Progress != nil {
					o.Progress(Progress{Kind: "mysql", Scope: to, Table: j.t.Name, Unit: j.part.Unit, Units: j.t.Chunks, Rows: n})
				}
				return nil
			})
		})
	}
	if err := p.run(jobs); err != nil {
		return rows.Load(), err
	}
	for _, v := range sch.Views {
		stmt := renameDatabase(v.Create, from, to)
		stmt = strings.Replace(stmt, "CREATE ", "CREATE OR REPLACE ", 1)
		if _, err := ddl.ExecContext(ctx, stmt); err != nil {
			return rows.Load(), fmt.Errorf("mysql: view %s: %w", v.Name, err)
		}
	}
	for _, tr := range sch.Triggers {
		if _, err := ddl.ExecContext(ctx, "DROP TRIGGER IF EXISTS "+quoteIdent(tr.Name)); err != nil {
			return rows.Load(), fmt.Errorf("mysql: trigger %s: %w", tr.Name, err)
		}
		if _, err := ddl.ExecContext(ctx, renameDatabase(tr.Create, from, to)); err != nil {
			return rows.Load(), fmt.Errorf("mysql: trigger %s: %w", tr.Name, err)
		}
	}
	return rows.Load(), nil
}

func readMySQLSchema(ctx context.Context, b *Backup, database string) (*mysqlSchema, error) {
	for _, p := range b.Manifest.PartsOf(KindMySQLSchema) {
		if p.Database != database {
			continue
		}
		var sch mysqlSchema
		if err := b.readJSONPart(ctx, p, &sch); err != nil {
			return nil, err
		}
		return &sch, nil
	}
	if len(b.Manifest.PartsOf("mysql")) > 0 {
		return nil, fmt.Errorf("backup %s has format %d (one SQL file per database): restore it with the apimctl that wrote it", b.ID, b.Manifest.Format)
	}
	return nil, fmt.Errorf("the backup has no MySQL database %s (it has %s)", database, strings.Join(b.Manifest.Databases(), ", "))
}

// replayConn returns a connection with the replay's session settings, in database to.
func replayConn(ctx context.Context, db *sql.DB, to string) (*sql.Conn, error) {
	c, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("mysql: %w", err)
	}
	for _, q := range append(append([]string{}, mysqlSession...), loadSession...) {
		if _, err := c.ExecContext(ctx, q); err != nil {
			c.Close()
			return nil, fmt.Errorf("mysql: %s: %w", q, err)
		}
	}
	if _, err := c.ExecContext(ctx, "USE "+quoteIdent(to)); err != nil {
		c.Close()
		var me *mysql.MySQLError
		if errors.As(err, &me) && (me.Number == 1049 || me.Number == 1044) {
			return nil, fmt.Errorf("mysql: database %s does not exist on the target, or this user may not use it: create it and grant it first (or choose another with --database)", to)
		}
		return nil, fmt.Errorf("mysql: use %s: %w", to, err)
	}
	return c, nil
}

func createTable(ctx context.Context, c *sql.Conn, t *mysqlTable, merge bool) error {
	create := t.Create
	if merge {
		if rest, ok := strings.CutPrefix(create, "CREATE TABLE "); ok {
			create = "CREATE TABLE IF NOT EXISTS " + rest
		}
	} else if _, err := c.ExecContext(ctx, "DROP TABLE IF EXISTS "+quoteIdent(t.Name)); err != nil {
		return fmt.Errorf("mysql: drop table %s: %w", t.Name, err)
	}
	if _, err := c.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("mysql: create table %s: %w", t.Name, err)
	}
	return nil
}

// loadChunk replays one chunk in a transaction.
func loadChunk(ctx context.Context, c *sql.Conn, b *Backup, t *mysqlTable, p Part, redo bool, o MySQLRestoreOptions, key string) (int64, error) {
	if redo {
		q := "DELETE FROM " + quoteIdent(t.Name)
		if p.Range == "" || t.Chunks == 1 {
			q = "TRUNCATE TABLE " + quoteIdent(t.Name)
		} else {
			q += " WHERE " + p.Range
		}
		if _, err := c.ExecContext(ctx, q); err != nil {
			return 0, fmt.Errorf("mysql: empty the interrupted chunk %s of %s: %w", p.Path, t.Name, err)
		}
	}
	if err := o.Journal.Set(key, "loading"); err != nil {
		return 0, err
	}
	r, err := b.Open(ctx, p)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	if _, err := c.ExecContext(ctx, "START TRANSACTION"); err != nil {
		return 0, fmt.Errorf("mysql: %w", err)
	}
	n, err := replayStatements(ctx, c, r, p.Path, o.Merge)
	if err != nil {
		_, _ = c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return 0, err
	}
	if _, err := c.ExecContext(ctx, "COMMIT"); err != nil {
		return 0, fmt.Errorf("mysql: commit %s: %w", p.Path, err)
	}
	return n, o.Journal.Set(key, "done")
}

// replayStatements executes the statements of a rows part as they stream in: a statement
// ends with a line ending in ';' (values never hold a raw newline). It returns the rows.
func replayStatements(ctx context.Context, c *sql.Conn, r io.Reader, name string, merge bool) (int64, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	var stmt []byte
	var rows int64
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			stmt = append(stmt, line...)
			continue
		}
		stmt = append(stmt, line...)
		if err == io.EOF {
			if len(bytes.TrimSpace(stmt)) > 0 {
				return rows, fmt.Errorf("%s ends inside a statement (truncated)", name)
			}
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		if !bytes.HasSuffix(stmt, []byte(";\n")) {
			if len(stmt) > 1<<30 {
				return rows, fmt.Errorf("%s: a statement over 1 GiB: damaged", name)
			}
			continue
		}
		if merge && bytes.HasPrefix(stmt, []byte("INSERT INTO ")) {
			stmt = append([]byte("REPLACE"), stmt[len("INSERT"):]...)
		}
		if _, err := c.ExecContext(ctx, string(stmt[:len(stmt)-2])); err != nil {
			return rows, fmt.Errorf("mysql: %s: statement at row %d: %w", name, rows+1, err)
		}
		rows += int64(bytes.Count(stmt, []byte("\n"))) - 1
		stmt = stmt[:0]
	}
}
