package model

import (
	"math/big"
	"sort"
	"strconv"
	"strings"
)

// Judgements of the Cassandra node drill-down.

// ringSpan is the size of Murmur3's token ring: tokens are int64, so 2^64.
var ringSpan = new(big.Int).Lsh(big.NewInt(1), 64)

// RingOwnership is each node's share of the token ring in percent, counting each range once
// for the node it ends at (nodetool status without a keyspace). nil when the ring has no
// usable tokens.
func RingOwnership(ring []RingNode) map[string]float64 {
	return ownership(ring, func(tr *tokenRing, start int) []int { return []int{tr.owner[start]} })
}

// EffectiveOwnership is each node's share of the ring it holds a replica of for a keyspace
// replicated as strategy and options say (nodetool status KEYSPACE): with RF 3 on three
// nodes, 100 % each. nil when the placement cannot be computed.
func EffectiveOwnership(ring []RingNode, strategy string, options map[string]string) map[string]float64 {
	ks := KeyspaceQuorum(ring, KeyspaceState{Strategy: strategy}, options)
	if ks.ReplicationFactor <= 0 {
		return nil
	}
	var dcRF map[string]int
	if ShortStrategy(strategy) == StrategyNetworkTopology || ShortStrategy(options["class"]) == StrategyNetworkTopology {
		dcRF = map[string]int{}
		for k, v := range options {
			if k == "class" || k == "replication_factor" {
				continue
			}
			if rf, err := strconv.Atoi(v); err == nil && rf > 0 {
				dcRF[k] = rf
			}
		}
		if len(dcRF) == 0 {
			return nil
		}
	}
	return ownership(ring, func(tr *tokenRing, start int) []int {
		if dcRF != nil {
			return tr.ntsReplicas(start, dcRF)
		}
		return tr.simpleReplicas(start, ks.ReplicationFactor)
	})
}

func ownership(ring []RingNode, replicas func(tr *tokenRing, start int) []int) map[string]float64 {
	tr := newTokenRing(ring)
	if tr == nil || len(tr.toks) == 0 {
		return nil
	}
	owned := make([]*big.Int, len(ring))
	for i := range owned {
		owned[i] = new(big.Int)
	}
	n := len(tr.toks)
	for i := range tr.toks {
		// The range (toks[i-1], toks[i]]; the first one wraps round the ring.
		size := new(big.Int).Sub(tr.toks[i], tr.toks[(i-1+n)%n])
		if size.Sign() <= 0 {
			size.Add(size, ringSpan)
		}
		for _, r := range replicas(tr, i) {
			owned[r].Add(owned[r], size)
		}
	}
	out := make(map[string]float64, len(ring))
	span := new(big.Float).SetInt(ringSpan)
	for i, o := range owned {
		f, _ := new(big.Float).Quo(new(big.Float).SetInt(o), span).Float64()
		out[ring[i].Address] += f * 100
	}
	return out
}

// PeerState judges how an observer sees a peer: the peer's gossip status word as the
// observer's gossiper holds it ("" when it holds none), and whether the observer has an open
// messaging connection to it. A node sees itself up; a peer that announced its shutdown is
// down whatever the connections say.
func PeerState(observer, peer, gossipStatus string, connected bool) (state string, up bool) {
	state = gossipStatus
	if state == "" {
		state = "unknown"
	}
	if strings.EqualFold(state, "shutdown") {
		return state, false
	}
	return state, observer == peer || connected
}

// SchemaAgreed reports whether every non-empty version is the same one (false when none is
// known).
func SchemaAgreed(versions ...string) bool {
	first := ""
	for _, v := range versions {
		switch {
		case v == "":
		case first == "":
			first = v
		case v != first:
			return false
		}
	}
	return first != ""
}

// SortThreadPools puts the pools with a backlog first (blocked, then pending), then the busy
// ones, then by name.
func SortThreadPools(pools []ThreadPool) {
	sort.SliceStable(pools, func(i, j int) bool {
		a, b := pools[i], pools[j]
		if a.Blocked != b.Blocked {
			return a.Blocked > b.Blocked
		}
		if a.Pending != b.Pending {
			return a.Pending > b.Pending
		}
		if a.Active != b.Active {
			return a.Active > b.Active
		}
		return a.Name < b.Name
	})
}

// SortCassandraClients puts the busiest clients first.
func SortCassandraClients(cs []CassandraClient) {
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].Requests != cs[j].Requests {
			return cs[i].Requests > cs[j].Requests
		}
		if cs[i].Connections != cs[j].Connections {
			return cs[i].Connections > cs[j].Connections
		}
		return cs[i].Address+cs[i].User < cs[j].Address+cs[j].User
	})
}
