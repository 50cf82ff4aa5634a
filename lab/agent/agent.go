// Package agent is the lab's node agent: a kubelet in miniature for the apimpool nodes. It
// keeps its nodes Ready (status heartbeat and a Lease), watches the pods bound to them, runs
// one apigw process per pod on the pod's own loopback address with the pod's environment,
// arguments and volumes, probes it as the pod's readiness and liveness probes say, restarts
// it when it dies, reports the pod's status, and on deletion stops it gracefully and
// confirms the deletion like a kubelet.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
)

const nodeIP = "127.0.0.1"

// Annotation marks the nodes this agent manages (kwok manages those annotated
// kwok.x-k8s.io/node=fake).
const Annotation = "apimctl.dev/node-agent"

// Config is the agent's configuration.
type Config struct {
	Kubeconfig    string
	Dir           string   // the agent's state directory: pods/, shared/
	Nodes         []string // the nodes it manages
	Apigw         string   // the apigw binary run for the gateway images
	ImageRepos    []string // image repositories (without tag) that run apigw
	PodCIDR       string   // loopback range of pod IPs, e.g. 127.1.0.0/16
	FaultsFile    string
	SharedVolumes []string // emptyDir volume names shared by every pod of a namespace
	Listen        string   // host:port of /healthz
	// KubeletPortBase, when set, serves each node's /metrics/resource (for metrics-server) on
	// 127.0.0.1:base+i and advertises the port in the node status.
	KubeletPortBase int
	// KwokURL is kwok's server, where the kubelet endpoints send log requests ("" serves
	// none).
	KwokURL string
	Log     *slog.Logger
}

// Agent runs the pods of its nodes.
type Agent struct {
	cfg    Config
	cs     kubernetes.Interface
	dyn    dynamic.Interface
	events *eventRecorders
	ipam   *ipam
	log    *slog.Logger

	mu      sync.Mutex
	workers map[types.UID]*worker
	wg      sync.WaitGroup
	synced  bool
}

// New connects to the API server.
func New(cfg Config) (*Agent, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", cfg.Kubeconfig)
	if err != nil {
		return nil, err
	}
	rc.QPS, rc.Burst = 50, 100
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	p, err := netip.ParsePrefix(cfg.PodCIDR)
	if err != nil {
		return nil, fmt.Errorf("pod CIDR: %w", err)
	}
	ip, err := newIPAM(p)
	if err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Agent{cfg: cfg, cs: cs, dyn: dyn, events: newEventRecorders(cs), ipam: ip, log: cfg.Log, workers: map[types.UID]*worker{}}, nil
}

// Run runs until ctx ends, then stops every pod process it runs and returns.
func (a *Agent) Run(ctx context.Context) error {
	if err := os.MkdirAll(PodsDir(a.cfg.Dir), 0o755); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return err
	}
	// Every pod of the cluster, for Prometheus's discovery.
	allCtx, allCancel := context.WithCancel(context.Background())
	defer allCancel()
	all := informers.NewSharedInformerFactory(a.cs, 0)
	allPods := all.Core().V1().Pods().Informer()
	all.Start(allCtx.Done())
	mux := a.healthz()
	mux.Handle("GET /prometheus/sd", sdHandler(allPods.GetStore()))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	// Processes a previous agent left behind are ended: their pods get new ones below.
	if recs, err := ReadRecords(a.cfg.Dir); err == nil {
		var wg sync.WaitGroup
		for _, r := range recs {
			wg.Go(func() { r.Kill(10 * time.Second) })
		}
		wg.Wait()
	}

	if err := a.serveKubelets(ctx); err != nil {
		return err
	}
	hb, hbCancel := context.WithCancel(context.Background())
	defer hbCancel()
	for _, n := range a.cfg.Nodes {
		go a.heartbeat(hb, n)
	}

	ictx, icancel := context.WithCancel(ctx)
	defer icancel()
	var syncs []cache.InformerSynced
	for _, n := range a.cfg.Nodes {
		f := informers.NewSharedInformerFactoryWithOptions(a.cs, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", n).String()
		}))
		inf := f.Core().V1().Pods().Informer()
		_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { a.observe(ctx, o, false) },
			UpdateFunc: func(_, o any) { a.observe(ctx, o, false) },
			DeleteFunc: func(o any) {
				if t, ok := o.(cache.DeletedFinalStateUnknown); ok {
					o = t.Obj
				}
				a.observe(ctx, o, true)
			},
		})
		f.Start(ictx.Done())
		syncs = append(syncs, inf.HasSynced)
	}
	if !cache.WaitForCacheSync(ctx.Done(), syncs...) {
		return ctx.Err()
	}
	a.mu.Lock()
	a.synced = true
	a.mu.Unlock()
	a.log.Info("agent running", "nodes", a.cfg.Nodes, "podCIDR", a.cfg.PodCIDR)
	<-ctx.Done()
	a.log.Info("agent stopping: ending every pod process")
	icancel()
	a.mu.Lock()
	for _, w := range a.workers {
		w.shutdown()
	}
	a.mu.Unlock()
	a.wg.Wait()
	a.events.bc.Shutdown() // flushes the events recorded so far
	return nil
}

func (a *Agent) healthz() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		synced, n := a.synced, len(a.workers)
		a.mu.Unlock()
		if !synced {
			http.Error(w, "pod informers not synced", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "ok: %d pods\n", n)
	})
	return mux
}

// observe hands a pod event to the pod's worker, starting one for a new pod.
func (a *Agent) observe(ctx context.Context, o any, deleted bool) {
	pod, ok := o.(*corev1.Pod)
	if !ok {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	w, ok := a.workers[pod.UID]
	if !ok {
		if deleted || ctx.Err() != nil || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			return
		}
		if pod.Status.PodIP != "" {
			a.ipam.claim(pod.Status.PodIP, string(pod.UID))
		}
		w = newWorker(a, pod)
		a.workers[pod.UID] = w
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			w.run()
			a.mu.Lock()
			delete(a.workers, pod.UID)
			a.mu.Unlock()
		}()
	}
	w.update(pod, deleted)
}

// heartbeat keeps a node Ready: its status every 10 s and its Lease in kube-node-lease.
func (a *Agent) heartbeat(ctx context.Context, node string) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		if err := a.nodeStatus(ctx, node); err != nil && ctx.Err() == nil {
			a.log.Warn("node status", "node", node, "err", err.Error())
		}
		if err := a.renewLease(ctx, node); err != nil && ctx.Err() == nil {
			a.log.Warn("node lease", "node", node, "err", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *Agent) nodeStatus(ctx context.Context, name string) error {
	n, err := a.cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	now := metav1.Now()
	cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
		c := corev1.NodeCondition{Type: t, Status: s, Reason: reason, Message: msg, LastHeartbeatTime: now, LastTransitionTime: now}
		for _, old := range n.Status.Conditions {
			if old.Type == t && old.Status == s {
				c.LastTransitionTime = old.LastTransitionTime
			}
		}
		return c
	}
	n.Status.Conditions = []corev1.NodeCondition{
		cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "lab agent has sufficient memory"),
		cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "lab agent has no disk pressure"),
		cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "lab agent has sufficient PID"),
		cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "lab agent is posting ready status"),
	}
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: nodeIP}, {Type: corev1.NodeHostName, Address: name}}
	if p := a.kubeletPortOf(name); p != 0 {
		n.Status.DaemonEndpoints.KubeletEndpoint.Port = p
	}
	n.Status.NodeInfo.KubeletVersion = "lab-agent"
	n.Status.NodeInfo.OperatingSystem, n.Status.NodeInfo.Architecture = "linux", "amd64"
	n.Status.NodeInfo.ContainerRuntimeVersion = "lab://process"
	n.Status.Phase = corev1.NodeRunning
	_, err = a.cs.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
	return err
}

func (a *Agent) renewLease(ctx context.Context, node string) error {
	leases := a.cs.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	now := metav1.NewMicroTime(time.Now())
	l, err := leases.Get(ctx, node, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		l = &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: node, Namespace: corev1.NamespaceNodeLease},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(node), LeaseDurationSeconds: ptr.To(int32(40)),
				RenewTime: &now, AcquireTime: &now},
		}
		_, err = leases.Create(ctx, l, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds, l.Spec.RenewTime = ptr.To(node), ptr.To(int32(40)), &now
	_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	return err
}

func (a *Agent) podDir(pod *corev1.Pod) string {
	return filepath.Join(PodsDir(a.cfg.Dir), pod.Namespace+"_"+pod.Name)
}

var errGone = errors.New("pod gone")
