package tui

import (
	"fmt"
	"sort"
	"strings"

	"github.com/apimctl/apimctl/ops/action"
	"github.com/apimctl/apimctl/ops/model"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// wideWidth is the width from which the dashboard lays panels out in two columns.
const wideWidth = 120

// dashboardView is the default view: every source's state on one screen, in panels that
// stack on a narrow terminal and stand side by side on a wide one.
type dashboardView struct {
	c    *common
	snap *model.Snapshot
	// worst maps a finding's subject ("deployment/traffic") to its most severe finding, so a
	// workload line can point at what the checks say about it.
	worst  map[string]model.Finding
	body   string // the laid-out panels, built in Update
	width  int
	height int
	// alertSel is the chosen alert of the alerts panel.
	alertSel int
	// actions are the last records of the audit log, oldest first.
	actions []action.Record
	topo    topoCursor // the selected topology row (enter opens it)
	// onAlerts: j/k and enter act on the alerts panel (the cursor went below the topology).
	onAlerts bool
}

// SetActions hands the dashboard the last records of the audit log.
func (v *dashboardView) SetActions(recs []action.Record) {
	v.actions = recs
	v.rebuild()
}

func newDashboardView(c *common) *dashboardView { return &dashboardView{c: c} }

func (v *dashboardView) Name() string { return "dashboard" }
func (v *dashboardView) SetSnapshot(s *model.Snapshot) {
	v.snap = s
	v.worst = map[string]model.Finding{}
	for _, f := range s.Findings {
		if cur, ok := v.worst[f.Subject]; !ok || f.Severity.Rank() > cur.Severity.Rank() {
			v.worst[f.Subject] = f
		}
	}
	v.rebuild()
}

// findingMark is " ✗ APIM-GW-004" when a finding is about one of the workloads, else "".
func (v *dashboardView) findingMark(wls ...*model.Workload) string {
	var worst *model.Finding
	for _, wl := range wls {
		if wl == nil {
			continue
		}
		if f, ok := v.worst[strings.ToLower(wl.Kind)+"/"+wl.Name]; ok && (worst == nil || f.Severity.Rank() > worst.Severity.Rank()) {
			worst = &f
		}
	}
	if worst == nil || worst.Severity.Rank() < model.SeverityWarning.Rank() {
		return ""
	}
	t := severityTone(worst.Severity)
	return "  " + v.c.styles.paint(t, t.symbol()+" "+worst.ID)
}
func (v *dashboardView) Refresh()         { v.rebuild() }
func (v *dashboardView) SetSize(w, h int) { v.width, v.height = w, h; v.rebuild() }
func (v *dashboardView) View() string     { return v.body }

// Update moves one cursor over the topology's rows, then on down past the last, over the
// alerts (and back up).
func (v *dashboardView) Update(msg tea.KeyPressMsg) tea.Cmd {
	k := v.c.keys
	alerts := v.snap != nil && len(v.snap.Alerts) > 0
	switch {
	case !alerts:
		v.onAlerts = false
	case v.onAlerts && key.Matches(msg, k.Up) && v.alertSel == 0:
		v.onAlerts = false
		v.rebuild()
		return nil
	case !v.onAlerts && key.Matches(msg, k.Down) && v.topo.selected() == len(v.topo.rows)-1:
		v.onAlerts, v.alertSel = true, 0
		v.rebuild()
		return nil
	}
	if v.onAlerts {
		v.updateAlerts(msg)
		return nil
	}
	return v.moveTopo(msg)
}

// Selected is the row under the cursor: a topology row's Deployment, or what an alert names.
func (v *dashboardView) Selected() (model.Ref, bool) {
	if v.onAlerts {
		return v.selectedAlert()
	}
	if i := v.topo.selected(); i >= 0 {
		return v.topo.rows[i].ref, true
	}
	return model.Ref{}, false
}

func (v *dashboardView) ShortHelp() []key.Binding {
	k := v.c.keys
	return []key.Binding{k.Move, k.Open, k.JumpView, k.NextView, k.Command, k.Help, k.Quit}
}

func (v *dashboardView) FullHelp() [][]key.Binding {
	k := v.c.keys
	return [][]key.Binding{{k.Up, k.Down, k.Top, k.Bottom, k.Open}, k.globalKeys(), k.actionKeys()}
}

// block is something the dashboard stacks: a panel, or two panels side by side.
type block interface {
	need() int
	render(h int) []string
}

// panel is a titled block of lines whose title carries its source's freshness.
type panel struct {
	c     *common
	w     int
	title string
	extra string
	src   *model.SourceState
	lines []string
	more  string // where the rest is: "… 3 more — :findings"
}

func (p *panel) need() int { return 1 + max(len(p.lines), 1) }

// withBanner puts the source's error, if any, first among the panel's lines.
func (p *panel) withBanner() *panel {
	if b := sourceBanner(p.c, p.w, p.src); b != nil {
		p.lines = append(b, p.lines...)
	}
	return p
}

func (p *panel) render(h int) []string {
	if h <= 0 {
		return nil
	}
	out := []string{titleBar(p.c, p.w, p.title, p.extra, p.src)}
	lines := p.lines
	if len(lines) > h-1 && h > 1 {
		cut := len(lines) - (h - 2)
		lines = append(append([]string(nil), lines[:h-2]...),
			p.c.styles.Muted.Render(fmt.Sprintf("  … %d more — %s", cut, p.more)))
	}
	for _, l := range lines {
		if len(out) == h {
			break
		}
		out = append(out, fit(l, p.w))
	}
	for len(out) < h {
		out = append(out, strings.Repeat(" ", p.w))
	}
	return out
}

// pair is two panels side by side, one column apart.
type pair struct{ a, b *panel }

func (p pair) need() int { return max(p.a.need(), p.b.need()) }

func (p pair) render(h int) []string {
	a, b := p.a.render(h), p.b.render(h)
	out := make([]string, h)
	for i := range out {
		out[i] = a[i] + " " + b[i]
	}
	return out
}

// stack lays blocks out top to bottom in h lines. Each block first gets its title and one
// line; the lines left over go round the blocks one at a time, so when space is short every
// panel still shows its most important line and its freshness.
func stack(blocks []block, w, h int) []string {
	alloc := make([]int, len(blocks))
	need := make([]int, len(blocks))
	used := 0
	for i, b := range blocks {
		need[i] = b.need()
		alloc[i] = min(need[i], 2)
		used += alloc[i]
	}
	for i := len(blocks) - 1; i >= 0 && used > h; i-- {
		// Not even a title and a line each: give the last blocks only a title, then nothing.
		for alloc[i] > 0 && used > h {
			alloc[i]--
			used--
		}
	}
	for more := true; more && used < h; {
		more = false
		for i := range blocks {
			if alloc[i] < need[i] && used < h {
				alloc[i]++
				used++
				more = true
			}
		}
	}
	out := make([]string, 0, h)
	for i, b := range blocks {
		out = append(out, b.render(alloc[i])...)
	}
	for len(out) < h {
		out = append(out, strings.Repeat(" ", w))
	}
	return out
}

// tallHeight is the body height from which a narrow dashboard also shows what needs
// attention and the last actions (below it they would squeeze the topology).
const tallHeight = 36

func (v *dashboardView) rebuild() {
	if v.snap == nil || v.width == 0 || v.height == 0 {
		v.body = ""
		return
	}
	w, h := v.width, v.height
	var lines []string
	if w >= wideWidth {
		lw := w * 3 / 5
		rw := w - lw - 1
		left := stack([]block{v.topology(lw).withBanner(), v.hpa(lw), v.traffic(lw).withBanner(), v.attention(lw)}, lw, h)
		right := stack([]block{v.alertsPanel(rw), v.cassandra(rw).withBanner(), v.mysql(rw).withBanner(), v.findings(rw), v.recentActions(rw)}, rw, h)
		lines = make([]string, h)
		for i := range lines {
			lines[i] = left[i] + " " + right[i]
		}
	} else {
		half := (w - 1) / 2
		blocks := []block{v.topology(w).withBanner()}
		if len(v.snap.Alerts) > 0 { // narrow: the panel only when something fires
			blocks = append(blocks, v.alertsPanel(w))
		}
		blocks = append(blocks, v.hpa(w),
			pair{v.cassandra(half).withBanner(), v.mysql(w - half - 1).withBanner()},
			v.traffic(w).withBanner(), v.findings(w))
		if h >= tallHeight { // room below the essentials: what needs attention, the last actions
			blocks = append(blocks, v.attention(w), v.recentActions(w))
		}
		lines = stack(blocks, w, h)
	}
	v.body = padLines(lines, w, h)
}

func (v *dashboardView) source(name string) *model.SourceState {
	s := v.snap.Source(name)
	return &s
}

// storePanel is the panel of a data store's source; synced is false, and the panel says
// there is no data yet, before the source's first read.
func (v *dashboardView) storePanel(w int, title, source, more string) (p *panel, synced bool) {
	p = &panel{c: v.c, w: w, title: title, src: v.source(source), more: more}
	if !p.src.Synced {
		p.lines = []string{v.c.styles.Muted.Render("no data yet")}
	}
	return p, p.src.Synced
}

func (v *dashboardView) hpa(w int) *panel {
	st := &v.c.styles
	groupW := 5
	for _, g := range v.snap.Topology.Groups {
		groupW = max(groupW, min(width(g.Name), 14))
	}
	var lines []string
	for _, g := range v.snap.Topology.Groups {
		h := g.HPA
		if h == nil {
			lines = append(lines, fit(g.Name, groupW)+"  "+st.status(toneWarn, "no HPA"))
			continue
		}
		health, ht := hpaHealth(h)
		cpu := "?"
		if h.CPUCurrentPercent != nil {
			cpu = fmt.Sprintf("%d%%", *h.CPUCurrentPercent)
		}
		lines = append(lines, fit(g.Name, groupW)+"  "+
			fmt.Sprintf("%d→%s (min %d max %d)", h.Current, desiredReplicas(h), h.Min, h.Max)+"  "+
			st.Label.Render("cpu ")+fmt.Sprintf("%s/%d%%", cpu, h.CPUTargetPercent)+"  "+
			st.status(ht, health))
	}
	if len(lines) == 0 {
		lines = append(lines, st.Muted.Render("no gateway groups"))
	}
	return &panel{c: v.c, w: w, title: "HPA", src: v.source(model.SourceKube), lines: lines, more: ":hpa"}
}

func (v *dashboardView) cassandra(w int) *panel {
	st := &v.c.styles
	cs := &v.snap.Cassandra
	p, synced := v.storePanel(w, "Cassandra", model.SourceCassandra, ":cassandra")
	if !synced {
		return p
	}
	up := nodesUp(cs)
	t := toneOK
	if up < len(cs.Nodes) {
		t = toneBad
	}
	schema, schTone := schemaStatus(cs)
	p.lines = append(p.lines, st.status(t, fmt.Sprintf("%d/%d nodes up", up, len(cs.Nodes)))+"  "+st.status(schTone, schema))
	var racks []string
	for _, n := range cs.Nodes {
		racks = append(racks, n.Rack)
		if !n.Up {
			p.lines = append(p.lines, st.status(toneBad, "down")+" "+n.Address+" "+st.Muted.Render(n.DC+"/"+n.Rack))
		}
	}
	if up == len(cs.Nodes) && up > 0 {
		p.lines = append(p.lines, st.Label.Render("racks ")+strings.Join(racks, " "))
	}
	okN, rfs := 0, map[int]bool{}
	for _, ks := range sortedKeyspaces(cs.Keyspaces) {
		if !ks.QuorumReachable {
			p.lines = append(p.lines, st.status(toneBad, "QUORUM LOST")+" "+ks.Name+st.Muted.Render(fmt.Sprintf(" RF %d, %d of %d up", ks.ReplicationFactor, ks.ReplicasUp, ks.Quorum)))
			continue
		}
		okN++
		rfs[ks.ReplicationFactor] = true
	}
	if okN > 0 {
		var rf []string
		for r := range rfs {
			rf = append(rf, fmt.Sprint(r))
		}
		sort.Strings(rf)
		p.lines = append(p.lines, st.status(toneOK, fmt.Sprintf("QUORUM ok on %d keyspaces", okN))+st.Muted.Render(" RF "+strings.Join(rf, ",")))
	}
	return p
}

func (v *dashboardView) mysql(w int) *panel {
	st := &v.c.styles
	m := &v.snap.MySQL
	p, synced := v.storePanel(w, "MySQL", model.SourceMySQL, ":mysql")
	if !synced {
		return p
	}
	reach := st.status(toneOK, "up")
	if !m.Reachable {
		reach = st.status(toneBad, "unreachable")
	}
	p.lines = append(p.lines, reach+"  "+orDash(m.Version)+st.Muted.Render("  uptime ")+fmtUptime(m.Uptime))
	tls, tt := tlsStatus(m)
	l2 := st.Label.Render("conns ") + st.paint(connTone(m), fmt.Sprintf("%d/%d", m.ThreadsConnected, m.MaxConnections)) + "  " + st.status(tt, tls)
	if m.Replica != nil {
		rs, rt := replicaStatus(m.Replica)
		l2 += "  " + st.status(rt, rs)
	} else {
		l2 += st.Muted.Render("  primary")
	}
	p.lines = append(p.lines, l2)
	return p
}

func (v *dashboardView) traffic(w int) *panel {
	st := &v.c.styles
	tr := &v.snap.Traffic
	p := &panel{c: v.c, w: w, title: "Traffic", src: v.source(model.SourcePrometheus), more: ":traffic"}
	switch {
	case !p.src.Synced:
		p.lines = []string{st.Muted.Render("no answer from Prometheus yet")}
	case tr.NoData || len(tr.Groups) == 0:
		p.lines = []string{st.status(toneMuted, "no data yet") + st.Muted.Render(" — no gateway series in Prometheus")}
	default:
		nameW := 5
		for _, g := range tr.Groups {
			nameW = max(nameW, min(width(g.Group), 14))
		}
		n := sparkWidth(w)
		for i := range tr.Groups {
			p.lines = append(p.lines, groupTrafficLine(st, &tr.Groups[i], nameW, n))
		}
	}
	return p
}

func (v *dashboardView) findings(w int) *panel {
	st := &v.c.styles
	fs := sortFindings(v.snap.Findings)
	counts := map[model.Severity]int{}
	for _, f := range fs {
		counts[f.Severity]++
	}
	p := &panel{c: v.c, w: w, title: "Findings", extra: severityCounts(st, counts), more: ":findings"}
	for _, f := range fs {
		t := severityTone(f.Severity)
		p.lines = append(p.lines, st.paint(t, t.symbol()+" "+f.ID)+" "+f.Subject+st.Muted.Render(": "+f.Message))
	}
	if len(fs) == 0 {
		p.lines = []string{st.status(toneOK, "no findings: every check passed")}
	}
	return p
}

func ptrs(wls []model.Workload) []*model.Workload {
	out := make([]*model.Workload, len(wls))
	for i := range wls {
		out[i] = &wls[i]
	}
	return out
}
