package check

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apimctl/apimctl/ops/model"
	"github.com/apimctl/apimctl/ops/model/modeltest"
)

func TestHealthyDeployBaseHasNoErrorOrWarning(t *testing.T) {
	for _, f := range Check(modeltest.HealthySnapshot(t)) {
		t.Errorf("unexpected finding on a healthy deploy/base: %+v", f)
	}
}

// mutators reach into the healthy snapshot.
func traffic(s *model.Snapshot) *model.Workload { return &s.Topology.Groups[0].Traffic[0] }
func apimgr(s *model.Snapshot) *model.Workload  { return &s.Topology.Groups[0].APIManager[0] }
func anmW(s *model.Snapshot) *model.Workload    { return &s.Topology.ANM[0] }
func source(s *model.Snapshot, name string) *model.SourceState {
	for i := range s.Sources {
		if s.Sources[i].Name == name {
			return &s.Sources[i]
		}
	}
	panic(name)
}

type ruleCase struct {
	name   string
	mutate func(*model.Snapshot)
	id     string
	// subject and text must appear in the finding's subject and message.
	subject, text string
	// absent lists IDs that must not appear (e.g. the data checks of a source that never synced).
	absent []string
}

func ruleCases() []ruleCase {
	return []ruleCase{
		{"kube source failing", func(s *model.Snapshot) { source(s, model.SourceKube).Error = "connection refused" },
			"SRC-001", "source kube", "connection refused", nil},
		{"cassandra never synced: no ring findings", func(s *model.Snapshot) {
			src := source(s, model.SourceCassandra)
			src.Synced, src.Error, src.LastSuccess = false, "dial tcp 127.0.0.1:9042: connect: connection refused", time.Time{}
			s.Cassandra = model.CassandraState{}
		}, "SRC-002", "source cassandra", "last success never", []string{"CASS-001", "CASS-005"}},
		{"prometheus stale", func(s *model.Snapshot) {
			src := source(s, model.SourcePrometheus)
			src.Stale, src.LastSuccess = true, modeltest.Now.Add(-5*time.Minute)
		}, "SRC-003", "source prometheus", "5m0s ago", nil},
		{"kube not synced yet: no topology findings", func(s *model.Snapshot) {
			source(s, model.SourceKube).Synced = false
			s.Topology = model.Topology{}
		}, "SRC-004", "source kube", "not delivered data yet", []string{"ANM-001", "TRF-001", "ING-005"}},
		{"source not observed at all", func(s *model.Snapshot) { s.Sources = s.Sources[:3] },
			"SRC-004", "source prometheus", "not observed", nil},
		{"two cassandra nodes", func(s *model.Snapshot) { s.Cassandra.Nodes = s.Cassandra.Nodes[:2] },
			"CASS-001", "cassandra ring", "2 Cassandra node(s) known [127.0.0.1 127.0.0.2]", nil},
		{"cassandra node down", func(s *model.Snapshot) { s.Cassandra.Nodes[1].Up = false },
			"CASS-002", "cassandra node 127.0.0.2", "is down", nil},
		{"keyspace RF 1", func(s *model.Snapshot) { s.Cassandra.Keyspaces[0].ReplicationFactor = 1 },
			"CASS-003", "keyspace apim_default", "replication factor 1", nil},
		{"keyspace strategy", func(s *model.Snapshot) { s.Cassandra.Keyspaces[1].Strategy = "LocalStrategy" },
			"CASS-004", "keyspace t_apim_default", `"LocalStrategy"`, nil},
		{"quorum lost", func(s *model.Snapshot) {
			s.Cassandra.Nodes[0].Up, s.Cassandra.Nodes[1].Up = false, false
			s.Cassandra.Keyspaces[0].ReplicasUp, s.Cassandra.Keyspaces[0].QuorumReachable = 1, false
		}, "CASS-005", "keyspace apim_default", "QUORUM needs 2 of 3 replicas but only 1 are up", nil},
		{"schema disagreement", func(s *model.Snapshot) { s.Cassandra.SchemaVersions = 2 },
			"CASS-006", "cassandra ring", "2 different schema versions", nil},
		{"mysql unreachable", func(s *model.Snapshot) {
			s.MySQL.Reachable = false
			source(s, model.SourceMySQL).Error = "dial tcp 127.0.0.1:3306: i/o timeout"
		}, "SQL-001", "mysql", "i/o timeout", []string{"SRC-002", "SQL-002"}},
		{"mysql never reached: still an outage", func(s *model.Snapshot) {
			s.MySQL = model.MySQLState{}
			src := source(s, model.SourceMySQL)
			src.Synced, src.LastSuccess, src.Error = false, time.Time{}, "dial tcp 127.0.0.1:3306: connect: connection refused"
		}, "SQL-001", "mysql", "connection refused", []string{"SRC-002", "SRC-004"}},
		{"prometheus fails", func(s *model.Snapshot) {
			source(s, model.SourcePrometheus).Error = "connection refused"
		}, "SRC-005", "source prometheus", "connection refused", []string{"SRC-002"}},
		{"mysql without TLS", func(s *model.Snapshot) { s.MySQL.TLS = false }, "SQL-002", "mysql", "not encrypted", nil},
		{"mysql connections", func(s *model.Snapshot) { s.MySQL.ThreadsConnected = 130 },
			"SQL-003", "mysql", "130 of max_connections 151 in use (86 %", nil},
		{"replica stopped", func(s *model.Snapshot) {
			s.MySQL.Replica.SQLRunning = false
			s.MySQL.Replica.LastError = "Duplicate entry '7' for key 'PRIMARY'"
		}, "SQL-004", "mysql replica", "Duplicate entry", nil},
		{"replica lag", func(s *model.Snapshot) { lag := int64(600); s.MySQL.Replica.LagSeconds = &lag },
			"SQL-005", "mysql replica", "600 s behind", nil},
		{"no ANM", func(s *model.Snapshot) { s.Topology.ANM = nil }, "ANM-001", "namespace apim", "no Admin Node Manager", nil},
		{"ANM not ready", func(s *model.Snapshot) {
			w := anmW(s)
			w.Ready = 0
			w.Pods[0].Ready, w.Pods[0].Reason = false, "Unschedulable"
		}, "ANM-002", "deployment/anm", "0 pods ready", nil},
		{"no groups", func(s *model.Snapshot) { s.Topology.Groups = nil }, "TRF-001", "namespace apim", "no API gateway group", nil},
		{"group without traffic", func(s *model.Snapshot) { s.Topology.Groups[0].Traffic = nil; s.Topology.Groups[0].HPA = nil },
			"TRF-001", "group default", "no traffic gateways", nil},
		{"traffic scaled to 1", func(s *model.Snapshot) {
			w := traffic(s)
			w.Desired, w.Ready, w.Available, w.Current, w.Updated = 1, 1, 1, 1, 1
			w.Pods = w.Pods[:1]
		}, "TRF-002", "deployment/traffic", "asks for 1 replica", nil},
		{"traffic ready below 3", func(s *model.Snapshot) {
			w := traffic(s)
			w.Ready = 1
			w.Pods[1].Ready, w.Pods[1].Reason = false, "CrashLoopBackOff"
			w.Pods[2].Ready, w.Pods[2].Reason = false, "Unschedulable"
		}, "TRF-003", "deployment/traffic", "1 ready of 3 desired", nil},
		{"no HPA", func(s *model.Snapshot) { s.Topology.Groups[0].HPA = nil }, "HPA-001", "deployment/traffic", "no HorizontalPodAutoscaler", nil},
		{"HPA target 50", func(s *model.Snapshot) { s.Topology.Groups[0].HPA.CPUTargetPercent = 50 }, "HPA-002", "hpa/traffic", "CPU target of 50 %", nil},
		{"HPA memory only", func(s *model.Snapshot) { s.Topology.Groups[0].HPA.CPUTargetPercent = 0 }, "HPA-002", "hpa/traffic", "no CPU utilisation target", nil},
		{"HPA min 1", func(s *model.Snapshot) { s.Topology.Groups[0].HPA.Min = 1 }, "HPA-003", "hpa/traffic", "minReplicas is 1", nil},
		{"HPA without metrics", func(s *model.Snapshot) {
			h := s.Topology.Groups[0].HPA
			h.CPUCurrentPercent = nil
			h.Conditions[1] = model.Condition{Type: "ScalingActive", Status: "False", Reason: "FailedGetResourceMetric",
				Message: "the HPA was unable to compute the replica count: failed to get cpu utilization"}
		}, "HPA-004", "hpa/traffic", "FailedGetResourceMetric", nil},
		{"HPA not able to scale", func(s *model.Snapshot) {
			s.Topology.Groups[0].HPA.Conditions[0] = model.Condition{Type: "AbleToScale", Status: "False", Reason: "FailedGetScale",
				Message: "deployments/scale.apps \"traffic\" not found"}
		}, "HPA-005", "hpa/traffic", "FailedGetScale", nil},
		{"HPA at max", func(s *model.Snapshot) { h := s.Topology.Groups[0].HPA; h.Current, h.Desired = 12, 12 },
			"HPA-006", "hpa/traffic", "runs 12 replicas, its maximum (12)", nil},
		{"no limits", func(s *model.Snapshot) { apimgr(s).CPULimit, apimgr(s).MemoryLimit = "", "" },
			"WKL-001", "deployment/apimgr", "no cpu limit, memory limit", nil},
		{"no readiness", func(s *model.Snapshot) { anmW(s).ReadinessProbe = false }, "WKL-002", "deployment/anm", "no readinessProbe", nil},
		{"no liveness", func(s *model.Snapshot) { traffic(s).LivenessProbe = false }, "WKL-003", "deployment/traffic", "no livenessProbe", nil},
		{"traffic without anti-affinity", func(s *model.Snapshot) { traffic(s).AntiAffinityHost = false },
			"WKL-004", "deployment/traffic", "no pod anti-affinity on kubernetes.io/hostname", nil},
		{"replicated apimgr without anti-affinity", func(s *model.Snapshot) { apimgr(s).Desired = 2 },
			"WKL-005", "deployment/apimgr", "runs 2 replicas", nil},
		{"traffic without zone spread", func(s *model.Snapshot) { traffic(s).AntiAffinityZone = false },
			"WKL-006", "deployment/traffic", "zones", nil},
		{"pods on one node", func(s *model.Snapshot) {
			for i := range traffic(s).Pods {
				traffic(s).Pods[i].Node, traffic(s).Pods[i].Zone = "apim-1", "zone-1"
			}
		}, "WKL-007", "deployment/traffic", "all 3 running pods of deployment/traffic are on node apim-1", nil},
		{"pods in one zone", func(s *model.Snapshot) {
			for i := range traffic(s).Pods {
				traffic(s).Pods[i].Zone = "zone-2"
			}
		}, "WKL-008", "deployment/traffic", "are in zone zone-2", nil},
		{"not pinned", func(s *model.Snapshot) { apimgr(s).NodePool = "" }, "WKL-009", "deployment/apimgr", "not pinned", nil},
		{"no pool labels", func(s *model.Snapshot) {
			for i := range s.Nodes {
				s.Nodes[i].Pool = ""
			}
			for _, w := range []*model.Workload{traffic(s), apimgr(s), anmW(s)} {
				w.NodePool = ""
			}
		}, "WKL-010", "nodes", "none of the 4 nodes", []string{"WKL-009"}},
		{"recreate strategy", func(s *model.Snapshot) {
			traffic(s).Strategy, traffic(s).MaxSurge, traffic(s).MaxUnavailable = "Recreate", "", ""
		},
			"WKL-011", "deployment/traffic", "strategy Recreate", nil},
		{"default surge", func(s *model.Snapshot) { anmW(s).MaxSurge, anmW(s).MaxUnavailable = "25%", "25%" },
			"WKL-011", "deployment/anm", `maxSurge "25%" maxUnavailable "25%"`, nil},
		{"no room for the surge", func(s *model.Snapshot) {
			for i := range s.Nodes {
				if s.Nodes[i].Pool == "apimpool" {
					s.Nodes[i].CPURequested = s.Nodes[i].CPUAllocatable - 500
				}
			}
		}, "WKL-012", "deployment/traffic", "most free: apim-1 with 500m cpu", nil},
		{"pool has no ready node", func(s *model.Snapshot) {
			for i := range s.Nodes {
				if s.Nodes[i].Pool == "apimpool" {
					s.Nodes[i].Ready = false
				}
			}
		}, "WKL-012", "deployment/traffic", "there are no Ready nodes of pool apimpool", nil},
		{"pod not ready", func(s *model.Snapshot) {
			p := &traffic(s).Pods[0]
			p.Ready, p.Reason, p.Phase = false, "Unschedulable", "Pending"
		}, "WKL-013", "deployment/traffic", "1 pod(s) not ready: traffic-7d9f8-0 Unschedulable", nil},
		{"restarts", func(s *model.Snapshot) { traffic(s).Pods[2].Restarts = 7 }, "WKL-014", "deployment/traffic", "(7 restarts)", nil},
		{"crash loop", func(s *model.Snapshot) {
			p := &apimgr(s).Pods[0]
			p.Ready, p.Reason = false, "CrashLoopBackOff"
		}, "WKL-015", "deployment/apimgr", "apimgr-7d9f8-0 CrashLoopBackOff", []string{"WKL-013"}},
		{"image pull", func(s *model.Snapshot) {
			p := &traffic(s).Pods[1]
			p.Ready, p.Reason, p.Phase = false, "ImagePullBackOff", "Pending"
		}, "WKL-015", "deployment/traffic", "ImagePullBackOff", nil},
		{"paused", func(s *model.Snapshot) { traffic(s).Paused = true }, "WKL-016", "deployment/traffic", "paused at revision 2", nil},
		{"stuck rollout", func(s *model.Snapshot) {
			traffic(s).Conditions[1] = model.Condition{Type: "Progressing", Status: "False", Reason: "ProgressDeadlineExceeded",
				Message: `ReplicaSet "traffic-5b7" has timed out progressing.`}
		}, "WKL-017", "deployment/traffic", "has timed out progressing", nil},
		{"node not ready", func(s *model.Snapshot) { s.Nodes[1].Ready = false }, "NODE-001", "node/apim-2", "is not Ready", nil},
		{"host without TLS", func(s *model.Snapshot) { s.Topology.Ingress[0].TLSHosts = s.Topology.Ingress[0].TLSHosts[:2] },
			"ING-001", "ingress/apim", "host api.apim.example.test", nil},
		{"TLS unset", func(s *model.Snapshot) { s.Topology.Ingress[0].MinTLS = "" }, "ING-002", "ingress/apim", "does not state", nil},
		{"TLS 1.0 allowed", func(s *model.Snapshot) { s.Topology.Ingress[0].MinTLS = "TLSv1" }, "ING-003", "ingress/apim", "allows TLSv1;", nil},
		{"TLS 1.1 allowed", func(s *model.Snapshot) { s.Topology.Ingress[0].MinTLS = "TLSv1.1" }, "ING-003", "ingress/apim", "allows TLSv1.1", nil},
		{"anm host missing", func(s *model.Snapshot) {
			ing := &s.Topology.Ingress[0]
			ing.Hosts, ing.TLSHosts = ing.Hosts[1:], ing.TLSHosts[1:]
		}, "ING-004", "ingress", `"anm."`, nil},
		{"no ingress", func(s *model.Snapshot) { s.Topology.Ingress = nil }, "ING-005", "namespace apim", "no Ingress", []string{"ING-004"}},
		{"no traffic data", func(s *model.Snapshot) { s.Traffic = model.TrafficState{NoData: true} }, "PROM-001", "prometheus", "no gateway traffic", nil},
		{"an alert firing", func(s *model.Snapshot) {
			s.Alerts = []model.Alert{
				{Name: "CassandraNodeDown", State: model.AlertFiring, Summary: "node 127.0.0.2:9042 does not answer", Subject: "cassandra 127.0.0.2:9042"},
				{Name: "GatewayHPAAtMaximum", State: model.AlertPending, Subject: "hpa/traffic"},
			}
		}, "PROM-002", "cassandra 127.0.0.2:9042", "CassandraNodeDown is firing: node 127.0.0.2:9042", nil},
		{"backup too old for the schedule", func(s *model.Snapshot) {
			s.Backups = dailyBackups(s.Taken.Add(-31 * time.Hour))
		}, "BKP-001", "backups /b", "is 31h old; scheduled every 24h, it should be at most 30h old", nil},
		{"no backup though scheduled", func(s *model.Snapshot) {
			s.Backups = dailyBackups(time.Time{})
			s.Backups.Last = nil
		}, "BKP-001", "backups /b", "no complete backup, though backups are scheduled every 24h", nil},
		{"backup location unreadable", func(s *model.Snapshot) {
			s.Backups = dailyBackups(s.Taken.Add(-time.Hour))
			s.Backups.Error = "azure: cannot reach"
		}, "BKP-001", "backups /b", "cannot be read (azure: cannot reach)", nil},
		{"no schedule", func(s *model.Snapshot) {
			s.Backups = dailyBackups(s.Taken.Add(-time.Hour))
			s.Backups.Schedule = nil
		}, "BKP-002", "backups /b", "no backup schedule", []string{"BKP-001"}},
	}
}

// dailyBackups is a daily schedule whose newest backup was made at last.
func dailyBackups(last time.Time) model.BackupStatus {
	return model.BackupStatus{Location: "/b", Checked: last.Add(time.Minute), Last: &model.BackupRef{ID: "b1", Created: last},
		Schedule: &model.BackupSchedule{EverySeconds: 86400, At: "03:00", Keep: 7}}
}

func TestBackupWithinItsScheduleIsFine(t *testing.T) {
	s := modeltest.HealthySnapshot(t)
	s.Backups = dailyBackups(s.Taken.Add(-29 * time.Hour))
	for _, f := range Check(s) {
		if strings.HasPrefix(f.ID, "BKP-") {
			t.Errorf("a backup 29h old on a daily schedule: %+v", f)
		}
	}
}

func TestRules(t *testing.T) {
	rules := map[string]Rule{}
	for _, r := range Rules() {
		rules[r.ID] = r
	}
	healthy := map[string]bool{}
	for _, f := range Check(modeltest.HealthySnapshot(t)) {
		healthy[f.ID] = true
	}
	covered := map[string]bool{}
	for _, tc := range ruleCases() {
		t.Run(tc.id+" "+tc.name, func(t *testing.T) {
			if healthy[tc.id] {
				t.Fatalf("%s already fires on the healthy snapshot", tc.id)
			}
			s := modeltest.HealthySnapshot(t)
			tc.mutate(&s)
			findings := Check(s)
			var hit *model.Finding
			for i, f := range findings {
				if f.ID == tc.id && strings.Contains(f.Subject, tc.subject) && strings.Contains(f.Message, tc.text) {
					hit = &findings[i]
				}
				for _, a := range tc.absent {
					if f.ID == a {
						t.Errorf("%s must not fire here: %+v", a, f)
					}
				}
			}
			if hit == nil {
				t.Fatalf("no %s with subject %q and text %q in:\n%s", tc.id, tc.subject, tc.text, dump(findings))
			}
			r, ok := rules[hit.ID]
			if !ok || r.Severity != hit.Severity {
				t.Errorf("finding %s has severity %s, rule says %+v", hit.ID, hit.Severity, r)
			}
			if hit.Fix == "" {
				t.Errorf("%s has no fix", hit.ID)
			}
			covered[tc.id] = true
		})
	}
	for id := range rules {
		if !covered[id] {
			t.Errorf("rule %s has no test case", id)
		}
	}
}

func dump(fs []model.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %s %s %s: %s\n", f.Severity, f.ID, f.Subject, f.Message)
	}
	return b.String()
}

func TestRulesListed(t *testing.T) {
	rules := Rules()
	seen := map[string]bool{}
	for i, r := range rules {
		if seen[r.ID] {
			t.Errorf("duplicate rule %s", r.ID)
		}
		seen[r.ID] = true
		if r.Title == "" || r.Severity.Rank() == 0 {
			t.Errorf("incomplete rule %+v", r)
		}
		if i > 0 && rules[i-1].ID >= r.ID {
			t.Errorf("rules not sorted at %s", r.ID)
		}
	}
	if len(rules) != len(allRules) {
		t.Errorf("Rules() returned %d, want %d", len(rules), len(allRules))
	}
}

func TestCheckOrder(t *testing.T) {
	s := modeltest.HealthySnapshot(t)
	s.Topology.Ingress[0].MinTLS = ""                         // ING-002 warning
	traffic(&s).Paused = true                                 // WKL-016 info
	s.Cassandra.Nodes[2].Up = false                           // CASS-002 error
	s.Cassandra.Nodes[1].Up = false                           // CASS-002 error
	s.MySQL.TLS = false                                       // SQL-002 warning
	source(&s, model.SourceKube).Error = "watch closed early" // SRC-001 error
	got := Check(s)
	var ids []string
	for _, f := range got {
		ids = append(ids, f.ID+" "+f.Subject)
	}
	want := []string{
		"CASS-002 cassandra node 127.0.0.2", "CASS-002 cassandra node 127.0.0.3", "SRC-001 source kube",
		"ING-002 ingress/apim", "SQL-002 mysql",
		"WKL-016 deployment/traffic",
	}
	if strings.Join(ids, "\n") != strings.Join(want, "\n") {
		t.Errorf("order:\n%s\nwant:\n%s", strings.Join(ids, "\n"), strings.Join(want, "\n"))
	}
	if !sort.SliceIsSorted(got, func(a, b int) bool { return got[a].Severity.Rank() > got[b].Severity.Rank() }) {
		t.Error("not most severe first")
	}
}

func TestCheckEmptySnapshot(t *testing.T) {
	// Nothing observed: only "not observed" source findings, no panics, no invented problems.
	got := Check(model.Snapshot{Taken: modeltest.Now})
	if len(got) != 4 {
		t.Fatalf("got:\n%s", dump(got))
	}
	for _, f := range got {
		if f.ID != "SRC-004" {
			t.Errorf("unexpected %+v", f)
		}
	}
}

func TestStartingPodIsNotAProblem(t *testing.T) {
	s := modeltest.HealthySnapshot(t)
	p := &traffic(&s).Pods[0]
	p.Ready, p.Reason, p.Created = false, "ContainerCreating", modeltest.Now.Add(-30*time.Second)
	for _, f := range Check(s) {
		if f.ID == "WKL-013" {
			t.Errorf("a pod started 30 s ago is reported: %+v", f)
		}
	}
	p.Created = modeltest.Now.Add(-10 * time.Minute)
	found := false
	for _, f := range Check(s) {
		found = found || f.ID == "WKL-013"
	}
	if !found {
		t.Error("a pod still creating after 10 minutes is not reported")
	}
}

func TestSingleReplicaWorkloadsNeedNoAntiAffinity(t *testing.T) {
	s := modeltest.HealthySnapshot(t)
	if anmW(&s).AntiAffinityHost || apimgr(&s).AntiAffinityHost {
		t.Fatal("fixture changed: deploy/base anm/apimgr have no anti-affinity")
	}
	for _, f := range Check(s) {
		if f.ID == "WKL-005" {
			t.Errorf("%+v", f)
		}
	}
}

func TestAppGatewayFixUsesSSLPolicy(t *testing.T) {
	s := modeltest.HealthySnapshot(t)
	s.Topology.Ingress[0].Class = "azure/application-gateway"
	s.Topology.Ingress[0].MinTLS = "TLSv1"
	for _, f := range Check(s) {
		if f.ID == "ING-003" && !strings.Contains(f.Fix, model.AppGwSSLPolicyAnnotation) {
			t.Errorf("fix = %s", f.Fix)
		}
	}
}

func TestTrafficScaleFixDependsOnHPA(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*model.Snapshot)
		want   string
	}{
		{"HPA min already 3", func(s *model.Snapshot) {}, "kubectl -n apim scale deployment/traffic --replicas=3 (hpa/traffic"},
		{"HPA min 1", func(s *model.Snapshot) { s.Topology.Groups[0].HPA.Min = 1 },
			`kubectl -n apim patch hpa traffic -p '{"spec":{"minReplicas":3}}', then kubectl -n apim scale deployment/traffic --replicas=3`},
		{"no HPA", func(s *model.Snapshot) { s.Topology.Groups[0].HPA = nil }, "kubectl -n apim scale deployment/traffic --replicas=3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := modeltest.HealthySnapshot(t)
			w := traffic(&s)
			w.Desired, w.Ready = 1, 1
			tt.mutate(&s)
			var fix string
			for _, f := range Check(s) {
				if f.ID == "TRF-002" {
					fix = f.Fix
				}
			}
			if !strings.HasPrefix(fix, tt.want) {
				t.Errorf("fix = %q, want prefix %q", fix, tt.want)
			}
		})
	}
}

// TestPendingAlertIsNoFinding: an alert that is only pending is not yet a finding.
func TestPendingAlertIsNoFinding(t *testing.T) {
	s := modeltest.HealthySnapshot(t)
	s.Alerts = []model.Alert{{Name: "GatewayHPAAtMaximum", State: model.AlertPending, Subject: "hpa/traffic"}}
	for _, f := range Check(s) {
		if f.ID == ruleAlertFiring.ID {
			t.Fatalf("a pending alert is a finding: %+v", f)
		}
	}
}
