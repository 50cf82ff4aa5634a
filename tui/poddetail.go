package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/apimctl/apimctl/ops/model"
)

// podDetail is a pod drilled into: the judgement of why it is not Ready on top, then its
// placement, conditions, containers (state, last termination, restarts over time, requests
// and limits beside live usage, probes, image and digest) and events. It reads the pod again
// when a snapshot shows it changed, and says so plainly when the pod is gone.
type podDetail struct {
	objectDetail
	ins PodInspector

	d *model.PodDetail // the last read (nil before the first)
	// seen is the pod as the snapshot showed it when it was last read: a different one means
	// the detail is stale.
	seen        model.PodState
	seenPresent bool
}

// podLoaded is what a pod read delivers.
type podLoaded struct{ d *model.PodDetail }

func newPodDetail(c *common, ins PodInspector, ref model.Ref) *podDetail {
	v := &podDetail{objectDetail: newObjectDetail(c, ref), ins: ins}
	v.self = v
	return v
}

func (v *podDetail) Name() string  { return "pod" }
func (v *podDetail) Crumb() string { return v.ref.Name }

func (v *podDetail) load() tea.Cmd {
	ins, ref := v.ins, v.ref
	return v.read(func() {
		if p := findPod(v.snap, ref.Name); p != nil {
			v.seen, v.seenPresent = *p, true
		} else {
			v.seenPresent = false
		}
	}, func(ctx context.Context) (any, error) {
		d, err := ins.Pod(ctx, ref.Namespace, ref.Name)
		return podLoaded{d}, err
	})
}

func (v *podDetail) Loaded(msg detailMsg) tea.Cmd {
	v.answered(msg)
	if pl, ok := msg.data.(podLoaded); ok && msg.err == nil && pl.d != nil {
		d := pl.d
		if d.Gone && v.d != nil && !v.d.Gone {
			// Keep what was known of it; the events that outlive it are the newest.
			g := model.PodGone(v.d, d.Namespace, d.Name, d.GoneSince)
			if len(d.Events) > 0 {
				g.Events = d.Events
			}
			d = &g
		}
		v.d = d
	}
	v.rebuild()
	return nil
}

// Reload reads the pod again when the snapshot shows it changed or gone.
func (v *podDetail) Reload() tea.Cmd {
	if v.d == nil || v.d.Gone {
		return nil
	}
	p := findPod(v.snap, v.ref.Name)
	switch {
	case p == nil && !v.seenPresent:
		return nil // not a pod of the topology: the snapshot cannot tell
	case p == nil, !v.seenPresent, *p != v.seen:
		return v.load()
	}
	return nil
}

// OpenFor: l opens the pod's log, p its previous container's.
func (v *podDetail) OpenFor(msg tea.KeyPressMsg) (model.Ref, bool) {
	k := v.c.keys
	if !key.Matches(msg, k.Logs) && !key.Matches(msg, k.PrevLogs) {
		return model.Ref{}, false
	}
	ref := model.Ref{Kind: model.RefLogs, Namespace: v.ref.Namespace, Name: v.ref.Name, Previous: key.Matches(msg, k.PrevLogs)}
	if v.d != nil {
		ref.Container = v.mainContainer()
	}
	return ref, true
}

// mainContainer is the container whose log l opens: the first that is not ready, else the
// first regular one.
func (v *podDetail) mainContainer() string {
	first := ""
	for _, c := range v.d.Containers {
		if c.Init {
			continue
		}
		if first == "" {
			first = c.Name
		}
		if !c.Ready {
			return c.Name
		}
	}
	return first
}

func (v *podDetail) View() string {
	st := &v.c.styles
	extra := st.Muted.Render(v.ref.Namespace)
	status := v.readState()
	if v.loading && v.d != nil {
		status = st.status(toneBusy, "reading")
	}
	title := titleBar(v.c, max(v.width-width(status)-1, 1), "Pod "+v.ref.Name, extra, nil) + " " + status
	return truncate(title, v.width) + "\n" + v.headline() + "\n" + v.pager.View()
}

// headline is the judgement: why the pod is not Ready, that it is gone, or that it is Ready.
func (v *podDetail) headline() string {
	st := &v.c.styles
	var s string
	switch d := v.d; {
	case v.err != nil:
		s = st.status(toneBad, "cannot read pod "+v.ref.Name+": "+v.err.Error())
		if d != nil {
			s += st.Muted.Render(" — showing what was read " + ago(v.loadedAt, v.c.now))
		}
	case d == nil:
		s = st.status(toneBusy, "reading pod "+v.ref.Name+"…")
	case d.Gone:
		when := "deleted"
		if !d.GoneSince.IsZero() {
			when = "deleted " + ago(d.GoneSince, v.c.now)
		}
		s = st.status(toneBad, fmt.Sprintf("pod %s no longer exists (%s)", d.Name, when)) + st.Muted.Render(" — below, what was last known")
	case d.NotReady != "":
		s = st.status(toneBad, d.NotReady)
	default:
		s = st.status(toneOK, "Ready")
	}
	return truncate(s, v.width)
}

func (v *podDetail) rebuild() {
	if v.d == nil || v.width == 0 {
		v.pager.SetLines(nil)
		return
	}
	st := &v.c.styles
	d, w, now := v.d, v.width, v.c.now
	var lines []string
	ready, rt := "✗ not ready", toneBad
	if d.Ready {
		ready, rt = "✓ ready", toneOK
	}
	restarts := fmt.Sprint(d.Restarts)
	if d.Restarts > 0 {
		restarts = st.paint(toneWarn, restarts) + st.Muted.Render(" "+restartHistory(d, now))
	}
	lines = append(lines, kv(st, 2, w, [][2]string{
		{"status", orDash(d.Phase) + "  " + st.paint(rt, ready) + "  " + st.Label.Render("restarts ") + restarts},
		{"node", orDash(d.Node) + st.Label.Render("  zone ") + orDash(d.Zone) + st.Label.Render("  ip ") + orDash(d.IP)},
		{"owner", orDash(d.Owner)},
		{"age", humanAge(now.Sub(d.Created))},
	})...)
	lines = append(lines, "", st.PanelTitle.Render("Conditions"))
	if len(d.Conditions) == 0 {
		lines = append(lines, "  "+st.Muted.Render("none reported"))
	}
	for _, c := range d.Conditions {
		t := toneOK
		if c.Status != "True" {
			t = toneBad
		}
		l := fmt.Sprintf("  %s %s  %s", st.status(t, c.Type), st.Muted.Render(c.Status), ago(c.LastTransitionTime, now))
		if c.Reason != "" || c.Message != "" {
			l += "  " + st.paint(t, c.Reason) + " " + st.Muted.Render(c.Message)
		}
		lines = append(lines, truncate(l, w))
	}
	for i := range d.Containers {
		lines = append(lines, "")
		lines = append(lines, v.container(&d.Containers[i])...)
	}
	if d.UsageNote != "" {
		lines = append(lines, "  "+st.Muted.Render("usage: "+d.UsageNote))
	}
	lines = append(lines, "", st.PanelTitle.Render(fmt.Sprintf("Events (%d, newest first)", len(d.Events))))
	if len(d.Events) == 0 {
		lines = append(lines, "  "+st.Muted.Render("none (events are kept for an hour)"))
	}
	for _, e := range d.Events {
		lines = append(lines, truncate(eventLine(st, e, now, "  ", e.Message), w))
	}
	v.pager.SetLines(lines)
}

// restartHistory says how the restarts spread over time, from the start times the events
// keep: "over 4m, last 12s ago".
func restartHistory(d *model.PodDetail, now time.Time) string {
	var last time.Time
	for _, c := range d.Containers {
		if c.LastTermination != nil && c.LastTermination.FinishedAt.After(last) {
			last = c.LastTermination.FinishedAt
		}
	}
	var parts []string
	if n := len(d.RestartTimes); n >= 2 {
		parts = append(parts, "over "+humanAge(d.RestartTimes[n-1].Sub(d.RestartTimes[0])))
	}
	if !last.IsZero() {
		parts = append(parts, "last exit "+ago(last, now))
	}
	return strings.Join(parts, ", ")
}

func (v *podDetail) container(c *model.ContainerDetail) []string {
	st := &v.c.styles
	w, now := v.width, v.c.now
	kind := "Container "
	if c.Init {
		kind = "Init container "
	}
	state, t := c.State, toneOK
	switch {
	case c.State == "waiting":
		t = toneBad
		if c.Reason == "ContainerCreating" || c.Reason == "PodInitializing" {
			t = toneBusy
		}
	case c.State == "terminated" && c.Exit != nil && c.Exit.ExitCode == 0:
		t = toneMuted
	case c.State == "terminated", !c.Ready && !c.Init:
		t = toneWarn
	}
	if c.Reason != "" {
		state += " " + c.Reason
	}
	head := st.PanelTitle.Render(kind+c.Name) + "  " + st.status(t, state)
	if !c.Since.IsZero() {
		head += st.Muted.Render(" since " + ago(c.Since, now))
	}
	lines := []string{truncate(head, w)}
	var pairs [][2]string
	if m := firstLineOf(c.Message); m != "" {
		pairs = append(pairs, [2]string{"message", st.paint(t, m)})
	}
	img := c.Image
	if dg := digestOf(c.ImageID); dg != "" {
		img += st.Muted.Render("  digest " + dg)
	} else if c.ImageID != "" && c.ImageID != c.Image {
		img += st.Muted.Render("  runs " + c.ImageID)
	}
	pairs = append(pairs, [2]string{"image", img})
	if c.Exit != nil {
		pairs = append(pairs, [2]string{"exit", termText(c.Exit, now)})
	}
	if c.LastTermination != nil {
		pairs = append(pairs, [2]string{"last end", st.paint(toneWarn, termText(c.LastTermination, now))})
	}
	if !c.Init {
		pairs = append(pairs, [2]string{"restarts", fmt.Sprint(c.Restarts)})
	}
	pairs = append(pairs,
		[2]string{"cpu", usageLine(st, c.Usage != nil, usageOf(c.Usage, true), c.Requests.CPUMillis, c.Limits.CPUMillis, fmtCPU)},
		[2]string{"memory", usageLine(st, c.Usage != nil, usageOf(c.Usage, false), c.Requests.MemoryBytes, c.Limits.MemoryBytes, fmtBytes)})
	for _, p := range [][2]string{{"readiness", c.Readiness}, {"liveness", c.Liveness}, {"startup", c.Startup}} {
		if p[1] != "" {
			pairs = append(pairs, [2]string{p[0], p[1]})
		} else if !c.Init && p[0] != "startup" {
			pairs = append(pairs, [2]string{p[0], st.Muted.Render("no probe")})
		}
	}
	return append(lines, kv(st, 4, w, pairs)...)
}

func usageOf(u *model.Resources, cpu bool) int64 {
	switch {
	case u == nil:
		return 0
	case cpu:
		return u.CPUMillis
	}
	return u.MemoryBytes
}

// usageLine is "12m used of 500m requested (2%) · limit 2", with a bar against the limit.
func usageLine(st *Styles, known bool, used, req, limit int64, f func(int64) string) string {
	var s string
	if known {
		s = f(used) + " used"
	} else {
		s = st.Muted.Render("usage unknown")
	}
	if req > 0 {
		s += st.Muted.Render(" · request ") + f(req)
		if known {
			s += st.Muted.Render(fmt.Sprintf(" (%d%%)", used*100/req))
		}
	} else {
		s += st.Muted.Render(" · no request")
	}
	if limit > 0 {
		s += st.Muted.Render(" · limit ") + f(limit)
		if known {
			t := toneOK
			if used*10 >= limit*9 {
				t = toneBad
			} else if used*10 >= limit*7 {
				t = toneWarn
			}
			s += "  " + st.paint(t, bar(float64(used)/float64(limit), 10))
		}
	} else {
		s += st.Muted.Render(" · no limit")
	}
	return s
}

func termText(t *model.Termination, now time.Time) string {
	s := fmt.Sprintf("exit code %d", t.ExitCode)
	if t.Reason != "" {
		s += " (" + t.Reason + ")"
	}
	if t.Signal != 0 {
		s += fmt.Sprintf(" signal %d", t.Signal)
	}
	if !t.FinishedAt.IsZero() {
		s += " " + ago(t.FinishedAt, now)
		if !t.StartedAt.IsZero() {
			s += ", ran " + humanAge(t.FinishedAt.Sub(t.StartedAt))
		}
	}
	if m := firstLineOf(t.Message); m != "" {
		s += ": " + m
	}
	return s
}

// digestOf is the sha256 digest of an image ID ("" when it names none), shortened.
func digestOf(id string) string {
	i := strings.Index(id, "sha256:")
	if i < 0 {
		return ""
	}
	d := id[i:]
	if len(d) > 19 {
		d = d[:19] + "…"
	}
	return d
}

func firstLineOf(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i]) + " …"
	}
	return s
}

func (v *podDetail) ShortHelp() []key.Binding {
	k := v.c.keys
	return detailHelp(k, k.Logs, k.PrevLogs, k.Reload).ShortHelp()
}

func (v *podDetail) FullHelp() [][]key.Binding {
	k := v.c.keys
	return detailHelp(k, k.Logs, k.PrevLogs, k.Reload).FullHelp()
}
