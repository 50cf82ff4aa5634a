package tui

import (
	"context"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/apimctl/apimctl/ops/model"
)

// Drill-down: enter on a row of a view opens its detail; enter (or a view's own key) on a
// detail opens a deeper one (a pod's logs); esc goes back. The open details are a stack above
// the view they came from, shown as a breadcrumb in the header: "pods › traffic-7d9f8-x ›
// logs". Each detail loads its data through the Inspector in a command (never in Update),
// receives it as a detailMsg, and stops what it started (a log stream) when it is closed.

// The drill-downs' data comes from an inspector (ops/inspect.Inspector) through small
// capability interfaces, k9s-style: a detail kind asks for the one it needs, and a kind whose
// capability the inspector lacks is not offered. The console never reaches a cluster client
// itself.
type (
	// PodInspector describes a pod, judged.
	PodInspector interface {
		Pod(ctx context.Context, namespace, name string) (*model.PodDetail, error)
	}
	// LogReader streams a log's lines to line until the log ends (without Follow) or ctx
	// does.
	LogReader interface {
		Logs(ctx context.Context, req model.LogRequest, line func(string)) error
	}
	// DeploymentInspector gives a Deployment's revisions and its HPA's decisions.
	DeploymentInspector interface {
		Deployment(ctx context.Context, namespace, name string) (*model.DeploymentDetail, error)
	}
	// CassandraInspector reads a Cassandra node's virtual tables.
	CassandraInspector interface {
		CassandraNode(ctx context.Context, address string) (*model.CassandraNodeDetail, error)
	}
	// MySQLInspector reads the metrics database's connections and tables.
	MySQLInspector interface {
		MySQL(ctx context.Context) (*model.MySQLDetail, error)
	}
	// TrafficInspector reads a group's or an API's traffic over the last minutes.
	TrafficInspector interface {
		Traffic(ctx context.Context, group, api string) (*model.TrafficDetail, error)
	}
)

// drillable is a view whose selected row can be opened.
type drillable interface {
	// Selected is the ref of the selected row (false when nothing is selected or the row
	// has no detail).
	Selected() (model.Ref, bool)
}

// detailScreen is one open drill-down.
type detailScreen interface {
	screen
	// Crumb is its segment of the breadcrumb ("traffic-7d9f8-x", "logs").
	Crumb() string
	// Open starts loading (the first time, and on reload); ctx ends when the detail closes.
	Open(ctx context.Context) tea.Cmd
	// Loaded receives what Open's command delivered.
	Loaded(msg detailMsg) tea.Cmd
}

// detailMsg carries data for the detail screen d (dropped when d is no longer open).
type detailMsg struct {
	d    detailScreen
	data any
	err  error
}

// openDetail is a detail with the context that ends it.
type openDetail struct {
	d      detailScreen
	cancel context.CancelFunc
}

// newDetail builds the detail screen of a ref (nil when the console has none for its kind).
func (m *Model) newDetail(ref model.Ref) detailScreen {
	if m.inspector == nil {
		return nil
	}
	mk := detailKinds[ref.Kind]
	if mk == nil {
		return nil
	}
	return mk(m.c, m.inspector, ref)
}

// detailKinds makes the detail screen of each ref kind from the inspector, or returns nil
// when the inspector cannot load it.
var detailKinds = map[string]func(c *common, ins any, ref model.Ref) detailScreen{
	// The Kubernetes drill-downs (drillkube.go).
	model.RefPod:        detailKind(newPodDetail),
	model.RefLogs:       detailKind(newLogView),
	model.RefDeployment: detailKind(newDeploymentDetail),
	model.RefHPA:        detailKind(newDeploymentDetail),
	// The data stores' and traffic's (drill_data.go).
	model.RefCassandra: detailKind(newCassandraDetail),
	model.RefMySQL:     detailKind(newMySQLDetail),
	model.RefTraffic:   ofGroup(detailKind(newTrafficDetail)),
}

// detailKind is a detailKinds entry: the detail that open makes when the inspector has the
// capability I, nil when it has not.
func detailKind[I any, D detailScreen](open func(c *common, ins I, ref model.Ref) D) func(c *common, ins any, ref model.Ref) detailScreen {
	return func(c *common, ins any, ref model.Ref) detailScreen {
		if i, ok := ins.(I); ok {
			return open(c, i, ref)
		}
		return nil
	}
}

// push opens a detail above what is shown.
func (m *Model) push(ref model.Ref) tea.Cmd {
	d := m.newDetail(ref)
	if d == nil {
		m.message = "nothing more to show for " + ref.Kind + " " + ref.Name
		return nil
	}
	ctx, cancel := context.WithCancel(m.ctx)
	m.stack = append(m.stack, openDetail{d, cancel})
	d.SetSize(m.width, m.bodyHeight())
	if m.snap != nil {
		d.SetSnapshot(m.snap)
	}
	m.buildChrome()
	return d.Open(ctx)
}

// pop closes the top detail; it reports whether there was one.
func (m *Model) pop() bool {
	n := len(m.stack)
	if n == 0 {
		return false
	}
	m.stack[n-1].cancel()
	m.stack = m.stack[:n-1]
	if n > 1 {
		m.stack[n-2].d.Refresh()
	}
	m.buildChrome()
	return true
}

// top is the open detail on screen, nil when a view is.
func (m *Model) top() detailScreen {
	if n := len(m.stack); n > 0 {
		return m.stack[n-1].d
	}
	return nil
}

// body is what the keys and the body area go to: the top detail, else the active view.
func (m *Model) body() screen {
	if d := m.top(); d != nil {
		return d
	}
	return m.screens[m.active]
}

// loaded routes a detailMsg to its detail if it is still open.
func (m *Model) loaded(msg detailMsg) tea.Cmd {
	for _, o := range m.stack {
		if o.d == msg.d {
			return o.d.Loaded(msg)
		}
	}
	return nil
}

// drill is the enter key: open the selected row of whatever is shown.
func (m *Model) drill() tea.Cmd {
	dr, ok := m.body().(drillable)
	if !ok {
		return nil
	}
	ref, ok := dr.Selected()
	if !ok {
		return nil
	}
	return m.push(ref)
}

// breadcrumb is the header's second line while details are open: the view, then each detail.
func (m *Model) breadcrumb() string {
	st := &m.c.styles
	parts := []string{st.Tab.Render(viewNames[m.active])}
	for i, o := range m.stack {
		c := o.d.Crumb()
		if i == len(m.stack)-1 {
			c = st.ActiveTab.Render(c)
		} else {
			c = st.Tab.Render(c)
		}
		parts = append(parts, c)
	}
	return " " + strings.Join(parts, st.Muted.Render(" › "))
}

// detailHelp is the help of an open detail, with esc to go back.
func detailHelp(k KeyMap, own ...key.Binding) keyHelp {
	back := key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back"))
	short := append(append([]key.Binding{k.Move}, own...), back, k.Help, k.Quit)
	return keyHelp{short: short, full: [][]key.Binding{k.listKeys(), append(own, back), k.globalKeys()}}
}
