package kube

import (
	"context"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// Objects are the cached objects of one namespace (Nodes are cluster-wide). Slices hold the
// informers' shared pointers: callers must not modify them.
type Objects struct {
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

// Cache watches the namespace's workloads, pods, HPAs, Services, Ingresses and Events, and
// the cluster's Nodes, with informers: one LIST each at start, then watches only. Objects are
// stripped of managedFields and of what the console never reads, so that 10,000 pods stay
// small.
type Cache struct {
	ns      *informerSet
	nodes   informers.SharedInformerFactory
	nodeInf cache.SharedIndexInformer
	changed func()

	mu      sync.Mutex
	lastErr error
	errAt   time.Time
}

type informerSet struct {
	factory                              informers.SharedInformerFactory
	deploy, sts, rs, pods, hpa, svc, ing cache.SharedIndexInformer
	// events are watched by three field-selected informers — Warnings, the HPAs' events and
	// the Deployments' events — rather than all events: at 10,000 pods the scheduler's and
	// kubelets' Normal pod events outnumber the pods several times and tell on-call nothing.
	events []cache.SharedIndexInformer
}

// eventSelectors are the field selectors of the event informers.
var eventSelectors = []string{
	"type=Warning",
	"involvedObject.kind=HorizontalPodAutoscaler",
	"involvedObject.kind=Deployment",
}

// NewCache prepares the informers; onChange is called (from informer goroutines) after every
// add, update or delete.
func NewCache(c *Client, namespace string, onChange func()) *Cache {
	f := informers.NewSharedInformerFactoryWithOptions(c.Clientset, 0, informers.WithNamespace(namespace),
		informers.WithTransform(strip))
	s := &informerSet{
		factory: f,
		deploy:  f.Apps().V1().Deployments().Informer(),
		sts:     f.Apps().V1().StatefulSets().Informer(),
		rs:      f.Apps().V1().ReplicaSets().Informer(),
		pods:    f.Core().V1().Pods().Informer(),
		hpa:     f.Autoscaling().V2().HorizontalPodAutoscalers().Informer(),
		svc:     f.Core().V1().Services().Informer(),
		ing:     f.Networking().V1().Ingresses().Informer(),
	}
	for _, fs := range eventSelectors {
		inf := coreinformers.NewFilteredEventInformer(c.Clientset, namespace, 0, cache.Indexers{},
			func(o *metav1.ListOptions) { o.FieldSelector = fs })
		_ = inf.SetTransform(strip)
		s.events = append(s.events, inf)
	}
	nf := informers.NewSharedInformerFactoryWithOptions(c.Clientset, 0, informers.WithTransform(strip))
	kc := &Cache{ns: s, nodes: nf, nodeInf: nf.Core().V1().Nodes().Informer(), changed: onChange}
	h := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { kc.changed() },
		UpdateFunc: func(any, any) { kc.changed() },
		DeleteFunc: func(any) { kc.changed() },
	}
	for _, inf := range append([]cache.SharedIndexInformer{s.deploy, s.sts, s.rs, s.pods, s.hpa, s.svc, s.ing, kc.nodeInf}, s.events...) {
		_, _ = inf.AddEventHandler(h)
		_ = inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
			kc.mu.Lock()
			kc.lastErr, kc.errAt = err, time.Now()
			kc.mu.Unlock()
			kc.changed()
		})
	}
	return kc
}

// Start runs the informers until ctx ends.
func (c *Cache) Start(ctx context.Context) {
	c.ns.factory.Start(ctx.Done())
	c.nodes.Start(ctx.Done())
	for _, inf := range c.ns.events {
		go inf.RunWithContext(ctx)
	}
}

// WaitForSync waits until every informer but the events' has listed once.
func (c *Cache) WaitForSync(ctx context.Context) error {
	for t, ok := range c.ns.factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("kube: %v did not sync: %w", t, c.errOr(ctx.Err()))
		}
	}
	for t, ok := range c.nodes.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("kube: %v did not sync: %w", t, c.errOr(ctx.Err()))
		}
	}
	// Events are not waited for: a field-selected list is slower for the API server to answer
	// (it cannot come from the watch cache's index), and the first screen does not need them;
	// they arrive moments later through the change handler.
	return nil
}

func (c *Cache) errOr(err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lastErr != nil {
		return c.lastErr
	}
	return err
}

// Synced reports whether every informer but the events' has listed once.
func (c *Cache) Synced() bool {
	for _, inf := range []cache.SharedIndexInformer{c.ns.deploy, c.ns.sts, c.ns.rs, c.ns.pods, c.ns.hpa, c.ns.svc, c.ns.ing, c.nodeInf} {
		if !inf.HasSynced() {
			return false
		}
	}
	return true
}

// LastWatchError is the most recent watch failure and when it happened (nil if none).
func (c *Cache) LastWatchError() (error, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastErr, c.errAt
}

// Objects returns the cached objects.
func (c *Cache) Objects() Objects {
	var o Objects
	list(c.ns.deploy, &o.Deployments)
	list(c.ns.sts, &o.StatefulSets)
	list(c.ns.rs, &o.ReplicaSets)
	list(c.ns.pods, &o.Pods)
	list(c.ns.hpa, &o.HPAs)
	list(c.ns.svc, &o.Services)
	list(c.ns.ing, &o.Ingresses)
	list(c.nodeInf, &o.Nodes)
	// A Warning about an HPA or a Deployment is in two informers: keep it once.
	seen := map[types.UID]bool{}
	for _, inf := range c.ns.events {
		var evs []*corev1.Event
		list(inf, &evs)
		for _, e := range evs {
			if !seen[e.UID] {
				seen[e.UID] = true
				o.Events = append(o.Events, e)
			}
		}
	}
	return o
}

func list[T any](inf cache.SharedIndexInformer, dst *[]*T) {
	items := inf.GetStore().List()
	out := make([]*T, 0, len(items))
	for _, it := range items {
		if t, ok := it.(*T); ok {
			out = append(out, t)
		}
	}
	*dst = out
}

// strip drops what the console never reads before an object enters the cache.
func strip(obj any) (any, error) {
	if m, ok := obj.(metav1.ObjectMetaAccessor); ok {
		meta := m.GetObjectMeta()
		meta.SetManagedFields(nil)
		if ann := meta.GetAnnotations(); ann != nil {
			delete(ann, "kubectl.kubernetes.io/last-applied-configuration")
		}
	}
	switch o := obj.(type) {
	case *corev1.Pod:
		return slimPod(o), nil
	case *appsv1.ReplicaSet:
		// Only ownership and counts matter; the template is the Deployment's.
		o.Spec.Template = corev1.PodTemplateSpec{}
		return o, nil
	case *corev1.Node:
		o.Status.Images = nil
		o.Status.VolumesAttached, o.Status.VolumesInUse = nil, nil
		return o, nil
	}
	return obj, nil
}

// slimPod keeps the fields the pod views, topology and checks read.
func slimPod(p *corev1.Pod) *corev1.Pod {
	// Pods belong to their workload by owner reference; their labels are not read.
	var owners []metav1.OwnerReference
	for _, o := range p.OwnerReferences {
		owners = append(owners, metav1.OwnerReference{Kind: o.Kind, Name: o.Name, UID: o.UID, Controller: o.Controller})
	}
	s := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: p.Name, Namespace: p.Namespace, UID: p.UID, ResourceVersion: p.ResourceVersion,
			OwnerReferences:   owners,
			CreationTimestamp: p.CreationTimestamp, DeletionTimestamp: p.DeletionTimestamp,
		},
		Spec: corev1.PodSpec{NodeName: p.Spec.NodeName},
		Status: corev1.PodStatus{
			Phase: p.Status.Phase, PodIP: p.Status.PodIP, Reason: p.Status.Reason,
		},
	}
	for _, c := range p.Spec.Containers {
		s.Spec.Containers = append(s.Spec.Containers, corev1.Container{Name: c.Name, Image: c.Image, Resources: c.Resources})
	}
	for _, c := range p.Status.Conditions {
		s.Status.Conditions = append(s.Status.Conditions, corev1.PodCondition{Type: c.Type, Status: c.Status,
			Reason: c.Reason, LastTransitionTime: c.LastTransitionTime})
	}
	for _, cs := range p.Status.ContainerStatuses {
		s.Status.ContainerStatuses = append(s.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: cs.Name, Ready: cs.Ready, RestartCount: cs.RestartCount, State: cs.State, Image: cs.Image,
		})
	}
	return s
}
