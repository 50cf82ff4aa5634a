package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/apimctl/apimctl/ops/model"
)

// topoCursor is the dashboard's selection among the topology panel's workload rows: j/k move
// it, enter opens the Deployment (and its HPA). It holds the selected workload's name, so the
// selection stays on it as snapshots come.
type topoCursor struct {
	rows []topoRow // the drillable rows of the last layout, top to bottom
	sel  string    // the selected workload
}

// topoRow is a panel line that opens a workload.
type topoRow struct {
	line int
	ref  model.Ref
}

// topoRow records that panel line opens the workload (a Deployment; other kinds open
// nothing yet).
func (v *dashboardView) topoRow(line int, wl *model.Workload) {
	if wl == nil || wl.Kind != "Deployment" {
		return
	}
	v.topo.rows = append(v.topo.rows, topoRow{line, model.Ref{Kind: model.RefDeployment, Namespace: wl.Namespace, Name: wl.Name}})
}

// selected is the index of the selected row (-1 when there is none).
func (c *topoCursor) selected() int {
	for i, r := range c.rows {
		if r.ref.Name == c.sel {
			return i
		}
	}
	if len(c.rows) > 0 {
		return 0
	}
	return -1
}

// markTopo puts the cursor in the panel's margin: "▸ " before the selected row.
func (v *dashboardView) markTopo(lines []string) []string {
	at := -1
	if i := v.topo.selected(); i >= 0 && !v.onAlerts {
		at = v.topo.rows[i].line
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		if i == at {
			out[i] = v.c.styles.Prompt.Render("▸") + " " + l
		} else {
			out[i] = "  " + l
		}
	}
	return out
}

// moveTopo moves the selection on j/k.
func (v *dashboardView) moveTopo(msg tea.KeyPressMsg) tea.Cmd {
	k := v.c.keys
	i := v.topo.selected()
	if i < 0 {
		return nil
	}
	switch {
	case key.Matches(msg, k.Up):
		i = max(i-1, 0)
	case key.Matches(msg, k.Down):
		i = min(i+1, len(v.topo.rows)-1)
	case key.Matches(msg, k.Top):
		i = 0
	case key.Matches(msg, k.Bottom):
		i = len(v.topo.rows) - 1
	default:
		return nil
	}
	v.topo.sel = v.topo.rows[i].ref.Name
	v.rebuild()
	return nil
}
