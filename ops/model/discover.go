package model

import (
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KubeObjects are the objects the kube source caches for one namespace (Nodes are
// cluster-wide). Discover only reads them. (The same fields as cluster/kube.Objects, which
// converts to it: the model does not depend on the clients.)
type KubeObjects struct {
	Deployments  []*appsv1.Deployment
	StatefulSets []*appsv1.StatefulSet
	ReplicaSets  []*appsv1.ReplicaSet
	Pods         []*corev1.Pod
	HPAs         []*autoscalingv2.HorizontalPodAutoscaler
	Services     []*corev1.Service
	Ingresses    []*networkingv1.Ingress
	Events       []*corev1.Event
	Nodes        []*corev1.Node
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
	// add completes a workload (w.Kind, of object meta with pod template labels tmpl) with
	// its role, group and pods.
	add := func(w Workload, meta *metav1.ObjectMeta, tmpl map[string]string) {
		w.Role = sel.roleOf(meta.Name, meta.Labels, tmpl)
		w.Group = sel.groupOf(meta.Labels, tmpl)
		w.Pods = podsOf[w.Kind+"/"+nsName(meta.Namespace, meta.Name)]
		workloads = append(workloads, w)
	}
	for _, d := range objs.Deployments {
		if d != nil {
			add(deploymentWorkload(d), &d.ObjectMeta, d.Spec.Template.Labels)
		}
	}
	for _, s := range objs.StatefulSets {
		if s != nil {
			add(statefulSetWorkload(s), &s.ObjectMeta, s.Spec.Template.Labels)
		}
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

// Ingress annotations that bound the TLS protocols.
const (
	NginxSSLProtocolsAnnotation = "nginx.ingress.kubernetes.io/ssl-protocols"
	AppGwSSLPolicyAnnotation    = "appgw.ingress.kubernetes.io/ssl-policy"
)
