package rollout

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/apimctl/apimctl/ops/model"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Revision is one entry of a Deployment's history.
type Revision = model.Revision

// History lists the Deployment's revisions, oldest first.
func (r *Rollouts) History(ctx context.Context, deployment string) ([]Revision, error) {
	d, err := r.deployments().Get(ctx, deployment, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	rss, err := r.replicaSets(ctx, d)
	if err != nil {
		return nil, err
	}
	cur := d.Annotations[model.RevisionAnnotation]
	var out []Revision
	for _, rs := range rss {
		rev, _ := strconv.ParseInt(rs.Annotations[model.RevisionAnnotation], 10, 64)
		img := ""
		if cs := rs.Spec.Template.Spec.Containers; len(cs) > 0 {
			img = cs[0].Image
		}
		out = append(out, Revision{Revision: rev, Image: img, Created: rs.CreationTimestamp.Time, Replicas: rs.Status.Replicas,
			ChangeCause: rs.Annotations[ChangeCauseAnnotation], Current: rs.Annotations[model.RevisionAnnotation] == cur})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Revision < out[j].Revision })
	return out, nil
}

func (r *Rollouts) replicaSets(ctx context.Context, d *appsv1.Deployment) ([]appsv1.ReplicaSet, error) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, err
	}
	list, err := r.Client.AppsV1().ReplicaSets(r.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, err
	}
	var out []appsv1.ReplicaSet
	for _, rs := range list.Items {
		for _, ref := range rs.OwnerReferences {
			if ref.UID == d.UID {
				out = append(out, rs)
			}
		}
	}
	return out, nil
}

// UndoPlan is what an undo restores.
type UndoPlan struct {
	Deployment   string `json:"deployment"`
	FromRevision int64  `json:"fromRevision"`
	FromImage    string `json:"fromImage"`
	ToRevision   int64  `json:"toRevision"`
	ToImage      string `json:"toImage"`
}

// PlanUndo finds the revision to return to: toRevision, or the one before the current.
func (r *Rollouts) PlanUndo(ctx context.Context, deployment string, toRevision int64) (*UndoPlan, error) {
	hist, err := r.History(ctx, deployment)
	if err != nil {
		return nil, err
	}
	return chooseUndo(deployment, hist, toRevision)
}

// chooseUndo picks the revision an undo returns to from the history.
func chooseUndo(deployment string, hist []Revision, toRevision int64) (*UndoPlan, error) {
	p := &UndoPlan{Deployment: deployment}
	var prev *Revision
	for i := range hist {
		h := &hist[i]
		if h.Current {
			p.FromRevision, p.FromImage = h.Revision, h.Image
		}
	}
	for i := range hist {
		h := &hist[i]
		if toRevision > 0 && h.Revision == toRevision {
			prev = h
		}
		if toRevision == 0 && h.Revision < p.FromRevision && (prev == nil || h.Revision > prev.Revision) {
			prev = h
		}
	}
	switch {
	case prev == nil && toRevision > 0:
		return nil, fmt.Errorf("deployment/%s has no revision %d", deployment, toRevision)
	case prev == nil:
		return nil, fmt.Errorf("deployment/%s has no earlier revision to return to", deployment)
	case prev.Revision == p.FromRevision:
		return nil, fmt.Errorf("revision %d is the current one", prev.Revision)
	}
	p.ToRevision, p.ToImage = prev.Revision, prev.Image
	return p, nil
}

// Undo puts the pod template of plan.ToRevision back (as kubectl rollout undo) and returns
// the Deployment's new generation, to wait for with Wait. dryRun asks the server to validate
// only.
func (r *Rollouts) Undo(ctx context.Context, plan *UndoPlan, dryRun bool) (int64, error) {
	d, err := r.deployments().Get(ctx, plan.Deployment, metav1.GetOptions{})
	if err != nil {
		return 0, err
	}
	rss, err := r.replicaSets(ctx, d)
	if err != nil {
		return 0, err
	}
	for _, rs := range rss {
		if rs.Annotations[model.RevisionAnnotation] != strconv.FormatInt(plan.ToRevision, 10) {
			continue
		}
		tmpl := rs.Spec.Template.DeepCopy()
		delete(tmpl.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
		d.Spec.Template = *tmpl
		if d.Annotations == nil {
			d.Annotations = map[string]string{}
		}
		d.Annotations[ChangeCauseAnnotation] = fmt.Sprintf("apimctl rollout undo to revision %d", plan.ToRevision)
		opts := metav1.UpdateOptions{}
		if dryRun {
			opts.DryRun = []string{metav1.DryRunAll}
		}
		nd, err := r.deployments().Update(ctx, d, opts)
		if apierrors.IsConflict(err) {
			return 0, fmt.Errorf("deployment/%s changed meanwhile; look again and retry: %w", plan.Deployment, err)
		}
		if err != nil {
			return 0, err
		}
		return nd.Generation, nil
	}
	return 0, fmt.Errorf("the ReplicaSet of revision %d is gone", plan.ToRevision)
}

// SetPaused pauses or resumes the Deployment's rollouts; Restart replaces its pods (a new
// template annotation, as kubectl rollout restart). Both return the new generation.
func (r *Rollouts) SetPaused(ctx context.Context, deployment string, paused, dryRun bool) (int64, error) {
	return r.patch(ctx, deployment, fmt.Sprintf(`{"spec":{"paused":%t}}`, paused), dryRun)
}

// Restart: see SetPaused.
func (r *Rollouts) Restart(ctx context.Context, deployment string, now time.Time, dryRun bool) (int64, error) {
	return r.patch(ctx, deployment, fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":%q}}}}}`,
		now.UTC().Format(time.RFC3339)), dryRun)
}

func (r *Rollouts) patch(ctx context.Context, deployment, patch string, dryRun bool) (int64, error) {
	opts := metav1.PatchOptions{}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	d, err := r.deployments().Patch(ctx, deployment, types.StrategicMergePatchType, []byte(patch), opts)
	if err != nil {
		return 0, err
	}
	return d.Generation, nil
}
