package tui

import (
	"context"
	"math"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/apimctl/apimctl/ops/model"
)

// The data stores' and traffic's drill-downs: a Cassandra node, the metrics database, a
// group's or an API's traffic. Each loads through its capability of the inspector, shows
// "loading" until the answer comes, the error in one line when it fails, and reloads on r
// (the traffic detail also every 15 s while it is open).

// ofGroup opens a traffic detail only for a ref that names its group (and maybe an API in
// it).
func ofGroup(open func(c *common, ins any, ref model.Ref) detailScreen) func(c *common, ins any, ref model.Ref) detailScreen {
	return func(c *common, ins any, ref model.Ref) detailScreen {
		if ref.Group == "" {
			return nil
		}
		return open(c, ins, ref)
	}
}

// reloadKey reloads a data detail.
var reloadKey = key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "reload"))

// reloadMsg is the detail's own reload signal, delivered as a detailMsg's data.
type reloadMsg struct{}

// loader is what the data details share: the load in a command bound to the detail's
// context, the state of the last answer, a pager for the lines.
type loader struct {
	c       *common
	self    detailScreen
	ctx     context.Context
	load    func(ctx context.Context) (any, error)
	loading bool
	err     error
	at      time.Time // when the shown data was read
	pager   pager
	width   int
	height  int
}

func newLoader(c *common, load func(ctx context.Context) (any, error)) loader {
	return loader{c: c, load: load, loading: true, pager: pager{c: c}}
}

// start runs the load in a command; its answer comes back as a detailMsg for self.
func (l *loader) start() tea.Cmd {
	if l.ctx == nil || l.ctx.Err() != nil {
		return nil
	}
	l.loading = true
	ctx, self, load := l.ctx, l.self, l.load
	return func() tea.Msg {
		data, err := load(ctx)
		return detailMsg{d: self, data: data, err: err}
	}
}

// SetSnapshot and Refresh do nothing: a data detail shows what its loads read, not the
// snapshot.
func (l *loader) SetSnapshot(*model.Snapshot) {}
func (l *loader) Refresh()                    {}

// Open keeps ctx and starts the first load.
func (l *loader) Open(ctx context.Context) tea.Cmd {
	l.ctx = ctx
	return l.start()
}

// answer takes a load's answer: false when msg was a reload signal (a load was started
// instead: cmd).
func (l *loader) answer(msg detailMsg) (cmd tea.Cmd, isData bool) {
	if _, ok := msg.data.(reloadMsg); ok {
		return l.start(), false
	}
	l.loading, l.err, l.at = false, msg.err, l.c.now
	return nil, true
}

// loaded takes an answer for a detail that shows *dst: a reload signal starts a load
// (cmd); data replaces *dst when it loaded, and rebuild draws the lines again either way.
func loaded[T any](l *loader, msg detailMsg, dst **T, rebuild func()) tea.Cmd {
	cmd, isData := l.answer(msg)
	if isData {
		keep(msg, dst)
		rebuild()
	}
	return cmd
}

// keep stores in *dst the data of an answer that loaded without error; it reports whether
// it did.
func keep[T any](msg detailMsg, dst **T) bool {
	d, ok := msg.data.(*T)
	if !ok || msg.err != nil || d == nil {
		return false
	}
	*dst = d
	return true
}

// reloadFailed is the line that says the last reload failed and the data shown is older
// (none when the last load succeeded).
func (l *loader) reloadFailed() []string {
	if l.err == nil {
		return nil
	}
	st := &l.c.styles
	return []string{"  " + st.Bad.Render("✗ reload failed: "+l.err.Error()) + st.Muted.Render(" — showing the last data read")}
}

// reloadAfter asks for a reload of self after d.
func (l *loader) reloadAfter(d time.Duration) tea.Cmd {
	self := l.self
	return tea.Tick(d, func(time.Time) tea.Msg { return detailMsg{d: self, data: reloadMsg{}} })
}

// Update handles the keys every data detail shares: reload, then scrolling.
func (l *loader) Update(msg tea.KeyPressMsg) tea.Cmd {
	if key.Matches(msg, reloadKey) {
		return l.start()
	}
	l.pager.Update(msg)
	return nil
}

func (l *loader) setSize(w, h int) {
	l.width, l.height = w, h
	l.pager.SetSize(w, max(h-1, 0))
}

// view draws the title, then either the state of a load that has no data or the lines.
func (l *loader) view(name, extra string, hasData bool) string {
	st := &l.c.styles
	head := truncate(titleBar(l.c, max(l.width-20, 10), name, extra, nil)+" "+l.state(), l.width)
	switch {
	case !hasData && l.err != nil:
		return padLines([]string{head, "  " + st.Bad.Render("✗ "+l.err.Error()), "  " + st.Muted.Render("r reloads, esc goes back")}, l.width, l.height)
	case !hasData:
		return padLines([]string{head, "  " + st.status(toneBusy, "loading…")}, l.width, l.height)
	}
	return head + "\n" + l.pager.View()
}

// state is the load's state in a word: loading, the error, or the data's age.
func (l *loader) state() string {
	st := &l.c.styles
	switch {
	case l.loading && l.at.IsZero():
		return st.status(toneBusy, "loading")
	case l.loading:
		return st.status(toneBusy, "reloading")
	case l.err != nil:
		return st.status(toneBad, "error")
	}
	return st.status(toneOK, "read "+ago(l.at, l.c.now))
}

// ShortHelp and FullHelp are a data detail's help: reload, and the pager's keys.
func (l *loader) ShortHelp() []key.Binding  { return dataHelp(l.c.keys).ShortHelp() }
func (l *loader) FullHelp() [][]key.Binding { return dataHelp(l.c.keys).FullHelp() }

// dataHelp is the help of a data detail.
func dataHelp(k KeyMap, own ...key.Binding) keyHelp {
	return detailHelp(k, append([]key.Binding{reloadKey}, own...)...)
}

// seriesSparkline draws a series in at most w cells: when it has more points than cells, each
// cell shows the mean of its points; when it has far fewer, each point takes the same whole
// number of cells. A cell without any value is a blank, so a gap in the data shows as one.
// The scale runs from 0 (or the minimum, if negative) to the maximum.
func seriesSparkline(vals []float64, w int) string {
	if w <= 0 || len(vals) == 0 {
		return ""
	}
	cells := vals
	if k := w / len(vals); k > 1 {
		cells = make([]float64, 0, k*len(vals))
		for _, v := range vals {
			for range k {
				cells = append(cells, v)
			}
		}
	} else if len(vals) > w {
		cells = make([]float64, w)
		for i := range cells {
			from, to := i*len(vals)/w, (i+1)*len(vals)/w
			sum, n := 0.0, 0
			for _, v := range vals[from:to] {
				if !math.IsNaN(v) {
					sum += v
					n++
				}
			}
			cells[i] = math.NaN()
			if n > 0 {
				cells[i] = sum / float64(n)
			}
		}
	}
	lo, hi := 0.0, 0.0
	for _, v := range cells {
		if !math.IsNaN(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	var b strings.Builder
	for _, v := range cells {
		if math.IsNaN(v) {
			b.WriteByte(' ')
			continue
		}
		i := 0
		if hi > lo {
			i = int(math.Round((v - lo) / (hi - lo) * float64(len(sparkBlocks)-1)))
		}
		b.WriteRune(sparkBlocks[i])
	}
	return b.String()
}

// openHelp is the help of a pager view whose rows open: enter says what it opens.
func openHelp(k KeyMap, what string) keyHelp {
	open := key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", what))
	return keyHelp{
		short: []key.Binding{k.Move, open, k.Command, k.JumpView, k.Help, k.Back, k.Quit},
		full:  [][]key.Binding{append(k.listKeys(), open), k.globalKeys()},
	}
}
