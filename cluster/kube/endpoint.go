package kube

import corev1 "k8s.io/api/core/v1"

// PodReady reports whether the pod's Ready condition is true.
func PodReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// TargetPort is the pod's port a Service port sends to: the target port's number, else the
// container port its name names, else the Service port itself.
func TargetPort(p *corev1.Pod, sp corev1.ServicePort) int {
	port := sp.TargetPort.IntValue()
	if port == 0 {
		for _, c := range p.Spec.Containers {
			for _, cp := range c.Ports {
				if cp.Name == sp.TargetPort.StrVal {
					port = int(cp.ContainerPort)
				}
			}
		}
	}
	if port == 0 {
		port = int(sp.Port)
	}
	return port
}
