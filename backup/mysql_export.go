package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// MySQLOptions tune a database's dump (and MySQLRestore's defaults).
type MySQLOptions struct {
	// Parallel is how many connections read (default 4), each in a transaction on the same
	// snapshot.
	Parallel int
	// ChunkRows: a table with more rows (estimated) and an integer first primary-key column
	// is read in chunks of about this many rows (default 200,000).
	ChunkRows int64
	// StatementBytes bounds one INSERT (default 1 MiB; the server's max_allowed_packet is
	// 16 MiB by default).
	StatementBytes int
	Progress       func(Progress)
}

func (o *MySQLOptions) defaults() {
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	if o.ChunkRows <= 0 {
		o.ChunkRows = 200000
	}
	if o.StatementBytes <= 0 {
		o.StatementBytes = 1 << 20
	}
}

// mysqlSchema is a database's schema part.
type mysqlSchema struct {
	Database string        `json:"database"`
	Tables   []mysqlTable  `json:"tables"`
	Views    []mysqlObject `json:"views,omitempty"`
	Triggers []mysqlObject `json:"triggers,omitempty"`
}

type mysqlTable struct {
	Name    string        `json:"name"`
	Create  string        `json:"create"`
	Columns []mysqlColumn `json:"columns"` // dumped (generated ones are recreated by Create)
	Chunks  int           `json:"chunks"`
}

type mysqlColumn struct {
	Name     string `json:"name"`
	DataType string `json:"dataType"`
}

type mysqlObject struct {
	Name   string `json:"name"`
	Create string `json:"create"`
}

// Session settings of every dump and replay connection, as mysqldump pins them: UTC (a
// TIMESTAMP is read and written as UTC, whatever the server's zone), utf8mb4, and a
// sql_mode where 0 stays 0 in an AUTO_INCREMENT column and backslashes escape.
var mysqlSession = []string{
	"SET NAMES utf8mb4",
	"SET SESSION time_zone = '+00:00'",
	"SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'",
}

type mysqlChunk struct {
	t     *mysqlTable
	unit  int
	where string // "" for the whole table
}

// MySQL writes a database as SQL a client can replay: a schema part (each table's CREATE
// TABLE, views and triggers) and each table's rows as multi-row INSERTs, large tables in
// primary-key chunks, each chunk its own compressed part — read by Parallel connections
// from one consistent snapshot, as mydumper does: one connection briefly holds a read lock
// (FLUSH TABLES WITH READ LOCK, or LOCK TABLES … READ on the database's tables for a user
// without RELOAD) while the others start their consistent-snapshot transactions. Generated
// columns are left out of the rows: the CREATE TABLE recreates them.
func MySQL(ctx context.Context, db *sql.DB, database string, w *Writer, o MySQLOptions) error {
	o.defaults()
	db.SetMaxOpenConns(o.Parallel + 1)
	lock, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("mysql: %w", err)
	}
	defer lock.Close()
	tables, views, err := listTables(ctx, lock, database)
	if err != nil {
		return err
	}
	unlock, err := lockForSnapshot(ctx, lock, database, tables)
	if err != nil {
		return err
	}
	conns := make([]*sql.Conn, 0, o.Parallel)
	defer func() {
		for _, c := range conns {
			_, _ = c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
			c.Close()
		}
	}()
	for range o.Parallel {
		c, err := db.Conn(ctx)
		if err == nil {
			err = startSnapshot(ctx, c, database)
		}
		if err != nil {
			unlock()
			if c != nil {
				c.Close()
			}
			return err
		}
		conns = append(conns, c)
	}
	unlock()

	sch := mysqlSchema{Database: database}
	c0 := conns[0]
	var chunks []mysqlChunk
	for _, name := range tables {
		t, err := describeTable(ctx, c0, database, name)
		if err != nil {
			return err
		}
		where, err := planChunks(ctx, c0, database, name, o.ChunkRows, o.Parallel)
		if err != nil {
			return err
		}
		t.Chunks = len(where)
		sch.Tables = append(sch.Tables, *t)
		for u, wc := range where {
			chunks = append(chunks, mysqlChunk{unit: u, where: wc})
		}
	}
	k := 0
	for i := range sch.Tables {
		for range sch.Tables[i].Chunks {
			chunks[k].t = &sch.Tables[i]
			k++
		}
	}
	for _, v := range views {
		var name, create, cs, coll string
		if err := c0.QueryRowContext(ctx, "SHOW CREATE VIEW "+quoteIdent(database)+"."+quoteIdent(v)).Scan(&name, &create, &cs, &coll); err != nil {
			return fmt.Errorf("mysql: show create view %s: %w", v, err)
		}
		sch.Views = append(sch.Views, mysqlObject{Name: v, Create: stripDefiner(create)})
	}
	if sch.Triggers, err = listTriggers(ctx, c0, database); err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := newPool[mysqlChunk](ctx, cancel)
	for _, c := range conns {
		p.worker(func(ctx context.Context, ch mysqlChunk) error {
			n, err := dumpChunk(ctx, c, database, ch, w, o)
			if err != nil {
				return err
			}
			if o.Progress != nil {
				o.Progress(Progress{Kind: "mysql", Scope: database, Table: ch.t.Name, Unit: ch.unit, Units: ch.t.Chunks, Rows: n})
			}
			return nil
		})
	}
	if err := p.run(chunks); err != nil {
		return err
	}
	return w.jsonPart(ctx, Part{Kind: KindMySQLSchema, Name: database, Database: database,
		Path: "mysql/" + pathElem(database) + "/schema.json.zst", Compression: Zstd}, sch, len(sch.Tables)+len(sch.Views)+len(sch.Triggers))
}

func listTables(ctx context.Context, c *sql.Conn, database string) (tables, views []string, err error) {
	rows, err := c.QueryContext(ctx, "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME", database)
	if err != nil {
		return nil, nil, fmt.Errorf("mysql: tables of %s: %w", database, err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, nil, err
		}
		switch typ {
		case "BASE TABLE":
			tables = append(tables, name)
		case "VIEW":
			views = append(views, name)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if len(tables) == 0 && len(views) == 0 {
		var n int
		if err := c.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", database).Scan(&n); err == nil && n == 0 {
			return nil, nil, fmt.Errorf("mysql: database %s does not exist (or this user cannot see it)", database)
		}
	}
	return tables, views, nil
}

// lockForSnapshot stops writes to the database's tables until unlock is called.
func lockForSnapshot(ctx context.Context, c *sql.Conn, database string, tables []string) (unlock func(), err error) {
	unlock = func() { _, _ = c.ExecContext(context.WithoutCancel(ctx), "UNLOCK TABLES") }
	_, _ = c.ExecContext(ctx, "SET SESSION lock_wait_timeout = 60")
	if _, err := c.ExecContext(ctx, "FLUSH TABLES WITH READ LOCK"); err == nil {
		return unlock, nil
	} else if !isAccessDenied(err) {
		return nil, fmt.Errorf("mysql: FLUSH TABLES WITH READ LOCK: %w", err)
	}
	if len(tables) == 0 {
		return func() {}, nil
	}
	var locks []string
	for _, t := range tables {
		locks = append(locks, quoteIdent(database)+"."+quoteIdent(t)+" READ")
	}
	if _, err := c.ExecContext(ctx, "LOCK TABLES "+strings.Join(locks, ", ")); err != nil {
		return nil, fmt.Errorf("mysql: neither FLUSH TABLES WITH READ LOCK (needs RELOAD) nor LOCK TABLES (needs LOCK TABLES on %s) is allowed, "+
			"so the connections cannot share one snapshot: %w", database, err)
	}
	return unlock, nil
}

func isAccessDenied(err error) bool {
	var me *mysql.MySQLError
	// 1227 access denied (privilege), 1044/1045 access denied for user
	return errors.As(err, &me) && (me.Number == 1227 || me.Number == 1044 || me.Number == 1045)
}

func startSnapshot(ctx context.Context, c *sql.Conn, database string) error {
	stmts := append(append([]string{}, mysqlSession...),
		"USE "+quoteIdent(database),
		"SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
		"START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
	for _, q := range stmts {
		if _, err := c.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("mysql: %s: %w", q, err)
		}
	}
	return nil
}

// dumpChunk writes one chunk's rows as INSERTs of at most StatementBytes.
func dumpChunk(ctx context.Context, c *sql.Conn, database string, ch mysqlChunk, w *Writer, o MySQLOptions) (int64, error) {
	t := ch.t
	part := Part{Kind: KindMySQLRows, Name: database + "." + t.Name, Database: database, Table: t.Name,
		Path: fmt.Sprintf("mysql/%s/%s/%04d.sql.zst", pathElem(database), pathElem(t.Name), ch.unit),
		Unit: ch.unit, Units: t.Chunks, Range: ch.where, Compression: Zstd}
	pw, err := w.Part(ctx, part)
	if err != nil {
		return 0, err
	}
	n, err := dumpRows(ctx, c, t, ch.where, pw, o.StatementBytes)
	if err != nil {
		pw.Abort()
		return n, err
	}
	pw.Items = n
	return n, pw.Close()
}

// dumpRows writes rows as INSERT statements, each ending ";\n", one row a line. Values are
// read as the server's text (no conversion, no allocation per value) and written as
// literals by column type.
func dumpRows(ctx context.Context, c *sql.Conn, t *mysqlTable, where string, w io.Writer, maxBytes int) (int64, error) {
	if len(t.Columns) == 0 {
		return 0, nil
	}
	var sel []string
	kinds := make([]literalKind, len(t.Columns))
	for i, col := range t.Columns {
		kinds[i] = kindOf(col.DataType)
		switch strings.ToLower(col.DataType) {
		case "float":
			// The text protocol prints a FLOAT with 6 significant digits; as a DOUBLE it
			// carries its exact value, which the FLOAT column takes back unchanged.
			sel = append(sel, "CAST("+quoteIdent(col.Name)+" AS DOUBLE)")
		default:
			sel = append(sel, quoteIdent(col.Name))
		}
	}
	q := "SELECT " + strings.Join(sel, ", ") + " FROM " + quoteIdent(t.Name)
	if where != "" {
		q += " WHERE " + where
	}
	rows, err := c.QueryContext(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("mysql: read %s: %w", t.Name, err)
	}
	defer rows.Close()
	head := make([]byte, 0, 256)
	head = append(head, "INSERT INTO "...)
	head = append(head, quoteIdent(t.Name)...)
	head = append(head, " ("...)
	for i, col := range t.Columns {
		if i > 0 {
			head = append(head, ',')
		}
		head = append(head, quoteIdent(col.Name)...)
	}
	head = append(head, ") VALUES\n"...)
	vals := make([]sql.RawBytes, len(t.Columns))
	ptrs := make([]any, len(t.Columns))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var n int64
	stmtBytes := 0
	// Rows are gathered into writes of about 64 KiB: one Write per row into the compressor
	// cost more than the copy.
	const flushAt = 64 << 10
	buf := make([]byte, 0, flushAt+4096)
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		before := len(buf)
		if stmtBytes == 0 {
			buf = append(buf, head...)
		} else {
			buf = append(buf, ",\n"...)
		}
		buf = append(buf, '(')
		for i, v := range vals {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendLiteral(buf, kinds[i], v)
		}
		buf = append(buf, ')')
		n++
		stmtBytes += len(buf) - before
		if stmtBytes >= maxBytes {
			buf = append(buf, ";\n"...)
			stmtBytes = 0
		}
		if len(buf) >= flushAt {
			if _, err := w.Write(buf); err != nil {
				return n, err
			}
			buf = buf[:0]
		}
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("mysql: read %s: %w", t.Name, err)
	}
	if stmtBytes > 0 {
		buf = append(buf, ";\n"...)
	}
	if _, err := w.Write(buf); err != nil {
		return n, err
	}
	return n, nil
}
