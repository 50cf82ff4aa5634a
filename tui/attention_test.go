package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/apimctl/apimctl/ops/action"
	"github.com/charmbracelet/x/ansi"
)

// The dashboard's lower panels: the pods and events that need attention, and the last
// actions from the audit log (intents left out, the newest first, who and how they ended).
func TestDashboardAttentionAndLastActions(t *testing.T) {
	snap := degradedSnapshot()
	c := newCommon(fixedClock, "")
	v := newDashboardView(c)
	v.SetSize(160, 48)
	v.SetSnapshot(&snap)
	v.SetActions([]action.Record{
		{Time: fixedNow.Add(-2 * time.Hour), Phase: action.PhaseOutcome, Outcome: "ok", Action: "backup.create", Target: "lab/apim", User: "ops", Via: "cli"},
		{Time: fixedNow.Add(-3 * time.Minute), Phase: action.PhaseIntent, Action: "rollout.set-image", Target: "lab/apim deployment/traffic", User: "ops"},
		{Time: fixedNow.Add(-1 * time.Minute), Phase: action.PhaseOutcome, Outcome: "rolled-back", Action: "rollout.set-image", Target: "lab/apim deployment/traffic", User: "ops", KubeUser: "oncall", Via: "console"},
	})
	out := ansi.Strip(v.View())
	for _, want := range []string{"Needs attention", "CrashLoopBackOff", "FailedGetResourceMetric", "Last actions",
		"1m ! rolled-back rollout.set-image lab/apim deployment/traffic", "2h ✓ ok backup.create lab/apim · ops · cli"} {
		if !strings.Contains(out, want) {
			t.Errorf("dashboard lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "rolled-back rollout.set-image") > strings.Index(out, "ok backup.create") {
		t.Error("the last actions are not newest first")
	}
	if strings.Count(out, "rollout.set-image") != 1 {
		t.Error("an intent record is shown beside its outcome")
	}
}
