package tui

import (
	"context"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/apimctl/apimctl/ops"
)

// A rollout from the console (a job, see job.go): R asks for the tag, the plan is shown with
// its preflight and waits for y, then the rollout runs with its progress in the panel until
// it ends — complete or rolled back.

// rolloutGroup is the group a rollout is for: the pods view's selected group, else the only
// (or first) group.
func (m *Model) rolloutGroup() (string, bool) {
	if pv, ok := m.screens[m.active].(*podsView); ok && pv.group != allGroups && pv.group != "" {
		return pv.group, true
	}
	if m.snap == nil || len(m.snap.Topology.Groups) == 0 {
		return "", false
	}
	return m.snap.Topology.Groups[0].Name, true
}

// startRollout is the R key: show a rollout that exists, or ask for the new tag.
func (m *Model) startRollout() tea.Cmd {
	if j := m.jobs["rollout"]; j != nil {
		m.hideJobsBut(j)
		return nil
	}
	if m.actions == nil || m.snap == nil {
		m.message = "rollouts are not available here"
		return nil
	}
	if _, ro := readOnlyReason(m.opts, m.snap); ro || !m.snap.Access.Can("deployments/patch") {
		m.message, m.messageErr = "read-only: this identity may not roll out (deployments/patch)", true
		return nil
	}
	g, ok := m.rolloutGroup()
	if !ok {
		m.message, m.messageErr = "no gateway group to roll out", true
		return nil
	}
	m.roGroup = g
	return m.openPrompt(promptRollout)
}

func (m *Model) planRollout(image string) tea.Cmd {
	image = strings.TrimSpace(image)
	if image == "" {
		m.message = "rollout cancelled: no tag given"
		return nil
	}
	snap, actions, group := *m.snap, m.actions, m.roGroup
	j := newJob("rollout", "roll out", group, "R", "Rollout · group "+group, "asking the API server…", "nothing changed")
	return m.propose(j, func(ctx context.Context, progress func(string)) (*ops.Proposal, error) {
		return actions.ProposeRollout(ctx, snap, group, image, progress)
	})
}
