package inspect

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/apimctl/apimctl/cluster/kube"
	"github.com/apimctl/apimctl/ops/model"
)

// Pod describes a pod: the pod, its events and its containers' usage, read in parallel, and
// its node's zone. A pod that no longer exists is not an error: the detail comes back Gone,
// with its events (they outlive it) and the time it was stopped when they say.
func (i *Inspector) Pod(ctx context.Context, namespace, name string) (*model.PodDetail, error) {
	k, err := i.kube()
	if err != nil {
		return nil, err
	}
	ns := i.namespace(namespace)
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	var (
		pod       *corev1.Pod
		events    []corev1.Event
		usage     map[string]kube.ContainerUsage
		usageErr  error
		eventsErr error
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var err error
		pod, err = k.Pod(gctx, ns, name)
		return err
	})
	g.Go(func() error {
		events, eventsErr = i.podEventsOf(gctx, k, ns, name)
		return nil // the pod without its events is still worth showing
	})
	g.Go(func() error {
		usage, _, usageErr = k.PodUsage(gctx, ns, name)
		return nil
	})
	if err := g.Wait(); err != nil {
		if apierrors.IsNotFound(err) {
			return i.gonePod(ctx, k, ns, name), nil
		}
		return nil, fmt.Errorf("pod %s/%s: %w", ns, name, err)
	}
	// Events of an earlier pod of the same name (a StatefulSet's) are not this one's.
	own := events[:0]
	for _, e := range events {
		if e.InvolvedObject.UID == "" || e.InvolvedObject.UID == pod.UID {
			own = append(own, e)
		}
	}
	zone := ""
	if pod.Spec.NodeName != "" {
		if labels, err := k.NodeLabels(ctx, pod.Spec.NodeName); err == nil {
			zone = model.DefaultSelectors().ZoneOf(labels)
		}
	}
	var res map[string]model.Resources
	if usage != nil {
		res = make(map[string]model.Resources, len(usage))
		for c, u := range usage {
			res[c] = model.Resources{CPUMillis: u.CPUMillis, MemoryBytes: u.MemoryBytes}
		}
	}
	d := model.PodDetailOf(pod, zone, own, res)
	switch {
	case errors.Is(usageErr, kube.ErrNoMetrics):
		d.UsageNote = "the metrics API has no measurement of this pod yet"
	case usageErr != nil:
		d.UsageNote = "usage unknown: " + usageErr.Error()
	}
	if eventsErr != nil {
		d.Events = append([]model.EventInfo{{Type: "Warning", Reason: "EventsUnreadable", Message: eventsErr.Error(), Time: i.now()}}, d.Events...)
	}
	return &d, nil
}

// gonePod is the detail of a deleted pod: its events, and when it was stopped (the newest
// Killing event) or else when its absence was seen.
func (i *Inspector) gonePod(ctx context.Context, k *kube.Client, ns, name string) *model.PodDetail {
	d := model.PodGone(nil, ns, name, i.now())
	if events, err := i.podEventsOf(ctx, k, ns, name); err == nil {
		d.Events = model.EventsOf(events)
		for _, e := range d.Events {
			if e.Reason == "Killing" && strings.HasPrefix(e.Message, "Stopping container") {
				d.GoneSince = e.Time
				break
			}
		}
	}
	return &d
}

// podEventsOf are the events about the pods named name: from memory once Start's index is in,
// else by a field-selected LIST.
func (i *Inspector) podEventsOf(ctx context.Context, k *kube.Client, ns, name string) ([]corev1.Event, error) {
	if pe := i.podEvents.Load(); pe != nil && pe.Namespace == ns && pe.Synced() {
		return pe.For(name), nil
	}
	return k.EventsAbout(ctx, ns, "Pod", name, "")
}
