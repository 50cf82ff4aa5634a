package cassandra_test

import (
	"context"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apimctl/apimctl/cluster/cassandra"
	"github.com/apimctl/apimctl/lab/labtest"
)

// TestClientAgainstTheLab: the happy path (every node up, schema agreement, the lab's
// keyspaces and their replication), a node that accepts but never answers (Dial ends with its
// timeout), and a wrong password (an authentication error that does not repeat it).
func TestClientAgainstTheLab(t *testing.T) {
	env := labtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tg := labtest.CassandraTarget(env, 0)
	c, err := cassandra.Dial(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Other tests change schemas meanwhile: agreement may take a moment.
	for n, err := c.SchemaVersions(ctx); n != 1; n, err = c.SchemaVersions(ctx) {
		if err != nil || ctx.Err() != nil {
			t.Fatalf("schema versions %d, %v", n, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	ks, err := c.UserKeyspaces(ctx)
	if err != nil || !slices.Contains(ks, env.Keyspace) || !slices.Contains(ks, env.ThrottleKeyspace) {
		t.Errorf("user keyspaces %v, %v", ks, err)
	}
	k, err := c.Keyspace(env.Keyspace)
	if err != nil || k.ReplicationFactor < 1 || len(k.Tables) == 0 {
		t.Errorf("keyspace %s: %+v, %v", env.Keyspace, k, err)
	}
	if id, err := c.ClusterID(ctx); err != nil || !strings.Contains(id, "/") {
		t.Errorf("cluster ID %q, %v", id, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		up := 0
		for _, n := range c.Nodes() {
			if n.Up {
				up++
			}
		}
		if up == len(env.CassandraHosts) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d nodes up: %+v", up, len(env.CassandraHosts), c.Nodes())
		}
		time.Sleep(200 * time.Millisecond)
	}

	t.Run("timeout", func(t *testing.T) {
		host, port, _ := net.SplitHostPort(labtest.Blackhole(t))
		p, _ := strconv.Atoi(port)
		bad := tg
		bad.Hosts, bad.Port, bad.Timeout = []string{host}, p, 300*time.Millisecond
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := cassandra.Dial(ctx, bad); err == nil {
			c.Close()
			t.Fatal("a node that never answers: connected")
		}
		if ctx.Err() != nil {
			t.Error("Dial waited for the caller's deadline, not its own timeout")
		}
	})

	t.Run("auth error", func(t *testing.T) {
		bad := tg
		bad.Password = "not-the-password-" + strconv.Itoa(time.Now().Nanosecond())
		c, err := cassandra.Dial(ctx, bad)
		if err == nil {
			c.Close()
			t.Fatal("a wrong password: connected")
		}
		if !strings.Contains(err.Error(), "password are incorrect") {
			t.Errorf("a wrong password: %v", err)
		}
		if strings.Contains(err.Error(), bad.Password) {
			t.Error("the error repeats the password")
		}
	})
}
