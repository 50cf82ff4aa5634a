package dr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/apimctl/apimctl/backup"
	"github.com/apimctl/apimctl/internal/statedir"
	"github.com/apimctl/apimctl/ops/action"
	"github.com/apimctl/apimctl/ops/model"
)

// Scheduled backups: a systemd timer on the bastion runs `apimctl backup create` and then
// `apimctl backup prune --keep N`. Why a timer on the bastion rather than a Kubernetes
// CronJob: the bastion is where apimctl, its kubeconfig, the age recipients and the
// location's credentials already are; a local backup directory works as well as Azure; no
// apimctl image has to be built, pushed and trusted with cluster-wide read access and the
// data stores' passwords; and the backup runs from outside the cluster it protects.
// Persistent=true runs a backup missed while the bastion was down as soon as it is up, and
// the console's check BKP-001 says when the newest backup is older than the schedule
// allows, whatever the reason (a stopped timer, a bastion that is gone, failing runs).

// Schedule is an installed schedule, recorded in apimctl's state directory.
type Schedule struct {
	Every    time.Duration `json:"every"`
	At       string        `json:"at"` // HH:MM UTC
	Keep     int           `json:"keep"`
	Location string        `json:"location"`
	Calendar string        `json:"calendar"`
	UnitDir  string        `json:"unitDir"`
	// Args are the backup's own arguments (apimctl … backup create ARGS).
	Args      []string  `json:"args"`
	Installed time.Time `json:"installed"`
}

// ScheduleOptions say what to install.
type ScheduleOptions struct {
	Every time.Duration
	At    string
	Keep  int
	// Global are apimctl's global flags for the runs (--kubeconfig, --context, -n); Create
	// the flags of backup create (--location, --recipient, --events, …).
	Global, Create []string
	Location       string
	// Executable is apimctl's path; UnitDir where the units go (default
	// /etc/systemd/system as root, else ~/.config/systemd/user); EnvFile an optional file
	// of environment variables (credentials) the service reads.
	Executable, UnitDir, EnvFile string
	// NoEnable writes the units without asking systemctl to enable them.
	NoEnable bool
	Getenv   func(string) string
	Now      func() time.Time
}

// Unit names.
const (
	ServiceUnit = "apimctl-backup.service"
	TimerUnit   = "apimctl-backup.timer"
)

// ScheduleFile is where the installed schedule is recorded.
func ScheduleFile(getenv func(string) string) string {
	return filepath.Join(statedir.Dir(getenv), "backup-schedule.json")
}

// ReadSchedule reads the installed schedule (nil when there is none).
func ReadSchedule(getenv func(string) string) (*Schedule, error) {
	b, err := os.ReadFile(ScheduleFile(getenv))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s Schedule
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", ScheduleFile(getenv), err)
	}
	return &s, nil
}

// Calendar is systemd's OnCalendar for a backup every interval from at (HH:MM, UTC): a
// whole number of hours dividing a day, a day, or a week (Sundays).
func Calendar(every time.Duration, at string) (string, error) {
	t, err := time.Parse("15:04", at)
	if err != nil {
		return "", fmt.Errorf("--at %q: HH:MM (UTC)", at)
	}
	h, m := t.Hour(), t.Minute()
	switch {
	case every == 7*24*time.Hour:
		return fmt.Sprintf("Sun *-*-* %02d:%02d:00 UTC", h, m), nil
	case every == 24*time.Hour:
		return fmt.Sprintf("*-*-* %02d:%02d:00 UTC", h, m), nil
	case every >= time.Hour && every < 24*time.Hour && every%time.Hour == 0 && (24*time.Hour)%every == 0:
		n := int(every / time.Hour)
		return fmt.Sprintf("*-*-* %02d/%d:%02d:00 UTC", h%n, n, m), nil
	}
	return "", fmt.Errorf("--every %s: 1h, 2h, 3h, 4h, 6h, 8h, 12h, 24h or 168h", every)
}

// systemdQuote quotes an argument for ExecStart (systemd's own quoting: double quotes,
// backslash escapes; % doubled, $ doubled so nothing is expanded).
func systemdQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "%", "%%", "$", "$$", "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

func execLine(exe string, args []string) string {
	parts := []string{systemdQuote(exe)}
	for _, a := range args {
		parts = append(parts, systemdQuote(a))
	}
	return strings.Join(parts, " ")
}

// Units renders the service and the timer.
func Units(s *Schedule, exe, envFile, home string, global []string) (service, timer string) {
	create := append(append(append([]string{}, global...), "backup", "create"), s.Args...)
	create = append(create, "--yes")
	prune := append(append([]string{}, global...), "backup", "prune", "--location", s.Location, "--keep", strconv.Itoa(s.Keep), "--yes")
	var b strings.Builder
	b.WriteString("# Written by apimctl backup schedule; change it with that command.\n")
	b.WriteString("[Unit]\nDescription=apimctl backup of the API management deployment, then retention\n")
	b.WriteString("Wants=network-online.target\nAfter=network-online.target\n\n[Service]\nType=oneshot\n")
	b.WriteString("UMask=0077\n")
	if home != "" {
		b.WriteString("Environment=" + systemdQuote("HOME="+home) + "\n")
	}
	if envFile != "" {
		b.WriteString("EnvironmentFile=-" + envFile + "\n")
	}
	b.WriteString("ExecStart=" + execLine(exe, create) + "\n")
	b.WriteString("ExecStart=" + execLine(exe, prune) + "\n")
	service = b.String()
	timer = "# Written by apimctl backup schedule; change it with that command.\n" +
		"[Unit]\nDescription=apimctl backup every " + s.Every.String() + "\n\n" +
		"[Timer]\nOnCalendar=" + s.Calendar + "\nPersistent=true\nUnit=" + ServiceUnit + "\n\n" +
		"[Install]\nWantedBy=timers.target\n"
	return service, timer
}

// DefaultUnitDir is /etc/systemd/system for root, else the user's systemd directory.
func DefaultUnitDir(getenv func(string) string) string {
	if os.Geteuid() == 0 {
		return "/etc/systemd/system"
	}
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "systemd", "user")
	}
	return filepath.Join(getenv("HOME"), ".config", "systemd", "user")
}

// ScheduleAction installs the schedule: the units are checked with systemd-analyze verify
// (when it is there) before anything is written, then written, then enabled with systemctl
// (unless NoEnable), and the schedule recorded for status and the check.
func ScheduleAction(o ScheduleOptions) (*action.Action, *Schedule, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	cal, err := Calendar(o.Every, o.At)
	if err != nil {
		return nil, nil, err
	}
	if o.Keep < 1 {
		return nil, nil, fmt.Errorf("--keep %d: keep at least one backup", o.Keep)
	}
	if o.UnitDir == "" {
		o.UnitDir = DefaultUnitDir(o.Getenv)
	}
	if o.Location == "" {
		o.Location = DefaultLocation(o.Getenv)
	}
	if _, err := OpenLocation(context.Background(), o.Location, o.Getenv); err != nil {
		return nil, nil, err
	}
	s := &Schedule{Every: o.Every, At: o.At, Keep: o.Keep, Location: o.Location, Calendar: cal, UnitDir: o.UnitDir,
		Args: append([]string{"--location", o.Location}, o.Create...), Installed: o.Now().UTC()}
	service, timer := Units(s, o.Executable, o.EnvFile, o.Getenv("HOME"), o.Global)
	user := !strings.HasPrefix(o.UnitDir, "/etc/")
	systemctl := func(args ...string) []string {
		if user {
			return append([]string{"--user"}, args...)
		}
		return args
	}
	enable := "systemctl " + strings.Join(systemctl("enable", "--now", TimerUnit), " ")
	a := &action.Action{
		Name:     "backup.schedule",
		Scope:    action.Scope{Resource: TimerUnit, Location: o.Location},
		What:     "install the backup schedule",
		Question: fmt.Sprintf("Install %s (every %s from %s UTC, keep %d) in %s?", TimerUnit, o.Every, o.At, o.Keep, o.UnitDir),
		Plan: []action.Field{{Key: "timer", Value: filepath.Join(o.UnitDir, TimerUnit) + "  OnCalendar=" + cal + ", Persistent=true"},
			{Key: "service", Value: filepath.Join(o.UnitDir, ServiceUnit) + "  backup create, then prune --keep " + strconv.Itoa(o.Keep)},
			{Key: "into", Value: o.Location}},
		Details: map[string]string{"calendar": cal, "keep": strconv.Itoa(o.Keep), "unitDir": o.UnitDir},
		Validate: func(ctx context.Context) error {
			return verifyUnits(ctx, service, timer)
		},
		Do: func(ctx context.Context, progress func(string)) (action.Result, error) {
			if err := os.MkdirAll(o.UnitDir, 0o755); err != nil {
				return action.Result{}, err
			}
			for name, text := range map[string]string{ServiceUnit: service, TimerUnit: timer} {
				if err := os.WriteFile(filepath.Join(o.UnitDir, name), []byte(text), 0o644); err != nil {
					return action.Result{}, err
				}
				progress("wrote " + filepath.Join(o.UnitDir, name))
			}
			b, _ := json.MarshalIndent(s, "", "  ")
			if err := os.MkdirAll(filepath.Dir(ScheduleFile(o.Getenv)), 0o700); err != nil {
				return action.Result{}, err
			}
			if err := os.WriteFile(ScheduleFile(o.Getenv), append(b, '\n'), 0o600); err != nil {
				return action.Result{}, err
			}
			if o.NoEnable {
				progress("not enabled (--no-enable): " + enable)
				return action.Result{Value: s}, nil
			}
			for _, args := range [][]string{systemctl("daemon-reload"), systemctl("enable", "--now", TimerUnit)} {
				if out, err := exec.CommandContext(ctx, "systemctl", args...).CombinedOutput(); err != nil {
					return action.Result{Value: s}, action.Failed(fmt.Errorf("systemctl %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out))),
						"the units are written; enable them where systemd runs: "+enable)
				}
			}
			progress("enabled: " + enable)
			return action.Result{Value: s}, nil
		},
	}
	return a, s, nil
}

// verifyUnits has systemd-analyze check the units before they are installed (skipped where
// systemd-analyze is not installed).
func verifyUnits(ctx context.Context, service, timer string) error {
	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		return nil
	}
	dir, err := os.MkdirTemp("", "apimctl-units-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for name, text := range map[string]string{ServiceUnit: service, TimerUnit: timer} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	out, err := exec.CommandContext(ctx, tool, "verify", filepath.Join(dir, TimerUnit), filepath.Join(dir, ServiceUnit)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("systemd-analyze verify refuses the units: %s", strings.TrimSpace(strings.ReplaceAll(string(out), dir+"/", "")))
	}
	return nil
}

// NextRun is the schedule's next run after now (UTC).
func (s *Schedule) NextRun(now time.Time) time.Time {
	t, err := time.Parse("15:04", s.At)
	if err != nil || s.Every <= 0 {
		return time.Time{}
	}
	now = now.UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), t.Hour(), t.Minute(), 0, 0, time.UTC)
	if s.Every == 7*24*time.Hour {
		day = day.AddDate(0, 0, -int(day.Weekday())) // Sunday
	} else if s.Every < 24*time.Hour {
		for day.Sub(time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)) >= s.Every {
			day = day.Add(-s.Every)
		}
	}
	for !day.After(now) {
		day = day.Add(s.Every)
	}
	return day
}

// BackupStatus reads the schedule and the newest backup of its location (the default
// location without a schedule): what status and the check show.
func BackupStatus(ctx context.Context, getenv func(string) string, now time.Time) model.BackupStatus {
	st := model.BackupStatus{Checked: now}
	sched, err := ReadSchedule(getenv)
	if err != nil {
		st.Error = err.Error()
		return st
	}
	where := DefaultLocation(getenv)
	if sched != nil {
		where = sched.Location
		st.Schedule = &model.BackupSchedule{EverySeconds: sched.Every.Seconds(), At: sched.At, Keep: sched.Keep, Calendar: sched.Calendar, Units: sched.UnitDir}
	}
	loc, err := OpenLocation(ctx, where, getenv)
	if err != nil {
		st.Location, st.Error = where, err.Error()
		return st
	}
	st.Location = loc.String()
	newest, err := Newest(ctx, loc)
	if err != nil {
		st.Error = err.Error()
		return st
	}
	if newest != nil {
		st.Last = &model.BackupRef{ID: newest.ID, Created: newest.Created}
		if b, err := backup.Open(ctx, loc, newest.ID); err == nil {
			st.Last.Context = b.Manifest.Source.Context
		}
		st.AgeSeconds = now.Sub(newest.Created).Round(time.Second).Seconds()
	}
	return st
}
