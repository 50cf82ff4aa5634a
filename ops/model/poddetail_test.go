package model

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

var t0 = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)

func running(name string, ready bool, restarts int32) ContainerDetail {
	return ContainerDetail{Name: name, Image: "reg/apim/gateway:1.0.0", State: "running", Ready: ready, Restarts: restarts, Since: t0}
}

func TestNotReadyReason(t *testing.T) {
	crash := ContainerDetail{Name: "traffic", State: "waiting", Reason: "CrashLoopBackOff", Restarts: 5,
		LastTermination: &Termination{Reason: "Error", ExitCode: 1, Message: "precheck failed: cassandra\nmore"}}
	cases := []struct {
		name string
		d    PodDetail
		want string
	}{
		{"ready", PodDetail{PodState: PodState{Ready: true, Phase: "Running"}, Containers: []ContainerDetail{running("traffic", true, 0)}}, ""},
		{"gone", PodDetail{Gone: true}, ""},
		{"terminating wins over ready", PodDetail{PodState: PodState{Ready: true, Terminating: true}}, "terminating: the pod is being deleted"},
		{"evicted", PodDetail{PodState: PodState{Phase: "Failed", Reason: "Evicted"}, StatusMessage: "The node was low on resource: memory."},
			"failed: The node was low on resource: memory."},
		{"unschedulable, message from the condition", PodDetail{PodState: PodState{Phase: "Pending"}, Conditions: []Condition{
			{Type: "PodScheduled", Status: "False", Reason: "Unschedulable", Message: "0/4 nodes are available: 3 Insufficient cpu."}}},
			"not scheduled: 0/4 nodes are available: 3 Insufficient cpu."},
		{"unschedulable, message from the event", PodDetail{PodState: PodState{Phase: "Pending"},
			Conditions: []Condition{{Type: "PodScheduled", Status: "False", Reason: "Unschedulable"}},
			Events:     []EventInfo{{Reason: "FailedScheduling", Message: "0/4 nodes are available: 1 node(s) had untolerated taint.", Time: t0}}},
			"not scheduled: 0/4 nodes are available: 1 node(s) had untolerated taint."},
		{"crash loop with last exit", PodDetail{PodState: PodState{Phase: "Running"}, Containers: []ContainerDetail{crash}},
			"container traffic crash-looping: exited with code 1 (Error): precheck failed: cassandra …, 5 restarts"},
		{"OOM killed", PodDetail{PodState: PodState{Phase: "Running"}, Containers: []ContainerDetail{{Name: "traffic", State: "waiting", Reason: "CrashLoopBackOff",
			Restarts: 2, LastTermination: &Termination{Reason: "OOMKilled", ExitCode: 137}}}},
			"container traffic crash-looping: exited with code 137 (OOMKilled: over its memory limit), 2 restarts"},
		{"image pull", PodDetail{Containers: []ContainerDetail{{Name: "traffic", Image: "reg/apim/gateway:9.9", State: "waiting", Reason: "ImagePullBackOff",
			Message: "Back-off pulling image"}}}, "image reg/apim/gateway:9.9 cannot be pulled: ImagePullBackOff — Back-off pulling image"},
		{"config error", PodDetail{Containers: []ContainerDetail{{Name: "traffic", State: "waiting", Reason: "CreateContainerConfigError",
			Message: `secret "cassandra-credentials" not found`}}}, `container traffic cannot start: CreateContainerConfigError — secret "cassandra-credentials" not found`},
		{"starting again", PodDetail{Containers: []ContainerDetail{{Name: "traffic", State: "waiting", Reason: "ContainerCreating",
			LastTermination: &Termination{ExitCode: 143, Reason: "Error", Signal: 15}}}},
			"container traffic starting again after it exited with code 143 (Error), signal 15"},
		{"readiness probe failing, from the event", PodDetail{Containers: []ContainerDetail{running("traffic", false, 0)},
			Events: []EventInfo{
				{Reason: "Unhealthy", Message: "Readiness probe failed: HTTP probe failed with statuscode: 503", Count: 4, Time: t0.Add(time.Minute)},
				{Reason: "Unhealthy", Message: "Liveness probe failed: timeout", Time: t0.Add(2 * time.Minute)},
			}}, "readiness probe failing: HTTP probe failed with statuscode: 503 (×4)"},
		{"a probe event of the instance before does not count", PodDetail{Containers: []ContainerDetail{{Name: "traffic", State: "running", Since: t0,
			Readiness: "http-get :8085/healthcheck every 10s, timeout 1s, 3 failures"}},
			Events: []EventInfo{{Reason: "Unhealthy", Message: "Readiness probe failed: refused", Time: t0.Add(-time.Minute)}}},
			"container traffic running, its readiness probe has not passed yet (http-get :8085/healthcheck every 10s, timeout 1s, 3 failures)"},
		{"init container failed", PodDetail{Containers: []ContainerDetail{
			{Name: "wait-db", Init: true, State: "terminated", Exit: &Termination{ExitCode: 2, Reason: "Error"}},
			{Name: "traffic", State: "waiting", Reason: "PodInitializing"}}},
			"init container wait-db failed: exited with code 2 (Error)"},
		{"init done, main container exited", PodDetail{Containers: []ContainerDetail{
			{Name: "wait-db", Init: true, State: "terminated", Exit: &Termination{ExitCode: 0, Reason: "Completed"}},
			{Name: "traffic", State: "terminated", Exit: &Termination{ExitCode: 0, Reason: "Completed"}}}},
			"container traffic exited: exited with code 0 (Completed)"},
		{"second container is the unready one", PodDetail{Containers: []ContainerDetail{running("traffic", true, 0),
			{Name: "sidecar", State: "waiting", Reason: "ErrImagePull", Image: "busybox:nope"}}},
			"image busybox:nope cannot be pulled: ErrImagePull"},
		{"only the Ready condition says", PodDetail{Containers: []ContainerDetail{running("traffic", true, 0)},
			Conditions: []Condition{{Type: "Ready", Status: "False", Reason: "ReadinessGatesNotReady", Message: "corresponding condition of pod readiness gate \"lb\" does not exist."}}},
			`not ready: ReadinessGatesNotReady corresponding condition of pod readiness gate "lb" does not exist.`},
		{"nothing says", PodDetail{}, "not ready (nothing reports why)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := NotReadyReason(&tc.d); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestDescribeProbe(t *testing.T) {
	cases := []struct {
		p    *corev1.Probe
		want string
	}{
		{nil, ""},
		{&corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthcheck", Port: intstr.FromInt32(8085)}},
			InitialDelaySeconds: 5}, "http-get :8085/healthcheck every 10s, after 5s, timeout 1s, 3 failures"},
		{&corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromString("admin"), Scheme: corev1.URISchemeHTTPS}},
			PeriodSeconds: 5, TimeoutSeconds: 2, FailureThreshold: 6}, "http-get https :admin/ every 5s, timeout 2s, 6 failures"},
		{&corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(9042)}}}, "tcp :9042 every 10s, timeout 1s, 3 failures"},
		{&corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"cat", "/tmp/ok"}}}}, "exec cat /tmp/ok every 10s, timeout 1s, 3 failures"},
	}
	for _, tc := range cases {
		if got := DescribeProbe(tc.p); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

// TestPodDetailOf converts a crash-looping pod of a Deployment with its events and usage.
func TestPodDetailOf(t *testing.T) {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "traffic-7d9f8-x", Namespace: "apim", Labels: map[string]string{"pod-template-hash": "7d9f8"},
			OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "traffic-7d9f8", Controller: ptr.To(true)}}},
		Spec: corev1.PodSpec{NodeName: "apimpool-2", Containers: []corev1.Container{{
			Name: "traffic", Image: "reg/apim/gateway:1.0.0",
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("1Gi")}},
			LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8065)}}},
		}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: "ContainersNotReady"}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "traffic", ImageID: "reg/apim/gateway@sha256:abc", RestartCount: 3,
				State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 40s"}},
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", FinishedAt: metav1.NewTime(t0)}},
			}}},
	}
	events := []corev1.Event{
		{Reason: "Started", Message: "Started container traffic", Count: 4, FirstTimestamp: metav1.NewTime(t0.Add(-4 * time.Minute)), LastTimestamp: metav1.NewTime(t0.Add(-time.Minute)),
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "traffic-7d9f8-x"}},
		{Reason: "BackOff", Type: "Warning", Message: "Back-off restarting failed container traffic", Count: 3, LastTimestamp: metav1.NewTime(t0),
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "traffic-7d9f8-x"}},
	}
	d := PodDetailOf(p, "zone-2", events, map[string]Resources{"traffic": {CPUMillis: 12, MemoryBytes: 40 << 20}})
	if d.Owner != "ReplicaSet traffic-7d9f8 ← Deployment traffic" || d.Zone != "zone-2" || d.Node != "apimpool-2" || d.Restarts != 3 {
		t.Fatalf("pod: %+v", d.PodState)
	}
	c := d.Containers[0]
	if c.Requests.CPUMillis != 500 || c.Limits.MemoryBytes != 1<<30 || c.Usage == nil || c.Usage.CPUMillis != 12 || c.ImageID != "reg/apim/gateway@sha256:abc" {
		t.Fatalf("container: %+v", c)
	}
	if c.Liveness != "tcp :8065 every 10s, timeout 1s, 3 failures" || c.Readiness != "" {
		t.Fatalf("probes: %q %q", c.Liveness, c.Readiness)
	}
	if d.Events[0].Reason != "BackOff" || len(d.RestartTimes) != 2 || !d.RestartTimes[1].Equal(t0.Add(-time.Minute)) {
		t.Fatalf("events %+v restarts %v", d.Events, d.RestartTimes)
	}
	if !strings.HasPrefix(d.NotReady, "container traffic crash-looping: exited with code 1 (Error), 3 restarts") {
		t.Fatalf("judgement %q", d.NotReady)
	}
	gone := PodGone(&d, "apim", d.Name, t0)
	if !gone.Gone || gone.NotReady != "" || gone.Owner != d.Owner || !gone.GoneSince.Equal(t0) {
		t.Fatalf("gone: %+v", gone)
	}
}
