package model

import (
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// RingNode is one Cassandra node as the ring placement needs it. Tokens are the node's
// partitioner tokens (Murmur3, decimal strings). Rack is optional: when set,
// NetworkTopologyStrategy places a DC's replicas on distinct racks first, as Cassandra does.
type RingNode struct {
	Address string
	DC      string
	Rack    string
	Up      bool
	Tokens  []string
}

// Replication strategies, as the keyspace metadata names them (short or fully qualified).
const (
	StrategySimple          = "SimpleStrategy"
	StrategyNetworkTopology = "NetworkTopologyStrategy"
)

// KeyspaceQuorum fills Quorum, ReplicasUp and QuorumReachable for ks given the ring.
//
// SimpleStrategy: each token range is replicated on the RF next distinct nodes clockwise
// (options "replication_factor", else ks.ReplicationFactor). NetworkTopologyStrategy: options
// map each DC to its RF; a range is replicated on each DC's RF next distinct nodes of that DC
// clockwise (distinct racks first when racks are known); QUORUM is sum(RF)/2+1 across DCs and
// ReplicationFactor is set to that sum. ReplicasUp is the fewest replicas up for any range.
//
// When the placement cannot be computed (the ring is empty, a node has no or unparsable
// tokens, or the strategy is neither of the above), ReplicasUp is the number of up nodes
// capped by RF — per DC for NetworkTopologyStrategy. That is an upper bound: with several
// nodes down it may call QUORUM reachable for a range that is not.
func KeyspaceQuorum(ring []RingNode, ks KeyspaceState, options map[string]string) KeyspaceState {
	strategy := ShortStrategy(ks.Strategy)
	if strategy == "" {
		strategy = ShortStrategy(options["class"])
	}
	ks.ReplicasUp, ks.Quorum, ks.QuorumReachable = 0, 0, false

	var dcRF map[string]int // nil for SimpleStrategy
	switch strategy {
	case StrategySimple:
		if rf, err := strconv.Atoi(options["replication_factor"]); err == nil && rf > 0 {
			ks.ReplicationFactor = rf
		}
	case StrategyNetworkTopology:
		dcRF = map[string]int{}
		total := 0
		for k, v := range options {
			if k == "class" || k == "replication_factor" {
				continue
			}
			if rf, err := strconv.Atoi(v); err == nil && rf > 0 {
				dcRF[k] = rf
				total += rf
			}
		}
		if total > 0 {
			ks.ReplicationFactor = total
		}
	}
	if ks.ReplicationFactor <= 0 {
		return ks // nothing is replicated: no quorum to reach
	}
	ks.Quorum = ks.ReplicationFactor/2 + 1

	placeable := strategy == StrategySimple || (strategy == StrategyNetworkTopology && len(dcRF) > 0)
	var tr *tokenRing
	if placeable {
		tr = newTokenRing(ring)
	}
	if tr == nil {
		ks.ReplicasUp = estimateUp(ring, ks.ReplicationFactor, dcRF)
	} else {
		ks.ReplicasUp = tr.minReplicasUp(ks.ReplicationFactor, dcRF)
	}
	ks.QuorumReachable = ks.ReplicasUp >= ks.Quorum
	return ks
}

// ShortStrategy is a replication class without its Java package: SimpleStrategy.
func ShortStrategy(class string) string {
	if i := strings.LastIndexByte(class, '.'); i >= 0 {
		class = class[i+1:]
	}
	switch class {
	case StrategySimple, StrategyNetworkTopology:
		return class
	}
	return ""
}

// estimateUp counts up nodes capped by RF (per DC when dcRF is set).
func estimateUp(ring []RingNode, rf int, dcRF map[string]int) int {
	if dcRF == nil {
		up := 0
		for _, n := range ring {
			if n.Up {
				up++
			}
		}
		return min(up, rf)
	}
	upIn := map[string]int{}
	for _, n := range ring {
		if n.Up {
			upIn[n.DC]++
		}
	}
	total := 0
	for dc, r := range dcRF {
		total += min(upIn[dc], r)
	}
	return total
}

// tokenRing is the ring sorted by token: owner[i] is the node owning tokens[i].
type tokenRing struct {
	nodes []RingNode
	owner []int
	toks  []*big.Int // tokens[i], ascending
	// nodesIn and racksIn count each DC's nodes and distinct racks.
	nodesIn, racksIn map[string]int
}

// newTokenRing returns nil when any node's tokens are missing or unparsable.
func newTokenRing(ring []RingNode) *tokenRing {
	if len(ring) == 0 {
		return nil
	}
	type entry struct {
		tok  *big.Int
		node int
	}
	var entries []entry
	for i, n := range ring {
		if len(n.Tokens) == 0 {
			return nil
		}
		for _, t := range n.Tokens {
			v, ok := new(big.Int).SetString(strings.TrimSpace(t), 10)
			if !ok {
				return nil
			}
			entries = append(entries, entry{v, i})
		}
	}
	sort.Slice(entries, func(a, b int) bool {
		if c := entries[a].tok.Cmp(entries[b].tok); c != 0 {
			return c < 0
		}
		return entries[a].node < entries[b].node
	})
	tr := &tokenRing{nodes: ring, owner: make([]int, len(entries)), toks: make([]*big.Int, len(entries))}
	for i, e := range entries {
		tr.owner[i], tr.toks[i] = e.node, e.tok
	}
	tr.nodesIn, tr.racksIn = map[string]int{}, map[string]int{}
	racks := map[[2]string]bool{}
	for _, n := range ring {
		tr.nodesIn[n.DC]++
		if k := [2]string{n.DC, n.Rack}; !racks[k] {
			racks[k] = true
			tr.racksIn[n.DC]++
		}
	}
	return tr
}

// minReplicasUp walks every range (the range ending at each token) and returns the fewest
// replicas up among them.
func (tr *tokenRing) minReplicasUp(rf int, dcRF map[string]int) int {
	least := -1
	for start := range tr.owner {
		var replicas []int
		if dcRF == nil {
			replicas = tr.simpleReplicas(start, rf)
		} else {
			replicas = tr.ntsReplicas(start, dcRF)
		}
		up := 0
		for _, r := range replicas {
			if tr.nodes[r].Up {
				up++
			}
		}
		if least < 0 || up < least {
			least = up
		}
	}
	return max(least, 0)
}

// simpleReplicas: the first rf distinct nodes clockwise from the range's token.
func (tr *tokenRing) simpleReplicas(start, rf int) []int {
	var out []int
	seen := map[int]bool{}
	for i := 0; i < len(tr.owner) && len(out) < rf; i++ {
		n := tr.owner[(start+i)%len(tr.owner)]
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// ntsReplicas follows Cassandra's NetworkTopologyStrategy: walking clockwise, each DC takes
// nodes on racks it holds no replica on yet; once every rack of the DC holds one, the nodes it
// skipped fill its remaining places in the order they were met, then any further node does.
func (tr *tokenRing) ntsReplicas(start int, dcRF map[string]int) []int {
	type dcPlacement struct {
		want     int
		got      []int
		racks    map[string]bool
		allRacks bool
		skipped  []int
	}
	dcs := map[string]*dcPlacement{}
	remaining := 0
	for dc, rf := range dcRF {
		if k := min(rf, tr.nodesIn[dc]); k > 0 {
			dcs[dc] = &dcPlacement{want: k, racks: map[string]bool{}}
			remaining += k
		}
	}
	chosen := map[int]bool{}
	take := func(p *dcPlacement, n int) {
		chosen[n] = true
		p.got = append(p.got, n)
		remaining--
	}
	for i := 0; i < len(tr.owner) && remaining > 0; i++ {
		n := tr.owner[(start+i)%len(tr.owner)]
		p := dcs[tr.nodes[n].DC]
		if p == nil || chosen[n] || len(p.got) >= p.want {
			continue
		}
		if p.allRacks {
			take(p, n)
			continue
		}
		rack := tr.nodes[n].Rack
		if p.racks[rack] {
			if !slices.Contains(p.skipped, n) {
				p.skipped = append(p.skipped, n)
			}
			continue
		}
		take(p, n)
		p.racks[rack] = true
		if len(p.racks) == tr.racksIn[tr.nodes[n].DC] {
			p.allRacks = true
			for _, s := range p.skipped {
				if len(p.got) >= p.want {
					break
				}
				take(p, s)
			}
			p.skipped = nil
		}
	}
	var out []int
	for _, p := range dcs {
		out = append(out, p.got...)
	}
	return out
}
