// Package drills holds fault drills against the running lab: they stop lab components, so
// `make test` runs them alone, after every other test.
package drills

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gocql/gocql"

	"github.com/apimctl/apimctl/cluster/cassandra"
	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/lab/labtest"
)

func nodeUp(c *cassandra.Client, addr string) (known, up bool) {
	for _, n := range c.Nodes() {
		if n.Addr == addr {
			return true, n.Up
		}
	}
	return false, false
}

func waitNode(t *testing.T, c *cassandra.Client, addr string, up bool, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		if known, u := nodeUp(c, addr); known && u == up {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("gocql did not report %s %s within %s: %+v", addr, map[bool]string{true: "up", false: "down"}[up], within, c.Nodes())
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestCassandraNodeDownKeepsQuorum stops one of three Cassandra nodes: gocql reports it down,
// QUORUM writes and reads still succeed with the password; started again, it is reported up.
func TestCassandraNodeDownKeepsQuorum(t *testing.T) {
	env := labtest.Require(t)
	if len(env.CassandraHosts) < 3 {
		t.Fatalf("the drill needs 3 Cassandra nodes, the lab has %d", len(env.CassandraHosts))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	l, err := lab.Open(env.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	restart := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		o := l.Options()
		o.Components = []string{"cassandra"}
		o.Progress = t.Logf
		cl, err := lab.New(o)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cl.Up(ctx); err != nil {
			t.Fatalf("restart cassandra: %v", err)
		}
	}
	restart() // idempotent: makes sure all three nodes run before the drill
	c, err := cassandra.Dial(ctx, cassandra.Target{Hosts: env.CassandraHosts, Port: env.CassandraPort,
		Username: env.CassandraUser, Password: env.CassandraPassword})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	victim := env.CassandraAddrs()[1]
	waitNode(t, c, victim, true, 60*time.Second)
	// Schema changes wait for every node to agree: make the table while all are up.
	s := c.Session()
	table := fmt.Sprintf("%s.drill_%d", env.Keyspace, time.Now().UnixNano()%1e9)
	if err := s.Query("CREATE TABLE " + table + " (k int PRIMARY KEY, v text)").Exec(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Query("DROP TABLE " + table).Exec() }()

	if err := l.Stop(ctx, "cassandra-2"); err != nil {
		t.Fatal(err)
	}
	restarted := false
	t.Cleanup(func() { // whatever happens, leave the lab whole
		if !restarted {
			restart()
		}
	})
	took := waitNode(t, c, victim, false, 60*time.Second)
	t.Logf("gocql reported %s down %s after it stopped", victim, took.Round(100*time.Millisecond))

	for i := range 20 {
		if err := s.Query("INSERT INTO "+table+" (k, v) VALUES (?, ?)", i, "x").Consistency(gocql.Quorum).Exec(); err != nil {
			t.Fatalf("QUORUM write %d with a node down: %v", i, err)
		}
		var v string
		if err := s.Query("SELECT v FROM "+table+" WHERE k = ?", i).Consistency(gocql.Quorum).Scan(&v); err != nil {
			t.Fatalf("QUORUM read %d with a node down: %v", i, err)
		}
	}
	// ALL cannot succeed with a replica down: the drill really took the node out.
	if err := s.Query("SELECT v FROM "+table+" WHERE k = 1").Consistency(gocql.All).Exec(); err == nil {
		t.Error("a read at ALL succeeded with a node down")
	}

	restart()
	restarted = true
	took = waitNode(t, c, victim, true, 120*time.Second)
	t.Logf("gocql reported %s up %s after restart", victim, took.Round(100*time.Millisecond))
}
