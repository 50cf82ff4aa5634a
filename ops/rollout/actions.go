package rollout

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/apimctl/apimctl/internal/format"
	"github.com/apimctl/apimctl/ops/action"
	"github.com/apimctl/apimctl/ops/model"
)

// The changes of this package as actions for the one runner (ops/action): each names the
// permission it needs, validates itself with a server-side dry run, and says what it did.

func (r *Rollouts) scope(deployment, image string) action.Scope {
	return action.Scope{Context: r.Context, Namespace: r.Namespace, Resource: "deployment/" + deployment, Image: image}
}

func (r *Rollouts) need(verb string) action.Permission {
	return action.Permission{Group: "apps", Resource: "deployments", Verb: verb, Namespace: r.Namespace}
}

// SetImageAction rolls the plan out with o (gate, timeout, rollback). Its Result.Value is the
// RolloutResult; a rollback is the outcome "rolled-back", not an error. force lets it start
// despite the preflight blockers.
func (r *Rollouts) SetImageAction(p *RolloutPlan, o RolloutOptions, force bool) *action.Action {
	if o.ChangeCause == "" {
		o.ChangeCause = p.ChangeCause()
	}
	var blockers []string
	for _, b := range p.Blockers {
		blockers = append(blockers, b.ID+" "+b.Subject+": "+b.Message)
	}
	return &action.Action{
		Name: "rollout.set-image", Scope: r.scope(p.Deployment, p.ToImage),
		What:     "roll out deployment/" + p.Deployment,
		Question: fmt.Sprintf("Roll deployment/%s from %s to %s?", p.Deployment, p.FromImage, p.ToImage),
		Details:  map[string]string{"from": p.FromImage, "to": p.ToImage, "group": p.Group, "role": p.Role},
		Needs:    []action.Permission{r.need("patch")},
		Blockers: blockers, Force: force,
		BlockedHint: "fix them first (apimctl check), or --force to roll out regardless",
		Validate: func(ctx context.Context) error {
			if err := r.ValidateSetImage(ctx, p, o.ChangeCause); err != nil {
				return fmt.Errorf("the API server refuses the change: %w", err)
			}
			return nil
		},
		Plan: p.Fields(),
		Do: func(ctx context.Context, progress func(string)) (action.Result, error) {
			o.Progress = stepPrinter(progress)
			res, err := r.SetImage(ctx, p, o)
			return action.Result{Outcome: res.Outcome, Value: res,
				Details: map[string]string{"gate": res.Gate, "reason": res.Reason, "image": res.Image, "revision": res.Revision}}, err
		},
	}
}

// UndoAction returns the Deployment to plan.ToRevision and waits until it is available.
func (r *Rollouts) UndoAction(plan *UndoPlan, o RolloutOptions) *action.Action {
	return &action.Action{
		Name: "rollout.undo", Scope: r.scope(plan.Deployment, plan.ToImage),
		What:     "undo deployment/" + plan.Deployment,
		Question: fmt.Sprintf("Return deployment/%s to revision %d (%s)?", plan.Deployment, plan.ToRevision, plan.ToImage),
		Details: map[string]string{"fromRevision": fmt.Sprint(plan.FromRevision), "toRevision": fmt.Sprint(plan.ToRevision),
			"from": plan.FromImage, "to": plan.ToImage},
		Needs: []action.Permission{r.need("update")},
		Validate: func(ctx context.Context) error {
			if _, err := r.Undo(ctx, plan, true); err != nil {
				return fmt.Errorf("the API server refuses the change: %w", err)
			}
			return nil
		},
		Plan: []action.Field{{Key: "deployment", Value: r.Namespace + "/" + plan.Deployment},
			{Key: "revision", Value: fmt.Sprintf("%d (%s) → %d (%s)", plan.FromRevision, plan.FromImage, plan.ToRevision, plan.ToImage)}},
		Do: func(ctx context.Context, progress func(string)) (action.Result, error) {
			o.Progress = stepPrinter(progress)
			gen, err := r.Undo(ctx, plan, false)
			if err == nil {
				err = r.Wait(ctx, plan.Deployment, gen, o)
			}
			return action.Result{}, err
		},
	}
}

// Verbs of SimpleAction.
const (
	VerbPause   = "pause"
	VerbResume  = "resume"
	VerbRestart = "restart"
)

// VerbApplies says why verb cannot apply to w as it is now (nil when it can): a paused
// Deployment is not paused again, nor one that is not paused resumed. The command line and
// the console both ask it before they build the action.
func VerbApplies(verb string, w *model.Workload) error {
	switch {
	case verb == VerbPause && w.Paused:
		return fmt.Errorf("deployment/%s is already paused", w.Name)
	case verb == VerbResume && !w.Paused:
		return fmt.Errorf("deployment/%s is not paused", w.Name)
	}
	return nil
}

// SimpleAction pauses, resumes or restarts the Deployment; a restart is waited for.
func (r *Rollouts) SimpleAction(verb, deployment string, now time.Time, o RolloutOptions) (*action.Action, error) {
	var do func(ctx context.Context, dry bool) (int64, error)
	switch verb {
	case VerbPause, VerbResume:
		do = func(ctx context.Context, dry bool) (int64, error) {
			return r.SetPaused(ctx, deployment, verb == VerbPause, dry)
		}
	case VerbRestart:
		do = func(ctx context.Context, dry bool) (int64, error) { return r.Restart(ctx, deployment, now, dry) }
	default:
		return nil, fmt.Errorf("unknown rollout verb %q: pause, resume or restart", verb)
	}
	return &action.Action{
		Name: "rollout." + verb, Scope: r.scope(deployment, ""),
		What:     verb + " deployment/" + deployment,
		Question: fmt.Sprintf("%s deployment/%s?", strings.ToUpper(verb[:1])+verb[1:], deployment),
		Needs:    []action.Permission{r.need("patch")},
		Validate: func(ctx context.Context) error {
			if _, err := do(ctx, true); err != nil {
				return fmt.Errorf("the API server refuses the change: %w", err)
			}
			return nil
		},
		Plan: []action.Field{{Key: "deployment", Value: r.Namespace + "/" + deployment}, {Key: "change", Value: verb}},
		Do: func(ctx context.Context, progress func(string)) (action.Result, error) {
			o.Progress = stepPrinter(progress)
			gen, err := do(ctx, false)
			if err == nil && verb == VerbRestart {
				err = r.Wait(ctx, deployment, gen, o)
			}
			return action.Result{}, err
		},
	}, nil
}

func stepPrinter(progress func(string)) func(RolloutStep) {
	return func(s RolloutStep) { progress(s.Line()) }
}

// Fields are the plan as the command line and the console show it.
func (p *RolloutPlan) Fields() []action.Field {
	f := []action.Field{
		{Key: "deployment", Value: fmt.Sprintf("%s/%s (container %s, revision %s)", p.Namespace, p.Deployment, p.Container, p.Revision)},
		{Key: "image", Value: p.FromImage + " → " + p.ToImage},
		{Key: "registry", Value: p.RegistryAnswer()},
		{Key: "replicas", Value: fmt.Sprintf("%d, surge %s, unavailable %s", p.Replicas, format.OrDash(p.MaxSurge), format.OrDash(p.MaxUnavailable))},
		{Key: "gate", Value: "5xx ratio of the new pods from Prometheus; a failed gate or a stall rolls back"},
	}
	if len(p.Blockers) == 0 {
		return append(f, action.Field{Key: "preflight", Value: "no error-level finding", Mark: action.MarkOK})
	}
	for i, b := range p.Blockers {
		k := ""
		if i == 0 {
			k = "preflight"
		}
		f = append(f, action.Field{Key: k, Value: b.ID + " " + b.Subject + ": " + b.Message, Mark: action.MarkBad})
	}
	return f
}
