package agent

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
)

// Restart backoff, as the kubelet's CrashLoopBackOff: doubling from 10 s to 5 min, reset
// after 10 min of running. The first restart is immediate.
const (
	backoffStart = 10 * time.Second
	backoffMax   = 5 * time.Minute
	backoffReset = 10 * time.Minute
	// shutdownGrace bounds how long the agent's own shutdown waits for each process.
	shutdownGrace = 20 * time.Second
)

// worker owns one pod: its process, probes and status.
type worker struct {
	a        *Agent
	uid      types.UID
	ns, name string
	notify   chan struct{}
	stop     chan struct{}
	stopOnce sync.Once

	mu        sync.Mutex
	pod       *corev1.Pod
	deleting  bool
	gone      bool
	ip        string
	image     string
	restarts  int32
	ready     bool
	running   bool
	pid       int
	startedAt time.Time
	waiting   *corev1.ContainerStateWaiting
	lastTerm  *corev1.ContainerStateTerminated
	reportMu  sync.Mutex
}

func newWorker(a *Agent, pod *corev1.Pod) *worker {
	w := &worker{a: a, uid: pod.UID, ns: pod.Namespace, name: pod.Name, pod: pod,
		notify: make(chan struct{}, 1), stop: make(chan struct{})}
	for _, cs := range pod.Status.ContainerStatuses {
		w.restarts = cs.RestartCount // survives an agent restart
	}
	return w
}

func (w *worker) update(pod *corev1.Pod, deleted bool) {
	w.mu.Lock()
	w.pod = pod
	if pod.DeletionTimestamp != nil {
		w.deleting = true
	}
	if deleted {
		w.gone = true
	}
	w.mu.Unlock()
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

func (w *worker) shutdown() { w.stopOnce.Do(func() { close(w.stop) }) }

func (w *worker) terminating() (bool, *corev1.Pod) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.deleting || w.gone, w.pod
}

// wait sleeps d, returning early (true) when the pod is being deleted or the agent stops.
func (w *worker) wait(d time.Duration) (interrupted bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return true
		case <-t.C:
			return false
		case <-w.notify:
			if del, _ := w.terminating(); del {
				return true
			}
		}
	}
}

func (w *worker) logf(msg string, args ...any) {
	w.a.log.Info(msg, append([]any{"pod", w.ns + "/" + w.name}, args...)...)
}

func (w *worker) run() {
	dir := w.a.podDir(w.pod)
	ip, err := w.a.ipam.allocate(string(w.uid))
	if err != nil {
		w.setWaiting("IPAllocationFailed", err.Error())
		w.report()
		w.wait(time.Hour)
		return
	}
	w.mu.Lock()
	w.ip = ip
	w.image = w.pod.Spec.Containers[0].Image
	w.mu.Unlock()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		w.a.log.Error("pod directory", "err", err.Error())
	}
	backoff := time.Duration(0)
	for {
		select {
		case <-w.stop:
			return
		default:
		}
		if del, _ := w.terminating(); del {
			w.finish(dir, ip)
			return
		}
		_, pod := w.terminating()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		l, err := w.a.resolve(ctx, pod, ip, dir)
		cancel()
		if err != nil {
			reason := "CreateContainerConfigError"
			if ce, ok := err.(*configError); ok {
				reason = ce.reason
			}
			w.setWaiting(reason, err.Error())
			w.report()
			if w.wait(3 * time.Second) {
				continue
			}
			continue
		}
		cmd, rec, err := w.start(l, pod, ip, dir)
		if err != nil {
			w.setWaiting("RunContainerError", err.Error())
			w.report()
			w.wait(5 * time.Second)
			continue
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		pctx, pcancel := context.WithCancel(context.Background())
		w.startProbes(pctx, pod, ip, rec.PID)
		w.report()

		outcome := w.supervise(exited)
		pcancel()
		switch outcome.kind {
		case exitedByItself:
			ran := time.Since(rec.Started)
			w.terminated(outcome.err)
			if ran >= backoffReset {
				backoff = 0
			}
			if backoff > 0 {
				w.setWaiting("CrashLoopBackOff", fmt.Sprintf("back-off %s restarting failed container", backoff))
				w.event(pod, corev1.EventTypeWarning, "BackOff", "Back-off restarting failed container %s in pod %s", pod.Spec.Containers[0].Name, pod.Name)
			}
			w.report()
			w.logf("process exited", "pid", rec.PID, "err", fmt.Sprint(outcome.err), "ranFor", ran.Round(time.Second).String(), "backoff", backoff.String())
			if backoff > 0 && w.wait(backoff) {
				continue
			}
			backoff = min(max(2*backoff, backoffStart), backoffMax)
			w.mu.Lock()
			w.restarts++
			w.mu.Unlock()
		case podDeleted:
			w.event(pod, corev1.EventTypeNormal, "Killing", "Stopping container %s", pod.Spec.Containers[0].Name)
			w.stopProcess(rec, exited, gracePeriod(pod, w.currentPod()))
			w.finish(dir, ip)
			return
		case agentStopping:
			w.stopProcess(rec, exited, min(gracePeriod(pod, w.currentPod()), shutdownGrace))
			return
		}
	}
}

func (w *worker) currentPod() *corev1.Pod {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pod
}

type outcomeKind int

const (
	exitedByItself outcomeKind = iota
	podDeleted
	agentStopping
)

type outcome struct {
	kind outcomeKind
	err  error
}

func (w *worker) supervise(exited chan error) outcome {
	for {
		select {
		case err := <-exited:
			exited <- err // stopProcess may read it again
			return outcome{exitedByItself, err}
		case <-w.stop:
			return outcome{kind: agentStopping}
		case <-w.notify:
			if del, _ := w.terminating(); del {
				return outcome{kind: podDeleted}
			}
		}
	}
}

// start runs the process and records its PID file.
func (w *worker) start(l *launch, pod *corev1.Pod, ip, dir string) (*exec.Cmd, *Record, error) {
	faults, err := ReadFaults(w.a.cfg.FaultsFile)
	if err != nil {
		w.a.log.Warn("faults file", "err", err.Error())
	}
	logPath := dir + "/" + LogFile
	stdout, stderr, err := openInstanceLog(dir)
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(l.binary, l.args...)
	cmd.Env = append(append([]string{}, l.env...), faults.Tags[l.tag].env()...)
	cmd.Dir = l.dir
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	stdout.Close() // the process holds them now; the log closes when it exits
	stderr.Close()
	if err != nil {
		return nil, nil, err
	}
	pctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	if err := w.a.publishLogs(pctx, pod, dir); err != nil {
		w.a.log.Warn("kubectl logs will not find this pod's log", "err", err.Error())
	}
	cancel()
	_, st, _ := ProcState(cmd.Process.Pid)
	w.mu.Lock()
	rec := &Record{Namespace: pod.Namespace, Pod: pod.Name, UID: string(pod.UID), Node: pod.Spec.NodeName, IP: ip,
		Image: pod.Spec.Containers[0].Image, Tag: l.tag, PID: cmd.Process.Pid, StartTime: st, Started: time.Now(),
		Restarts: w.restarts, Log: logPath}
	w.running, w.ready, w.pid, w.startedAt, w.waiting = true, false, rec.PID, rec.Started, nil
	w.mu.Unlock()
	if err := writeJSONAtomic(dir+"/"+recordFile, rec); err != nil {
		w.a.log.Warn("record", "err", err.Error())
	}
	w.logf("process started", "pid", rec.PID, "ip", ip, "image", rec.Image)
	w.event(pod, corev1.EventTypeNormal, "Started", "Started container %s", pod.Spec.Containers[0].Name)
	return cmd, rec, nil
}

// stopProcess is the kubelet's termination: readiness off, SIGTERM, SIGKILL after grace.
func (w *worker) stopProcess(rec *Record, exited chan error, grace time.Duration) {
	w.mu.Lock()
	w.ready = false
	w.mu.Unlock()
	go w.report()
	_ = syscall.Kill(rec.PID, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(grace):
		w.logf("grace period over: SIGKILL", "pid", rec.PID, "grace", grace.String())
		_ = syscall.Kill(rec.PID, syscall.SIGKILL)
		<-exited
	}
	w.terminated(nil)
}

func gracePeriod(pods ...*corev1.Pod) time.Duration {
	g := int64(30)
	for _, p := range pods {
		if p == nil {
			continue
		}
		if p.Spec.TerminationGracePeriodSeconds != nil {
			g = *p.Spec.TerminationGracePeriodSeconds
		}
		if p.DeletionGracePeriodSeconds != nil {
			g = *p.DeletionGracePeriodSeconds
		}
	}
	return time.Duration(g) * time.Second
}

// finish confirms the deletion (the API server removes the object) and frees the pod's IP.
func (w *worker) finish(dir, ip string) {
	_ = os.Remove(dir + "/" + recordFile)
	w.mu.Lock()
	gone := w.gone
	w.mu.Unlock()
	if !gone {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := w.a.cs.CoreV1().Pods(w.ns).Delete(ctx, w.name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To(int64(0)),
			Preconditions: &metav1.Preconditions{UID: &w.uid}})
		cancel()
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			w.a.log.Warn("confirm deletion", "pod", w.ns+"/"+w.name, "err", err.Error())
		}
	}
	_ = os.RemoveAll(dir)
	w.a.ipam.release(ip)
	w.logf("pod removed")
}

func (w *worker) setWaiting(reason, msg string) {
	w.mu.Lock()
	w.running, w.ready = false, false
	w.waiting = &corev1.ContainerStateWaiting{Reason: reason, Message: msg}
	w.mu.Unlock()
}

func (w *worker) terminated(err error) {
	code, reason := int32(0), "Completed"
	if err != nil {
		reason = "Error"
		code = 1
		if ee, ok := err.(*exec.ExitError); ok {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				code = 128 + int32(ws.Signal())
			} else {
				code = int32(ee.ExitCode())
			}
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lastTerm = &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason,
		StartedAt: metav1.NewTime(w.startedAt), FinishedAt: metav1.Now(), ContainerID: fmt.Sprintf("lab://%d", w.pid)}
	w.running, w.ready = false, false
	w.waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
}

// startProbes runs the container's readiness and liveness probes against the pod IP.
func (w *worker) startProbes(ctx context.Context, pod *corev1.Pod, ip string, pid int) {
	c := pod.Spec.Containers[0]
	if c.ReadinessProbe == nil {
		w.mu.Lock()
		w.ready = true
		w.mu.Unlock()
	} else {
		go w.probeLoop(ctx, c, c.ReadinessProbe, ip, func(ok bool, detail string) {
			if !ok {
				w.event(pod, corev1.EventTypeWarning, "Unhealthy", "Readiness probe failed: %s", detail)
			}
			w.mu.Lock()
			changed := w.ready != ok && w.running
			if w.running {
				w.ready = ok
			}
			w.mu.Unlock()
			if changed {
				w.logf("readiness changed", "ready", ok)
				w.report()
			}
		})
	}
	if c.LivenessProbe != nil {
		go w.probeLoop(ctx, c, c.LivenessProbe, ip, func(ok bool, detail string) {
			if !ok {
				w.event(pod, corev1.EventTypeWarning, "Unhealthy", "Liveness probe failed: %s", detail)
				w.event(pod, corev1.EventTypeNormal, "Killing", "Container %s failed liveness probe, will be restarted", c.Name)
				w.logf("liveness probe failed: restarting the process", "pid", pid)
				_ = syscall.Kill(pid, syscall.SIGTERM)
				go func() {
					time.Sleep(gracePeriod(pod))
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}()
			}
		})
	}
}

var probeClient = &http.Client{
	Transport: &http.Transport{
		Proxy:             nil,
		DisableKeepAlives: true,
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // kubelet probes skip verification too
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// probeLoop calls result with the probe's verdict each time it changes (and once at the
// first verdict): success after successThreshold, failure after failureThreshold.
func (w *worker) probeLoop(ctx context.Context, c corev1.Container, p *corev1.Probe, ip string, result func(ok bool, detail string)) {
	if p.HTTPGet == nil {
		result(true, "")
		return
	}
	period := time.Duration(max(p.PeriodSeconds, 1)) * time.Second
	if p.PeriodSeconds == 0 {
		period = 10 * time.Second
	}
	timeout := time.Duration(max(p.TimeoutSeconds, 1)) * time.Second
	failTh, okTh := max(p.FailureThreshold, 1), max(p.SuccessThreshold, 1)
	if p.FailureThreshold == 0 {
		failTh = 3
	}
	port := p.HTTPGet.Port.IntValue()
	if port == 0 {
		for _, cp := range c.Ports {
			if cp.Name == p.HTTPGet.Port.StrVal {
				port = int(cp.ContainerPort)
			}
		}
	}
	host := p.HTTPGet.Host
	if host == "" {
		host = ip
	}
	scheme := "http"
	if p.HTTPGet.Scheme == corev1.URISchemeHTTPS {
		scheme = "https"
	}
	url := scheme + "://" + net.JoinHostPort(host, strconv.Itoa(port)) + p.HTTPGet.Path
	select {
	case <-ctx.Done():
		return
	case <-time.After(time.Duration(p.InitialDelaySeconds) * time.Second):
	}
	var fails, oks int32
	verdict := -1
	for {
		rctx, cancel := context.WithTimeout(ctx, timeout)
		req, _ := http.NewRequestWithContext(rctx, http.MethodGet, url, nil)
		req.Header.Set("User-Agent", "kube-probe/lab-agent")
		ok, detail := false, ""
		if resp, err := probeClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			ok = resp.StatusCode >= 200 && resp.StatusCode < 400
			detail = fmt.Sprintf("HTTP probe failed with statuscode: %d", resp.StatusCode)
		} else {
			detail = err.Error()
		}
		cancel()
		if ctx.Err() != nil {
			return
		}
		if ok {
			oks, fails = oks+1, 0
			if oks >= okTh && verdict != 1 {
				verdict = 1
				result(true, "")
			}
		} else {
			fails, oks = fails+1, 0
			if fails >= failTh && verdict != 0 {
				verdict = 0
				result(false, detail)
				fails = 0 // a liveness restart starts counting afresh
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(period):
		}
	}
}

// report writes the pod's status from the worker's state.
func (w *worker) report() {
	w.reportMu.Lock()
	defer w.reportMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		p, err := w.a.cs.CoreV1().Pods(w.ns).Get(ctx, w.name, metav1.GetOptions{})
		if err != nil || p.UID != w.uid {
			return nil // gone: nothing to report
		}
		w.fill(p)
		_, err = w.a.cs.CoreV1().Pods(w.ns).UpdateStatus(ctx, p, metav1.UpdateOptions{})
		return err
	})
	if err != nil && !apierrors.IsNotFound(err) {
		w.a.log.Warn("pod status", "pod", w.ns+"/"+w.name, "err", err.Error())
	}
}

func (w *worker) fill(p *corev1.Pod) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := metav1.Now()
	st := &p.Status
	c := p.Spec.Containers[0]
	if st.StartTime == nil {
		st.StartTime = &now
	}
	if w.ip != "" {
		st.PodIP, st.PodIPs = w.ip, []corev1.PodIP{{IP: w.ip}}
	}
	st.HostIP, st.HostIPs = nodeIP, []corev1.HostIP{{IP: nodeIP}}
	st.Phase = corev1.PodPending
	if w.running || w.restarts > 0 || w.lastTerm != nil {
		st.Phase = corev1.PodRunning
	}
	cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: "lab://" + c.Image, Ready: w.ready,
		RestartCount: w.restarts, Started: ptr.To(w.running)}
	switch {
	case w.running:
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(w.startedAt)}
		cs.ContainerID = fmt.Sprintf("lab://%d", w.pid)
	case w.waiting != nil:
		cs.State.Waiting = w.waiting.DeepCopy()
	default:
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
	}
	if w.lastTerm != nil {
		cs.LastTerminationState.Terminated = w.lastTerm.DeepCopy()
	}
	st.ContainerStatuses = []corev1.ContainerStatus{cs}
	cond := func(t corev1.PodConditionType, ok bool, reason string) {
		s := corev1.ConditionFalse
		if ok {
			s, reason = corev1.ConditionTrue, ""
		}
		for i := range st.Conditions {
			if st.Conditions[i].Type == t {
				if st.Conditions[i].Status != s {
					st.Conditions[i].LastTransitionTime = now
				}
				st.Conditions[i].Status, st.Conditions[i].Reason = s, reason
				return
			}
		}
		st.Conditions = append(st.Conditions, corev1.PodCondition{Type: t, Status: s, Reason: reason, LastTransitionTime: now})
	}
	cond(corev1.PodScheduled, true, "")
	cond(corev1.PodReadyToStartContainers, true, "")
	cond(corev1.PodInitialized, true, "")
	cond(corev1.ContainersReady, w.ready, "ContainersNotReady")
	cond(corev1.PodReady, w.ready, "ContainersNotReady")
	st.Message, st.Reason = "", ""
}
