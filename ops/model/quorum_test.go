package model

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// ring builds nodes n0..n(k-1) with one token each, in ring order, all up but those listed.
func ring(k int, down ...int) []RingNode {
	out := make([]RingNode, k)
	for i := range out {
		out[i] = RingNode{Address: fmt.Sprintf("127.0.0.%d", i+1), DC: "dc1", Up: true,
			Tokens: []string{strconv.FormatInt(int64(i)*1_000_000_000_000-3_000_000_000_000, 10)}}
	}
	for _, d := range down {
		out[d].Up = false
	}
	return out
}

func simple(rf int) (KeyspaceState, map[string]string) {
	return KeyspaceState{Name: "apim_default", Strategy: StrategySimple, ReplicationFactor: rf},
		map[string]string{"replication_factor": strconv.Itoa(rf)}
}

func TestKeyspaceQuorum(t *testing.T) {
	type want struct {
		rf, quorum, up int
		reachable      bool
	}
	tests := []struct {
		name    string
		ring    []RingNode
		ks      KeyspaceState
		options map[string]string
		want    want
	}{
		{"3 nodes RF3 all up", ring(3), KeyspaceState{Strategy: StrategySimple, ReplicationFactor: 3}, nil, want{3, 2, 3, true}},
		{"3 nodes RF3 one down", ring(3, 1), KeyspaceState{Strategy: StrategySimple, ReplicationFactor: 3}, nil, want{3, 2, 2, true}},
		{"3 nodes RF3 two down", ring(3, 0, 2), KeyspaceState{Strategy: StrategySimple, ReplicationFactor: 3}, nil, want{3, 2, 1, false}},
		{"3 nodes RF1 owner down", ring(3, 1), KeyspaceState{Strategy: StrategySimple, ReplicationFactor: 1}, nil, want{1, 1, 0, false}},
		{"3 nodes RF1 all up", ring(3), KeyspaceState{Strategy: StrategySimple, ReplicationFactor: 1}, nil, want{1, 1, 1, true}},
		{"6 nodes RF3 one down", ring(6, 4), KeyspaceState{Strategy: StrategySimple, ReplicationFactor: 3}, nil, want{3, 2, 2, true}},
		{"6 nodes RF3 neighbours down", ring(6, 0, 1), KeyspaceState{Strategy: StrategySimple, ReplicationFactor: 3}, nil, want{3, 2, 1, false}},
		{"6 nodes RF3 down two apart", ring(6, 0, 2), KeyspaceState{Strategy: StrategySimple, ReplicationFactor: 3}, nil, want{3, 2, 1, false}},
		{"6 nodes RF3 opposite down", ring(6, 0, 3), KeyspaceState{Strategy: StrategySimple, ReplicationFactor: 3}, nil, want{3, 2, 2, true}},
		{"6 nodes RF3 wrap-around neighbours down", ring(6, 5, 0), KeyspaceState{Strategy: StrategySimple, ReplicationFactor: 3}, nil, want{3, 2, 1, false}},
		{"6 nodes RF3 three alternate down", ring(6, 0, 2, 4), KeyspaceState{Strategy: StrategySimple, ReplicationFactor: 3}, nil, want{3, 2, 1, false}},
		{"options RF wins, fully qualified class", ring(3, 2), KeyspaceState{Strategy: "org.apache.cassandra.locator.SimpleStrategy", ReplicationFactor: 1},
			map[string]string{"replication_factor": "3"}, want{3, 2, 2, true}},
		{"RF above node count", ring(2), KeyspaceState{Strategy: StrategySimple, ReplicationFactor: 3}, nil, want{3, 2, 2, true}},
		{"RF 0", ring(3), KeyspaceState{Strategy: StrategySimple}, nil, want{0, 0, 0, false}},
		{"NTS two DCs one down each", append(dcRing("dc1", 3, 0), dcRing("dc2", 3, 1)...),
			KeyspaceState{Strategy: StrategyNetworkTopology}, map[string]string{"dc1": "3", "dc2": "3"}, want{6, 4, 4, true}},
		{"NTS a whole DC down", append(dcRing("dc1", 3, 0, 1, 2), dcRing("dc2", 3)...),
			KeyspaceState{Strategy: StrategyNetworkTopology}, map[string]string{"dc1": "3", "dc2": "3"}, want{6, 4, 3, false}},
		{"NTS keyspace only in the DC that is up", append(dcRing("dc1", 3, 0, 1, 2), dcRing("dc2", 3)...),
			KeyspaceState{Strategy: StrategyNetworkTopology}, map[string]string{"dc2": "3"}, want{3, 2, 3, true}},
		{"unknown tokens: up nodes capped by RF", withoutTokens(ring(3, 1)), KeyspaceState{Strategy: StrategySimple, ReplicationFactor: 3},
			nil, want{3, 2, 2, true}},
		{"unknown tokens: two down", withoutTokens(ring(3, 0, 1)), KeyspaceState{Strategy: StrategySimple, ReplicationFactor: 3},
			nil, want{3, 2, 1, false}},
		{"unknown tokens with 6 nodes: optimistic cap", withoutTokens(ring(6, 0, 1)), KeyspaceState{Strategy: StrategySimple, ReplicationFactor: 3},
			nil, want{3, 2, 3, true}},
		{"unparsable token", []RingNode{{Up: true, Tokens: []string{"x"}}, {Up: true, Tokens: []string{"1"}}},
			KeyspaceState{Strategy: StrategySimple, ReplicationFactor: 3}, nil, want{3, 2, 2, true}},
		{"empty ring", nil, KeyspaceState{Strategy: StrategySimple, ReplicationFactor: 3}, nil, want{3, 2, 0, false}},
		{"unknown strategy uses the estimate", ring(3, 0), KeyspaceState{Strategy: "EverywhereStrategy", ReplicationFactor: 3},
			nil, want{3, 2, 2, true}},
		{"NTS unknown tokens per DC", withoutTokens(append(dcRing("dc1", 3, 0, 1), dcRing("dc2", 3)...)),
			KeyspaceState{Strategy: StrategyNetworkTopology}, map[string]string{"dc1": "3", "dc2": "3"}, want{6, 4, 4, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := KeyspaceQuorum(tt.ring, tt.ks, tt.options)
			g := want{got.ReplicationFactor, got.Quorum, got.ReplicasUp, got.QuorumReachable}
			if g != tt.want {
				t.Errorf("rf/quorum/up/reachable = %+v, want %+v", g, tt.want)
			}
		})
	}
}

func dcRing(dc string, k int, down ...int) []RingNode {
	out := ring(k, down...)
	base := map[string]int64{"dc1": 0, "dc2": 1}[dc]
	for i := range out {
		out[i].DC = dc
		out[i].Address = fmt.Sprintf("127.0.%d.%d", base+1, i+1)
		// interleave the DCs on the ring
		out[i].Tokens = []string{strconv.FormatInt(int64(i)*2000+base*1000, 10)}
	}
	return out
}

func withoutTokens(r []RingNode) []RingNode {
	for i := range r {
		r[i].Tokens = nil
	}
	return r
}

// Racks: two nodes per rack, neighbours on the ring share a rack. NetworkTopologyStrategy puts
// one replica per rack, so a whole rack down leaves 2 of 3 replicas for every range, where
// SimpleStrategy (rack-blind) loses QUORUM for the range the two neighbours own.
func TestNetworkTopologyStrategyRacks(t *testing.T) {
	r := ring(6, 0, 1)
	racks := []string{"r1", "r1", "r2", "r2", "r3", "r3"}
	for i := range r {
		r[i].Rack = racks[i]
	}
	nts := KeyspaceQuorum(r, KeyspaceState{Strategy: StrategyNetworkTopology}, map[string]string{"dc1": "3"})
	if nts.ReplicasUp != 2 || !nts.QuorumReachable {
		t.Errorf("NTS rack-aware: %+v", nts)
	}
	ks, opts := simple(3)
	s := KeyspaceQuorum(r, ks, opts)
	if s.ReplicasUp != 1 || s.QuorumReachable {
		t.Errorf("SimpleStrategy: %+v", s)
	}
	// Fewer racks than RF: after one replica per rack, the skipped nodes fill in, in ring order.
	r2 := ring(4)
	for i, rack := range []string{"a", "a", "b", "b"} {
		r2[i].Rack = rack
	}
	tr := newTokenRing(r2)
	got := tr.ntsReplicas(0, map[string]int{"dc1": 3})
	if len(got) != 3 || !slices.Contains(got, 0) || !slices.Contains(got, 2) || !slices.Contains(got, 1) {
		t.Errorf("replicas from n0 = %v, want n0, n2 then skipped n1", got)
	}
}

// With vnodes and one node down, every range keeps RF-1 replicas up: a property that holds
// whatever the token layout.
func TestKeyspaceQuorumVnodes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	r := ring(6)
	for i := range r {
		r[i].Tokens = nil
		for v := 0; v < 16; v++ {
			r[i].Tokens = append(r[i].Tokens, strconv.FormatInt(rng.Int64()-(1<<62), 10))
		}
	}
	r[3].Up = false
	ks, opts := simple(3)
	got := KeyspaceQuorum(r, ks, opts)
	if got.ReplicasUp != 2 || !got.QuorumReachable {
		t.Errorf("one of six down with vnodes: %+v", got)
	}
	r[4].Up = false // two down: with 96 random vnodes some range surely has both
	got = KeyspaceQuorum(r, ks, opts)
	if got.ReplicasUp != 1 || got.QuorumReachable {
		t.Errorf("two of six down with vnodes: %+v", got)
	}
}
