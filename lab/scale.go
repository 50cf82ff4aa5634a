package lab

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

const (
	scalePool        = "scalepool"
	scaleDeployment  = "scale"
	podsPerScaleNode = 500
)

// Scale sets the lab's synthetic workload to n pods: a Deployment "scale" in the namespace,
// labelled as the traffic gateways of gateway group "scale", on kwok nodes of pool scalepool
// (500 pods each, over three zones). n = 0 removes both. It waits until n pods are Ready.
func (l *Lab) Scale(ctx context.Context, n int) error {
	if n < 0 || n > 50000 {
		return fmt.Errorf("--pods %d out of range: 0..50000", n)
	}
	cfg, err := l.restConfig()
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = 200, 400
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ns := l.opts.Namespace
	nodes := (n + podsPerScaleNode - 1) / podsPerScaleNode
	for i := range nodes {
		name := fmt.Sprintf("%s-%d", scalePool, i+1)
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name: name,
				Labels: map[string]string{"agentpool": scalePool, "kubernetes.io/hostname": name, "type": "kwok",
					"topology.kubernetes.io/zone": fmt.Sprintf("zone-%d", i%3+1)},
				Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
			},
			Status: corev1.NodeStatus{
				Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("64"), corev1.ResourceMemory: resource.MustParse("256Gi"), corev1.ResourcePods: resource.MustParse(fmt.Sprint(podsPerScaleNode))},
				Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("64"), corev1.ResourceMemory: resource.MustParse("256Gi"), corev1.ResourcePods: resource.MustParse(fmt.Sprint(podsPerScaleNode))},
			},
		}
		if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create node %s: %w", name, err)
		}
	}
	if n == 0 {
		err := cs.AppsV1().Deployments(ns).Delete(ctx, scaleDeployment, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		return cs.CoreV1().Nodes().DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "agentpool=" + scalePool})
	}
	labels := map[string]string{"app": scaleDeployment, "apimctl.dev/role": "traffic", "apimctl.dev/group": "scale",
		"app.kubernetes.io/part-of": "apim"}
	replicas := int32(n)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: scaleDeployment, Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": scaleDeployment}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{
					"pod-create.stage.kwok.x-k8s.io/delay": "0s", "pod-create.stage.kwok.x-k8s.io/jitter-delay": "1s",
					"pod-ready.stage.kwok.x-k8s.io/delay": "0s", "pod-ready.stage.kwok.x-k8s.io/jitter-delay": "1s",
				}},
				Spec: corev1.PodSpec{
					NodeSelector: map[string]string{"agentpool": scalePool},
					Containers:   []corev1.Container{{Name: "traffic", Image: fmt.Sprintf("127.0.0.1:%d/apim/gateway:1.0.0", l.ports.Registry)}},
				},
			},
		},
	}
	_, err = cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		patch := fmt.Sprintf(`{"spec":{"replicas":%d}}`, n)
		_, err = cs.AppsV1().Deployments(ns).Patch(ctx, scaleDeployment, "application/merge-patch+json", []byte(patch), metav1.PatchOptions{})
	}
	if err != nil {
		return fmt.Errorf("deployment %s: %w", scaleDeployment, err)
	}
	start := time.Now()
	stop := l.ticker("waiting for the scale pods", start)
	defer stop()
	for {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, scaleDeployment, metav1.GetOptions{})
		if err == nil && d.Status.ReadyReplicas == replicas && d.Status.Replicas == replicas {
			l.progress("%d pods ready in %s", n, time.Since(start).Round(time.Second))
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d pods: %w", n, ctx.Err())
		case <-time.After(2 * time.Second):
		}
	}
}
