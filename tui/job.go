package tui

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

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
	// id keys the job in the console's jobs: its kind for R and B (one each), kind and
	// subject for the others ("verify 20261128T030000Z-apim").
	id      string
	seq     int    // order of starting, for the status line and the jobs list
	kind    string // "rollout", "backup", "undo", "verify", …
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
	// form is the dialog the job was asked for in: it opens again, with the error, when
	// the proposal fails (bad input is corrected, not retyped).
	form dialog
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
	return &job{id: kind, kind: kind, verb: verb, subject: subject, key: key, title: title, shown: true, ch: make(chan string, 256),
		finished: make(chan struct{}), planning: planning, nothingDone: nothingDone}
}

// newSubjectJob is a job of which several may exist at once, one per subject (shown again
// from the jobs list, J).
func newSubjectJob(kind, verb, subject, title, planning, nothingDone string) *job {
	j := newJob(kind, verb, subject, "J", title, planning, nothingDone)
	j.id = strings.TrimSpace(kind + " " + subject)
	return j
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
	if old := m.jobs[j.id]; old != nil && old.phase != jobDone {
		m.hideJobsBut(old) // the same change is on its way: show it, do not start a second
		return nil
	}
	m.jobSeq++
	j.seq = m.jobSeq
	m.jobs[j.id] = j
	m.hideJobsBut(j)
	m.dialog = nil
	ctx := m.ctx
	return func() tea.Msg {
		p, err := propose(ctx, j.progress)
		return proposalMsg{j, p, err}
	}
}

// proposed receives a job's proposal: it waits for y, or — a read — starts at once.
func (m *Model) proposed(msg proposalMsg) tea.Cmd {
	defer m.jobsChanged()
	j := msg.j
	if m.jobs[j.id] != j {
		return nil // cancelled meanwhile
	}
	if msg.err != nil {
		delete(m.jobs, j.id)
		m.message, m.messageErr = j.kind+": "+msg.err.Error(), true
		if f, ok := j.form.(interface{ setError(string) }); ok && j.shown {
			f.setError(msg.err.Error())
			m.dialog = j.form
		}
		return nil
	}
	j.proposal, j.phase = msg.p, jobConfirm
	if msg.p.Title != "" {
		j.title = msg.p.Title // ops knows the target by now: "Restore · ID → namespace"
	}
	if msg.p.NoConfirm && msg.p.Refusal == nil {
		return m.run(j)
	}
	return nil
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
	defer m.jobsChanged()
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

// runningJobs are the jobs still running, oldest first, for the quit question and the
// status line.
func (m *Model) runningJobs() []*job {
	var out []*job
	for _, j := range m.sortedJobs() {
		if j.phase == jobRunning {
			out = append(out, j)
		}
	}
	return out
}

// sortedJobs are every job, in the order they were started.
func (m *Model) sortedJobs() []*job {
	out := make([]*job, 0, len(m.jobs))
	for _, j := range m.jobs {
		out = append(out, j)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].seq < out[b].seq })
	return out
}

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
			delete(m.jobs, j.id)
			m.message = j.kind + " cancelled: " + j.nothingDone
		}
	case jobPlanning:
		if key.Matches(msg, k.Cancel) {
			delete(m.jobs, j.id)
			m.message = j.kind + " cancelled: " + j.nothingDone
		}
	case jobRunning:
		if key.Matches(msg, k.Cancel) {
			j.shown = false
			m.message = "the " + j.kind + " goes on — " + j.key + " shows it"
		}
	case jobDone:
		if key.Matches(msg, k.Cancel) {
			delete(m.jobs, j.id)
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
			for _, l := range wrap("refused: "+r.Error(), max(w-4, 20)) {
				lines = append(lines, "  "+st.Error.Render(l))
			}
			lines = append(lines, "  "+st.Muted.Render("nothing was changed; n or esc closes this"))
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

// quitWarnings says what quitting does to the running jobs.
func quitWarnings(running []*job) string {
	if len(running) == 1 {
		return quitWarning(running[0])
	}
	return fmt.Sprintf("%d jobs are running (J lists them): quitting stops them", len(running))
}

// jobsChanged keeps an open jobs list in step with the jobs.
func (m *Model) jobsChanged() {
	if d, ok := m.dialog.(*jobsDialog); ok {
		d.refresh()
	}
}

// jobsStatus are the status line's parts for the running jobs whose panel is hidden: the
// first two, then how many more the jobs list (J) has.
func (m *Model) jobsStatus(st *Styles) []string {
	var parts []string
	hidden := 0
	for _, j := range m.runningJobs() {
		if j.shown {
			continue
		}
		if hidden++; hidden <= 2 {
			parts = append(parts, j.statusPart(st))
		}
	}
	if hidden > 2 {
		parts = append(parts, st.status(toneBusy, fmt.Sprintf("%d more jobs", hidden-2))+st.Muted.Render(" (J)"))
	}
	return parts
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

// quitWarning says what quitting does to a running job.
func quitWarning(j *job) string {
	switch j.kind {
	case "rollout":
		return "a rollout is running: quitting rolls it back, as Ctrl-C does"
	case "undo", "restart":
		return "a " + j.kind + " is running: quitting stops watching it (the Deployment rolls on)"
	case "restore":
		return "a restore is running: quitting stops it (run it again to resume)"
	}
	return "a " + j.kind + " is running: quitting cancels it"
}

// jobGrace is how long the console waits, after it quit, for cancelled jobs to record their
// outcome (a rollback that takes longer goes on in the cluster without it).
const jobGrace = 15 * time.Second

// awaitJobs waits until every started job has returned, or grace passed.
func (m *Model) awaitJobs(grace time.Duration) {
	deadline := time.After(grace)
	for _, j := range m.jobs {
		if j.phase == jobConfirm && j.proposal.Refusal == nil {
			j.proposal.Decline() // left unanswered: recorded as declined, nothing changed
		}
		if j.phase < jobRunning {
			continue
		}
		select {
		case <-j.finished:
		case <-deadline:
			return
		}
	}
}
