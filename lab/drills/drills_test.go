// Package drills holds fault drills against the running lab: they stop lab components, so
// `make test` runs them alone, after every other test.
package drills

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/apimctl/apimctl/ops/model"

	"github.com/gocql/gocql"

	"github.com/apimctl/apimctl/cluster/cassandra"
	"github.com/apimctl/apimctl/cmd/apimctl/cli"
	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/lab/labtest"
)

// restarter returns a function that brings a component of the lab up again (idempotent:
// what runs is left alone), failing the test if it is not up within the given time.
func restarter(t *testing.T, l *lab.Lab, component string, within time.Duration) func() {
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), within)
		defer cancel()
		o := l.Options()
		o.Components = []string{component}
		o.Progress = t.Logf
		cl, err := lab.New(o)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cl.Up(ctx); err != nil {
			t.Fatalf("restart %s: %v", component, err)
		}
	}
}

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
	l := labtest.Open(t, env)
	restart := restarter(t, l, "cassandra", 5*time.Minute)
	restart() // idempotent: makes sure all three nodes run before the drill
	c, err := cassandra.Dial(ctx, labtest.CassandraTarget(env, 0))
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
	// The console: degraded (exit 3), the node shown down, QUORUM still reachable.
	doc := statusJSON(t, env, 3)
	for _, n := range doc.Cassandra.Nodes {
		if n.Address == victim && n.Up {
			t.Errorf("status shows %s up while it is stopped", victim)
		}
	}
	for _, k := range doc.Cassandra.Keyspaces {
		if k.Name == env.Keyspace && (!k.QuorumReachable || k.ReplicasUp != 2) {
			t.Errorf("keyspace %+v: want QUORUM reachable with 2 replicas up", k)
		}
	}
	if !hasFinding(doc, "CASS-002") {
		t.Errorf("no CASS-002 finding for the node down: %+v", doc.Findings)
	}
	// ALL cannot succeed with a replica down: the drill really took the node out.
	if err := s.Query("SELECT v FROM " + table + " WHERE k = 1").Consistency(gocql.All).Exec(); err == nil {
		t.Error("a read at ALL succeeded with a node down")
	}

	restart()
	restarted = true
	took = waitNode(t, c, victim, true, 120*time.Second)
	t.Logf("gocql reported %s up %s after restart", victim, took.Round(100*time.Millisecond))
}

// statusJSON runs `apimctl status -o json` against the lab and wants exit code want.
func statusJSON(t *testing.T, env *lab.Env, want int) model.StatusDocument {
	t.Helper()
	for k, v := range env.Vars() {
		t.Setenv(k, v)
	}
	t.Setenv("APIMCTL_AUDIT_LOG", t.TempDir()+"/audit.log")
	ios, _, out, errOut := cli.Test()
	start := time.Now()
	code := cli.Main(ios, []string{"status", "-o", "json", "--timeout", "8s"})
	t.Logf("status took %s, exit %d", time.Since(start).Round(10*time.Millisecond), code)
	if code != want {
		t.Errorf("status exit %d, want %d; stderr %s", code, want, errOut.String())
	}
	var doc model.StatusDocument
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("status JSON: %v\n%s", err, out.String())
	}
	return doc
}

func hasFinding(doc model.StatusDocument, id string) bool {
	for _, f := range doc.Findings {
		if f.ID == id {
			return true
		}
	}
	return false
}

// TestMariaDBDownFailsAlone stops MariaDB: the MySQL source shows the error while the other
// sources stay fresh, and status still answers (exit 3) within its timeout.
func TestMariaDBDownFailsAlone(t *testing.T) {
	env := labtest.Require(t)
	l := labtest.Open(t, env)
	restart := restarter(t, l, "mariadb", 2*time.Minute)
	restart() // make sure it runs before the drill
	if err := l.Stop(context.Background(), "mariadb"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(restart)

	// status must come back (a hang would be a failure; its duration is logged, not judged).
	type result struct{ doc model.StatusDocument }
	done := make(chan result, 1)
	go func() { done <- result{statusJSON(t, env, 3)} }()
	var doc model.StatusDocument
	select {
	case r := <-done:
		doc = r.doc
	case <-time.After(2 * time.Minute):
		t.Fatal("status did not return with MariaDB down")
	}
	for _, s := range doc.Sources {
		switch s.Name {
		case model.SourceMySQL:
			if s.Error == "" {
				t.Errorf("mysql source shows no error with MariaDB down: %+v", s)
			}
			t.Logf("mysql error shown: %s", s.Error)
		default:
			if s.Error != "" || s.Stale || !s.Synced {
				t.Errorf("%s is not fresh while MariaDB is down: %+v", s.Name, s)
			}
		}
	}
	if doc.MySQL.Reachable {
		t.Error("mysql shown reachable")
	}
	if !hasFinding(doc, "SQL-001") {
		t.Errorf("no SQL-001 finding: %+v", doc.Findings)
	}
	if len(doc.Topology.Groups) == 0 || len(doc.Cassandra.Nodes) == 0 {
		t.Error("other panels blanked while MariaDB is down")
	}
}
