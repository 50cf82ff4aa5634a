package check

import (
	"fmt"
	"sort"
	"time"

	"github.com/apimctl/apimctl/ops/model"
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
	ruleKubeSource     = Rule{"SRC-001", model.SeverityError, "Kubernetes API answers"}
	ruleDataSource     = Rule{"SRC-002", model.SeverityError, "Cassandra and the metrics database answer"}
	rulePromSource     = Rule{"SRC-005", model.SeverityWarning, "Prometheus answers"}
	ruleStaleSource    = Rule{"SRC-003", model.SeverityWarning, "Every source's data is fresh"}
	ruleUnsynced       = Rule{"SRC-004", model.SeverityInfo, "Every source has delivered data"}
	ruleCassNodes      = Rule{"CASS-001", model.SeverityError, "At least 3 Cassandra nodes are known"}
	ruleCassDown       = Rule{"CASS-002", model.SeverityError, "Every Cassandra node is up"}
	ruleCassRF         = Rule{"CASS-003", model.SeverityWarning, "Every keyspace has replication factor 3 or more"}
	ruleCassStrategy   = Rule{"CASS-004", model.SeverityWarning, "Every keyspace uses SimpleStrategy or NetworkTopologyStrategy"}
	ruleCassQuorum     = Rule{"CASS-005", model.SeverityError, "QUORUM is reachable for every keyspace"}
	ruleCassSchema     = Rule{"CASS-006", model.SeverityWarning, "Cassandra nodes agree on the schema"}
	ruleSQLReachable   = Rule{"SQL-001", model.SeverityError, "The metrics database is reachable"}
	ruleSQLTLS         = Rule{"SQL-002", model.SeverityWarning, "Connections to the metrics database use TLS"}
	ruleSQLConns       = Rule{"SQL-003", model.SeverityWarning, "Metrics database connections stay under 80 % of max_connections"}
	ruleSQLReplStop    = Rule{"SQL-004", model.SeverityError, "Replication threads of a replica metrics database run"}
	ruleSQLReplLag     = Rule{"SQL-005", model.SeverityWarning, "A replica metrics database lags less than 60 s"}
	ruleANMMissing     = Rule{"ANM-001", model.SeverityError, "An Admin Node Manager workload exists"}
	ruleANMReady       = Rule{"ANM-002", model.SeverityError, "At least one Admin Node Manager pod is ready"}
	ruleTrafficNone    = Rule{"TRF-001", model.SeverityError, "Every gateway group has traffic gateways"}
	ruleTrafficSpec    = Rule{"TRF-002", model.SeverityWarning, "Traffic gateways ask for 3 replicas or more"}
	ruleTrafficReady   = Rule{"TRF-003", model.SeverityError, "At least 3 traffic gateway pods are ready"}
	ruleHPAMissing     = Rule{"HPA-001", model.SeverityWarning, "An HPA scales every group's traffic gateways"}
	ruleHPATarget      = Rule{"HPA-002", model.SeverityWarning, "The HPA targets 75 % average CPU utilisation"}
	ruleHPAMin         = Rule{"HPA-003", model.SeverityWarning, "The HPA keeps at least 3 replicas"}
	ruleHPAMetrics     = Rule{"HPA-004", model.SeverityWarning, "The HPA can read its metrics (ScalingActive)"}
	ruleHPAAble        = Rule{"HPA-005", model.SeverityError, "The HPA is able to scale (AbleToScale)"}
	ruleHPAAtMax       = Rule{"HPA-006", model.SeverityWarning, "The HPA has headroom below maxReplicas"}
	ruleResources      = Rule{"WKL-001", model.SeverityWarning, "CPU and memory requests and limits are set"}
	ruleReadiness      = Rule{"WKL-002", model.SeverityError, "A readiness probe is set"}
	ruleLiveness       = Rule{"WKL-003", model.SeverityWarning, "A liveness probe is set"}
	ruleAntiHostTraf   = Rule{"WKL-004", model.SeverityError, "Traffic gateways spread over nodes (pod anti-affinity on kubernetes.io/hostname)"}
	ruleAntiHostOther  = Rule{"WKL-005", model.SeverityWarning, "Replicated APIM workloads spread over nodes (pod anti-affinity on kubernetes.io/hostname)"}
	ruleAntiZone       = Rule{"WKL-006", model.SeverityInfo, "Traffic gateways prefer spreading over zones"}
	ruleSpreadNodes    = Rule{"WKL-007", model.SeverityWarning, "Pods of a replicated workload run on 2 nodes or more"}
	ruleSpreadZones    = Rule{"WKL-008", model.SeverityWarning, "Pods of a replicated workload run in 2 zones or more"}
	rulePoolPin        = Rule{"WKL-009", model.SeverityWarning, "APIM workloads are pinned to their node pool (agentpool)"}
	rulePoolNone       = Rule{"WKL-010", model.SeverityInfo, "Nodes carry an agentpool label to pin APIM workloads to"}
	ruleStrategy       = Rule{"WKL-011", model.SeverityWarning, "Rolling updates use maxSurge 1 and maxUnavailable 0"}
	ruleSurgeRoom      = Rule{"WKL-012", model.SeverityWarning, "A node has room for the rolling update's extra traffic pod"}
	rulePodsNotReady   = Rule{"WKL-013", model.SeverityWarning, "All pods are ready"}
	ruleRestarts       = Rule{"WKL-014", model.SeverityWarning, "Pods restart fewer than 5 times"}
	rulePodsFailing    = Rule{"WKL-015", model.SeverityError, "No pod is crash-looping or failing to pull its image"}
	rulePaused         = Rule{"WKL-016", model.SeverityInfo, "No rollout is paused"}
	ruleStuck          = Rule{"WKL-017", model.SeverityError, "No rollout exceeded its progress deadline"}
	ruleNodeReady      = Rule{"NODE-001", model.SeverityWarning, "Nodes of the APIM pool are Ready"}
	ruleIngTLS         = Rule{"ING-001", model.SeverityError, "Every Ingress host is covered by TLS"}
	ruleIngTLSUnset    = Rule{"ING-002", model.SeverityWarning, "The Ingress states its minimum TLS version"}
	ruleIngTLSOld      = Rule{"ING-003", model.SeverityError, "The Ingress allows no protocol below TLSv1.2"}
	ruleIngHosts       = Rule{"ING-004", model.SeverityInfo, "The anm., api-manager. and api. hosts are exposed"}
	ruleIngMissing     = Rule{"ING-005", model.SeverityWarning, "An Ingress exposes the deployment"}
	ruleNoTraffic      = Rule{"PROM-001", model.SeverityInfo, "Prometheus has traffic data for the gateways"}
	ruleBackupLate     = Rule{"BKP-001", model.SeverityWarning, "The newest backup is no older than its schedule allows"}
	ruleBackupSchedule = Rule{"BKP-002", model.SeverityInfo, "Backups are scheduled"}
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
	ruleNoTraffic, ruleAlertFiring,
	ruleBackupLate, ruleBackupSchedule,
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
	if c.synced(model.SourcePrometheus) {
		c.alerts()
	}
	c.backups()
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

// ---- Cassandra ----

// ---- MySQL ----

// ---- Admin Node Manager, groups, HPA ----

// ---- workloads ----

// ---- nodes ----

// ---- ingress ----
