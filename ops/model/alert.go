package model

import (
	"sort"
	"strings"
)

// Alert states, as Prometheus names them.
const (
	AlertFiring  = "firing"
	AlertPending = "pending"
)

// AlertSubject names the resource an alert's labels point at and the drill-down that shows
// it, trying the most specific label first: a pod, an HPA (kube-state-metrics'
// horizontalpodautoscaler label), a Deployment, a Cassandra node (cassandra_node, as the
// lab's probes label it), a gateway group's or API's traffic (group, api), a Kubernetes node.
// namespace is used when the alert carries none. ("", nil) when no label names a resource.
func AlertSubject(labels map[string]string, namespace string) (string, *Ref) {
	ns := labels["namespace"]
	if ns == "" {
		ns = namespace
	}
	if v := labels["pod"]; v != "" {
		return "pod/" + v, &Ref{Kind: RefPod, Namespace: ns, Name: v}
	}
	for _, k := range []string{"horizontalpodautoscaler", "hpa"} {
		if v := labels[k]; v != "" {
			return "hpa/" + v, &Ref{Kind: RefHPA, Namespace: ns, Name: v}
		}
	}
	if v := labels["deployment"]; v != "" {
		return "deployment/" + v, &Ref{Kind: RefDeployment, Namespace: ns, Name: v}
	}
	if v := labels["cassandra_node"]; v != "" {
		return "cassandra " + v, &Ref{Kind: RefCassandra, Name: v}
	}
	if g := labels["group"]; g != "" {
		if a := labels["api"]; IsAPI(a) {
			return "traffic " + g + "/" + a, &Ref{Kind: RefTraffic, Name: g + "/" + a, Group: g, API: a}
		}
		return "traffic " + g, &Ref{Kind: RefTraffic, Name: g, Group: g}
	}
	if v := labels["node"]; v != "" {
		return "node/" + v, &Ref{Kind: RefNode, Name: v}
	}
	return "", nil
}

// AlertConcerns reports whether an alert is about the deployment in namespace: it names that
// namespace, or none (a Cassandra node, a Kubernetes node). An alert of another namespace
// (another site or stage in the same Prometheus) is not. Every alert concerns namespace "".
func AlertConcerns(labels map[string]string, namespace string) bool {
	ns := labels["namespace"]
	return namespace == "" || ns == "" || ns == namespace
}

// alertSeverityRank orders the usual severity labels.
func alertSeverityRank(s string) int {
	switch strings.ToLower(s) {
	case "critical", "page":
		return 4
	case "error", "high":
		return 3
	case "warning", "warn":
		return 2
	case "info", "none":
		return 1
	}
	return 0
}

// AlertTone is how severe an alert looks: error for a firing critical or error, warning for
// any other firing one, info for a pending one.
func AlertTone(a Alert) Severity {
	switch {
	case a.State != AlertFiring:
		return SeverityInfo
	case alertSeverityRank(a.Severity) >= 3:
		return SeverityError
	}
	return SeverityWarning
}

// SortAlerts puts firing alerts before pending ones, then the most severe, then the oldest,
// then by name and subject.
func SortAlerts(as []Alert) {
	sort.SliceStable(as, func(i, j int) bool {
		a, b := as[i], as[j]
		if (a.State == AlertFiring) != (b.State == AlertFiring) {
			return a.State == AlertFiring
		}
		if ra, rb := alertSeverityRank(a.Severity), alertSeverityRank(b.Severity); ra != rb {
			return ra > rb
		}
		if !a.Since.Equal(b.Since) {
			return a.Since.Before(b.Since)
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Subject < b.Subject
	})
}
