package ops

import (
	"context"
	"fmt"
	"strings"

	"github.com/apimctl/apimctl/ops/action"
	"github.com/apimctl/apimctl/ops/model"
	"github.com/apimctl/apimctl/ops/rollout"
)

// The console's rollout dialog: a gateway Deployment's history, and undo, pause, resume and
// restart as `apimctl rollout` runs them (the same actions of ops/rollout, the same runner).

// History is a gateway Deployment's revisions, for the console's rollout dialog.
type History struct {
	Namespace  string `json:"namespace"`
	Deployment string `json:"deployment"`
	Role       string `json:"role"`
	Group      string `json:"group,omitempty"`
	Paused     bool   `json:"paused"`
	// Revisions oldest first, as `apimctl rollout history` prints them.
	Revisions []model.Revision `json:"revisions"`
}

// deployment finds the Deployment of a role and group in s, as the rollout subcommands do,
// and the Rollouts of its namespace.
func (c *Console) deployment(s model.Snapshot, role, group string) (*model.Workload, *rollout.Rollouts, error) {
	w, err := model.FindWorkload(s.Topology, role, group)
	if err != nil {
		return nil, nil, err
	}
	r, err := rollout.RolloutsFor(c.Conn, w.Namespace)
	if err != nil {
		return nil, nil, err
	}
	return w, r, nil
}

// History reads the revisions of the group's Deployment of role (a read: no action).
func (c *Console) History(ctx context.Context, s model.Snapshot, role, group string) (*History, error) {
	w, r, err := c.deployment(s, role, group)
	if err != nil {
		return nil, err
	}
	revs, err := r.History(ctx, w.Name)
	if err != nil {
		return nil, err
	}
	// Paused as the API server has it now (the snapshot may be a moment behind a pause
	// the console just made).
	_, d, err := r.Container(ctx, w.Name)
	if err != nil {
		return nil, err
	}
	return &History{Namespace: w.Namespace, Deployment: w.Name, Role: w.Role, Group: w.Group, Paused: d.Spec.Paused, Revisions: revs}, nil
}

// ProposeUndo prepares returning the Deployment to toRevision (0: the one before the
// current), watched until available: `apimctl rollout undo`.
func (c *Console) ProposeUndo(ctx context.Context, s model.Snapshot, role, group string, toRevision int64, progress func(string)) (*Proposal, error) {
	w, r, err := c.deployment(s, role, group)
	if err != nil {
		return nil, err
	}
	plan, err := r.PlanUndo(ctx, w.Name, toRevision)
	if err != nil {
		return nil, err
	}
	subject := "deployment/" + w.Name
	p := &Proposal{Kind: "undo", Subject: subject, Title: "Undo · " + subject}
	return c.propose(ctx, p, r.UndoAction(plan, rollout.RolloutOptions{Timeout: c.Timeout}), progress, func(_ action.Result, err error) Outcome {
		if err != nil {
			return failed(err)
		}
		return Outcome{OK: true, Line: "complete", Details: []string{fmt.Sprintf("%s runs %s (revision %d)", subject, plan.ToImage, plan.ToRevision)}}
	})
}

// ProposeRolloutVerb prepares pausing, resuming or restarting the Deployment (a restart is
// watched until available): `apimctl rollout pause|resume|restart`.
func (c *Console) ProposeRolloutVerb(ctx context.Context, s model.Snapshot, verb, role, group string, progress func(string)) (*Proposal, error) {
	w, r, err := c.deployment(s, role, group)
	if err != nil {
		return nil, err
	}
	if err := rollout.VerbApplies(verb, w); err != nil {
		return nil, err
	}
	a, err := r.SimpleAction(verb, w.Name, c.now(), rollout.RolloutOptions{Timeout: c.Timeout})
	if err != nil {
		return nil, err
	}
	subject := "deployment/" + w.Name
	p := &Proposal{Kind: verb, Subject: subject, Title: strings.ToUpper(verb[:1]) + verb[1:] + " · " + subject}
	return c.propose(ctx, p, a, progress, func(_ action.Result, err error) Outcome {
		if err != nil {
			return failed(err)
		}
		return Outcome{OK: true, Line: subject + ": " + verb + " done"}
	})
}

// ProposeRemedy prepares the action that fixes a finding (check.Remedy names it).
func (c *Console) ProposeRemedy(ctx context.Context, s model.Snapshot, r model.Remedy, progress func(string)) (*Proposal, error) {
	switch r.Action {
	case model.ActionUndo:
		return c.ProposeUndo(ctx, s, r.Role, r.Group, 0, progress)
	case model.ActionPause, model.ActionResume, model.ActionRestart:
		return c.ProposeRolloutVerb(ctx, s, strings.TrimPrefix(r.Action, "rollout."), r.Role, r.Group, progress)
	}
	return nil, fmt.Errorf("the console has no action %q", r.Action)
}
