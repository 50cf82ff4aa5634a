package tui

import (
	"fmt"
	"strings"

	"github.com/apimctl/apimctl/ops/model"
)

// workloadStatus sums a workload up: ready/desired and the word for its state (the same
// words as apimctl status).
func workloadStatus(wl *model.Workload) (string, tone) {
	word, _, level := wl.State()
	return fmt.Sprintf("%d/%d %s", wl.Ready, wl.Desired, word), levelTone(level)
}

// levelTone is the console's tone of a model level.
func levelTone(l model.Level) tone {
	switch l {
	case model.LevelBusy:
		return toneBusy
	case model.LevelWarn:
		return toneWarn
	case model.LevelBad:
		return toneBad
	}
	return toneOK
}

// topoLine is one line of the topology panel: a workload with its group and role.
type topoLine struct {
	group, role string
	wl          *model.Workload
}

func (v *dashboardView) topology(w int) *panel {
	st := &v.c.styles
	t := &v.snap.Topology
	p := &panel{c: v.c, w: w, title: "Topology", src: v.source(model.SourceKube), more: ":pods"}
	v.topo.rows = v.topo.rows[:0]
	defer func() { p.lines = v.markTopo(p.lines) }()
	if len(t.ANM) == 0 {
		p.lines = append(p.lines, st.status(toneBad, "no Admin Node Manager found"))
	}
	if len(t.Groups) == 0 {
		p.lines = append(p.lines, st.status(toneWarn, "no gateway groups found"))
	}
	groupW := 3
	for _, g := range t.Groups {
		groupW = max(groupW, min(width(g.Name), 14))
	}
	if w < 90 {
		p.lines = append(p.lines, v.topologyNarrow(groupW, len(p.lines))...)
		return p
	}
	var ls []topoLine
	for i := range t.ANM {
		ls = append(ls, topoLine{"anm", "", &t.ANM[i]})
	}
	for gi := range t.Groups {
		g := &t.Groups[gi]
		n := len(ls)
		for i := range g.APIManager {
			ls = append(ls, topoLine{"", "apimgr", &g.APIManager[i]})
		}
		for i := range g.Traffic {
			ls = append(ls, topoLine{"", "traffic", &g.Traffic[i]})
		}
		if len(ls) == n {
			ls = append(ls, topoLine{"", "", nil})
		}
		ls[n].group = g.Name
	}
	nameW, statusW := 4, 4
	for _, l := range ls {
		if l.wl != nil {
			nameW = max(nameW, min(width(l.wl.Name), 28))
			text, _ := workloadStatus(l.wl)
			statusW = max(statusW, width(text)+2)
		}
	}
	for _, l := range ls {
		s := fit(l.group, groupW) + "  " + fit(l.role, 7) + "  "
		if l.wl == nil {
			p.lines = append(p.lines, s+st.status(toneWarn, "no workloads"))
			continue
		}
		v.topoRow(len(p.lines), l.wl)
		text, tn := workloadStatus(l.wl)
		s += st.Muted.Render(fit(l.wl.Name, nameW)) + "  " + st.paint(tn, fit(tn.symbol()+" "+text, statusW)) + "  " + orDash(l.wl.Tag)
		if l.wl.Revision != "" {
			s += st.Muted.Render("  rev " + l.wl.Revision)
		}
		if l.wl.RolloutInProgress {
			s += st.Muted.Render(fmt.Sprintf("  %d of %d updated", l.wl.Updated, l.wl.Desired))
		}
		p.lines = append(p.lines, s+v.findingMark(l.wl))
	}
	for _, ing := range t.Ingress {
		tls, tt := "TLS on all hosts", toneOK
		if len(ing.TLSHosts) < len(ing.Hosts) {
			tls, tt = fmt.Sprintf("TLS on %d of %d hosts", len(ing.TLSHosts), len(ing.Hosts)), toneWarn
		}
		if ing.MinTLS != "" {
			tls += " ≥ " + ing.MinTLS
		}
		p.lines = append(p.lines, fit("ingress", groupW)+"  "+fit("", 7)+"  "+st.status(tt, tls)+"  "+st.Muted.Render(strings.Join(ing.Hosts, " ")))
	}
	return p
}

// topologyNarrow puts each group on one line: "default  mgr ✓ 1/1 ready  traffic ✓ 3/3 ready  tag".
// first is the panel line the first of them lands on (a row opens its traffic Deployment).
func (v *dashboardView) topologyNarrow(groupW, first int) []string {
	st := &v.c.styles
	t := &v.snap.Topology
	summary := func(wls []model.Workload) (string, tone, string) {
		if len(wls) == 0 {
			return "none", toneWarn, ""
		}
		// Several workloads of a role are rare; the worst one speaks for them.
		text, tn := workloadStatus(&wls[0])
		for i := 1; i < len(wls); i++ {
			if t2, n2 := workloadStatus(&wls[i]); n2 > tn && n2 != toneMuted {
				text, tn = t2, n2
			}
		}
		return text, tn, wls[0].Tag
	}
	type part struct {
		text string
		t    tone
	}
	var rows [][3]part
	var tags, names, marks []string
	if len(t.ANM) > 0 {
		v.topoRow(first, &t.ANM[0])
		a, at, tag := summary(t.ANM)
		names = append(names, "anm")
		rows = append(rows, [3]part{{}, {a, at}, {}})
		tags = append(tags, tag)
		marks = append(marks, v.findingMark(ptrs(t.ANM)...))
	}
	for gi, g := range t.Groups {
		switch {
		case len(g.Traffic) > 0:
			v.topoRow(first+len(names), &t.Groups[gi].Traffic[0])
		case len(g.APIManager) > 0:
			v.topoRow(first+len(names), &t.Groups[gi].APIManager[0])
		}
		m, mt, mtag := summary(g.APIManager)
		tr, tt, ttag := summary(g.Traffic)
		tag := ttag
		if mtag != ttag && mtag != "" {
			tag = ttag + " (mgr " + mtag + ")"
		}
		names = append(names, g.Name)
		rows = append(rows, [3]part{{}, {m, mt}, {tr, tt}})
		tags = append(tags, tag)
		marks = append(marks, v.findingMark(append(ptrs(g.APIManager), ptrs(g.Traffic)...)...))
	}
	mw, tw := 0, 0
	for i, r := range rows {
		if names[i] == "anm" {
			continue
		}
		mw = max(mw, width(r[1].text)+2)
		tw = max(tw, width(r[2].text)+2)
	}
	out := make([]string, 0, len(rows))
	for i, r := range rows {
		if names[i] == "anm" {
			out = append(out, fit("anm", groupW)+"  "+st.status(r[1].t, r[1].text)+marks[i]+"  "+orDash(tags[i]))
			continue
		}
		out = append(out, fit(names[i], groupW)+"  "+
			st.Label.Render("mgr ")+st.paint(r[1].t, fit(r[1].t.symbol()+" "+r[1].text, mw))+"  "+
			st.Label.Render("traffic ")+st.paint(r[2].t, fit(r[2].t.symbol()+" "+r[2].text, tw))+marks[i]+"  "+orDash(tags[i]))
	}
	return out
}
