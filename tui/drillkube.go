package tui

import (
	"context"
	"fmt"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/apimctl/apimctl/ops/model"
)

// The Kubernetes drill-downs: a pod (podDetail), its logs (logView), a Deployment with its
// HPA (deploymentDetail). This file holds what they share with the root: how a detail opens
// another, says something in the status line, reloads when a snapshot shows its object
// changed, and takes every key while it reads a line of its own.

// objectDetail is what the details of a Kubernetes object (a pod, a Deployment) share: the
// ref, the snapshot that tells when the object changed, one read at a time bound to the
// detail's context, the last read's outcome, and a pager below the title and headline.
type objectDetail struct {
	c     *common
	self  objectScreen
	ref   model.Ref
	snap  *model.Snapshot
	ctx   context.Context
	pager pager

	err      error // the last read's error, shown above what was read before
	loading  bool
	loadedAt time.Time

	width, height int
}

// objectScreen is the detail an objectDetail serves: how it reads and draws its object.
type objectScreen interface {
	detailScreen
	load() tea.Cmd
	rebuild()
}

func newObjectDetail(c *common, ref model.Ref) objectDetail {
	return objectDetail{c: c, ref: ref, pager: pager{c: c}}
}

// Open keeps ctx and starts the first read.
func (o *objectDetail) Open(ctx context.Context) tea.Cmd {
	o.ctx = ctx
	return o.self.load()
}

// read starts read in a command, its answer for self, after mark notes what the snapshot
// shows of the object; nil (and no mark) while a read runs or once the detail closed.
func (o *objectDetail) read(mark func(), read func(ctx context.Context) (any, error)) tea.Cmd {
	if o.loading || o.ctx == nil || o.ctx.Err() != nil {
		return nil
	}
	o.loading = true
	mark()
	ctx, self := o.ctx, o.self
	return func() tea.Msg {
		data, err := read(ctx)
		return detailMsg{d: self, data: data, err: err}
	}
}

// answered takes what a read answered, but its data: when, and its error.
func (o *objectDetail) answered(msg detailMsg) {
	o.loading = false
	o.loadedAt = o.c.clock()
	o.c.now = o.loadedAt
	o.err = msg.err
}

// readState is the title's word on the read: loading, or the data's age.
func (o *objectDetail) readState() string {
	st := &o.c.styles
	if o.loadedAt.IsZero() {
		return st.Muted.Render("loading…")
	}
	return st.Muted.Render("read " + ago(o.loadedAt, o.c.now))
}

func (o *objectDetail) SetSnapshot(s *model.Snapshot) { o.snap = s }
func (o *objectDetail) Refresh()                      { o.self.rebuild() }

func (o *objectDetail) SetSize(w, h int) {
	o.width, o.height = w, h
	o.pager.SetSize(w, max(h-2, 1))
	o.self.rebuild()
}

// Update reads again on r; the other keys scroll.
func (o *objectDetail) Update(msg tea.KeyPressMsg) tea.Cmd {
	if key.Matches(msg, o.c.keys.Reload) {
		return o.self.load()
	}
	o.pager.Update(msg)
	return nil
}

// statusMsg puts a line in the status line (err: as an error).
type statusMsg struct {
	text string
	err  bool
}

// keyOpener is a screen whose own keys open a detail above it (l: a pod's logs); the root
// opens it at once, so the keys typed next go to what it opened.
type keyOpener interface {
	OpenFor(msg tea.KeyPressMsg) (model.Ref, bool)
}

func statusCmd(text string, err bool) tea.Cmd {
	return func() tea.Msg { return statusMsg{text, err} }
}

// inputCapturer is a screen that reads a line of its own (the log view's save path): while
// it does, every key goes to it, none to the console's global keys.
type inputCapturer interface{ Capturing() bool }

// reloader is a detail that a new snapshot can make stale (its pod changed or disappeared);
// Reload returns the command that reads it again, nil when it is current.
type reloader interface{ Reload() tea.Cmd }

// detailRequest carries out what a detail asked of the root.
func (m *Model) detailRequest(msg tea.Msg) tea.Cmd {
	defer m.buildChrome()
	if s, ok := msg.(statusMsg); ok {
		m.message, m.messageErr = s.text, s.err
	}
	return nil
}

// reloadStale reloads the open details a new snapshot made stale.
func (m *Model) reloadStale() tea.Cmd {
	var cmds []tea.Cmd
	for _, o := range m.stack {
		if r, ok := o.d.(reloader); ok {
			cmds = append(cmds, r.Reload())
		}
	}
	return tea.Batch(cmds...)
}

// findPod is the pod of the snapshot's topology with the name (nil when none).
func findPod(s *model.Snapshot, name string) *model.PodState {
	if s == nil {
		return nil
	}
	t := &s.Topology
	for _, wls := range [][]model.Workload{t.ANM, t.Unclassified} {
		if p := podIn(wls, name); p != nil {
			return p
		}
	}
	for i := range t.Groups {
		g := &t.Groups[i]
		if p := podIn(g.Traffic, name); p != nil {
			return p
		}
		if p := podIn(g.APIManager, name); p != nil {
			return p
		}
	}
	return nil
}

func podIn(wls []model.Workload, name string) *model.PodState {
	for i := range wls {
		for j := range wls[i].Pods {
			if wls[i].Pods[j].Name == name {
				return &wls[i].Pods[j]
			}
		}
	}
	return nil
}

// findWorkload is the Deployment of the snapshot's topology with the name (nil when none).
func findWorkload(s *model.Snapshot, name string) *model.Workload {
	if s == nil {
		return nil
	}
	t := &s.Topology
	all := [][]model.Workload{t.ANM, t.Unclassified}
	for i := range t.Groups {
		all = append(all, t.Groups[i].Traffic, t.Groups[i].APIManager)
	}
	for _, wls := range all {
		for i := range wls {
			if wls[i].Kind == "Deployment" && wls[i].Name == name {
				return &wls[i]
			}
		}
	}
	return nil
}

// hpaTarget is the Deployment an HPA of the snapshot scales ("" when the snapshot has no
// HPA of that name).
func hpaTarget(s *model.Snapshot, hpa string) string {
	if s == nil {
		return ""
	}
	for _, g := range s.Topology.Groups {
		if g.HPA != nil && g.HPA.Name == hpa {
			return g.HPA.Target
		}
	}
	return ""
}

// fmtCPU is millicores as Kubernetes writes them: "250m", "2".
func fmtCPU(m int64) string {
	if m%1000 == 0 {
		return fmt.Sprint(m / 1000)
	}
	return fmt.Sprintf("%dm", m)
}

// fmtBytes is a memory size in binary units: "512Mi", "1.5Gi".
func fmtBytes(b int64) string {
	switch {
	case b >= 1<<30:
		return trimZero(fmt.Sprintf("%.1f", float64(b)/(1<<30))) + "Gi"
	case b >= 1<<20:
		return fmt.Sprintf("%dMi", b>>20)
	case b >= 1<<10:
		return fmt.Sprintf("%dKi", b>>10)
	}
	return fmt.Sprintf("%dB", b)
}

func trimZero(s string) string {
	if len(s) > 2 && s[len(s)-2:] == ".0" {
		return s[:len(s)-2]
	}
	return s
}
