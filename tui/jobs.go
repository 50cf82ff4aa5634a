package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// jobsDialog is J: every job of this session — running in the background, waiting for y,
// or finished — oldest first, with its state and last line; enter shows its panel.
type jobsDialog struct {
	m    *Model
	tbl  *table
	w, h int
}

func (m *Model) openJobs() tea.Cmd {
	d := &jobsDialog{m: m, tbl: newTable(m.c, []column{
		{title: "#", min: 2, right: true},
		{title: "JOB", min: 10, flex: true},
		{title: "STATE", min: 9},
		{title: "LAST", min: 12, flex: true, prio: 1},
	}, "no jobs yet: R, B, H, V and M start one")}
	d.refresh()
	return m.openDialog(d, nil)
}

// refresh rebuilds the rows from the jobs (they change under the dialog while it is open).
func (d *jobsDialog) refresh() {
	jobs := d.m.sortedJobs()
	rows := make([]row, 0, len(jobs))
	for _, j := range jobs {
		word, t := jobState(j)
		last := ""
		if n := len(j.lines); n > 0 {
			last = j.lines[n-1]
		}
		if j.phase == jobDone {
			last = j.outcome.Line
		}
		name := strings.TrimSpace(j.kind + " " + j.subject)
		rows = append(rows, row{id: j.id, key: strings.ToLower(name),
			cells: []cell{{text: fmt.Sprint(j.seq)}, {text: name}, {text: t.symbol() + " " + word, tone: t}, {text: last}}})
	}
	d.tbl.SetRows(rows)
}

// jobState is a job's state in a word and its tone.
func jobState(j *job) (string, tone) {
	switch j.phase {
	case jobPlanning:
		return "planning", toneBusy
	case jobConfirm:
		if j.proposal != nil && j.proposal.Refusal != nil {
			return "refused", toneBad
		}
		return "waiting", toneWarn
	case jobRunning:
		return "running", toneBusy
	}
	if j.outcome.OK {
		return "done", toneOK
	}
	word, _, _ := strings.Cut(j.outcome.Line, ":")
	return word, toneBad
}

func (d *jobsDialog) typing() bool { return false }

func (d *jobsDialog) Loaded(*Model, dialogMsg) tea.Cmd { return nil }

func (d *jobsDialog) Update(m *Model, msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		m.dialog = nil
		return nil
	case "enter":
		if r, ok := d.tbl.Selected(); ok {
			if j := m.jobs[r.id]; j != nil {
				m.dialog = nil
				m.hideJobsBut(j)
			}
		}
		return nil
	}
	d.tbl.Update(msg)
	return nil
}

func (d *jobsDialog) View(m *Model, w, h int) string {
	running := len(m.runningJobs())
	extra := m.c.styles.Muted.Render(fmt.Sprintf("%d of %d running", running, len(m.jobs)))
	if d.w != w || d.h != h {
		d.w, d.h = w, h
		d.tbl.SetSize(w, max(h-3, 1))
	}
	lines := append([]string{titleBar(m.c, w, "Jobs", extra, nil)}, strings.Split(d.tbl.View(), "\n")...)
	lines = append(lines, "", "  "+m.c.styles.Muted.Render("Jobs run on while you look elsewhere; quitting asks first and stops the running ones."))
	return padLines(clipLines(lines, h, w), w, h)
}

func (d *jobsDialog) ShortHelp() []key.Binding {
	k := d.m.c.keys
	return []key.Binding{k.Move, key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "show")),
		key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close"))}
}

func (d *jobsDialog) FullHelp() [][]key.Binding { return [][]key.Binding{d.ShortHelp()} }
