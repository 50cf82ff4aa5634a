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
// It never fails: what it could not resolve shows up in the probes.
func Connect(ctx context.Context, t Targets, getenv func(string) string) *Connection {
	c := &Connection{}
	t.FillFromEnv(getenv)
	c.Kube, c.KubeErr = kube.Connect(t.Kubeconfig, t.Context)
	if c.Kube != nil {
		if t.Namespace == "" {
			t.Namespace = getenv("APIM_NAMESPACE")
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
