package tui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/apimctl/apimctl/internal/format"
	"github.com/apimctl/apimctl/ops/action"
	"github.com/apimctl/apimctl/ops/model"
)

// The dashboard's lower panels, which use the room a large terminal has: the pods and the
// events that need attention now, and the last actions from the audit log.

// recentEvents is how far back a warning event counts as needing attention.
const recentEvents = 15 * time.Minute

// attention is the pods that are not ready, restarting or stuck, and the recent warning
// events, the worst first.
func (v *dashboardView) attention(w int) *panel {
	st := &v.c.styles
	p := &panel{c: v.c, w: w, title: "Needs attention", src: v.source(model.SourceKube), more: ":pods · :events"}
	type item struct {
		rank int
		line string
	}
	var items []item
	visit := func(wl model.Workload) {
		for _, pod := range wl.Pods {
			switch {
			case pod.Terminating:
			case !pod.Ready && v.c.now.Sub(pod.Created) > startingGrace:
				why := pod.Reason
				if why == "" {
					why = "not ready"
				}
				items = append(items, item{3, st.status(toneBad, pod.Name) + " " + why + st.Muted.Render(" · "+format.Age(v.c.now.Sub(pod.Created))+" old, "+orDash(pod.Node))})
			case pod.Restarts > 0:
				items = append(items, item{2, st.status(toneWarn, pod.Name) + " " + format.Counted(int(pod.Restarts), "restart")})
			}
		}
	}
	for _, wl := range v.snap.Topology.ANM {
		visit(wl)
	}
	for _, g := range v.snap.Topology.Groups {
		for _, wl := range append(append([]model.Workload{}, g.APIManager...), g.Traffic...) {
			visit(wl)
		}
	}
	for _, e := range v.snap.Events {
		if e.Type != "Warning" || v.c.now.Sub(e.Time) > recentEvents {
			continue
		}
		n := ""
		if e.Count > 1 {
			n = fmt.Sprintf(" ×%d", e.Count)
		}
		items = append(items, item{1, st.status(toneWarn, e.Reason) + " " + e.Object + n + st.Muted.Render(" "+format.Age(v.c.now.Sub(e.Time))+" ago: "+oneLine(e.Message))})
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].rank > items[j].rank })
	for _, it := range items {
		p.lines = append(p.lines, it.line)
	}
	if len(items) == 0 {
		p.lines = []string{st.status(toneOK, "every pod ready, no warning event in the last 15 minutes")}
	}
	return p
}

// startingGrace is how young a pod that is not ready may be before it needs attention.
const startingGrace = 2 * time.Minute

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// recentActions is the last changes from the audit log, the newest first.
func (v *dashboardView) recentActions(w int) *panel {
	st := &v.c.styles
	p := &panel{c: v.c, w: w, title: "Last actions", more: "audit log"}
	for i := len(v.actions) - 1; i >= 0; i-- {
		r := v.actions[i]
		if r.Phase == action.PhaseIntent {
			continue
		}
		t, word := toneOK, r.Outcome
		switch r.Outcome {
		case action.OutcomeFailed, action.OutcomeRefused:
			t = toneBad
		case action.OutcomeDeclined, "rolled-back":
			t = toneWarn
		case "":
			t, word = toneMuted, r.Phase
		}
		if r.DryRun {
			word = "dry run"
		}
		who := r.User
		if r.KubeUser != "" {
			who += " as " + r.KubeUser
		}
		p.lines = append(p.lines, st.Muted.Render(format.Age(v.c.now.Sub(r.Time))+" ")+st.status(t, word)+" "+r.Action+" "+r.Target+
			st.Muted.Render(" · "+who+" · "+r.Via))
	}
	if len(p.lines) == 0 {
		p.lines = []string{st.Muted.Render("no action recorded yet")}
	}
	return p
}

// recentActionsEvery is how many seconds apart the audit log's last records are reread.
const recentActionsEvery = 5

// loadRecentActions reads the audit log's last records in a command.
func (m *Model) loadRecentActions() tea.Cmd {
	read := m.opts.RecentActions
	if read == nil {
		return nil
	}
	return func() tea.Msg {
		recs, err := read(40)
		if err != nil {
			return nil // the panel keeps what it showed; the log is not the console's to fix
		}
		return recentActionsMsg(recs)
	}
}
