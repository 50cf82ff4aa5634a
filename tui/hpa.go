package tui

import (
	"fmt"

	"github.com/apimctl/apimctl/ops/model"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// hpaView shows each group's HorizontalPodAutoscaler: replicas, CPU against target,
// conditions and recent scaling events.
type hpaView struct {
	sourcePager
	// The autoscalers, each a block of lines: j/k select one (enter opens its Deployment).
	hpas   []string // HPA names, in block order
	starts []int    // the line each block starts on
	sel    string   // the selected HPA's name
}

func newHPAView(c *common) *hpaView {
	v := &hpaView{sourcePager: newSourcePager(c, model.SourceKube)}
	v.self = v
	return v
}

func (v *hpaView) Name() string { return "hpa" }
func (v *hpaView) Refresh()     { v.rebuild() }

// Update moves the selection between autoscalers on j/k, scrolling its block into view;
// the other keys page.
func (v *hpaView) Update(msg tea.KeyPressMsg) tea.Cmd {
	i := v.selected()
	if i >= 0 && v.c.keys.step(msg, &i, len(v.hpas)) {
		v.sel = v.hpas[i]
		v.rebuild()
		if s := v.starts[i]; s < v.pager.offset || s >= v.pager.offset+v.pager.height {
			v.pager.offset = s
			v.pager.clamp()
		}
		return nil
	}
	v.pager.Update(msg)
	return nil
}

// selected is the index of the selected autoscaler (-1 when there is none).
func (v *hpaView) selected() int {
	for i, n := range v.hpas {
		if n == v.sel {
			return i
		}
	}
	if len(v.hpas) > 0 {
		return 0
	}
	return -1
}

// Selected is the selected autoscaler.
func (v *hpaView) Selected() (model.Ref, bool) {
	if i := v.selected(); i >= 0 && v.snap != nil {
		return model.Ref{Kind: model.RefHPA, Namespace: v.snap.Namespace, Name: v.hpas[i]}, true
	}
	return model.Ref{}, false
}

// hpaHealth sums an HPA up in one status: a failing metric or inability to scale is an error,
// being pinned at max a warning.
func hpaHealth(h *model.HPAState) (string, tone) {
	for _, c := range h.Conditions {
		if c.Status == "False" && (c.Type == "ScalingActive" || c.Type == "AbleToScale") {
			reason := c.Reason
			if reason == "" {
				reason = c.Type + " False"
			}
			return reason, toneBad
		}
	}
	atMin := false
	for _, c := range h.Conditions {
		if c.Type == "ScalingLimited" && c.Status == "True" {
			if c.Reason == "TooFewReplicas" {
				atMin = true // the load wants fewer than min: the normal quiet state
				continue
			}
			return "limited: " + orDash(c.Reason), toneWarn
		}
	}
	if h.CPUCurrentPercent == nil && h.CPUTargetPercent > 0 {
		return "no CPU metric", toneWarn
	}
	if atMin {
		return "scaling ok, at min", toneOK
	}
	return "scaling ok", toneOK
}

// conditionTone judges a Kubernetes condition: most are good when True, the ones that
// report trouble (ReplicaFailure, ScalingLimited) when False.
func conditionTone(c model.Condition) tone {
	good := "True"
	switch c.Type {
	case "ReplicaFailure", "ScalingLimited", "ScaledToZero":
		good = "False" // ScaledToZero: the HPA has not scaled its target to zero, the usual state
	}
	switch {
	case c.Status == good:
		return toneOK
	case c.Status == "Unknown":
		return toneWarn
	case c.Type == "ScalingLimited" && c.Reason == "TooFewReplicas":
		return toneOK // held at min because the load is low
	case c.Type == "ScalingLimited":
		return toneWarn
	}
	return toneBad
}

func (v *hpaView) rebuild() {
	if v.snap == nil || v.width == 0 {
		return
	}
	st := &v.c.styles
	w := v.width
	var lines []string
	v.hpas, v.starts = v.hpas[:0], v.starts[:0]
	for _, g := range v.snap.Topology.Groups {
		if g.HPA != nil {
			v.hpas = append(v.hpas, g.HPA.Name)
		}
	}
	sel := v.selected()
	for _, g := range v.snap.Topology.Groups {
		h := g.HPA
		if h == nil {
			lines = append(lines, "  "+st.PanelTitle.Render(g.Name)+"  "+st.status(toneWarn, "no HPA scales this group's traffic gateways"), "")
			continue
		}
		mark := "  "
		if len(v.starts) == sel {
			mark = st.Prompt.Render("▸") + " "
		}
		v.starts = append(v.starts, len(lines))
		health, ht := hpaHealth(h)
		lines = append(lines, truncate(mark+st.PanelTitle.Render(g.Name)+"  "+st.Muted.Render("hpa/"+h.Name+" → deployment/"+h.Target)+"  "+st.status(ht, health), w))
		cpu := "unknown (no metrics)"
		cpuTone := toneWarn
		if h.CPUCurrentPercent != nil {
			cpu = fmt.Sprintf("%d%%", *h.CPUCurrentPercent)
			cpuTone = toneOK
			if h.CPUTargetPercent > 0 && *h.CPUCurrentPercent > h.CPUTargetPercent {
				cpuTone = toneWarn
			}
		}
		target := "no CPU target"
		if h.CPUTargetPercent > 0 {
			target = fmt.Sprintf("· target %d%%", h.CPUTargetPercent)
		}
		cpuLine := st.paint(cpuTone, cpu) + " " + target
		if h.CPUCurrentPercent != nil && h.CPUTargetPercent > 0 {
			cpuLine += "  " + st.paint(cpuTone, bar(float64(*h.CPUCurrentPercent)/float64(2*h.CPUTargetPercent), 20)) + st.Muted.Render(" (bar: 0–2× target)")
		}
		replTone := toneOK
		if h.Current != h.Desired {
			replTone = toneBusy
		}
		if h.Current >= h.Max {
			replTone = toneWarn
		}
		last := "never"
		if h.LastScaleTime != nil {
			last = ago(*h.LastScaleTime, v.c.now)
		}
		lines = append(lines, kv(st, 2, w, [][2]string{
			{"replicas", st.paint(replTone, fmt.Sprintf("current %d → desired %s", h.Current, desiredReplicas(h))) +
				fmt.Sprintf(" · min %d · max %d · headroom %d", h.Min, h.Max, max(h.Max-h.Current, 0))},
			{"cpu", cpuLine},
			{"last scale", last},
		})...)
		lines = append(lines, "  "+st.Label.Render("conditions"))
		if len(h.Conditions) == 0 {
			lines = append(lines, "    "+st.Muted.Render("none reported"))
		}
		for _, c := range h.Conditions {
			t := conditionTone(c)
			lines = append(lines, truncate(fmt.Sprintf("    %s %s  %s", st.status(t, c.Type), st.Muted.Render(c.Status), st.paint(t, c.Reason)), w))
			for _, l := range wrap(c.Message, w-8) {
				lines = append(lines, "        "+st.Muted.Render(l))
			}
		}
		lines = append(lines, "  "+st.Label.Render("recent events"))
		if len(h.Events) == 0 {
			lines = append(lines, "    "+st.Muted.Render("none"))
		}
		for _, e := range h.Events {
			lines = append(lines, truncate(eventLine(st, e, v.c.now, "    ", st.Muted.Render(e.Message)), w))
		}
		lines = append(lines, "")
	}
	if len(v.snap.Topology.Groups) == 0 {
		lines = append(lines, st.Muted.Render("no gateway groups found"))
	}
	v.pager.SetLines(lines)
}

func (v *hpaView) View() string {
	n := 0
	if v.snap != nil {
		for _, g := range v.snap.Topology.Groups {
			if g.HPA != nil {
				n++
			}
		}
	}
	extra := v.c.styles.Muted.Render(fmt.Sprintf("%d autoscaler%s", n, map[bool]string{true: "s"}[n != 1]))
	return v.view("HPA", extra)
}

func (v *hpaView) ShortHelp() []key.Binding {
	k := v.c.keys
	return []key.Binding{k.Move, k.Open, k.Command, k.JumpView, k.Help, k.Back, k.Quit}
}

func (v *hpaView) FullHelp() [][]key.Binding {
	k := v.c.keys
	return [][]key.Binding{append(k.listKeys(), k.Open), k.globalKeys()}
}
