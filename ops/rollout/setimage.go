package rollout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apimctl/apimctl/ops/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// RolloutStep is one progress report.
type RolloutStep struct {
	Time       time.Time `json:"time"`
	Phase      string    `json:"phase"` // rolling, gating, rolling-back, done
	Replicas   int32     `json:"replicas"`
	Updated    int32     `json:"updated"`
	Ready      int32     `json:"ready"`
	Available  int32     `json:"available"`
	ErrorRatio *float64  `json:"errorRatio,omitempty"`
	Requests   float64   `json:"requests,omitempty"`
	Message    string    `json:"message,omitempty"`
}

// Rollout outcomes.
const (
	RolloutComplete   = "complete"
	RolloutRolledBack = "rolled-back"
	RolloutFailed     = "failed" // failed and not rolled back (disabled, or the rollback failed)
)

// RolloutResult is how a rollout ended.
type RolloutResult struct {
	Outcome  string        `json:"outcome"`
	Reason   string        `json:"reason,omitempty"`
	Image    string        `json:"image"` // what the Deployment runs now
	Revision string        `json:"revision"`
	Gate     string        `json:"gate"`
	Duration time.Duration `json:"-"`
	Seconds  float64       `json:"durationSeconds"`
}

// RolloutOptions tune SetImage.
type RolloutOptions struct {
	Gate         Gate
	GateEnabled  bool          // false: no metric gate (no Prometheus, or --no-gate)
	Timeout      time.Duration // the rollout must complete within it, else it is rolled back
	AutoRollback bool
	ChangeCause  string
	Progress     func(RolloutStep)
	Poll         time.Duration // how often the Deployment and Prometheus are read (1 s)
}

// imagePatch sets one container's image and the change cause.
func imagePatch(container, image, cause string) []byte {
	p := map[string]any{
		"metadata": map[string]any{"annotations": map[string]string{ChangeCauseAnnotation: cause}},
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
			"containers": []map[string]string{{"name": container, "image": image}}}}},
	}
	b, _ := json.Marshal(p)
	return b
}

// ValidateSetImage runs the change as a server-side dry run: admission and validation answer,
// nothing is stored.
func (r *Rollouts) ValidateSetImage(ctx context.Context, p *RolloutPlan, cause string) error {
	_, err := r.deployments().Patch(ctx, p.Deployment, types.StrategicMergePatchType,
		imagePatch(p.Container, p.ToImage, cause), metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}})
	return err
}

// SetImage rolls the Deployment to p.ToImage and watches it to the end: complete (and the gate
// passed), or rolled back to p.FromImage when it stalls, times out or fails the gate.
func (r *Rollouts) SetImage(ctx context.Context, p *RolloutPlan, o RolloutOptions) (res RolloutResult, err error) {
	start := time.Now()
	defer func() { res.Seconds = res.Duration.Round(time.Second).Seconds() }()
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Progress == nil {
		o.Progress = func(RolloutStep) {}
	}
	deps := r.deployments()
	d, err := deps.Patch(ctx, p.Deployment, types.StrategicMergePatchType, imagePatch(p.Container, p.ToImage, o.ChangeCause), metav1.PatchOptions{})
	if err != nil {
		return RolloutResult{Outcome: RolloutFailed, Image: p.FromImage, Revision: p.Revision}, fmt.Errorf("set the image: %w", err)
	}
	gen := d.Generation
	res = RolloutResult{Image: p.ToImage, Gate: "off"}
	fail := func(reason string) (RolloutResult, error) {
		res.Reason = reason
		if !o.AutoRollback {
			res.Outcome, res.Duration = RolloutFailed, time.Since(start)
			return res, nil
		}
		o.Progress(RolloutStep{Time: time.Now(), Phase: "rolling-back", Message: reason + "; rolling back to " + p.FromImage})
		// A fresh context: the rollback must run even when the caller gave up (Ctrl-C).
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), max(o.Timeout, 5*time.Minute))
		defer cancel()
		bd, err := deps.Patch(bctx, p.Deployment, types.StrategicMergePatchType,
			imagePatch(p.Container, p.FromImage, "apimctl automatic rollback: "+reason), metav1.PatchOptions{})
		if err == nil {
			err = r.wait(bctx, p.Deployment, bd.Generation, "rolling-back", max(o.Timeout, 5*time.Minute), o, nil)
		}
		res.Duration = time.Since(start)
		if err != nil {
			res.Outcome = RolloutFailed
			return res, fmt.Errorf("rollback to %s failed: %w", p.FromImage, err)
		}
		res.Outcome, res.Image = RolloutRolledBack, p.FromImage
		res.Revision = r.revision(bctx, p.Deployment)
		return res, nil
	}

	var gateErr error
	judge := func(step *RolloutStep) bool { return true }
	if o.GateEnabled && r.Prom != nil {
		res.Gate = "not judged"
		judge = func(step *RolloutStep) bool {
			ratio, n, err := r.errorRatio(ctx, p, o.Gate)
			if err != nil {
				step.Message = "gate: " + err.Error()
				return true
			}
			step.Requests = n
			if n < o.Gate.MinRequests {
				res.Gate = fmt.Sprintf("not judged: %.0f requests to the new pods (fewer than %.0f)", n, o.Gate.MinRequests)
				return true
			}
			step.ErrorRatio = &ratio
			if ratio > o.Gate.MaxErrorRatio {
				gateErr = fmt.Errorf("the new pods answer %.1f%% 5xx over %.0f requests (gate %.1f%%)", 100*ratio, n, 100*o.Gate.MaxErrorRatio)
				res.Gate = "failed: " + gateErr.Error()
				return false
			}
			res.Gate = fmt.Sprintf("passed: %.1f%% 5xx over %.0f requests (gate %.1f%%)", 100*ratio, n, 100*o.Gate.MaxErrorRatio)
			return true
		}
	}

	if err := r.wait(ctx, p.Deployment, gen, "rolling", o.Timeout, o, judge); err != nil {
		if gateErr != nil {
			return fail(gateErr.Error())
		}
		return fail(err.Error())
	}
	if o.GateEnabled && r.Prom != nil && o.Gate.Hold > 0 {
		hold := time.NewTimer(o.Gate.Hold)
		defer hold.Stop()
		tick := time.NewTicker(max(o.Poll, 2*time.Second))
		defer tick.Stop()
	watch:
		for {
			step := RolloutStep{Time: time.Now(), Phase: "gating"}
			ok := judge(&step)
			o.Progress(step)
			if !ok {
				return fail(gateErr.Error())
			}
			select {
			case <-ctx.Done():
				return fail("interrupted while the gate watched the new pods")
			case <-hold.C:
				break watch
			case <-tick.C:
			}
		}
	}
	res.Outcome, res.Duration = RolloutComplete, time.Since(start)
	res.Revision = r.revision(ctx, p.Deployment)
	o.Progress(RolloutStep{Time: time.Now(), Phase: "done", Message: "rollout complete"})
	return res, nil
}

func (r *Rollouts) revision(ctx context.Context, deployment string) string {
	d, err := r.deployments().Get(ctx, deployment, metav1.GetOptions{})
	if err != nil {
		return ""
	}
	return d.Annotations[model.RevisionAnnotation]
}

// wait polls the Deployment until it has rolled out generation gen (every replica updated
// and available), failing on ProgressDeadlineExceeded, on timeout, or when judge says no.
func (r *Rollouts) wait(ctx context.Context, deployment string, gen int64, phase string, timeout time.Duration, o RolloutOptions, judge func(*RolloutStep) bool) error {
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	deadline := time.Now().Add(timeout)
	var last RolloutStep
	for {
		d, err := r.deployments().Get(ctx, deployment, metav1.GetOptions{})
		if err != nil {
			if ctx.Err() != nil {
				return errors.New("interrupted")
			}
			return err
		}
		pr := model.DeploymentRolloutStatus(d, gen)
		step := RolloutStep{Time: time.Now(), Phase: phase, Replicas: pr.Replicas, Updated: pr.Updated, Ready: pr.Ready, Available: pr.Available}
		ok := true
		if judge != nil {
			ok = judge(&step)
		}
		if !pr.Observed {
			step.Message = pr.Waiting
		}
		if step.Updated != last.Updated || step.Ready != last.Ready || step.Available != last.Available || step.Replicas != last.Replicas ||
			step.ErrorRatio != nil || step.Message != "" {
			o.Progress(step)
			last = step
		}
		if !ok {
			return errors.New("gate failed")
		}
		if pr.Stalled != "" {
			return fmt.Errorf("the rollout stalled: %s", pr.Stalled)
		}
		if pr.Done {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not complete within %s (%d of %d updated, %d available)", timeout, pr.Updated, pr.Desired, pr.Available)
		}
		select {
		case <-ctx.Done():
			return errors.New("interrupted")
		case <-time.After(o.Poll):
		}
	}
}

// Wait watches the Deployment until generation gen is rolled out (no gate, no rollback).
func (r *Rollouts) Wait(ctx context.Context, deployment string, gen int64, o RolloutOptions) error {
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Progress == nil {
		o.Progress = func(RolloutStep) {}
	}
	return r.wait(ctx, deployment, gen, "rolling", o.Timeout, o, nil)
}

// Line is the step as a progress line: "15:04:05  rolling      updated 1  ready 3 …".
func (s RolloutStep) Line() string {
	line := fmt.Sprintf("%s  %-12s", s.Time.Format("15:04:05"), s.Phase)
	if s.Replicas > 0 {
		line += fmt.Sprintf(" updated %d  ready %d  available %d  (pods %d)", s.Updated, s.Ready, s.Available, s.Replicas)
	}
	if s.ErrorRatio != nil {
		line += fmt.Sprintf("  5xx %.1f%% of %.0f", 100**s.ErrorRatio, s.Requests)
	}
	if s.Message != "" {
		line += "  " + s.Message
	}
	return strings.TrimRight(line, " ")
}
