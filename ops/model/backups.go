package model

import (
	"fmt"
	"time"

	"github.com/apimctl/apimctl/internal/format"
)

// BackupStatus is what the console knows of the deployment's backups: the location
// apimctl backs up to, the newest complete backup there, and the schedule, if one is
// installed (apimctl backup schedule).
type BackupStatus struct {
	Location string `json:"location"`
	// Last is the newest complete backup; AgeSeconds its age when the status was read.
	Last       *BackupRef `json:"last,omitempty"`
	AgeSeconds float64    `json:"ageSeconds,omitempty"`
	// Schedule is the installed schedule (nil: none).
	Schedule *BackupSchedule `json:"schedule,omitempty"`
	// Checked is when the location was last read; Error why it could not be.
	Checked time.Time `json:"checked"`
	Error   string    `json:"error,omitempty"`
}

// BackupSchedule is an installed backup schedule.
type BackupSchedule struct {
	EverySeconds float64 `json:"everySeconds"`
	At           string  `json:"at"` // HH:MM, the first run of the day (UTC)
	Keep         int     `json:"keep"`
	Calendar     string  `json:"calendar"` // systemd's OnCalendar
	Units        string  `json:"units"`    // where the timer and service are
}

// Every is the schedule's interval.
func (s BackupSchedule) Every() time.Duration {
	return time.Duration(s.EverySeconds * float64(time.Second))
}

// AllowedAge is how old the newest backup may be under a schedule of every: one interval,
// plus a quarter of it (at least 30 minutes) for the backup to run and finish.
func AllowedAge(every time.Duration) time.Duration {
	return every + max(every/4, 30*time.Minute)
}

// Late says whether the newest backup is older than the schedule allows at now (false
// without a schedule), and the age allowed.
func (b BackupStatus) Late(now time.Time) (late bool, allowed time.Duration) {
	if b.Schedule == nil || b.Schedule.EverySeconds <= 0 {
		return false, 0
	}
	allowed = AllowedAge(b.Schedule.Every())
	if b.Last == nil {
		return true, allowed
	}
	return now.Sub(b.Last.Created) > allowed, allowed
}

// Summary is the newest backup in words, as status and `backup schedule` say it:
// "20261128T030000Z-apim, 5h ago (on time)", "… — LATE: the schedule allows 30h", "none".
func (b BackupStatus) Summary(now time.Time) string {
	if b.Error != "" {
		return "cannot be read: " + b.Error
	}
	late, allowed := b.Late(now)
	if b.Last == nil {
		if late {
			return "none — LATE: backups are scheduled"
		}
		return "none"
	}
	line := fmt.Sprintf("%s, %s", b.Last.ID, format.Ago(b.Last.Created, now))
	switch {
	case late:
		line += fmt.Sprintf(" — LATE: the schedule allows %s", format.Age(allowed))
	case b.Schedule != nil:
		line += " (on time)"
	}
	return line
}
