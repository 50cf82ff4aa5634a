package dr

import (
	"context"
	"github.com/apimctl/apimctl/lab/labtest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCalendar(t *testing.T) {
	for _, c := range []struct {
		every time.Duration
		at    string
		want  string
	}{
		{24 * time.Hour, "03:00", "*-*-* 03:00:00 UTC"},
		{6 * time.Hour, "03:30", "*-*-* 03/6:30:00 UTC"},
		{6 * time.Hour, "23:15", "*-*-* 05/6:15:00 UTC"},
		{time.Hour, "00:05", "*-*-* 00/1:05:00 UTC"},
		{168 * time.Hour, "02:00", "Sun *-*-* 02:00:00 UTC"},
	} {
		if got, err := Calendar(c.every, c.at); err != nil || got != c.want {
			t.Errorf("%s at %s: %q %v, want %q", c.every, c.at, got, err, c.want)
		}
	}
	for _, bad := range []struct {
		every time.Duration
		at    string
	}{{5 * time.Hour, "03:00"}, {30 * time.Minute, "03:00"}, {48 * time.Hour, "03:00"}, {24 * time.Hour, "25:00"}, {24 * time.Hour, "3am"}} {
		if _, err := Calendar(bad.every, bad.at); err == nil {
			t.Errorf("%s at %s accepted", bad.every, bad.at)
		}
	}
}

func TestNextRun(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC) // a Saturday
	for _, c := range []struct {
		every time.Duration
		at    string
		want  time.Time
	}{
		{24 * time.Hour, "03:00", time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)},
		{24 * time.Hour, "11:00", time.Date(2026, 12, 5, 11, 0, 0, 0, time.UTC)},
		{6 * time.Hour, "03:00", time.Date(2026, 12, 5, 15, 0, 0, 0, time.UTC)},
		{6 * time.Hour, "23:00", time.Date(2026, 12, 5, 11, 0, 0, 0, time.UTC)},
		{168 * time.Hour, "02:00", time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)},
	} {
		s := &Schedule{Every: c.every, At: c.at}
		if got := s.NextRun(now); !got.Equal(c.want) {
			t.Errorf("%s at %s: %s, want %s", c.every, c.at, got, c.want)
		}
	}
}

// TestUnitsPassSystemdAnalyze: the units, with arguments that need quoting, are what
// systemd-analyze accepts; a bad calendar is refused by the action's validation.
func TestUnitsPassSystemdAnalyze(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		labtest.Missing(t, "systemd-analyze is needed (apt-get install systemd)")
	}
	exe, _ := os.Executable()
	s := &Schedule{Every: 6 * time.Hour, At: "03:00", Keep: 7, Location: "/var/backups/apim 1", Calendar: "*-*-* 03/6:00:00 UTC",
		Args: []string{"--location", "/var/backups/apim 1", "--recipient", `age1"x%y$z`}}
	service, timer := Units(s, exe, "/etc/apimctl/backup.env", "/root", []string{"--context", "prod"})
	if err := verifyUnits(context.Background(), service, timer); err != nil {
		t.Fatalf("%v\n%s\n%s", err, service, timer)
	}
	for _, want := range []string{`"--location" "/var/backups/apim 1"`, `"age1\"x%%y$$z"`, `"backup" "prune" "--location" "/var/backups/apim 1" "--keep" "7" "--yes"`,
		"EnvironmentFile=-/etc/apimctl/backup.env", "UMask=0077", `Environment="HOME=/root"`} {
		if !strings.Contains(service, want) {
			t.Errorf("the service lacks %s:\n%s", want, service)
		}
	}
	if !strings.Contains(timer, "OnCalendar=*-*-* 03/6:00:00 UTC\nPersistent=true") {
		t.Errorf("timer:\n%s", timer)
	}
	bad := strings.Replace(timer, s.Calendar, "every sunday-ish", 1)
	if err := verifyUnits(context.Background(), service, bad); err == nil || !strings.Contains(err.Error(), "calendar") {
		t.Errorf("a bad calendar passed: %v", err)
	}
	if err := verifyUnits(context.Background(), strings.Replace(service, exe, filepath.Join(t.TempDir(), "gone"), -1), timer); err == nil {
		t.Error("a missing executable passed")
	}
}
