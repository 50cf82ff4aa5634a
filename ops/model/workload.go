package model

import (
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func deploymentWorkload(d *appsv1.Deployment) Workload {
	w := Workload{
		Kind:      "Deployment",
		Name:      d.Name,
		Namespace: d.Namespace,
		Desired:   replicas(d.Spec.Replicas),
		Current:   d.Status.Replicas,
		Ready:     d.Status.ReadyReplicas,
		Updated:   d.Status.UpdatedReplicas,
		Available: d.Status.AvailableReplicas,
		Revision:  d.Annotations[RevisionAnnotation],
		Paused:    d.Spec.Paused,
		Strategy:  string(d.Spec.Strategy.Type),
	}
	w.RolloutInProgress = !DeploymentRolloutStatus(d, 0).Done
	if w.Strategy == "" {
		w.Strategy = string(appsv1.RollingUpdateDeploymentStrategyType)
	}
	if w.Strategy == string(appsv1.RollingUpdateDeploymentStrategyType) {
		w.MaxSurge, w.MaxUnavailable = "25%", "25%"
		if ru := d.Spec.Strategy.RollingUpdate; ru != nil {
			w.MaxSurge = intOrString(ru.MaxSurge, "25%")
			w.MaxUnavailable = intOrString(ru.MaxUnavailable, "25%")
		}
	}
	for _, c := range d.Status.Conditions {
		w.Conditions = append(w.Conditions, Condition{
			Type: string(c.Type), Status: string(c.Status), Reason: c.Reason, Message: c.Message,
			LastTransitionTime: c.LastTransitionTime.Time,
		})
	}
	podTemplate(&w, &d.Spec.Template.Spec)
	return w
}

func statefulSetWorkload(s *appsv1.StatefulSet) Workload {
	w := Workload{
		Kind:      "StatefulSet",
		Name:      s.Name,
		Namespace: s.Namespace,
		Desired:   replicas(s.Spec.Replicas),
		Current:   s.Status.Replicas,
		Ready:     s.Status.ReadyReplicas,
		Updated:   s.Status.UpdatedReplicas,
		Available: s.Status.AvailableReplicas,
		Revision:  s.Status.UpdateRevision,
		Strategy:  string(s.Spec.UpdateStrategy.Type),
	}
	w.RolloutInProgress = s.Status.ObservedGeneration < s.Generation || w.Updated < w.Desired ||
		(s.Status.CurrentRevision != "" && s.Status.CurrentRevision != s.Status.UpdateRevision)
	if w.Strategy == "" {
		w.Strategy = string(appsv1.RollingUpdateStatefulSetStrategyType)
	}
	if w.Strategy == string(appsv1.RollingUpdateStatefulSetStrategyType) {
		w.MaxUnavailable = "1"
		if ru := s.Spec.UpdateStrategy.RollingUpdate; ru != nil {
			w.MaxUnavailable = intOrString(ru.MaxUnavailable, "1")
		}
	}
	for _, c := range s.Status.Conditions {
		w.Conditions = append(w.Conditions, Condition{
			Type: string(c.Type), Status: string(c.Status), Reason: c.Reason, Message: c.Message,
			LastTransitionTime: c.LastTransitionTime.Time,
		})
	}
	podTemplate(&w, &s.Spec.Template.Spec)
	return w
}

func replicas(p *int32) int32 {
	if p == nil {
		return 1 // the API server's default
	}
	return *p
}

func intOrString(v *intstr.IntOrString, def string) string {
	if v == nil {
		return def
	}
	return v.String()
}

// podTemplate fills the settings the checks read from the pod template.
func podTemplate(w *Workload, spec *corev1.PodSpec) {
	if len(spec.Containers) > 0 {
		c := &spec.Containers[0]
		w.Image = c.Image
		w.Tag = ImageTag(c.Image)
		w.CPURequest = quantity(c.Resources.Requests, corev1.ResourceCPU)
		w.CPULimit = quantity(c.Resources.Limits, corev1.ResourceCPU)
		w.MemoryRequest = quantity(c.Resources.Requests, corev1.ResourceMemory)
		w.MemoryLimit = quantity(c.Resources.Limits, corev1.ResourceMemory)
		w.ReadinessProbe = c.ReadinessProbe != nil
		w.LivenessProbe = c.LivenessProbe != nil
	}
	if a := spec.Affinity; a != nil {
		if paa := a.PodAntiAffinity; paa != nil {
			for _, t := range paa.RequiredDuringSchedulingIgnoredDuringExecution {
				spreadKey(w, t.TopologyKey)
			}
			for _, t := range paa.PreferredDuringSchedulingIgnoredDuringExecution {
				spreadKey(w, t.PodAffinityTerm.TopologyKey)
			}
		}
		if na := a.NodeAffinity; na != nil && na.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		terms:
			for _, term := range na.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
				for _, e := range term.MatchExpressions {
					if e.Key == LabelPool && e.Operator == corev1.NodeSelectorOpIn && len(e.Values) > 0 {
						w.NodePool = e.Values[0]
						break terms
					}
				}
			}
		}
	}
	// Topology spread constraints spread replicas just as anti-affinity does.
	for _, c := range spec.TopologySpreadConstraints {
		spreadKey(w, c.TopologyKey)
	}
	if w.NodePool == "" {
		w.NodePool = spec.NodeSelector[LabelPool] // a nodeSelector pins as well
	}
}

func spreadKey(w *Workload, key string) {
	switch key {
	case hostnameTopology:
		w.AntiAffinityHost = true
	case LabelZone, "failure-domain.beta.kubernetes.io/zone":
		w.AntiAffinityZone = true
	}
}

func quantity(rl corev1.ResourceList, name corev1.ResourceName) string {
	if q, ok := rl[name]; ok {
		return q.String()
	}
	return ""
}

func hpaState(h *autoscalingv2.HorizontalPodAutoscaler) HPAState {
	st := HPAState{
		Name:    h.Name,
		Target:  h.Spec.ScaleTargetRef.Name,
		Min:     replicas(h.Spec.MinReplicas),
		Max:     h.Spec.MaxReplicas,
		Current: h.Status.CurrentReplicas,
		Desired: h.Status.DesiredReplicas,
	}
	for _, m := range h.Spec.Metrics {
		if m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil &&
			m.Resource.Name == corev1.ResourceCPU && m.Resource.Target.AverageUtilization != nil {
			st.CPUTargetPercent = *m.Resource.Target.AverageUtilization
		}
	}
	for _, m := range h.Status.CurrentMetrics {
		if m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil &&
			m.Resource.Name == corev1.ResourceCPU && m.Resource.Current.AverageUtilization != nil {
			v := *m.Resource.Current.AverageUtilization
			st.CPUCurrentPercent = &v
		}
	}
	if h.Status.LastScaleTime != nil {
		t := h.Status.LastScaleTime.Time
		st.LastScaleTime = &t
	}
	for _, c := range h.Status.Conditions {
		st.Conditions = append(st.Conditions, Condition{
			Type: string(c.Type), Status: string(c.Status), Reason: c.Reason, Message: c.Message,
			LastTransitionTime: c.LastTransitionTime.Time,
		})
	}
	return st
}
