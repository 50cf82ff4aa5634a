package live

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/apimctl/apimctl/internal/redact"
	"github.com/apimctl/apimctl/internal/tick"
	"github.com/apimctl/apimctl/ops/model"

	"github.com/apimctl/apimctl/cluster/kube"
)

// consoleActions are the actions the console may offer, asked of the API server up front so
// that the TUI shows only what is allowed.
var consoleActions = []kube.Action{
	{Group: "apps", Resource: "deployments", Verb: "patch"},
	{Group: "apps", Resource: "deployments", Verb: "update"}, // rollout undo
	{Group: "apps", Resource: "deployments", Subresource: "scale", Verb: "patch"},
	{Group: "autoscaling", Resource: "horizontalpodautoscalers", Verb: "patch"},
	{Resource: "pods", Verb: "delete"},
	{Resource: "secrets", Verb: "get"},
	{Resource: "secrets", Verb: "create"},
	{Resource: "configmaps", Verb: "create"},
}

// kubeSource watches the namespace with informers and asks who we are and what we may do.
type kubeSource struct {
	conn    *Connection
	opts    LiveOptions
	changed func()
	fresh   freshness
	cache   *kube.Cache

	mu       sync.Mutex
	identity string
	access   model.Access
	// The last discovery, reused while nothing changed.
	gen, builtGen uint64
	topo          model.Topology
	nodes         []model.NodeState
	events        []model.EventInfo
}

func newKubeSource(conn *Connection, opts LiveOptions, changed func()) *kubeSource {
	k := &kubeSource{conn: conn, opts: opts}
	k.changed = func() {
		k.mu.Lock()
		k.gen++
		k.mu.Unlock()
		changed()
	}
	if conn.Kube != nil {
		k.cache = kube.NewCache(conn.Kube, conn.Targets.Namespace, k.changed)
	}
	return k
}

func (k *kubeSource) run(ctx context.Context) {
	if k.cache == nil {
		err := k.conn.KubeErr
		if err == nil {
			err = errors.New("no kube client")
		}
		k.fresh.fail(k.opts.Now(), err)
		k.changed()
		return
	}
	k.cache.Start(ctx)
	// Health: the watches carry the data; a cheap GET of /readyz tells whether the API server
	// still answers (a watch can sit silent on a quiet namespace). No LIST while idle.
	go tick.Every(ctx, k.opts.PollInterval, func() {
		cctx, cancel := context.WithTimeout(ctx, k.opts.CallTimeout)
		defer cancel()
		err := k.conn.Kube.Clientset.Discovery().RESTClient().Get().AbsPath("/readyz").Do(cctx).Error()
		if err == nil && !k.cache.Synced() {
			// Still listing: not an answer yet, unless the watches themselves fail.
			werr, _ := k.cache.LastWatchError()
			if werr == nil {
				return
			}
			err = werr
		}
		k.fresh.record(k.opts.Now(), err)
		k.changed()
	})
	// Identity and permissions change rarely: ask once a minute.
	go tick.Every(ctx, time.Minute, func() {
		cctx, cancel := context.WithTimeout(ctx, k.opts.CallTimeout)
		defer cancel()
		who, _ := k.conn.Kube.WhoAmI(cctx)
		allowed, err := k.conn.Kube.Allowed(cctx, k.conn.Targets.Namespace, consoleActions)
		k.mu.Lock()
		if who != "" {
			k.identity = who
		}
		if err == nil {
			k.access = model.Access{Known: true, Allowed: allowed}
		}
		k.mu.Unlock()
		k.changed()
	})
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := k.cache.WaitForSync(cctx)
	k.fresh.record(k.opts.Now(), err)
	k.changed()
}

func (k *kubeSource) answered() bool { return k.fresh.answered() }

func (k *kubeSource) fill(s *model.Snapshot, now time.Time) {
	var endpoint string
	if k.conn.Kube != nil {
		endpoint = redact.URL(k.conn.Kube.Server)
	}
	s.Sources = append(s.Sources, k.fresh.source(model.SourceKube, endpoint, now, k.opts.StaleAfter))
	k.mu.Lock()
	s.Identity, s.Access = k.identity, k.access
	gen := k.gen
	stale := k.builtGen != gen
	k.mu.Unlock()
	if k.cache != nil && stale && k.cache.Synced() {
		topo, nodes, events := model.Discover(model.KubeObjects(k.cache.Objects()), *k.opts.Selectors, now)
		k.mu.Lock()
		k.topo, k.nodes, k.events, k.builtGen = topo, nodes, events, gen
		k.mu.Unlock()
	}
	k.mu.Lock()
	s.Topology, s.Nodes, s.Events = k.topo, k.nodes, k.events
	k.mu.Unlock()
	if s.ReadOnly {
		return
	}
	// Without any permitted action the console is read-only in effect.
	if s.Access.Known {
		any := false
		for _, ok := range s.Access.Allowed {
			any = any || ok
		}
		s.ReadOnly = !any
	}
}
