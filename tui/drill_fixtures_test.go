package tui

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/apimctl/apimctl/ops/model"
)

// fakeInspector stands in for ops/inspect in the TUI's own tests (the lab test drives the
// console with the real one): fixed pod and Deployment details, logs from a list, and what a
// deleted pod or a missing context makes the real one answer.
type fakeInspector struct {
	mu      sync.Mutex
	pods    map[string]model.PodDetail
	gone    map[string]bool
	podErr  error
	logs    map[string][]string // by pod, "<pod>/previous" for the previous instance
	logErr  error
	more    chan string // lines a followed log delivers after the first
	deploys map[string]model.DeploymentDetail
	reads   int
}

func (f *fakeInspector) Pod(_ context.Context, ns, name string) (*model.PodDetail, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.podErr != nil {
		return nil, f.podErr
	}
	if f.gone[name] {
		d := model.PodGone(nil, ns, name, fixedNow.Add(-5*time.Second))
		return &d, nil
	}
	d, ok := f.pods[name]
	if !ok {
		return nil, fmt.Errorf("pod %s/%s: not found in the fixture", ns, name)
	}
	return &d, nil
}

func (f *fakeInspector) Logs(ctx context.Context, req model.LogRequest, line func(string)) error {
	f.mu.Lock()
	err, key := f.logErr, req.Pod
	if req.Previous {
		key += "/previous"
	}
	lines := f.logs[key]
	more := f.more
	f.mu.Unlock()
	if err != nil {
		return err
	}
	if req.Previous && lines == nil {
		return errors.New(`previous terminated container "traffic" in pod "` + req.Pod + `" not found`)
	}
	for _, l := range lines {
		line(l)
	}
	if !req.Follow {
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case l, ok := <-more:
			if !ok {
				return nil
			}
			line(l)
		}
	}
}

func (f *fakeInspector) Deployment(_ context.Context, ns, name string) (*model.DeploymentDetail, error) {
	d, ok := f.deploys[name]
	if !ok {
		return nil, fmt.Errorf("deployment %s/%s does not exist (deleted, or another namespace)", ns, name)
	}
	return &d, nil
}

const crashPod = "traffic-default-7d9f8b6c5d-00001"

// crashDetail is the degraded fixture's crash-looping traffic pod, as the inspector judges it.
func crashDetail() model.PodDetail {
	started := func(ago time.Duration) time.Time { return fixedNow.Add(-ago) }
	d := model.PodDetail{
		PodState: model.PodState{Name: crashPod, Phase: "Running", Restarts: 14, Node: "aks-gateway-1", Zone: "westeurope-2",
			IP: "127.0.1.2", Image: "registry.example/apim/gateway:7.7.20240830", Tag: "7.7.20240830", Created: fixedNow.Add(-50 * time.Hour), Reason: "CrashLoopBackOff"},
		Namespace: "apim", Owner: "ReplicaSet traffic-default-7d9f8b6c5d ← Deployment traffic-default",
		Conditions: []model.Condition{
			{Type: "PodScheduled", Status: "True", LastTransitionTime: fixedNow.Add(-50 * time.Hour)},
			{Type: "Initialized", Status: "True", LastTransitionTime: fixedNow.Add(-50 * time.Hour)},
			{Type: "ContainersReady", Status: "False", Reason: "ContainersNotReady", Message: "containers with unready status: [traffic]", LastTransitionTime: started(75 * time.Second)},
			{Type: "Ready", Status: "False", Reason: "ContainersNotReady", Message: "containers with unready status: [traffic]", LastTransitionTime: started(75 * time.Second)},
		},
		Containers: []model.ContainerDetail{{
			Name: "traffic", Image: "registry.example/apim/gateway:7.7.20240830",
			ImageID: "registry.example/apim/gateway@sha256:4f1c2a7e1b9d4d0a9a510c5e8b1f3d214f1c2a7e1b9d4d0a9a510c5e8b1f3d21",
			State:   "waiting", Reason: "CrashLoopBackOff", Message: "back-off 5m0s restarting failed container=traffic pod=" + crashPod,
			Since: started(75 * time.Second), Restarts: 14,
			LastTermination: &model.Termination{Reason: "Error", ExitCode: 1, StartedAt: started(80 * time.Second), FinishedAt: started(75 * time.Second),
				Message: "precheck failed: cassandra at 127.0.0.3:9042 not reachable after 5s"},
			Requests: model.Resources{CPUMillis: 1000, MemoryBytes: 2 << 30}, Limits: model.Resources{CPUMillis: 2000, MemoryBytes: 4 << 30},
			Readiness: "http-get :traffic/healthcheck every 5s, timeout 1s, 3 failures",
			Liveness:  "http-get :admin/healthcheck/live every 10s, timeout 1s, 3 failures",
		}},
		RestartTimes: []time.Time{started(50 * time.Hour), started(75 * time.Second)},
		Events: []model.EventInfo{
			{Time: started(75 * time.Second), Type: "Warning", Reason: "BackOff", Object: "Pod/" + crashPod, Message: "Back-off restarting failed container traffic in pod " + crashPod, Count: 14},
			{Time: started(80 * time.Second), Type: "Normal", Reason: "Started", Object: "Pod/" + crashPod, Message: "Started container traffic", Count: 15},
			{Time: started(50 * time.Hour), Type: "Normal", Reason: "Scheduled", Object: "Pod/" + crashPod, Message: "Successfully assigned apim/" + crashPod + " to aks-gateway-1", Count: 1},
		},
		UsageNote: "the metrics API has no measurement of this pod yet",
	}
	d.NotReady = model.NotReadyReason(&d)
	return d
}

// readyDetail is a healthy traffic pod with its usage.
func readyDetail(name string) model.PodDetail {
	d := crashDetail()
	d.Name, d.Reason, d.Restarts, d.Ready, d.UsageNote = name, "", 0, true, ""
	d.Conditions = d.Conditions[:2]
	d.Conditions = append(d.Conditions, model.Condition{Type: "Ready", Status: "True", LastTransitionTime: fixedNow.Add(-49 * time.Hour)})
	c := &d.Containers[0]
	c.State, c.Reason, c.Message, c.Ready, c.Restarts, c.LastTermination = "running", "", "", true, 0, nil
	c.Since = fixedNow.Add(-49 * time.Hour)
	c.Usage = &model.Resources{CPUMillis: 412, MemoryBytes: 1610 << 20}
	d.RestartTimes, d.Events = nil, d.Events[1:]
	d.NotReady = model.NotReadyReason(&d)
	return d
}

// gatewayLog is what an apigw prints, in its own words.
func gatewayLog(pod string, n int) []string {
	out := []string{
		`{"time":"2026-03-14T02:58:00Z","level":"INFO","msg":"starting apigw","role":"traffic","group":"default","instance":"` + pod + `","imageTag":"7.7.20240830"}`,
		`{"time":"2026-03-14T02:58:00Z","level":"WARN","msg":"precheck waiting","role":"traffic","dependency":"cassandra","address":"127.0.0.3:9042","attempt":1,"err":"dial tcp 127.0.0.3:9042: connect: connection refused"}`,
	}
	for i := len(out); i < n; i++ {
		out = append(out, fmt.Sprintf(`{"time":"2026-03-14T02:59:%02dZ","level":"INFO","msg":"api published","role":"traffic","api":"orders-%d","path":"/orders/%d","policy":"apikey"}`, i%60, i, i))
	}
	return out
}

// trafficDeployment is the degraded fixture's default traffic Deployment with its HPA's
// history: scaled up under load, then down, then its metrics went.
func trafficDeployment(s model.Snapshot) model.DeploymentDetail {
	g := s.Topology.Groups[0]
	h := *g.HPA
	h.Events = append(append([]model.EventInfo(nil), h.Events...),
		model.EventInfo{Time: fixedNow.Add(-3 * time.Hour), Type: "Normal", Reason: "SuccessfulRescale", Object: "HorizontalPodAutoscaler/" + h.Name,
			Message: "New size: 6; reason: cpu resource utilization (percentage of request) above target", Count: 1},
		model.EventInfo{Time: fixedNow.Add(-2 * time.Hour), Type: "Normal", Reason: "SuccessfulRescale", Object: "HorizontalPodAutoscaler/" + h.Name,
			Message: "New size: 10; reason: cpu resource utilization (percentage of request) above target", Count: 1})
	wl := g.Traffic[0]
	wl.Pods = nil
	d := model.DeploymentDetail{
		Workload: wl, HPA: &h, Decisions: model.HPADecisions(h.Events, h.CPUTargetPercent),
		Revisions: []model.Revision{
			{Revision: 2, Image: "registry.example/apim/gateway:7.7.20240228", Created: fixedNow.Add(-900 * time.Hour), ChangeCause: "apimctl rollout set-image default 7.7.20240228"},
			{Revision: 3, Image: "registry.example/apim/gateway:7.7.20240530", Created: fixedNow.Add(-500 * time.Hour), ChangeCause: "apimctl rollout undo to revision 2"},
			{Revision: 4, Image: "registry.example/apim/gateway:7.7.20240830", Created: fixedNow.Add(-50 * time.Hour), Replicas: 3, Current: true, ChangeCause: "apimctl rollout set-image default 7.7.20240830"},
		},
		Events: []model.EventInfo{{Time: fixedNow.Add(-3 * time.Minute), Type: "Normal", Reason: "ScalingReplicaSet", Object: "Deployment/" + wl.Name,
			Message: "Scaled up replica set traffic-default-7d9f8b6c5d from 2 to 3", Count: 1}},
	}
	d.ScaleLimit = model.ScaleLimit(&h, &d.Workload, nil, nil)
	return d
}

func newFakeInspector(s model.Snapshot) *fakeInspector {
	return &fakeInspector{
		pods: map[string]model.PodDetail{crashPod: crashDetail(), "traffic-default-7d9f8b6c5d-00000": readyDetail("traffic-default-7d9f8b6c5d-00000")},
		gone: map[string]bool{},
		logs: map[string][]string{
			crashPod:               gatewayLog(crashPod, 40),
			crashPod + "/previous": append(gatewayLog(crashPod, 2), `{"time":"2026-03-14T02:58:05Z","level":"ERROR","msg":"apigw stopped","err":"precheck failed: cassandra at 127.0.0.3:9042 not reachable after 5s"}`),
		},
		more:    make(chan string, 16),
		deploys: map[string]model.DeploymentDetail{"traffic-default": trafficDeployment(s)},
	}
}

// pending are the commands settle left running (a followed log waiting for its next line):
// their messages are taken in by a later settle or by poll.
var pending = map[*Model][]chan tea.Msg{}

// settle runs cmd and whatever the messages it yields lead to, feeding them to m, until no
// command is left or those left block (a stream waiting for more, a tick, the feed); the
// blocked ones stay pending.
func settle(m *Model, cmd tea.Cmd) {
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		ch := make(chan tea.Msg, 1)
		go func() { ch <- c() }()
		select {
		case msg := <-ch:
			queue = append(queue, take(m, msg)...)
		case <-time.After(200 * time.Millisecond):
			pending[m] = append(pending[m], ch)
		}
		if len(queue) == 0 {
			queue = poll(m, 0)
		}
	}
}

// take feeds a message to m and returns the commands it yields.
func take(m *Model, msg tea.Msg) []tea.Cmd {
	switch msg := msg.(type) {
	case tea.BatchMsg:
		return msg
	case nil:
		return nil
	}
	_, next := m.Update(msg)
	return []tea.Cmd{next}
}

// poll takes in the messages of pending commands that finished, waiting up to d for one.
func poll(m *Model, d time.Duration) []tea.Cmd {
	var cmds []tea.Cmd
	deadline := time.Now().Add(d)
	for {
		var left []chan tea.Msg
		for _, ch := range pending[m] {
			select {
			case msg := <-ch:
				cmds = append(cmds, take(m, msg)...)
			default:
				left = append(left, ch)
			}
		}
		pending[m] = left
		if len(cmds) > 0 || time.Now().After(deadline) {
			return cmds
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settleUntil settles pending commands until ok holds or d has passed: for a command that
// may take longer than settle waits on a busy machine (a file written, a stream read).
func settleUntil(m *Model, d time.Duration, ok func() bool) {
	for deadline := time.Now().Add(d); !ok() && time.Now().Before(deadline); {
		settlePending(m, 50*time.Millisecond)
	}
}

// settlePending waits up to d for a pending command and settles what follows.
func settlePending(m *Model, d time.Duration) {
	for _, c := range poll(m, d) {
		settle(m, c)
	}
}

// openCrashPod drives the console at a size over the degraded snapshot (snap) with a fake
// inspector (f), opens the crash-looping pod's detail from the pods view and presses more
// (l: its logs).
func openCrashPod(t testing.TB, w, h int, more ...string) (m *Model, f *fakeInspector, snap model.Snapshot) {
	t.Helper()
	snap = degradedSnapshot()
	f = newFakeInspector(snap)
	m = drive(t, w, h, &snap, Options{Inspector: f})
	pressSettle(m, append([]string{"2", "/", "text:00001", "enter", "enter"}, more...)...)
	return m, f, snap
}

// pressSettle sends each key and settles what it started.
func pressSettle(m *Model, keys ...string) {
	eachKey(keys, func(k tea.KeyPressMsg) {
		_, cmd := m.Update(k)
		settle(m, cmd)
	})
}

func cutText(k string) (string, bool) {
	if len(k) > 5 && k[:5] == "text:" {
		return k[5:], true
	}
	return "", false
}
