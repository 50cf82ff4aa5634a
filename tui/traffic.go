package tui

import (
	"fmt"
	"strings"

	"github.com/apimctl/apimctl/ops/model"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// trafficView shows the gateways' traffic per group, then per API in a filterable list.
type trafficView struct {
	c      *common
	snap   *model.Snapshot
	groups []string // per-group lines, built with the width
	tbl    *table
	width  int
	height int
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
		for i := range tr.Groups {
			v.groups = append(v.groups, "  "+groupTrafficLine(st, &tr.Groups[i], nameW, n))
		}
	}
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

func (v *trafficView) Update(msg tea.KeyPressMsg) tea.Cmd { v.tbl.Update(msg); return nil }

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

func (v *trafficView) ShortHelp() []key.Binding  { return listHelp(v.c.keys, nil).ShortHelp() }
func (v *trafficView) FullHelp() [][]key.Binding { return listHelp(v.c.keys, nil).FullHelp() }
