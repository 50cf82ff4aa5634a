package tui

import (
	"context"
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/apimctl/apimctl/ops/model"
)

// deploymentDetail is a Deployment drilled into (from a topology row, the HPA view or an
// event): what stops it growing on top, then its HPA with its recent decisions and the value
// each implies, the revision history with images, and its events. It reads again when a
// snapshot shows the Deployment or its HPA changed.
type deploymentDetail struct {
	objectDetail
	ins  DeploymentInspector
	name string // the Deployment (an HPA ref names the HPA)

	d    *model.DeploymentDetail
	seen string // the snapshot's state of it when last read
}

type deploymentLoaded struct{ d *model.DeploymentDetail }

func newDeploymentDetail(c *common, ins DeploymentInspector, ref model.Ref) *deploymentDetail {
	v := &deploymentDetail{objectDetail: newObjectDetail(c, ref), ins: ins, name: ref.Name}
	v.self = v
	return v
}

func (v *deploymentDetail) Name() string { return "deployment" }

func (v *deploymentDetail) Crumb() string {
	if v.ref.Kind == model.RefHPA {
		return "hpa/" + v.ref.Name
	}
	return "deployment/" + v.name
}

func (v *deploymentDetail) Open(ctx context.Context) tea.Cmd {
	v.ctx = ctx
	if v.ref.Kind == model.RefHPA {
		if t := hpaTarget(v.snap, v.ref.Name); t != "" {
			v.name = t
		}
	}
	return v.load()
}

// state is what a snapshot says of the Deployment and its HPA, to tell when it changed.
func (v *deploymentDetail) state() string {
	wl := findWorkload(v.snap, v.name)
	if wl == nil {
		return ""
	}
	s := fmt.Sprintf("%s %d %d %d %d %s %v", wl.Revision, wl.Desired, wl.Ready, wl.Updated, wl.Current, wl.Image, wl.Paused)
	for _, g := range v.snap.Topology.Groups {
		if h := g.HPA; h != nil && h.Target == v.name {
			s += fmt.Sprintf(" hpa %d %d %v %d", h.Current, h.Desired, h.LastScaleTime, len(h.Events))
			for _, c := range h.Conditions {
				s += " " + c.Type + c.Status + c.Reason
			}
		}
	}
	return s
}

func (v *deploymentDetail) load() tea.Cmd {
	ins, ns, name := v.ins, v.ref.Namespace, v.name
	return v.read(func() { v.seen = v.state() }, func(ctx context.Context) (any, error) {
		d, err := ins.Deployment(ctx, ns, name)
		return deploymentLoaded{d}, err
	})
}

func (v *deploymentDetail) Loaded(msg detailMsg) tea.Cmd {
	v.answered(msg)
	if dl, ok := msg.data.(deploymentLoaded); ok && msg.err == nil && dl.d != nil {
		v.d = dl.d
	}
	v.rebuild()
	return nil
}

// Reload reads again when the snapshot's Deployment or HPA changed.
func (v *deploymentDetail) Reload() tea.Cmd {
	if v.d == nil {
		return nil
	}
	if s := v.state(); s != "" && s != v.seen {
		return v.load()
	}
	return nil
}

func (v *deploymentDetail) View() string {
	st := &v.c.styles
	status := v.readState()
	title := titleBar(v.c, max(v.width-width(status)-1, 1), "Deployment "+v.name, st.Muted.Render(v.ref.Namespace), nil)
	return truncate(title+" "+status, v.width) + "\n" + v.headline() + "\n" + v.pager.View()
}

// headline is what stops it growing — the question on-call asks of an HPA at the wall.
func (v *deploymentDetail) headline() string {
	st := &v.c.styles
	var s string
	switch {
	case v.err != nil:
		s = st.status(toneBad, "cannot read deployment "+v.name+": "+v.err.Error())
	case v.d == nil:
		s = st.status(toneBusy, "reading deployment "+v.name+"…")
	default:
		limit := v.scaleLimit()
		switch {
		case limit == "" && v.d.HPA != nil:
			s = st.status(toneOK, fmt.Sprintf("room to grow: %d replicas to its maximum", max(v.d.HPA.Max-v.d.HPA.Current, 0)))
		case limit == "":
			s = st.status(toneOK, "nothing stops it scaling")
		case v.d.HPA == nil:
			s = st.status(toneMuted, limit)
		default:
			s = st.status(toneWarn, limit)
		}
	}
	return truncate(s, v.width)
}

// scaleLimit is the inspector's judgement, or, when it found nothing, the same judgement
// with the snapshot's nodes: is there room for one more pod?
func (v *deploymentDetail) scaleLimit() string {
	if v.d.ScaleLimit != "" || v.snap == nil {
		return v.d.ScaleLimit
	}
	return model.ScaleLimit(v.d.HPA, &v.d.Workload, nil, v.snap.Nodes)
}

func (v *deploymentDetail) rebuild() {
	if v.d == nil || v.width == 0 {
		v.pager.SetLines(nil)
		return
	}
	st := &v.c.styles
	d, w, now := v.d, v.width, v.c.now
	wl := &d.Workload
	status, t := workloadStatus(wl)
	lines := kv(st, 2, w, [][2]string{
		{"replicas", st.paint(t, status) + st.Muted.Render(fmt.Sprintf(" · %d updated, %d available", wl.Updated, wl.Available))},
		{"image", orDash(wl.Image) + st.Muted.Render("  revision "+orDash(wl.Revision))},
		{"strategy", orDash(wl.Strategy) + st.Muted.Render(" maxSurge "+orDash(wl.MaxSurge)+" maxUnavailable "+orDash(wl.MaxUnavailable))},
		{"requests", "cpu " + orDash(wl.CPURequest) + " memory " + orDash(wl.MemoryRequest) + st.Muted.Render(" · pool "+orDash(wl.NodePool))},
	})
	lines = append(lines, "")
	if h := d.HPA; h != nil {
		health, ht := hpaHealth(h)
		cpu := "unknown"
		if h.CPUCurrentPercent != nil {
			cpu = fmt.Sprintf("%d%%", *h.CPUCurrentPercent)
		}
		last := "never"
		if h.LastScaleTime != nil {
			last = ago(*h.LastScaleTime, now)
		}
		lines = append(lines, truncate(st.PanelTitle.Render("HPA "+h.Name)+"  "+st.status(ht, health), w))
		lines = append(lines, kv(st, 2, w, [][2]string{
			{"replicas", fmt.Sprintf("current %d → desired %s · min %d · max %d", h.Current, desiredReplicas(h), h.Min, h.Max)},
			{"cpu", fmt.Sprintf("%s of request · target %d%%", cpu, h.CPUTargetPercent)},
			{"last scale", last},
		})...)
		lines = append(lines, "", st.PanelTitle.Render("Scaling decisions")+st.Muted.Render(" (newest first; the value is what the decision implies)"))
		if len(d.Decisions) == 0 {
			lines = append(lines, "  "+st.Muted.Render("none in the events kept (an hour)"))
		}
		for _, dec := range d.Decisions {
			from := "?"
			if dec.From > 0 {
				from = fmt.Sprint(dec.From)
			}
			arrow, at := "→", toneBusy
			if dec.From > 0 && dec.To < dec.From {
				at = toneMuted
			}
			val := ""
			if dec.Value != "" {
				val = dec.Metric + " " + dec.Value
			}
			count := ""
			if dec.Count > 1 {
				count = fmt.Sprintf(" ×%d", dec.Count)
			}
			lines = append(lines, truncate(fmt.Sprintf("  %s  %s  %-12s %s%s", fitRight(ago(dec.Time, now), 8),
				st.paint(at, fitRight(from, 2)+" "+arrow+" "+fit(fmt.Sprint(dec.To), 2)), val, st.Muted.Render(dec.Reason), count), w))
		}
		lines = append(lines, "")
	}
	lines = append(lines, st.PanelTitle.Render(fmt.Sprintf("Revisions (%d)", len(d.Revisions))))
	rows := make([][]cell, 0, len(d.Revisions))
	for i := len(d.Revisions) - 1; i >= 0; i-- {
		r := d.Revisions[i]
		mark, t := " ", toneNone
		if r.Current {
			mark, t = "▸", toneOK
		}
		rows = append(rows, []cell{{text: mark + fmt.Sprint(r.Revision), tone: t}, {text: model.ImageTag(r.Image), tone: t},
			{text: humanAge(now.Sub(r.Created))}, {text: fmt.Sprint(r.Replicas)}, {text: r.ChangeCause, tone: toneMuted}, {text: r.Image, tone: toneMuted}})
	}
	lines = append(lines, grid(st, 2, w, []string{"REV", "TAG", "AGE", "PODS", "CHANGE CAUSE", "IMAGE"}, rows)...)
	lines = append(lines, "", st.PanelTitle.Render("Events"))
	events := append([]model.EventInfo(nil), d.Events...)
	if d.HPA != nil {
		events = append(events, d.HPA.Events...)
	}
	if len(events) == 0 {
		lines = append(lines, "  "+st.Muted.Render("none (events are kept for an hour)"))
	}
	sortEventsNewest(events)
	for _, e := range events {
		t, typ := toneMuted, "·"
		if e.Type == "Warning" {
			t, typ = toneWarn, "!"
		}
		lines = append(lines, truncate(fmt.Sprintf("  %s %s  %s  %s", fitRight(ago(e.Time, now), 8), st.paint(t, typ+" "+e.Reason),
			st.Muted.Render(shortKind(e.Object)), e.Message), w))
	}
	v.pager.SetLines(lines)
}

func sortEventsNewest(ev []model.EventInfo) {
	for i := 1; i < len(ev); i++ {
		for j := i; j > 0 && ev[j].Time.After(ev[j-1].Time); j-- {
			ev[j], ev[j-1] = ev[j-1], ev[j]
		}
	}
}

func (v *deploymentDetail) ShortHelp() []key.Binding {
	return detailHelp(v.c.keys, v.c.keys.Reload).ShortHelp()
}

func (v *deploymentDetail) FullHelp() [][]key.Binding {
	return detailHelp(v.c.keys, v.c.keys.Reload).FullHelp()
}
