package tui

import (
	tea "charm.land/bubbletea/v2"
)

// A backup from the console (a job, see job.go): B shows the plan (what is read, where it
// goes, whether the Secrets are encrypted or left out) and waits for y; the backup runs with
// its progress in the panel.

// startBackup is the B key: show a backup that exists, or plan one.
func (m *Model) startBackup() tea.Cmd {
	if j := m.jobs["backup"]; j != nil {
		m.hideJobsBut(j)
		return nil
	}
	if m.actions == nil || m.snap == nil {
		m.message = "backups are not available here"
		return nil
	}
	if _, ro := readOnlyReason(m.opts, m.snap); ro {
		m.message, m.messageErr = "read-only: backups are not offered", true
		return nil
	}
	j := newJob("backup", "back up", "", "B", "Backup", "resolving the targets…", "nothing written")
	return m.propose(j, m.actions.ProposeBackup)
}
