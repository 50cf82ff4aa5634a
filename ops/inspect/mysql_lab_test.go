package inspect_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apimctl/apimctl/cluster/mysql"
	"github.com/apimctl/apimctl/ops/inspect"
	"github.com/apimctl/apimctl/ops/live"
)

// TestMySQLDetailShowsTheLongestRunningFirst: a statement running for seconds on another
// connection is the first connection listed, on one line, with the literal it carries after
// "password" masked; the metrics tables are listed by size.
func TestMySQLDetailShowsTheLongestRunningFirst(t *testing.T) {
	ins, env := dataInspector(t)
	db, name, err := mysql.OpenJDBC(env.MetricsDBURL(), env.MySQLUser, env.MySQLPassword, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := db.ExecContext(ctx, "SELECT SLEEP(4)\n  /* password 'hunter2' */")
		done <- err
	}()
	time.Sleep(1500 * time.Millisecond)
	d, err := ins.MySQL(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Problems) > 0 {
		t.Errorf("problems %v", d.Problems)
	}
	if !d.State.Reachable || d.State.Version == "" || !d.State.TLS || d.Database != name {
		t.Errorf("state %+v database %q", d.State, d.Database)
	}
	if len(d.Connections) < 2 {
		t.Fatalf("connections %+v", d.Connections)
	}
	c := d.Connections[0]
	if !strings.Contains(c.Info, "SLEEP(4)") || c.Time < time.Second || strings.ContainsAny(c.Info, "\n") || strings.Contains(c.Info, "hunter2") {
		t.Errorf("first connection %+v, want the SLEEP running >1s on one line, the literal masked", c)
	}
	if len(d.Tables) == 0 {
		t.Fatal("no tables")
	}
	for i := 1; i < len(d.Tables); i++ {
		a, b := d.Tables[i-1], d.Tables[i]
		if a.DataBytes+a.IndexBytes < b.DataBytes+b.IndexBytes {
			t.Errorf("tables not largest first: %+v before %+v", a, b)
		}
	}
	t.Logf("%d connections, %d tables, largest %s (%d bytes)", len(d.Connections), len(d.Tables), d.Tables[0].Name, d.Tables[0].DataBytes+d.Tables[0].IndexBytes)
	if err := <-done; err != nil {
		t.Errorf("the sleeping statement: %v", err)
	}
}

// TestMySQLUnreachableSaysSo: a database that does not answer is a clear error within the
// timeout, not a hang.
func TestMySQLUnreachableSaysSo(t *testing.T) {
	_, env := dataInspector(t)
	conn := &live.Connection{Targets: live.Targets{MetricsDBURL: "jdbc:mysql://127.0.0.1:1/metrics", MetricsDBUser: env.MySQLUser, MetricsDBPassword: env.MySQLPassword}}
	start := time.Now()
	_, err := inspect.New(conn).MySQL(context.Background())
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("err %v", err)
	}
	if strings.Contains(err.Error(), env.MySQLPassword) {
		t.Fatal("the error shows the password")
	}
	t.Logf("%s after %s", err, time.Since(start).Round(time.Millisecond))
	for _, url := range []string{"", "mysql://x", "jdbc:postgresql://127.0.0.1/x"} {
		conn.Targets.MetricsDBURL = url
		if _, err := inspect.New(conn).MySQL(context.Background()); err == nil {
			t.Errorf("%q: no error", url)
		}
	}
}
