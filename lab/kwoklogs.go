package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"
)

// Pod logs in the lab. The apiserver answers `kubectl logs` by asking the pod's node's
// kubelet endpoint (its InternalIP, 127.0.0.1, and the port in its status). For the agent's
// nodes that endpoint is the agent, which proxies /containerLogs/ to kwok; for kwok's nodes it
// is kwok itself. kwok serves a pod's log from the files named by the pod's Logs object
// (kwok.x-k8s.io/v1alpha1), which the agent writes for every gateway it runs: the process's
// output in the CRI log format, and the previous instance's.

// kwokCRDs are the kwok resources the lab's kwok watches (--enable-crds).
var kwokCRDs = []string{"Logs"}

// kwokCRDFiles are their definitions in kwok's module.
var kwokCRDFiles = []string{"kwok.x-k8s.io_logs.yaml"}

// installKwokCRDs applies kwok's CRDs from its module and waits until the API serves them.
func (l *Lab) installKwokCRDs(ctx context.Context, t *tools) error {
	cfg, err := l.restConfig()
	if err != nil {
		return err
	}
	// KwokStages is <module>/kustomize/stage; the CRDs are in <module>/kustomize/crd/bases.
	dir := filepath.Join(filepath.Dir(t.KwokStages), "crd", "bases")
	var objs []*unstructured.Unstructured
	for _, f := range kwokCRDFiles {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return fmt.Errorf("kwok CRD: %w", err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("kwok CRD %s: %w", f, err)
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
	if err := Apply(ctx, cfg, objs); err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		rl, err := cs.Discovery().ServerResourcesForGroupVersion("kwok.x-k8s.io/v1alpha1")
		if err == nil && slices.ContainsFunc(rl.APIResources, func(r metav1.APIResource) bool { return r.Name == "logs" }) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kwok's Logs CRD not served after 30s: %v", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}
