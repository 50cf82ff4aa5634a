package labtest

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/gocql/gocql"

	"github.com/apimctl/apimctl/cluster/cassandra"
	"github.com/apimctl/apimctl/cluster/mysql"
	"github.com/apimctl/apimctl/cluster/prom"
	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/ops/live"
)

// CassandraTarget is the lab's Cassandra as its superuser; timeout bounds connecting and each
// query (5 s when zero).
func CassandraTarget(env *lab.Env, timeout time.Duration) cassandra.Target {
	return cassandra.Target{Hosts: env.CassandraHosts, Port: env.CassandraPort,
		Username: env.CassandraUser, Password: env.CassandraPassword, Timeout: timeout}
}

// Cassandra connects to the lab's Cassandra (CassandraTarget, 30 s a query) and closes the
// connection when the test ends, after the cleanups registered later (they may still use it).
func Cassandra(t testing.TB, env *lab.Env) *cassandra.Client {
	t.Helper()
	cl, err := cassandra.Dial(context.Background(), CassandraTarget(env, 30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// ExecCQL executes a CQL statement and fails the test, naming the statement, if it fails.
func ExecCQL(t testing.TB, s *gocql.Session, q string, args ...any) {
	t.Helper()
	if err := s.Query(q, args...).Exec(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// Targets are the console's targets for the lab: its API server under kubeContext, namespace
// ns, and its Cassandra, metrics database and Prometheus with their credentials.
func Targets(env *lab.Env, kubeContext, ns string) live.Targets {
	return live.Targets{Kubeconfig: env.Kubeconfig, Context: kubeContext, Namespace: ns,
		CassandraHosts: env.CassandraHosts, CassandraPort: env.CassandraPort,
		CassandraUser: env.CassandraUser, CassandraPassword: env.CassandraPassword,
		MetricsDBURL: env.MetricsDBURL(), MetricsDBUser: env.MySQLUser, MetricsDBPassword: env.MySQLPassword,
		PrometheusURL: env.PrometheusURL}
}

// Prometheus is a client of the lab's Prometheus.
func Prometheus(t testing.TB, env *lab.Env) *prom.Client {
	t.Helper()
	c, err := prom.New(env.PrometheusURL)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// MySQLTarget is database db of the lab's MariaDB as the lab's user.
func MySQLTarget(env *lab.Env, db string) mysql.Target {
	return mysql.Target{Addr: env.MySQLAddr, Database: db, User: env.MySQLUser, Password: env.MySQLPassword}
}

// MySQL opens database db of the lab's MariaDB (MySQLTarget) and closes it when the test ends,
// after the cleanups registered later (they may still use it).
func MySQL(t testing.TB, env *lab.Env, db string) *sql.DB {
	t.Helper()
	d, err := mysql.Open(MySQLTarget(env, db))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}
