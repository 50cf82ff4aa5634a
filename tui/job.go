package tui

import (
	"context"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/apimctl/apimctl/ops"
	"github.com/apimctl/apimctl/ops/action"
	"github.com/apimctl/apimctl/ops/model"
)

// Actions are the changes the console can drive. ops.Console implements them: each proposal
// is an action of the same use case a subcommand runs, prepared by the same runner (read-only,
// RBAC, preflight, the API server's dry run), so the console shows the same plan and writes
// the same audit records. The console never reaches a cluster client itself.
type Actions interface {
	// ProposeRollout prepares rolling a group's traffic gateways to image (a tag or a
	// reference).
	ProposeRollout(ctx context.Context, s model.Snapshot, group, image string, progress func(string)) (*ops.Proposal, error)
	// ProposeBackup prepares a backup with the console's settings.
	ProposeBackup(ctx context.Context, progress func(string)) (*ops.Proposal, error)
}

// A job is a console action: its panel shows the plan and waits for y (or says why it may
// not run); then the progress lines arrive while it runs in the background (esc hides the
// panel, the status line keeps the job, its key shows it again); at the end, the outcome.
// A running job is cancelled when the console quits (after a second q).
type jobPhase int

const (
	jobPlanning jobPhase = iota
	jobConfirm
	jobRunning
	jobDone
)

const maxJobLines = 200

type job struct {
	kind    string // "rollout", "backup"
	verb    string // what y does: "roll out", "back up"
	subject string // e.g. the group, for the status line
	key     string // the key that shows it again
	title   string
	phase   jobPhase
	shown   bool
	lines   []string
	ch      chan string

	proposal *ops.Proposal
	outcome  ops.Outcome
	cancel   context.CancelFunc
	finished chan struct{} // closed when Run returned
	// planning and nothingDone are the job's words while it is planned and when it is
	// cancelled before it ran.
	planning, nothingDone string
}

type (
	// proposalMsg carries the prepared proposal of j (or why there is none).
	proposalMsg struct {
		j   *job
		p   *ops.Proposal
		err error
	}
	// jobLineMsg is a progress line of j; ok is false when the job closed its lines.
	jobLineMsg struct {
		j    *job
		line string
		ok   bool
	}
	// jobDoneMsg ends j with its outcome.
	jobDoneMsg struct {
		j       *job
		outcome ops.Outcome
	}
)

func newJob(kind, verb, subject, key, title, planning, nothingDone string) *job {
	return &job{kind: kind, verb: verb, subject: subject, key: key, title: title, shown: true, ch: make(chan string, 256),
		finished: make(chan struct{}), planning: planning, nothingDone: nothingDone}
}

// progress is the job's progress function: it never blocks the work (a line is dropped when
// the screen is behind).
func (j *job) progress(s string) {
	select {
	case j.ch <- s:
	default:
	}
}

func waitJobLine(j *job) tea.Cmd {
	return func() tea.Msg {
		l, ok := <-j.ch
		return jobLineMsg{j, l, ok}
	}
}

// propose starts a job: it is shown while propose (a call into ops, off the UI goroutine)
// prepares it.
func (m *Model) propose(j *job, propose func(ctx context.Context, progress func(string)) (*ops.Proposal, error)) tea.Cmd {
	m.jobs[j.kind] = j
	m.hideJobsBut(j)
	ctx := m.ctx
	return func() tea.Msg {
		p, err := propose(ctx, j.progress)
		return proposalMsg{j, p, err}
	}
}

func (m *Model) proposed(msg proposalMsg) {
	j := msg.j
	if m.jobs[j.kind] != j {
		return // cancelled meanwhile
	}
	if msg.err != nil {
		delete(m.jobs, j.kind)
		m.message, m.messageErr = j.kind+": "+msg.err.Error(), true
		return
	}
	j.proposal, j.phase = msg.p, jobConfirm
}

// run starts the confirmed job on its own goroutine, with a context cancelled when the
// console quits.
func (m *Model) run(j *job) tea.Cmd {
	j.phase = jobRunning
	ctx, cancel := context.WithCancel(m.ctx)
	j.cancel = cancel
	p := j.proposal
	done := func() tea.Msg {
		defer cancel()
		out := p.Run(ctx)
		close(j.ch)
		close(j.finished)
		return jobDoneMsg{j, out}
	}
	return tea.Batch(done, waitJobLine(j))
}

// updateJob handles the progress and end of a job.
func (m *Model) updateJob(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case jobLineMsg:
		if !msg.ok {
			return nil
		}
		j := msg.j
		j.lines = append(j.lines, msg.line)
		if len(j.lines) > maxJobLines {
			j.lines = j.lines[len(j.lines)-maxJobLines:]
		}
		return waitJobLine(j)
	case jobDoneMsg:
		j := msg.j
		j.outcome, j.phase = msg.outcome, jobDone
		if !j.shown {
			m.message, m.messageErr = j.kind+" "+j.outcome.Line+" — "+j.key+" shows it", !j.outcome.OK
		}
	}
	return nil
}

// shownJob is the job whose panel is on screen, if any.
func (m *Model) shownJob() *job {
	for _, j := range m.jobs {
		if j.shown {
			return j
		}
	}
	return nil
}

func (m *Model) hideJobsBut(keep *job) {
	for _, j := range m.jobs {
		j.shown = j == keep
	}
}

// runningJobs are the jobs still running, for the quit question and the status line.
func (m *Model) runningJobs() []*job {
	var out []*job
	for _, k := range jobKinds {
		if j := m.jobs[k]; j != nil && j.phase == jobRunning {
			out = append(out, j)
		}
	}
	return out
}

// jobKinds orders the jobs in the status line.
var jobKinds = []string{"rollout", "backup"}

// handleJobKey: y starts a confirmed job, n/esc cancel it before it runs, esc hides a running
// one and closes a finished one.
func (m *Model) handleJobKey(j *job, msg tea.KeyPressMsg) tea.Cmd {
	k := m.c.keys
	switch j.phase {
	case jobConfirm:
		switch {
		case key.Matches(msg, k.Yes) && j.proposal.Refusal == nil:
			return m.run(j)
		case key.Matches(msg, k.No), key.Matches(msg, k.Cancel):
			if j.proposal.Refusal == nil {
				j.proposal.Decline()
			}
			delete(m.jobs, j.kind)
			m.message = j.kind + " cancelled: " + j.nothingDone
		}
	case jobPlanning:
		if key.Matches(msg, k.Cancel) {
			delete(m.jobs, j.kind)
			m.message = j.kind + " cancelled: " + j.nothingDone
		}
	case jobRunning:
		if key.Matches(msg, k.Cancel) {
			j.shown = false
			m.message = "the " + j.kind + " goes on — " + j.key + " shows it"
		}
	case jobDone:
		if key.Matches(msg, k.Cancel) {
			delete(m.jobs, j.kind)
		}
	}
	return nil
}

func (m *Model) jobHelp(j *job) help.KeyMap {
	k := m.c.keys
	var keys []key.Binding
	switch j.phase {
	case jobConfirm:
		if j.proposal.Refusal == nil {
			keys = append(keys, key.NewBinding(key.WithKeys("y"), key.WithHelp("y", j.verb)))
		}
		keys = append(keys, k.No)
	case jobPlanning:
		keys = []key.Binding{k.Cancel}
	case jobRunning:
		keys = []key.Binding{key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "hide (it goes on)"))}
	case jobDone:
		keys = []key.Binding{key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close"))}
	}
	return keyHelp{short: keys, full: [][]key.Binding{keys}}
}

// markTone is the console's tone of a plan line's mark.
func markTone(mk action.Mark) tone {
	switch mk {
	case action.MarkOK:
		return toneOK
	case action.MarkWarn:
		return toneWarn
	case action.MarkBad:
		return toneBad
	}
	return toneNone
}

// jobView is a job's panel: title and state, the plan, then what the phase shows — the
// planning line, the question or the refusal, or the latest progress lines — and the outcome.
func (m *Model) jobView(j *job, w, h int) string {
	st := &m.c.styles
	var state string
	switch j.phase {
	case jobPlanning:
		state = st.status(toneBusy, "planning")
	case jobConfirm:
		state = st.status(toneWarn, "waiting for you")
		if j.proposal.Refusal != nil {
			state = st.status(toneBad, "refused")
		}
	case jobRunning:
		state = st.status(toneBusy, "running")
	case jobDone:
		word, _, _ := strings.Cut(j.outcome.Line, ":")
		if j.outcome.OK {
			word = "done"
		}
		state = st.status(map[bool]tone{true: toneOK, false: toneBad}[j.outcome.OK], word)
	}
	lines := []string{titleBar(m.c, w, j.title, state, nil)}
	if p := j.proposal; p != nil {
		for _, f := range p.Plan {
			v := f.Value
			if t := markTone(f.Mark); t != toneNone {
				v = st.status(t, v)
			}
			lines = append(lines, truncate("  "+st.Muted.Render(fit(f.Key, 11))+" "+v, w))
		}
	}
	lines = append(lines, "")
	switch j.phase {
	case jobPlanning:
		lines = append(lines, "  "+st.Muted.Render(j.planning))
	case jobConfirm:
		if r := j.proposal.Refusal; r != nil {
			lines = append(lines, "  "+st.Error.Render("refused: "+r.Error()), "  "+st.Muted.Render("nothing was changed; n or esc closes this"))
		} else {
			for _, l := range wrap(j.proposal.Question, max(w-4, 20)) {
				lines = append(lines, "  "+st.Message.Render(l))
			}
			lines = append(lines, "  "+st.Muted.Render("y starts it, n cancels; nothing has changed yet."))
		}
	default:
		room := max(h-len(lines)-2-len(j.outcome.Details), 1)
		shown := j.lines
		if len(shown) > room {
			shown = shown[len(shown)-room:]
		}
		for _, l := range shown {
			lines = append(lines, "  "+l)
		}
	}
	if j.phase == jobDone {
		lines = append(lines, "", "  "+st.status(map[bool]tone{true: toneOK, false: toneBad}[j.outcome.OK], j.outcome.Line))
		for _, d := range j.outcome.Details {
			lines = append(lines, "  "+st.Muted.Render(d))
		}
	}
	return padLines(clipLines(lines, h, w), w, h)
}

// statusPart is a hidden running job in the status line.
func (j *job) statusPart(st *Styles) string {
	name := strings.TrimSpace(j.kind + " " + j.subject)
	last := "starting"
	if n := len(j.lines); n > 0 {
		last = j.lines[n-1]
		if _, rest, ok := strings.Cut(last, "  "); ok { // drop the time
			last = strings.TrimSpace(rest)
		}
	}
	return st.status(toneBusy, name) + st.Muted.Render(" "+last+" ("+j.key+")")
}
