package check

import (
	"fmt"
	"strings"
	"time"

	"github.com/apimctl/apimctl/ops/model"
)

func isSystemKeyspace(name string) bool { return strings.HasPrefix(name, "system") }

func (c *checker) cassandra() {
	cs := c.s.Cassandra
	if n := len(cs.Nodes); n < minCassandraNodes {
		addrs := make([]string, 0, n)
		for _, nd := range cs.Nodes {
			addrs = append(addrs, nd.Address)
		}
		c.add(ruleCassNodes, "cassandra ring", fmt.Sprintf("%d Cassandra node(s) known [%s]; the reference requires "+
			"3, one per availability zone, and the gateways' prechecks wait for three hosts", n, strings.Join(addrs, " ")),
			"add nodes until `nodetool status` shows 3 UN nodes, and list all of them in CASS_HOST of Secret "+
				c.ns+"/cassandra-credentials")
	}
	var down []string
	for _, nd := range cs.Nodes {
		if nd.Up {
			continue
		}
		down = append(down, nd.Address)
		c.add(ruleCassDown, "cassandra node "+nd.Address, fmt.Sprintf("node %s (dc %s, rack %s) is down; new gateway "+
			"pods' prechecks wait for three Cassandra hosts", nd.Address, nd.DC, nd.Rack),
			"on "+nd.Address+": `nodetool status` and the Cassandra system.log, then start it (systemctl start "+
				"cassandra); if it was down longer than max_hint_window (3 h) run `nodetool repair -full` on it once it is UN")
	}
	dcs := map[string]bool{}
	for _, nd := range cs.Nodes {
		dcs[nd.DC] = true
	}
	dc := "<dc>"
	if len(dcs) == 1 {
		for d := range dcs {
			dc = d
		}
	}
	for _, ks := range cs.Keyspaces {
		if isSystemKeyspace(ks.Name) {
			continue
		}
		subject := "keyspace " + ks.Name
		strategy := model.ShortStrategy(ks.Strategy)
		if strategy == "" {
			c.add(ruleCassStrategy, subject, fmt.Sprintf("keyspace %s uses %q; the reference uses SimpleStrategy "+
				"(or NetworkTopologyStrategy across DCs)", ks.Name, ks.Strategy),
				fmt.Sprintf("cqlsh -e \"ALTER KEYSPACE %s WITH replication = {'class': 'SimpleStrategy', "+
					"'replication_factor': 3}\" then `nodetool repair -full %s` on each node", ks.Name, ks.Name))
		}
		if ks.ReplicationFactor < minReplication {
			repl := fmt.Sprintf("{'class': 'SimpleStrategy', 'replication_factor': %d}", minReplication)
			if strategy == model.StrategyNetworkTopology {
				repl = fmt.Sprintf("{'class': 'NetworkTopologyStrategy', '%s': %d}", dc, minReplication)
			}
			c.add(ruleCassRF, subject, fmt.Sprintf("keyspace %s has replication factor %d (%s); %s, so one node "+
				"down already breaks QUORUM", ks.Name, ks.ReplicationFactor, ks.Strategy, replicationDocsHint),
				fmt.Sprintf("cqlsh -e \"ALTER KEYSPACE %s WITH replication = %s\" then `nodetool repair -full %s` "+
					"on each node", ks.Name, repl, ks.Name))
		}
		if ks.Quorum > 0 && !ks.QuorumReachable {
			fix := "bring the down Cassandra nodes back up"
			if len(down) > 0 {
				fix += " (" + strings.Join(down, ", ") + ")"
			}
			fix += "; `nodetool status " + ks.Name + "` shows which replicas own the ranges"
			c.add(ruleCassQuorum, subject, fmt.Sprintf("QUORUM needs %d of %d replicas but only %d are up for some "+
				"token range of %s: gateway reads and writes at QUORUM fail", ks.Quorum, ks.ReplicationFactor,
				ks.ReplicasUp, ks.Name), fix)
		}
	}
	if cs.SchemaVersions > 1 {
		c.add(ruleCassSchema, "cassandra ring", fmt.Sprintf("up nodes report %d different schema versions",
			cs.SchemaVersions), "`nodetool describecluster` shows which nodes disagree; run `nodetool "+
			"resetlocalschema` on them (or restart them) until a single version remains")
	}
}

func (c *checker) mysql() {
	m := c.s.MySQL
	src := c.s.Source(model.SourceMySQL)
	if !m.Reachable {
		msg := "the metrics database does not answer; ANM cannot store transaction events and new ANM and gateway " +
			"pods' prechecks wait for it"
		if src.Error != "" {
			msg += ": " + src.Error
		}
		if src.Endpoint != "" {
			msg = src.Endpoint + ": " + msg
		}
		c.add(ruleSQLReachable, "mysql", msg, "check the server (systemctl status mysql, or the Azure Database "+
			"for MySQL portal), then METRICS_DB_URL in Secret "+c.ns+"/metrics-db-credentials; from the bastion: "+
			"mysql -h <host> -u <user> -p -e 'SELECT 1'")
		return
	}
	if !m.TLS {
		c.add(ruleSQLTLS, "mysql", "connections to the metrics database are not encrypted (the reference "+
			"recommends activating TLS)", "enable TLS on the server (require_secure_transport=ON) and add "+
			"useSSL=true&requireSSL=true to METRICS_DB_URL in Secret "+c.ns+"/metrics-db-credentials")
	}
	if m.MaxConnections > 0 && m.ThreadsConnected*100 > connectionsPercent*m.MaxConnections {
		c.add(ruleSQLConns, "mysql", fmt.Sprintf("%d of max_connections %d in use (%d %%, above %d %%)",
			m.ThreadsConnected, m.MaxConnections, m.ThreadsConnected*100/m.MaxConnections, connectionsPercent),
			"find the clients: mysql -e 'SELECT user, host, COUNT(*) FROM information_schema.processlist GROUP BY 1,2'; "+
				"then raise max_connections (SET PERSIST max_connections = N) or reduce the gateways' pool size")
	}
	if r := m.Replica; r != nil {
		if !r.IORunning || !r.SQLRunning {
			msg := fmt.Sprintf("replication stopped: IO thread running %t, SQL thread running %t", r.IORunning, r.SQLRunning)
			if r.LastError != "" {
				msg += "; last error: " + r.LastError
			}
			c.add(ruleSQLReplStop, "mysql replica", msg, "mysql -e 'SHOW REPLICA STATUS\\G' for the error; fix its "+
				"cause, then START REPLICA; if the replica diverged, rebuild it from a fresh dump of the primary")
		} else if r.LagSeconds != nil && time.Duration(*r.LagSeconds)*time.Second > maxReplicaLag {
			c.add(ruleSQLReplLag, "mysql replica", fmt.Sprintf("replica is %d s behind the primary (limit %s)",
				*r.LagSeconds, maxReplicaLag), "mysql -e 'SHOW REPLICA STATUS\\G' (Seconds_Behind_Source, "+
				"Relay_Log_Space); check the replica's disk and CPU, and long transactions on the primary")
		}
	}
}
