package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/apimctl/apimctl/deploy"
	"github.com/apimctl/apimctl/lab/agent"
)

// Node pools of the reference architecture: apimpool (3 nodes over 3 zones, sized like a
// Standard_DS3_v2) and infrapool (1 node) for monitoring and tools.
type nodeSpec struct {
	name, pool, zone, instance string
	cpu, memory                string
}

var labNodes = []nodeSpec{
	{"apimpool-1", "apimpool", "zone-1", "Standard_DS3_v2", "4", "14Gi"},
	{"apimpool-2", "apimpool", "zone-2", "Standard_DS3_v2", "4", "14Gi"},
	{"apimpool-3", "apimpool", "zone-3", "Standard_DS3_v2", "4", "14Gi"},
	{"infrapool-1", "infrapool", "zone-1", "Standard_D2_v3", "2", "8Gi"},
}

// RESTConfig returns the administrator's client configuration of the lab.
func (e *Env) RESTConfig() (*rest.Config, error) {
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: e.Kubeconfig},
		&clientcmd.ConfigOverrides{CurrentContext: e.Context}).ClientConfig()
}

func (l *Lab) restConfig() (*rest.Config, error) {
	return clientcmd.BuildConfigFromFlags("", filepath.Join(l.opts.StateDir, "kubeconfig", "admin.kubeconfig"))
}

// clientset is a client of the lab's API server as its administrator, with its configuration.
func (l *Lab) clientset() (*rest.Config, kubernetes.Interface, error) {
	cfg, err := l.restConfig()
	if err != nil {
		return nil, nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	return cfg, cs, err
}

// setupCluster creates the nodes, the viewer's RBAC and the reference topology. Idempotent.
func (l *Lab) setupCluster(ctx context.Context) error {
	cfg, cs, err := l.clientset()
	if err != nil {
		return err
	}
	if err := l.step("simulated nodes", func() error { return createNodes(ctx, cs, l.ports.Kwok) }); err != nil {
		return err
	}
	if err := l.step("namespace and RBAC", func() error { return l.createRBAC(ctx, cs) }); err != nil {
		return err
	}
	if l.needs(metricsServerName) {
		if err := l.step("resource metrics API", func() error { return l.applyMetricsAPI(ctx, cfg) }); err != nil {
			return err
		}
	}
	return l.step("reference topology", func() error { return l.applyTopology(ctx, cfg) })
}

// createNodes creates the pools' nodes: apimpool is run by the lab's node agent (real apigw
// processes), infrapool by kwok. Nodes of an older lab that kwok ran are handed to the agent.
// kwok's nodes get a loopback InternalIP and kwok's port as their kubelet endpoint (the agent
// reports its own nodes'), so that the API server reaches them on loopback.
func createNodes(ctx context.Context, cs kubernetes.Interface, kwokPort int) error {
	for _, n := range labNodes {
		typ, ann := "kwok", map[string]string{"kwok.x-k8s.io/node": "fake"}
		if n.pool == "apimpool" {
			typ, ann = "agent", map[string]string{agent.Annotation: "lab"}
		}
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name: n.name,
				Labels: map[string]string{
					"agentpool":                        n.pool,
					"kubernetes.io/hostname":           n.name,
					"kubernetes.io/os":                 "linux",
					"kubernetes.io/arch":               "amd64",
					"topology.kubernetes.io/zone":      n.zone,
					"topology.kubernetes.io/region":    "lab",
					"node.kubernetes.io/instance-type": n.instance,
					"type":                             typ,
				},
				Annotations: ann,
			},
			Status: corev1.NodeStatus{
				Capacity: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse(n.cpu), corev1.ResourceMemory: resource.MustParse(n.memory),
					corev1.ResourcePods: resource.MustParse("110"),
				},
				Allocatable: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse(n.cpu), corev1.ResourceMemory: resource.MustParse(n.memory),
					corev1.ResourcePods: resource.MustParse("110"),
				},
			},
		}
		if typ == "kwok" {
			node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: nodeIP}, {Type: corev1.NodeHostName, Address: n.name}}
			node.Status.DaemonEndpoints.KubeletEndpoint.Port = int32(kwokPort)
		}
		_, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
		switch {
		case apierrors.IsAlreadyExists(err) && n.pool == "apimpool":
			patch := fmt.Sprintf(`{"metadata":{"labels":{"type":%q},"annotations":{"kwok.x-k8s.io/node":null,%q:"lab"}}}`, typ, agent.Annotation)
			_, err = cs.CoreV1().Nodes().Patch(ctx, n.name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{})
		case apierrors.IsAlreadyExists(err):
			// A node kwok initialised before it advertised its port.
			patch := fmt.Sprintf(`{"status":{"daemonEndpoints":{"kubeletEndpoint":{"Port":%d}}}}`, kwokPort)
			_, err = cs.CoreV1().Nodes().Patch(ctx, n.name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}, "status")
		}
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create node %s: %w", n.name, err)
		}
	}
	// Wait until kwok and the agent have made every node Ready, so that pods schedule at once.
	deadline := time.Now().Add(60 * time.Second)
	for {
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err == nil {
			ready := 0
			for _, n := range nodes.Items {
				if !slices.ContainsFunc(labNodes, func(s nodeSpec) bool { return s.name == n.Name }) {
					continue
				}
				for _, c := range n.Status.Conditions {
					if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
						ready++
					}
				}
			}
			if ready >= len(labNodes) {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nodes not Ready after 60s (are kwok and the lab agent running? see logs/kwok.log and logs/lab-agent.log)")
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func (l *Lab) createRBAC(ctx context.Context, cs kubernetes.Interface) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: l.opts.Namespace}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	// oncall-viewer may read the namespace (the built-in `view` role) and the nodes.
	if err := clusterReader(ctx, cs, "apimctl-node-viewer", "nodes", "oncall-viewer"); err != nil {
		return err
	}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "oncall-viewer", Namespace: l.opts.Namespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "view"},
		Subjects:   []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "oncall-viewer"}},
	}
	if _, err := cs.RbacV1().RoleBindings(l.opts.Namespace).Create(ctx, rb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	// Prometheus discovers pods in every namespace (kubernetes_sd_configs, role pod).
	return clusterReader(ctx, cs, "apimctl-prometheus", "pods", "prometheus")
}

// clusterReader lets user get, list and watch resource (of the core group) in the whole
// cluster: a ClusterRole and its ClusterRoleBinding, both named name. Idempotent.
func clusterReader(ctx context.Context, cs kubernetes.Interface, name, resource, user string) error {
	cr := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{resource}, Verbs: []string{"get", "list", "watch"}}},
	}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: user}},
	}
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, cr, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

// TopologyValues are the deploy values of this lab: its registry, its Secrets and kwok's
// ready delay on every pod.
func (l *Lab) TopologyValues(namespace string) deploy.Values {
	env := l.env()
	vars := env.Vars()
	creds := map[string]string{}
	for _, k := range append(append([]string{}, deploy.CassandraKeys...), deploy.MetricsKeys...) {
		creds[k] = vars[k]
	}
	creds[deploy.APIMgrTokenKey] = l.secrets.APIMgrToken
	creds[deploy.ANMTokenKey] = l.secrets.ANMToken
	// The ANM verifies MariaDB's certificate against the lab's CA (unreadable only before the
	// lab's PKI exists, when nothing is applied yet).
	ca, _ := os.ReadFile(pki{filepath.Join(l.opts.StateDir, "pki")}.path("ca.crt"))
	creds[deploy.MetricsCAKey] = string(ca)
	backend := l.BackendURL()
	d := l.opts.PodReadyDelay.String()
	return deploy.Values{
		Namespace:  namespace,
		Registry:   fmt.Sprintf("127.0.0.1:%d", l.ports.Registry),
		GatewayTag: "1.0.0", ANMTag: "1.0.0",
		PodAnnotations: map[string]string{
			"pod-ready.stage.kwok.x-k8s.io/delay":         d,
			"pod-ready.stage.kwok.x-k8s.io/jitter-delay":  d,
			"pod-create.stage.kwok.x-k8s.io/delay":        "500ms",
			"pod-create.stage.kwok.x-k8s.io/jitter-delay": "1s",
		},
		Credentials: creds,
		// Every API of the policy package is served by the lab's sized-response backend.
		GatewayEnv: map[string]string{
			"CATALOG_BACKEND": backend, "ORDERS_BACKEND": backend, "PAYMENTS_BACKEND": backend,
		},
	}
}

func (l *Lab) applyTopology(ctx context.Context, cfg *rest.Config) error {
	objs, err := deploy.Render(l.TopologyValues(l.opts.Namespace))
	if err != nil {
		return err
	}
	return Apply(ctx, cfg, objs)
}

// Apply server-side-applies objs (field manager apimctl), resolving kinds by discovery.
func Apply(ctx context.Context, cfg *rest.Config, objs []*unstructured.Unstructured) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(cs.Discovery()))
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return fmt.Errorf("apply %s/%s: %w", gvk.Kind, o.GetName(), err)
		}
		var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
		if m.Scope.Name() == "namespace" {
			ri = dyn.Resource(m.Resource).Namespace(o.GetNamespace())
		}
		if _, err := ri.Apply(ctx, o.GetName(), o, metav1.ApplyOptions{FieldManager: "apimctl", Force: true}); err != nil {
			return fmt.Errorf("apply %s %s/%s: %w", strings.ToLower(gvk.Kind), o.GetNamespace(), o.GetName(), err)
		}
	}
	return nil
}
