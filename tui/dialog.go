package tui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"
)

// An action dialog is drawn in the body's place, as a job's panel is, and has the keys until
// esc closes it: a Deployment's history with undo, pause, resume and restart (H), the
// backups with verify, prune and restore (V), a patch merge (M), the jobs (J), and the forms
// they open. It loads what it lists through the console's actions in a command (never in
// Update), receives it as a dialogMsg, and starts a change as a job: the job's panel then
// shows the plan, the checks, the question and the progress, as for R and B.
type dialog interface {
	help.KeyMap
	// Update handles a key; the dialog closes itself or starts a job through m.
	Update(m *Model, msg tea.KeyPressMsg) tea.Cmd
	// Loaded receives what its command delivered.
	Loaded(m *Model, msg dialogMsg) tea.Cmd
	// View draws exactly the body's area: h lines of at most w cells.
	View(m *Model, w, h int) string
	// typing is true while a text field has the keys: q types a q (ctrl+c still quits).
	typing() bool
}

// dialogMsg carries what a dialog loaded (dropped when it is no longer open).
type dialogMsg struct {
	d    dialog
	data any
	err  error
}

// openDialog shows d (above the view; a shown job is hidden, it goes on) and starts its load.
func (m *Model) openDialog(d dialog, load tea.Cmd) tea.Cmd {
	m.hideJobsBut(nil)
	m.dialog = d
	return load
}

// loadFor runs f off the UI goroutine and delivers its result to d.
func loadFor(d dialog, f func() (any, error)) tea.Cmd {
	return func() tea.Msg {
		v, err := f()
		return dialogMsg{d: d, data: v, err: err}
	}
}

// tableDialog is what a dialog that lists in a table keeps: the table and the size it
// last gave it.
type tableDialog struct {
	tbl  *table
	w, h int
}

// frame draws the dialog: its title line, the table in the lines foot leaves, then foot.
func (d *tableDialog) frame(title string, foot []string, w, h int) string {
	th := max(h-1-len(foot), 2)
	if d.w != w || d.h != th {
		d.w, d.h = w, th
		d.tbl.SetSize(w, th-1)
	}
	lines := append([]string{title}, strings.Split(d.tbl.View(), "\n")...)
	return padLines(clipLines(append(lines, foot...), h, w), w, h)
}

// selectedIn is the item of items under the table's cursor, found by its row id.
func selectedIn[T any](tbl *table, items []T, id func(T) string) (T, bool) {
	if r, ok := tbl.Selected(); ok {
		for _, it := range items {
			if id(it) == r.id {
				return it, true
			}
		}
	}
	var none T
	return none, false
}

// errorFoot is the line that shows a dialog's error (none without one).
func errorFoot(st *Styles, err string) []string {
	if err == "" {
		return nil
	}
	return []string{"  " + st.Error.Render("✗ "+err)}
}

// dialogTyping says whether the open dialog takes msg before the quit keys do.
func (m *Model) dialogTyping(msg tea.KeyPressMsg) bool {
	return m.dialog != nil && m.shownJob() == nil && m.dialog.typing() && msg.String() != "ctrl+c"
}

func (m *Model) dialogKey(msg tea.KeyPressMsg) tea.Cmd { return m.dialog.Update(m, msg) }

// dialogLoaded routes a dialogMsg to its dialog if it is still open.
func (m *Model) dialogLoaded(msg dialogMsg) tea.Cmd {
	if m.dialog == nil || msg.d != m.dialog {
		return nil
	}
	return m.dialog.Loaded(m, msg)
}

// canChange says whether the console offers changes at all, and why not: read-only mode,
// or an identity the API server lets do nothing. access, when set, is the permission the
// change needs (Access's name, e.g. deployments/patch).
func (m *Model) canChange(what, access string) (bool, string) {
	if m.actions == nil || m.snap == nil {
		return false, what + " is not available here"
	}
	if r, ro := readOnlyReason(m.opts, m.snap); ro {
		switch {
		case r != "":
		case m.opts.ReadOnly:
			r = "read-only mode"
		default:
			r = "no RBAC rights" // the live model found this identity may change nothing
		}
		return false, "read-only (" + r + "): the console offers no " + what
	}
	if access != "" && !m.snap.Access.Can(access) {
		id := m.snap.Identity
		if id == "" {
			id = "this identity"
		}
		return false, id + " may not " + what + " (RBAC: " + access + ")"
	}
	return true, ""
}
