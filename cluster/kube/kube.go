package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Client is a clientset plus where it points.
type Client struct {
	Clientset kubernetes.Interface
	Config    *rest.Config
	Context   string
	Namespace string // the context's namespace, or "default"
	// ContextNamespace is the namespace the kubeconfig context names ("" when it names none).
	ContextNamespace string
	Server           string
	// Stats counts the requests this client made.
	Stats *RequestStats
}

// Connect loads kubeconfig (the usual rules: --kubeconfig, $KUBECONFIG, ~/.kube/config) with
// an optional context override. Nothing is dialled.
func Connect(kubeconfig, context string) (*Client, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context})
	raw, err := cc.RawConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, err
	}
	cfg.Timeout = 10 * time.Second
	cfg.QPS, cfg.Burst = 50, 100
	// Protobuf is several times cheaper than JSON to decode for the big initial lists.
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	stats := &RequestStats{}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &countingTransport{next: rt, stats: stats} })
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	ctxName := context
	if ctxName == "" {
		ctxName = raw.CurrentContext
	}
	c := &Client{Clientset: cs, Config: cfg, Context: ctxName, Namespace: ns, Server: cfg.Host, Stats: stats}
	if kc := raw.Contexts[ctxName]; kc != nil {
		c.ContextNamespace = kc.Namespace
	}
	return c, nil
}

// ServerVersion asks the API server its version.
func (c *Client) ServerVersion(ctx context.Context) (string, error) {
	rc := c.Clientset.Discovery().RESTClient()
	body, err := rc.Get().AbsPath("/version").Do(ctx).Raw()
	if err != nil {
		return "", err
	}
	var v struct{ GitVersion string }
	if err := json.Unmarshal(body, &v); err != nil {
		return "", err
	}
	return v.GitVersion, nil
}

// SecretData returns a Secret's data as strings.
func (c *Client) SecretData(ctx context.Context, namespace, name string) (map[string]string, error) {
	s, err := c.Clientset.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("secret %s/%s not found", namespace, name)
		}
		return nil, err
	}
	out := make(map[string]string, len(s.Data))
	for k, v := range s.Data {
		out[k] = string(v)
	}
	return out, nil
}
