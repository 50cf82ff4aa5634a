package rollout

import (
	"context"
	"fmt"
	"time"

	"github.com/apimctl/apimctl/cluster/registry"
	"github.com/apimctl/apimctl/ops/model"
)

// RolloutPlan is what a rollout is about to do; it is also the dry run's output.
type RolloutPlan struct {
	Namespace      string          `json:"namespace"`
	Deployment     string          `json:"deployment"`
	Role           string          `json:"role"`
	Group          string          `json:"group,omitempty"`
	Container      string          `json:"container"`
	FromImage      string          `json:"fromImage"`
	ToImage        string          `json:"toImage"`
	Revision       string          `json:"revision"`
	Replicas       int32           `json:"replicas"`
	MaxSurge       string          `json:"maxSurge"`
	MaxUnavailable string          `json:"maxUnavailable"`
	Blockers       []model.Finding `json:"blockers,omitempty"` // error-level findings: it does not start
	// ImageDigest is the new image's digest in its registry; ImageCheck says what the
	// registry answered ("found", "not found", or why it could not be asked).
	ImageDigest string `json:"imageDigest,omitempty"`
	ImageCheck  string `json:"imageCheck"`
}

// PlanRollout builds the plan from the live snapshot: the workload, its current image, and the
// error-level findings that block a rollout (the preflight).
func PlanRollout(s model.Snapshot, role, group, imageArg string) (*RolloutPlan, error) {
	w, err := model.FindWorkload(s.Topology, role, group)
	if err != nil {
		return nil, err
	}
	to, err := model.NewImage(w.Image, imageArg)
	if err != nil {
		return nil, err
	}
	p := &RolloutPlan{Namespace: w.Namespace, Deployment: w.Name, Role: role, Group: w.Group, FromImage: w.Image, ToImage: to,
		Revision: w.Revision, Replicas: w.Desired, MaxSurge: w.MaxSurge, MaxUnavailable: w.MaxUnavailable}
	for _, f := range s.Findings {
		if f.Severity == model.SeverityError {
			p.Blockers = append(p.Blockers, f)
		}
	}
	// An unfinished rollout: pods of an older template still run. (A scale-up in progress,
	// which RolloutInProgress also counts, is no reason to wait.)
	if w.Current > w.Updated {
		p.Blockers = append(p.Blockers, model.Finding{ID: "ROLLOUT", Severity: model.SeverityError, Subject: "deployment/" + w.Name,
			Message: "a rollout of this Deployment is still in progress", Fix: "wait for it: apimctl rollout status, or undo it"})
	}
	if w.Paused {
		p.Blockers = append(p.Blockers, model.Finding{ID: "ROLLOUT", Severity: model.SeverityError, Subject: "deployment/" + w.Name,
			Message: "the Deployment is paused", Fix: "apimctl rollout resume"})
	}
	return p, nil
}

// PrepareRollout is the plan of a rollout with everything the cluster must say first: the
// container, that the image changes, and (unless blocked) the API server's validation.
func (r *Rollouts) PrepareRollout(ctx context.Context, s model.Snapshot, role, group, imageArg string) (*RolloutPlan, error) {
	p, err := PlanRollout(s, role, group, imageArg)
	if err != nil {
		return nil, err
	}
	if p.Container, _, err = r.Container(ctx, p.Deployment); err != nil {
		return nil, err
	}
	if p.FromImage == p.ToImage {
		return nil, fmt.Errorf("deployment/%s already runs %s", p.Deployment, p.ToImage)
	}
	p.checkImage(ctx, r.Resolve)
	return p, nil
}

// checkImage asks the registry for the new image: a tag it does not have blocks the rollout
// (it would only stall on ImagePullBackOff until the timeout rolled it back); a registry that
// cannot be asked from here is said, not a blocker — the nodes may reach it when we cannot.
func (p *RolloutPlan) checkImage(ctx context.Context, resolve func(context.Context, string) (string, error)) {
	if resolve == nil {
		resolve = registry.Resolve
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	d, err := resolve(rctx, p.ToImage)
	switch {
	case err == nil:
		p.ImageDigest, p.ImageCheck = d, "found"
	case registry.NotFound(err):
		p.ImageCheck = "not found"
		p.Blockers = append(p.Blockers, model.Finding{ID: "IMAGE", Severity: model.SeverityError, Subject: p.ToImage,
			Message: "the registry has no such image", Fix: "check the tag (the registry's tags: crane ls " + model.ImageRepo(p.ToImage) + ")"})
	default:
		p.ImageCheck = "not checked: " + err.Error()
	}
}

// ChangeCause is the change-cause a rollout records.
func (p *RolloutPlan) ChangeCause() string {
	return fmt.Sprintf("apimctl rollout set-image %s %s", orDashGroup(p.Group), p.ToImage)
}

func orDashGroup(g string) string {
	if g == "" {
		return "-"
	}
	return g
}

// RegistryAnswer says what the registry answered about the new image.
func (p *RolloutPlan) RegistryAnswer() string {
	switch p.ImageCheck {
	case "found":
		return "✓ found " + p.ImageDigest
	case "not found":
		return "✗ not found"
	case "":
		return "-"
	}
	return "! " + p.ImageCheck + " (the nodes may still reach it)"
}
