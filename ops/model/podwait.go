package model

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// PodWait is what a pod that is not ready waits for, and whether waiting can help: a restore
// or a drill that waits for its workloads shows it, and stops early, naming the cause, when
// no amount of waiting will make the pod ready.
type PodWait struct {
	Pod     string `json:"pod"`
	Reason  string `json:"reason"` // CreateContainerConfigError, ImagePullBackOff, Unschedulable, …
	Message string `json:"message,omitempty"`
	// Hopeless: the state does not resolve by waiting — a Secret or ConfigMap that is not
	// there, an image that cannot be pulled, no node the pod may run on, a container that
	// keeps crashing — until someone changes something.
	Hopeless bool `json:"hopeless"`
}

// hopelessWaiting are the container waiting reasons the kubelet keeps retrying without a
// chance of success until something else changes.
var hopelessWaiting = map[string]bool{
	"CreateContainerConfigError": true, // a Secret, ConfigMap or key it needs is missing
	"CreateContainerError":       true,
	"InvalidImageName":           true,
	"ErrImageNeverPull":          true,
	"ImagePullBackOff":           true, // the pull failed and is being retried with back-off
	"ErrImagePull":               true,
	"CrashLoopBackOff":           true,
	"RunContainerError":          true,
}

// unschedulableForGood are the scheduler's words for a node that can never take the pod;
// unschedulableForNow for one that may later (resources freed by pods going away during a
// rolling update, or added by a cluster autoscaler; a cordoned node; anti-affinity with a
// pod that will go). A pod is unschedulable for good only when every node says the former.
var (
	unschedulableForGood = []string{
		"didn't match pod's node affinity/selector",
		"node(s) didn't match node selector",
		"untolerated taint",
		"storageclass",
		"didn't find available persistent volumes",
		"persistentvolumeclaim",
	}
	unschedulableForNow = []string{"insufficient", "too many pods", "free ports", "anti-affinity", "affinity rules", "were unschedulable", "preemption victims"}
)

// PodWaitOf says what p waits for; ok is false when it is ready (or going away) and waits
// for nothing.
func PodWaitOf(p *corev1.Pod) (w PodWait, ok bool) {
	if p.DeletionTimestamp != nil {
		return PodWait{}, false
	}
	w.Pod = p.Name
	for _, c := range p.Status.Conditions {
		switch {
		case c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue:
			return PodWait{}, false
		case c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse:
			w.Reason, w.Message = c.Reason, c.Message
			if w.Reason == "" {
				w.Reason = "Unschedulable"
			}
			msg := strings.ToLower(c.Message)
			for _, s := range unschedulableForGood {
				w.Hopeless = w.Hopeless || strings.Contains(msg, s)
			}
			for _, s := range unschedulableForNow {
				if strings.Contains(msg, s) {
					w.Hopeless = false
				}
			}
		}
	}
	if w.Reason != "" {
		return w, true
	}
	statuses := append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
	for _, cs := range statuses {
		if wt := cs.State.Waiting; wt != nil && wt.Reason != "" && wt.Reason != "PodInitializing" && wt.Reason != "ContainerCreating" {
			return PodWait{Pod: p.Name, Reason: wt.Reason, Message: wt.Message, Hopeless: hopelessWaiting[wt.Reason]}, true
		}
	}
	switch {
	case p.Status.Phase == corev1.PodPending && p.Spec.NodeName == "":
		return PodWait{Pod: p.Name, Reason: "Pending", Message: "not scheduled yet"}, true
	case p.Status.Phase == corev1.PodFailed:
		return PodWait{Pod: p.Name, Reason: strings.TrimSpace("Failed " + p.Status.Reason), Message: p.Status.Message, Hopeless: true}, true
	}
	return PodWait{Pod: p.Name, Reason: "NotReady", Message: "starting, readiness probe not passed yet"}, true
}
