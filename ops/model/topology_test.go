package model_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apimctl/apimctl/ops/model"

	"github.com/apimctl/apimctl/ops/model/modeltest"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestDiscoverDeployBase(t *testing.T) {
	topo, nodes, _ := model.Discover(modeltest.BaseObjects(t), model.DefaultSelectors(), modeltest.Now)

	if len(topo.ANM) != 1 || topo.ANM[0].Name != "anm" || topo.ANM[0].Group != "" {
		t.Fatalf("ANM = %+v", topo.ANM)
	}
	if len(topo.Groups) != 1 || topo.Groups[0].Name != "default" {
		t.Fatalf("groups = %+v", topo.Groups)
	}
	g := topo.Groups[0]
	if len(g.Traffic) != 1 || len(g.APIManager) != 1 || g.HPA == nil {
		t.Fatalf("group = %+v", g)
	}
	if len(topo.Unclassified) != 0 {
		t.Errorf("unclassified = %+v", topo.Unclassified)
	}
	tr := g.Traffic[0]
	want := model.Workload{Kind: "Deployment", Name: "traffic", Namespace: "apim", Role: model.RoleTraffic, Group: "default",
		Desired: 3, Current: 3, Ready: 3, Updated: 3, Available: 3, Image: "apim/gateway:1.0.0", Tag: "1.0.0",
		Revision: "2", Strategy: "RollingUpdate", MaxSurge: "1", MaxUnavailable: "0",
		CPURequest: "1", CPULimit: "2", MemoryRequest: "1Gi", MemoryLimit: "2Gi",
		ReadinessProbe: true, LivenessProbe: true, AntiAffinityHost: true, AntiAffinityZone: true, NodePool: "apimpool"}
	got := tr
	got.Pods, got.Conditions = nil, nil
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("traffic workload\n got %+v\nwant %+v", got, want)
	}
	if tr.RolloutInProgress {
		t.Error("converged Deployment reported as rolling out")
	}
	if len(tr.Pods) != 3 {
		t.Fatalf("traffic pods = %d", len(tr.Pods))
	}
	zones := map[string]bool{}
	for _, p := range tr.Pods {
		if !p.Ready || p.Phase != "Running" || p.Tag != "1.0.0" || p.Node == "" || p.Reason != "" {
			t.Errorf("pod %+v", p)
		}
		zones[p.Zone] = true
	}
	if len(zones) != 3 {
		t.Errorf("traffic zones = %v", zones)
	}
	if a := g.APIManager[0]; a.AntiAffinityHost || a.NodePool != "apimpool" || a.CPULimit != "2" || a.MemoryRequest != "512Mi" {
		t.Errorf("apimgr = %+v", a)
	}
	h := g.HPA
	if h.Name != "traffic" || h.Target != "traffic" || h.Min != 3 || h.Max != 12 || h.CPUTargetPercent != 75 ||
		h.CPUCurrentPercent == nil || *h.CPUCurrentPercent != 40 || len(h.Conditions) != 3 {
		t.Errorf("hpa = %+v", h)
	}
	if len(topo.Ingress) != 1 {
		t.Fatalf("ingress = %+v", topo.Ingress)
	}
	ing := topo.Ingress[0]
	if ing.Class != "nginx" || ing.MinTLS != "TLSv1.2" || len(ing.Hosts) != 3 || len(ing.TLSHosts) != 3 ||
		ing.Backends["api.apim.example.test"] != "traffic:traffic" || ing.Backends["anm.apim.example.test"] != "anm:monitor" {
		t.Errorf("ingress = %+v", ing)
	}
	if len(nodes) != 4 || nodes[0].Name != "apim-1" || nodes[3].Pool != "infrapool" {
		t.Fatalf("nodes = %+v", nodes)
	}
	// apim-1 holds anm (500m, 1Gi) and traffic-0 (1, 1Gi)… placement is round-robin over the
	// pods in Deployment order: anm-0, apimgr-0, traffic-0..2.
	var cpu, mem int64
	for _, n := range nodes {
		cpu += n.CPURequested
		mem += n.MemoryRequested
	}
	if cpu != 500+500+3*1000 || mem != (1<<30)+(512<<20)+3*(1<<30) {
		t.Errorf("requested cpu %d mem %d", cpu, mem)
	}
	if nodes[0].CPUAllocatable != 8000 || nodes[0].MemoryAllocatable != 32<<30 || !nodes[0].Ready || nodes[0].Zone != "zone-1" {
		t.Errorf("node = %+v", nodes[0])
	}
}

func deployment(name string, labels map[string]string, mutate ...func(*appsv1.Deployment)) *appsv1.Deployment {
	three := int32(3)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "apim", Labels: labels},
		Spec: appsv1.DeploymentSpec{Replicas: &three, Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: name, Image: "reg/x:1"}}},
		}},
	}
	for _, m := range mutate {
		m(d)
	}
	return d
}

func TestRoleAndGroupDiscovery(t *testing.T) {
	tests := []struct {
		name      string
		deploy    string
		labels    map[string]string
		wantRole  string
		wantGroup string
	}{
		{"apimctl label", "x", map[string]string{model.LabelRole: "traffic", model.LabelGroup: "payments"}, model.RoleTraffic, "payments"},
		{"component of deploy/base", "x", map[string]string{"app.kubernetes.io/component": "admin-node-manager"}, model.RoleANM, ""},
		{"component api-manager", "x", map[string]string{"app.kubernetes.io/component": "api-manager"}, model.RoleAPIManager, "default"},
		{"axway chart component apitraffic", "axway-apim-traffic", map[string]string{"app.kubernetes.io/component": "apitraffic",
			"app.kubernetes.io/name": "axway-apim-traffic", "app.kubernetes.io/instance": "axway-apim"}, model.RoleTraffic, "default"},
		{"axway chart component anm", "axway-apim-anm", map[string]string{"app.kubernetes.io/component": "anm"}, model.RoleANM, ""},
		{"axway chart component apimgr", "axway-apim-apimgr", map[string]string{"app.kubernetes.io/component": "apimgr"}, model.RoleAPIManager, "default"},
		{"axway chart name only", "gw", map[string]string{"app.kubernetes.io/name": "axway-apim-traffic"}, model.RoleTraffic, "default"},
		{"older chart app label", "apimgmt", map[string]string{"app": "apimgmt"}, model.RoleAPIManager, "default"},
		{"app label", "y", map[string]string{"app": "anm"}, model.RoleANM, ""},
		{"apimctl label wins over app", "y", map[string]string{"app": "anm", model.LabelRole: "traffic"}, model.RoleTraffic, "default"},
		{"name fallback traffic", "emea-traffic-gw", nil, model.RoleTraffic, "default"},
		{"name fallback apimgr", "my-apimgr", nil, model.RoleAPIManager, "default"},
		{"name fallback anm token", "prod-anm", nil, model.RoleANM, ""},
		{"anm inside a word is not anm", "cleanmode", nil, "", ""},
		{"unknown", "redis", map[string]string{"app": "redis"}, "", ""},
		{"unknown component falls to name", "traffic", map[string]string{"app.kubernetes.io/component": "cache"}, model.RoleTraffic, "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topo, _, _ := model.Discover(model.KubeObjects{Deployments: []*appsv1.Deployment{deployment(tt.deploy, tt.labels)}},
				model.DefaultSelectors(), modeltest.Now)
			var got model.Workload
			switch {
			case len(topo.ANM) == 1:
				got = topo.ANM[0]
			case len(topo.Groups) == 1 && len(topo.Groups[0].Traffic) == 1:
				got = topo.Groups[0].Traffic[0]
			case len(topo.Groups) == 1 && len(topo.Groups[0].APIManager) == 1:
				got = topo.Groups[0].APIManager[0]
			case len(topo.Unclassified) == 1:
				got = topo.Unclassified[0]
			default:
				t.Fatalf("workload not placed: %+v", topo)
			}
			if got.Role != tt.wantRole || got.Group != tt.wantGroup {
				t.Errorf("role %q group %q, want %q %q", got.Role, got.Group, tt.wantRole, tt.wantGroup)
			}
			if tt.wantRole != model.RoleANM && tt.wantRole != "" && topo.Groups[0].Name != tt.wantGroup {
				t.Errorf("group name %q", topo.Groups[0].Name)
			}
		})
	}
}

func TestCustomSelectors(t *testing.T) {
	sel := model.DefaultSelectors()
	sel.RoleLabels = []string{"tier"}
	sel.RoleValues = map[string]string{"edge": model.RoleTraffic}
	sel.GroupLabels = []string{"team"}
	sel.NameHints = nil
	sel.DefaultGroup = "main"
	objs := model.KubeObjects{Deployments: []*appsv1.Deployment{
		deployment("a", map[string]string{"tier": "edge", "team": "payments"}),
		deployment("b", map[string]string{"tier": "edge"}),
		deployment("traffic", nil), // no name hints: unclassified
	}}
	topo, _, _ := model.Discover(objs, sel, modeltest.Now)
	if len(topo.Groups) != 2 || topo.Groups[0].Name != "main" || topo.Groups[1].Name != "payments" {
		t.Fatalf("groups = %+v", topo.Groups)
	}
	if len(topo.Unclassified) != 1 || topo.Unclassified[0].Name != "traffic" {
		t.Errorf("unclassified = %+v", topo.Unclassified)
	}
}

func TestSeveralGroupsAndHPAAttachment(t *testing.T) {
	hpa := func(name, target string) *autoscalingv2.HorizontalPodAutoscaler {
		return &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "apim"},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{MaxReplicas: 6,
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: target}}}
	}
	objs := model.KubeObjects{
		Deployments: []*appsv1.Deployment{
			deployment("traffic-b", map[string]string{model.LabelRole: "traffic", model.LabelGroup: "b"}),
			deployment("traffic-a", map[string]string{model.LabelRole: "traffic", model.LabelGroup: "a"}),
			deployment("apimgr-a", map[string]string{model.LabelRole: "apimgr", model.LabelGroup: "a"}),
		},
		HPAs: []*autoscalingv2.HorizontalPodAutoscaler{hpa("hb", "traffic-b"), hpa("hx", "apimgr-a"), hpa("ha", "traffic-a")},
		Events: []*corev1.Event{
			{InvolvedObject: corev1.ObjectReference{Kind: "HorizontalPodAutoscaler", Name: "ha", Namespace: "apim"},
				Reason: "FailedGetResourceMetric", Type: "Warning", LastTimestamp: metav1.NewTime(modeltest.Now.Add(-time.Minute)), Count: 4},
			{InvolvedObject: corev1.ObjectReference{Kind: "HorizontalPodAutoscaler", Name: "ha", Namespace: "apim"},
				Reason: "SuccessfulRescale", Type: "Normal", LastTimestamp: metav1.NewTime(modeltest.Now)},
			{InvolvedObject: corev1.ObjectReference{Kind: "Deployment", Name: "traffic-a", Namespace: "apim"},
				Reason: "ScalingReplicaSet", Type: "Normal", LastTimestamp: metav1.NewTime(modeltest.Now.Add(-time.Hour))},
		},
	}
	topo, _, events := model.Discover(objs, model.DefaultSelectors(), modeltest.Now)
	if len(topo.Groups) != 2 || topo.Groups[0].Name != "a" || topo.Groups[1].Name != "b" {
		t.Fatalf("groups = %+v", topo.Groups)
	}
	a, b := topo.Groups[0], topo.Groups[1]
	if a.HPA == nil || a.HPA.Name != "ha" || b.HPA == nil || b.HPA.Name != "hb" {
		t.Fatalf("hpa a=%+v b=%+v", a.HPA, b.HPA)
	}
	if a.HPA.Min != 1 || a.HPA.CPUCurrentPercent != nil {
		t.Errorf("defaults: %+v", a.HPA)
	}
	if len(a.HPA.Events) != 2 || a.HPA.Events[0].Reason != "SuccessfulRescale" || a.HPA.Events[1].Count != 4 {
		t.Errorf("hpa events = %+v", a.HPA.Events)
	}
	if len(events) != 3 || events[0].Reason != "SuccessfulRescale" || events[2].Object != "Deployment/traffic-a" {
		t.Errorf("events = %+v", events)
	}
}

func TestEventsNewestFirstCapped(t *testing.T) {
	var objs model.KubeObjects
	for i := 0; i < 250; i++ {
		objs.Events = append(objs.Events, &corev1.Event{InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: fmt.Sprint(i)},
			EventTime: metav1.NewMicroTime(modeltest.Now.Add(time.Duration(i) * time.Second))})
	}
	_, _, events := model.Discover(objs, model.DefaultSelectors(), modeltest.Now)
	if len(events) != 200 || events[0].Object != "Pod/249" || events[199].Object != "Pod/50" {
		t.Fatalf("got %d events, first %v last %v", len(events), events[0], events[len(events)-1])
	}
}

func TestImageTag(t *testing.T) {
	tests := map[string]string{
		"apim/gateway:1.0.0":                        "1.0.0",
		"127.0.0.1:16500/apim/gateway:1.0.0":        "1.0.0",
		"127.0.0.1:16500/apim/gateway":              "",
		"apim/gateway":                              "",
		"apim/gateway@sha256:abcd":                  "",
		"apim/gateway:7.7.20240530@sha256:abcd":     "7.7.20240530",
		"registry.example:5000/a/b/c:77-20211130-1": "77-20211130-1",
		"": "",
	}
	for in, want := range tests {
		if got := model.ImageTag(in); got != want {
			t.Errorf("model.ImageTag(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWorkloadSettings(t *testing.T) {
	pct := intstr.FromString("30%")
	two := intstr.FromInt32(2)
	tests := []struct {
		name   string
		mutate func(*appsv1.Deployment)
		check  func(model.Workload) string
	}{
		{"defaults 25%", func(d *appsv1.Deployment) {}, func(w model.Workload) string {
			if w.Strategy != "RollingUpdate" || w.MaxSurge != "25%" || w.MaxUnavailable != "25%" {
				return fmt.Sprintf("%s %s %s", w.Strategy, w.MaxSurge, w.MaxUnavailable)
			}
			return ""
		}},
		{"explicit surge only", func(d *appsv1.Deployment) {
			d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &pct}}
		}, func(w model.Workload) string {
			if w.MaxSurge != "30%" || w.MaxUnavailable != "25%" {
				return w.MaxSurge + " " + w.MaxUnavailable
			}
			return ""
		}},
		{"recreate", func(d *appsv1.Deployment) { d.Spec.Strategy.Type = appsv1.RecreateDeploymentStrategyType }, func(w model.Workload) string {
			if w.Strategy != "Recreate" || w.MaxSurge != "" {
				return w.Strategy + " " + w.MaxSurge
			}
			return ""
		}},
		{"ints", func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: &two, MaxUnavailable: &two}
		}, func(w model.Workload) string {
			if w.MaxSurge != "2" || w.MaxUnavailable != "2" {
				return w.MaxSurge + " " + w.MaxUnavailable
			}
			return ""
		}},
		{"rollout: observed generation behind", func(d *appsv1.Deployment) {
			d.Generation = 3
			d.Status = appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3}
		}, func(w model.Workload) string {
			if !w.RolloutInProgress {
				return "not in progress"
			}
			return ""
		}},
		{"rollout: old pods remain", func(d *appsv1.Deployment) {
			d.Status = appsv1.DeploymentStatus{Replicas: 4, UpdatedReplicas: 3, AvailableReplicas: 3}
		}, func(w model.Workload) string {
			if !w.RolloutInProgress {
				return "not in progress"
			}
			return ""
		}},
		{"converged", func(d *appsv1.Deployment) {
			d.Status = appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3, ReadyReplicas: 3}
		}, func(w model.Workload) string {
			if w.RolloutInProgress {
				return "in progress"
			}
			return ""
		}},
		{"required anti-affinity and pool via nodeSelector", func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{TopologyKey: "kubernetes.io/hostname"}}}}
			d.Spec.Template.Spec.NodeSelector = map[string]string{model.LabelPool: "gwpool"}
		}, func(w model.Workload) string {
			if !w.AntiAffinityHost || w.AntiAffinityZone || w.NodePool != "gwpool" {
				return fmt.Sprintf("%v %v %q", w.AntiAffinityHost, w.AntiAffinityZone, w.NodePool)
			}
			return ""
		}},
		{"topology spread on zone", func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{TopologyKey: model.LabelZone}}
		}, func(w model.Workload) string {
			if w.AntiAffinityHost || !w.AntiAffinityZone {
				return fmt.Sprintf("%v %v", w.AntiAffinityHost, w.AntiAffinityZone)
			}
			return ""
		}},
		{"no resources no probes", func(d *appsv1.Deployment) {}, func(w model.Workload) string {
			if w.CPULimit != "" || w.MemoryRequest != "" || w.ReadinessProbe || w.LivenessProbe || w.NodePool != "" {
				return fmt.Sprintf("%+v", w)
			}
			return ""
		}},
		{"paused", func(d *appsv1.Deployment) { d.Spec.Paused = true }, func(w model.Workload) string {
			if !w.Paused {
				return "not paused"
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := deployment("traffic", map[string]string{model.LabelRole: "traffic"}, tt.mutate)
			topo, _, _ := model.Discover(model.KubeObjects{Deployments: []*appsv1.Deployment{d}}, model.DefaultSelectors(), modeltest.Now)
			if msg := tt.check(topo.Groups[0].Traffic[0]); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func TestPodStates(t *testing.T) {
	deletion := metav1.NewTime(modeltest.Now)
	waiting := func(reason string) corev1.ContainerStatus {
		return corev1.ContainerStatus{RestartCount: 2, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}}
	}
	tests := []struct {
		name string
		pod  corev1.Pod
		want model.PodState
	}{
		{"crashloop", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning,
			ContainerStatuses: []corev1.ContainerStatus{waiting("CrashLoopBackOff"), {RestartCount: 5}}}},
			model.PodState{Phase: "Running", Restarts: 7, Reason: "CrashLoopBackOff"}},
		{"image pull", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending,
			ContainerStatuses: []corev1.ContainerStatus{waiting("ImagePullBackOff")}}},
			model.PodState{Phase: "Pending", Restarts: 2, Reason: "ImagePullBackOff"}},
		{"unschedulable", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending,
			Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable"}}}},
			model.PodState{Phase: "Pending", Reason: "Unschedulable"}},
		{"init crash", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending,
			InitContainerStatuses: []corev1.ContainerStatus{waiting("CrashLoopBackOff")},
			ContainerStatuses:     []corev1.ContainerStatus{waiting("PodInitializing")}}},
			model.PodState{Phase: "Pending", Restarts: 2, Reason: "Init:CrashLoopBackOff"}},
		{"ready has no reason", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}},
			model.PodState{Phase: "Running", Ready: true}},
		{"terminating", corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &deletion},
			Status: corev1.PodStatus{Phase: corev1.PodRunning}},
			model.PodState{Phase: "Running", Terminating: true}},
		{"evicted", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted"}},
			model.PodState{Phase: "Failed", Reason: "Evicted"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := model.PodStateOf(&tt.pod, nil)
			if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", tt.want) {
				t.Errorf("\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestPodsFollowOwnerChainAndNodeRequests(t *testing.T) {
	d := deployment("traffic", map[string]string{model.LabelRole: "traffic"})
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "cassandra", Namespace: "apim"}}
	rsOld := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "traffic-old", Namespace: "apim",
		OwnerReferences: []metav1.OwnerReference{modeltest.OwnerRef("Deployment", "traffic")}}}
	rsNew := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "traffic-new", Namespace: "apim",
		OwnerReferences: []metav1.OwnerReference{modeltest.OwnerRef("Deployment", "traffic")}}}
	req := func(cpu, mem string) []corev1.Container {
		return []corev1.Container{{Image: "apim/gateway:2", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}}}}
	}
	pod := func(name, kind, owner, node string, phase corev1.PodPhase, c []corev1.Container) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "apim",
			OwnerReferences: []metav1.OwnerReference{modeltest.OwnerRef(kind, owner)}},
			Spec: corev1.PodSpec{NodeName: node, Containers: c}, Status: corev1.PodStatus{Phase: phase}}
	}
	objs := model.KubeObjects{
		Deployments:  []*appsv1.Deployment{d},
		StatefulSets: []*appsv1.StatefulSet{sts},
		ReplicaSets:  []*appsv1.ReplicaSet{rsOld, rsNew},
		Pods: []*corev1.Pod{
			pod("traffic-new-1", "ReplicaSet", "traffic-new", "n1", corev1.PodRunning, req("1", "1Gi")),
			pod("traffic-old-1", "ReplicaSet", "traffic-old", "n1", corev1.PodRunning, req("500m", "512Mi")),
			pod("cassandra-0", "StatefulSet", "cassandra", "n2", corev1.PodRunning, req("2", "4Gi")),
			pod("job-x", "Job", "backup", "n1", corev1.PodSucceeded, req("4", "4Gi")), // finished: requests nothing
			pod("orphan", "ReplicaSet", "gone", "n2", corev1.PodPending, req("250m", "256Mi")),
		},
		Nodes: []*corev1.Node{modeltest.Node("n1", "apimpool", "z1", "4", "8Gi", true), modeltest.Node("n2", "apimpool", "z2", "4", "8Gi", false)},
	}
	topo, nodes, _ := model.Discover(objs, model.DefaultSelectors(), modeltest.Now)
	tr := topo.Groups[0].Traffic[0]
	if len(tr.Pods) != 2 || tr.Pods[0].Name != "traffic-new-1" || tr.Pods[1].Name != "traffic-old-1" {
		t.Errorf("traffic pods = %+v", tr.Pods)
	}
	if tr.Pods[0].Zone != "z1" || tr.Pods[0].Tag != "2" {
		t.Errorf("pod = %+v", tr.Pods[0])
	}
	if len(topo.Unclassified) != 1 || topo.Unclassified[0].Kind != "StatefulSet" || len(topo.Unclassified[0].Pods) != 1 {
		t.Errorf("unclassified = %+v", topo.Unclassified)
	}
	if n := nodes[0]; n.CPURequested != 1500 || n.MemoryRequested != 1536<<20 || n.Pods != 2 || !n.Ready {
		t.Errorf("n1 = %+v", n)
	}
	if n := nodes[1]; n.CPURequested != 2250 || n.MemoryRequested != (4<<30)+(256<<20) || n.Pods != 2 || n.Ready {
		t.Errorf("n2 = %+v", n)
	}
}

func TestIngressMinTLS(t *testing.T) {
	tests := []struct {
		ann  map[string]string
		want string
	}{
		{map[string]string{model.NginxSSLProtocolsAnnotation: "TLSv1.2 TLSv1.3"}, "TLSv1.2"},
		{map[string]string{model.NginxSSLProtocolsAnnotation: "TLSv1.3"}, "TLSv1.3"},
		{map[string]string{model.NginxSSLProtocolsAnnotation: "TLSv1.3 TLSv1 TLSv1.2"}, "TLSv1"},
		{map[string]string{model.NginxSSLProtocolsAnnotation: "TLSv1.1  TLSv1.2"}, "TLSv1.1"},
		{map[string]string{model.NginxSSLProtocolsAnnotation: "SSLv3 TLSv1.2"}, "SSLv3"},
		{map[string]string{model.AppGwSSLPolicyAnnotation: "AppGwSslPolicy20170401S"}, "TLSv1.2"},
		{map[string]string{model.AppGwSSLPolicyAnnotation: "AppGwSslPolicy20150501"}, "TLSv1"},
		{map[string]string{model.AppGwSSLPolicyAnnotation: "AppGwSslPolicy20170401"}, "TLSv1.1"},
		{map[string]string{"nginx.ingress.kubernetes.io/ssl-redirect": "true"}, ""},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := model.MinTLSOf(tt.ann); got != tt.want {
			t.Errorf("model.MinTLSOf(%v) = %q, want %q", tt.ann, got, tt.want)
		}
	}
}

func TestIngressLegacyClassAndPortNumber(t *testing.T) {
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "legacy", Annotations: map[string]string{"kubernetes.io/ingress.class": "azure/application-gateway"}},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: "api.x.test", IngressRuleValue: networkingv1.IngressRuleValue{
			HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{Path: "/", Backend: networkingv1.IngressBackend{
				Service: &networkingv1.IngressServiceBackend{Name: "traffic", Port: networkingv1.ServiceBackendPort{Number: 8065}}}}}}}}}},
	}
	st := model.IngressStateOf(ing)
	if st.Class != "azure/application-gateway" || st.Backends["api.x.test"] != "traffic:8065" || len(st.TLSHosts) != 0 {
		t.Errorf("%+v", st)
	}
}

// BenchmarkDiscover10kPods: 10,000 pods of 50 Deployments on 100 nodes, with events.
func BenchmarkDiscover10kPods(b *testing.B) {
	objs := bigObjects(10000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		model.Discover(objs, model.DefaultSelectors(), modeltest.Now)
	}
}

func bigObjects(pods int) model.KubeObjects {
	var objs model.KubeObjects
	for n := 0; n < 100; n++ {
		objs.Nodes = append(objs.Nodes, modeltest.Node(fmt.Sprintf("node-%d", n), "apimpool", fmt.Sprintf("z%d", n%3), "64", "256Gi", true))
	}
	const deployments = 50
	for i := 0; i < deployments; i++ {
		group := fmt.Sprintf("g%d", i%10)
		role := []string{"traffic", "apimgr", "traffic", "traffic", "anm"}[i%5]
		d := deployment(fmt.Sprintf("%s-%d", role, i), map[string]string{model.LabelRole: role, model.LabelGroup: group})
		objs.Deployments = append(objs.Deployments, d)
		for r := 0; r < 2; r++ {
			objs.ReplicaSets = append(objs.ReplicaSets, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{
				Name: fmt.Sprintf("%s-rs%d", d.Name, r), Namespace: "apim", OwnerReferences: []metav1.OwnerReference{modeltest.OwnerRef("Deployment", d.Name)}}})
		}
	}
	containers := []corev1.Container{{Image: "127.0.0.1:16500/apim/gateway:1.0.0", Resources: corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")}}}}
	for i := 0; i < pods; i++ {
		rs := objs.ReplicaSets[i%len(objs.ReplicaSets)]
		objs.Pods = append(objs.Pods, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", rs.Name, i), Namespace: "apim",
				OwnerReferences: []metav1.OwnerReference{modeltest.OwnerRef("ReplicaSet", rs.Name)}},
			Spec: corev1.PodSpec{NodeName: fmt.Sprintf("node-%d", i%100), Containers: containers},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
				ContainerStatuses: []corev1.ContainerStatus{{RestartCount: 1}}},
		})
	}
	for i := 0; i < 1000; i++ {
		objs.Events = append(objs.Events, &corev1.Event{InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: fmt.Sprint(i)},
			LastTimestamp: metav1.NewTime(modeltest.Now.Add(-time.Duration(i) * time.Second))})
	}
	return objs
}

// TestDiscover10kPodsFast guards the budget the console's refresh loop relies on.
// TestDiscover10kPodsPlacesEveryPod checks correctness at scale; speed is measured by
// BenchmarkDiscover10kPods, never asserted by a timer.
func TestDiscover10kPodsPlacesEveryPod(t *testing.T) {
	objs := bigObjects(10000)
	topo, _, _ := model.Discover(objs, model.DefaultSelectors(), modeltest.Now)
	total := 0
	for _, g := range topo.Groups {
		for _, w := range append(g.Traffic, g.APIManager...) {
			total += len(w.Pods)
		}
	}
	for _, w := range topo.ANM {
		total += len(w.Pods)
	}
	if total != 10000 || !strings.HasPrefix(topo.Groups[0].Name, "g") {
		t.Errorf("pods placed = %d", total)
	}
}
