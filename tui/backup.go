package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/apimctl/apimctl/ops"
)

// BackupActions are the console's backups (ops.ConsoleActions implements them).
type BackupActions interface {
	PlanBackup(ctx context.Context) (*ops.BackupPlan, error)
	Backup(ctx context.Context, p *ops.BackupPlan, progress func(string)) (ops.BackupSummary, error)
}

// A backup from the console: B shows the plan (what is read, where it goes, whether the
// Secrets are encrypted or left out) and waits for y; the backup runs in the background with
// its progress in this panel (esc hides it, B shows it again).
type backupState struct {
	phase  rolloutPhase // planning, confirm, running, done: the same steps as a rollout
	plan   *ops.BackupPlan
	lines  []string
	result ops.BackupSummary
	err    error
	shown  bool
	ch     chan string
}

type (
	backupPlanMsg struct {
		plan *ops.BackupPlan
		err  error
	}
	backupLineMsg struct {
		line string
		ok   bool
	}
	backupDoneMsg struct {
		res ops.BackupSummary
		err error
	}
)

func (m *Model) backups() BackupActions {
	b, _ := m.actions.(BackupActions)
	return b
}

// startBackup is the B key.
func (m *Model) startBackup() tea.Cmd {
	if m.bk != nil {
		m.bk.shown = true
		return nil
	}
	b := m.backups()
	if b == nil || m.snap == nil {
		m.message = "backups are not available here"
		return nil
	}
	if _, ro := readOnlyReason(m.opts, m.snap); ro {
		m.message, m.messageErr = "read-only: backups are not offered", true
		return nil
	}
	m.bk = &backupState{phase: rolloutPlanning, shown: true}
	return func() tea.Msg {
		p, err := b.PlanBackup(context.Background())
		return backupPlanMsg{p, err}
	}
}

func waitBackupLine(ch <-chan string) tea.Cmd {
	return func() tea.Msg {
		l, ok := <-ch
		return backupLineMsg{l, ok}
	}
}

func (m *Model) runBackup() tea.Cmd {
	bk := m.bk
	bk.phase = rolloutRunning
	bk.ch = make(chan string, 64)
	b, plan, ch := m.backups(), bk.plan, bk.ch
	run := func() tea.Msg {
		res, err := b.Backup(context.Background(), plan, func(s string) {
			select {
			case ch <- time.Now().Format("15:04:05") + "  " + s:
			default:
			}
		})
		close(ch)
		return backupDoneMsg{res, err}
	}
	return tea.Batch(run, waitBackupLine(ch))
}

func (m *Model) updateBackup(msg tea.Msg) tea.Cmd {
	bk := m.bk
	if bk == nil {
		return nil
	}
	switch msg := msg.(type) {
	case backupPlanMsg:
		if msg.err != nil {
			m.bk = nil
			m.message, m.messageErr = "backup: "+msg.err.Error(), true
			return nil
		}
		bk.plan, bk.phase = msg.plan, rolloutConfirm
	case backupLineMsg:
		if !msg.ok {
			return nil
		}
		bk.lines = append(bk.lines, msg.line)
		return waitBackupLine(bk.ch)
	case backupDoneMsg:
		bk.phase, bk.result, bk.err = rolloutDone, msg.res, msg.err
		if !bk.shown {
			m.message, m.messageErr = "backup "+backupOutcome(bk)+" — B shows it", bk.err != nil
		}
	}
	return nil
}

func backupOutcome(bk *backupState) string {
	if bk.err != nil {
		return "failed: " + bk.err.Error()
	}
	return fmt.Sprintf("%s written: %d files, %s", bk.result.ID, bk.result.Files, ops.HumanBytes(bk.result.Bytes))
}

func (m *Model) handleBackupKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.c.keys
	bk := m.bk
	switch bk.phase {
	case rolloutConfirm:
		switch {
		case key.Matches(msg, k.Yes):
			return m.runBackup()
		case key.Matches(msg, k.No), key.Matches(msg, k.Cancel):
			m.bk = nil
			m.message = "backup cancelled: nothing written"
		}
	case rolloutPlanning:
		if key.Matches(msg, k.Cancel) {
			m.bk = nil
			m.message = "backup cancelled: nothing written"
		}
	case rolloutRunning:
		if key.Matches(msg, k.Cancel) {
			bk.shown = false
			m.message = "the backup goes on — B shows it"
		}
	case rolloutDone:
		if key.Matches(msg, k.Cancel) {
			m.bk = nil
		}
	}
	return nil
}

func (m *Model) backupHelp() help.KeyMap {
	k := m.c.keys
	keys := []key.Binding{key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close"))}
	switch m.bk.phase {
	case rolloutConfirm:
		keys = []key.Binding{key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "back up")), k.No}
	case rolloutPlanning:
		keys = []key.Binding{k.Cancel}
	case rolloutRunning:
		keys = []key.Binding{key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "hide (it goes on)"))}
	}
	return keyHelp{short: keys, full: [][]key.Binding{keys}}
}

func (m *Model) backupView(w, h int) string {
	st := &m.c.styles
	bk := m.bk
	state := map[rolloutPhase]string{
		rolloutPlanning: st.status(toneBusy, "planning"), rolloutConfirm: st.status(toneWarn, "waiting for you"),
		rolloutRunning: st.status(toneBusy, "running"),
	}[bk.phase]
	if bk.phase == rolloutDone {
		state = st.status(map[bool]tone{true: toneOK, false: toneBad}[bk.err == nil], map[bool]string{true: "written", false: "failed"}[bk.err == nil])
	}
	lines := []string{titleBar(m.c, w, "Backup", state, nil)}
	if p := bk.plan; p != nil {
		secrets := "left out: set APIMCTL_BACKUP_RECIPIENTS (age public keys) to include them, encrypted"
		if p.Secrets {
			secrets = fmt.Sprintf("encrypted to %d recipient(s)", len(p.Recipients))
		}
		lines = append(lines, kv(st, 2, w, [][2]string{
			{"namespace", p.Namespace},
			{"keyspaces", orDash(strings.Join(p.Keyspaces, ", "))},
			{"database", orDash(p.Database)},
			{"secrets", secrets},
			{"into", p.Dir},
		})...)
	}
	lines = append(lines, "")
	switch bk.phase {
	case rolloutPlanning:
		lines = append(lines, "  "+st.Muted.Render("resolving the targets…"))
	case rolloutConfirm:
		lines = append(lines, "  "+st.Message.Render("Back up now? y starts it, n cancels; it reads only (Cassandra at QUORUM)."))
	default:
		room := max(h-len(lines)-2, 1)
		shown := bk.lines
		if len(shown) > room {
			shown = shown[len(shown)-room:]
		}
		for _, l := range shown {
			lines = append(lines, "  "+l)
		}
	}
	if bk.phase == rolloutDone {
		lines = append(lines, "", "  "+st.status(map[bool]tone{true: toneOK, false: toneBad}[bk.err == nil], backupOutcome(bk)))
		if bk.err == nil {
			lines = append(lines, "  "+st.Muted.Render(bk.result.Dir+" · apimctl backup verify "+bk.result.ID))
			for _, n := range bk.result.Notes {
				lines = append(lines, "  "+st.Muted.Render("note: "+n))
			}
		}
	}
	return padLines(clipLines(lines, h, w), w, h)
}
