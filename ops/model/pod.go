package model

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// controllerRef returns the name of the controlling owner of the given kind ("" if none).
func controllerRef(refs []metav1.OwnerReference, kind string) string {
	for _, r := range refs {
		if r.Kind == kind && (r.Controller == nil || *r.Controller) {
			return r.Name
		}
	}
	return ""
}

// PodStateOf is a pod as the console shows it: phase, readiness, restarts, node and zone,
// and the reason it is not running or not ready.
func PodStateOf(p *corev1.Pod, nodeZone map[string]string) PodState {
	ps := PodState{
		Name:        p.Name,
		Phase:       string(p.Status.Phase),
		Terminating: p.DeletionTimestamp != nil,
		Node:        p.Spec.NodeName,
		Zone:        nodeZone[p.Spec.NodeName],
		IP:          p.Status.PodIP,
		Created:     p.CreationTimestamp.Time,
	}
	if len(p.Spec.Containers) > 0 {
		ps.Image = p.Spec.Containers[0].Image
		ps.Tag = ImageTag(ps.Image)
	}
	var scheduledFalse string
	for _, c := range p.Status.Conditions {
		switch c.Type {
		case corev1.PodReady:
			ps.Ready = c.Status == corev1.ConditionTrue
		case corev1.PodScheduled:
			if c.Status == corev1.ConditionFalse {
				scheduledFalse = c.Reason
				if scheduledFalse == "" {
					scheduledFalse = "Unschedulable"
				}
			}
		}
	}
	var waiting, terminated string
	for _, cs := range p.Status.ContainerStatuses {
		ps.Restarts += cs.RestartCount
		if w := cs.State.Waiting; w != nil && w.Reason != "" && waiting == "" && w.Reason != "PodInitializing" {
			waiting = w.Reason
		}
		if t := cs.State.Terminated; t != nil && t.Reason != "" && terminated == "" {
			terminated = t.Reason
		}
	}
	for _, cs := range p.Status.InitContainerStatuses {
		if w := cs.State.Waiting; w != nil && w.Reason != "" && waiting == "" && w.Reason != "PodInitializing" {
			waiting = "Init:" + w.Reason
		}
	}
	if !ps.Ready {
		switch {
		case waiting != "":
			ps.Reason = waiting
		case scheduledFalse != "":
			ps.Reason = scheduledFalse
		case p.Status.Reason != "": // Evicted, NodeLost…
			ps.Reason = p.Status.Reason
		case terminated != "":
			ps.Reason = terminated
		}
	}
	return ps
}
