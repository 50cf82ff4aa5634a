package agent

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
)

// Debian's Prometheus 2.42 is built without kubernetes_sd_configs, so the agent serves the
// same discovery over http_sd_configs: one target group per pod of every namespace, with the
// labels kubernetes_sd (role: pod) would give (__meta_kubernetes_namespace, …_pod_name,
// …_pod_node_name, …_pod_ip, …_pod_ready, …_pod_annotation_<name>, …_pod_label_<name>).
// Prometheus's relabel rules then do the rest exactly as on a cluster. It answers from an
// informer's cache: Prometheus sees new pods, IPs and restarts at its next refresh.

type targetGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

func podTargetGroups(pods []*corev1.Pod) []targetGroup {
	out := []targetGroup{}
	for _, p := range pods {
		if p.Status.PodIP == "" || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		l := map[string]string{
			"__meta_kubernetes_namespace":     p.Namespace,
			"__meta_kubernetes_pod_name":      p.Name,
			"__meta_kubernetes_pod_node_name": p.Spec.NodeName,
			"__meta_kubernetes_pod_ip":        p.Status.PodIP,
			"__meta_kubernetes_pod_uid":       string(p.UID),
			"__meta_kubernetes_pod_phase":     string(p.Status.Phase),
			"__meta_kubernetes_pod_ready":     strings.ToLower(string(readyStatus(p))),
		}
		for k, v := range p.Annotations {
			l["__meta_kubernetes_pod_annotation_"+sanitize(k)] = v
		}
		for k, v := range p.Labels {
			l["__meta_kubernetes_pod_label_"+sanitize(k)] = v
		}
		if len(p.Spec.Containers) > 0 {
			l["__meta_kubernetes_pod_container_name"] = p.Spec.Containers[0].Name
			l["__meta_kubernetes_pod_container_image"] = p.Spec.Containers[0].Image
		}
		out = append(out, targetGroup{Targets: []string{p.Status.PodIP}, Labels: l})
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Labels["__meta_kubernetes_namespace"]+"/"+out[i].Labels["__meta_kubernetes_pod_name"] <
			out[j].Labels["__meta_kubernetes_namespace"]+"/"+out[j].Labels["__meta_kubernetes_pod_name"]
	})
	return out
}

func readyStatus(p *corev1.Pod) corev1.ConditionStatus {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status
		}
	}
	return corev1.ConditionUnknown
}

func sdHandler(store cache.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var pods []*corev1.Pod
		for _, o := range store.List() {
			if p, ok := o.(*corev1.Pod); ok {
				pods = append(pods, p)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(podTargetGroups(pods))
	})
}
