package inspect_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// TestCassandraNodeFromVirtualTables: a lab node drilled into from its own virtual tables and
// its peers' — every node sees every other up and NORMAL, the schema agrees, the ring is
// shared evenly and RF 3 puts a replica of everything on each node.
func TestCassandraNodeFromVirtualTables(t *testing.T) {
	ins, env := dataInspector(t)
	target := env.CassandraHosts[len(env.CassandraHosts)-1]
	start := time.Now()
	d, err := ins.CassandraNode(context.Background(), net.JoinHostPort(target, "9042"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("node detail in %s: %d peer views, %d pools, %d clients, problems %v", time.Since(start).Round(time.Millisecond), len(d.Peers), len(d.ThreadPools), len(d.Clients), d.Problems)
	n := len(env.CassandraHosts)
	if d.Unreachable != "" || !d.Node.Up || d.Node.Version == "" || d.Node.HostID == "" || d.Node.DC == "" {
		t.Fatalf("node %+v unreachable %q", d.Node, d.Unreachable)
	}
	if d.Status != "NORMAL" || !d.SchemaAgreed || d.SchemaVersion == "" {
		t.Errorf("status %q schema %q agreed %v", d.Status, d.SchemaVersion, d.SchemaAgreed)
	}
	if len(d.Peers) != n*n {
		t.Errorf("%d peer views, want %d (each of %d nodes sees %d)", len(d.Peers), n*n, n, n)
	}
	for _, p := range d.Peers {
		if !p.Up || p.State != "NORMAL" {
			t.Errorf("%s sees %s %s up=%v", p.Observer, p.Peer, p.State, p.Up)
		}
	}
	if d.Tokens < 1 || d.LoadBytes <= 0 {
		t.Errorf("tokens %d load %d", d.Tokens, d.LoadBytes)
	}
	if want := 100 / float64(n); d.OwnershipPercent < want-1 || d.OwnershipPercent > want+1 {
		t.Errorf("ownership %.2f %%, want %.0f", d.OwnershipPercent, want)
	}
	if n == 3 && (d.EffectiveOwnershipPercent < 99.9 || !strings.HasPrefix(d.EffectiveKeyspace, "apim_")) {
		t.Errorf("effective ownership %.2f %% of %q, want 100 (RF 3)", d.EffectiveOwnershipPercent, d.EffectiveKeyspace)
	}
	pools := map[string]bool{}
	for _, p := range d.ThreadPools {
		pools[p.Name] = true
	}
	for _, want := range []string{"CompactionExecutor", "ReadStage", "MutationStage", "Native-Transport-Requests"} {
		if !pools[want] {
			t.Errorf("thread pool %s missing from %v", want, pools)
		}
	}
	// The inspector's own connection is one of the node's clients.
	found := false
	for _, c := range d.Clients {
		if c.User == env.CassandraUser && c.Connections > 0 {
			found = true
		}
	}
	if !found {
		t.Errorf("clients %+v: no connection of %s", d.Clients, env.CassandraUser)
	}
	if len(d.Problems) > 0 {
		t.Errorf("problems: %v", d.Problems)
	}
}

// TestCassandraNodeRefusesAStranger: an address that is not a node of the ring is refused
// before anything connects to it, and a malformed one too.
func TestCassandraNodeRefusesAStranger(t *testing.T) {
	ins, _ := dataInspector(t)
	for _, addr := range []string{"127.0.0.250:9042", "127.0.0.1/8", " "} {
		_, err := ins.CassandraNode(context.Background(), addr)
		if err == nil || !(strings.Contains(err.Error(), "not a node") || strings.Contains(err.Error(), "not a node address")) {
			t.Errorf("%q: %v", addr, err)
		}
	}
}
