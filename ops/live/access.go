package live

import (
	"context"

	"github.com/apimctl/apimctl/cluster/kube"
	"github.com/apimctl/apimctl/ops/action"
)

// kubeAccess answers the action runner's RBAC pre-checks with SelfSubjectAccessReviews and
// SelfSubjectReview (who the API server says we are).
type kubeAccess struct{ c *kube.Client }

var _ action.AccessReviewer = kubeAccess{}

func (a kubeAccess) Allowed(ctx context.Context, p action.Permission) (bool, error) {
	k := kube.Action{Group: p.Group, Resource: p.Resource, Subresource: p.Subresource, Verb: p.Verb}
	allowed, err := a.c.Allowed(ctx, p.Namespace, []kube.Action{k})
	if err != nil {
		return false, err
	}
	return allowed[k.Key()], nil
}

func (a kubeAccess) Identity(ctx context.Context) (string, error) { return a.c.WhoAmI(ctx) }

// Access is the connection's RBAC reviewer for the action runner; nil without a kube client.
func (c *Connection) Access() action.AccessReviewer {
	if c == nil || c.Kube == nil {
		return nil
	}
	return kubeAccess{c.Kube}
}
