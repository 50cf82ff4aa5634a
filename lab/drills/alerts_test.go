package drills

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/lab/labtest"
	"github.com/apimctl/apimctl/lab/traffic"
	"github.com/apimctl/apimctl/ops/inspect"
	"github.com/apimctl/apimctl/ops/live"
	"github.com/apimctl/apimctl/ops/model"
)

// The alert drills: each provokes what one of the lab's alerting rules watches for, and
// follows the alert through Prometheus into the console's snapshot, linked to the resource it
// names, and on into that resource's drill-down.

// watchAlerts runs the console's live model against the lab until the test ends.
func watchAlerts(t *testing.T, env *lab.Env) (*live.Live, *live.Connection) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	conn := live.Connect(ctx, labtest.Targets(env, lab.ContextName, env.Namespace), func(string) string { return "" })
	lv := live.NewLive(conn, live.LiveOptions{PollInterval: 2 * time.Second})
	lv.Start(ctx)
	return lv, conn
}

// waitAlert waits for the named alert in the given state in a published snapshot.
func waitAlert(t *testing.T, lv *live.Live, name, state string, within time.Duration) model.Alert {
	t.Helper()
	start := time.Now()
	deadline := time.After(within)
	var last []model.Alert
	for {
		select {
		case s, ok := <-lv.Updates():
			if !ok {
				t.Fatal("live model stopped")
			}
			last = s.Alerts
			for _, a := range s.Alerts {
				if a.Name == name && a.State == state {
					t.Logf("%s %s after %s: %s (%s)", name, state, time.Since(start).Round(time.Second), a.Summary, a.Subject)
					return a
				}
			}
		case <-deadline:
			t.Fatalf("no %s alert %s within %s; alerts: %+v", state, name, within, last)
		}
	}
}

// waitNoAlert waits until no alert of that name is active (one left from an earlier drill
// resolves within a probe and an evaluation).
func waitNoAlert(t *testing.T, lv *live.Live, name string, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case s, ok := <-lv.Updates():
			if !ok {
				t.Fatal("live model stopped")
			}
			active := false
			for _, a := range s.Alerts {
				active = active || a.Name == name
			}
			if !active && s.Source(model.SourcePrometheus).Synced {
				return
			}
		case <-deadline:
			t.Fatalf("alert %s still active after %s", name, within)
		}
	}
}

// TestCassandraNodeDownAlertAndDetail stops a Cassandra node: the CassandraNodeDown alert
// fires naming it, and its drill-down, asked of the node that does not answer, comes from its
// peers — unreachable, shut down as they see it, its identity still known.
func TestCassandraNodeDownAlertAndDetail(t *testing.T) {
	env := labtest.Require(t)
	if len(env.CassandraHosts) < 3 {
		t.Fatalf("the drill needs 3 Cassandra nodes, the lab has %d", len(env.CassandraHosts))
	}
	l := labtest.Open(t, env)
	restart := restarter(t, l, "cassandra", 5*time.Minute)
	restart() // all three up before the drill
	lv, conn := watchAlerts(t, env)
	waitNoAlert(t, lv, lab.AlertCassandraDown, time.Minute)
	victim := env.CassandraAddrs()[2]
	if err := l.Stop(context.Background(), "cassandra-3"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(restart)

	a := waitAlert(t, lv, lab.AlertCassandraDown, model.AlertFiring, 2*time.Minute)
	if a.Ref == nil || a.Ref.Kind != model.RefCassandra || a.Ref.Name != victim || a.Subject != "cassandra "+victim || a.Severity != "critical" {
		t.Fatalf("alert %+v ref %+v, want a link to cassandra %s", a, a.Ref, victim)
	}
	start := time.Now()
	d, err := inspect.New(conn).CassandraNode(context.Background(), a.Ref.Name)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("detail of the down node in %s: status %q, unreachable %q", time.Since(start).Round(time.Millisecond), d.Status, d.Unreachable)
	if d.Unreachable == "" || d.Node.Up || d.Node.HostID == "" || d.Node.DC == "" || d.Tokens == 0 {
		t.Errorf("node %+v unreachable %q tokens %d: want it unreachable, known by its peers", d.Node, d.Unreachable, d.Tokens)
	}
	if d.Status != "shutdown" {
		t.Errorf("status %q, want shutdown (a stopped node announces it)", d.Status)
	}
	host := strings.Split(victim, ":")[0]
	seen := 0
	for _, p := range d.Peers {
		if p.Observer == host {
			t.Errorf("the down node answered: %+v", p)
		}
		if p.Peer == host {
			seen++
			if p.Up {
				t.Errorf("%s sees the stopped node up: %+v", p.Observer, p)
			}
		}
	}
	if seen != 2 {
		t.Errorf("%d peers report on the down node, want 2", seen)
	}
}

// trafficTag is the image tag the traffic gateways run.
func trafficTag(t *testing.T, cs kubernetes.Interface, ns string) string {
	t.Helper()
	d, err := cs.AppsV1().Deployments(ns).Get(context.Background(), "traffic", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	img := d.Spec.Template.Spec.Containers[0].Image
	return img[strings.LastIndex(img, ":")+1:]
}

// readyTrafficPods lists the traffic pods that are ready.
func readyTrafficPods(t *testing.T, cs kubernetes.Interface, ns string) []string {
	t.Helper()
	pods, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "apimctl.dev/role=traffic"})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				out = append(out, p.Name)
			}
		}
	}
	return out
}

// replacePod deletes a traffic pod and waits until the Deployment has as many ready ones
// again; it returns the new pod.
func replacePod(t *testing.T, cs kubernetes.Interface, ns, name string) string {
	t.Helper()
	before := readyTrafficPods(t, cs, ns)
	if err := cs.CoreV1().Pods(ns).Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		now := readyTrafficPods(t, cs, ns)
		if len(now) >= len(before) {
			for _, p := range now {
				if !strings.Contains(strings.Join(before, " "), p) {
					return p
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no replacement for %s within 90s: ready %v", name, now)
		}
		time.Sleep(time.Second)
	}
}

// TestGroupErrorRateAlertFires makes one of the three traffic gateways answer 60 % of its
// requests with a 500 (`lab fault --error-rate`): under traffic, the group's 5xx alert goes
// pending, then firing, linked to the group's traffic, whose drill-down names the failing
// pod.
func TestGroupErrorRateAlertFires(t *testing.T) {
	env := labtest.Require(t)
	l := labtest.Open(t, env)
	cs := labtest.Clientset(t, env)
	tag := trafficTag(t, cs, env.Namespace)
	pods := readyTrafficPods(t, cs, env.Namespace)
	if len(pods) == 0 {
		t.Fatal("no ready traffic pod")
	}
	if err := l.SetFault(tag, lab.Fault{ErrorRate: 0.6}); err != nil {
		t.Fatal(err)
	}
	faulty := replacePod(t, cs, env.Namespace, pods[0])
	if err := l.SetFault(tag, lab.Fault{}); err != nil { // only the replacement has it
		t.Fatal(err)
	}
	t.Cleanup(func() { replacePod(t, cs, env.Namespace, faulty) })
	t.Logf("pod %s answers 60 %% of its requests with a 500", faulty)

	lv, conn := watchAlerts(t, env)
	waitNoAlert(t, lv, lab.AlertGroupErrors, 2*time.Minute)
	o, err := l.TrafficOptions(20, 90*time.Second) // bounded: at most 1800 requests
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); _, _ = traffic.Run(ctx, o) }()
	defer func() { cancel(); <-done }()

	waitAlert(t, lv, lab.AlertGroupErrors, model.AlertPending, time.Minute)
	a := waitAlert(t, lv, lab.AlertGroupErrors, model.AlertFiring, time.Minute)
	if a.Ref == nil || a.Ref.Kind != model.RefTraffic || a.Ref.Group != "default" || a.Ref.API != "" || a.Severity != "critical" || !strings.Contains(a.Summary, "%") {
		t.Fatalf("alert %+v ref %+v: want a link to group default's traffic", a, a.Ref)
	}
	d, err := inspect.New(conn).Traffic(context.Background(), a.Ref.Group, a.Ref.API)
	if err != nil {
		t.Fatal(err)
	}
	if d.ErrorRatio.Last() < 0.05 || len(d.TopErrors) == 0 || d.TopErrors[0].Code != "5xx" {
		t.Errorf("traffic detail: 5xx ratio %.3f, errors %+v", d.ErrorRatio.Last(), d.TopErrors)
	}
	var worst model.PodRate
	for _, p := range d.Pods {
		if p.ErrorRatio > worst.ErrorRatio {
			worst = p
		}
	}
	if worst.Pod != faulty || worst.ErrorRatio < 0.3 {
		t.Errorf("the worst pod is %+v, want %s near 60 %%", worst, faulty)
	}
}

// TestHPAAtMaximumAlertFires lowers the traffic HPA's maximum to the replicas it runs: the
// HPA-at-maximum alert fires (kube-state-metrics' series), linked to the HPA.
func TestHPAAtMaximumAlertFires(t *testing.T) {
	env := labtest.Require(t)
	cs := labtest.Clientset(t, env)
	ctx := context.Background()
	hpas := cs.AutoscalingV2().HorizontalPodAutoscalers(env.Namespace)
	h, err := hpas.Get(ctx, "traffic", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	oldMax, current := h.Spec.MaxReplicas, h.Status.CurrentReplicas
	if current < 1 {
		t.Fatalf("HPA %+v has no current replicas", h.Status)
	}
	patch := func(n int32) {
		p := []byte(`{"spec":{"maxReplicas":` + strconv.Itoa(int(n)) + `}}`)
		if _, err := hpas.Patch(ctx, "traffic", types.MergePatchType, p, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	lv, _ := watchAlerts(t, env)
	waitNoAlert(t, lv, lab.AlertHPAAtMax, time.Minute)
	patch(max(current, *h.Spec.MinReplicas))
	t.Cleanup(func() { patch(oldMax) })

	a := waitAlert(t, lv, lab.AlertHPAAtMax, model.AlertFiring, 3*time.Minute)
	if a.Ref == nil || a.Ref.Kind != model.RefHPA || a.Ref.Name != "traffic" || a.Ref.Namespace != env.Namespace || a.Subject != "hpa/traffic" {
		t.Fatalf("alert %+v ref %+v: want a link to hpa/traffic", a, a.Ref)
	}
}
