package check

import (
	"fmt"
	"time"

	"github.com/apimctl/apimctl/internal/format"
)

// backups judges the newest backup against the installed schedule: too old (a timer that
// stopped, backups that fail, a bastion that was down), none at all, or a location that
// cannot be read. Without a schedule it says so once, as information.
func (c *checker) backups() {
	b := c.s.Backups
	if b.Checked.IsZero() {
		return // not observed
	}
	subject := "backups " + b.Location
	const fix = "see why the last runs failed: journalctl -u apimctl-backup.service (or run apimctl backup create); " +
		"apimctl backup schedule shows the schedule and the newest backup"
	if b.Schedule == nil {
		c.add(ruleBackupSchedule, subject, "no backup schedule is installed: backups are taken only by hand",
			"apimctl backup schedule --every 24h --at 03:00 --keep 7 (a systemd timer on this bastion)")
		return
	}
	every := format.Age(b.Schedule.Every())
	if b.Error != "" {
		c.add(ruleBackupLate, subject, fmt.Sprintf("the backup location cannot be read (%s): whether backups run every %s is unknown", b.Error, every), fix)
		return
	}
	late, allowed := b.Late(c.s.Taken)
	if !late {
		return
	}
	if b.Last == nil {
		c.add(ruleBackupLate, subject, fmt.Sprintf("no complete backup, though backups are scheduled every %s", every), fix)
		return
	}
	age := c.s.Taken.Sub(b.Last.Created).Round(time.Minute)
	c.add(ruleBackupLate, subject, fmt.Sprintf("the newest backup %s is %s old; scheduled every %s, it should be at most %s old",
		b.Last.ID, format.Age(age), every, format.Age(allowed)), fix)
}
