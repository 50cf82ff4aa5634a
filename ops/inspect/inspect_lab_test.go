package inspect_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/lab/labtest"
	"github.com/apimctl/apimctl/ops/inspect"
	"github.com/apimctl/apimctl/ops/live"
	"github.com/apimctl/apimctl/ops/model"
)

// The inspector against the lab: real pods run by the lab agent (real apigw processes), their
// logs served by kwok through the API server, usage from metrics-server.

func connect(t *testing.T, env *lab.Env, kubeContext string) *live.Connection {
	return connectNS(t, env, kubeContext, env.Namespace)
}

func connectNS(t *testing.T, env *lab.Env, kubeContext, ns string) *live.Connection {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	return live.Connect(ctx, live.Targets{Kubeconfig: env.Kubeconfig, Context: kubeContext, Namespace: ns}, func(string) string { return "" })
}

// readyGateway is a Ready traffic pod of the lab.
func readyGateway(t *testing.T, cs kubernetes.Interface, ns string) *corev1.Pod {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		l, err := cs.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app=traffic"})
		if err != nil {
			t.Fatal(err)
		}
		for i := range l.Items {
			p := &l.Items[i]
			if p.DeletionTimestamp == nil && model.PodStateOf(p, nil).Ready {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no Ready traffic pod in %s", ns)
		}
		time.Sleep(time.Second)
	}
}

func TestPodOfALabGateway(t *testing.T) {
	env := labtest.Require(t)
	cs := labtest.Clientset(t, env)
	p := readyGateway(t, cs, env.Namespace)
	ins := inspect.New(connect(t, env, env.Context))
	// metrics-server measures every 15 s: the usage may take a scrape or two to appear.
	var d *model.PodDetail
	deadline := time.Now().Add(60 * time.Second)
	for {
		var err error
		if d, err = ins.Pod(t.Context(), "", p.Name); err != nil {
			t.Fatal(err)
		}
		if d.Containers[0].Usage != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(3 * time.Second)
	}
	c := d.Containers[0]
	if !d.Ready || d.NotReady != "" || d.Gone || c.State != "running" || !c.Ready {
		t.Fatalf("a Ready gateway judged %q (state %s, ready %v)", d.NotReady, c.State, c.Ready)
	}
	if !strings.HasPrefix(d.Node, "apimpool-") || !strings.HasPrefix(d.Zone, "zone-") || !strings.Contains(d.Owner, "← Deployment traffic") {
		t.Fatalf("placement: node %q zone %q owner %q", d.Node, d.Zone, d.Owner)
	}
	if c.Requests.CPUMillis != 1000 || c.Limits.MemoryBytes != 2<<30 || !strings.HasPrefix(c.Readiness, "http-get :traffic/healthcheck every 5s") {
		t.Fatalf("container spec: requests %+v limits %+v readiness %q", c.Requests, c.Limits, c.Readiness)
	}
	if c.Usage == nil || c.Usage.MemoryBytes < 1<<20 {
		t.Fatalf("no usage from the metrics API after 60 s: %+v (%s)", c.Usage, d.UsageNote)
	}
}

func TestLogsOfALabGateway(t *testing.T) {
	env := labtest.Require(t)
	p := readyGateway(t, labtest.Clientset(t, env), env.Namespace)
	ins := inspect.New(connect(t, env, env.Context))
	var lines []string
	if err := ins.Logs(t.Context(), model.LogRequest{Pod: p.Name, Container: "traffic"}, func(l string) { lines = append(lines, l) }); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(lines, "\n")
	if !strings.Contains(all, `"msg":"serving"`) || !strings.Contains(all, `"instance":"`+p.Name+`"`) {
		t.Fatalf("the log is not the gateway's own output:\n%s", all)
	}
	var tail []string
	if err := ins.Logs(t.Context(), model.LogRequest{Pod: p.Name, TailLines: 2}, func(l string) { tail = append(tail, l) }); err != nil {
		t.Fatal(err)
	}
	if len(tail) != 2 || tail[1] != lines[len(lines)-1] {
		t.Fatalf("tail 2: %q", tail)
	}
}

// TestCrashLoopLogsFollowAndPrevious: a followed log delivers the lines of the next
// instances as the pod restarts; the previous instance's log ends in its failure; the pod's
// judgement names the crash.
func TestCrashLoopLogsFollowAndPrevious(t *testing.T) {
	env := labtest.Require(t)
	ns, name := labtest.CrashingGateway(t, env, "inspect", false), "crashing-gateway"
	ins := inspect.New(connect(t, env, env.Context))

	// Follow from the start; the first instance's lines, then the next ones', must arrive.
	var mu sync.Mutex
	var lines []string
	starts := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, l := range lines {
			if strings.Contains(l, `"msg":"starting apigw"`) {
				n++
			}
		}
		return n
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		for ctx.Err() == nil { // until the container has started once, the log is refused
			err := ins.Logs(ctx, model.LogRequest{Namespace: ns, Pod: name, Follow: true}, func(l string) {
				mu.Lock()
				lines = append(lines, l)
				mu.Unlock()
			})
			if starts() > 0 {
				done <- err
				return
			}
			time.Sleep(500 * time.Millisecond)
		}
		done <- ctx.Err()
	}()
	for starts() < 2 && ctx.Err() == nil {
		time.Sleep(200 * time.Millisecond)
	}
	if starts() < 2 {
		mu.Lock()
		t.Fatalf("following the log did not deliver the restarted instance's lines within 90 s:\n%s", strings.Join(lines, "\n"))
	}
	cancel()
	<-done

	var prev []string
	if err := ins.Logs(t.Context(), model.LogRequest{Namespace: ns, Pod: name, Previous: true}, func(l string) { prev = append(prev, l) }); err != nil {
		t.Fatal(err)
	}
	if p := strings.Join(prev, "\n"); !strings.Contains(p, `precheck failed: cassandra at `) || !strings.Contains(p, `"msg":"precheck waiting"`) {
		t.Fatalf("previous instance's log:\n%s", p)
	}

	d, err := ins.Pod(t.Context(), ns, name)
	if err != nil {
		t.Fatal(err)
	}
	c := d.Containers[0]
	if d.Ready || c.Restarts < 1 || c.LastTermination == nil || c.LastTermination.ExitCode != 1 {
		t.Fatalf("crashing pod: ready %v restarts %d last %+v", d.Ready, c.Restarts, c.LastTermination)
	}
	reasons := map[string]bool{}
	for _, e := range d.Events {
		reasons[e.Reason] = true
	}
	if !reasons["Scheduled"] || !reasons["Started"] || len(d.RestartTimes) < 2 {
		t.Fatalf("the crashing pod's events (the scheduler's, the agent's): %+v; restart times %v", d.Events, d.RestartTimes)
	}
	if !strings.Contains(d.NotReady, "container traffic") {
		t.Fatalf("judgement %q does not name the container", d.NotReady)
	}
}

// TestBadInput: a container that never started, no previous instance, a pod deleted, a
// context that does not exist — each a clear error or a Gone detail, never a hang.
func TestBadInput(t *testing.T) {
	env := labtest.Require(t)
	cs := labtest.Clientset(t, env)
	ns, _ := labtest.Topology(t, env, "inspect-bad")
	ins := inspect.New(connect(t, env, env.Context))
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	// An image the lab does not run: its container never starts.
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "never-starts", Namespace: ns},
		Spec: corev1.PodSpec{NodeSelector: map[string]string{"agentpool": "apimpool"},
			Containers: []corev1.Container{{Name: "gw", Image: "127.0.0.1:1/not/run:here"}}}}
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var d *model.PodDetail
	for {
		var err error
		if d, err = ins.Pod(ctx, ns, "never-starts"); err != nil {
			t.Fatal(err)
		}
		if d.Containers[0].Reason == "ErrImagePull" || ctx.Err() != nil {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if !strings.HasPrefix(d.NotReady, "image 127.0.0.1:1/not/run:here cannot be pulled: ErrImagePull") {
		t.Fatalf("judgement %q", d.NotReady)
	}
	err := ins.Logs(ctx, model.LogRequest{Namespace: ns, Pod: "never-starts"}, func(string) {})
	if err == nil || !strings.Contains(err.Error(), `container "gw" in pod "never-starts" is waiting to start: ErrImagePull`) {
		t.Fatalf("logs of a container that never started: %v", err)
	}
	err = ins.Logs(ctx, model.LogRequest{Namespace: ns, Pod: "never-starts", Previous: true}, func(string) {})
	if err == nil || !strings.Contains(err.Error(), `previous terminated container "gw" in pod "never-starts" not found`) {
		t.Fatalf("previous logs without a previous instance: %v", err)
	}

	// Deleted: the detail comes back Gone.
	if err := cs.CoreV1().Pods(ns).Delete(ctx, "never-starts", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	for {
		if d, err = ins.Pod(ctx, ns, "never-starts"); err != nil {
			t.Fatal(err)
		}
		if d.Gone || ctx.Err() != nil {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if !d.Gone || d.GoneSince.IsZero() || d.Name != "never-starts" {
		t.Fatalf("deleted pod: %+v", d)
	}
	if err := ins.Logs(ctx, model.LogRequest{Namespace: ns, Pod: "never-starts"}, func(string) {}); err == nil || !strings.Contains(err.Error(), "no longer exists") {
		t.Fatalf("logs of a deleted pod: %v", err)
	}

	// A context that does not exist.
	bad := inspect.New(connect(t, env, "no-such-context"))
	if _, err := bad.Pod(ctx, ns, "x"); err == nil || !strings.Contains(err.Error(), `context "no-such-context"`) {
		t.Fatalf("pod through a missing context: %v", err)
	}
	if err := bad.Logs(ctx, model.LogRequest{Pod: "x"}, func(string) {}); err == nil || !strings.Contains(err.Error(), "no Kubernetes connection") {
		t.Fatalf("logs through a missing context: %v", err)
	}
	if _, err := bad.Deployment(ctx, ns, "traffic"); err == nil {
		t.Fatal("deployment through a missing context: no error")
	}
}

func TestDeploymentOfTheLab(t *testing.T) {
	env := labtest.Require(t)
	ins := inspect.New(connect(t, env, env.Context))
	d, err := ins.Deployment(t.Context(), "", "traffic")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Revisions) == 0 || !strings.Contains(d.Revisions[len(d.Revisions)-1].Image, "/apim/gateway:") {
		t.Fatalf("revisions: %+v", d.Revisions)
	}
	current := 0
	for _, r := range d.Revisions {
		if r.Current {
			current++
		}
	}
	if current != 1 || d.Workload.Name != "traffic" || d.Workload.NodePool != "apimpool" {
		t.Fatalf("%d current revisions; workload %+v", current, d.Workload)
	}
	if d.HPA == nil || d.HPA.Min != 3 || d.HPA.Max != 12 || d.HPA.CPUTargetPercent != 75 {
		t.Fatalf("HPA: %+v", d.HPA)
	}
	for _, dec := range d.Decisions {
		if dec.To < d.HPA.Min || dec.To > d.HPA.Max {
			t.Fatalf("a decision outside the HPA's bounds: %+v", dec)
		}
	}
	anm, err := ins.Deployment(t.Context(), "", "anm")
	if err != nil {
		t.Fatal(err)
	}
	if anm.HPA != nil || anm.ScaleLimit != "no HPA scales it: the replica count stays at 1" {
		t.Fatalf("anm: HPA %+v, limit %q", anm.HPA, anm.ScaleLimit)
	}
	if _, err := ins.Deployment(t.Context(), "", "no-such-deployment"); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("a missing Deployment: %v", err)
	}
}

// TestPodEventsFromMemory: once Start's index is in, a pod's events come from memory, the same
// as the LIST gives.
func TestPodEventsFromMemory(t *testing.T) {
	env := labtest.Require(t)
	ns := labtest.CrashingGateway(t, env, "inspect-events", false)
	conn := connectNS(t, env, env.Context, ns)
	var listed *model.PodDetail
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(time.Second) {
		var err error
		if listed, err = inspect.New(conn).Pod(t.Context(), "", "crashing-gateway"); err != nil {
			t.Fatal(err)
		}
		if len(listed.Events) >= 2 || time.Now().After(deadline) {
			break
		}
	}
	ins := inspect.New(conn)
	ins.Start(t.Context())
	deadline := time.Now().Add(60 * time.Second)
	for n, ok := ins.PodEventsHeld(); !ok; n, ok = ins.PodEventsHeld() {
		if time.Now().After(deadline) {
			t.Fatalf("the pod events were not in memory after 60 s (%d held)", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	held, err := ins.Pod(t.Context(), "", "crashing-gateway")
	if err != nil {
		t.Fatal(err)
	}
	key := func(d *model.PodDetail) map[string]int32 {
		out := map[string]int32{}
		for _, e := range d.Events {
			out[e.Type+" "+e.Reason+" "+e.Message] = max(out[e.Type+" "+e.Reason+" "+e.Message], e.Count)
		}
		return out
	}
	a, b := key(listed), key(held)
	if len(a) == 0 {
		t.Fatalf("listed %v, from memory %v", a, b)
	}
	for k, n := range a {
		if b[k] < n { // counts only grow meanwhile
			t.Fatalf("event %q: listed ×%d, from memory ×%d", k, n, b[k])
		}
	}
}
