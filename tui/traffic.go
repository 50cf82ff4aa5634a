package tui

import (
	"fmt"
	"strings"

	"github.com/apimctl/apimctl/ops/model"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// trafficView shows the gateways' traffic per group, then per API in a filterable list.
type trafficView struct {
	c      *common
	snap   *model.Snapshot
	groups []string // per-group lines, built with the width
	tbl    *table
	width  int
	height int
	// onGroups is set while the cursor is on the group lines (gsel), above the API table.
	onGroups bool
	gsel     int
}

// sparkCells is how many samples a sparkline cell of the APIs list draws.
const sparkCells = 10

func newTrafficView(c *common) *trafficView {
	cols := []column{
		{title: "GROUP", min: 5, max: 20, prio: 2},
		{title: "API", min: 10, flex: true},
		{title: "REQ/S", right: true},
		{title: "TREND", prio: 5},
		{title: "P90", right: true, prio: 8},
		{title: "TREND", prio: 4},
		{title: "5XX", right: true, prio: 9},
		{title: "TREND", prio: 3},
	}
	return &trafficView{c: c, tbl: newTable(c, cols, "no per-API series")}
}

func (v *trafficView) Name() string { return "traffic" }

// errTone judges a 5xx ratio.
func errTone(r float64) tone {
	switch {
	case r >= 0.05:
		return toneBad
	case r >= 0.01:
		return toneWarn
	}
	return toneOK
}

func (v *trafficView) SetSnapshot(s *model.Snapshot) {
	v.snap = s
	rows := make([]row, len(s.Traffic.APIs))
	for i, a := range s.Traffic.APIs {
		rows[i] = row{
			id: a.Group + "\x00" + a.API,
			cells: []cell{
				{text: a.Group, tone: toneMuted},
				{text: a.API},
				{text: fmtRate(a.RPS)},
				{text: sparkline(a.RPSHistory, sparkCells), tone: toneMuted},
				{text: fmtMillis(a.P90Seconds)},
				{text: sparkline(a.P90History, sparkCells), tone: toneMuted},
				{text: fmtPercent(a.ErrorRatio), tone: errTone(a.ErrorRatio)},
				{text: sparkline(a.ErrHistory, sparkCells), tone: toneMuted},
			},
			key: strings.ToLower(a.Group + " " + a.API),
		}
	}
	v.tbl.SetRows(rows)
	v.rebuild()
}

func (v *trafficView) Refresh() {}

// groupTrafficLine is one group's traffic summary with sparklines of n samples.
func groupTrafficLine(st *Styles, g *model.TrafficSeries, nameW, n int) string {
	et := errTone(g.ErrorRatio)
	return fit(g.Group, nameW) + "  " +
		fitRight(fmtRate(g.RPS), 7) + st.Muted.Render(" req/s ") + sparkline(g.RPSHistory, n) + "  " +
		st.Label.Render("p90 ") + fitRight(fmtMillis(g.P90Seconds), 8) + " " + sparkline(g.P90History, n) + "  " +
		st.Label.Render("5xx ") + st.paint(et, fitRight(fmtPercent(g.ErrorRatio), 6)) + " " + st.paint(et, sparkline(g.ErrHistory, n))
}

// sparkWidth picks how many samples a group line's sparklines draw for a width.
func sparkWidth(w int) int {
	switch {
	case w >= 150:
		return 24
	case w >= 110:
		return 16
	case w >= 90:
		return 10
	}
	return 6
}

func (v *trafficView) rebuild() {
	if v.snap == nil || v.width == 0 {
		return
	}
	st := &v.c.styles
	tr := &v.snap.Traffic
	v.groups = v.groups[:0]
	switch {
	case !v.snap.Source(model.SourcePrometheus).Synced:
		v.groups = append(v.groups, "  "+st.Muted.Render("no answer from Prometheus yet"))
	case tr.NoData || len(tr.Groups) == 0:
		v.groups = append(v.groups, "  "+st.status(toneMuted, "no data yet")+st.Muted.Render(" — Prometheus answers but has no gateway series; is traffic flowing and are the gateways scraped?"))
	default:
		nameW := 5
		for _, g := range tr.Groups {
			nameW = max(nameW, width(g.Group))
		}
		nameW = min(nameW, 16)
		n := sparkWidth(v.width)
		v.gsel = min(v.gsel, len(tr.Groups)-1)
		for i := range tr.Groups {
			line := "  " + groupTrafficLine(st, &tr.Groups[i], nameW, n)
			if v.onGroups && i == v.gsel {
				line = st.Selected.Render(fit("▸ "+ansi.Strip(line)[2:], v.width))
			}
			v.groups = append(v.groups, line)
		}
	}
	v.tbl.blurred = v.onGroups
	for i := range v.groups {
		v.groups[i] = truncate(v.groups[i], v.width)
	}
	// Title, group heading, group lines, API heading; the table gets the rest.
	v.tbl.SetSize(v.width, max(v.height-2-titleLines(v.snap, model.SourcePrometheus)-len(v.groups), 2))
}

func (v *trafficView) SetFilter(f string) { v.tbl.SetFilter(f) }
func (v *trafficView) Filter() string     { return v.tbl.Filter() }

func (v *trafficView) SetSize(w, h int) {
	v.width, v.height = w, h
	v.rebuild()
}

// Update moves the cursor over the group lines and the API rows: up from the first API goes
// to the groups, down from the last group back to the APIs.
func (v *trafficView) Update(msg tea.KeyPressMsg) tea.Cmd {
	k := v.c.keys
	groups := 0
	if v.snap != nil {
		groups = len(v.snap.Traffic.Groups)
	}
	switch {
	case v.onGroups && key.Matches(msg, k.Up):
		v.gsel = max(v.gsel-1, 0)
	case v.onGroups && key.Matches(msg, k.Down):
		if v.gsel++; v.gsel >= groups {
			v.onGroups, v.gsel = false, max(groups-1, 0)
		}
	case !v.onGroups && groups > 0 && key.Matches(msg, k.Up) && v.tbl.cursor == 0:
		v.onGroups, v.gsel = true, groups-1
	case v.onGroups:
		return nil
	default:
		v.tbl.Update(msg)
		return nil
	}
	v.rebuild()
	return nil
}

// Selected is the group or API under the cursor.
func (v *trafficView) Selected() (model.Ref, bool) {
	if v.snap == nil {
		return model.Ref{}, false
	}
	if v.onGroups {
		if v.gsel < len(v.snap.Traffic.Groups) {
			g := v.snap.Traffic.Groups[v.gsel].Group
			return model.Ref{Kind: model.RefTraffic, Name: g, Group: g}, true
		}
		return model.Ref{}, false
	}
	i, ok := v.tbl.SelectedIndex()
	if !ok || i >= len(v.snap.Traffic.APIs) {
		return model.Ref{}, false
	}
	a := v.snap.Traffic.APIs[i]
	return model.Ref{Kind: model.RefTraffic, Name: a.Group + "/" + a.API, Group: a.Group, API: a.API}, true
}

func (v *trafficView) View() string {
	st := &v.c.styles
	shown, total := v.tbl.Counts()
	extra := st.Muted.Render(fmt.Sprintf("%d APIs", total))
	if f := v.tbl.Filter(); f != "" {
		extra += " · " + st.Prompt.Render("/"+f) + st.Muted.Render(fmt.Sprintf(" %d of %d", shown, total))
	}
	lines := []string{
		viewTitle(v.c, v.width, "Traffic", extra, v.snap, model.SourcePrometheus),
		st.PanelTitle.Render("per group"),
	}
	lines = append(lines, v.groups...)
	lines = append(lines, st.PanelTitle.Render("per API"))
	out := strings.Join(lines, "\n") + "\n" + v.tbl.View()
	// Pad to the body height when the table is short of it.
	if n := strings.Count(out, "\n") + 1; n < v.height {
		out += strings.Repeat("\n", v.height-n)
	}
	return out
}

func (v *trafficView) ShortHelp() []key.Binding {
	return listHelp(v.c.keys, []key.Binding{trafficOpen}).ShortHelp()
}
func (v *trafficView) FullHelp() [][]key.Binding {
	return listHelp(v.c.keys, []key.Binding{trafficOpen}, trafficOpen).FullHelp()
}

// trafficOpen opens a group's or an API's 15 minutes.
var trafficOpen = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "15 min"))
