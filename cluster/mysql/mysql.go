package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Target says how to reach the database.
type Target struct {
	Addr     string // host:port
	Database string
	User     string
	Password string
	Timeout  time.Duration // 5 s when zero
	// TextValues leaves dates and times as the server's text (no time.Time), as a dump
	// wants them.
	TextValues bool
}

// ParseJDBC reads the address and database of a JDBC URL such as the reference's
// METRICS_DB_URL ("jdbc:mysql://host:3306/metrics?useSSL=true").
func ParseJDBC(jdbc string) (addr, database string, err error) {
	rest, ok := strings.CutPrefix(jdbc, "jdbc:")
	if !ok {
		return "", "", fmt.Errorf("METRICS_DB_URL %q is not a JDBC URL (jdbc:mysql://host:port/db)", jdbc)
	}
	u, err := url.Parse(rest)
	if err != nil || (u.Scheme != "mysql" && u.Scheme != "mariadb") || u.Host == "" {
		return "", "", fmt.Errorf("METRICS_DB_URL %q is not a MySQL JDBC URL (jdbc:mysql://host:port/db)", jdbc)
	}
	addr = u.Host
	if u.Port() == "" {
		addr += ":3306"
	}
	return addr, strings.TrimPrefix(u.Path, "/"), nil
}

// OpenJDBC returns a pool (Open) for the database of a JDBC URL (ParseJDBC), and that
// database's name.
func OpenJDBC(jdbc, user, password string, timeout time.Duration) (*sql.DB, string, error) {
	addr, name, err := ParseJDBC(jdbc)
	if err != nil {
		return nil, "", err
	}
	db, err := Open(Target{Addr: addr, Database: name, User: user, Password: password, Timeout: timeout})
	return db, name, err
}

// Open returns a pool for t (nothing is dialled yet).
func Open(t Target) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = t.User, t.Password, "tcp", t.Addr, t.Database
	cfg.Timeout = t.Timeout
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	cfg.ReadTimeout, cfg.WriteTimeout = cfg.Timeout, cfg.Timeout
	cfg.ParseTime = !t.TextValues
	// Use TLS when the server offers it, so that Status can say whether it is in use.
	cfg.TLSConfig = "preferred"
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	db.SetConnMaxIdleTime(time.Minute)
	return db, nil
}

// Status is what the console shows of the database.
type Status struct {
	Version          string
	Uptime           time.Duration
	ThreadsConnected int
	MaxConnections   int
	TLSVersion       string // of this connection; "" when plain
	Replica          *Replica
	DatabaseSize     int64
}

// Replica is the replication state of a replica.
type Replica struct {
	IORunning, SQLRunning bool
	LagSeconds            *int64
	LastError             string
}

// ReadStatus gathers Status over one connection, within ctx.
func ReadStatus(ctx context.Context, db *sql.DB, database string) (*Status, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	st := &Status{}
	if err := conn.QueryRowContext(ctx, "SELECT VERSION()").Scan(&st.Version); err != nil {
		return nil, err
	}
	vars := map[string]string{}
	for _, q := range []string{
		"SHOW GLOBAL STATUS WHERE Variable_name IN ('Uptime','Threads_connected')",
		"SHOW SESSION STATUS WHERE Variable_name = 'Ssl_version'",
		"SHOW GLOBAL VARIABLES WHERE Variable_name = 'max_connections'",
	} {
		rows, err := conn.QueryContext(ctx, q)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				rows.Close()
				return nil, err
			}
			vars[strings.ToLower(k)] = v
		}
		rows.Close()
	}
	up, _ := strconv.Atoi(vars["uptime"])
	st.Uptime = time.Duration(up) * time.Second
	st.ThreadsConnected, _ = strconv.Atoi(vars["threads_connected"])
	st.MaxConnections, _ = strconv.Atoi(vars["max_connections"])
	st.TLSVersion = vars["ssl_version"]
	if err := conn.QueryRowContext(ctx, `SELECT COALESCE(SUM(data_length + index_length), 0)
		FROM information_schema.tables WHERE table_schema = ?`, database).Scan(&st.DatabaseSize); err != nil {
		return nil, err
	}
	st.Replica = readReplica(ctx, conn)
	return st, nil
}

// readReplica reads SHOW REPLICA STATUS (SHOW SLAVE STATUS on older servers); nil when the
// server is not a replica or the user may not ask.
func readReplica(ctx context.Context, conn *sql.Conn) *Replica {
	var rows *sql.Rows
	var err error
	for _, q := range []string{"SHOW REPLICA STATUS", "SHOW SLAVE STATUS"} {
		if rows, err = conn.QueryContext(ctx, q); err == nil {
			break
		}
	}
	if err != nil {
		return nil
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil || !rows.Next() {
		return nil
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil
	}
	get := func(names ...string) sql.NullString {
		for i, c := range cols {
			for _, n := range names {
				if strings.EqualFold(c, n) {
					return vals[i]
				}
			}
		}
		return sql.NullString{}
	}
	r := &Replica{
		IORunning:  get("Replica_IO_Running", "Slave_IO_Running").String == "Yes",
		SQLRunning: get("Replica_SQL_Running", "Slave_SQL_Running").String == "Yes",
		LastError:  get("Last_Error", "Last_SQL_Error").String,
	}
	if lag := get("Seconds_Behind_Source", "Seconds_Behind_Master"); lag.Valid {
		if n, err := strconv.ParseInt(lag.String, 10, 64); err == nil {
			r.LagSeconds = &n
		}
	}
	return r
}
