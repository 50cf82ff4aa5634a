package tui

import (
	"context"
	"fmt"
	"math"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/apimctl/apimctl/ops/model"
)

// trafficReload is how often an open traffic detail reads its series again.
const trafficReload = 15 * time.Second

// trafficDetail is a group's or an API's traffic over the last 15 minutes: sparklines of
// requests per second, p50/p90/p99 and the 5xx ratio, the errors of the window and the pods
// serving it. j/k choose a pod; enter opens it.
type trafficDetail struct {
	loader
	ref model.Ref
	d   *model.TrafficDetail
	sel int // the chosen pod
	// podLine is the pager line of the first pod row (-1 when there is none).
	podLine int
	// timer is set while a timed reload is pending.
	timer bool
}

func newTrafficDetail(c *common, ins TrafficInspector, ref model.Ref) *trafficDetail {
	v := &trafficDetail{ref: ref, podLine: -1}
	v.loader = newLoader(c, func(ctx context.Context) (any, error) { return ins.Traffic(ctx, ref.Group, ref.API) })
	v.self = v
	return v
}

func (v *trafficDetail) Name() string { return "traffic detail" }
func (v *trafficDetail) Crumb() string {
	if v.ref.API != "" {
		return v.ref.Group + "/" + v.ref.API
	}
	return v.ref.Group
}
func (v *trafficDetail) SetSize(w, h int) { v.setSize(w, h); v.rebuild() }
func (v *trafficDetail) View() string {
	what := "group " + v.ref.Group
	if v.ref.API != "" {
		what = "API " + v.ref.API + " of " + v.ref.Group
	}
	return v.view("Traffic · "+what, v.c.styles.Muted.Render("last 15 minutes"), v.d != nil)
}
func (v *trafficDetail) ShortHelp() []key.Binding  { return v.help().ShortHelp() }
func (v *trafficDetail) FullHelp() [][]key.Binding { return v.help().FullHelp() }

func (v *trafficDetail) help() keyHelp {
	if v.d != nil && len(v.d.Pods) > 0 {
		return dataHelp(v.c.keys, key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open pod")))
	}
	return dataHelp(v.c.keys)
}

func (v *trafficDetail) Loaded(msg detailMsg) tea.Cmd {
	cmd, isData := v.answer(msg)
	if !isData { // the timer's reload: the next timer starts when it answers
		v.timer = false
		return cmd
	}
	if keep(msg, &v.d) {
		v.sel = min(v.sel, max(len(v.d.Pods)-1, 0))
	}
	v.rebuild()
	if v.timer { // one timer at a time, however often r is pressed
		return nil
	}
	v.timer = true
	return v.reloadAfter(trafficReload)
}

// Update moves the pod cursor with the arrows (scrolling to keep it in view); the other keys
// scroll and reload.
func (v *trafficDetail) Update(msg tea.KeyPressMsg) tea.Cmd {
	if v.d != nil && len(v.d.Pods) > 0 && v.c.keys.step(msg, &v.sel, len(v.d.Pods)) {
		v.rebuild()
		return nil
	}
	return v.loader.Update(msg)
}

// Selected is the chosen pod: enter opens its detail.
func (v *trafficDetail) Selected() (model.Ref, bool) {
	if v.d == nil || v.sel >= len(v.d.Pods) {
		return model.Ref{}, false
	}
	p := v.d.Pods[v.sel]
	return model.Ref{Kind: model.RefPod, Namespace: p.Namespace, Name: p.Pod}, true
}

// nowValue formats a series' newest value, "–" when it has none.
func nowValue(s model.Series, f func(float64) string) string {
	v := s.Last()
	if math.IsNaN(v) {
		return "–"
	}
	return f(v)
}

func (v *trafficDetail) rebuild() {
	if v.d == nil || v.width == 0 {
		return
	}
	st := &v.c.styles
	d := v.d
	w := v.width
	lines := v.reloadFailed() // a reload that failed leaves the last data, with why
	if d.RPS.Empty() && d.ErrorRatio.Empty() && d.P90.Empty() {
		lines = append(lines, "  "+st.status(toneMuted, "no data in the last 15 minutes")+
			st.Muted.Render(" — Prometheus has no series of this traffic: no requests, or the gateways are not scraped"))
	} else {
		const labelW, valueW = 6, 9
		sw := max(w-2-labelW-1-valueW-2, 8)
		et := errTone(d.ErrorRatio.Last())
		row := func(label, value string, s model.Series, t tone) string {
			return "  " + st.Label.Render(fit(label, labelW)) + " " + st.paint(t, fitRight(value, valueW)) + "  " + st.paint(t, seriesSparkline(s.Values, sw))
		}
		sw = width(seriesSparkline(d.RPS.Values, sw)) // the axis spans what is drawn
		lines = append(lines,
			row("req/s", nowValue(d.RPS, fmtRate), d.RPS, toneNone),
			row("p50", nowValue(d.P50, fmtMillis), d.P50, toneNone),
			row("p90", nowValue(d.P90, fmtMillis), d.P90, toneNone),
			row("p99", nowValue(d.P99, fmtMillis), d.P99, toneNone),
			row("5xx", nowValue(d.ErrorRatio, fmtPercent), d.ErrorRatio, et),
			"  "+st.Muted.Render(fmt.Sprintf("%s%s%s", fit("", labelW+1+valueW+2), fit("-15m", max(sw-3, 4)), "now")),
		)
	}
	var errs [][]cell
	for _, e := range d.TopErrors {
		t := toneWarn
		if e.Code == "5xx" {
			t = toneBad
		}
		errs = append(errs, []cell{{text: e.Code, tone: t}, {text: fmtRate(e.RPS) + "/s"}, {text: orDash(e.Reason), tone: toneMuted}})
	}
	lines = append(lines, gridSection(st, w, st.PanelTitle.Render("Errors")+st.Muted.Render("  over the window, the most frequent first"),
		[]string{"KIND", "RATE", "REASON"}, errs, st.status(toneOK, "none"))...)
	lines = append(lines, "", st.PanelTitle.Render("Pods")+st.Muted.Render("  serving it now, the busiest first"))
	v.podLine = -1
	if len(d.Pods) == 0 {
		lines = append(lines, "  "+st.Muted.Render("no pod served it in the last minute"))
	} else {
		var rows [][]cell
		for _, p := range d.Pods {
			rows = append(rows, []cell{{text: p.Pod}, {text: fmtRate(p.RPS)}, {text: fmtPercent(p.ErrorRatio), tone: errTone(p.ErrorRatio)}})
		}
		g := grid(st, 2, w, []string{"POD", "REQ/S", "5XX"}, rows)
		v.podLine = len(lines) + 1
		for i := 1; i < len(g); i++ {
			if i-1 == v.sel {
				g[i] = st.Selected.Render(fit("▸"+ansi.Strip(g[i])[1:], w))
			}
		}
		lines = append(lines, g...)
	}
	v.pager.SetLines(lines)
	if v.podLine >= 0 { // keep the chosen pod in view
		line := v.podLine + v.sel
		if line >= v.pager.offset+v.pager.height {
			v.pager.offset = line - v.pager.height + 1
		}
		if line < v.pager.offset {
			v.pager.offset = line
		}
		v.pager.clamp()
	}
}
