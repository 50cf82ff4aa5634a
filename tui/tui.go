package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apimctl/apimctl/ops/action"
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
	// Inspector loads the drill-downs: it implements some of PodInspector, LogReader,
	// DeploymentInspector, … (see drill.go); nil opens none.
	Inspector any
	// RecentActions reads the last n records of the audit log for the dashboard (nil: none
	// shown). It is called in a command, never in Update.
	RecentActions func(n int) ([]action.Record, error)
	// Sites are the further sites of a primary-and-DR console, Keyspaces the primary's group
	// and throttle keyspaces, Backups the restorable backups (called in a command).
	Sites     []Site
	Keyspaces [2]string
	Backups   func() ([]model.BackupRef, error)
	// Theme is the palette: default, colorblind or mono (ThemeStyles).
	Theme string
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
	// recentActionsMsg carries the audit log's last records.
	recentActionsMsg []action.Record
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
	inspector any
	stack     []openDetail    // the open drill-downs, innermost last
	jobs      map[string]*job // the console's actions by id (job.id), several at once
	roGroup   string          // the group the rollout prompt is for
	quitArmed bool            // q pressed once while a job runs
	ticks     int             // seconds since the start, for what is reloaded every few
	sites     *sitesView      // the primary and the further sites side by side
	jobSeq    int             // jobs started so far
	dialog    dialog          // the open action dialog (history, backups, a form, the jobs), if any
	// ctx ends the jobs when the console quits.
	ctx    context.Context
	cancel context.CancelFunc

	// Built in Update, drawn by View.
	header string
	status string
}

// New returns the root model (tea.Model) fed by feed. Run runs it full-screen until quit.
func New(feed Feed, opts Options) tea.Model {
	c := newCommon(opts.Now, opts.Theme)
	m := &Model{c: c, feed: feed, opts: opts, actions: opts.Actions, inspector: opts.Inspector, jobs: map[string]*job{}}
	parent := opts.Context
	if parent == nil {
		parent = context.Background()
	}
	m.ctx, m.cancel = context.WithCancel(parent)
	m.screens = []screen{
		newDashboardView(c), newPodsView(c), newHPAView(c), newCassandraView(c),
		newMySQLView(c), newTrafficView(c), newEventsView(c), newFindingsView(c),
		newAlertsView(c), m.newSites(c, opts),
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
	cmds := []tea.Cmd{tick(), m.loadRecentActions(), m.loadBackups()}
	for i, s := range m.opts.Sites {
		cmds = append(cmds, waitForSite(i, s.Feed.Updates()))
	}
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
		reload := m.reloadStale()
		if msg.closed {
			return m, reload
		}
		return m, tea.Batch(waitForSnapshot(m.feed.Updates()), reload)

	case feedClosedMsg:
		m.feedClosed = true
		m.buildChrome()
		return m, nil

	case tickMsg:
		m.c.now = m.c.clock()
		if m.snap != nil {
			m.body().Refresh()
		}
		m.buildChrome()
		m.ticks++
		if m.ticks%backupsEvery == 0 {
			return m, tea.Batch(tick(), m.loadBackups())
		}
		if m.ticks%recentActionsEvery == 0 {
			return m, tea.Batch(tick(), m.loadRecentActions())
		}
		return m, tick()

	case siteSnapshotMsg:
		m.sites.setSite(msg.i, msg.snap)
		return m, waitForSite(msg.i, m.opts.Sites[msg.i].Feed.Updates())

	case backupsMsg:
		m.sites.setBackups(msg)
		return m, nil

	case recentActionsMsg:
		if d, ok := m.screens[0].(*dashboardView); ok {
			d.SetActions(msg)
		}
		return m, nil

	case tea.MouseWheelMsg, tea.MouseClickMsg:
		cmd := m.mouse(msg.(tea.MouseMsg))
		m.buildChrome()
		return m, cmd

	case tea.KeyPressMsg:
		return m, m.handleKey(msg)

	case proposalMsg:
		cmd := m.proposed(msg)
		m.buildChrome()
		return m, cmd

	case dialogMsg:
		cmd := m.dialogLoaded(msg)
		m.buildChrome()
		return m, cmd

	case detailMsg:
		cmd := m.loaded(msg)
		m.buildChrome()
		return m, cmd

	case statusMsg:
		return m, m.detailRequest(msg)

	case jobLineMsg, jobDoneMsg:
		cmd := m.updateJob(msg)
		m.buildChrome()
		if _, done := msg.(jobDoneMsg); done {
			cmd = tea.Batch(cmd, m.loadRecentActions())
		}
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
	if m.snap == nil {
		return
	}
	if m.seen[m.active] != m.gen {
		m.screens[m.active].SetSnapshot(m.snap)
		m.seen[m.active] = m.gen
	}
	for _, o := range m.stack {
		o.d.SetSnapshot(m.snap)
	}
}

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.c.keys
	m.message, m.messageErr = "", false
	defer m.buildChrome()
	if m.prompt != promptNone {
		return m.handlePromptKey(msg)
	}
	if m.dialogTyping(msg) {
		return m.dialogKey(msg)
	}
	if c, ok := m.body().(inputCapturer); ok && c.Capturing() && m.shownJob() == nil {
		return m.body().Update(msg) // a detail's own prompt (a path to save to) takes every key
	}
	quitArmed := m.quitArmed
	m.quitArmed = false
	if key.Matches(msg, k.Quit) && !quitArmed && msg.String() != "ctrl+c" {
		if running := m.runningJobs(); len(running) > 0 {
			m.quitArmed = true
			m.message, m.messageErr = quitWarnings(running)+" — q again to quit", true
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
	if m.dialog != nil {
		return m.dialogKey(msg)
	}
	if cmd, ok := m.actionKey(msg); ok {
		return cmd
	}
	cur := m.body()
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
		if m.pop() {
			return nil
		}
		if n := len(m.history); n > 0 {
			m.active = m.history[n-1]
			m.history = m.history[:n-1]
			m.syncActive()
			m.screens[m.active].Refresh()
		}
		return nil
	case key.Matches(msg, k.Open):
		if cmd := m.drill(); cmd != nil {
			return cmd
		}
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
	if o, ok := cur.(keyOpener); ok {
		if ref, ok := o.OpenFor(msg); ok {
			return m.push(ref) // at once: the keys typed next go to what it opens
		}
	}
	return cur.Update(msg)
}

func (m *Model) switchTo(i int) {
	for m.pop() { // a view switch closes the drill-downs
	}
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

func (m *Model) View() tea.View {
	var b strings.Builder
	b.WriteString(m.header)
	b.WriteByte('\n')
	h := m.bodyHeight()
	switch j := m.shownJob(); {
	case j != nil:
		b.WriteString(m.jobView(j, m.width, h))
	case m.dialog != nil:
		b.WriteString(m.dialog.View(m, m.width, h))
	case m.snap == nil:
		b.WriteString(m.loadingView(h))
	default:
		b.WriteString(m.body().View())
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
	v.MouseMode = tea.MouseModeCellMotion // the wheel scrolls, a click selects a row or a view
	v.WindowTitle = "apimctl"
	if m.snap != nil {
		v.WindowTitle = "apimctl — " + m.snap.Context + "/" + m.snap.Namespace
	}
	return v
}
