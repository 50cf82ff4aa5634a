// Package mysql observes the metrics database (MySQL or MariaDB) over database/sql.
package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
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

// Open returns a pool for t (nothing is dialled yet).
func Open(t Target) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = t.User, t.Password, "tcp", t.Addr, t.Database
	cfg.Timeout = t.Timeout
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	cfg.ReadTimeout, cfg.WriteTimeout = cfg.Timeout, cfg.Timeout
	cfg.ParseTime = true
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	db.SetConnMaxIdleTime(time.Minute)
	return db, nil
}

// Version connects and returns the server version.
func Version(ctx context.Context, db *sql.DB) (string, error) {
	var v string
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&v); err != nil {
		return "", err
	}
	return v, nil
}
