package inspect

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apimctl/apimctl/cluster/cassandra"
	"github.com/apimctl/apimctl/ops/model"
)

// cassandraTimeout bounds a node drill-down: every node is asked in parallel, each connection
// and query within the per-call timeout below.
const (
	cassandraTimeout = 10 * time.Second
	cassandraCall    = 3 * time.Second
)

// nodeAnswer is what one node said (or why it said nothing).
type nodeAnswer struct {
	host string // IP or name, no port
	sess *cassandra.NodeSession
	view *cassandra.NodeView
	err  error
}

// CassandraNode drills into one node of the ring, from the virtual tables of every node that
// answers (each asked directly: the virtual tables are node-local). The address may carry a
// port; it must be a node of the ring as the configured hosts know it, so a label or a typo
// cannot make the console connect elsewhere. A node that does not answer is described by its
// peers, with Unreachable saying why.
func (i *Inspector) CassandraNode(ctx context.Context, address string) (*model.CassandraNodeDetail, error) {
	t := i.Conn.Targets
	if len(t.CassandraHosts) == 0 {
		return nil, errors.New("no Cassandra hosts: set --cass-host or CASS_HOST, or create the cassandra-credentials Secret")
	}
	target, err := nodeHost(address)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cassandraTimeout)
	defer cancel()
	ct := cassandra.Target{Port: t.CassandraPort, Username: t.CassandraUser, Password: t.CassandraPassword, Timeout: cassandraCall}

	// Ask the configured hosts first: they say who the ring's members are.
	answers := map[string]*nodeAnswer{}
	var first []string
	for _, h := range t.CassandraHosts {
		if hh, err := nodeHost(h); err == nil && answers[hh] == nil {
			answers[hh] = &nodeAnswer{host: hh}
			first = append(first, hh)
		}
	}
	askAll(ctx, ct, answers, first)
	defer func() {
		for _, a := range answers {
			if a.sess != nil {
				a.sess.Close()
			}
		}
	}()
	members := map[string]bool{}
	for _, a := range answers {
		if a.view == nil {
			continue
		}
		members[a.view.Local.Address] = true
		for _, p := range a.view.Peers {
			members[p.Address] = true
		}
	}
	if answers[target] == nil && !members[target] {
		var known []string
		for m := range members {
			known = append(known, m)
		}
		sort.Strings(known)
		if len(known) == 0 {
			return nil, fmt.Errorf("cassandra: no configured host answered, so %s cannot be checked to be a node of the ring: %w", address, firstErr(answers))
		}
		return nil, fmt.Errorf("cassandra: %s is not a node of the ring (its nodes: %s)", address, strings.Join(known, ", "))
	}
	// Then the members the configured hosts did not cover.
	var more []string
	for m := range members {
		if answers[m] == nil {
			answers[m] = &nodeAnswer{host: m}
			more = append(more, m)
		}
	}
	askAll(ctx, ct, answers, more)
	return describeNode(ctx, answers, target, t.CassandraPort), nil
}

// askAll connects to each host and reads its view, in parallel.
func askAll(ctx context.Context, ct cassandra.Target, answers map[string]*nodeAnswer, hosts []string) {
	var wg sync.WaitGroup
	for _, h := range hosts {
		a := answers[h]
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.sess, a.err = cassandra.DialNode(ctx, ct, h)
			if a.err != nil {
				return
			}
			cctx, cancel := context.WithTimeout(ctx, cassandraCall)
			defer cancel()
			var err error
			a.view, err = a.sess.ReadView(cctx)
			if a.view == nil {
				a.err = err
			} else if err != nil {
				a.err = err // partial: local and peers were read
			}
		}()
	}
	wg.Wait()
}

// nodeHost is the host part of a node address ("127.0.0.2:9042" → "127.0.0.2"), refused when
// it is not a plain host name or IP address.
func nodeHost(addr string) (string, error) {
	h := strings.TrimSpace(addr)
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	if h == "" || len(h) > 253 || strings.ContainsAny(h, " /\\@?#[]") {
		return "", fmt.Errorf("cassandra: %q is not a node address (host or host:port)", addr)
	}
	if ip := net.ParseIP(h); ip != nil {
		return ip.String(), nil
	}
	return strings.ToLower(h), nil
}

func firstErr(answers map[string]*nodeAnswer) error {
	var hosts []string
	for h := range answers {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		if answers[h].err != nil {
			return answers[h].err
		}
	}
	return errors.New("no answer")
}

// describeNode builds the detail of target from what every node said, and from the target's
// own tables when it answered.
func describeNode(ctx context.Context, answers map[string]*nodeAnswer, target string, port int) *model.CassandraNodeDetail {
	if port == 0 {
		port = 9042
	}
	d := &model.CassandraNodeDetail{Node: model.CassandraNode{Address: net.JoinHostPort(target, strconv.Itoa(port))}}
	var observers []*nodeAnswer
	for _, a := range answers {
		if a.view != nil {
			observers = append(observers, a)
		} else if a.host != target && a.err != nil {
			d.Problems = append(d.Problems, a.err.Error())
		}
	}
	sort.Slice(observers, func(i, j int) bool { return observers[i].view.Local.Address < observers[j].view.Local.Address })
	sort.Strings(d.Problems)
	self := answers[target]
	if self == nil || self.view == nil {
		msg := "no answer"
		if self != nil && self.err != nil {
			msg = self.err.Error()
		}
		d.Unreachable = msg
	} else if self.err != nil {
		d.Problems = append(d.Problems, self.err.Error())
	}

	// Identity, tokens and ring: the node's own word, else its peers'.
	var tokens []string
	var ringView *cassandra.NodeView
	if d.Unreachable == "" {
		l := self.view.Local
		d.Node.DC, d.Node.Rack, d.Node.Version, d.Node.HostID, d.Node.Up = l.DC, l.Rack, l.Version, l.HostID, true
		d.SchemaVersion, tokens, ringView = l.SchemaVersion, l.Tokens, self.view
	} else {
		for _, o := range observers {
			for _, p := range o.view.Peers {
				if p.Address == target {
					d.Node.DC, d.Node.Rack, d.Node.Version, d.Node.HostID = p.DC, p.Rack, p.Version, p.HostID
					d.SchemaVersion, tokens = p.SchemaVersion, p.Tokens
				}
			}
			if ringView == nil {
				ringView = o.view
			}
		}
	}
	d.Tokens = len(tokens)

	// The ring as each node that answered sees it.
	var versions []string
	statusVotes := map[string]int{}
	for _, o := range observers {
		obs := o.view.Local.Address
		versions = append(versions, o.view.Local.SchemaVersion)
		conn := map[string]bool{}
		for _, ob := range o.view.Outbound {
			conn[ob.Address] = ob.ActiveConnections > 0
		}
		gossip := map[string]cassandra.GossipRow{}
		for _, g := range o.view.Gossip {
			gossip[g.Address] = g
		}
		peers := []string{obs}
		for _, p := range o.view.Peers {
			peers = append(peers, p.Address)
		}
		sort.Strings(peers)
		for _, p := range peers {
			g := gossip[p]
			state, up := model.PeerState(obs, p, g.Status, conn[p])
			d.Peers = append(d.Peers, model.PeerView{Observer: obs, Peer: p, State: state, Up: up, Schema: g.Schema, LoadBytes: int64(g.Load)})
			if p == target {
				if g.Load > 0 && (obs == target || d.LoadBytes == 0) {
					d.LoadBytes = int64(g.Load)
				}
				if obs != target || len(observers) == 1 {
					statusVotes[state]++
				}
			}
		}
	}
	d.Status = vote(statusVotes)
	if len(observers) == 1 { // one node answered: compare with the versions it recorded of its peers
		for _, p := range observers[0].view.Peers {
			versions = append(versions, p.SchemaVersion)
		}
	}
	d.SchemaAgreed = model.SchemaAgreed(versions...)

	if ringView != nil {
		ring := ringFromView(ringView)
		d.OwnershipPercent = model.RingOwnership(ring)[target]
		if self != nil && self.sess != nil && d.Unreachable == "" {
			fillEffective(ctx, d, self.sess, ring, target)
		} else if len(observers) > 0 {
			fillEffective(ctx, d, observers[0].sess, ring, target)
		}
	}
	if d.Unreachable == "" {
		fillOwnTables(ctx, d, self.sess)
	}
	return d
}

// vote is the state most observers report ("" when none).
func vote(votes map[string]int) string {
	best, n := "", 0
	for s, c := range votes {
		if c > n || (c == n && s < best) {
			best, n = s, c
		}
	}
	return best
}

func ringFromView(v *cassandra.NodeView) []model.RingNode {
	ring := []model.RingNode{{Address: v.Local.Address, DC: v.Local.DC, Rack: v.Local.Rack, Up: true, Tokens: v.Local.Tokens}}
	for _, p := range v.Peers {
		ring = append(ring, model.RingNode{Address: p.Address, DC: p.DC, Rack: p.Rack, Tokens: p.Tokens})
	}
	return ring
}

// fillEffective sets the effective ownership for the user keyspace with the highest
// replication factor.
func fillEffective(ctx context.Context, d *model.CassandraNodeDetail, s *cassandra.NodeSession, ring []model.RingNode, target string) {
	cctx, cancel := context.WithTimeout(ctx, cassandraCall)
	defer cancel()
	repl, err := s.Replication(cctx)
	if err != nil {
		d.Problems = append(d.Problems, err.Error())
		return
	}
	bestRF := 0
	var names []string
	for name := range repl {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if name == "system" || strings.HasPrefix(name, "system_") {
			continue
		}
		opts := repl[name]
		ks := model.KeyspaceQuorum(ring, model.KeyspaceState{Name: name, Strategy: opts["class"]}, opts)
		if ks.ReplicationFactor > bestRF {
			if own := model.EffectiveOwnership(ring, opts["class"], opts); own != nil {
				bestRF, d.EffectiveKeyspace, d.EffectiveOwnershipPercent = ks.ReplicationFactor, name, own[target]
			}
		}
	}
}

// maxTables is how many of the busiest tables the detail lists.
const maxTables = 5

// fillOwnTables reads what only the node itself can say: its thread pools, compactions,
// latencies and clients.
func fillOwnTables(ctx context.Context, d *model.CassandraNodeDetail, s *cassandra.NodeSession) {
	cctx, cancel := context.WithTimeout(ctx, cassandraCall)
	defer cancel()
	problem := func(err error) { d.Problems = append(d.Problems, err.Error()) }
	if pools, err := s.ThreadPools(cctx); err != nil {
		problem(err)
	} else {
		for _, p := range pools {
			d.ThreadPools = append(d.ThreadPools, model.ThreadPool{Name: p.Name, Active: p.Active, Pending: p.Pending, Blocked: p.Blocked, AllTimeBlocked: p.AllTimeBlocked})
			if p.Name == "CompactionExecutor" {
				d.PendingCompactions = p.Pending
			}
		}
		model.SortThreadPools(d.ThreadPools)
	}
	if tasks, err := s.SSTableTasks(cctx); err != nil {
		problem(err)
	} else {
		for _, t := range tasks {
			c := model.Compaction{Keyspace: t.Keyspace, Table: t.Table, Kind: t.Kind}
			if t.Total > 0 {
				c.Percent = 100 * float64(t.Progress) / float64(t.Total)
			}
			d.Compactions = append(d.Compactions, c)
		}
	}
	reads, rerr := s.Latencies(cctx, false)
	writes, werr := s.Latencies(cctx, true)
	if rerr != nil {
		problem(rerr)
	}
	if werr != nil {
		problem(werr)
	}
	d.Tables, d.ReadLatencyP99, d.WriteLatencyP99 = tableLatencies(reads, writes)
	if conns, err := s.Clients(cctx); err != nil {
		problem(err)
	} else {
		d.Clients = groupClients(conns)
	}
}

// tableLatencies merges the read and write latencies of the user tables that served
// requests: the busiest first, and the worst p99 of each.
func tableLatencies(reads, writes []cassandra.TableLatency) ([]model.TableLatency, time.Duration, time.Duration) {
	type key struct{ ks, t string }
	byKey := map[key]*model.TableLatency{}
	user := func(ks string) bool { return ks != "system" && !strings.HasPrefix(ks, "system_") }
	// merge sets each user table's latency that served requests (set), and returns the worst p99.
	merge := func(ls []cassandra.TableLatency, set func(t *model.TableLatency, l cassandra.TableLatency)) (worst time.Duration) {
		for _, l := range ls {
			if l.Count == 0 || !user(l.Keyspace) {
				continue
			}
			k := key{l.Keyspace, l.Table}
			if byKey[k] == nil {
				byKey[k] = &model.TableLatency{Keyspace: l.Keyspace, Table: l.Table}
			}
			set(byKey[k], l)
			worst = max(worst, l.P99)
		}
		return worst
	}
	worstR := merge(reads, func(t *model.TableLatency, l cassandra.TableLatency) {
		t.ReadsPerSecond, t.ReadP99 = l.PerSecond, l.P99
	})
	worstW := merge(writes, func(t *model.TableLatency, l cassandra.TableLatency) { t.WritesPerSec, t.WriteP99 = l.PerSecond, l.P99 })
	out := make([]model.TableLatency, 0, len(byKey))
	for _, t := range byKey {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].ReadsPerSecond+out[i].WritesPerSec, out[j].ReadsPerSecond+out[j].WritesPerSec
		if a != b {
			return a > b
		}
		return out[i].Keyspace+"."+out[i].Table < out[j].Keyspace+"."+out[j].Table
	})
	if len(out) > maxTables {
		out = out[:maxTables]
	}
	return out, worstR, worstW
}

// groupClients folds connections from the same address, user and driver into one line.
func groupClients(conns []cassandra.ClientConn) []model.CassandraClient {
	type key struct{ addr, user, driver string }
	by := map[key]*model.CassandraClient{}
	var order []key
	for _, c := range conns {
		driver := c.Driver
		if c.DriverVersion != "" {
			driver += " " + c.DriverVersion
		}
		k := key{c.Address, c.User, driver}
		g := by[k]
		if g == nil {
			g = &model.CassandraClient{Address: c.Address, User: c.User, Driver: driver, SSL: true}
			by[k] = g
			order = append(order, k)
		}
		g.Connections++
		g.Requests += c.Requests
		g.SSL = g.SSL && c.SSL
	}
	out := make([]model.CassandraClient, 0, len(order))
	for _, k := range order {
		out = append(out, *by[k])
	}
	model.SortCassandraClients(out)
	return out
}
