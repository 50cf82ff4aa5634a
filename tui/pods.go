package tui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apimctl/apimctl/ops/model"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// allGroups is the pods view's pseudo-group that lists every pod in the namespace.
const allGroups = "all"

// podsView lists the pods of one gateway group (or all of them).
type podsView struct {
	c      *common
	snap   *model.Snapshot
	groups []string // allGroups, then the gateway groups by name
	group  string
	tbl    *table
	pods   []*model.PodState // parallel to the table's rows
	ready  int
	width  int
	height int
}

func newPodsView(c *common) *podsView {
	cols := []column{
		{title: "NAME", min: 20, flex: true, middle: true},
		{title: "READY", min: 7},
		{title: "STATUS", min: 8, max: 24, prio: 9},
		{title: "RESTARTS", min: 3, right: true, prio: 6},
		{title: "AGE", age: true, right: true, prio: 7},
		{title: "NODE", min: 6, max: 28, prio: 5},
		{title: "ZONE", min: 4, max: 18, prio: 4},
		{title: "TAG", min: 4, max: 24, prio: 3},
		{title: "WORKLOAD", min: 6, max: 32, prio: 2},
	}
	return &podsView{c: c, tbl: newTable(c, cols, "no pods in this group"), group: allGroups}
}

func (v *podsView) Name() string { return "pods" }

func (v *podsView) SetSnapshot(s *model.Snapshot) {
	v.snap = s
	v.groups = []string{allGroups}
	for _, g := range s.Topology.Groups {
		v.groups = append(v.groups, g.Name)
	}
	if !v.hasGroup(v.group) {
		v.group = allGroups
	}
	v.rebuild()
	v.SetSize(v.width, v.height)
}

func (v *podsView) hasGroup(name string) bool {
	for _, g := range v.groups {
		if g == name {
			return true
		}
	}
	return false
}

// SelectGroup shows the pods of the named group; it reports whether the group exists.
func (v *podsView) SelectGroup(name string) bool {
	if !v.hasGroup(name) {
		return false
	}
	if v.group != name {
		v.group = name
		v.rebuild()
	}
	return true
}

func (v *podsView) Refresh() {} // ages are computed as rows are drawn

// workloads returns the workloads of the selected group.
func (v *podsView) workloads() []model.Workload {
	t := v.snap.Topology
	var out []model.Workload
	for _, g := range t.Groups {
		if v.group == allGroups || v.group == g.Name {
			out = append(out, g.Traffic...)
			out = append(out, g.APIManager...)
		}
	}
	if v.group == allGroups {
		out = append(append(t.ANM, out...), t.Unclassified...)
	}
	return out
}

// rebuild turns the selected group's pods into rows: the one pass over all pods, done when a
// snapshot arrives or the group changes, never per frame.
func (v *podsView) rebuild() {
	if v.snap == nil {
		return
	}
	wls := v.workloads()
	n := 0
	for i := range wls {
		n += len(wls[i].Pods)
	}
	rows := make([]row, 0, n)
	cells := make([]cell, 0, n*len(v.tbl.cols))
	v.pods = make([]*model.PodState, 0, n)
	v.ready = 0
	for i := range wls {
		wl := &wls[i]
		for j := range wl.Pods {
			p := &wl.Pods[j]
			if p.Ready {
				v.ready++
			}
			status, st := podStatus(p)
			ready, rt := "✗ unready", toneBad
			if p.Ready {
				ready, rt = "✓ ready", toneOK
			}
			restarts := strconv.Itoa(int(p.Restarts))
			rst := toneNone
			if p.Restarts > 0 {
				rst = toneWarn
			}
			start := len(cells)
			cells = append(cells,
				cell{text: p.Name},
				cell{text: ready, tone: rt},
				cell{text: status, tone: st},
				cell{text: restarts, tone: rst},
				cell{}, // age, drawn from the row's time
				cell{text: p.Node},
				cell{text: p.Zone},
				cell{text: p.Tag},
				cell{text: wl.Name, tone: toneMuted},
			)
			rows = append(rows, row{
				id:    p.Name,
				cells: cells[start:len(cells):len(cells)],
				time:  p.Created,
				key:   strings.ToLower(p.Name + " " + ready + " " + status + " " + p.Node + " " + p.Zone + " " + p.Tag + " " + wl.Name),
			})
			v.pods = append(v.pods, p)
		}
	}
	v.tbl.SetRows(rows)
}

// podStatus is what the STATUS column says: the reason when there is one, else the phase.
func podStatus(p *model.PodState) (string, tone) {
	switch {
	case p.Terminating:
		return "↻ Terminating", toneBusy
	case p.Reason != "":
		switch p.Reason {
		case "ContainerCreating", "PodInitializing":
			return "↻ " + p.Reason, toneBusy
		}
		return "✗ " + p.Reason, toneBad
	}
	switch p.Phase {
	case "Running":
		if p.Ready {
			return p.Phase, toneNone
		}
		return "! Running", toneWarn
	case "Pending":
		return "! Pending", toneWarn
	case "Failed", "Unknown":
		return "✗ " + p.Phase, toneBad
	case "Succeeded":
		return p.Phase, toneMuted
	}
	return p.Phase, toneNone
}

func (v *podsView) SetFilter(f string) { v.tbl.SetFilter(f) }
func (v *podsView) Filter() string     { return v.tbl.Filter() }

func (v *podsView) SetSize(w, h int) {
	v.width, v.height = w, h
	// Title (and error banner) and the selected-pod line around the table.
	v.tbl.SetSize(w, max(h-1-titleLines(v.snap, model.SourceKube), 1))
}

func (v *podsView) Update(msg tea.KeyPressMsg) tea.Cmd {
	k := v.c.keys
	switch {
	case key.Matches(msg, k.PrevGroup), key.Matches(msg, k.NextGroup):
		if len(v.groups) == 0 {
			return nil
		}
		i := 0
		for j, g := range v.groups {
			if g == v.group {
				i = j
			}
		}
		if key.Matches(msg, k.NextGroup) {
			i = (i + 1) % len(v.groups)
		} else {
			i = (i - 1 + len(v.groups)) % len(v.groups)
		}
		v.group = v.groups[i]
		v.rebuild()
		return nil
	}
	v.tbl.Update(msg)
	return nil
}

func (v *podsView) View() string {
	st := &v.c.styles
	shown, total := v.tbl.Counts()
	extra := "group " + st.HeaderVal.Render(v.group)
	if len(v.groups) > 1 {
		extra += st.Muted.Render(fmt.Sprintf(" (%d/%d [ ])", v.groupIndex()+1, len(v.groups)))
	}
	t := toneOK
	if v.ready < total {
		t = toneWarn
	}
	extra += " · " + st.status(t, fmt.Sprintf("%d/%d ready", v.ready, total))
	if f := v.tbl.Filter(); f != "" {
		extra += " · " + st.Prompt.Render("/"+f) + st.Muted.Render(fmt.Sprintf(" %d of %d", shown, total))
	}
	out := viewTitle(v.c, v.width, "Pods", extra, v.snap, model.SourceKube) + "\n" + v.tbl.View() + "\n"
	if i, ok := v.tbl.SelectedIndex(); ok {
		p := v.pods[i]
		detail := fmt.Sprintf("▸ %s · ip %s · node %s · zone %s · image %s", p.Name, orDash(p.IP), orDash(p.Node), orDash(p.Zone), orDash(p.Image))
		if p.Reason != "" {
			detail += " · " + p.Reason
		}
		out += truncate(st.Muted.Render(detail), v.width)
	}
	return out
}

func (v *podsView) groupIndex() int {
	for i, g := range v.groups {
		if g == v.group {
			return i
		}
	}
	return 0
}

func (v *podsView) ShortHelp() []key.Binding {
	k := v.c.keys
	return listHelp(k, []key.Binding{k.Group}, k.PrevGroup, k.NextGroup).ShortHelp()
}

func (v *podsView) FullHelp() [][]key.Binding {
	k := v.c.keys
	return listHelp(k, []key.Binding{k.Group}, k.PrevGroup, k.NextGroup).FullHelp()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
