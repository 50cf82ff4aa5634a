package live

import (
	"context"
	"time"

	"github.com/apimctl/apimctl/cluster/kube"
)

// Connection is what Connect resolved: the kube client (nil when the kubeconfig is unusable)
// and the targets.
type Connection struct {
	Kube    *kube.Client
	KubeErr error
	Targets Targets
}

// Connect loads the kubeconfig and fills the targets from env and the namespace's Secrets.
// It never fails: what it could not resolve shows up in the sources. The namespace is -n,
// else $APIM_NAMESPACE, else the context's own namespace, else apim.
func Connect(ctx context.Context, t Targets, getenv func(string) string) *Connection {
	t.FillFromEnv(getenv)
	if t.Namespace == "" {
		t.Namespace = getenv("APIM_NAMESPACE")
	}
	return connect(ctx, t)
}

// ConnectSite connects to another site of a multi-site console: its kube context, and its
// data stores from that site's own Secrets only (the environment describes the first site).
// The namespace is the given one, else the context's own, else apim.
func ConnectSite(ctx context.Context, kubeconfig, kubeContext, namespace string) *Connection {
	return connect(ctx, Targets{Kubeconfig: kubeconfig, Context: kubeContext, Namespace: namespace})
}

func connect(ctx context.Context, t Targets) *Connection {
	c := &Connection{}
	c.Kube, c.KubeErr = kube.Connect(t.Kubeconfig, t.Context)
	if c.Kube != nil {
		if t.Namespace == "" {
			t.Namespace = c.Kube.ContextNamespace
		}
		if t.Namespace == "" {
			t.Namespace = "apim"
		}
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_ = t.FillFromSecrets(sctx, c.Kube) // a missing Secret shows as the source's own error
		cancel()
		if t.Context == "" {
			t.Context = c.Kube.Context
		}
	}
	c.Targets = t
	return c
}
