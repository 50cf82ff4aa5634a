package tui

import (
	"fmt"
	"time"

	"github.com/apimctl/apimctl/ops/model"
)

// fixedNow is the clock every test runs on.
var fixedNow = time.Date(2026, time.March, 14, 3, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return fixedNow }

func ptr[T any](v T) *T { return &v }

// chanFeed is a Feed over a channel the test writes to.
type chanFeed chan model.Snapshot

func (f chanFeed) Updates() <-chan model.Snapshot { return f }

// sources returns the four sources, all fresh, synced a few seconds ago.
func freshSources() []model.SourceState {
	mk := func(name, ep string, age time.Duration) model.SourceState {
		t := fixedNow.Add(-age)
		return model.SourceState{Name: name, Endpoint: ep, Synced: true, LastSuccess: t, LastAttempt: t}
	}
	return []model.SourceState{
		mk(model.SourceKube, "https://127.0.0.1:6443", 2*time.Second),
		mk(model.SourceCassandra, "127.0.0.1:9042", 4*time.Second),
		mk(model.SourceMySQL, "127.0.0.1:3306", 6*time.Second),
		mk(model.SourcePrometheus, "http://127.0.0.1:9090", 12*time.Second),
	}
}

// pods makes n pods of a workload, spread over three nodes in three zones.
func pods(prefix, tag string, n int, age time.Duration) []model.PodState {
	out := make([]model.PodState, n)
	for i := range out {
		out[i] = model.PodState{
			Name:    fmt.Sprintf("%s-7d9f8b6c5d-%05d", prefix, i),
			Phase:   "Running",
			Ready:   true,
			Node:    fmt.Sprintf("aks-gateway-%d", i%3),
			Zone:    fmt.Sprintf("westeurope-%d", i%3+1),
			IP:      fmt.Sprintf("127.0.%d.%d", 1+i/250, 1+i%250),
			Image:   "registry.example/apim/gateway:" + tag,
			Tag:     tag,
			Created: fixedNow.Add(-age - time.Duration(i)*time.Minute),
		}
	}
	return out
}

func workload(name, role, group, tag string, replicas int32, age time.Duration) model.Workload {
	return model.Workload{
		Kind: "Deployment", Name: name, Namespace: "apim", Role: role, Group: group,
		Desired: replicas, Current: replicas, Ready: replicas, Updated: replicas, Available: replicas,
		Image: "registry.example/apim/gateway:" + tag, Tag: tag, Revision: "4",
		Strategy: "RollingUpdate", MaxSurge: "1", MaxUnavailable: "0",
		CPURequest: "1", CPULimit: "2", MemoryRequest: "2Gi", MemoryLimit: "4Gi",
		ReadinessProbe: true, LivenessProbe: true, AntiAffinityHost: true, AntiAffinityZone: true,
		NodePool: "gateway",
		Pods:     pods(name, tag, int(replicas), age),
	}
}

func history(base, step float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = base + step*float64(i%7) + step*float64(i)/3
	}
	return out
}

// healthySnapshot is a deployment with two gateway groups and nothing wrong.
func healthySnapshot() model.Snapshot {
	const tag = "7.7.20240830"
	hpa := func(group string, cpu int32) *model.HPAState {
		return &model.HPAState{
			Name: "traffic-" + group, Target: "traffic-" + group, Min: 3, Max: 10, Current: 3, Desired: 3,
			CPUTargetPercent: 75, CPUCurrentPercent: ptr(cpu), LastScaleTime: ptr(fixedNow.Add(-26 * time.Hour)),
			Conditions: []model.Condition{
				{Type: "AbleToScale", Status: "True", Reason: "ReadyForNewScale", Message: "recommended size matches current size"},
				{Type: "ScalingActive", Status: "True", Reason: "ValidMetricFound", Message: "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)"},
				{Type: "ScalingLimited", Status: "False", Reason: "DesiredWithinRange", Message: "the desired count is within the acceptable range"},
			},
			Events: []model.EventInfo{{Time: fixedNow.Add(-26 * time.Hour), Type: "Normal", Reason: "SuccessfulRescale", Object: "HorizontalPodAutoscaler/traffic-" + group, Message: "New size: 3; reason: All metrics below target", Count: 1}},
		}
	}
	group := func(name string, cpu int32) model.GatewayGroup {
		return model.GatewayGroup{
			Name:       name,
			Traffic:    []model.Workload{workload("traffic-"+name, model.RoleTraffic, name, tag, 3, 50*time.Hour)},
			APIManager: []model.Workload{workload("apimgr-"+name, model.RoleAPIManager, name, tag, 1, 50*time.Hour)},
			HPA:        hpa(name, cpu),
		}
	}
	series := func(g, api string, rps, p90, errs float64) model.TrafficSeries {
		return model.TrafficSeries{Group: g, API: api, RPS: rps, P90Seconds: p90, ErrorRatio: errs,
			RPSHistory: history(rps*0.7, rps*0.05, 30), P90History: history(p90*0.8, p90*0.03, 30), ErrHistory: history(errs, errs*0.1, 30)}
	}
	ks := func(name string) model.KeyspaceState {
		return model.KeyspaceState{Name: name, Strategy: "NetworkTopologyStrategy", ReplicationFactor: 3, Quorum: 2, ReplicasUp: 3, QuorumReachable: true}
	}
	return model.Snapshot{
		Taken: fixedNow.Add(-2 * time.Second), Context: "lab-west", Namespace: "apim",
		Identity: "system:serviceaccount:apim:oncall",
		Access: model.Access{Known: true, Allowed: map[string]bool{
			"deployments/patch": true, "deployments/scale": true, "pods/delete": true, "secrets/get": false,
		}},
		Sources: freshSources(),
		Topology: model.Topology{
			ANM:    []model.Workload{workload("anm", model.RoleANM, "", tag, 1, 50*time.Hour)},
			Groups: []model.GatewayGroup{group("default", 41), group("payments", 58)},
			Ingress: []model.IngressState{{Name: "apim", Class: "nginx", Hosts: []string{"anm.lab.example", "api-manager.lab.example", "api.lab.example"},
				TLSHosts: []string{"anm.lab.example", "api-manager.lab.example", "api.lab.example"}, MinTLS: "TLSv1.2"}},
		},
		Cassandra: model.CassandraState{
			Nodes: []model.CassandraNode{
				{Address: "127.0.0.1", DC: "dc1", Rack: "rack1", Version: "5.0.4", HostID: "4f1c2a7e-1b9d-4d0a-9a51-0c5e8b1f3d21", Up: true},
				{Address: "127.0.0.2", DC: "dc1", Rack: "rack2", Version: "5.0.4", HostID: "9b3e6d10-2c4f-4e8b-8f7a-1d2c3b4a5e6f", Up: true},
				{Address: "127.0.0.3", DC: "dc1", Rack: "rack3", Version: "5.0.4", HostID: "c7d8e9f0-3a2b-4c1d-9e8f-7a6b5c4d3e2f", Up: true},
			},
			SchemaVersions: 1,
			Keyspaces:      []model.KeyspaceState{ks("apim_default"), ks("apim_default_tkeyspace"), ks("apim_payments"), ks("apim_payments_tkeyspace")},
		},
		MySQL: model.MySQLState{Reachable: true, Version: "10.11.6-MariaDB", Uptime: 76*time.Hour + 12*time.Minute,
			ThreadsConnected: 23, MaxConnections: 151, TLS: true, TLSVersion: "TLSv1.3", DatabaseSizeBytes: 48_300_000},
		Traffic: model.TrafficState{
			Groups: []model.TrafficSeries{series("default", "", 412.5, 0.046, 0.0008), series("payments", "", 96.2, 0.121, 0.0021)},
			APIs: []model.TrafficSeries{
				series("default", "petstore-v2", 251.0, 0.038, 0.0005),
				series("default", "orders", 120.4, 0.061, 0.0012),
				series("default", "healthcheck", 41.1, 0.004, 0),
				series("payments", "payments-api", 80.0, 0.130, 0.0025),
				series("payments", "refunds", 16.2, 0.095, 0),
			},
		},
		Events: []model.EventInfo{
			{Time: fixedNow.Add(-3 * time.Minute), Type: "Normal", Reason: "ScalingReplicaSet", Object: "Deployment/traffic-default", Message: "Scaled up replica set traffic-default-7d9f8b6c5d to 3", Count: 1},
			{Time: fixedNow.Add(-40 * time.Minute), Type: "Normal", Reason: "Pulled", Object: "Pod/apimgr-payments-7d9f8b6c5d-00000", Message: "Container image \"registry.example/apim/gateway:7.7.20240830\" already present on machine", Count: 2},
		},
		Findings: []model.Finding{
			{ID: "APIM-ING-003", Severity: model.SeverityInfo, Subject: "ingress/apim", Message: "TLS 1.2 is the lowest protocol allowed; 1.3-only is possible", Fix: "set nginx.ingress.kubernetes.io/ssl-protocols: TLSv1.3 once every client supports it"},
		},
	}
}

// degradedSnapshot has a Cassandra node down, a keyspace without QUORUM, an HPA that cannot
// read CPU metrics, the payments traffic gateways scaled to 1 and a crash-looping pod.
func degradedSnapshot() model.Snapshot {
	s := healthySnapshot()
	s.Cassandra.Nodes[2].Up = false
	for i := range s.Cassandra.Keyspaces {
		s.Cassandra.Keyspaces[i].ReplicasUp = 2
	}
	s.Cassandra.Keyspaces = append(s.Cassandra.Keyspaces, model.KeyspaceState{
		Name: "apim_payments_audit", Strategy: "SimpleStrategy", ReplicationFactor: 1, Quorum: 1, ReplicasUp: 0, QuorumReachable: false,
	})

	def := &s.Topology.Groups[0]
	def.HPA.CPUCurrentPercent = nil
	def.HPA.Conditions[1] = model.Condition{Type: "ScalingActive", Status: "False", Reason: "FailedGetResourceMetric",
		Message: "the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API"}
	def.HPA.Events = append([]model.EventInfo{{Time: fixedNow.Add(-30 * time.Second), Type: "Warning", Reason: "FailedGetResourceMetric",
		Object: "HorizontalPodAutoscaler/traffic-default", Message: "failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API", Count: 118}}, def.HPA.Events...)
	// One traffic pod crash-loops.
	tp := &def.Traffic[0]
	tp.Ready = 2
	tp.Available = 2
	tp.Pods[1].Ready = false
	tp.Pods[1].Reason = "CrashLoopBackOff"
	tp.Pods[1].Restarts = 14

	pay := &s.Topology.Groups[1]
	pw := &pay.Traffic[0]
	pw.Desired, pw.Current, pw.Ready, pw.Updated, pw.Available = 1, 1, 1, 1, 1
	pw.Pods = pw.Pods[:1]
	pay.HPA.Min, pay.HPA.Current, pay.HPA.Desired = 1, 1, 1
	// The API Manager is mid-rollout to a new tag.
	am := &pay.APIManager[0]
	am.RolloutInProgress = true
	am.Tag, am.Revision, am.Updated = "7.7.20250228", "5", 0
	am.Pods = append(am.Pods, model.PodState{Name: "apimgr-payments-5c6b7a8d9e-00000", Phase: "Pending", Node: "aks-gateway-2",
		Zone: "westeurope-3", Image: "registry.example/apim/gateway:7.7.20250228", Tag: "7.7.20250228", Created: fixedNow.Add(-40 * time.Second), Reason: "ContainerCreating"})

	s.Traffic.Groups[1].RPS = 12.3
	s.Traffic.Groups[1].ErrorRatio = 0.083
	s.Traffic.Groups[1].ErrHistory = []float64{0.001, 0.002, 0.002, 0.01, 0.03, 0.05, 0.07, 0.08, 0.083}

	s.Events = append([]model.EventInfo{
		{Time: fixedNow.Add(-30 * time.Second), Type: "Warning", Reason: "FailedGetResourceMetric", Object: "HorizontalPodAutoscaler/traffic-default",
			Message: "failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API", Count: 118},
		{Time: fixedNow.Add(-75 * time.Second), Type: "Warning", Reason: "BackOff", Object: "Pod/traffic-default-7d9f8b6c5d-00001",
			Message: "Back-off restarting failed container gateway in pod traffic-default-7d9f8b6c5d-00001", Count: 14},
	}, s.Events...)
	s.Findings = append(s.Findings,
		model.Finding{ID: "APIM-CASS-001", Severity: model.SeverityError, Subject: "cassandra 127.0.0.3", Message: "node is down: 2 of 3 hosts up", Fix: "bring the node back (nodetool status; check the pod/host and its disk); the reference architecture needs 3 hosts up"},
		model.Finding{ID: "APIM-CASS-003", Severity: model.SeverityError, Subject: "keyspace apim_payments_audit", Message: "QUORUM lost: replication factor 1, no replica up", Fix: "ALTER KEYSPACE apim_payments_audit WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 3}; then nodetool repair"},
		model.Finding{ID: "APIM-HPA-002", Severity: model.SeverityWarning, Subject: "hpa/traffic-default", Message: "FailedGetResourceMetric: the HPA cannot read CPU, so it cannot scale", Fix: "install metrics-server (or make the metrics API available) and check the pods' CPU requests"},
		model.Finding{ID: "APIM-GW-004", Severity: model.SeverityError, Subject: "deployment/traffic-payments", Message: "1 traffic replica; the reference architecture needs at least 3", Fix: "kubectl -n apim scale deployment/traffic-payments --replicas=3 and set the HPA's minReplicas to 3"},
	)
	return s
}

// sourceTroubleSnapshot is healthy data, but MySQL's last poll failed and Prometheus is stale.
func sourceTroubleSnapshot() model.Snapshot {
	s := healthySnapshot()
	s.Sources[2].Error = "dial tcp 127.0.0.1:3306: connect: connection refused"
	s.Sources[2].LastSuccess = fixedNow.Add(-95 * time.Second)
	s.Sources[2].LastAttempt = fixedNow.Add(-5 * time.Second)
	s.MySQL.Reachable = false
	s.Sources[3].Stale = true
	s.Sources[3].LastSuccess = fixedNow.Add(-4*time.Minute - 10*time.Second)
	s.ReadOnly = true
	return s
}

// noTrafficSnapshot is a fresh deployment: Prometheus answers but has no gateway series yet.
func noTrafficSnapshot() model.Snapshot {
	s := healthySnapshot()
	s.Traffic = model.TrafficState{NoData: true}
	s.Access = model.Access{Known: true, Allowed: map[string]bool{"deployments/patch": false, "pods/delete": false}}
	return s
}

// bigSnapshot has one gateway group with n traffic pods.
func bigSnapshot(n int) model.Snapshot {
	s := healthySnapshot()
	s.Topology.Groups[0].Traffic[0] = workload("traffic-default", model.RoleTraffic, "default", "7.7.20240830", int32(n), 10*time.Hour)
	return s
}
