package tui

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
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

// A rollout from the console: R asks for the tag, the plan is shown with its preflight and
// waits for y, then the rollout runs in the background with its progress in this panel (esc
// hides it, R shows it again) until it ends — complete or rolled back.
type rolloutPhase int

const (
	rolloutPlanning rolloutPhase = iota
	rolloutConfirm
	rolloutRunning
	rolloutDone
)

type rolloutState struct {
	phase  rolloutPhase
	group  string
	plan   *ops.RolloutPlan
	steps  []ops.RolloutStep
	result ops.RolloutResult
	err    error
	shown  bool
	ch     chan ops.RolloutStep
}

const maxRolloutSteps = 200

type (
	rolloutPlanMsg struct {
		plan *ops.RolloutPlan
		err  error
	}
	rolloutStepMsg struct {
		step ops.RolloutStep
		ok   bool
	}
	rolloutDoneMsg struct {
		res ops.RolloutResult
		err error
	}
)

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
	m.ro = &rolloutState{phase: rolloutPlanning, group: m.roGroup, shown: true}
	snap, actions, group := *m.snap, m.actions, m.roGroup
	return func() tea.Msg {
		p, err := actions.PlanRollout(context.Background(), snap, group, image)
		return rolloutPlanMsg{p, err}
	}
}

func waitRolloutStep(ch <-chan ops.RolloutStep) tea.Cmd {
	return func() tea.Msg {
		s, ok := <-ch
		return rolloutStepMsg{s, ok}
	}
}

func (m *Model) runRollout() tea.Cmd {
	ro := m.ro
	ro.phase = rolloutRunning
	ro.ch = make(chan ops.RolloutStep, 256)
	actions, plan, ch := m.actions, ro.plan, ro.ch
	run := func() tea.Msg {
		res, err := actions.Rollout(context.Background(), plan, func(s ops.RolloutStep) {
			select {
			case ch <- s:
			default: // the screen is behind: drop a progress line rather than stall the rollout
			}
		})
		close(ch)
		return rolloutDoneMsg{res, err}
	}
	return tea.Batch(run, waitRolloutStep(ch))
}

// updateRollout handles the rollout messages.
func (m *Model) updateRollout(msg tea.Msg) tea.Cmd {
	ro := m.ro
	if ro == nil {
		return nil
	}
	switch msg := msg.(type) {
	case rolloutPlanMsg:
		if msg.err != nil {
			m.ro = nil
			m.message, m.messageErr = "rollout: "+msg.err.Error(), true
			return nil
		}
		ro.plan, ro.phase = msg.plan, rolloutConfirm
	case rolloutStepMsg:
		if !msg.ok {
			return nil
		}
		ro.steps = append(ro.steps, msg.step)
		if len(ro.steps) > maxRolloutSteps {
			ro.steps = ro.steps[len(ro.steps)-maxRolloutSteps:]
		}
		return waitRolloutStep(ro.ch)
	case rolloutDoneMsg:
		ro.phase, ro.result, ro.err = rolloutDone, msg.res, msg.err
		if !ro.shown {
			m.message, m.messageErr = "rollout "+rolloutOutcome(ro)+" — R shows it", ro.result.Outcome != ops.RolloutComplete
		}
	}
	return nil
}

func rolloutOutcome(ro *rolloutState) string {
	switch {
	case ro.err != nil:
		return "failed: " + ro.err.Error()
	case ro.result.Outcome == ops.RolloutRolledBack:
		return "rolled back: " + ro.result.Reason
	}
	return ro.result.Outcome
}

// handleRolloutKey: y/n to confirm, esc to hide or close.
func (m *Model) handleRolloutKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.c.keys
	ro := m.ro
	switch ro.phase {
	case rolloutConfirm:
		switch {
		case key.Matches(msg, k.Yes) && len(ro.plan.Blockers) == 0:
			return m.runRollout()
		case key.Matches(msg, k.No), key.Matches(msg, k.Cancel):
			m.ro = nil
			m.message = "rollout cancelled: nothing changed"
		}
	case rolloutPlanning:
		if key.Matches(msg, k.Cancel) {
			m.ro = nil
			m.message = "rollout cancelled: nothing changed"
		}
	case rolloutRunning:
		if key.Matches(msg, k.Cancel) {
			ro.shown = false
			m.message = "the rollout goes on, watched — R shows it"
		}
	case rolloutDone:
		if key.Matches(msg, k.Cancel) {
			m.ro = nil
		}
	}
	return nil
}

func (m *Model) rolloutHelp() help.KeyMap {
	k := m.c.keys
	var keys []key.Binding
	switch m.ro.phase {
	case rolloutConfirm:
		if len(m.ro.plan.Blockers) == 0 {
			keys = append(keys, k.Yes)
		}
		keys = append(keys, k.No)
	case rolloutPlanning:
		keys = []key.Binding{k.Cancel}
	case rolloutRunning:
		keys = []key.Binding{key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "hide (it goes on)"))}
	case rolloutDone:
		keys = []key.Binding{key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close"))}
	}
	return keyHelp{short: keys, full: [][]key.Binding{keys}}
}

// rolloutView is the body while the rollout panel is shown.
func (m *Model) rolloutView(w, h int) string {
	st := &m.c.styles
	ro := m.ro
	var lines []string
	title := "Rollout · group " + ro.group
	state := ""
	switch ro.phase {
	case rolloutPlanning:
		state = st.status(toneBusy, "planning")
	case rolloutConfirm:
		state = st.status(toneWarn, "waiting for you")
	case rolloutRunning:
		state = st.status(toneBusy, "running")
	case rolloutDone:
		t := toneOK
		if ro.err != nil || ro.result.Outcome != ops.RolloutComplete {
			t = toneBad
		}
		state = st.status(t, ro.result.Outcome)
	}
	lines = append(lines, titleBar(m.c, w, title, state, nil))
	if p := ro.plan; p != nil {
		lines = append(lines, kv(st, 2, w, [][2]string{
			{"deployment", fmt.Sprintf("%s/%s (container %s, revision %s)", p.Namespace, p.Deployment, p.Container, p.Revision)},
			{"image", p.FromImage + " → " + p.ToImage},
			{"registry", p.RegistryAnswer()},
			{"replicas", fmt.Sprintf("%d, surge %s, unavailable %s", p.Replicas, orDash(p.MaxSurge), orDash(p.MaxUnavailable))},
			{"gate", "5xx of the new pods from Prometheus; a failed gate or a stall rolls back"},
		})...)
		if len(p.Blockers) == 0 {
			lines = append(lines, "  "+st.status(toneOK, "preflight: no error-level finding"))
		}
		for _, b := range p.Blockers {
			lines = append(lines, "  "+st.status(toneBad, b.ID)+" "+b.Subject+": "+b.Message)
		}
	}
	lines = append(lines, "")
	switch ro.phase {
	case rolloutPlanning:
		lines = append(lines, "  "+st.Muted.Render("asking the API server…"))
	case rolloutConfirm:
		if len(ro.plan.Blockers) > 0 {
			lines = append(lines, "  "+st.Error.Render("blocked by the preflight: fix the findings first (view 8), nothing was changed"))
		} else {
			lines = append(lines, "  "+st.Message.Render("Roll out? y starts it, n cancels; nothing has changed yet."))
		}
	default:
		room := max(h-len(lines)-2, 1)
		steps := ro.steps
		if len(steps) > room {
			steps = steps[len(steps)-room:]
		}
		for _, s := range steps {
			lines = append(lines, "  "+s.Line())
		}
	}
	if ro.phase == rolloutDone {
		lines = append(lines, "", "  "+st.status(map[bool]tone{true: toneOK, false: toneBad}[ro.err == nil && ro.result.Outcome == ops.RolloutComplete],
			rolloutOutcome(ro))+st.Muted.Render("  · now "+ro.result.Image+" · gate "+ro.result.Gate))
	}
	return padLines(clipLines(lines, h, w), w, h)
}
