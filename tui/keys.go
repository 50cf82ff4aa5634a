package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// KeyMap is every key binding of the console. Each view shows the subset it uses in the help
// bar (see the views' ShortHelp and FullHelp).
type KeyMap struct {
	// Global keys.
	Quit     key.Binding
	Help     key.Binding
	Filter   key.Binding
	Command  key.Binding
	Back     key.Binding
	NextView key.Binding
	PrevView key.Binding
	JumpView key.Binding // 1-9; shown once in help, matched by digit
	// Open drills into the selected row.
	Open key.Binding

	// Lists and pagers.
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Top      key.Binding
	Bottom   key.Binding

	// Pods: choose the gateway group.
	PrevGroup key.Binding
	NextGroup key.Binding

	// Short-help summaries of the pairs above, so the one-line help fits 80 columns.
	Move  key.Binding
	Group key.Binding

	// Events: warnings first, or by time.
	Sort key.Binding

	// Drill-downs: a pod's logs and its previous container's logs; in the log view,
	// follow, wrap, save, and the next and previous search match; read a detail again.
	Logs      key.Binding
	PrevLogs  key.Binding
	Follow    key.Binding
	Wrap      key.Binding
	Save      key.Binding
	NextMatch key.Binding
	PrevMatch key.Binding
	Reload    key.Binding
	Search    key.Binding // the log view's "/" (Filter's key), as its help names it

	// Actions: roll out a gateway group; answer the confirmation.
	Rollout key.Binding
	Backup  key.Binding
	Yes     key.Binding
	No      key.Binding
	// The action dialogs: a Deployment's history (undo, pause, resume, restart), the
	// backups (verify, prune, restore), a patch merge, the jobs; F starts the action a
	// finding offers.
	History key.Binding
	Backups key.Binding
	Patch   key.Binding
	Jobs    key.Binding
	Fix     key.Binding

	// Prompt (filter and command line).
	Accept   key.Binding
	Cancel   key.Binding
	Complete key.Binding
}

// DefaultKeyMap returns the console's key bindings.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Quit:     key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Help:     key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Filter:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Command:  key.NewBinding(key.WithKeys(":"), key.WithHelp(":", "view")),
		Back:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		NextView: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next view")),
		PrevView: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "prev view")),
		JumpView: key.NewBinding(key.WithKeys("1", "2", "3", "4", "5", "6", "7", "8", "9"), key.WithHelp("1-9", "view")),
		Open:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),

		Up:       key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+b", "ctrl+u"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+f", "ctrl+d", "space"), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "top")),
		Bottom:   key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "bottom")),

		PrevGroup: key.NewBinding(key.WithKeys("["), key.WithHelp("[", "prev group")),
		NextGroup: key.NewBinding(key.WithKeys("]"), key.WithHelp("]", "next group")),

		Move:  key.NewBinding(key.WithKeys("j", "k", "up", "down"), key.WithHelp("↑↓/jk", "move")),
		Group: key.NewBinding(key.WithKeys("[", "]"), key.WithHelp("[ ]", "group")),

		Sort: key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort")),

		Logs:      key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "logs")),
		PrevLogs:  key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "previous logs")),
		Follow:    key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "follow")),
		Wrap:      key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "wrap")),
		Save:      key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "save")),
		NextMatch: key.NewBinding(key.WithKeys("n"), key.WithHelp("n/N", "next/prev match")),
		PrevMatch: key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "previous match")),
		Reload:    key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "reload")),
		Search:    key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search")),

		Rollout: key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "roll out")),
		Backup:  key.NewBinding(key.WithKeys("B"), key.WithHelp("B", "back up")),
		Yes:     key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "roll out")),
		No:      key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "cancel")),
		History: key.NewBinding(key.WithKeys("H"), key.WithHelp("H", "history/undo")),
		Backups: key.NewBinding(key.WithKeys("V"), key.WithHelp("V", "backups")),
		Patch:   key.NewBinding(key.WithKeys("M"), key.WithHelp("M", "patch merge")),
		Jobs:    key.NewBinding(key.WithKeys("J"), key.WithHelp("J", "jobs")),
		Fix:     key.NewBinding(key.WithKeys("F"), key.WithHelp("F", "fix")),

		Accept:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply")),
		Cancel:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		Complete: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "complete")),
	}
}

// listKeys are the scrolling keys every list and pager shares.
func (k KeyMap) listKeys() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}
}

// scroll moves *pos for a list key: a line, a page, to the top (0) or to bottom; it reports
// whether msg was a list key. The caller clamps *pos afterwards.
func (k KeyMap) scroll(msg tea.KeyPressMsg, pos *int, page, bottom int) bool {
	switch {
	case key.Matches(msg, k.Up):
		*pos--
	case key.Matches(msg, k.Down):
		*pos++
	case key.Matches(msg, k.PageUp):
		*pos -= page
	case key.Matches(msg, k.PageDown):
		*pos += page
	case key.Matches(msg, k.Top):
		*pos = 0
	case key.Matches(msg, k.Bottom):
		*pos = bottom
	default:
		return false
	}
	return true
}

// step moves *sel over n items (n > 0) on the up and down keys, staying on the first and
// last; it reports whether msg was one of them.
func (k KeyMap) step(msg tea.KeyPressMsg, sel *int, n int) bool {
	switch {
	case key.Matches(msg, k.Up):
		*sel = max(*sel-1, 0)
	case key.Matches(msg, k.Down):
		*sel = min(*sel+1, n-1)
	default:
		return false
	}
	return true
}

// globalKeys are shown in every view's full help.
func (k KeyMap) globalKeys() []key.Binding {
	return []key.Binding{k.Command, k.JumpView, k.NextView, k.PrevView, k.Rollout, k.Backup, k.Back, k.Help, k.Quit}
}

// actionKeys open the action dialogs; the views' full help shows them as a column.
func (k KeyMap) actionKeys() []key.Binding {
	return []key.Binding{k.History, k.Backups, k.Patch, k.Jobs}
}

// keyHelp is a help.KeyMap made of fixed binding lists.
type keyHelp struct {
	short []key.Binding
	full  [][]key.Binding
}

func (h keyHelp) ShortHelp() []key.Binding  { return h.short }
func (h keyHelp) FullHelp() [][]key.Binding { return h.full }
