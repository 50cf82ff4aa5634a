// Package inspect loads the console's drill-downs on demand: a pod described and judged, its
// logs streamed, a Deployment's revisions and its HPA's decisions, a Cassandra node from its
// virtual tables, the metrics database's connections and tables, a traffic series over the
// last minutes from Prometheus range queries. The TUI reaches it through its Inspector
// interface; it reaches the systems through cluster/.
//
// It may import cluster/, ops/model, ops/live and ops/rollout.
package inspect

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/apimctl/apimctl/cluster/kube"
	"github.com/apimctl/apimctl/ops/live"
)

// Inspector loads drill-downs through a connection.
type Inspector struct {
	Conn *live.Connection
	// Now is the clock (time.Now when nil): when a pod was seen gone.
	Now func() time.Time
	// podEvents, once Start ran, holds the namespace's pod events.
	podEvents atomic.Pointer[kube.PodEvents]
}

// New inspects through conn.
func New(conn *live.Connection) *Inspector { return &Inspector{Conn: conn} }

// Start keeps the connection's namespace's pod events in memory until ctx ends, so that a pod's
// detail shows its events without listing the namespace's (see kube.PodEvents). Without it, or
// until its first list is in, each detail lists its pod's events.
func (i *Inspector) Start(ctx context.Context) {
	k, err := i.kube()
	if err != nil {
		return
	}
	pe := kube.NewPodEvents(k, i.Conn.Targets.Namespace)
	pe.Start(ctx)
	i.podEvents.Store(pe)
}

// PodEventsHeld is how many pod events are in memory, and whether their first list is in.
func (i *Inspector) PodEventsHeld() (n int, synced bool) {
	pe := i.podEvents.Load()
	if pe == nil {
		return 0, false
	}
	return pe.Len(), pe.Synced()
}

// callTimeout bounds a drill-down's reads (not a followed log, which lasts until it is closed).
const callTimeout = 10 * time.Second

func (i *Inspector) now() time.Time {
	if i.Now != nil {
		return i.Now()
	}
	return time.Now()
}

// kube is the Kubernetes client, or the reason there is none (a context that does not exist,
// an unreadable kubeconfig).
func (i *Inspector) kube() (*kube.Client, error) {
	switch {
	case i == nil || i.Conn == nil:
		return nil, errors.New("no connection to inspect through")
	case i.Conn.Kube == nil && i.Conn.KubeErr != nil:
		return nil, fmt.Errorf("no Kubernetes connection: %w", i.Conn.KubeErr)
	case i.Conn.Kube == nil:
		return nil, errors.New("no Kubernetes connection")
	}
	return i.Conn.Kube, nil
}

// namespace is ns, or the connection's when empty.
func (i *Inspector) namespace(ns string) string {
	if ns != "" {
		return ns
	}
	return i.Conn.Targets.Namespace
}
