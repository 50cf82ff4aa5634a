package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

const (
	serviceCIDR = "127.96.0.0/20"
	serviceIP   = "127.96.0.1" // the kubernetes Service, first address of serviceCIDR
	podCIDR     = "127.64.0.0/16"
	nodeIP      = "127.0.0.1"
	// ContextName is the kubeconfig context of the lab's administrator.
	ContextName = "apim-lab"
	// ViewerContext is a read-only identity (the `view` role in the namespace) for trying the
	// console's RBAC awareness.
	ViewerContext = "apim-lab-viewer"
	// DRContext is the lab's stand-in for a DR site: the same cluster, namespace DRNamespace
	// (a DR restore fills it), for trying the console's primary-and-DR view:
	// apimctl --context apim-lab --context apim-lab-dr.
	DRContext   = "apim-lab-dr"
	DRNamespace = "apim-dr"
	// DRRepositoryPrefix is the lab's stand-in for the DR site's registry: the lab's one
	// registry under this repository prefix (REG/dr/apim/gateway), which the lab agent runs
	// too. A drill copies the images there: apimctl dr drill --registry REG/=REG/dr/.
	DRRepositoryPrefix = "dr/"
)

func (l *Lab) kubeComponents(t *tools) []*component {
	p, dir := l.ports, l.opts.StateDir
	pk := pki{filepath.Join(dir, "pki")}
	etcdData := filepath.Join(dir, "etcd")
	apiURL := fmt.Sprintf("https://127.0.0.1:%d", p.APIServer)
	kc := func(name string) string { return filepath.Join(dir, "kubeconfig", name+".kubeconfig") }
	// secured is a control-plane component serving on port over TLS as user: its kubeconfig
	// authenticates and authorizes it, its serving certificates are kept in user-certs; args
	// come between the common flags and the quiet ones.
	secured := func(name string, bin *string, user string, port int, args ...string) *component {
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		return &component{
			name: name, group: "kube", grace: 10e9,
			addr: "https://" + addr, listen: []string{addr},
			command: func() *exec.Cmd {
				return exec.Command(*bin, slices.Concat([]string{
					"--kubeconfig=" + kc(user), "--authentication-kubeconfig=" + kc(user), "--authorization-kubeconfig=" + kc(user),
					"--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(port),
					"--cert-dir=" + filepath.Join(dir, user+"-certs"),
				}, args, []string{"--profiling=false", "-v=1"})...)
			},
			ready: httpReady("https://"+addr+"/healthz", l.secrets.AdminToken),
		}
	}
	return []*component{{
		name: "etcd", group: "kube", grace: 10e9,
		addr:   fmt.Sprintf("127.0.0.1:%d", p.EtcdClient),
		listen: []string{fmt.Sprintf("127.0.0.1:%d", p.EtcdClient), fmt.Sprintf("127.0.0.1:%d", p.EtcdPeer)},
		command: func() *exec.Cmd {
			client := fmt.Sprintf("http://127.0.0.1:%d", p.EtcdClient)
			peer := fmt.Sprintf("http://127.0.0.1:%d", p.EtcdPeer)
			return exec.Command(t.Etcd, "--name=lab", "--data-dir="+etcdData,
				"--listen-client-urls="+client, "--advertise-client-urls="+client,
				"--listen-peer-urls="+peer, "--initial-advertise-peer-urls="+peer,
				"--initial-cluster=lab="+peer, "--log-level=warn", "--quota-backend-bytes=4294967296")
		},
		ready: httpReady(fmt.Sprintf("http://127.0.0.1:%d/health", p.EtcdClient), ""),
	}, {
		name: "kube-apiserver", group: "kube", grace: 10e9,
		addr:   apiURL,
		listen: []string{fmt.Sprintf("127.0.0.1:%d", p.APIServer)},
		prepare: func(context.Context) error {
			if err := pk.ensure(); err != nil {
				return err
			}
			if err := pk.ensureFrontProxy(); err != nil {
				return err
			}
			return l.writeKubeconfigs(apiURL, pk.path("ca.crt"))
		},
		command: func() *exec.Cmd {
			return exec.Command(t.APIServer,
				fmt.Sprintf("--etcd-servers=http://127.0.0.1:%d", p.EtcdClient),
				"--secure-port="+strconv.Itoa(p.APIServer),
				"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
				"--cert-dir="+filepath.Join(dir, "apiserver-certs"),
				"--tls-cert-file="+pk.path("apiserver.crt"), "--tls-private-key-file="+pk.path("apiserver.key"),
				"--client-ca-file="+pk.path("ca.crt"),
				"--token-auth-file="+filepath.Join(dir, "kubeconfig", "tokens.csv"),
				"--service-account-key-file="+pk.path("sa.key"),
				"--service-account-signing-key-file="+pk.path("sa.key"),
				"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
				"--authorization-mode=RBAC",
				"--service-cluster-ip-range="+serviceCIDR,
				// Reach kubelets (the lab agent's and kwok's endpoints, for logs) by the node's
				// InternalIP only: the default tries the Hostname address first, which the
				// resolver would look up ("apimpool-1"), outside loopback.
				"--kubelet-preferred-address-types=InternalIP",
				// The endpoint reconciler would publish 127.0.0.1 for the kubernetes Service,
				// which Endpoints validation rejects (loopback); the lab needs no in-cluster client.
				"--endpoint-reconciler-type=none",
				// The aggregation layer, for metrics-server: the apiserver proxies as
				// front-proxy-client and aggregated servers trust the lab CA's headers.
				"--requestheader-client-ca-file="+pk.path("ca.crt"),
				"--requestheader-allowed-names=front-proxy-client",
				"--requestheader-username-headers=X-Remote-User",
				"--requestheader-group-headers=X-Remote-Group",
				"--requestheader-extra-headers-prefix=X-Remote-Extra-",
				"--proxy-client-cert-file="+pk.path("front-proxy-client.crt"),
				"--proxy-client-key-file="+pk.path("front-proxy-client.key"),
				"--profiling=false", "-v=1")
		},
		ready: httpReady(apiURL+"/readyz", l.secrets.AdminToken),
	}, secured("kube-controller-manager", &t.ControllerManager, "controller-manager", p.ControllerManager,
		// No endpoint controllers: every pod IP here is loopback, which Endpoints and
		// EndpointSlices refuse, so they would only fill the event stream with
		// FailedToUpdateEndpoint warnings (the console's events view showed 160 of them).
		"--controllers=*,-serviceaccount-token,-endpoints-controller,-endpointslice-controller,-endpointslice-mirroring-controller",
		"--use-service-account-credentials=false",
		"--leader-elect=false", "--service-cluster-ip-range="+serviceCIDR,
		"--root-ca-file="+pk.path("ca.crt"),
		"--cluster-signing-cert-file="+pk.path("ca.crt"), "--cluster-signing-key-file="+pk.path("ca.key"),
		// Room for `lab scale`: thousands of pods created at a useful pace.
		"--kube-api-qps=300", "--kube-api-burst=600",
	), secured("kube-scheduler", &t.Scheduler, "scheduler", p.Scheduler,
		"--leader-elect=false", "--kube-api-qps=300", "--kube-api-burst=600",
	), {
		name: "kwok", group: "kube", grace: 5e9,
		addr:   fmt.Sprintf("http://127.0.0.1:%d", p.Kwok),
		listen: []string{fmt.Sprintf("127.0.0.1:%d", p.Kwok)},
		// kwok serves pod logs from the files its Logs objects name; the CRD must exist
		// before it starts watching them.
		prepare: func(ctx context.Context) error { return l.installKwokCRDs(ctx, t) },
		command: func() *exec.Cmd {
			args := []string{"--kubeconfig=" + kc("kwok"),
				"--manage-all-nodes=false",
				"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
				"--cidr=" + podCIDR, "--node-ip=" + nodeIP,
				"--node-lease-duration-seconds=40",
				fmt.Sprintf("--server-address=127.0.0.1:%d", p.Kwok),
				// Its nodes advertise kwok's own server (TLS and plain HTTP on one port) as
				// their kubelet endpoint, so the API server's log requests stay on loopback.
				fmt.Sprintf("--node-port=%d", p.Kwok),
				"--enable-crds=" + strings.Join(kwokCRDs, ",")}
			for _, s := range kwokStages {
				args = append(args, "--config="+filepath.Join(t.KwokStages, s))
			}
			return exec.Command(t.Kwok, args...)
		},
		ready: httpReady(fmt.Sprintf("http://127.0.0.1:%d/healthz", p.Kwok), ""),
	}}
}

// kwokStages are the lifecycle stages kwok plays for simulated nodes and pods, from kwok's own
// module. The pod stages honour per-pod delay annotations, which the lab sets for PodReadyDelay.
var kwokStages = []string{
	"node/fast/node-initialize.yaml",
	"node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
	"pod/general/pod-create.yaml",
	"pod/general/pod-init-container-running.yaml",
	"pod/general/pod-init-container-completed.yaml",
	"pod/general/pod-ready.yaml",
	"pod/general/pod-complete.yaml",
	"pod/general/pod-delete.yaml",
}

// writeKubeconfigs writes the token file and one kubeconfig per identity.
func (l *Lab) writeKubeconfigs(server, caFile string) error {
	dir := filepath.Join(l.opts.StateDir, "kubeconfig")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	s := l.secrets
	tokens := strings.Join([]string{
		s.AdminToken + `,apim-lab-admin,apim-lab-admin,"system:masters"`,
		// Without per-controller service accounts the controller-manager acts as itself, and
		// its own RBAC role is only meant for that bootstrap: give it the masters group.
		s.ControllerToken + `,system:kube-controller-manager,system:kube-controller-manager,"system:masters"`,
		s.SchedulerToken + ",system:kube-scheduler,system:kube-scheduler",
		s.KwokToken + `,kwok-controller,kwok-controller,"system:masters"`,
		s.ViewerToken + ",oncall-viewer,oncall-viewer",
		// The node agent acts as the apimpool nodes' kubelets.
		s.AgentToken + `,lab-agent,lab-agent,"system:masters"`,
		// Prometheus discovers the pods (read-only, see createRBAC).
		s.PrometheusToken + ",prometheus,prometheus",
	}, "\n") + "\n"
	if err := writeFileAtomic(filepath.Join(dir, "tokens.csv"), []byte(tokens), 0o600); err != nil {
		return err
	}
	// Each context: name, token, namespace.
	write := func(file string, contexts ...[3]string) error {
		var b strings.Builder
		fmt.Fprintf(&b, "apiVersion: v1\nkind: Config\nclusters:\n- name: apim-lab\n  cluster:\n    server: %s\n    certificate-authority: %s\n", server, caFile)
		b.WriteString("users:\n")
		for _, c := range contexts {
			fmt.Fprintf(&b, "- name: %s\n  user:\n    token: %s\n", c[0], c[1])
		}
		b.WriteString("contexts:\n")
		for _, c := range contexts {
			fmt.Fprintf(&b, "- name: %s\n  context:\n    cluster: apim-lab\n    user: %s\n    namespace: %s\n", c[0], c[0], c[2])
		}
		fmt.Fprintf(&b, "current-context: %s\n", contexts[0][0])
		return writeFileAtomic(filepath.Join(dir, file), []byte(b.String()), 0o600)
	}
	ns := l.opts.Namespace
	if err := write("admin.kubeconfig", [3]string{ContextName, s.AdminToken, ns}, [3]string{ViewerContext, s.ViewerToken, ns},
		[3]string{DRContext, s.AdminToken, DRNamespace}); err != nil {
		return err
	}
	for name, tok := range map[string]string{"controller-manager": s.ControllerToken, "scheduler": s.SchedulerToken, "kwok": s.KwokToken, "lab-agent": s.AgentToken} {
		if err := write(name+".kubeconfig", [3]string{name, tok, ns}); err != nil {
			return err
		}
	}
	return nil
}
