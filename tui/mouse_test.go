package tui

import (
	"testing"

	tea "charm.land/bubbletea/v2"
)

// The mouse: a click on a tab switches view, the wheel moves the selection, a click on a row
// selects it and a second click opens it (here: no inspector, so the console says so).
func TestMouse(t *testing.T) {
	snap := healthySnapshot()
	m := drive(t, 160, 40, &snap, Options{})
	x := 1
	for i, l := range m.tabLabels() {
		if i == 1 {
			break
		}
		x += width(l) + 1
	}
	send(m, tea.MouseClickMsg{X: x + 1, Y: 1, Button: tea.MouseLeft})
	if viewNames[m.active] != "pods" {
		t.Fatalf("a click on the pods tab shows %s", viewNames[m.active])
	}
	pv := m.screens[m.active].(*podsView)
	first, _ := pv.tbl.SelectedIndex()
	send(m, tea.MouseWheelMsg{X: 10, Y: 10, Button: tea.MouseWheelDown})
	if i, _ := pv.tbl.SelectedIndex(); i == first {
		t.Error("the wheel did not move the selection")
	}
	// Title line, heading, then rows: body line 4 is the third row.
	send(m, tea.MouseClickMsg{X: 10, Y: headerLines + 4, Button: tea.MouseLeft})
	if i, _ := pv.tbl.SelectedIndex(); i != pv.tbl.shown[2] {
		t.Errorf("a click on the third row selected %d", i)
	}
	send(m, tea.MouseClickMsg{X: 10, Y: headerLines + 4, Button: tea.MouseLeft})
	if _, ok := m.body().(drillable); ok && m.message == "" && len(m.stack) == 0 {
		t.Error("a second click on the selected row did not try to open it")
	}
}
