package tui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/apimctl/apimctl/ops/check"
	"github.com/apimctl/apimctl/ops/dr"
	"github.com/apimctl/apimctl/ops/patch"
)

// TestGoldenDialogs renders every action dialog and the panels they lead to, at 80×24 and
// 160×48, in a teatest program against the fake console, and compares the frame with
// testdata/TestGoldenDialogs/<dialog>/<size>.golden (regenerate with -update).
func TestGoldenDialogs(t *testing.T) {
	// "wait:x" waits until x is on screen: the dialogs load, and proposals arrive, in
	// commands of their own.
	restoreKeys := []string{"V", "wait:no manifest.json", "j", "r", "wait:identity file", "text:apim-dr", "enter", "text:apim_default=apim_dr", "enter", "text:metrics_dr", "enter",
		"text:/keys/dr.key", "enter", "enter", "enter", "enter", "wait:overwritten"}
	cases := []struct {
		name     string
		readOnly bool
		paused   bool
		// setup adjusts the fake before the keys.
		setup func(f *fakeConsole)
		keys  []string
		// want is on the final screen; wait is waited for after the keys when the last
		// of them started something asynchronous (a load, a proposal, a job).
		want, wait string
	}{
		{name: "history", keys: []string{"H"}, wait: "initial deploy"},
		{name: "history-read-only", readOnly: true, keys: []string{"H"}, wait: "initial deploy"},
		{name: "undo-plan", keys: []string{"H", "wait:initial deploy", "j", "u"}, wait: "y starts it"},
		{name: "pause-refused", setup: func(f *fakeConsole) {
			f.refuse = fmt.Errorf("the API server refuses the change: deployments.apps \"traffic\" is forbidden")
		},
			keys: []string{"H", "wait:initial deploy", "p"}, wait: "nothing was changed"},
		{name: "backups", keys: []string{"V"}, wait: "no manifest.json"},
		{name: "verify-done", keys: []string{"V", "wait:no manifest.json", "v"}, wait: "verify done"},
		{name: "prune-form", keys: []string{"V", "wait:no manifest.json", "p"}, wait: "keep newest"},
		{name: "prune-plan", keys: []string{"V", "wait:no manifest.json", "p", "text:2", "enter"}, wait: "Delete 2 backups"},
		{name: "restore-form", keys: []string{"V", "wait:no manifest.json", "j", "r", "wait:identity file", "text:apim-dr", "enter", "text:apim_default=apim_dr"}, want: "apim_default=apim_dr"},
		{name: "restore-plan", keys: restoreKeys, want: "overwritten"},
		{name: "restore-running", setup: func(f *fakeConsole) { f.block = make(chan struct{}) }, keys: append(append([]string(nil), restoreKeys...), "y"), wait: "esc hide"},
		{name: "patch-form", keys: []string{"M", "enter", "text:/patches/SP1.tgz, /patches/other.tgz", "enter", "text:/no-such-dir/site"}, want: "/no-such-dir/site"},
		{name: "patch-conflicts", setup: func(f *fakeConsole) {
			f.conflicts = []patch.Conflict{{Path: "apigateway/system/lib/core.jar", Patches: []string{"SP1.tgz", "other.tgz"}}}
		}, keys: []string{"M", "enter", "text:/patches/SP1.tgz, /patches/other.tgz", "enter", "enter", "text:7.7.20240830-sp1", "enter", "enter"}, wait: "refused"},
		{name: "jobs", setup: func(f *fakeConsole) { f.block = make(chan struct{}) },
			keys: append(append([]string(nil), restoreKeys...), "y", "esc", "J"), wait: "of 1 running"},
		{name: "finding-offer", paused: true, keys: []string{"8", "/", "text:WKL-016", "enter"}, wait: "rollout resume"},
		{name: "finding-offer-read-only", paused: true, readOnly: true, keys: []string{"8", "/", "text:WKL-016", "enter"}, wait: "not offered"},
	}
	for _, tc := range cases {
		for _, sz := range sizes {
			t.Run(tc.name+"/"+sz.name, func(t *testing.T) {
				snap := healthySnapshot()
				snap.Access.Allowed["deployments/update"] = true
				if tc.paused {
					snap.Topology.Groups[0].Traffic[0].Paused = true
					snap.Findings = check.Check(snap)
				}
				f := newFakeConsole()
				f.backupPlan = &dr.BackupPlan{Dir: "/backups", Namespace: "apim", Keyspaces: []string{"apim_default"}, Database: "metrics"}
				if tc.setup != nil {
					tc.setup(f)
				}
				if f.block != nil {
					t.Cleanup(func() { close(f.block) })
				}
				tm, _ := startProgram(t, sz.w, sz.h, &snap, Options{Actions: f, ReadOnly: tc.readOnly})
				sendKeys(t, tm, tc.keys...)
				if tc.wait != "" {
					waitOutput(t, tm, tc.wait)
				}
				if tc.want == "" {
					tc.want = tc.wait
				}
				screen, _ := finalScreen(t, tm)
				requireFits(t, screen, sz.w, sz.h)
				if !strings.Contains(screen, tc.want) {
					t.Fatalf("the final screen lacks %q:\n%s", tc.want, screen)
				}
				golden.RequireEqual(t, screen)
			})
		}
	}
}
