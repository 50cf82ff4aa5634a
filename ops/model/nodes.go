package model

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
)

// nodeStates sums what non-terminated pods bound to each node request of it.
func nodeStates(nodes []*corev1.Node, pods []*corev1.Pod, sel Selectors) []NodeState {
	out := make([]NodeState, 0, len(nodes))
	index := make(map[string]int, len(nodes))
	for _, n := range nodes {
		if n == nil {
			continue
		}
		ns := NodeState{
			Name:              n.Name,
			Pool:              n.Labels[sel.PoolLabel],
			Zone:              sel.zoneOf(n.Labels),
			CPUAllocatable:    n.Status.Allocatable.Cpu().MilliValue(),
			MemoryAllocatable: n.Status.Allocatable.Memory().Value(),
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				ns.Ready = c.Status == corev1.ConditionTrue
			}
		}
		index[n.Name] = len(out)
		out = append(out, ns)
	}
	for _, p := range pods {
		if p == nil || p.Spec.NodeName == "" ||
			p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		i, ok := index[p.Spec.NodeName]
		if !ok {
			continue
		}
		cpu, mem := podRequests(&p.Spec)
		out[i].CPURequested += cpu
		out[i].MemoryRequested += mem
		out[i].Pods++
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}

// podRequests is what the scheduler reserves for a pod: the larger of the containers' sum
// and the largest init container, plus the pod overhead.
func podRequests(spec *corev1.PodSpec) (cpuMillis, memBytes int64) {
	for i := range spec.Containers {
		r := spec.Containers[i].Resources.Requests
		cpuMillis += r.Cpu().MilliValue()
		memBytes += r.Memory().Value()
	}
	for i := range spec.InitContainers {
		r := spec.InitContainers[i].Resources.Requests
		cpuMillis = max(cpuMillis, r.Cpu().MilliValue())
		memBytes = max(memBytes, r.Memory().Value())
	}
	if o := spec.Overhead; o != nil {
		cpuMillis += o.Cpu().MilliValue()
		memBytes += o.Memory().Value()
	}
	return cpuMillis, memBytes
}
