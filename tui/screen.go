package tui

import (
	"strings"

	"github.com/apimctl/apimctl/ops/model"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// screen is one view of the console. The root sends it the snapshot and size in Update; its
// View only draws what those built.
type screen interface {
	// Name is the view's name, as typed after ":".
	Name() string
	// SetSnapshot rebuilds whatever the view precomputes from a snapshot.
	SetSnapshot(s *model.Snapshot)
	// Refresh rebuilds what depends on the clock (called each second on the visible view).
	Refresh()
	// SetSize sets the body area the view draws in.
	SetSize(w, h int)
	// Update handles a key the root did not take.
	Update(msg tea.KeyPressMsg) tea.Cmd
	// View draws exactly the body area: h lines of at most w cells.
	View() string
	help.KeyMap
}

// filterable is a screen with a list that "/" narrows.
type filterable interface {
	SetFilter(f string)
	Filter() string
}

// viewNames are the views in tab order; digits 1-9 select the first nine.
var viewNames = []string{"dashboard", "pods", "hpa", "cassandra", "mysql", "traffic", "events", "findings", "alerts", "sites"}

// titleBar draws a view's or panel's first line: "── Title · extra ─────── source ✓ 3s ago ─".
func titleBar(c *common, w int, title, extra string, src *model.SourceState) string {
	st := &c.styles
	left := st.PanelRule.Render("─ ") + st.PanelTitle.Render(title)
	if extra != "" {
		left += st.Muted.Render(" · ") + extra
	}
	right := ""
	if src != nil {
		text, t := freshness(*src, c.now)
		right = st.Muted.Render(src.Name+" ") + st.status(t, text)
	}
	lw, rw := width(left), width(right)
	if right != "" && lw+rw+4 > w {
		// The freshness matters more than the extra detail: cut the left side first.
		if rw > w*2/3 {
			right = truncate(right, w*2/3)
			rw = width(right)
		}
		left = truncate(left, max(w-rw-5, 1))
		lw = width(left)
	}
	fill := max(w-lw-rw-4, 1)
	if right == "" {
		return truncate(left+" "+st.PanelRule.Render(strings.Repeat("─", max(w-lw-1, 0))), w)
	}
	return truncate(left+" "+st.PanelRule.Render(strings.Repeat("─", fill))+" "+right+st.PanelRule.Render(" ─"), w)
}

// sourceBanner is the line under a title that spells out a failing source's error (nil when
// the source is fine). The data below it is the last that was read, and it says so.
func sourceBanner(c *common, w int, src *model.SourceState) []string {
	if src == nil || src.Error == "" {
		return nil
	}
	st := &c.styles
	tail := " — last data " + ago(src.LastSuccess, c.now)
	if !src.Synced {
		tail = " — no data read yet"
	}
	return []string{truncate(st.Bad.Render("✗ "+src.Name+": "+src.Error)+st.Muted.Render(tail), w)}
}

// viewTitle is a view's title bar plus, when its source fails, the error banner.
func viewTitle(c *common, w int, title, extra string, snap *model.Snapshot, source string) string {
	if snap == nil {
		return titleBar(c, w, title, extra, nil)
	}
	src := snap.Source(source)
	return strings.Join(append([]string{titleBar(c, w, title, extra, &src)}, sourceBanner(c, w, &src)...), "\n")
}

// titleLines is how many lines viewTitle takes for this snapshot.
func titleLines(snap *model.Snapshot, source string) int {
	if snap != nil && snap.Source(source).Error != "" {
		return 2
	}
	return 1
}

// sourcePager is what the pager views of one source share (Cassandra, MySQL, the HPAs): the
// snapshot, the size, and the pager below the view's title (two lines while the source fails).
type sourcePager struct {
	c      *common
	self   interface{ rebuild() }
	source string
	snap   *model.Snapshot
	pager  pager
	width  int
	height int
}

func newSourcePager(c *common, source string) sourcePager {
	return sourcePager{c: c, source: source, pager: pager{c: c}}
}

func (v *sourcePager) SetSnapshot(s *model.Snapshot) { v.snap = s; v.SetSize(v.width, v.height) }

// Refresh does nothing: what the view shows changes with the snapshot, not the clock (the
// HPA view, which shows ages, has its own).
func (v *sourcePager) Refresh() {}

func (v *sourcePager) SetSize(w, h int) {
	v.width, v.height = w, h
	v.pager.SetSize(w, max(h-titleLines(v.snap, v.source), 0))
	v.self.rebuild()
}

// Update scrolls.
func (v *sourcePager) Update(msg tea.KeyPressMsg) tea.Cmd { v.pager.Update(msg); return nil }

// view is the view's title over the pager.
func (v *sourcePager) view(title, extra string) string {
	return viewTitle(v.c, v.width, title, extra, v.snap, v.source) + "\n" + v.pager.View()
}

// pager is a scrolling block of prepared lines, for the detail views.
type pager struct {
	c      *common
	lines  []string
	offset int
	width  int
	height int
}

func (p *pager) SetLines(lines []string) {
	p.lines = lines
	p.clamp()
}

func (p *pager) SetSize(w, h int) {
	p.width, p.height = w, h
	p.clamp()
}

func (p *pager) clamp() {
	p.offset = min(p.offset, max(len(p.lines)-p.height, 0))
	p.offset = max(p.offset, 0)
}

// Update scrolls; it reports whether the key was a scrolling key.
func (p *pager) Update(msg tea.KeyPressMsg) bool {
	if !p.c.keys.scroll(msg, &p.offset, max(p.height-1, 1), len(p.lines)) {
		return false
	}
	p.clamp()
	return true
}

func (p *pager) View() string {
	end := min(p.offset+p.height, len(p.lines))
	return padLines(p.lines[p.offset:end], p.width, p.height)
}

// pagerHelp is the help of a view that only scrolls.
func pagerHelp(k KeyMap) keyHelp {
	return keyHelp{
		short: []key.Binding{k.Move, k.Command, k.JumpView, k.Help, k.Back, k.Quit},
		full:  [][]key.Binding{k.listKeys(), k.globalKeys(), k.actionKeys()},
	}
}

// listHelp is the help of a view with a filterable list. short are the view's own keys as
// the one-line help shows them, full as the full help does.
func listHelp(k KeyMap, short []key.Binding, full ...key.Binding) keyHelp {
	s := append([]key.Binding{k.Move, k.Filter}, short...)
	s = append(s, k.Command, k.Help, k.Back, k.Quit)
	return keyHelp{short: s, full: [][]key.Binding{k.listKeys(), append([]key.Binding{k.Filter}, full...), k.globalKeys(), k.actionKeys()}}
}
