package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/apimctl/apimctl/ops/model"
)

// The dashboard's alerts panel: Prometheus's firing and pending alerts, the chosen one marked;
// j/k choose, enter opens what it names.

func (v *dashboardView) alertsPanel(w int) *panel {
	st := &v.c.styles
	p := &panel{c: v.c, w: w, title: "Alerts", src: v.source(model.SourcePrometheus), more: ":alerts"}
	as := v.snap.Alerts
	switch {
	case !p.src.Synced:
		p.lines = []string{st.Muted.Render("no answer from Prometheus yet")}
		return p
	case len(as) == 0:
		p.lines = []string{st.status(toneOK, "no alert firing or pending")}
		return p
	}
	p.extra = alertCounts(st, as)
	v.alertSel = min(v.alertSel, len(as)-1)
	for i, a := range as {
		t := alertTone(a)
		mark := "  "
		if v.onAlerts && i == v.alertSel {
			mark = "▸ "
		}
		subject := ""
		if a.Subject != "" {
			subject = " " + a.Subject
		}
		p.lines = append(p.lines, mark+st.paint(t, t.symbol()+" "+a.Name)+subject+st.Muted.Render("  "+a.Summary))
	}
	return p
}

// updateAlerts moves the alert cursor; it reports whether the key was one.
func (v *dashboardView) updateAlerts(msg tea.KeyPressMsg) bool {
	if v.snap == nil || len(v.snap.Alerts) == 0 {
		return false
	}
	k := v.c.keys
	switch {
	case key.Matches(msg, k.Up):
		v.alertSel = max(v.alertSel-1, 0)
	case key.Matches(msg, k.Down):
		v.alertSel = min(v.alertSel+1, len(v.snap.Alerts)-1)
	default:
		return false
	}
	v.rebuild()
	return true
}

// selectedAlert is what the chosen alert names.
func (v *dashboardView) selectedAlert() (model.Ref, bool) {
	if v.snap == nil || v.alertSel >= len(v.snap.Alerts) || v.snap.Alerts[v.alertSel].Ref == nil {
		return model.Ref{}, false
	}
	return *v.snap.Alerts[v.alertSel].Ref, true
}
