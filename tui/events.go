package tui

import (
	"fmt"
	"sort"
	"strings"

	"github.com/apimctl/apimctl/ops/model"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// eventsView lists the namespace's events, warnings first (or all by time, with "s").
type eventsView struct {
	c        *common
	snap     *model.Snapshot
	tbl      *table
	events   []model.EventInfo // sorted, parallel to the table's rows
	byTime   bool
	warnings int
	width    int
	height   int
}

// eventDetailLines is how many lines the selected event's full message gets.
const eventDetailLines = 2

func newEventsView(c *common) *eventsView {
	cols := []column{
		{title: "AGE", age: true, right: true},
		{title: "TYPE", min: 6},
		{title: "REASON", min: 8, max: 24, prio: 5},
		{title: "OBJECT", min: 14, max: 48, flex: true, prio: 4},
		{title: "COUNT", right: true, prio: 2},
		{title: "MESSAGE", min: 16, flex: true},
	}
	return &eventsView{c: c, tbl: newTable(c, cols, "no events")}
}

func (v *eventsView) Name() string { return "events" }

func (v *eventsView) SetSnapshot(s *model.Snapshot) {
	v.snap = s
	v.rebuild()
	v.SetSize(v.width, v.height)
}

func (v *eventsView) Refresh() {}

func (v *eventsView) rebuild() {
	if v.snap == nil {
		return
	}
	v.events = append(v.events[:0], v.snap.Events...)
	byTime := v.byTime
	sort.SliceStable(v.events, func(i, j int) bool {
		a, b := v.events[i], v.events[j]
		if !byTime && (a.Type == "Warning") != (b.Type == "Warning") {
			return a.Type == "Warning"
		}
		return a.Time.After(b.Time)
	})
	rows := make([]row, len(v.events))
	v.warnings = 0
	for i, e := range v.events {
		typ, t := "· "+e.Type, toneMuted
		if e.Type == "Warning" {
			typ, t = "! Warning", toneWarn
			v.warnings++
		}
		count := ""
		if e.Count > 1 {
			count = fmt.Sprintf("×%d", e.Count)
		}
		rows[i] = row{
			id:    fmt.Sprintf("%s/%s/%s/%d", e.Object, e.Reason, e.Type, e.Time.UnixNano()),
			cells: []cell{{}, {text: typ, tone: t}, {text: e.Reason}, {text: shortKind(e.Object)}, {text: count}, {text: e.Message}},
			time:  e.Time,
			key:   strings.ToLower(e.Type + " " + e.Reason + " " + e.Object + " " + e.Message),
		}
	}
	v.tbl.SetRows(rows)
}

func (v *eventsView) SetFilter(f string) { v.tbl.SetFilter(f) }
func (v *eventsView) Filter() string     { return v.tbl.Filter() }

func (v *eventsView) SetSize(w, h int) {
	v.width, v.height = w, h
	v.tbl.SetSize(w, max(h-titleLines(v.snap, model.SourceKube)-eventDetailLines, 1))
}

func (v *eventsView) Update(msg tea.KeyPressMsg) tea.Cmd {
	if key.Matches(msg, v.c.keys.Sort) {
		v.byTime = !v.byTime
		v.rebuild()
		return nil
	}
	v.tbl.Update(msg)
	return nil
}

func (v *eventsView) View() string {
	st := &v.c.styles
	shown, total := v.tbl.Counts()
	t := toneOK
	if v.warnings > 0 {
		t = toneWarn
	}
	extra := st.status(t, fmt.Sprintf("%d warnings", v.warnings)) + st.Muted.Render(fmt.Sprintf(" of %d", total))
	if v.byTime {
		extra += st.Muted.Render(" · by time (s)")
	} else {
		extra += st.Muted.Render(" · warnings first (s)")
	}
	if f := v.tbl.Filter(); f != "" {
		extra += " · " + st.Prompt.Render("/"+f) + st.Muted.Render(fmt.Sprintf(" %d of %d", shown, total))
	}
	out := viewTitle(v.c, v.width, "Events", extra, v.snap, model.SourceKube) + "\n" + v.tbl.View()
	var detail []string
	if i, ok := v.tbl.SelectedIndex(); ok {
		e := v.events[i]
		detail = wrap(e.Object+": "+e.Message, v.width-2)
		for j := range detail {
			detail[j] = "  " + st.Muted.Render(detail[j])
		}
	}
	return out + "\n" + padLines(detail, v.width, eventDetailLines)
}

func (v *eventsView) ShortHelp() []key.Binding {
	return listHelp(v.c.keys, []key.Binding{v.c.keys.Sort}, v.c.keys.Sort).ShortHelp()
}

func (v *eventsView) FullHelp() [][]key.Binding {
	return listHelp(v.c.keys, []key.Binding{v.c.keys.Sort}, v.c.keys.Sort).FullHelp()
}

// shortKind abbreviates an object's kind the way kubectl does: "HorizontalPodAutoscaler/x" is
// "hpa/x", leaving room for the name.
func shortKind(obj string) string {
	kind, name, ok := strings.Cut(obj, "/")
	if !ok {
		return obj
	}
	switch strings.ToLower(kind) {
	case "horizontalpodautoscaler":
		kind = "hpa"
	case "deployment":
		kind = "deploy"
	case "replicaset":
		kind = "rs"
	case "statefulset":
		kind = "sts"
	case "pod":
		kind = "pod"
	case "service":
		kind = "svc"
	case "ingress":
		kind = "ing"
	case "node":
		kind = "node"
	}
	return kind + "/" + name
}
