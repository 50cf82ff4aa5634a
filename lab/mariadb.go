package lab

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/go-sql-driver/mysql"
)

const (
	mysqlUser     = "metrics"
	mysqlDatabase = "metrics"
	// MySQLDRDatabase is a second metrics database on the same server, the target of the
	// disaster-recovery drills (a real DR site has its own server; the lab has one).
	MySQLDRDatabase = "metrics_dr"
)

func (l *Lab) mariadbComponent(t *tools) *component {
	dir := filepath.Join(l.opts.StateDir, "mariadb")
	data, sock := filepath.Join(dir, "data"), filepath.Join(dir, "mariadb.sock")
	addr := fmt.Sprintf("127.0.0.1:%d", l.ports.MariaDB)
	pk := pki{filepath.Join(l.opts.StateDir, "pki")}
	return &component{
		name: "mariadb", group: "mariadb", grace: 20 * time.Second,
		addr: addr, listen: []string{addr},
		prepare: func(ctx context.Context) error {
			if err := pk.ensure(); err != nil {
				return err
			}
			if fileExists(filepath.Join(data, "mysql")) {
				return nil
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			cmd := exec.CommandContext(ctx, t.MariaDBInstall, "--no-defaults", "--datadir="+data,
				"--user=root", "--auth-root-authentication-method=normal", "--skip-test-db")
			if out, err := cmd.CombinedOutput(); err != nil {
				_ = os.RemoveAll(data)
				return fmt.Errorf("mariadb-install-db: %w\n%s", err, out)
			}
			return nil
		},
		command: func() *exec.Cmd {
			return exec.Command(t.MariaDB, "--no-defaults", "--datadir="+data, "--socket="+sock,
				"--port="+strconv.Itoa(l.ports.MariaDB), "--bind-address=127.0.0.1", "--user=root",
				"--pid-file="+filepath.Join(dir, "mariadbd.pid"), "--skip-name-resolve",
				"--log-error="+filepath.Join(dir, "error.log"),
				"--ssl-ca="+pk.path("ca.crt"), "--ssl-cert="+pk.path("mariadb.crt"), "--ssl-key="+pk.path("mariadb.key"),
				"--innodb-buffer-pool-size=64M", "--max-connections=200", "--performance-schema=OFF")
		},
		ready: func(ctx context.Context) error {
			db, err := sql.Open("mysql", "root@unix("+sock+")/?timeout=2s")
			if err != nil {
				return err
			}
			defer db.Close()
			return db.PingContext(ctx)
		},
	}
}

// bootstrapMariaDB creates the metrics database and its user (TCP from loopback). Idempotent;
// the password is reset to the lab's on every run.
func (l *Lab) bootstrapMariaDB(ctx context.Context) error {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr = "root", "unix", filepath.Join(l.opts.StateDir, "mariadb", "mariadb.sock")
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return err
	}
	defer db.Close()
	pw := l.secrets.MySQLPassword
	stmts := []string{"CREATE DATABASE IF NOT EXISTS " + mysqlDatabase, "CREATE DATABASE IF NOT EXISTS " + MySQLDRDatabase}
	for _, host := range []string{"127.0.0.1", "localhost"} {
		u := fmt.Sprintf("'%s'@'%s'", mysqlUser, host)
		stmts = append(stmts,
			fmt.Sprintf("CREATE USER IF NOT EXISTS %s IDENTIFIED BY '%s'", u, pw),
			fmt.Sprintf("ALTER USER %s IDENTIFIED BY '%s'", u, pw),
			fmt.Sprintf("GRANT ALL PRIVILEGES ON %s.* TO %s", mysqlDatabase, u),
			fmt.Sprintf("GRANT ALL PRIVILEGES ON %s.* TO %s", MySQLDRDatabase, u),
			// The console reads replication state and database sizes.
			fmt.Sprintf("GRANT PROCESS, REPLICATION CLIENT ON *.* TO %s", u))
	}
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("mariadb: bootstrap: %w", err)
		}
	}
	return nil
}
