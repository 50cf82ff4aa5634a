package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/apimctl/apimctl/ops/model"
)

// alertsView lists Prometheus's firing and pending alerts, firing and most severe first;
// enter opens the resource an alert names (a pod, a Cassandra node, an HPA, a group's
// traffic).
type alertsView struct {
	c      *common
	snap   *model.Snapshot
	tbl    *table
	alerts []model.Alert // in the table's row order
	width  int
	height int
}

func newAlertsView(c *common) *alertsView {
	cols := []column{
		{title: "STATE", min: 9},
		{title: "ALERT", min: 10, max: 32},
		{title: "SUBJECT", min: 10, max: 36, flex: true, prio: 5},
		{title: "SINCE", age: true, right: true, prio: 6},
		{title: "SUMMARY", min: 10, flex: true, prio: 3},
	}
	return &alertsView{c: c, tbl: newTable(c, cols, "no alert is firing or pending")}
}

func (v *alertsView) Name() string { return "alerts" }

// alertTone is how an alert is drawn.
func alertTone(a model.Alert) tone { return severityTone(model.AlertTone(a)) }

// alertState is "✗ firing" / "· pending", with the severity when it has one.
func alertState(a model.Alert) string {
	s := alertTone(a).symbol() + " " + a.State
	if a.Severity != "" {
		s += " " + a.Severity
	}
	return s
}

func (v *alertsView) SetSnapshot(s *model.Snapshot) {
	v.snap = s
	v.alerts = s.Alerts
	rows := make([]row, len(s.Alerts))
	for i, a := range s.Alerts {
		subject := a.Subject
		if subject == "" {
			subject = "-"
		}
		rows[i] = row{
			id: a.Name + "\x00" + a.Subject + "\x00" + fmt.Sprint(i),
			cells: []cell{
				{text: alertState(a), tone: alertTone(a)},
				{text: a.Name},
				{text: subject},
				{},
				{text: a.Summary, tone: toneMuted},
			},
			time: a.Since,
			key:  strings.ToLower(a.State + " " + a.Severity + " " + a.Name + " " + a.Subject + " " + a.Summary),
		}
	}
	v.tbl.SetRows(rows)
	v.layout()
}

func (v *alertsView) Refresh() {}

func (v *alertsView) layout() {
	v.tbl.SetSize(v.width, max(v.height-titleLines(v.snap, model.SourcePrometheus), 2))
}

func (v *alertsView) SetSize(w, h int) {
	v.width, v.height = w, h
	v.layout()
}

func (v *alertsView) SetFilter(f string) { v.tbl.SetFilter(f) }
func (v *alertsView) Filter() string     { return v.tbl.Filter() }

func (v *alertsView) Update(msg tea.KeyPressMsg) tea.Cmd { v.tbl.Update(msg); return nil }

// Selected is the resource the chosen alert names (false when it names none).
func (v *alertsView) Selected() (model.Ref, bool) {
	i, ok := v.tbl.SelectedIndex()
	if !ok || i >= len(v.alerts) || v.alerts[i].Ref == nil {
		return model.Ref{}, false
	}
	return *v.alerts[i].Ref, true
}

// alertCounts is "2 firing · 1 pending".
func alertCounts(st *Styles, as []model.Alert) string {
	firing := 0
	for _, a := range as {
		if a.State == model.AlertFiring {
			firing++
		}
	}
	var parts []string
	if firing > 0 {
		parts = append(parts, st.Bad.Render(fmt.Sprintf("%d firing", firing)))
	}
	if p := len(as) - firing; p > 0 {
		parts = append(parts, st.Muted.Render(fmt.Sprintf("%d pending", p)))
	}
	if len(parts) == 0 {
		return st.Muted.Render("none")
	}
	return strings.Join(parts, st.Muted.Render(" · "))
}

func (v *alertsView) View() string {
	st := &v.c.styles
	extra := ""
	if v.snap != nil {
		extra = alertCounts(st, v.snap.Alerts)
	}
	if f := v.tbl.Filter(); f != "" {
		shown, total := v.tbl.Counts()
		extra += " · " + st.Prompt.Render("/"+f) + st.Muted.Render(fmt.Sprintf(" %d of %d", shown, total))
	}
	return viewTitle(v.c, v.width, "Alerts", extra, v.snap, model.SourcePrometheus) + "\n" + v.tbl.View()
}

// alertOpen opens what an alert names.
var alertOpen = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open subject"))

func (v *alertsView) ShortHelp() []key.Binding {
	return listHelp(v.c.keys, []key.Binding{alertOpen}).ShortHelp()
}
func (v *alertsView) FullHelp() [][]key.Binding {
	return listHelp(v.c.keys, []key.Binding{alertOpen}, alertOpen).FullHelp()
}
