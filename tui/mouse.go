package tui

import (
	tea "charm.land/bubbletea/v2"
	"github.com/apimctl/apimctl/ops/model"
)

// Mouse: the wheel scrolls what is shown (as ↑/↓ do), a click on the views' line switches
// view, a click on a list's row selects it (a second click on the selected row opens it, as
// enter does).

// clickable is a view with a list that a click can select in; y is the line of the view's
// body.
type clickable interface {
	Click(y int) (selected, again bool)
}

func (m *Model) mouse(msg tea.MouseMsg) tea.Cmd {
	if m.prompt != promptNone || m.dialog != nil || m.shownJob() != nil {
		return nil
	}
	ev := msg.Mouse()
	switch msg := msg.(type) {
	case tea.MouseWheelMsg:
		k := tea.KeyPressMsg{Code: tea.KeyDown}
		if msg.Button == tea.MouseWheelUp {
			k = tea.KeyPressMsg{Code: tea.KeyUp}
		}
		if m.snap == nil {
			return nil
		}
		return m.body().Update(k)
	case tea.MouseClickMsg:
		if msg.Button != tea.MouseLeft {
			return nil
		}
		switch {
		case ev.Y == 1 && len(m.stack) == 0:
			if i, ok := m.tabAt(ev.X); ok {
				m.switchTo(i)
			}
		case ev.Y >= headerLines && m.snap != nil:
			if c, ok := m.body().(clickable); ok {
				if selected, again := c.Click(ev.Y - headerLines); selected && again {
					return m.drill()
				}
			}
		}
	}
	return nil
}

// tabAt is the view whose tab is drawn at column x of the views' line.
func (m *Model) tabAt(x int) (int, bool) {
	pos := 1 // the line starts with a space
	for i, l := range m.tabLabels() {
		w := width(l)
		if x >= pos && x < pos+w {
			return i, true
		}
		pos += w + 1
	}
	return 0, false
}

// clickTable is Click for a view whose table follows top lines of title.
func clickTable(t *table, y, top int) (selected, again bool) {
	before, had := t.SelectedIndex()
	if !t.ClickRow(y - top) {
		return false, false
	}
	after, _ := t.SelectedIndex()
	return true, had && before == after
}

func (v *podsView) Click(y int) (bool, bool) {
	return clickTable(v.tbl, y, titleLines(v.snap, model.SourceKube))
}

func (v *eventsView) Click(y int) (bool, bool) {
	return clickTable(v.tbl, y, titleLines(v.snap, model.SourceKube))
}

func (v *findingsView) Click(y int) (bool, bool) { return clickTable(v.tbl, y, 1) }

func (v *alertsView) Click(y int) (bool, bool) {
	return clickTable(v.tbl, y, titleLines(v.snap, model.SourcePrometheus))
}
