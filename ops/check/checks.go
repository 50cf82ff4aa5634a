package check

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/apimctl/apimctl/ops/model"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Rule is one check of the reference architecture: a stable ID, the severity of its findings
// and what it verifies.
type Rule struct {
	ID       string         `json:"id"`
	Severity model.Severity `json:"severity"`
	Title    string         `json:"title"`
}

// The rules. Each ID has one severity: where the reference asks for a different severity in
// a different situation (anti-affinity for traffic vs. other roles, TLS unset vs. too old),
// the situations are separate rules.
var (
	ruleKubeSource    = Rule{"SRC-001", model.SeverityError, "Kubernetes API answers"}
	ruleDataSource    = Rule{"SRC-002", model.SeverityError, "Cassandra and the metrics database answer"}
	rulePromSource    = Rule{"SRC-005", model.SeverityWarning, "Prometheus answers"}
	ruleStaleSource   = Rule{"SRC-003", model.SeverityWarning, "Every source's data is fresh"}
	ruleUnsynced      = Rule{"SRC-004", model.SeverityInfo, "Every source has delivered data"}
	ruleCassNodes     = Rule{"CASS-001", model.SeverityError, "At least 3 Cassandra nodes are known"}
	ruleCassDown      = Rule{"CASS-002", model.SeverityError, "Every Cassandra node is up"}
	ruleCassRF        = Rule{"CASS-003", model.SeverityWarning, "Every keyspace has replication factor 3 or more"}
	ruleCassStrategy  = Rule{"CASS-004", model.SeverityWarning, "Every keyspace uses SimpleStrategy or NetworkTopologyStrategy"}
	ruleCassQuorum    = Rule{"CASS-005", model.SeverityError, "QUORUM is reachable for every keyspace"}
	ruleCassSchema    = Rule{"CASS-006", model.SeverityWarning, "Cassandra nodes agree on the schema"}
	ruleSQLReachable  = Rule{"SQL-001", model.SeverityError, "The metrics database is reachable"}
	ruleSQLTLS        = Rule{"SQL-002", model.SeverityWarning, "Connections to the metrics database use TLS"}
	ruleSQLConns      = Rule{"SQL-003", model.SeverityWarning, "Metrics database connections stay under 80 % of max_connections"}
	ruleSQLReplStop   = Rule{"SQL-004", model.SeverityError, "Replication threads of a replica metrics database run"}
	ruleSQLReplLag    = Rule{"SQL-005", model.SeverityWarning, "A replica metrics database lags less than 60 s"}
	ruleANMMissing    = Rule{"ANM-001", model.SeverityError, "An Admin Node Manager workload exists"}
	ruleANMReady      = Rule{"ANM-002", model.SeverityError, "At least one Admin Node Manager pod is ready"}
	ruleTrafficNone   = Rule{"TRF-001", model.SeverityError, "Every gateway group has traffic gateways"}
	ruleTrafficSpec   = Rule{"TRF-002", model.SeverityWarning, "Traffic gateways ask for 3 replicas or more"}
	ruleTrafficReady  = Rule{"TRF-003", model.SeverityError, "At least 3 traffic gateway pods are ready"}
	ruleHPAMissing    = Rule{"HPA-001", model.SeverityWarning, "An HPA scales every group's traffic gateways"}
	ruleHPATarget     = Rule{"HPA-002", model.SeverityWarning, "The HPA targets 75 % average CPU utilisation"}
	ruleHPAMin        = Rule{"HPA-003", model.SeverityWarning, "The HPA keeps at least 3 replicas"}
	ruleHPAMetrics    = Rule{"HPA-004", model.SeverityWarning, "The HPA can read its metrics (ScalingActive)"}
	ruleHPAAble       = Rule{"HPA-005", model.SeverityError, "The HPA is able to scale (AbleToScale)"}
	ruleHPAAtMax      = Rule{"HPA-006", model.SeverityWarning, "The HPA has headroom below maxReplicas"}
	ruleResources     = Rule{"WKL-001", model.SeverityWarning, "CPU and memory requests and limits are set"}
	ruleReadiness     = Rule{"WKL-002", model.SeverityError, "A readiness probe is set"}
	ruleLiveness      = Rule{"WKL-003", model.SeverityWarning, "A liveness probe is set"}
	ruleAntiHostTraf  = Rule{"WKL-004", model.SeverityError, "Traffic gateways spread over nodes (pod anti-affinity on kubernetes.io/hostname)"}
	ruleAntiHostOther = Rule{"WKL-005", model.SeverityWarning, "Replicated APIM workloads spread over nodes (pod anti-affinity on kubernetes.io/hostname)"}
	ruleAntiZone      = Rule{"WKL-006", model.SeverityInfo, "Traffic gateways prefer spreading over zones"}
	ruleSpreadNodes   = Rule{"WKL-007", model.SeverityWarning, "Pods of a replicated workload run on 2 nodes or more"}
	ruleSpreadZones   = Rule{"WKL-008", model.SeverityWarning, "Pods of a replicated workload run in 2 zones or more"}
	rulePoolPin       = Rule{"WKL-009", model.SeverityWarning, "APIM workloads are pinned to their node pool (agentpool)"}
	rulePoolNone      = Rule{"WKL-010", model.SeverityInfo, "Nodes carry an agentpool label to pin APIM workloads to"}
	ruleStrategy      = Rule{"WKL-011", model.SeverityWarning, "Rolling updates use maxSurge 1 and maxUnavailable 0"}
	ruleSurgeRoom     = Rule{"WKL-012", model.SeverityWarning, "A node has room for the rolling update's extra traffic pod"}
	rulePodsNotReady  = Rule{"WKL-013", model.SeverityWarning, "All pods are ready"}
	ruleRestarts      = Rule{"WKL-014", model.SeverityWarning, "Pods restart fewer than 5 times"}
	rulePodsFailing   = Rule{"WKL-015", model.SeverityError, "No pod is crash-looping or failing to pull its image"}
	rulePaused        = Rule{"WKL-016", model.SeverityInfo, "No rollout is paused"}
	ruleStuck         = Rule{"WKL-017", model.SeverityError, "No rollout exceeded its progress deadline"}
	ruleNodeReady     = Rule{"NODE-001", model.SeverityWarning, "Nodes of the APIM pool are Ready"}
	ruleIngTLS        = Rule{"ING-001", model.SeverityError, "Every Ingress host is covered by TLS"}
	ruleIngTLSUnset   = Rule{"ING-002", model.SeverityWarning, "The Ingress states its minimum TLS version"}
	ruleIngTLSOld     = Rule{"ING-003", model.SeverityError, "The Ingress allows no protocol below TLSv1.2"}
	ruleIngHosts      = Rule{"ING-004", model.SeverityInfo, "The anm., api-manager. and api. hosts are exposed"}
	ruleIngMissing    = Rule{"ING-005", model.SeverityWarning, "An Ingress exposes the deployment"}
	ruleNoTraffic     = Rule{"PROM-001", model.SeverityInfo, "Prometheus has traffic data for the gateways"}
)

var allRules = []Rule{
	ruleKubeSource, ruleDataSource, rulePromSource, ruleStaleSource, ruleUnsynced,
	ruleCassNodes, ruleCassDown, ruleCassRF, ruleCassStrategy, ruleCassQuorum, ruleCassSchema,
	ruleSQLReachable, ruleSQLTLS, ruleSQLConns, ruleSQLReplStop, ruleSQLReplLag,
	ruleANMMissing, ruleANMReady,
	ruleTrafficNone, ruleTrafficSpec, ruleTrafficReady,
	ruleHPAMissing, ruleHPATarget, ruleHPAMin, ruleHPAMetrics, ruleHPAAble, ruleHPAAtMax,
	ruleResources, ruleReadiness, ruleLiveness, ruleAntiHostTraf, ruleAntiHostOther, ruleAntiZone,
	ruleSpreadNodes, ruleSpreadZones, rulePoolPin, rulePoolNone, ruleStrategy, ruleSurgeRoom,
	rulePodsNotReady, ruleRestarts, rulePodsFailing, rulePaused, ruleStuck,
	ruleNodeReady,
	ruleIngTLS, ruleIngTLSUnset, ruleIngTLSOld, ruleIngHosts, ruleIngMissing,
	ruleNoTraffic,
}

// Thresholds of the reference architecture.
const (
	minCassandraNodes   = 3
	minReplication      = 3
	minTrafficReplicas  = 3
	hpaCPUTarget        = 75
	connectionsPercent  = 80
	maxReplicaLag       = 60 * time.Second
	restartThreshold    = 5
	startingGrace       = 2 * time.Minute // a pod this young and not ready is still starting
	referencePool       = "apimpool"
	referenceMinTLS     = "TLSv1.2"
	replicationDocsHint = "the reference: initial replication 3, QUORUM reads and writes"
)

// Rules lists every rule's ID, severity and title, sorted by ID.
func Rules() []Rule {
	out := append([]Rule(nil), allRules...)
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out
}

// Check evaluates the reference architecture's rules against s, most severe first (then by
// ID and subject). Data of a source that never synced is not judged: its absence is a
// source finding, not "0 nodes".
func Check(s model.Snapshot) []model.Finding {
	c := &checker{s: s, ns: s.Namespace}
	if c.ns == "" {
		c.ns = "apim"
	}
	c.sources()
	if c.synced(model.SourceKube) {
		c.anm()
		c.groups()
		for _, w := range c.apimWorkloads() {
			c.workload(w)
		}
		c.poolLabels()
		c.nodes()
		c.ingress()
	}
	if c.synced(model.SourceCassandra) {
		c.cassandra()
	}
	// A database the console cannot reach at all is an outage even if it never answered.
	if c.synced(model.SourceMySQL) || c.s.Source(model.SourceMySQL).Error != "" {
		c.mysql()
	}
	if c.synced(model.SourcePrometheus) && s.Traffic.NoData {
		c.add(ruleNoTraffic, "prometheus", "Prometheus answers but has no gateway traffic series yet",
			"send a request through api.<domain>, and check that Prometheus scrapes the gateway pods' "+
				"prometheus.io/port 8085 /metrics (Prometheus UI → Status → Targets)")
	}
	sortFindings(c.out)
	return c.out
}

func sortFindings(f []model.Finding) {
	sort.SliceStable(f, func(a, b int) bool {
		if ra, rb := f[a].Severity.Rank(), f[b].Severity.Rank(); ra != rb {
			return ra > rb
		}
		if f[a].ID != f[b].ID {
			return f[a].ID < f[b].ID
		}
		if f[a].Subject != f[b].Subject {
			return f[a].Subject < f[b].Subject
		}
		return f[a].Message < f[b].Message
	})
}

type checker struct {
	s   model.Snapshot
	ns  string
	out []model.Finding
	// suppressed sources are reported by a more specific finding (SQL-001).
	suppressed map[string]bool
}

func (c *checker) add(r Rule, subject, message, fix string) {
	c.out = append(c.out, model.Finding{ID: r.ID, Severity: r.Severity, Subject: subject, Message: message, Fix: fix})
}

func (c *checker) kubectl(format string, a ...any) string {
	return "kubectl -n " + c.ns + " " + fmt.Sprintf(format, a...)
}

func (c *checker) synced(name string) bool { return c.s.Source(name).Synced }

// ---- sources ----

func (c *checker) sources() {
	present := map[string]bool{}
	for _, src := range c.s.Sources {
		present[src.Name] = true
	}
	mysqlDown := !c.s.MySQL.Reachable
	for _, name := range []string{model.SourceKube, model.SourceCassandra, model.SourceMySQL, model.SourcePrometheus} {
		src := c.s.Source(name)
		subject := "source " + name
		where := name
		if src.Endpoint != "" {
			where += " (" + src.Endpoint + ")"
		}
		last := "never"
		if !src.LastSuccess.IsZero() {
			last = c.s.Taken.Sub(src.LastSuccess).Round(time.Second).String() + " ago"
		}
		switch {
		case src.Error != "" && name == model.SourceMySQL && mysqlDown:
			// SQL-001 says it, with the error.
		case src.Error != "" && name == model.SourceKube:
			c.add(ruleKubeSource, subject, fmt.Sprintf("%s fails: %s (last success %s); topology, pods and ingress "+
				"shown are from then", where, src.Error, last), sourceFix(name, c.ns))
		case src.Error != "" && name == model.SourcePrometheus:
			c.add(rulePromSource, subject, fmt.Sprintf("%s fails: %s (last success %s)", where, src.Error, last),
				sourceFix(name, c.ns))
		case src.Error != "":
			c.add(ruleDataSource, subject, fmt.Sprintf("%s fails: %s (last success %s)", where, src.Error, last),
				sourceFix(name, c.ns))
		case src.Stale:
			c.add(ruleStaleSource, subject, fmt.Sprintf("%s data is stale: last success %s", where, last),
				sourceFix(name, c.ns))
		case !src.Synced:
			msg := where + " has not delivered data yet: its checks are skipped"
			if !present[name] {
				msg = name + " is not observed: its checks are skipped"
			}
			c.add(ruleUnsynced, subject, msg, sourceFix(name, c.ns))
		}
	}
}

func sourceFix(name, ns string) string {
	switch name {
	case model.SourceKube:
		return "check the kubeconfig and context: kubectl -n " + ns + " get deploy,pods; `apimctl status` shows what fails"
	case model.SourceCassandra:
		return "check CASS_HOST/CASS_PORT/CASS_USERNAME in Secret " + ns + "/cassandra-credentials and that port 9042 " +
			"answers from the bastion: cqlsh <host> 9042 -u <user>"
	case model.SourceMySQL:
		return "check METRICS_DB_URL/METRICS_DB_USERNAME in Secret " + ns + "/metrics-db-credentials and that port " +
			"3306 answers from the bastion: mysql -h <host> -u <user> -p"
	default:
		return "check PROMETHEUS_URL (or --prometheus-url) and that curl <url>/api/v1/query?query=up answers"
	}
}

// ---- Cassandra ----

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

// ---- MySQL ----

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

// ---- Admin Node Manager, groups, HPA ----

func (c *checker) anm() {
	t := c.s.Topology
	if len(t.ANM) == 0 {
		c.add(ruleANMMissing, "namespace "+c.ns, "no Admin Node Manager workload found (no Deployment labelled "+
			model.LabelRole+"=anm, app.kubernetes.io/component=anm, or named *-anm); gateways' prechecks wait for ANM",
			"deploy it: kubectl apply -k deploy/base (anm.yaml), or label the existing one: "+
				c.kubectl("label deployment <name> %s=anm", model.LabelRole))
		return
	}
	var ready int32
	var names, reasons []string
	for _, w := range t.ANM {
		ready += w.Ready
		names = append(names, kindName(w))
		reasons = append(reasons, podProblems(w.Pods)...)
	}
	if ready == 0 {
		msg := fmt.Sprintf("%s: 0 pods ready; new gateway pods wait for ANM in their prechecks", strings.Join(names, ", "))
		if len(reasons) > 0 {
			msg += " (" + strings.Join(reasons, ", ") + ")"
		}
		c.add(ruleANMReady, names[0], msg, c.kubectl("describe %s", names[0])+" and "+
			c.kubectl("logs %s --tail=100", names[0])+"; ANM needs the metrics database (SQL-001)")
	}
}

func (c *checker) groups() {
	groups := c.s.Topology.Groups
	if len(groups) == 0 {
		c.add(ruleTrafficNone, "namespace "+c.ns, "no API gateway group found: no Deployment labelled "+model.LabelRole+
			"=traffic (or app.kubernetes.io/component=apitraffic, or named *traffic*)",
			"deploy the traffic gateways: kubectl apply -k deploy/base (traffic.yaml), or label yours: "+
				c.kubectl("label deployment <name> %s=traffic %s=<group>", model.LabelRole, model.LabelGroup))
		return
	}
	for _, g := range groups {
		if len(g.Traffic) == 0 {
			c.add(ruleTrafficNone, "group "+g.Name, fmt.Sprintf("group %s has an API Manager but no traffic gateways",
				g.Name), "deploy the group's traffic Deployment from the group image, labelled "+model.LabelRole+"=traffic "+
				model.LabelGroup+"="+g.Name)
			continue
		}
		for _, w := range g.Traffic {
			c.trafficReplicas(g, w)
		}
		c.hpa(g)
	}
}

func (c *checker) trafficReplicas(g model.GatewayGroup, w model.Workload) {
	subject := kindName(w)
	scaleFix := c.kubectl("scale %s --replicas=%d", subject, minTrafficReplicas)
	switch h := g.HPA; {
	case h != nil && h.Min < minTrafficReplicas:
		scaleFix = c.kubectl("patch hpa %s -p '{\"spec\":{\"minReplicas\":%d}}'", h.Name, minTrafficReplicas) +
			", then " + scaleFix
	case h != nil:
		scaleFix += " (hpa/" + h.Name + " restores minReplicas by itself only while it can read metrics: see HPA-004)"
	}
	if w.Desired < minTrafficReplicas {
		c.add(ruleTrafficSpec, subject, fmt.Sprintf("%s asks for %d replica(s); the reference runs at least %d "+
			"traffic gateways", subject, w.Desired, minTrafficReplicas), scaleFix)
	}
	if w.Ready < minTrafficReplicas {
		msg := fmt.Sprintf("%s has %d ready of %d desired; at least %d must serve traffic", subject, w.Ready,
			w.Desired, minTrafficReplicas)
		if p := podProblems(w.Pods); len(p) > 0 {
			msg += " (" + strings.Join(p, ", ") + ")"
		}
		fix := scaleFix
		if w.Desired >= minTrafficReplicas {
			fix = c.kubectl("get pods -l app=%s -o wide", w.Name) + " and " + c.kubectl("describe %s", subject) +
				" to see why pods are not ready"
		}
		c.add(ruleTrafficReady, subject, msg, fix)
	}
}

func (c *checker) hpa(g model.GatewayGroup) {
	target := g.Traffic[0]
	h := g.HPA
	if h == nil {
		c.add(ruleHPAMissing, kindName(target), fmt.Sprintf("no HorizontalPodAutoscaler targets %s (group %s)",
			kindName(target), g.Name), c.kubectl("autoscale deployment %s --cpu-percent=%d --min=%d --max=12",
			target.Name, hpaCPUTarget, minTrafficReplicas)+" (or apply deploy/base/hpa.yaml)")
		return
	}
	subject := "hpa/" + h.Name
	if h.CPUTargetPercent != hpaCPUTarget {
		now := "no CPU utilisation target"
		if h.CPUTargetPercent > 0 {
			now = fmt.Sprintf("a CPU target of %d %%", h.CPUTargetPercent)
		}
		c.add(ruleHPATarget, subject, fmt.Sprintf("%s has %s; the reference starts at %d %% average CPU utilisation",
			subject, now, hpaCPUTarget), c.kubectl("patch hpa %s --type=json -p '[{\"op\":\"replace\",\"path\":"+
			"\"/spec/metrics\",\"value\":[{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\",\"target\":"+
			"{\"type\":\"Utilization\",\"averageUtilization\":%d}}}]}]'", h.Name, hpaCPUTarget))
	}
	if h.Min < minTrafficReplicas {
		c.add(ruleHPAMin, subject, fmt.Sprintf("%s minReplicas is %d; the reference keeps at least %d traffic gateways",
			subject, h.Min, minTrafficReplicas),
			c.kubectl("patch hpa %s -p '{\"spec\":{\"minReplicas\":%d}}'", h.Name, minTrafficReplicas))
	}
	for _, cond := range h.Conditions {
		if cond.Status != "False" {
			continue
		}
		switch cond.Type {
		case "ScalingActive":
			c.add(ruleHPAMetrics, subject, fmt.Sprintf("%s cannot scale on metrics (%s): %s; replicas stay at %d",
				subject, cond.Reason, cond.Message, h.Current), "check the metrics API: kubectl get apiservice "+
				"v1beta1.metrics.k8s.io and kubectl top pods -n "+c.ns+"; the traffic containers need a CPU request")
		case "AbleToScale":
			c.add(ruleHPAAble, subject, fmt.Sprintf("%s is not able to scale (%s): %s", subject, cond.Reason,
				cond.Message), c.kubectl("describe hpa %s", h.Name)+"; check that "+kindName(target)+
				" exists and its scale subresource answers: "+c.kubectl("get --raw /apis/apps/v1/namespaces/%s/"+
				"deployments/%s/scale", c.ns, target.Name))
		}
	}
	if h.Max > 0 && h.Current >= h.Max {
		c.add(ruleHPAAtMax, subject, fmt.Sprintf("%s runs %d replicas, its maximum (%d): no headroom left for more "+
			"traffic", subject, h.Current, h.Max), c.kubectl("patch hpa %s -p '{\"spec\":{\"maxReplicas\":%d}}'",
			h.Name, h.Max+3)+" (check that the node pool autoscaler can add nodes for them)")
	}
}

// ---- workloads ----

func (c *checker) apimWorkloads() []model.Workload {
	t := c.s.Topology
	out := append([]model.Workload(nil), t.ANM...)
	for _, g := range t.Groups {
		out = append(out, g.APIManager...)
		out = append(out, g.Traffic...)
	}
	return out
}

func kindName(w model.Workload) string { return strings.ToLower(w.Kind) + "/" + w.Name }

func (c *checker) workload(w model.Workload) {
	subject := kindName(w)
	container := "containers[0]"

	var missing []string
	for _, m := range []struct{ name, v string }{
		{"cpu request", w.CPURequest}, {"memory request", w.MemoryRequest},
		{"cpu limit", w.CPULimit}, {"memory limit", w.MemoryLimit},
	} {
		if m.v == "" {
			missing = append(missing, m.name)
		}
	}
	if len(missing) > 0 {
		c.add(ruleResources, subject, fmt.Sprintf("%s has no %s (requests cpu=%q memory=%q, limits cpu=%q memory=%q); "+
			"a JVM without limits can starve the node, and the HPA needs the CPU request", subject,
			strings.Join(missing, ", "), w.CPURequest, w.MemoryRequest, w.CPULimit, w.MemoryLimit),
			c.kubectl("set resources %s --requests=cpu=500m,memory=512Mi --limits=cpu=2,memory=2Gi", subject)+" (reference: 2 CPU / 2 GiB limits; size -Xmx below the memory limit)")
	}
	if !w.ReadinessProbe {
		c.add(ruleReadiness, subject, fmt.Sprintf("%s has no readinessProbe: pods get traffic before they can serve "+
			"it and rollouts cannot tell a bad image (the reference requires probes)", subject),
			"set spec.template.spec."+container+".readinessProbe, e.g. httpGet path /healthcheck on the traffic/UI port "+
				"(see deploy/base/traffic.yaml)")
	}
	if !w.LivenessProbe {
		c.add(ruleLiveness, subject, fmt.Sprintf("%s has no livenessProbe: a hung JVM is never restarted (the "+
			"reference requires probes)", subject), "set spec.template.spec."+container+".livenessProbe, e.g. "+
			"httpGet path /healthcheck/live on the admin port (see deploy/base/traffic.yaml)")
	}
	antiFix := "add spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution " +
		"with topologyKey kubernetes.io/hostname and a labelSelector matching app=" + w.Name + " (see deploy/base/traffic.yaml)"
	if !w.AntiAffinityHost {
		if w.Role == model.RoleTraffic {
			c.add(ruleAntiHostTraf, subject, fmt.Sprintf("%s has no pod anti-affinity on kubernetes.io/hostname: "+
				"replicas may all land on one node, which then takes the group down (reference: Required)", subject), antiFix)
		} else if w.Desired >= 2 {
			c.add(ruleAntiHostOther, subject, fmt.Sprintf("%s runs %d replicas without pod anti-affinity on "+
				"kubernetes.io/hostname: they may share a node", subject, w.Desired), antiFix)
		}
	}
	if w.Role == model.RoleTraffic && !w.AntiAffinityZone {
		c.add(ruleAntiZone, subject, fmt.Sprintf("%s does not prefer spreading over zones "+
			"(topology.kubernetes.io/zone); the reference spreads over three availability zones", subject),
			"add a preferred podAntiAffinity term (weight 50) with topologyKey topology.kubernetes.io/zone, as in "+
				"deploy/base/traffic.yaml")
	}
	c.spread(w, subject)
	c.pool(w, subject)
	if w.Kind == "Deployment" && (w.Strategy != "RollingUpdate" || w.MaxSurge != "1" || !isZero(w.MaxUnavailable)) {
		c.add(ruleStrategy, subject, fmt.Sprintf("%s rolls with strategy %s maxSurge %q maxUnavailable %q; the "+
			"reference uses RollingUpdate with maxSurge 1 and maxUnavailable 0 so capacity never drops", subject,
			w.Strategy, w.MaxSurge, w.MaxUnavailable), c.kubectl("patch %s -p '{\"spec\":{\"strategy\":{\"type\":"+
			"\"RollingUpdate\",\"rollingUpdate\":{\"maxSurge\":1,\"maxUnavailable\":0}}}}'", subject))
	}
	if w.Role == model.RoleTraffic {
		c.surgeRoom(w, subject)
	}
	c.pods(w, subject)
	if w.Paused {
		c.add(rulePaused, subject, fmt.Sprintf("the rollout of %s is paused at revision %s (%d of %d updated)",
			subject, w.Revision, w.Updated, w.Desired), c.kubectl("rollout resume %s", subject)+
			" (or apimctl rollout resume)")
	}
	for _, cond := range w.Conditions {
		if cond.Type == "Progressing" && cond.Status == "False" && cond.Reason == "ProgressDeadlineExceeded" {
			c.add(ruleStuck, subject, fmt.Sprintf("the rollout of %s exceeded its progress deadline: %s", subject,
				cond.Message), c.kubectl("rollout status %s", subject)+" shows what waits; roll back with "+
				c.kubectl("rollout undo %s", subject)+" if the new pods cannot become ready")
		}
	}
}

func isZero(v string) bool { return v == "0" || v == "0%" }

// spread warns when the running pods of a replicated workload share one node or one zone.
func (c *checker) spread(w model.Workload, subject string) {
	nodes, zones := map[string]bool{}, map[string]bool{}
	running, zoned := 0, 0
	for _, p := range w.Pods {
		if p.Terminating || p.Node == "" || p.Phase != "Running" {
			continue
		}
		running++
		nodes[p.Node] = true
		if p.Zone != "" {
			zoned++
			zones[p.Zone] = true
		}
	}
	if running >= 2 && len(nodes) == 1 {
		var node string
		for n := range nodes {
			node = n
		}
		c.add(ruleSpreadNodes, subject, fmt.Sprintf("all %d running pods of %s are on node %s: losing it stops the "+
			"workload", running, subject, node), "make sure the pool has at least as many Ready nodes as replicas and "+
			"that anti-affinity on kubernetes.io/hostname is set; then "+c.kubectl("rollout restart %s", subject))
	}
	if zoned >= 2 && len(zones) == 1 {
		clusterZones := map[string]bool{}
		for _, n := range c.s.Nodes {
			if n.Ready && n.Zone != "" && (w.NodePool == "" || n.Pool == w.NodePool) {
				clusterZones[n.Zone] = true
			}
		}
		var zone string
		for z := range zones {
			zone = z
		}
		fix := "add a preferred podAntiAffinity term on topology.kubernetes.io/zone, then " +
			c.kubectl("rollout restart %s", subject)
		if len(clusterZones) < 2 {
			fix = "the pool's Ready nodes are all in zone " + zone + ": spread the node pool over 3 availability zones " +
				"(reference), then " + c.kubectl("rollout restart %s", subject)
		}
		c.add(ruleSpreadZones, subject, fmt.Sprintf("all %d running pods of %s are in zone %s: a zone outage stops "+
			"the workload", zoned, subject, zone), fix)
	}
}

func (c *checker) pool(w model.Workload, subject string) {
	if w.NodePool != "" || !c.poolsLabelled() {
		return
	}
	pool := referencePool
	if !c.poolExists(pool) {
		pool = "<pool>"
	}
	c.add(rulePoolPin, subject, fmt.Sprintf("%s is not pinned to a node pool: its pods may land on infrastructure "+
		"nodes (reference: APIM components on %s)", subject, referencePool),
		"add spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution with "+
			"matchExpressions key agentpool operator In values ["+pool+"] (see deploy/base/traffic.yaml)")
}

func (c *checker) poolsLabelled() bool {
	for _, n := range c.s.Nodes {
		if n.Pool != "" {
			return true
		}
	}
	return false
}

func (c *checker) poolExists(pool string) bool {
	for _, n := range c.s.Nodes {
		if n.Pool == pool {
			return true
		}
	}
	return false
}

// poolLabels reports once that no node carries a pool label (nothing to pin to).
func (c *checker) poolLabels() {
	if len(c.s.Nodes) == 0 || c.poolsLabelled() {
		return
	}
	c.add(rulePoolNone, "nodes", fmt.Sprintf("none of the %d nodes has an agentpool label, so APIM workloads cannot "+
		"be kept off infrastructure nodes", len(c.s.Nodes)), "label the APIM nodes: kubectl label node <node> "+
		"agentpool="+referencePool+" (AKS sets it per node pool)")
}

// surgeRoom warns when no Ready node of the workload's pool can take one more pod of it:
// with maxUnavailable 0 a rolling update then waits for a node.
func (c *checker) surgeRoom(w model.Workload, subject string) {
	if len(c.s.Nodes) == 0 {
		return // nodes not visible (RBAC): nothing to judge
	}
	cpu, cerr := parseMillis(w.CPURequest)
	mem, merr := parseBytes(w.MemoryRequest)
	if cerr != nil || merr != nil || (cpu == 0 && mem == 0) {
		return
	}
	var best string
	var bestCPU, bestMem int64 = -1, -1
	candidates := 0
	for _, n := range c.s.Nodes {
		if !n.Ready || (w.NodePool != "" && n.Pool != w.NodePool) {
			continue
		}
		candidates++
		freeCPU, freeMem := n.CPUAllocatable-n.CPURequested, n.MemoryAllocatable-n.MemoryRequested
		if freeCPU >= cpu && freeMem >= mem {
			return
		}
		if freeCPU > bestCPU {
			best, bestCPU, bestMem = n.Name, freeCPU, freeMem
		}
	}
	where := "any Ready node"
	if w.NodePool != "" {
		where = "Ready nodes of pool " + w.NodePool
	}
	msg := fmt.Sprintf("no room for one more %s pod (requests cpu %s, memory %s) on %s", subject, w.CPURequest,
		w.MemoryRequest, where)
	if candidates == 0 {
		msg = fmt.Sprintf("%s: there are no %s", msg, where)
	} else {
		msg += fmt.Sprintf(" (most free: %s with %dm cpu, %s memory)", best, bestCPU, formatBytes(bestMem))
	}
	msg += ": a rolling update will wait for a node"
	c.add(ruleSurgeRoom, subject, msg, "let the cluster autoscaler add a node to the pool (az aks nodepool update "+
		"--enable-cluster-autoscaler --max-count N), add one by hand, or free requests on the pool's nodes; "+
		"kubectl describe nodes shows Allocated resources")
}

func parseMillis(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return 0, err
	}
	return q.MilliValue(), nil
}

func parseBytes(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return 0, err
	}
	return q.Value(), nil
}

func formatBytes(b int64) string {
	return resource.NewQuantity(b, resource.BinarySI).String()
}

// failingReasons are waiting reasons that will not resolve by themselves.
var failingReasons = map[string]bool{
	"CrashLoopBackOff": true, "ImagePullBackOff": true, "ErrImagePull": true, "InvalidImageName": true,
	"CreateContainerConfigError": true, "CreateContainerError": true, "RunContainerError": true,
	"Init:CrashLoopBackOff": true, "Init:ImagePullBackOff": true, "Init:ErrImagePull": true,
}

func (c *checker) pods(w model.Workload, subject string) {
	var failing, notReady, restarting []string
	for _, p := range w.Pods {
		if p.Terminating {
			continue
		}
		switch {
		case failingReasons[p.Reason]:
			failing = append(failing, p.Name+" "+p.Reason)
		case !p.Ready && p.Phase != "Succeeded":
			starting := p.Reason == "" || p.Reason == "ContainerCreating" || p.Reason == "PodInitializing"
			if starting && !p.Created.IsZero() && c.s.Taken.Sub(p.Created) < startingGrace {
				break
			}
			desc := p.Name
			if p.Reason != "" {
				desc += " " + p.Reason
			} else {
				desc += " " + p.Phase
			}
			notReady = append(notReady, desc)
		}
		if p.Restarts >= restartThreshold {
			restarting = append(restarting, fmt.Sprintf("%s (%d restarts)", p.Name, p.Restarts))
		}
	}
	if len(failing) > 0 {
		c.add(rulePodsFailing, subject, fmt.Sprintf("%s: %s", subject, strings.Join(failing, ", ")),
			c.kubectl("logs %s --previous", podRef(failing[0]))+" for a crash, "+c.kubectl("describe pod %s",
				podRef(failing[0]))+" for an image pull (check the tag and the registry Secret); "+
				"roll back with "+c.kubectl("rollout undo %s", subject)+" if a new image caused it")
	}
	if len(notReady) > 0 {
		fix := c.kubectl("describe pod %s", podRef(notReady[0])) + " (events at the bottom)"
		if strings.Contains(strings.Join(notReady, " "), "Unschedulable") {
			fix += "; Unschedulable means no node fits: see WKL-012 and kubectl describe nodes"
		}
		c.add(rulePodsNotReady, subject, fmt.Sprintf("%s: %d pod(s) not ready: %s", subject, len(notReady),
			strings.Join(notReady, ", ")), fix)
	}
	if len(restarting) > 0 {
		c.add(ruleRestarts, subject, fmt.Sprintf("%s: %s", subject, strings.Join(restarting, ", ")),
			c.kubectl("logs %s --previous", podRef(restarting[0]))+" and "+c.kubectl("describe pod %s",
				podRef(restarting[0]))+" (OOMKilled → raise the memory limit or lower -Xmx; probe failures → "+
				"check /healthcheck)")
	}
}

func podRef(desc string) string {
	if i := strings.IndexByte(desc, ' '); i > 0 {
		return desc[:i]
	}
	return desc
}

// podProblems lists pods that are not ready, with their reason.
func podProblems(pods []model.PodState) []string {
	var out []string
	for _, p := range pods {
		if !p.Ready && !p.Terminating {
			r := p.Reason
			if r == "" {
				r = p.Phase
			}
			out = append(out, p.Name+" "+r)
		}
	}
	return out
}

// ---- nodes ----

func (c *checker) nodes() {
	pools := map[string]bool{}
	hosts := map[string]bool{}
	pinned := false
	for _, w := range c.apimWorkloads() {
		if w.NodePool != "" {
			pools[w.NodePool] = true
			pinned = true
		}
		for _, p := range w.Pods {
			hosts[p.Node] = true
		}
	}
	for _, n := range c.s.Nodes {
		if n.Ready {
			continue
		}
		if pinned && !pools[n.Pool] && !hosts[n.Name] {
			continue // not an APIM node
		}
		c.add(ruleNodeReady, "node/"+n.Name, fmt.Sprintf("node %s (pool %q, zone %q) is not Ready; its %d pods are "+
			"evicted after the toleration timeout", n.Name, n.Pool, n.Zone, n.Pods), "kubectl describe node "+n.Name+
			" (Conditions: kubelet, disk, memory pressure); on AKS: az aks nodepool show / restart the VM, or "+
			"kubectl drain "+n.Name+" --ignore-daemonsets --delete-emptydir-data to move its pods now")
	}
}

// ---- ingress ----

var expectedHosts = []string{"anm.", "api-manager.", "api."}

func hostCovered(host string, tls []string) bool {
	for _, t := range tls {
		if t == host {
			return true
		}
		if strings.HasPrefix(t, "*.") {
			if i := strings.IndexByte(host, '.'); i > 0 && host[i:] == t[1:] {
				return true
			}
		}
	}
	return false
}

func tlsBelowMin(v string) bool {
	switch strings.ToLower(v) {
	case "sslv2", "sslv3", "tlsv1", "tlsv1.0", "tlsv1.1":
		return true
	}
	return false
}

func (c *checker) ingress() {
	ings := c.s.Topology.Ingress
	if len(ings) == 0 {
		c.add(ruleIngMissing, "namespace "+c.ns, "no Ingress in the namespace: anm., api-manager. and api. are not "+
			"exposed through a TLS-terminating ingress controller", "kubectl apply -k deploy/base (ingress.yaml), "+
			"with the hosts of your domain and a TLS Secret")
		return
	}
	var all []string
	for _, ing := range ings {
		subject := "ingress/" + ing.Name
		all = append(all, ing.Hosts...)
		for _, h := range ing.Hosts {
			if h == "" {
				c.add(ruleIngTLS, subject, fmt.Sprintf("%s has a rule without host: it answers any name, and TLS "+
					"cannot cover it (the reference routes by DNS name)", subject), "set spec.rules[].host to "+
					"anm.<domain>, api-manager.<domain> or api.<domain>, each listed in spec.tls[].hosts")
				continue
			}
			if !hostCovered(h, ing.TLSHosts) {
				c.add(ruleIngTLS, subject, fmt.Sprintf("host %s of %s has no TLS entry: it is served in clear text "+
					"(the reference terminates TLS at the ingress)", h, subject), c.kubectl("patch ingress %s "+
					"--type=json -p '[{\"op\":\"add\",\"path\":\"/spec/tls/-\",\"value\":{\"hosts\":[\"%s\"],"+
					"\"secretName\":\"<tls-secret>\"}}]'", ing.Name, h)+" (use \"add\" on /spec/tls with a list "+
					"if spec.tls is empty)")
			}
		}
		if len(ing.TLSHosts) == 0 {
			continue
		}
		fix := c.kubectl("annotate ingress %s %s='TLSv1.2 TLSv1.3' --overwrite", ing.Name, model.NginxSSLProtocolsAnnotation)
		if strings.Contains(ing.Class, "azure") || strings.Contains(ing.Class, "appgw") ||
			strings.Contains(ing.Class, "application-gateway") {
			fix = c.kubectl("annotate ingress %s %s=AppGwSslPolicy20220101S --overwrite", ing.Name, model.AppGwSSLPolicyAnnotation)
		}
		switch {
		case ing.MinTLS == "":
			c.add(ruleIngTLSUnset, subject, fmt.Sprintf("%s does not state its TLS protocols, so the controller's "+
				"default applies; the reference forces %s", subject, referenceMinTLS), fix)
		case tlsBelowMin(ing.MinTLS):
			c.add(ruleIngTLSOld, subject, fmt.Sprintf("%s allows %s; the reference allows %s at least", subject,
				ing.MinTLS, referenceMinTLS), fix)
		}
	}
	for _, prefix := range expectedHosts {
		found := false
		for _, h := range all {
			if strings.HasPrefix(h, prefix) {
				found = true
				break
			}
		}
		if !found {
			c.add(ruleIngHosts, "ingress", fmt.Sprintf("no Ingress host starts with %q (hosts: %s); the reference "+
				"exposes anm., api-manager. and api.", prefix, strings.Join(all, " ")),
				"add a rule for "+prefix+"<domain> to the Ingress and its DNS record (see deploy/base/ingress.yaml)")
		}
	}
}
