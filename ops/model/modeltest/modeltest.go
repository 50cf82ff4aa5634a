// Package modeltest holds fixtures for tests of the model and of what renders or judges it:
// deploy/base as a healthy cluster's objects, and the healthy snapshot built from them.
package modeltest

import (
	"fmt"
	"testing"
	"time"

	"github.com/apimctl/apimctl/deploy"
	"github.com/apimctl/apimctl/ops/model"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Now is the fixtures' clock.
var Now = time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC)

// BaseObjects renders deploy/base and turns it into what a healthy cluster's cache holds:
// converged Deployments, one ReplicaSet each, Ready pods spread over three apimpool nodes in
// three zones, a working HPA, and an infrastructure node.
func BaseObjects(t testing.TB) model.KubeObjects {
	t.Helper()
	rendered, err := deploy.Render(deploy.Values{Namespace: "apim"})
	if err != nil {
		t.Fatal(err)
	}
	var objs model.KubeObjects
	for _, u := range rendered {
		var into any
		switch u.GetKind() {
		case "Deployment":
			d := &appsv1.Deployment{}
			objs.Deployments, into = append(objs.Deployments, d), d
		case "HorizontalPodAutoscaler":
			h := &autoscalingv2.HorizontalPodAutoscaler{}
			objs.HPAs, into = append(objs.HPAs, h), h
		case "Ingress":
			i := &networkingv1.Ingress{}
			objs.Ingresses, into = append(objs.Ingresses, i), i
		case "Service":
			s := &corev1.Service{}
			objs.Services, into = append(objs.Services, s), s
		default:
			continue
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into); err != nil {
			t.Fatalf("%s/%s: %v", u.GetKind(), u.GetName(), err)
		}
	}
	for i := 1; i <= 3; i++ {
		objs.Nodes = append(objs.Nodes, Node(fmt.Sprintf("apim-%d", i), "apimpool", fmt.Sprintf("zone-%d", i), "8", "32Gi", true))
	}
	objs.Nodes = append(objs.Nodes, Node("infra-1", "infrapool", "zone-1", "2", "8Gi", true))
	created := metav1.NewTime(Now.Add(-time.Hour))
	node := 0
	for _, d := range objs.Deployments {
		d.Generation = 2
		d.CreationTimestamp = created
		d.Annotations = map[string]string{model.RevisionAnnotation: "2"}
		n := *d.Spec.Replicas
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n,
			AvailableReplicas: n, Conditions: []appsv1.DeploymentCondition{
				{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"},
				{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable"},
			}}
		rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: d.Name + "-7d9f8", Namespace: d.Namespace,
			OwnerReferences: []metav1.OwnerReference{OwnerRef("Deployment", d.Name)}}}
		objs.ReplicaSets = append(objs.ReplicaSets, rs)
		for i := int32(0); i < n; i++ {
			node++
			p := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", rs.Name, i), Namespace: d.Namespace,
					Labels: d.Spec.Template.Labels, CreationTimestamp: created,
					OwnerReferences: []metav1.OwnerReference{OwnerRef("ReplicaSet", rs.Name)}},
				Spec: corev1.PodSpec{NodeName: fmt.Sprintf("apim-%d", (node-1)%3+1), Containers: d.Spec.Template.Spec.Containers},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: fmt.Sprintf("127.0.1.%d", node),
					Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue},
						{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}},
					ContainerStatuses: []corev1.ContainerStatus{{Name: d.Name, Ready: true,
						State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}},
			}
			objs.Pods = append(objs.Pods, p)
		}
	}
	cpu := int32(40)
	for _, h := range objs.HPAs {
		h.Status = autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: 3, DesiredReplicas: 3,
			CurrentMetrics: []autoscalingv2.MetricStatus{{Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricStatus{Name: corev1.ResourceCPU,
					Current: autoscalingv2.MetricValueStatus{AverageUtilization: &cpu}}}},
			Conditions: []autoscalingv2.HorizontalPodAutoscalerCondition{
				{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue, Reason: "ReadyForNewScale"},
				{Type: autoscalingv2.ScalingActive, Status: corev1.ConditionTrue, Reason: "ValidMetricFound"},
				{Type: autoscalingv2.ScalingLimited, Status: corev1.ConditionFalse, Reason: "DesiredWithinRange"},
			}}
	}
	return objs
}

// OwnerRef is a controller reference to kind/name.
func OwnerRef(kind, name string) metav1.OwnerReference {
	yes := true
	return metav1.OwnerReference{Kind: kind, Name: name, Controller: &yes}
}

// Node is a node of a pool and zone with the given allocatable CPU and memory.
func Node(name, pool, zone, cpu, mem string, ready bool) *corev1.Node {
	status := corev1.ConditionTrue
	if !ready {
		status = corev1.ConditionFalse
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{model.LabelPool: pool, model.LabelZone: zone,
			"kubernetes.io/hostname": name}},
		Status: corev1.NodeStatus{
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)},
			Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: status}},
		},
	}
}

// HealthySnapshot is deploy/base running as it should, with a healthy ring and database.
func HealthySnapshot(t testing.TB) model.Snapshot {
	t.Helper()
	topo, nodes, events := model.Discover(BaseObjects(t), model.DefaultSelectors(), Now)
	var sources []model.SourceState
	for _, n := range []string{model.SourceKube, model.SourceCassandra, model.SourceMySQL, model.SourcePrometheus} {
		sources = append(sources, model.SourceState{Name: n, Endpoint: n + ".test", Synced: true, LastSuccess: Now.Add(-2 * time.Second),
			LastAttempt: Now.Add(-2 * time.Second)})
	}
	ks := func(name string) model.KeyspaceState {
		return model.KeyspaceState{Name: name, Strategy: model.StrategySimple, ReplicationFactor: 3, Quorum: 2, ReplicasUp: 3, QuorumReachable: true}
	}
	lag := int64(0)
	return model.Snapshot{
		Taken: Now, Namespace: "apim", Sources: sources, Topology: topo, Nodes: nodes, Events: events,
		Cassandra: model.CassandraState{
			Nodes: []model.CassandraNode{
				{Address: "127.0.0.1", DC: "dc1", Rack: "rack1", Up: true},
				{Address: "127.0.0.2", DC: "dc1", Rack: "rack1", Up: true},
				{Address: "127.0.0.3", DC: "dc1", Rack: "rack1", Up: true},
			},
			SchemaVersions: 1,
			Keyspaces:      []model.KeyspaceState{ks("apim_default"), ks("t_apim_default"), {Name: "system_auth", Strategy: model.StrategySimple, ReplicationFactor: 1, Quorum: 1, ReplicasUp: 1, QuorumReachable: true}},
		},
		MySQL: model.MySQLState{Reachable: true, Version: "10.11.6-MariaDB", ThreadsConnected: 12, MaxConnections: 151, TLS: true,
			Replica: &model.ReplicaState{IORunning: true, SQLRunning: true, LagSeconds: &lag}},
		Traffic: model.TrafficState{Groups: []model.TrafficSeries{{Group: "default", RPS: 120}}},
	}
}
