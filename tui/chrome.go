package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"github.com/apimctl/apimctl/ops/model"
)

// Chrome: the two header lines, the status line and the help line(s) around the body.
const headerLines = 2

func (m *Model) helpKeys() help.KeyMap {
	if j := m.shownJob(); j != nil && m.prompt == promptNone {
		return m.jobHelp(j)
	}
	if m.dialog != nil && m.prompt == promptNone {
		return m.dialog
	}
	if m.prompt != promptNone {
		k := m.c.keys
		if m.prompt == promptCommand {
			return keyHelp{short: []key.Binding{k.Accept, k.Complete, k.Cancel}, full: [][]key.Binding{{k.Accept, k.Complete, k.Cancel}}}
		}
		return keyHelp{short: []key.Binding{k.Accept, k.Cancel}, full: [][]key.Binding{{k.Accept, k.Cancel}}}
	}
	return m.body()
}

func (m *Model) helpHeight() int {
	if !m.help.ShowAll {
		return 1
	}
	n := 1
	for _, col := range m.helpKeys().FullHelp() {
		n = max(n, len(col))
	}
	return n
}

func (m *Model) bodyHeight() int {
	return max(m.height-headerLines-1-m.helpHeight(), 1)
}

// layout hands the new size to every screen (hidden ones too: it is cheap, rows are not
// rebuilt) and rebuilds the chrome.
func (m *Model) layout() {
	m.help.SetWidth(m.width)
	for _, s := range m.screens {
		s.SetSize(m.width, m.bodyHeight())
	}
	for _, o := range m.stack {
		o.d.SetSize(m.width, m.bodyHeight())
	}
	m.input.SetWidth(max(m.width-4, 10))
	m.buildChrome()
}

// readOnlyReason reports whether the console is read-only and, when it is not simply the
// read-only mode, why: the API server lets this identity do nothing, or could not be asked.
func readOnlyReason(opts Options, s *model.Snapshot) (reason string, readOnly bool) {
	switch {
	case opts.ReadOnly || (s != nil && s.ReadOnly):
		return "", true
	case s == nil:
		return "", false
	case !s.Access.Known:
		return "access unknown", true
	}
	for _, ok := range s.Access.Allowed {
		if ok {
			return "", false
		}
	}
	return "no RBAC rights", true
}

func (m *Model) buildChrome() {
	st := &m.c.styles
	w := m.width
	// Header line 1: who and where, with the read-only flag kept visible on the right.
	left := st.AppName.Render("apimctl")
	right := ""
	if m.snap != nil {
		s := m.snap
		left += "  " + st.HeaderKey.Render("ctx ") + st.HeaderVal.Render(orDash(s.Context)) +
			"  " + st.HeaderKey.Render("ns ") + st.HeaderVal.Render(orDash(s.Namespace)) +
			"  " + st.HeaderKey.Render("as ") + st.HeaderVal.Render(orDash(s.Identity))
	}
	m.c.readOnly = ""
	if r, ro := readOnlyReason(m.opts, m.snap); ro {
		m.c.readOnly = "read-only"
		if r != "" {
			m.c.readOnly += " (" + r + ")"
		}
		right = st.ReadOnly.Render("! READ-ONLY")
		if r != "" {
			right += st.Muted.Render(" (" + r + ")")
		}
	} else if m.snap != nil {
		right = st.ReadWrite.Render("read-write")
	}
	left = truncate(left, max(w-width(right)-1, 1))
	line1 := left + strings.Repeat(" ", max(w-width(left)-width(right), 1)) + right
	// Header line 2: the views, numbered; the active one marked by brackets as well as colour.
	labels := m.tabLabels()
	tabs := make([]string, len(labels))
	for i, l := range labels {
		if i == m.active {
			tabs[i] = st.ActiveTab.Render(l)
		} else {
			tabs[i] = st.Tab.Render(l)
		}
	}
	line2 := " " + strings.Join(tabs, " ")
	if len(m.stack) > 0 {
		line2 = m.breadcrumb()
	}
	m.header = truncate(line1, w) + "\n" + truncate(line2, w)

	// Status line: a message, or every source's freshness at a glance.
	switch {
	case m.message != "" && m.messageErr:
		m.status = truncate(st.Error.Render("✗ "+m.message), w)
	case m.message != "":
		m.status = truncate(st.Message.Render(m.message), w)
	case m.snap == nil:
		m.status = ""
	default:
		parts := m.jobsStatus(st)
		if m.feedClosed {
			parts = append(parts, st.status(toneBad, "live feed stopped: data frozen"))
		}
		for _, src := range m.snap.Sources {
			text, t := shortFreshness(src, m.c.now)
			parts = append(parts, st.Muted.Render(src.Name+" ")+st.status(t, text))
		}
		m.status = truncate(strings.Join(parts, st.Muted.Render(" · ")), w)
	}
}

// loadingView is the body before the first snapshot.
func (m *Model) loadingView(h int) string {
	st := &m.c.styles
	msg := st.status(toneBusy, "loading") + st.Muted.Render(" — waiting for the first snapshot from the cluster…")
	if m.feedClosed || m.feed == nil {
		msg = st.status(toneBad, "no data") + st.Muted.Render(" — the live feed stopped before the first snapshot; check the connection and restart (q quits)")
	}
	lines := make([]string, h)
	lines[min(h/2, h-1)] = "  " + msg
	return padLines(lines, m.width, h)
}

// tabLabels are the views' labels on the header's second line: numbered ("2 pods"), or the
// names alone when the numbers do not fit; the active one in brackets.
func (m *Model) tabLabels() []string {
	labels := make([]string, len(viewNames))
	total := 0
	for i, name := range viewNames {
		labels[i] = fmt.Sprintf("%d %s", i+1, name)
		total += width(labels[i]) + 1
	}
	numbered := total+2 <= m.width
	for i, name := range viewNames {
		if !numbered {
			labels[i] = name
		}
		if i == m.active {
			labels[i] = "[" + labels[i] + "]"
		}
	}
	return labels
}
