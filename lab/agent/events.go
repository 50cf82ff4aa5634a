package agent

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
)

// The agent records a kubelet's events about the pods it runs — Started, BackOff, Unhealthy
// (a failed probe, with why), Killing — so that a pod's events say what happened to it, as on
// a real node. The broadcaster aggregates repeats into counts, as the kubelet's does.

// eventRecorders are one recorder per node (the event's source host) over one broadcaster.
type eventRecorders struct {
	bc        record.EventBroadcaster
	mu        sync.Mutex
	recorders map[string]record.EventRecorder
}

func newEventRecorders(cs kubernetes.Interface) *eventRecorders {
	bc := record.NewBroadcaster()
	bc.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: cs.CoreV1().Events("")})
	return &eventRecorders{bc: bc, recorders: map[string]record.EventRecorder{}}
}

func (e *eventRecorders) forNode(node string) record.EventRecorder {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.recorders[node]
	if r == nil {
		r = e.bc.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "kubelet", Host: node})
		e.recorders[node] = r
	}
	return r
}

// event records an event about the pod's first container.
func (w *worker) event(pod *corev1.Pod, typ, reason, format string, args ...any) {
	if w.a.events == nil || pod == nil || len(pod.Spec.Containers) == 0 {
		return
	}
	ref := &corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID,
		FieldPath: "spec.containers{" + pod.Spec.Containers[0].Name + "}"}
	w.a.events.forNode(pod.Spec.NodeName).Eventf(ref, typ, reason, format, args...)
}
