package tui

import (
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
