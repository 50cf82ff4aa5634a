package inspect

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/apimctl/apimctl/ops/model"
	"github.com/apimctl/apimctl/ops/rollout"
)

// Deployment describes a Deployment for its drill-down: its revisions with their images (the
// rollout history), its events, the HPA that scales it with its recent decisions, and what
// stops it growing (judged from the HPA, the Deployment's pods the scheduler cannot place).
func (i *Inspector) Deployment(ctx context.Context, namespace, name string) (*model.DeploymentDetail, error) {
	k, err := i.kube()
	if err != nil {
		return nil, err
	}
	ns := i.namespace(namespace)
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	d, err := k.Deployment(ctx, ns, name)
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("deployment %s/%s does not exist (deleted, or another namespace)", ns, name)
	}
	if err != nil {
		return nil, fmt.Errorf("deployment %s/%s: %w", ns, name, err)
	}
	out := &model.DeploymentDetail{Workload: model.WorkloadOf(d)}
	var (
		hpa     *autoscalingv2.HorizontalPodAutoscaler
		hpaEv   []corev1.Event
		pending []corev1.Pod
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		r, err := rollout.RolloutsFor(i.Conn, ns)
		if err != nil {
			return err
		}
		out.Revisions, err = r.History(gctx, name)
		return err
	})
	g.Go(func() error {
		ev, err := k.EventsAbout(gctx, ns, "Deployment", name, d.UID)
		out.Events = model.EventsOf(ev)
		return err
	})
	g.Go(func() error {
		var err error
		if hpa, err = k.HPAFor(gctx, ns, name); err != nil || hpa == nil {
			return err
		}
		hpaEv, err = k.EventsAbout(gctx, ns, "HorizontalPodAutoscaler", hpa.Name, hpa.UID)
		return err
	})
	g.Go(func() error {
		var err error
		pending, err = k.PendingPods(gctx, d)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("deployment %s/%s: %w", ns, name, err)
	}
	var st *model.HPAState
	if hpa != nil {
		s := model.HPAStateOf(hpa)
		s.Events = model.EventsOf(hpaEv)
		st = &s
		out.HPA = st
		out.Decisions = model.HPADecisions(s.Events, s.CPUTargetPercent)
	}
	out.ScaleLimit = model.ScaleLimit(st, &out.Workload, unschedulable(pending), nil)
	return out, nil
}

// unschedulable are the scheduler's messages about the pods it cannot place.
func unschedulable(pods []corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
				out = append(out, c.Message)
			}
		}
	}
	return out
}
