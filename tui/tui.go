// Package tui is apimctl's terminal console: a Bubble Tea program that draws the live
// ops.Snapshot it is fed, on a dashboard and in drill-down views. It only renders: data
// arrives as snapshots from ops, and nothing here talks to a cluster or a database.
package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apimctl/apimctl/ops/model"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// Feed delivers live snapshots; the channel is closed when the feed stops.
type Feed interface{ Updates() <-chan model.Snapshot }

// Options configure the console.
type Options struct {
	ReadOnly bool             // force read-only indicator
	Now      func() time.Time // clock for "12s ago" (tests fix it); time.Now when nil
	Actions  Actions          // the changes the console may drive; nil offers none
	// AuditLog is the audit log's path, for the last actions on the dashboard ("" shows none).
	AuditLog string
	// Context ends the console's jobs when it ends (context.Background when nil).
	Context context.Context
}

// Messages.
type (
	// snapshotMsg carries the newest snapshot; closed is set when the feed closed right
	// after it.
	snapshotMsg struct {
		snap   model.Snapshot
		closed bool
	}
	// feedClosedMsg says the feed's channel was closed.
	feedClosedMsg struct{}
	// tickMsg ages the "12s ago" texts once a second.
	tickMsg time.Time
)

// waitForSnapshot is the re-arming command that drains the feed: it blocks for one snapshot,
// then takes any that queued up behind it without blocking, so a burst becomes one update.
func waitForSnapshot(ch <-chan model.Snapshot) tea.Cmd {
	return func() tea.Msg {
		s, ok := <-ch
		if !ok {
			return feedClosedMsg{}
		}
		for {
			select {
			case next, ok := <-ch:
				if !ok {
					return snapshotMsg{snap: s, closed: true}
				}
				s = next
			default:
				return snapshotMsg{snap: s}
			}
		}
	}
}

func tick() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// promptKind is what the bottom line is reading.
type promptKind int

const (
	promptNone promptKind = iota
	promptFilter
	promptCommand
	promptRollout
)

// Model is the console's root model.
type Model struct {
	c    *common
	feed Feed
	opts Options

	snap       *model.Snapshot
	gen        int   // bumped on each snapshot
	seen       []int // the gen each screen last built from
	feedClosed bool

	width, height int
	screens       []screen
	active        int
	history       []int

	help       help.Model
	input      textinput.Model
	prompt     promptKind
	prevFilter string // restored when a filter prompt is cancelled
	message    string
	messageErr bool

	actions   Actions
	jobs      map[string]*job // the console's actions by kind: rollout, backup
	roGroup   string          // the group the rollout prompt is for
	quitArmed bool            // q pressed once while a job runs
	// ctx ends the jobs when the console quits.
	ctx    context.Context
	cancel context.CancelFunc

	// Built in Update, drawn by View.
	header string
	status string
}

// New returns the root model (tea.Model) fed by feed. Run runs it full-screen until quit.
func New(feed Feed, opts Options) tea.Model {
	c := newCommon(opts.Now)
	m := &Model{c: c, feed: feed, opts: opts, actions: opts.Actions, jobs: map[string]*job{}}
	parent := opts.Context
	if parent == nil {
		parent = context.Background()
	}
	m.ctx, m.cancel = context.WithCancel(parent)
	m.screens = []screen{
		newDashboardView(c), newPodsView(c), newHPAView(c), newCassandraView(c),
		newMySQLView(c), newTrafficView(c), newEventsView(c), newFindingsView(c),
	}
	m.seen = make([]int, len(m.screens))
	m.help = help.New()
	m.help.Styles = c.styles.Help
	m.input = textinput.New()
	ts := textinput.DefaultStyles(true)
	ts.Cursor.Blink = false // a steady cursor: no blink timer redrawing the screen
	ts.Focused.Prompt = c.styles.Prompt
	m.input.SetStyles(ts)
	m.input.KeyMap.AcceptSuggestion = c.keys.Complete
	m.width, m.height = 80, 24
	m.layout()
	return m
}

// Run runs the console full-screen until the user quits or ctx is cancelled. Quitting
// cancels the running jobs (a rollout stops being watched; its audit record says so).
func Run(ctx context.Context, feed Feed, opts Options) error {
	opts.Context = ctx
	m := New(feed, opts).(*Model)
	_, err := tea.NewProgram(m, tea.WithContext(ctx)).Run()
	m.cancel()
	m.awaitJobs(jobGrace)
	if err != nil && ctx.Err() != nil && errors.Is(err, tea.ErrProgramKilled) {
		return nil // cancelled by the caller: a normal stop
	}
	if err != nil {
		return fmt.Errorf("terminal UI: %w", err)
	}
	return nil
}

func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{tick()}
	if m.feed != nil {
		cmds = append(cmds, waitForSnapshot(m.feed.Updates()))
	}
	return tea.Batch(cmds...)
}

func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil

	case snapshotMsg:
		m.c.now = m.c.clock()
		s := msg.snap
		m.snap = &s
		m.gen++
		m.syncActive()
		m.feedClosed = msg.closed
		m.buildChrome()
		if msg.closed {
			return m, nil
		}
		return m, waitForSnapshot(m.feed.Updates())

	case feedClosedMsg:
		m.feedClosed = true
		m.buildChrome()
		return m, nil

	case tickMsg:
		m.c.now = m.c.clock()
		if m.snap != nil {
			m.screens[m.active].Refresh()
		}
		m.buildChrome()
		return m, tick()

	case tea.KeyPressMsg:
		return m, m.handleKey(msg)

	case proposalMsg:
		m.proposed(msg)
		m.buildChrome()
		return m, nil

	case jobLineMsg, jobDoneMsg:
		cmd := m.updateJob(msg)
		m.buildChrome()
		return m, cmd
	}
	if m.prompt != promptNone {
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(msg)
		return m, cmd
	}
	return m, nil
}

// syncActive rebuilds the visible screen from the newest snapshot. Hidden screens are rebuilt
// when shown, so a snapshot costs only what the visible view needs.
func (m *Model) syncActive() {
	if m.snap == nil || m.seen[m.active] == m.gen {
		return
	}
	m.screens[m.active].SetSnapshot(m.snap)
	m.seen[m.active] = m.gen
}

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.c.keys
	m.message, m.messageErr = "", false
	defer m.buildChrome()
	if m.prompt != promptNone {
		return m.handlePromptKey(msg)
	}
	quitArmed := m.quitArmed
	m.quitArmed = false
	if key.Matches(msg, k.Quit) && !quitArmed && msg.String() != "ctrl+c" {
		if running := m.runningJobs(); len(running) > 0 {
			m.quitArmed = true
			m.message, m.messageErr = quitWarning(running[0])+" — q again to quit", true
			return nil
		}
	}
	if key.Matches(msg, k.Quit) {
		m.cancel()
		return tea.Quit
	}
	if j := m.shownJob(); j != nil {
		return m.handleJobKey(j, msg)
	}
	cur := m.screens[m.active]
	switch {
	case key.Matches(msg, k.Rollout):
		return m.startRollout()
	case key.Matches(msg, k.Backup):
		return m.startBackup()
	case key.Matches(msg, k.Help):
		m.help.ShowAll = !m.help.ShowAll
		m.layout()
		return nil
	case key.Matches(msg, k.Command):
		return m.openPrompt(promptCommand)
	case key.Matches(msg, k.Filter):
		if _, ok := cur.(filterable); !ok {
			m.message = "this view has no list to filter (try :pods, :events, :findings or :traffic)"
			return nil
		}
		return m.openPrompt(promptFilter)
	case key.Matches(msg, k.Back):
		if f, ok := cur.(filterable); ok && f.Filter() != "" {
			f.SetFilter("")
			return nil
		}
		if n := len(m.history); n > 0 {
			m.active = m.history[n-1]
			m.history = m.history[:n-1]
			m.syncActive()
			m.screens[m.active].Refresh()
		}
		return nil
	case key.Matches(msg, k.NextView):
		m.switchTo((m.active + 1) % len(m.screens))
		return nil
	case key.Matches(msg, k.PrevView):
		m.switchTo((m.active - 1 + len(m.screens)) % len(m.screens))
		return nil
	case key.Matches(msg, k.JumpView):
		m.switchTo(int(msg.Code - '1'))
		return nil
	}
	if m.snap == nil {
		return nil
	}
	return cur.Update(msg)
}

func (m *Model) openPrompt(kind promptKind) tea.Cmd {
	m.prompt = kind
	m.input.Reset()
	m.input.SetWidth(max(m.width-4, 10))
	switch kind {
	case promptCommand:
		m.input.Prompt = ":"
		m.input.Placeholder = "view name — " + strings.Join(viewNames, " ")
		m.input.ShowSuggestions = true
		m.input.SetSuggestions(append(append([]string(nil), viewNames...), "quit"))
	case promptRollout:
		m.input.Prompt = "roll out group " + m.roGroup + " to tag or image: "
		m.input.Placeholder = "e.g. 1.0.1 — enter shows the plan, esc cancels"
		m.input.ShowSuggestions = false
	case promptFilter:
		f := m.screens[m.active].(filterable)
		m.prevFilter = f.Filter()
		m.input.Prompt = "/"
		m.input.Placeholder = "filter (words match anywhere; enter keeps, esc clears)"
		m.input.ShowSuggestions = false
		m.input.SetValue(m.prevFilter)
	}
	return m.input.Focus()
}

func (m *Model) closePrompt() {
	m.prompt = promptNone
	m.input.Blur()
}

func (m *Model) handlePromptKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.c.keys
	switch {
	case key.Matches(msg, k.Cancel):
		if m.prompt == promptFilter {
			m.screens[m.active].(filterable).SetFilter("")
		}
		m.closePrompt()
		return nil
	case key.Matches(msg, k.Accept):
		kind, value := m.prompt, m.input.Value()
		m.closePrompt()
		switch kind {
		case promptCommand:
			return m.runCommand(value)
		case promptRollout:
			return m.planRollout(value)
		}
		return nil
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	if m.prompt == promptFilter {
		// Live: the list narrows as the user types.
		m.screens[m.active].(filterable).SetFilter(strings.TrimSpace(m.input.Value()))
	}
	return cmd
}

// resolveView finds a view by name, alias or unique prefix.
func resolveView(name string) (int, bool) {
	aliases := map[string]string{
		"dash": "dashboard", "home": "dashboard", "po": "pods", "pod": "pods",
		"hpas": "hpa", "cass": "cassandra", "db": "mysql", "ev": "events", "event": "events",
		"finding": "findings", "checks": "findings", "doctor": "findings",
	}
	name = strings.ToLower(name)
	if a, ok := aliases[name]; ok {
		name = a
	}
	found := -1
	for i, v := range viewNames {
		if v == name {
			return i, true
		}
		if strings.HasPrefix(v, name) {
			if found >= 0 {
				return 0, false // ambiguous
			}
			found = i
		}
	}
	return found, found >= 0
}

// runCommand carries out a ":" command: a view name, optionally a group for pods.
func (m *Model) runCommand(line string) tea.Cmd {
	fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), ":"))
	if len(fields) == 0 {
		return nil
	}
	if fields[0] == "q" || fields[0] == "quit" {
		if running := m.runningJobs(); len(running) > 0 && !m.quitArmed {
			m.quitArmed = true
			m.message, m.messageErr = quitWarning(running[0])+" — :q again to quit", true
			return nil
		}
		m.cancel()
		return tea.Quit
	}
	i, ok := resolveView(fields[0])
	if !ok {
		m.message = fmt.Sprintf("unknown view %q — try :%s", fields[0], strings.Join(viewNames, " :"))
		m.messageErr = true
		return nil
	}
	m.switchTo(i)
	if len(fields) > 1 {
		pv, isPods := m.screens[i].(*podsView)
		if !isPods || m.snap == nil {
			m.message = fmt.Sprintf("%s takes no argument", viewNames[i])
			m.messageErr = true
		} else if !pv.SelectGroup(fields[1]) {
			m.message = fmt.Sprintf("unknown group %q — groups: %s", fields[1], strings.Join(pv.groups, " "))
			m.messageErr = true
		}
	}
	return nil
}

func (m *Model) switchTo(i int) {
	if i < 0 || i >= len(m.screens) || i == m.active {
		return
	}
	m.history = append(m.history, m.active)
	if len(m.history) > 32 {
		m.history = m.history[1:]
	}
	m.active = i
	m.syncActive()
	if m.snap != nil {
		m.screens[i].Refresh()
	}
}

// Chrome: the two header lines, the status line and the help line(s) around the body.
const headerLines = 2

func (m *Model) helpKeys() help.KeyMap {
	if j := m.shownJob(); j != nil && m.prompt == promptNone {
		return m.jobHelp(j)
	}
	if m.prompt != promptNone {
		k := m.c.keys
		if m.prompt == promptCommand {
			return keyHelp{short: []key.Binding{k.Accept, k.Complete, k.Cancel}, full: [][]key.Binding{{k.Accept, k.Complete, k.Cancel}}}
		}
		return keyHelp{short: []key.Binding{k.Accept, k.Cancel}, full: [][]key.Binding{{k.Accept, k.Cancel}}}
	}
	return m.screens[m.active]
}

func (m *Model) helpHeight() int {
	if !m.help.ShowAll {
		return 1
	}
	n := 1
	for _, col := range m.screens[m.active].FullHelp() {
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
	if r, ro := readOnlyReason(m.opts, m.snap); ro {
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
	var tabs []string
	for i, name := range viewNames {
		label := fmt.Sprintf("%d %s", i+1, name)
		if i == m.active {
			tabs = append(tabs, st.ActiveTab.Render("["+label+"]"))
		} else {
			tabs = append(tabs, st.Tab.Render(label))
		}
	}
	m.header = truncate(line1, w) + "\n" + truncate(" "+strings.Join(tabs, " "), w)

	// Status line: a message, or every source's freshness at a glance.
	switch {
	case m.message != "" && m.messageErr:
		m.status = truncate(st.Error.Render("✗ "+m.message), w)
	case m.message != "":
		m.status = truncate(st.Message.Render(m.message), w)
	case m.snap == nil:
		m.status = ""
	default:
		parts := make([]string, 0, 6)
		for _, j := range m.runningJobs() {
			if !j.shown {
				parts = append(parts, j.statusPart(st))
			}
		}
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

func (m *Model) View() tea.View {
	var b strings.Builder
	b.WriteString(m.header)
	b.WriteByte('\n')
	h := m.bodyHeight()
	switch j := m.shownJob(); {
	case j != nil:
		b.WriteString(m.jobView(j, m.width, h))
	case m.snap == nil:
		b.WriteString(m.loadingView(h))
	default:
		b.WriteString(m.screens[m.active].View())
	}
	b.WriteByte('\n')
	if m.prompt != promptNone {
		b.WriteString(m.input.View())
	} else {
		b.WriteString(m.status)
	}
	b.WriteByte('\n')
	b.WriteString(m.help.View(m.helpKeys()))
	v := tea.NewView(b.String())
	v.AltScreen = true
	v.WindowTitle = "apimctl"
	if m.snap != nil {
		v.WindowTitle = "apimctl — " + m.snap.Context + "/" + m.snap.Namespace
	}
	return v
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

// quitWarning says what quitting does to a running job.
func quitWarning(j *job) string {
	if j.kind == "rollout" {
		return "a rollout is running: quitting rolls it back, as Ctrl-C does"
	}
	return "a " + j.kind + " is running: quitting cancels it"
}

// jobGrace is how long the console waits, after it quit, for cancelled jobs to record their
// outcome (a rollback that takes longer goes on in the cluster without it).
const jobGrace = 15 * time.Second

// awaitJobs waits until every started job has returned, or grace passed.
func (m *Model) awaitJobs(grace time.Duration) {
	deadline := time.After(grace)
	for _, j := range m.jobs {
		if j.phase < jobRunning {
			continue
		}
		select {
		case <-j.finished:
		case <-deadline:
			return
		}
	}
}
