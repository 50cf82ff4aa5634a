package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdtest"
	"github.com/apimctl/apimctl/ops/check"
	"github.com/apimctl/apimctl/ops/model"
	"github.com/apimctl/apimctl/ops/model/modeltest"
)

func TestBackupSchedule(t *testing.T) {
	e := cmdtest.New(t, false)
	loc, units := t.TempDir(), filepath.Join(t.TempDir(), "units")
	for _, args := range [][]string{{"--every", "5h"}, {"--every", "24h", "--at", "25:00"}, {"--every", "24h", "--keep", "0"}, {"--at", "04:00"},
		{"--every", "24h", "--env-file", "rel.env"}, {"--every", "24h", "--events", filepath.Join(loc, "nope"), "--yes"}} {
		if r := cmd(t, e, append([]string{"backup", "schedule", "--location", loc, "--unit-dir", units, "--no-enable"}, args...)...); r.code != ExitUsage {
			t.Errorf("schedule %v: exit %d\n%s", args, r.code, r.errOut)
		}
	}
	if _, err := os.Stat(units); err == nil {
		t.Fatal("a refused schedule wrote units")
	}
	// Nothing installed: shown as such.
	if r := cmd(t, e, "backup", "schedule"); r.code != 0 || !strings.Contains(r.out, "schedule  none") {
		t.Errorf("no schedule: exit %d\n%s%s", r.code, r.out, r.errOut)
	}
	r := cmd(t, e, "backup", "schedule", "--location", loc, "--every", "6h", "--at", "03:00", "--keep", "5", "--recipient",
		"age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p", "--unit-dir", units, "--no-enable", "--yes")
	if r.code != 0 || !strings.Contains(r.out, "next run 2026-") {
		t.Fatalf("install: exit %d\n%s%s", r.code, r.out, r.errOut)
	}
	service, _ := os.ReadFile(filepath.Join(units, "apimctl-backup.service"))
	timer, _ := os.ReadFile(filepath.Join(units, "apimctl-backup.timer"))
	for _, want := range []string{`"backup" "create" "--location" "` + loc + `" "--recipient" "age1ql3z`, `"-n" "apim"`, `"backup" "prune" "--location" "` + loc + `" "--keep" "5" "--yes"`} {
		if !strings.Contains(string(service), want) {
			t.Errorf("service lacks %s:\n%s", want, service)
		}
	}
	if !strings.Contains(string(timer), "OnCalendar=*-*-* 03/6:00:00 UTC") {
		t.Errorf("timer:\n%s", timer)
	}
	recs := e.Audit.Records()
	if last := recs[len(recs)-1]; last.Action != "backup.schedule" || last.Phase != "outcome" || last.Outcome != "ok" {
		t.Errorf("audit %+v", last)
	}

	// Shown: no backup yet is late (exit 3); a backup an hour old is on time.
	if r := cmd(t, e, "backup", "schedule"); r.code != ExitDegraded || !strings.Contains(r.out, "none — LATE") {
		t.Errorf("late: exit %d\n%s%s", r.code, r.out, r.errOut)
	}
	writeTestBackup(t, loc, modeltest.Now.Add(-time.Hour).UTC().Format("20060102T150405Z")+"-apim")
	e.Out.Reset()
	r = cmd(t, e, "backup", "schedule", "-o", "json")
	var doc struct {
		Status model.BackupStatus `json:"status"`
		Late   bool               `json:"late"`
		Next   time.Time          `json:"next"`
	}
	if err := json.Unmarshal([]byte(r.out), &doc); r.code != 0 || err != nil || doc.Late || doc.Status.Last == nil || doc.Status.AgeSeconds != 3600 ||
		doc.Status.Schedule == nil || doc.Status.Schedule.Keep != 5 || doc.Next.IsZero() {
		t.Errorf("on time: exit %d %v\n%s%s", r.code, err, r.out, r.errOut)
	}
}

// TestStatusShowsTheNewestBackup: status says the newest backup and its age; check warns
// (BKP-001) when it is older than the schedule allows.
func TestStatusShowsTheNewestBackup(t *testing.T) {
	e := cmdtest.New(t, false)
	e.Snap.Backups = model.BackupStatus{Location: "/srv/backups", Checked: modeltest.Now,
		Last:     &model.BackupRef{ID: "20261126T030000Z-apim", Created: modeltest.Now.Add(-50 * time.Hour)},
		Schedule: &model.BackupSchedule{EverySeconds: 86400, At: "03:00", Keep: 7}}
	e.Snap.Findings = check.Check(e.Snap)
	r := cmd(t, e, "status")
	if !strings.Contains(r.out, "backups   ! 20261126T030000Z-apim, 2d ago — LATE: the schedule allows 30h · /srv/backups") {
		t.Errorf("status:\n%s", r.out)
	}
	e.Out.Reset()
	r = cmd(t, e, "check", "-o", "json")
	if !strings.Contains(r.out, `"BKP-001"`) {
		t.Errorf("check lacks BKP-001:\n%s", r.out)
	}
}
