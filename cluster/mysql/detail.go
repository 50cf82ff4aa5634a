package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Process is one row of the process list.
type Process struct {
	ID          int64
	User, Host  string
	DB          string
	Command     string
	Time        time.Duration
	State, Info string
}

// ProcessList reads information_schema.PROCESSLIST: every connection for a user with the
// PROCESS privilege, its own otherwise. Time is the server's TIME_MS when it has it (MariaDB),
// else TIME in seconds.
func ProcessList(ctx context.Context, db *sql.DB) ([]Process, error) {
	rows, err := db.QueryContext(ctx, `SELECT * FROM information_schema.PROCESSLIST`)
	if err != nil {
		return nil, fmt.Errorf("process list: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []Process
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("process list: %w", err)
		}
		get := func(name string) sql.NullString {
			for i, c := range cols {
				if strings.EqualFold(c, name) {
					return vals[i]
				}
			}
			return sql.NullString{}
		}
		p := Process{User: get("USER").String, Host: get("HOST").String, DB: get("DB").String,
			Command: get("COMMAND").String, State: get("STATE").String, Info: get("INFO").String}
		p.ID, _ = strconv.ParseInt(get("ID").String, 10, 64)
		if ms, err := strconv.ParseFloat(get("TIME_MS").String, 64); err == nil {
			p.Time = time.Duration(ms * float64(time.Millisecond))
		} else {
			s, _ := strconv.ParseInt(get("TIME").String, 10, 64)
			p.Time = time.Duration(s) * time.Second
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Table is one table's size, as information_schema estimates it.
type Table struct {
	Name                  string
	Rows                  int64
	DataBytes, IndexBytes int64
}

// Tables lists the base tables of a database with their sizes.
func Tables(ctx context.Context, db *sql.DB, database string) ([]Table, error) {
	rows, err := db.QueryContext(ctx, `SELECT table_name, COALESCE(table_rows, 0), COALESCE(data_length, 0), COALESCE(index_length, 0)
		FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE'`, database)
	if err != nil {
		return nil, fmt.Errorf("table sizes: %w", err)
	}
	defer rows.Close()
	var out []Table
	for rows.Next() {
		var t Table
		if err := rows.Scan(&t.Name, &t.Rows, &t.DataBytes, &t.IndexBytes); err != nil {
			return nil, fmt.Errorf("table sizes: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
