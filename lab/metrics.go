package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
)

const metricsServerName = "metrics-server"

// ensureMetricsServer installs metrics-server (once per machine) from the Go module proxy.
func (l *Lab) ensureMetricsServer(ctx context.Context) (string, error) {
	return l.goInstall(ctx, "metrics-server", "sigs.k8s.io/metrics-server/cmd/metrics-server", MetricsServerVersion, "")
}

// metricsServerComponent serves the resource metrics API the HPA reads, scraping the lab
// agent's kubelet endpoints (the processes' CPU and memory). The apiserver reaches it through
// an APIService whose Service is an ExternalName for localhost: the lab has no kube-proxy,
// and Endpoints may not hold loopback addresses.
func (l *Lab) metricsServerComponent(t *tools) *component {
	dir := filepath.Join(l.opts.StateDir, metricsServerName)
	kc := filepath.Join(l.opts.StateDir, "kubeconfig", "admin.kubeconfig")
	addr := fmt.Sprintf("127.0.0.1:%d", l.ports.MetricsServer)
	return &component{
		name: metricsServerName, group: "kube", grace: 10 * time.Second,
		addr: "https://" + addr, listen: []string{addr},
		prepare: func(context.Context) error { return os.MkdirAll(dir, 0o755) },
		command: func() *exec.Cmd {
			return exec.Command(t.MetricsServer,
				"--kubeconfig="+kc, "--authentication-kubeconfig="+kc, "--authorization-kubeconfig="+kc,
				"--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(l.ports.MetricsServer),
				"--cert-dir="+dir,
				"--kubelet-insecure-tls", "--kubelet-preferred-address-types=InternalIP",
				"--kubelet-use-node-status-port", "--metric-resolution=15s",
				// Only the agent's nodes run processes; kwok's simulated nodes have no kubelet.
				"--node-selector=agentpool=apimpool", "-v=1")
		},
		ready: httpReady("https://"+addr+"/livez", l.secrets.AdminToken),
	}
}

// metricsAPIObjects are the Service and APIService that put metrics-server behind the
// aggregation layer.
func (l *Lab) metricsAPIObjects() []*unstructured.Unstructured {
	port := int64(l.ports.MetricsServer)
	return []*unstructured.Unstructured{{Object: map[string]any{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": metricsServerName, "namespace": "kube-system"},
		"spec": map[string]any{"type": "ExternalName", "externalName": "localhost",
			"ports": []any{map[string]any{"name": "https", "port": port, "protocol": "TCP"}}},
	}}, {Object: map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
		"metadata": map[string]any{"name": "v1beta1.metrics.k8s.io"},
		"spec": map[string]any{
			"group": "metrics.k8s.io", "version": "v1beta1",
			"service":               map[string]any{"namespace": "kube-system", "name": metricsServerName, "port": port},
			"insecureSkipTLSVerify": true, "groupPriorityMinimum": int64(100), "versionPriority": int64(100),
		},
	}}}
}

func (l *Lab) applyMetricsAPI(ctx context.Context, cfg *rest.Config) error {
	return Apply(ctx, cfg, l.metricsAPIObjects())
}
