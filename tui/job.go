package tui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// A job is a console action that runs in the background once confirmed — a rollout (R) or a
// backup (B). Its panel shows the plan and waits for y; then the progress lines arrive while
// it runs (esc hides the panel, the status line keeps the job, its key shows it again); at the
// end, the outcome. rollout.go and backup.go supply the plan, the run and the words.
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
	subject string // e.g. the group, for the status line
	key     string // the key that shows it again
	phase   jobPhase
	shown   bool
	blocked bool // the plan may not start: y does nothing
	lines   []string
	ch      chan string

	// Set when done.
	ok      bool
	outcome string   // one line
	details []string // under it
}

type (
	// jobLineMsg is a progress line of j; ok is false when the job closed its lines.
	jobLineMsg struct {
		j    *job
		line string
		ok   bool
	}
	// jobDoneMsg ends j; finish fills in its outcome (run on the program's goroutine, so the
	// view never reads a half-written result).
	jobDoneMsg struct {
		j      *job
		finish func()
	}
)

func waitJobLine(j *job) tea.Cmd {
	return func() tea.Msg {
		l, ok := <-j.ch
		return jobLineMsg{j, l, ok}
	}
}

// run starts the confirmed job: work runs on its own goroutine with a progress function that
// never blocks it (a line is dropped when the screen is behind) and returns the finish step.
func (j *job) run(work func(progress func(string)) func()) tea.Cmd {
	j.phase = jobRunning
	j.ch = make(chan string, 256)
	ch := j.ch
	done := func() tea.Msg {
		finish := work(func(s string) {
			select {
			case ch <- s:
			default:
			}
		})
		close(ch)
		return jobDoneMsg{j, finish}
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
		msg.finish()
		j.phase = jobDone
		if !j.shown {
			m.message, m.messageErr = j.kind+" "+j.outcome+" — "+j.key+" shows it", !j.ok
		}
	}
	return nil
}

// handleJobKey: y starts a confirmed job, n/esc cancel it before it runs, esc hides a running
// one and closes a finished one (close forgets it).
func (m *Model) handleJobKey(j *job, msg tea.KeyPressMsg, start func() tea.Cmd, close func(), nothingDone string) tea.Cmd {
	k := m.c.keys
	switch j.phase {
	case jobConfirm:
		switch {
		case key.Matches(msg, k.Yes) && !j.blocked:
			return start()
		case key.Matches(msg, k.No), key.Matches(msg, k.Cancel):
			close()
			m.message = j.kind + " cancelled: " + nothingDone
		}
	case jobPlanning:
		if key.Matches(msg, k.Cancel) {
			close()
			m.message = j.kind + " cancelled: " + nothingDone
		}
	case jobRunning:
		if key.Matches(msg, k.Cancel) {
			j.shown = false
			m.message = "the " + j.kind + " goes on — " + j.key + " shows it"
		}
	case jobDone:
		if key.Matches(msg, k.Cancel) {
			close()
		}
	}
	return nil
}

func (m *Model) jobHelp(j *job, yes string) help.KeyMap {
	k := m.c.keys
	var keys []key.Binding
	switch j.phase {
	case jobConfirm:
		if !j.blocked {
			keys = append(keys, key.NewBinding(key.WithKeys("y"), key.WithHelp("y", yes)))
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

// jobView is a job's panel: title and state, the plan (head), then what the phase shows —
// the planning or confirmation line, or the latest progress lines — and the outcome.
func (m *Model) jobView(j *job, w, h int, title, doneWord string, head []string, planning, confirm string) string {
	st := &m.c.styles
	var state string
	switch j.phase {
	case jobPlanning:
		state = st.status(toneBusy, "planning")
	case jobConfirm:
		state = st.status(toneWarn, "waiting for you")
	case jobRunning:
		state = st.status(toneBusy, "running")
	case jobDone:
		state = st.status(map[bool]tone{true: toneOK, false: toneBad}[j.ok], doneWord)
	}
	lines := append([]string{titleBar(m.c, w, title, state, nil)}, head...)
	lines = append(lines, "")
	switch j.phase {
	case jobPlanning:
		lines = append(lines, "  "+st.Muted.Render(planning))
	case jobConfirm:
		if j.blocked {
			lines = append(lines, "  "+st.Error.Render(confirm))
		} else {
			lines = append(lines, "  "+st.Message.Render(confirm))
		}
	default:
		room := max(h-len(lines)-2-len(j.details), 1)
		shown := j.lines
		if len(shown) > room {
			shown = shown[len(shown)-room:]
		}
		for _, l := range shown {
			lines = append(lines, "  "+l)
		}
	}
	if j.phase == jobDone {
		lines = append(lines, "", "  "+st.status(map[bool]tone{true: toneOK, false: toneBad}[j.ok], j.outcome))
		for _, d := range j.details {
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
