package tui

import (
	"context"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/apimctl/apimctl/ops"
	"github.com/apimctl/apimctl/ops/check"
	"github.com/apimctl/apimctl/ops/model"
)

// The console's actions beyond R and B, as small capability interfaces (as the drill-downs
// have theirs): ops.Console implements them all; a dialog whose capability the actions lack
// is not offered. Each proposal is the action its subcommand builds, prepared by the one
// runner; the reads (a history, the backups, verifying one) are what their subcommands read.
type (
	// RolloutVerbs drive a gateway Deployment: `apimctl rollout history|undo|pause|resume|restart`.
	RolloutVerbs interface {
		History(ctx context.Context, s model.Snapshot, role, group string) (*ops.History, error)
		ProposeUndo(ctx context.Context, s model.Snapshot, role, group string, toRevision int64, progress func(string)) (*ops.Proposal, error)
		ProposeRolloutVerb(ctx context.Context, s model.Snapshot, verb, role, group string, progress func(string)) (*ops.Proposal, error)
	}
	// BackupKeeper keeps the backups: `apimctl backup list|verify|prune|restore`.
	BackupKeeper interface {
		Backups(ctx context.Context) (*ops.Backups, error)
		ProposeVerify(ctx context.Context, id string, progress func(string)) (*ops.Proposal, error)
		ProposePrune(ctx context.Context, keep int, progress func(string)) (*ops.Proposal, error)
		ProposeRestore(ctx context.Context, req ops.RestoreRequest, progress func(string)) (*ops.Proposal, error)
	}
	// PatchMerger merges patches into an image and pushes it: `apimctl patch merge`.
	PatchMerger interface {
		ProposePatch(ctx context.Context, req ops.PatchRequest, progress func(string)) (*ops.Proposal, error)
	}
	// Remedier starts the action a finding offers (check.Remedy names it).
	Remedier interface {
		ProposeRemedy(ctx context.Context, s model.Snapshot, r model.Remedy, progress func(string)) (*ops.Proposal, error)
	}
)

var (
	_ Actions      = (*ops.Console)(nil)
	_ RolloutVerbs = (*ops.Console)(nil)
	_ BackupKeeper = (*ops.Console)(nil)
	_ PatchMerger  = (*ops.Console)(nil)
	_ Remedier     = (*ops.Console)(nil)
)

// actionKey opens the action dialogs (H, V, M, J) and starts a finding's remedy (F, in the
// findings view); ok is false for any other key.
func (m *Model) actionKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := m.c.keys
	switch {
	case key.Matches(msg, k.History):
		return m.openHistory(), true
	case key.Matches(msg, k.Backups):
		return m.openBackups(), true
	case key.Matches(msg, k.Patch):
		return m.openPatch(), true
	case key.Matches(msg, k.Jobs):
		return m.openJobs(), true
	case key.Matches(msg, k.Fix):
		if fv, ok := m.body().(*findingsView); ok {
			return m.startRemedy(fv), true
		}
	}
	return nil, false
}

// startRemedy is F on a finding that offers an action: that action's job (plan, question).
func (m *Model) startRemedy(fv *findingsView) tea.Cmd {
	f, ok := fv.selectedFinding()
	if !ok || m.snap == nil {
		return nil
	}
	r, ok := check.Remedy(f, *m.snap)
	if !ok {
		m.message = f.ID + " offers no action: its fix says what to do"
		return nil
	}
	if ok, why := m.canChange(r.Label, model.ActionAccess(r.Action)); !ok {
		m.message, m.messageErr = why, true
		return nil
	}
	rem, ok := m.actions.(Remedier)
	if !ok {
		m.message = "the console cannot " + r.Label + " here: " + r.Command
		return nil
	}
	snap, verb := *m.snap, strings.TrimPrefix(r.Action, "rollout.")
	j := newSubjectJob(verb, verb, "deployment/"+r.Deployment, titleWord(verb)+" · deployment/"+r.Deployment, "asking the API server…", "nothing changed")
	return m.propose(j, func(ctx context.Context, progress func(string)) (*ops.Proposal, error) {
		return rem.ProposeRemedy(ctx, snap, r, progress)
	})
}

// titleWord is a verb as a panel's title starts with it.
func titleWord(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
