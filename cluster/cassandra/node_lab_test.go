package cassandra_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/apimctl/apimctl/cluster/cassandra"
	"github.com/apimctl/apimctl/lab/labtest"
)

// TestNodeSessionIsPinned: a node session's every answer comes from that node — its
// system.local, its gossip (itself included) — and the virtual tables the drill-down reads
// exist in the lab's Cassandra.
func TestNodeSessionIsPinned(t *testing.T) {
	env := labtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tg := labtest.CassandraTarget(env, 0)
	for _, host := range env.CassandraHosts {
		n, err := cassandra.DialNode(ctx, tg, host)
		if err != nil {
			t.Fatal(err)
		}
		for range 5 { // round-robin would move to another node within a few queries
			v, err := n.ReadView(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if v.Local.Address != host {
				t.Fatalf("session to %s answered as %s", host, v.Local.Address)
			}
			if len(v.Peers) != len(env.CassandraHosts)-1 || len(v.Gossip) != len(env.CassandraHosts) {
				t.Fatalf("%s: %d peers, %d gossip entries", host, len(v.Peers), len(v.Gossip))
			}
			for _, p := range v.Peers {
				if p.Address == host || len(p.Tokens) == 0 || p.HostID == "" {
					t.Errorf("%s lists peer %+v", host, p)
				}
			}
		}
		tables, err := n.VirtualTables(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"gossip_info", "internode_outbound", "thread_pools", "sstable_tasks", "local_read_latency", "local_write_latency", "clients"} {
			if !slices.Contains(tables, want) {
				t.Errorf("system_views.%s missing on %s (has %v)", want, host, tables)
			}
		}
		pools, err := n.ThreadPools(ctx)
		if err != nil || len(pools) == 0 {
			t.Errorf("thread pools: %v %v", pools, err)
		}
		if _, err := n.SSTableTasks(ctx); err != nil {
			t.Error(err)
		}
		reads, err := n.Latencies(ctx, false)
		if err != nil || len(reads) == 0 {
			t.Errorf("read latencies: %d %v", len(reads), err)
		}
		clients, err := n.Clients(ctx)
		if err != nil || len(clients) == 0 {
			t.Errorf("clients: %d %v (this session is one)", len(clients), err)
		}
		repl, err := n.Replication(ctx)
		if err != nil || repl[env.Keyspace]["class"] == "" {
			t.Errorf("replication of %s: %v %v", env.Keyspace, repl[env.Keyspace], err)
		}
		n.Close()
	}
}

// TestDialNodeDownIsAnError: a node that does not listen is an error naming it, quickly.
func TestDialNodeDownIsAnError(t *testing.T) {
	env := labtest.Require(t)
	start := time.Now()
	_, err := cassandra.DialNode(context.Background(), cassandra.Target{Port: 1, Username: env.CassandraUser, Password: env.CassandraPassword, Timeout: 2 * time.Second}, env.CassandraHosts[0])
	if err == nil {
		t.Fatal("no error dialling a closed port")
	}
	t.Logf("%v after %s", err, time.Since(start).Round(time.Millisecond))
}
