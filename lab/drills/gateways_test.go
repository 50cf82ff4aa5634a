package drills

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/lab/agent"
	"github.com/apimctl/apimctl/lab/labtest"
	"github.com/apimctl/apimctl/lab/traffic"
)

func gatewayLab(t *testing.T) (*lab.Env, *lab.Lab, kubernetes.Interface) {
	t.Helper()
	env := labtest.Require(t)
	l := labtest.Open(t, env)
	cs := labtest.Clientset(t, env)
	return env, l, cs
}

// promQuery returns the result vector of an instant query as label sets with values.
func promQuery(t *testing.T, env *lab.Env, q string) []map[string]string {
	t.Helper()
	resp, err := http.Get(env.PrometheusURL + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, s := range r.Data.Result {
		s.Metric["__value"] = fmt.Sprint(s.Value[1])
		out = append(out, s.Metric)
	}
	return out
}

func eventually(t *testing.T, within time.Duration, what string, f func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, state := f()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s (%s)", what, within, state)
		}
		time.Sleep(time.Second)
	}
}

// setReplicas scales the traffic gateways the way a cluster with an HPA allows: by pinning
// the HPA's bounds to n. A manual scale would be undone by the HPA, which reads real
// utilisation in the lab; lowering maxReplicas scales down at once, past the stabilisation
// window. releaseHPA restores the reference bounds.
func setReplicas(t *testing.T, cs kubernetes.Interface, ns string, n int) {
	t.Helper()
	patchHPA(t, cs, ns, n, n)
}

// pinTraffic holds the traffic gateways at n for the test (the HPA would otherwise follow the
// load the drills themselves create) and releases the HPA when the test ends.
func pinTraffic(t *testing.T, cs kubernetes.Interface, ns string, n int) {
	t.Helper()
	setReplicas(t, cs, ns, n)
	t.Cleanup(func() { releaseHPA(t, cs, ns) })
	readyTraffic(t, cs, ns, n, 3*time.Minute)
}

func releaseHPA(t *testing.T, cs kubernetes.Interface, ns string) {
	t.Helper()
	patchHPA(t, cs, ns, 3, 12)
}

func patchHPA(t *testing.T, cs kubernetes.Interface, ns string, min, max int) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"minReplicas":%d,"maxReplicas":%d}}`, min, max)
	if _, err := cs.AutoscalingV2().HorizontalPodAutoscalers(ns).Patch(context.Background(), "traffic", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

func readyTraffic(t *testing.T, cs kubernetes.Interface, ns string, want int, within time.Duration) {
	t.Helper()
	eventually(t, within, fmt.Sprintf("%d traffic pods Ready", want), func() (bool, string) {
		d, err := cs.AppsV1().Deployments(ns).Get(context.Background(), "traffic", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		s := d.Status
		// ObservedGeneration first: right after a change the status still describes the
		// converged previous generation.
		return s.ObservedGeneration >= d.Generation && s.ReadyReplicas == int32(want) && s.Replicas == int32(want) &&
				s.UpdatedReplicas == int32(want) && s.AvailableReplicas == int32(want),
			fmt.Sprintf("generation %d observed %d, replicas %d ready %d updated %d available %d", d.Generation, s.ObservedGeneration,
				s.Replicas, s.ReadyReplicas, s.UpdatedReplicas, s.AvailableReplicas)
	})
}

func trafficRecords(t *testing.T, l *lab.Lab, ns string) []agent.Record {
	t.Helper()
	recs, err := l.GatewayProcesses()
	if err != nil {
		t.Fatal(err)
	}
	var out []agent.Record
	for _, r := range recs {
		if r.Namespace == ns && strings.HasPrefix(r.Pod, "traffic-") && r.Alive() {
			out = append(out, r)
		}
	}
	return out
}

// TestGatewayKilledRestartsAndIsScraped kills one traffic gateway process by the PID the agent
// recorded: the pod's restart count rises, a new process serves, and Prometheus scrapes it
// (the pod's process_start_time_seconds moves to the new process).
func TestGatewayKilledRestartsAndIsScraped(t *testing.T) {
	env, l, cs := gatewayLab(t)
	ns := env.Namespace
	pinTraffic(t, cs, ns, 3)
	recs := trafficRecords(t, l, ns)
	if len(recs) == 0 {
		t.Fatal("no traffic gateway process recorded")
	}
	victim := recs[0]
	pod, err := cs.CoreV1().Pods(ns).Get(context.Background(), victim.Pod, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before := pod.Status.ContainerStatuses[0].RestartCount
	killed := time.Now()
	if err := syscall.Kill(victim.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed %s (pid %d, restarts %d)", victim.Pod, victim.PID, before)
	eventually(t, 60*time.Second, "restart counted and pod Ready again", func() (bool, string) {
		p, err := cs.CoreV1().Pods(ns).Get(context.Background(), victim.Pod, metav1.GetOptions{})
		if err != nil || len(p.Status.ContainerStatuses) == 0 {
			return false, fmt.Sprint(err)
		}
		c := p.Status.ContainerStatuses[0]
		return c.RestartCount > before && c.Ready, fmt.Sprintf("restarts %d ready %t", c.RestartCount, c.Ready)
	})
	var now agent.Record
	for _, r := range trafficRecords(t, l, ns) {
		if r.Pod == victim.Pod {
			now = r
		}
	}
	if now.PID == 0 || now.PID == victim.PID || now.IP != victim.IP {
		t.Fatalf("after the kill: %+v (was pid %d on %s)", now, victim.PID, victim.IP)
	}
	eventually(t, 60*time.Second, "Prometheus scrapes the new process", func() (bool, string) {
		res := promQuery(t, env, fmt.Sprintf(`process_start_time_seconds{pod=%q}`, victim.Pod))
		for _, m := range res {
			var v float64
			fmt.Sscan(m["__value"], &v)
			if v >= float64(killed.Unix()-1) && m["instance"] == victim.IP+":8085" {
				return true, ""
			}
		}
		return false, fmt.Sprint(res)
	})
}

// TestScaleTrafficToFive scales the traffic Deployment to 5: five processes serve the
// generator's traffic; then back to 3 (the HPA's minimum).
func TestScaleTrafficToFive(t *testing.T) {
	env, l, cs := gatewayLab(t)
	ns := env.Namespace
	t.Cleanup(func() { setReplicas(t, cs, ns, 3); readyTraffic(t, cs, ns, 3, 2*time.Minute); releaseHPA(t, cs, ns) })
	setReplicas(t, cs, ns, 5)
	readyTraffic(t, cs, ns, 5, 2*time.Minute)
	if n := len(trafficRecords(t, l, ns)); n != 5 {
		t.Fatalf("%d traffic processes for 5 pods", n)
	}
	o, err := l.TrafficOptions(100, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s, err := traffic.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sent %d ok %d failed %d over %d pods: %v", s.Sent, s.OK, s.Failed, len(s.ByTarget), s.ByTarget)
	if len(s.ByTarget) != 5 || s.Failed != 0 {
		t.Errorf("traffic reached %d pods with %d failures (%v), want 5 and 0", len(s.ByTarget), s.Failed, s.ByStatus)
	}
	setReplicas(t, cs, ns, 3)
	readyTraffic(t, cs, ns, 3, 2*time.Minute)
	eventually(t, 60*time.Second, "3 traffic processes", func() (bool, string) {
		n := len(trafficRecords(t, l, ns))
		return n == 3, fmt.Sprint(n)
	})
}

// TestPodDeletedUnderTraffic deletes a traffic pod while 100 req/s flow. The generator drops
// the pod when its deletion is seen (as endpoints would), apigw keeps serving through its drain
// delay with readiness off, and the agent sends SIGTERM only then: no request fails.
func TestPodDeletedUnderTraffic(t *testing.T) {
	env, l, cs := gatewayLab(t)
	ns := env.Namespace
	pinTraffic(t, cs, ns, 3)
	o, err := l.TrafficOptions(100, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	o.Progress = t.Logf
	done := make(chan *traffic.Summary, 1)
	go func() {
		s, err := traffic.Run(context.Background(), o)
		if err != nil {
			t.Error(err)
		}
		done <- s
	}()
	time.Sleep(8 * time.Second)
	victim := trafficRecords(t, l, ns)[0]
	if err := cs.CoreV1().Pods(ns).Delete(context.Background(), victim.Pod, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("deleted %s (pid %d, %s) under traffic", victim.Pod, victim.PID, victim.IP)
	s := <-done
	if s == nil {
		return
	}
	t.Logf("sent %d ok %d failed %d by status %v over %v", s.Sent, s.OK, s.Failed, s.ByStatus, s.ByTarget)
	for _, f := range s.Failures {
		t.Errorf("failed request at %s to %s%s: %s", f.At.Format("15:04:05.000"), f.Target, f.Path, f.Kind)
	}
	if s.Sent < 2500 {
		t.Errorf("only %d requests sent in 30s at 100/s", s.Sent)
	}
	eventually(t, 60*time.Second, "the deleted pod's process ends and the pod is gone", func() (bool, string) {
		_, err := cs.CoreV1().Pods(ns).Get(context.Background(), victim.Pod, metav1.GetOptions{})
		return !victim.Alive() && err != nil, fmt.Sprintf("alive %t, get %v", victim.Alive(), err)
	})
	readyTraffic(t, cs, ns, 3, 2*time.Minute)
}

// TestRolloutToNewTagReplacesEveryProcess rolls the traffic Deployment to tag 1.0.1 and back:
// every process is replaced, runs the new tag (APIM_IMAGE_TAG), and Prometheus shows
// apigw_info with the new image_tag for each new pod.
func TestRolloutToNewTagReplacesEveryProcess(t *testing.T) {
	env, l, cs := gatewayLab(t)
	ns := env.Namespace
	pinTraffic(t, cs, ns, 3)
	deps := cs.AppsV1().Deployments(ns)
	d, err := deps.Get(context.Background(), "traffic", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	oldImage := d.Spec.Template.Spec.Containers[0].Image
	repo := oldImage[:strings.LastIndexByte(oldImage, ':')]
	newTag := "1.0.1"
	if strings.HasSuffix(oldImage, ":"+newTag) {
		newTag = "1.0.0"
	}
	setImage := func(img string) {
		patch := `{"spec":{"template":{"spec":{"containers":[{"name":"traffic","image":"` + img + `"}]}}}}`
		if _, err := deps.Patch(context.Background(), "traffic", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	oldPIDs := map[int]bool{}
	for _, r := range trafficRecords(t, l, ns) {
		oldPIDs[r.PID] = true
	}
	t.Cleanup(func() { setImage(oldImage); readyTraffic(t, cs, ns, 3, 3*time.Minute) })
	setImage(repo + ":" + newTag)
	readyTraffic(t, cs, ns, 3, 3*time.Minute)
	var pods []string
	eventually(t, 60*time.Second, "3 traffic processes of the new tag", func() (bool, string) {
		recs := trafficRecords(t, l, ns)
		pods = pods[:0]
		ok := len(recs) == 3
		for _, r := range recs {
			ok = ok && r.Tag == newTag && !oldPIDs[r.PID]
			pods = append(pods, r.Pod)
		}
		return ok, fmt.Sprintf("%+v", recs)
	})
	eventually(t, 60*time.Second, "Prometheus shows the new tag for every new pod", func() (bool, string) {
		res := promQuery(t, env, fmt.Sprintf(`apigw_info{namespace=%q, image_tag=%q, role="traffic"}`, ns, newTag))
		seen := map[string]bool{}
		for _, m := range res {
			seen[m["pod"]] = true
		}
		for _, p := range pods {
			if !seen[p] {
				return false, fmt.Sprintf("pods %v, seen %v", pods, seen)
			}
		}
		return true, ""
	})
	var _ corev1.Pod
}
