package live_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apimctl/apimctl/ops/live"
	"github.com/apimctl/apimctl/ops/model"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/lab/labtest"
)

func noEnv(string) string { return "" }

// startLive runs the live model against the lab until the test ends.
func startLive(t *testing.T, targets live.Targets, opts live.LiveOptions) (*live.Live, *live.Connection) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	conn := live.Connect(ctx, targets, noEnv)
	if conn.KubeErr != nil {
		t.Fatal(conn.KubeErr)
	}
	l := live.NewLive(conn, opts)
	l.Start(ctx)
	return l, conn
}

// waitFor returns the first published snapshot satisfying ok.
func waitFor(t *testing.T, l *live.Live, within time.Duration, what string, ok func(model.Snapshot) bool) model.Snapshot {
	t.Helper()
	deadline := time.After(within)
	var last model.Snapshot
	for {
		select {
		case s, open := <-l.Updates():
			if !open {
				t.Fatalf("updates closed waiting for %s", what)
			}
			last = s
			if ok(s) {
				return s
			}
		case <-deadline:
			t.Fatalf("no snapshot with %s within %s; last: sources %+v", what, within, last.Sources)
		}
	}
}

func allSynced(s model.Snapshot) bool {
	for _, src := range s.Sources {
		if !src.Synced || src.Error != "" {
			return false
		}
	}
	return len(s.Sources) == 4
}

// TestLiveSeesTheLab: every source of the lab synced, fresh and correctly read.
func TestLiveSeesTheLab(t *testing.T) {
	env := labtest.Require(t)
	l, _ := startLive(t, labtest.Targets(env, lab.ContextName, env.Namespace), live.LiveOptions{PollInterval: time.Second})
	s := waitFor(t, l, 60*time.Second, "every source synced, topology, 3 Cassandra nodes and access", func(s model.Snapshot) bool {
		return allSynced(s) && len(s.Topology.Groups) > 0 && len(s.Cassandra.Nodes) == len(env.CassandraHosts) && s.Access.Known
	})
	if s.Identity != "apim-lab-admin" {
		t.Errorf("identity %q", s.Identity)
	}
	if !s.Access.Can("deployments/patch") || s.ReadOnly {
		t.Errorf("admin access %+v read-only %v", s.Access, s.ReadOnly)
	}
	if len(s.Topology.ANM) != 1 || s.Topology.ANM[0].Name != "anm" {
		t.Errorf("ANM %+v", s.Topology.ANM)
	}
	var g *model.GatewayGroup
	for i := range s.Topology.Groups {
		if s.Topology.Groups[i].Name == "default" {
			g = &s.Topology.Groups[i]
		}
	}
	if g == nil || len(g.Traffic) != 1 || len(g.APIManager) != 1 || g.HPA == nil {
		t.Fatalf("default group %+v", g)
	}
	if tr := g.Traffic[0]; tr.Desired != 3 || len(tr.Pods) < 3 || tr.MaxSurge != "1" || tr.MaxUnavailable != "0" {
		t.Errorf("traffic workload %+v", tr)
	}
	if g.HPA.Min != 3 || g.HPA.Max != 12 || g.HPA.CPUTargetPercent != 75 {
		t.Errorf("HPA %+v", g.HPA)
	}
	zones := map[string]bool{}
	for _, p := range g.Traffic[0].Pods {
		zones[p.Zone] = true
		if !strings.HasPrefix(p.IP, "127.") && p.IP != "" {
			t.Errorf("pod %s IP %s", p.Name, p.IP)
		}
	}
	if len(zones) < 3 {
		t.Errorf("traffic pods in zones %v, want 3", zones)
	}
	if len(s.Nodes) != 4 {
		t.Errorf("nodes %d", len(s.Nodes))
	}
	for _, k := range s.Cassandra.Keyspaces {
		if (k.Name == env.Keyspace || k.Name == env.ThrottleKeyspace) && (!k.QuorumReachable || k.ReplicationFactor != 3 || k.ReplicasUp != 3) {
			t.Errorf("keyspace %+v", k)
		}
	}
	if s.Cassandra.SchemaVersions != 1 {
		t.Errorf("schema versions %d", s.Cassandra.SchemaVersions)
	}
	m := s.MySQL
	if !m.Reachable || !strings.Contains(m.Version, "MariaDB") || !m.TLS || m.MaxConnections != 200 || m.ThreadsConnected < 1 {
		t.Errorf("mysql %+v", m)
	}
}

// TestViewerIsReadOnly: the lab's oncall-viewer may only read; the model says so.
func TestViewerIsReadOnly(t *testing.T) {
	env := labtest.Require(t)
	l, _ := startLive(t, labtest.Targets(env, lab.ViewerContext, env.Namespace), live.LiveOptions{PollInterval: time.Second})
	s := waitFor(t, l, 60*time.Second, "access known and kube synced", func(s model.Snapshot) bool {
		return s.Access.Known && s.Source(model.SourceKube).Synced && len(s.Topology.Groups) > 0
	})
	if s.Identity != "oncall-viewer" {
		t.Errorf("identity %q", s.Identity)
	}
	if s.Access.Can("deployments/patch") || s.Access.Can("pods/delete") || s.Access.Can("secrets/get") {
		t.Errorf("viewer may act: %+v", s.Access.Allowed)
	}
	if !s.ReadOnly {
		t.Error("a viewer without permitted actions is not shown read-only")
	}
}

// TestNoListWhileIdle: after the informers synced, the console's kube client issues no LIST
// (watches only) for a quiet period.
func TestNoListWhileIdle(t *testing.T) {
	env := labtest.Require(t)
	l, conn := startLive(t, labtest.Targets(env, lab.ContextName, env.Namespace), live.LiveOptions{PollInterval: time.Second})
	waitFor(t, l, 60*time.Second, "kube synced", func(s model.Snapshot) bool { return s.Source(model.SourceKube).Synced })
	before := conn.Kube.Stats.List.Load()
	watches := conn.Kube.Stats.Watch.Load()
	t.Logf("at sync: LIST %d, WATCH %d, GET %d", before, watches, conn.Kube.Stats.Get.Load())
	// client-go lists either by LIST or, with streaming lists, by a watch that sends the
	// initial state: either way the informers must have opened their watches.
	if watches < 9 {
		t.Fatalf("%d watches opened, want one per informer (9): the counter or the informers are wrong", watches)
	}
	time.Sleep(8 * time.Second)
	if after := conn.Kube.Stats.List.Load(); after != before {
		t.Errorf("%d LIST requests while idle", after-before)
	}
	t.Logf("LIST at start %d, watches %d, gets %d", before, conn.Kube.Stats.Watch.Load(), conn.Kube.Stats.Get.Load())
}

// TestBadTargetsFailAlone: a Cassandra and a MySQL that do not answer fail on their own, with
// errors, while kube stays fresh.
func TestBadTargetsFailAlone(t *testing.T) {
	env := labtest.Require(t)
	tg := labtest.Targets(env, lab.ContextName, env.Namespace)
	tg.CassandraHosts = []string{"127.0.0.1"}
	tg.CassandraPort = 1
	tg.MetricsDBURL = "jdbc:mysql://127.0.0.1:1/metrics"
	l, _ := startLive(t, tg, live.LiveOptions{PollInterval: time.Second, CallTimeout: 2 * time.Second})
	s := waitFor(t, l, 30*time.Second, "kube synced and the two failures", func(s model.Snapshot) bool {
		return s.Source(model.SourceKube).Synced && s.Source(model.SourceCassandra).Error != "" && s.Source(model.SourceMySQL).Error != ""
	})
	if s.Source(model.SourceKube).Error != "" || s.Source(model.SourcePrometheus).Error != "" {
		t.Errorf("healthy sources report errors: %+v", s.Sources)
	}
	if model.Verdict(s) != model.Degraded {
		t.Errorf("verdict %s", model.Verdict(s))
	}
}

// TestTrafficScaledToOneIsAFinding deploys the topology without its HPA into a fresh
// namespace, scales traffic to 1 and expects the TRF-003 error while it is so.
func TestTrafficScaledToOneIsAFinding(t *testing.T) {
	env := labtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cs := labtest.Clientset(t, env)
	ns, objs := labtest.Topology(t, env, "it-scale1")
	var keep []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() != "HorizontalPodAutoscaler" && o.GetKind() != "Namespace" {
			keep = append(keep, o)
		}
	}
	labtest.Apply(ctx, t, env, keep)
	tg := labtest.Targets(env, lab.ContextName, env.Namespace)
	tg.Namespace = ns
	live, _ := startLive(t, tg, live.LiveOptions{PollInterval: time.Second})
	has := func(s model.Snapshot, id string) bool {
		for _, f := range s.Findings {
			if f.ID == id && strings.Contains(f.Subject, "traffic") {
				return true
			}
		}
		return false
	}
	waitFor(t, live, 90*time.Second, "3 traffic pods ready and no TRF-003", func(s model.Snapshot) bool {
		for _, g := range s.Topology.Groups {
			for _, w := range g.Traffic {
				if w.Ready == 3 {
					return !has(s, "TRF-003")
				}
			}
		}
		return false
	})
	patch := []byte(`{"spec":{"replicas":1}}`)
	if _, err := cs.AppsV1().Deployments(ns).Patch(ctx, "traffic", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	s := waitFor(t, live, 90*time.Second, "the TRF-003 finding", func(s model.Snapshot) bool { return has(s, "TRF-003") })
	for _, f := range s.Findings {
		if f.ID == "TRF-003" {
			if f.Severity != model.SeverityError || f.Fix == "" {
				t.Errorf("finding %+v", f)
			}
			t.Logf("%s %s: %s — fix: %s", f.ID, f.Subject, f.Message, f.Fix)
		}
	}
	if model.Verdict(s) != model.Degraded {
		t.Errorf("verdict %s with traffic at 1", model.Verdict(s))
	}
}

// TestHPAReadsRealUtilisation: the lab's metrics-server serves the gateway processes' CPU, so
// the HPA reads a current utilisation and HPA-004 (cannot read metrics) goes away.
func TestHPAReadsRealUtilisation(t *testing.T) {
	env := labtest.Require(t)
	l, _ := startLive(t, labtest.Targets(env, lab.ContextName, env.Namespace), live.LiveOptions{PollInterval: time.Second})
	s := waitFor(t, l, 4*time.Minute, "the HPA reading CPU utilisation", func(s model.Snapshot) bool {
		for _, g := range s.Topology.Groups {
			if g.Name == "default" && g.HPA != nil && g.HPA.CPUCurrentPercent != nil {
				return true
			}
		}
		return false
	})
	for _, g := range s.Topology.Groups {
		if g.Name == "default" {
			t.Logf("hpa %s: cpu %d%% of %d%%, %d replicas", g.HPA.Name, *g.HPA.CPUCurrentPercent, g.HPA.CPUTargetPercent, g.HPA.Current)
		}
	}
	for _, f := range s.Findings {
		if f.ID == "HPA-004" {
			t.Errorf("HPA-004 while the HPA reads metrics: %s", f.Message)
		}
	}
}
