package rollout

import (
	"context"
	"errors"
	"fmt"

	"github.com/apimctl/apimctl/ops/live"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	typedappsv1 "k8s.io/client-go/kubernetes/typed/apps/v1"

	"github.com/apimctl/apimctl/cluster/prom"
)

// Rollouts of a gateway Deployment's image: a plan shown before anything changes, the
// rolling update watched to the end, a metric gate on the new pods' error ratio from
// Prometheus, and an automatic rollback when the rollout stalls or the gate fails. Also the
// revision history, undo, pause, resume and restart, as kubectl rollout has them.

// ChangeCauseAnnotation records why a revision exists (kubectl shows it in its history too).
const ChangeCauseAnnotation = "kubernetes.io/change-cause"

// Rollouts acts on the Deployments of one namespace.
type Rollouts struct {
	Client    kubernetes.Interface
	Prom      *prom.Client // nil: no gate possible
	Namespace string
	// Context names the cluster in audit records.
	Context string
	// Resolve asks a registry for an image's digest (registry.Resolve when nil).
	Resolve func(ctx context.Context, image string) (string, error)
}

func (r *Rollouts) deployments() typedappsv1.DeploymentInterface {
	return r.Client.AppsV1().Deployments(r.Namespace)
}

// Container returns the container of a Deployment a rollout changes: the first one.
func (r *Rollouts) Container(ctx context.Context, deployment string) (string, *appsv1.Deployment, error) {
	d, err := r.deployments().Get(ctx, deployment, metav1.GetOptions{})
	if err != nil {
		return "", nil, err
	}
	if len(d.Spec.Template.Spec.Containers) == 0 {
		return "", nil, fmt.Errorf("deployment/%s has no containers", deployment)
	}
	return d.Spec.Template.Spec.Containers[0].Name, d, nil
}

// RolloutsFor returns the Rollouts of a connection's namespace, with its Prometheus for the gate.
func RolloutsFor(c *live.Connection, namespace string) (*Rollouts, error) {
	if c == nil || c.Kube == nil {
		return nil, errors.New("no Kubernetes connection")
	}
	r := &Rollouts{Client: c.Kube.Clientset, Namespace: namespace, Context: c.Targets.Context}
	if u := c.Targets.PrometheusURL; u != "" {
		r.Prom, _ = prom.New(u)
	}
	return r, nil
}
