package model

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPodWaitOf(t *testing.T) {
	waiting := func(reason, msg string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{NodeName: "n1"}, Status: corev1.PodStatus{Phase: corev1.PodPending,
			ContainerStatuses: []corev1.ContainerStatus{{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}}}}}
	}
	unschedulable := func(msg string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Status: corev1.PodStatus{Phase: corev1.PodPending,
			Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable", Message: msg}}}}
	}
	ready := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Status: corev1.PodStatus{Phase: corev1.PodRunning,
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}}
	gone := ready.DeepCopy()
	gone.Status.Conditions = nil
	gone.DeletionTimestamp = &metav1.Time{}
	running := ready.DeepCopy()
	running.Spec.NodeName = "n1"
	running.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}
	failed := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Status: corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted"}}
	pending := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Status: corev1.PodStatus{Phase: corev1.PodPending}}

	for _, c := range []struct {
		name     string
		pod      *corev1.Pod
		ok       bool
		reason   string
		hopeless bool
	}{
		{"ready", ready, false, "", false},
		{"terminating", gone, false, "", false},
		{"missing secret", waiting("CreateContainerConfigError", `secret "cassandra-credentials" not found`), true, "CreateContainerConfigError", true},
		{"image pull back-off", waiting("ImagePullBackOff", "Back-off pulling image"), true, "ImagePullBackOff", true},
		{"image pull error", waiting("ErrImagePull", "not found"), true, "ErrImagePull", true},
		{"crash loop", waiting("CrashLoopBackOff", ""), true, "CrashLoopBackOff", true},
		{"creating", waiting("ContainerCreating", ""), true, "NotReady", false},
		{"no pool", unschedulable("0/5 nodes are available: 5 node(s) didn't match Pod's node affinity/selector."), true, "Unschedulable", true},
		{"no room", unschedulable("0/5 nodes are available: 5 Insufficient cpu."), true, "Unschedulable", false},
		{"no room in the pool", unschedulable("0/4 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 3 Insufficient cpu. preemption: 0/4 nodes are available: 1 Preemption is not helpful for scheduling, 3 No preemption victims found for incoming pod."), true, "Unschedulable", false},
		{"unbound claim", unschedulable("pod has unbound immediate PersistentVolumeClaims"), true, "Unschedulable", true},
		{"not scheduled yet", pending, true, "Pending", false},
		{"readiness", running, true, "NotReady", false},
		{"evicted", failed, true, "Failed Evicted", true},
	} {
		w, ok := PodWaitOf(c.pod)
		if ok != c.ok || w.Reason != c.reason || w.Hopeless != c.hopeless {
			t.Errorf("%s: got %v %+v, want %v %s hopeless=%v", c.name, ok, w, c.ok, c.reason, c.hopeless)
		}
	}
}
