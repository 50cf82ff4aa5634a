package model

import (
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/apimctl/apimctl/cluster/kube"
)

// KubeObjects are the objects the kube source caches for one namespace (Nodes are
// cluster-wide). Discover only reads them.
type KubeObjects = kube.Objects

// Selectors say how roles and groups are read from labels.
//
// A workload's role is the first of RoleLabels (on the workload, then on its pod template)
// whose value RoleValues knows; failing that, the first NameHints entry its name matches.
// Its group is the first GroupLabels value found, else DefaultGroup.
type Selectors struct {
	RoleLabels []string
	// RoleValues maps a label value (compared lower-cased) to RoleANM, RoleAPIManager or
	// RoleTraffic.
	RoleValues  map[string]string
	GroupLabels []string
	// NameHints classify workloads whose labels say nothing, by name.
	NameHints    []NameHint
	DefaultGroup string
	// PoolLabel is the node label naming a node pool; ZoneLabels the node labels naming its
	// zone, first found wins.
	PoolLabel  string
	ZoneLabels []string
	// MaxEvents caps the events Discover returns (newest kept).
	MaxEvents int
}

// NameHint classifies a workload by name: Token must be one of the name's "-", "_" or "."
// separated parts when WholeToken, else any substring.
type NameHint struct {
	Token      string
	WholeToken bool
	Role       string
}

// Label keys this project's deploy/ manifests use.
const (
	LabelRole  = "apimctl.dev/role"
	LabelGroup = "apimctl.dev/group"
	LabelPool  = "agentpool"
	LabelZone  = "topology.kubernetes.io/zone"

	RevisionAnnotation = "deployment.kubernetes.io/revision"
	hostnameTopology   = "kubernetes.io/hostname"
)

// DefaultSelectors covers this project's deploy/ labels and the conventions of Axway's public
// Helm charts:
//   - deploy/: apimctl.dev/role (anm|apimgr|traffic), apimctl.dev/group, and
//     app.kubernetes.io/component admin-node-manager|api-manager|traffic-gateway;
//   - Axway/Cloud-Automation APIM/Helmchart (chart "axway-apim" 2.x): app.kubernetes.io/component
//     anm|apimgr|apitraffic and app.kubernetes.io/name axway-apim-anm|axway-apim-apimgr|
//     axway-apim-traffic (also the Deployment names);
//   - its older amplify-apim-7.7 chart and Axway/apigw-helm-charts: app anm|apimgr|traffic,
//     and apimgmt for the API Manager UI.
//
// None of those charts labels the gateway group: it defaults to "default".
func DefaultSelectors() Selectors {
	return Selectors{
		RoleLabels: []string{LabelRole, "app.kubernetes.io/component", "app.kubernetes.io/name", "app"},
		RoleValues: map[string]string{
			"anm":                RoleANM,
			"admin-node-manager": RoleANM,
			"axway-apim-anm":     RoleANM,
			"apimgr":             RoleAPIManager,
			"api-manager":        RoleAPIManager,
			"apimgmt":            RoleAPIManager,
			"axway-apim-apimgr":  RoleAPIManager,
			"traffic":            RoleTraffic,
			"traffic-gateway":    RoleTraffic,
			"apitraffic":         RoleTraffic,
			"api-traffic":        RoleTraffic,
			"axway-apim-traffic": RoleTraffic,
		},
		GroupLabels: []string{LabelGroup},
		NameHints: []NameHint{
			{Token: "apimgr", Role: RoleAPIManager},
			{Token: "apimgmt", Role: RoleAPIManager},
			{Token: "api-manager", Role: RoleAPIManager},
			{Token: "traffic", Role: RoleTraffic},
			// "anm" is short enough to occur inside unrelated words.
			{Token: "anm", WholeToken: true, Role: RoleANM},
		},
		DefaultGroup: "default",
		PoolLabel:    LabelPool,
		ZoneLabels:   []string{LabelZone, "failure-domain.beta.kubernetes.io/zone"},
		MaxEvents:    200,
	}
}

// roleOf returns the role the labels or the name say, "" when none.
func (sel Selectors) roleOf(name string, labelSets ...map[string]string) string {
	for _, key := range sel.RoleLabels {
		for _, ls := range labelSets {
			if v, ok := ls[key]; ok {
				if r, ok := sel.RoleValues[strings.ToLower(v)]; ok {
					return r
				}
			}
		}
	}
	lname := strings.ToLower(name)
	var tokens []string
	for _, h := range sel.NameHints {
		if !h.WholeToken {
			if strings.Contains(lname, h.Token) {
				return h.Role
			}
			continue
		}
		if tokens == nil {
			tokens = strings.FieldsFunc(lname, func(r rune) bool { return r == '-' || r == '_' || r == '.' })
		}
		for _, t := range tokens {
			if t == h.Token {
				return h.Role
			}
		}
	}
	return ""
}

func (sel Selectors) groupOf(labelSets ...map[string]string) string {
	for _, key := range sel.GroupLabels {
		for _, ls := range labelSets {
			if v := ls[key]; v != "" {
				return v
			}
		}
	}
	if sel.DefaultGroup == "" {
		return "default"
	}
	return sel.DefaultGroup
}

func (sel Selectors) zoneOf(labels map[string]string) string {
	for _, k := range sel.ZoneLabels {
		if z := labels[k]; z != "" {
			return z
		}
	}
	return ""
}

// Discover builds the topology, node states and events (newest first, at most
// sel.MaxEvents) from objs. It is linear in the number of objects.
func Discover(objs KubeObjects, sel Selectors, now time.Time) (Topology, []NodeState, []EventInfo) {
	_ = now // ages are computed by the views from PodState.Created and Snapshot.Taken

	nodeZone := make(map[string]string, len(objs.Nodes))
	for _, n := range objs.Nodes {
		if n != nil {
			nodeZone[n.Name] = sel.zoneOf(n.Labels)
		}
	}

	// Pods reach their workload through ownerReferences: pod → ReplicaSet → Deployment, or
	// pod → StatefulSet. Keys are namespace/name.
	rsOwner := make(map[string]string, len(objs.ReplicaSets))
	for _, rs := range objs.ReplicaSets {
		if rs == nil {
			continue
		}
		if ref := controllerRef(rs.OwnerReferences, "Deployment"); ref != "" {
			rsOwner[nsName(rs.Namespace, rs.Name)] = "Deployment/" + nsName(rs.Namespace, ref)
		}
	}
	podsOf := make(map[string][]PodState)
	for _, p := range objs.Pods {
		if p == nil {
			continue
		}
		var owner string
		if ref := controllerRef(p.OwnerReferences, "ReplicaSet"); ref != "" {
			owner = rsOwner[nsName(p.Namespace, ref)]
		} else if ref := controllerRef(p.OwnerReferences, "StatefulSet"); ref != "" {
			owner = "StatefulSet/" + nsName(p.Namespace, ref)
		}
		if owner != "" {
			podsOf[owner] = append(podsOf[owner], PodStateOf(p, nodeZone))
		}
	}

	var workloads []Workload
	for _, d := range objs.Deployments {
		if d == nil {
			continue
		}
		w := deploymentWorkload(d)
		w.Role = sel.roleOf(d.Name, d.Labels, d.Spec.Template.Labels)
		w.Group = sel.groupOf(d.Labels, d.Spec.Template.Labels)
		w.Pods = podsOf["Deployment/"+nsName(d.Namespace, d.Name)]
		workloads = append(workloads, w)
	}
	for _, s := range objs.StatefulSets {
		if s == nil {
			continue
		}
		w := statefulSetWorkload(s)
		w.Role = sel.roleOf(s.Name, s.Labels, s.Spec.Template.Labels)
		w.Group = sel.groupOf(s.Labels, s.Spec.Template.Labels)
		w.Pods = podsOf["StatefulSet/"+nsName(s.Namespace, s.Name)]
		workloads = append(workloads, w)
	}
	for i := range workloads {
		sort.Slice(workloads[i].Pods, func(a, b int) bool { return workloads[i].Pods[a].Name < workloads[i].Pods[b].Name })
	}
	sort.Slice(workloads, func(a, b int) bool {
		if workloads[a].Name != workloads[b].Name {
			return workloads[a].Name < workloads[b].Name
		}
		return workloads[a].Kind < workloads[b].Kind
	})

	var topo Topology
	groups := map[string]*GatewayGroup{}
	group := func(name string) *GatewayGroup {
		g := groups[name]
		if g == nil {
			g = &GatewayGroup{Name: name}
			groups[name] = g
		}
		return g
	}
	trafficGroup := map[string]string{} // namespace/deployment name → group
	for _, w := range workloads {
		switch w.Role {
		case RoleANM:
			w.Group = ""
			topo.ANM = append(topo.ANM, w)
		case RoleAPIManager:
			g := group(w.Group)
			g.APIManager = append(g.APIManager, w)
		case RoleTraffic:
			g := group(w.Group)
			g.Traffic = append(g.Traffic, w)
			if w.Kind == "Deployment" {
				trafficGroup[nsName(w.Namespace, w.Name)] = w.Group
			}
		default:
			w.Group = ""
			topo.Unclassified = append(topo.Unclassified, w)
		}
	}

	hpaEvents := map[string][]EventInfo{}
	events := make([]EventInfo, 0, len(objs.Events))
	for _, e := range objs.Events {
		if e == nil {
			continue
		}
		ei := eventInfo(e)
		events = append(events, ei)
		if e.InvolvedObject.Kind == "HorizontalPodAutoscaler" {
			k := nsName(e.InvolvedObject.Namespace, e.InvolvedObject.Name)
			hpaEvents[k] = append(hpaEvents[k], ei)
		}
	}
	sortEvents(events)
	if max := sel.MaxEvents; max > 0 && len(events) > max {
		events = events[:max]
	}

	hpas := append([]*autoscalingv2.HorizontalPodAutoscaler(nil), objs.HPAs...)
	sort.Slice(hpas, func(a, b int) bool { return hpaName(hpas[a]) < hpaName(hpas[b]) })
	for _, h := range hpas {
		if h == nil || h.Spec.ScaleTargetRef.Kind != "Deployment" {
			continue
		}
		gname, ok := trafficGroup[nsName(h.Namespace, h.Spec.ScaleTargetRef.Name)]
		if !ok {
			continue
		}
		g := group(gname)
		if g.HPA != nil {
			continue // two HPAs on one Deployment: the first by name is shown
		}
		st := hpaState(h)
		st.Events = hpaEvents[nsName(h.Namespace, h.Name)]
		sortEvents(st.Events)
		if max := sel.MaxEvents; max > 0 && len(st.Events) > max {
			st.Events = st.Events[:max]
		}
		g.HPA = &st
	}

	names := make([]string, 0, len(groups))
	for n := range groups {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		topo.Groups = append(topo.Groups, *groups[n])
	}

	for _, ing := range objs.Ingresses {
		if ing != nil {
			topo.Ingress = append(topo.Ingress, IngressStateOf(ing))
		}
	}
	sort.Slice(topo.Ingress, func(a, b int) bool { return topo.Ingress[a].Name < topo.Ingress[b].Name })

	return topo, nodeStates(objs.Nodes, objs.Pods, sel), events
}

func hpaName(h *autoscalingv2.HorizontalPodAutoscaler) string {
	if h == nil {
		return ""
	}
	return h.Name
}

func nsName(ns, name string) string { return ns + "/" + name }

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

func eventInfo(e *corev1.Event) EventInfo {
	t := e.LastTimestamp.Time
	if t.IsZero() {
		t = e.EventTime.Time
	}
	if t.IsZero() {
		t = e.FirstTimestamp.Time
	}
	if t.IsZero() {
		t = e.CreationTimestamp.Time
	}
	count := e.Count
	if e.Series != nil && e.Series.Count > count {
		count = e.Series.Count
	}
	return EventInfo{
		Time:    t,
		Type:    e.Type,
		Reason:  e.Reason,
		Object:  e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name,
		Message: e.Message,
		Count:   count,
	}
}

// sortEvents orders newest first; ties by object then reason, so output is stable.
func sortEvents(ev []EventInfo) {
	sort.SliceStable(ev, func(a, b int) bool {
		if !ev[a].Time.Equal(ev[b].Time) {
			return ev[a].Time.After(ev[b].Time)
		}
		if ev[a].Object != ev[b].Object {
			return ev[a].Object < ev[b].Object
		}
		return ev[a].Reason < ev[b].Reason
	})
}

// Ingress annotations that bound the TLS protocols.
const (
	NginxSSLProtocolsAnnotation = "nginx.ingress.kubernetes.io/ssl-protocols"
	AppGwSSLPolicyAnnotation    = "appgw.ingress.kubernetes.io/ssl-policy"
)

// IngressStateOf is an Ingress as the checks read it: hosts, TLS, backends, minimum protocol.
func IngressStateOf(ing *networkingv1.Ingress) IngressState {
	st := IngressState{Name: ing.Name, Backends: map[string]string{}}
	if ing.Spec.IngressClassName != nil {
		st.Class = *ing.Spec.IngressClassName
	} else {
		st.Class = ing.Annotations["kubernetes.io/ingress.class"]
	}
	seen := map[string]bool{}
	for _, r := range ing.Spec.Rules {
		if !seen[r.Host] {
			seen[r.Host] = true
			st.Hosts = append(st.Hosts, r.Host)
		}
		if r.HTTP == nil || len(r.HTTP.Paths) == 0 {
			continue
		}
		if _, ok := st.Backends[r.Host]; ok {
			continue
		}
		if svc := r.HTTP.Paths[0].Backend.Service; svc != nil {
			port := svc.Port.Name
			if port == "" {
				port = itoa(svc.Port.Number)
			}
			st.Backends[r.Host] = svc.Name + ":" + port
		}
	}
	seenTLS := map[string]bool{}
	for _, t := range ing.Spec.TLS {
		for _, h := range t.Hosts {
			if !seenTLS[h] {
				seenTLS[h] = true
				st.TLSHosts = append(st.TLSHosts, h)
			}
		}
	}
	st.MinTLS = MinTLSOf(ing.Annotations)
	return st
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

// tlsOrder ranks protocol names as ingress controllers spell them.
var tlsOrder = map[string]int{"sslv2": 1, "sslv3": 2, "tlsv1": 3, "tlsv1.0": 3, "tlsv1.1": 4, "tlsv1.2": 5, "tlsv1.3": 6}

var tlsCanonical = map[int]string{1: "SSLv2", 2: "SSLv3", 3: "TLSv1", 4: "TLSv1.1", 5: "TLSv1.2", 6: "TLSv1.3"}

// appGwPolicyMin is the lowest protocol of Azure Application Gateway's predefined policies.
var appGwPolicyMin = map[string]string{
	"appgwsslpolicy20150501":  "TLSv1",
	"appgwsslpolicy20170401":  "TLSv1.1",
	"appgwsslpolicy20170401s": "TLSv1.2",
	"appgwsslpolicy20220101":  "TLSv1.2",
	"appgwsslpolicy20220101s": "TLSv1.2",
}

// MinTLSOf returns the lowest protocol the annotations allow, "" when they do not say.
func MinTLSOf(ann map[string]string) string {
	if v := ann[NginxSSLProtocolsAnnotation]; v != "" {
		low := 0
		for _, p := range strings.Fields(v) {
			if r, ok := tlsOrder[strings.ToLower(p)]; ok && (low == 0 || r < low) {
				low = r
			}
		}
		if low > 0 {
			return tlsCanonical[low]
		}
	}
	if v := ann[AppGwSSLPolicyAnnotation]; v != "" {
		return appGwPolicyMin[strings.ToLower(v)]
	}
	return ""
}

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
