package tui

import (
	"context"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/apimctl/apimctl/ops"
)

// Actions are the changes the console can drive. ops implements them (ops.ConsoleActions):
// the TUI never reaches a cluster client itself.
type Actions interface {
	// PlanRollout prepares rolling a group's traffic gateways to image (a tag or a reference):
	// the plan with its preflight blockers, validated by the API server when not blocked.
	PlanRollout(ctx context.Context, s ops.Snapshot, group, image string) (*ops.RolloutPlan, error)
	// Rollout runs the plan with the metric gate and automatic rollback, audited.
	Rollout(ctx context.Context, p *ops.RolloutPlan, progress func(ops.RolloutStep)) (ops.RolloutResult, error)
}

// A rollout from the console (a job, see job.go): R asks for the tag, the plan is shown with
// its preflight and waits for y, then the rollout runs with its progress in the panel until
// it ends — complete or rolled back.
type rolloutState struct {
	job
	group string
	plan  *ops.RolloutPlan
}

type rolloutPlanMsg struct {
	plan *ops.RolloutPlan
	err  error
}

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

// startRollout is the R key: show a running rollout, or ask for the new tag.
func (m *Model) startRollout() tea.Cmd {
	if m.ro != nil {
		m.ro.shown = true
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
	m.ro = &rolloutState{job: job{kind: "rollout", subject: m.roGroup, key: "R", shown: true}, group: m.roGroup}
	snap, actions, group := *m.snap, m.actions, m.roGroup
	return func() tea.Msg {
		p, err := actions.PlanRollout(context.Background(), snap, group, image)
		return rolloutPlanMsg{p, err}
	}
}

func (m *Model) planned(msg rolloutPlanMsg) {
	if m.ro == nil {
		return
	}
	if msg.err != nil {
		m.ro = nil
		m.message, m.messageErr = "rollout: "+msg.err.Error(), true
		return
	}
	m.ro.plan, m.ro.phase, m.ro.blocked = msg.plan, jobConfirm, len(msg.plan.Blockers) > 0
}

func (m *Model) runRollout() tea.Cmd {
	actions, plan, j := m.actions, m.ro.plan, &m.ro.job
	return j.run(func(progress func(string)) func() {
		res, err := actions.Rollout(context.Background(), plan, func(s ops.RolloutStep) { progress(s.Line()) })
		return func() {
			j.ok = err == nil && res.Outcome == ops.RolloutComplete
			switch {
			case err != nil:
				j.outcome = "failed: " + err.Error()
			case res.Outcome == ops.RolloutRolledBack:
				j.outcome = "rolled back: " + res.Reason
			default:
				j.outcome = res.Outcome
			}
			j.details = []string{"now " + res.Image + " · gate " + res.Gate}
		}
	})
}

// rolloutView is the body while the rollout panel is shown.
func (m *Model) rolloutView(w, h int) string {
	st := &m.c.styles
	ro := m.ro
	var head []string
	if p := ro.plan; p != nil {
		head = kv(st, 2, w, [][2]string{
			{"deployment", fmt.Sprintf("%s/%s (container %s, revision %s)", p.Namespace, p.Deployment, p.Container, p.Revision)},
			{"image", p.FromImage + " → " + p.ToImage},
			{"registry", p.RegistryAnswer()},
			{"replicas", fmt.Sprintf("%d, surge %s, unavailable %s", p.Replicas, orDash(p.MaxSurge), orDash(p.MaxUnavailable))},
			{"gate", "5xx of the new pods from Prometheus; a failed gate or a stall rolls back"},
		})
		if len(p.Blockers) == 0 {
			head = append(head, "  "+st.status(toneOK, "preflight: no error-level finding"))
		}
		for _, b := range p.Blockers {
			head = append(head, "  "+st.status(toneBad, b.ID)+" "+b.Subject+": "+b.Message)
		}
	}
	confirm := "Roll out? y starts it, n cancels; nothing has changed yet."
	if ro.blocked {
		confirm = "blocked by the preflight: fix the findings first (view 8), nothing was changed"
	}
	doneWord := "failed"
	if ro.outcome != "" {
		doneWord, _, _ = strings.Cut(ro.outcome, ":")
	}
	return m.jobView(&ro.job, w, h, "Rollout · group "+ro.group, doneWord, head, "asking the API server…", confirm)
}
