package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/apimctl/apimctl/ops"
)

// BackupActions are the console's backups (ops.ConsoleActions implements them).
type BackupActions interface {
	PlanBackup(ctx context.Context) (*ops.BackupPlan, error)
	Backup(ctx context.Context, p *ops.BackupPlan, progress func(string)) (ops.BackupSummary, error)
}

// A backup from the console (a job, see job.go): B shows the plan (what is read, where it
// goes, whether the Secrets are encrypted or left out) and waits for y; the backup runs with
// its progress in the panel.
type backupState struct {
	job
	plan *ops.BackupPlan
}

type backupPlanMsg struct {
	plan *ops.BackupPlan
	err  error
}

func (m *Model) backups() BackupActions {
	b, _ := m.actions.(BackupActions)
	return b
}

// startBackup is the B key: show a running backup, or plan one.
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
	m.bk = &backupState{job: job{kind: "backup", key: "B", shown: true}}
	return func() tea.Msg {
		p, err := b.PlanBackup(context.Background())
		return backupPlanMsg{p, err}
	}
}

func (m *Model) backupPlanned(msg backupPlanMsg) {
	if m.bk == nil {
		return
	}
	if msg.err != nil {
		m.bk = nil
		m.message, m.messageErr = "backup: "+msg.err.Error(), true
		return
	}
	m.bk.plan, m.bk.phase = msg.plan, jobConfirm
}

func (m *Model) runBackup() tea.Cmd {
	b, plan, j := m.backups(), m.bk.plan, &m.bk.job
	return j.run(func(progress func(string)) func() {
		res, err := b.Backup(context.Background(), plan, func(s string) { progress(time.Now().Format("15:04:05") + "  " + s) })
		return func() {
			j.ok = err == nil
			if err != nil {
				j.outcome = "failed: " + err.Error()
				return
			}
			j.outcome = fmt.Sprintf("%s written: %d files, %s", res.ID, res.Files, ops.HumanBytes(res.Bytes))
			j.details = []string{res.Dir + " · apimctl backup verify " + res.ID}
			for _, n := range res.Notes {
				j.details = append(j.details, "note: "+n)
			}
		}
	})
}

func (m *Model) backupView(w, h int) string {
	st := &m.c.styles
	bk := m.bk
	var head []string
	if p := bk.plan; p != nil {
		secrets := "left out: set APIMCTL_BACKUP_RECIPIENTS (age public keys) to include them, encrypted"
		if p.Secrets {
			secrets = fmt.Sprintf("encrypted to %d recipient(s)", len(p.Recipients))
		}
		head = kv(st, 2, w, [][2]string{
			{"namespace", p.Namespace},
			{"keyspaces", orDash(strings.Join(p.Keyspaces, ", "))},
			{"database", orDash(p.Database)},
			{"secrets", secrets},
			{"into", p.Dir},
		})
	}
	doneWord := map[bool]string{true: "written", false: "failed"}[bk.ok]
	return m.jobView(&bk.job, w, h, "Backup", doneWord, head, "resolving the targets…",
		"Back up now? y starts it, n cancels; it reads only (Cassandra at QUORUM).")
}
