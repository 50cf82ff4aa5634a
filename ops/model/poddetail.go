package model

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// PodDetailOf describes a pod for its drill-down: its conditions, each container's state with
// its last termination, requests and limits beside what the metrics API measured (usage by
// container name; nil when unknown), its probes, its events (newest first), the times its
// containers (re)started, and the one-line judgement of why it is not Ready.
func PodDetailOf(p *corev1.Pod, zone string, events []corev1.Event, usage map[string]Resources) PodDetail {
	d := PodDetail{
		PodState:      PodStateOf(p, map[string]string{p.Spec.NodeName: zone}),
		Namespace:     p.Namespace,
		Owner:         ownerChain(p),
		StatusMessage: p.Status.Message,
	}
	for _, c := range p.Status.Conditions {
		d.Conditions = append(d.Conditions, Condition{Type: string(c.Type), Status: string(c.Status), Reason: c.Reason,
			Message: c.Message, LastTransitionTime: c.LastTransitionTime.Time})
	}
	for i := range p.Spec.InitContainers {
		d.Containers = append(d.Containers, containerDetail(&p.Spec.InitContainers[i], p.Status.InitContainerStatuses, nil, true))
	}
	for i := range p.Spec.Containers {
		d.Containers = append(d.Containers, containerDetail(&p.Spec.Containers[i], p.Status.ContainerStatuses, usage, false))
	}
	for i := range events {
		e := &events[i]
		d.Events = append(d.Events, eventInfo(e))
		if e.Reason == "Started" {
			d.RestartTimes = append(d.RestartTimes, e.FirstTimestamp.Time)
			if e.Count > 1 && e.LastTimestamp.After(e.FirstTimestamp.Time) {
				d.RestartTimes = append(d.RestartTimes, e.LastTimestamp.Time)
			}
		}
	}
	sortEvents(d.Events)
	sort.Slice(d.RestartTimes, func(a, b int) bool { return d.RestartTimes[a].Before(d.RestartTimes[b]) })
	d.NotReady = NotReadyReason(&d)
	return d
}

// ownerChain is "ReplicaSet traffic-7d9f8 ← Deployment traffic": a Deployment's ReplicaSet is
// named after it and the pod template's hash, which the pod carries as a label.
func ownerChain(p *corev1.Pod) string {
	for _, r := range p.OwnerReferences {
		if r.Controller == nil || !*r.Controller {
			continue
		}
		s := r.Kind + " " + r.Name
		if h := p.Labels["pod-template-hash"]; r.Kind == "ReplicaSet" && h != "" && strings.HasSuffix(r.Name, "-"+h) {
			s += " ← Deployment " + strings.TrimSuffix(r.Name, "-"+h)
		}
		return s
	}
	return ""
}

func containerDetail(c *corev1.Container, statuses []corev1.ContainerStatus, usage map[string]Resources, init bool) ContainerDetail {
	cd := ContainerDetail{
		Name: c.Name, Image: c.Image, Init: init, State: "waiting",
		Requests:  Resources{CPUMillis: c.Resources.Requests.Cpu().MilliValue(), MemoryBytes: c.Resources.Requests.Memory().Value()},
		Limits:    Resources{CPUMillis: c.Resources.Limits.Cpu().MilliValue(), MemoryBytes: c.Resources.Limits.Memory().Value()},
		Readiness: DescribeProbe(c.ReadinessProbe), Liveness: DescribeProbe(c.LivenessProbe), Startup: DescribeProbe(c.StartupProbe),
	}
	if u, ok := usage[c.Name]; ok {
		cd.Usage = &u
	}
	for _, s := range statuses {
		if s.Name != c.Name {
			continue
		}
		cd.ImageID, cd.Ready, cd.Restarts = s.ImageID, s.Ready, s.RestartCount
		switch st := s.State; {
		case st.Running != nil:
			cd.State, cd.Since = "running", st.Running.StartedAt.Time
		case st.Terminated != nil:
			cd.State, cd.Reason, cd.Message, cd.Since = "terminated", st.Terminated.Reason, st.Terminated.Message, st.Terminated.FinishedAt.Time
			cd.Exit = termination(st.Terminated)
		case st.Waiting != nil:
			cd.Reason, cd.Message = st.Waiting.Reason, st.Waiting.Message
		}
		if t := s.LastTerminationState.Terminated; t != nil {
			cd.LastTermination = termination(t)
		}
	}
	return cd
}

func termination(t *corev1.ContainerStateTerminated) *Termination {
	return &Termination{Reason: t.Reason, ExitCode: t.ExitCode, Signal: t.Signal, Message: t.Message,
		StartedAt: t.StartedAt.Time, FinishedAt: t.FinishedAt.Time}
}

// DescribeProbe puts a probe in one line: "http-get :8085/healthcheck every 10s, after 5s,
// timeout 1s, 3 failures" ("" when there is none). Unset fields read as their defaults.
func DescribeProbe(p *corev1.Probe) string {
	if p == nil {
		return ""
	}
	var what string
	switch h := p.ProbeHandler; {
	case h.HTTPGet != nil:
		scheme := ""
		if h.HTTPGet.Scheme == corev1.URISchemeHTTPS {
			scheme = "https "
		}
		what = fmt.Sprintf("http-get %s%s:%s%s", scheme, h.HTTPGet.Host, h.HTTPGet.Port.String(), h.HTTPGet.Path)
	case h.TCPSocket != nil:
		what = "tcp " + h.TCPSocket.Host + ":" + h.TCPSocket.Port.String()
	case h.GRPC != nil:
		what = fmt.Sprintf("grpc :%d", h.GRPC.Port)
	case h.Exec != nil:
		what = "exec " + strings.Join(h.Exec.Command, " ")
	default:
		what = "no handler"
	}
	orDef := func(v, def int32) int32 {
		if v == 0 {
			return def
		}
		return v
	}
	s := fmt.Sprintf("%s every %ds", what, orDef(p.PeriodSeconds, 10))
	if p.InitialDelaySeconds > 0 {
		s += fmt.Sprintf(", after %ds", p.InitialDelaySeconds)
	}
	return s + fmt.Sprintf(", timeout %ds, %d failures", orDef(p.TimeoutSeconds, 1), orDef(p.FailureThreshold, 3))
}

// NotReadyReason is the one line that says why a pod is not Ready ("" when it is): the
// first cause in the order on-call would look — deletion, the pod's end, scheduling, init
// containers, then each container's waiting reason, exit or failing probe (with the failing
// probe's event when there is one), and last the Ready condition's own reason.
func NotReadyReason(d *PodDetail) string {
	switch {
	case d.Gone:
		return ""
	case d.Terminating:
		return "terminating: the pod is being deleted"
	case d.Phase == "Succeeded":
		return "completed: its containers exited successfully"
	case d.Phase == "Failed":
		return "failed: " + orText(firstLine(d.StatusMessage), orText(d.Reason, "its containers exited"))
	case d.Ready:
		return ""
	}
	if c := d.condition("PodScheduled"); c != nil && c.Status == "False" {
		msg := c.Message
		if e := d.latestEvent("FailedScheduling", ""); msg == "" && e != nil {
			msg = e.Message
		}
		return "not scheduled: " + orText(firstLine(msg), orText(c.Reason, "no node chosen yet"))
	}
	for i := range d.Containers {
		c := &d.Containers[i]
		if c.Init {
			if why := initNotDone(c); why != "" {
				return why
			}
			continue
		}
		if c.Ready {
			continue
		}
		return d.containerNotReady(c)
	}
	if c := d.condition("Ready"); c != nil && c.Status != "True" && (c.Reason != "" || c.Message != "") {
		return "not ready: " + strings.TrimSpace(c.Reason+" "+firstLine(c.Message))
	}
	return "not ready (nothing reports why)"
}

func initNotDone(c *ContainerDetail) string {
	switch {
	case c.State == "terminated" && c.Exit != nil && c.Exit.ExitCode == 0:
		return ""
	case c.State == "terminated" && c.Exit != nil:
		return fmt.Sprintf("init container %s failed: %s", c.Name, exitText(c.Exit))
	case c.State == "running":
		return "init container " + c.Name + " still running"
	case c.Reason == "CrashLoopBackOff" && c.LastTermination != nil:
		return fmt.Sprintf("init container %s crash-looping: %s, %d restarts", c.Name, exitText(c.LastTermination), c.Restarts)
	case c.Reason != "" && c.Reason != "PodInitializing":
		return "init container " + c.Name + " waiting: " + withMessage(c.Reason, c.Message)
	}
	return "init container " + c.Name + " has not run yet"
}

func (d *PodDetail) containerNotReady(c *ContainerDetail) string {
	name := "container " + c.Name
	switch c.State {
	case "terminated":
		return name + " exited: " + exitText(c.Exit)
	case "running":
		if e := d.latestEvent("Unhealthy", "Readiness probe failed"); e != nil && !e.Time.Before(c.Since) {
			msg := strings.TrimPrefix(e.Message, "Readiness probe failed: ")
			if e.Count > 1 {
				msg += fmt.Sprintf(" (×%d)", e.Count)
			}
			return "readiness probe failing: " + firstLine(msg)
		}
		if c.Readiness != "" {
			return name + " running, its readiness probe has not passed yet (" + c.Readiness + ")"
		}
		return name + " running but not ready"
	}
	switch c.Reason {
	case "CrashLoopBackOff":
		s := name + " crash-looping"
		if c.LastTermination != nil {
			s += ": " + exitText(c.LastTermination)
		}
		return s + fmt.Sprintf(", %d restarts", c.Restarts)
	case "ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull":
		return fmt.Sprintf("image %s cannot be pulled: %s", c.Image, withMessage(c.Reason, c.Message))
	case "CreateContainerConfigError", "CreateContainerError", "RunContainerError", "IPAllocationFailed":
		return name + " cannot start: " + withMessage(c.Reason, c.Message)
	case "", "ContainerCreating", "PodInitializing":
		s := name + " starting"
		if c.LastTermination != nil {
			s += " again after it " + exitText(c.LastTermination)
		}
		return s
	}
	return name + " waiting: " + withMessage(c.Reason, c.Message)
}

// exitText is "exited with code 1 (Error)", with the signal when one ended it.
func exitText(t *Termination) string {
	if t == nil {
		return "exited"
	}
	s := fmt.Sprintf("exited with code %d", t.ExitCode)
	switch {
	case t.Reason == "OOMKilled":
		s += " (OOMKilled: over its memory limit)"
	case t.Reason != "":
		s += " (" + t.Reason + ")"
	}
	if t.Signal != 0 {
		s += fmt.Sprintf(", signal %d", t.Signal)
	}
	if m := firstLine(t.Message); m != "" {
		s += ": " + m
	}
	return s
}

func (d *PodDetail) condition(typ string) *Condition {
	for i := range d.Conditions {
		if d.Conditions[i].Type == typ {
			return &d.Conditions[i]
		}
	}
	return nil
}

// latestEvent is the newest event with the reason (and message prefix), nil when none.
func (d *PodDetail) latestEvent(reason, prefix string) *EventInfo {
	var best *EventInfo
	for i := range d.Events {
		e := &d.Events[i]
		if e.Reason == reason && strings.HasPrefix(e.Message, prefix) && (best == nil || e.Time.After(best.Time)) {
			best = e
		}
	}
	return best
}

func withMessage(reason, msg string) string {
	if m := firstLine(msg); m != "" {
		return reason + " — " + m
	}
	return reason
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i]) + " …"
	}
	return s
}

func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// PodGone is the detail of a pod that no longer exists: what was last known of it, marked
// gone, with when its absence was seen.
func PodGone(last *PodDetail, namespace, name string, seen time.Time) PodDetail {
	d := PodDetail{PodState: PodState{Name: name}, Namespace: namespace}
	if last != nil {
		d = *last
	}
	d.Gone, d.GoneSince = true, seen
	d.NotReady = ""
	return d
}
