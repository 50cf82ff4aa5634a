package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/apimctl/apimctl/ops/model"
)

// The sites view: primary and DR side by side, from the further site's own feed and the
// restorable backups, with the same comparison as `apimctl status` with two contexts.
func TestSitesView(t *testing.T) {
	prod := healthySnapshot()
	dr := healthySnapshot()
	dr.Context = "lab-east"
	dr.Traffic = model.TrafficState{}
	for gi := range dr.Topology.Groups {
		for wi := range dr.Topology.Groups[gi].Traffic {
			dr.Topology.Groups[gi].Traffic[wi].Image = "reg.dr.example/apim/gateway:7.7.20240101"
		}
	}
	drFeed := make(chanFeed) // the snapshots are handed over as messages below
	backups := []model.BackupRef{{ID: "20260314T010000Z-apim", Context: prod.Context, Created: fixedNow.Add(-2 * time.Hour)}}
	opts := Options{Sites: []Site{{Context: "lab-east", Feed: drFeed}}, Backups: func() ([]model.BackupRef, error) { return backups, nil }}
	for _, sz := range sizes {
		t.Run(sz.name, func(t *testing.T) {
			m := drive(t, sz.w, sz.h, &prod, opts)
			m.Update(backupsMsg(backups))
			m.Update(siteSnapshotMsg{0, dr})
			sendAll(m, "text::sites", "enter")
			scr := frame(m)
			for _, want := range []string{"Sites", "lab-west", "lab-east", "serving", "standby", "20260314T010000Z-apim", "2h",
				"drift image traffic/", "APIM-DR-004"} {
				if !strings.Contains(scr, want) {
					t.Errorf("sites view lacks %q:\n%s", want, scr)
				}
			}
			requireFits(t, scr, sz.w, sz.h)
			golden.RequireEqual(t, []byte(scr))
		})
	}
	// One site: the view says how to get a second.
	m := drive(t, 100, 30, &prod, Options{})
	sendAll(m, "text::sites", "enter")
	if !strings.Contains(frame(m), "give --context twice") {
		t.Errorf("one site:\n%s", frame(m))
	}
}

// The command palette completes views, actions and the snapshot's resources, and runs them.
func TestCommandPalette(t *testing.T) {
	snap := healthySnapshot()
	m := drive(t, 120, 30, &snap, Options{Actions: &fakeConsole{}})
	sugg := strings.Join(m.paletteSuggestions(), "\n")
	pod := snap.Topology.Groups[0].Traffic[0].Pods[0].Name
	for _, want := range []string{"pods", "alerts", "rollout", "backups", "pod " + pod, "logs " + pod, "deployment " + snap.Topology.Groups[0].Traffic[0].Name,
		"node 127.0.0.1", "group " + snap.Topology.Groups[0].Name} {
		if !strings.Contains(sugg, want) {
			t.Errorf("no suggestion %q", want)
		}
	}
	sendAll(m, "text::jobs", "enter")
	if m.dialog == nil {
		t.Errorf(":jobs did not open the jobs list:\n%s", frame(m))
	}
	sendAll(m, "esc", "text::pod", "enter")
	if !strings.Contains(frame(m), ":pod needs a name") {
		t.Errorf(":pod without a name:\n%s", frame(m))
	}
}
