package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// What a dump reads before the rows: a table's definition, its chunks, the triggers.

// describeTable reads a table's CREATE TABLE and its stored (not generated) columns.
func describeTable(ctx context.Context, c *sql.Conn, database, name string) (*mysqlTable, error) {
	t := &mysqlTable{Name: name}
	var n string
	if err := c.QueryRowContext(ctx, "SHOW CREATE TABLE "+quoteIdent(database)+"."+quoteIdent(name)).Scan(&n, &t.Create); err != nil {
		return nil, fmt.Errorf("mysql: show create table %s: %w", name, err)
	}
	rows, err := c.QueryContext(ctx, `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_GENERATED FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, database, name)
	if err != nil {
		return nil, fmt.Errorf("mysql: columns of %s: %w", name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var col mysqlColumn
		var colType, generated string
		if err := rows.Scan(&col.Name, &col.DataType, &colType, &generated); err != nil {
			return nil, err
		}
		if generated == "ALWAYS" {
			continue
		}
		t.Columns = append(t.Columns, col)
	}
	return t, rows.Err()
}

// planChunks returns the WHERE conditions of a table's chunks: one ("") for a small table
// or one without an integer first primary-key column, else ranges of that column of about
// chunkRows rows (from the table's estimate), bounded by its MIN and MAX in the snapshot.
func planChunks(ctx context.Context, c *sql.Conn, database, table string, chunkRows int64, workers int) ([]string, error) {
	var est sql.NullInt64
	if err := c.QueryRowContext(ctx, "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", database, table).Scan(&est); err != nil {
		return nil, fmt.Errorf("mysql: size of %s: %w", table, err)
	}
	if !est.Valid || est.Int64 <= chunkRows {
		return []string{""}, nil
	}
	var col, dataType string
	err := c.QueryRowContext(ctx, `SELECT s.COLUMN_NAME, c.DATA_TYPE FROM information_schema.STATISTICS s
		JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = s.TABLE_SCHEMA AND c.TABLE_NAME = s.TABLE_NAME AND c.COLUMN_NAME = s.COLUMN_NAME
		WHERE s.TABLE_SCHEMA = ? AND s.TABLE_NAME = ? AND s.INDEX_NAME = 'PRIMARY' AND s.SEQ_IN_INDEX = 1`, database, table).Scan(&col, &dataType)
	if errors.Is(err, sql.ErrNoRows) {
		return []string{""}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("mysql: primary key of %s: %w", table, err)
	}
	switch strings.ToLower(dataType) {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint":
	default:
		return []string{""}, nil
	}
	var lo, hi sql.NullString
	q := fmt.Sprintf("SELECT MIN(%[1]s), MAX(%[1]s) FROM %[2]s", quoteIdent(col), quoteIdent(table))
	if err := c.QueryRowContext(ctx, q).Scan(&lo, &hi); err != nil {
		return nil, fmt.Errorf("mysql: key range of %s: %w", table, err)
	}
	if !lo.Valid {
		return []string{""}, nil
	}
	a, ok1 := new(big.Int).SetString(lo.String, 10)
	z, ok2 := new(big.Int).SetString(hi.String, 10)
	if !ok1 || !ok2 {
		return []string{""}, nil
	}
	n := (est.Int64 + chunkRows - 1) / chunkRows
	// A multiple of the workers, so that the last round of chunks keeps them all busy.
	n = (n + int64(workers) - 1) / int64(workers) * int64(workers)
	span := new(big.Int).Sub(z, a)
	span.Add(span, big.NewInt(1))
	if span.Cmp(big.NewInt(n)) < 0 {
		n = span.Int64()
	}
	step := new(big.Int).Div(span, big.NewInt(n))
	qc := quoteIdent(col)
	var out []string
	start := new(big.Int).Set(a)
	for i := int64(0); i < n; i++ {
		if i == n-1 {
			out = append(out, fmt.Sprintf("%s >= %s AND %s <= %s", qc, start, qc, z))
			break
		}
		end := new(big.Int).Add(start, step)
		out = append(out, fmt.Sprintf("%s >= %s AND %s < %s", qc, start, qc, end))
		start = end
	}
	return out, nil
}

func listTriggers(ctx context.Context, c *sql.Conn, database string) ([]mysqlObject, error) {
	rows, err := c.QueryContext(ctx, "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? ORDER BY EVENT_OBJECT_TABLE, ACTION_ORDER", database)
	if err != nil {
		return nil, fmt.Errorf("mysql: triggers of %s: %w", database, err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	var out []mysqlObject
	for _, n := range names {
		r, err := c.QueryContext(ctx, "SHOW CREATE TRIGGER "+quoteIdent(database)+"."+quoteIdent(n))
		if err != nil {
			return nil, fmt.Errorf("mysql: show create trigger %s: %w", n, err)
		}
		cols, _ := r.Columns()
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if r.Next() {
			err = r.Scan(ptrs...)
		}
		r.Close()
		if err != nil {
			return nil, err
		}
		for i, col := range cols {
			if strings.EqualFold(col, "SQL Original Statement") {
				out = append(out, mysqlObject{Name: n, Create: stripDefiner(vals[i].String)})
			}
		}
	}
	return out, nil
}
