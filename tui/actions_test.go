package tui

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/apimctl/apimctl/ops"
	"github.com/apimctl/apimctl/ops/check"
	"github.com/apimctl/apimctl/ops/dr"
	"github.com/apimctl/apimctl/ops/model"
	"github.com/apimctl/apimctl/ops/patch"
)

// The action dialogs' keys, against a fake console: what is asked of ops, what the panels
// show, what read-only and RBAC refuse.

func requireScreen(t *testing.T, m *Model, wants ...string) string {
	t.Helper()
	scr := frame(m)
	for _, w := range wants {
		if !strings.Contains(scr, w) {
			t.Fatalf("screen lacks %q:\n%s", w, scr)
		}
	}
	return scr
}

func requireCalls(t *testing.T, f *fakeConsole, want ...string) {
	t.Helper()
	if got := f.Calls(); !slices.Equal(got, want) {
		t.Fatalf("calls %q, want %q", got, want)
	}
}

func consoleModel(t *testing.T, snap *model.Snapshot, opts Options) (*Model, *fakeConsole) {
	t.Helper()
	f := newFakeConsole()
	f.backupPlan = &dr.BackupPlan{Dir: "/backups", Namespace: "apim", Keyspaces: []string{"apim_default"}, Database: "metrics"}
	opts.Actions = f
	if _, set := snap.Access.Allowed["deployments/update"]; !set && snap.Access.Allowed != nil {
		snap.Access.Allowed["deployments/update"] = true // undo, as the live access review asks it
	}
	return drive(t, 100, 30, snap, opts), f
}

func TestHistoryUndoToAChosenRevision(t *testing.T) {
	snap := healthySnapshot()
	m, f := consoleModel(t, &snap, Options{})
	send(m, keyMsg("H"))
	requireCalls(t, f, "history traffic default")
	scr := requireScreen(t, m, "Rollout history · deployment/traffic", "3 ▸ now", "reg/apim/gateway:7.7.1", "apimctl rollout set-image default 7.7.1",
		"initial deploy", "u undo to it", "p pause", "r restart")
	if strings.Index(scr, "7.7.2") > strings.Index(scr, "7.7.0") {
		t.Fatalf("not newest first:\n%s", scr)
	}
	requireFits(t, scr, 100, 30)
	send(m, keyMsg("u")) // the current revision: nothing to undo to
	requireScreen(t, m, "revision 3 is the current one")
	sendAll(m, "j", "j", "u")
	requireCalls(t, f, "history traffic default", "undo traffic default 1")
	requireScreen(t, m, "Undo · deployment/traffic", "3 (reg/apim/gateway:7.7.2) → 1 (reg/apim/gateway:7.7.1)", "Return deployment/traffic to revision 1", "y starts it")
	if len(f.Ran()) != 0 {
		t.Fatal("undone before y")
	}
	send(m, keyMsg("y"))
	requireScreen(t, m, "rollout complete", "✓ deployment/traffic: undo done")
	if got := f.Ran(); !slices.Equal(got, []string{"undo deployment/traffic"}) {
		t.Fatalf("ran %q", got)
	}
	send(m, keyMsg("esc"))
	if m.dialog != nil || m.shownJob() != nil {
		t.Fatalf("esc left a panel:\n%s", frame(m))
	}
}

func TestHistoryPauseResumeRestartAndRoles(t *testing.T) {
	snap := healthySnapshot()
	m, f := consoleModel(t, &snap, Options{})
	sendAll(m, "H", "p")
	requireScreen(t, m, "Pause · deployment/traffic", "change      pause", "Pause deployment/traffic?")
	send(m, keyMsg("n"))
	requireScreen(t, m, "pause cancelled: nothing changed")
	if len(f.declined) != 1 {
		t.Fatalf("n did not decline: %v", f.declined)
	}

	f.hist.Paused = true
	send(m, keyMsg("H"))
	requireScreen(t, m, "paused", "p resume")
	sendAll(m, "p", "y", "esc", "H", "r", "y", "esc", "H")
	send(m, keyMsg("tab")) // the API Manager of the group
	requireScreen(t, m, "deployment/apimgr", "apimgr · group default")
	send(m, keyMsg("tab"))
	send(m, keyMsg("tab")) // anm, then traffic again
	requireCalls(t, f, "history traffic default", "pause traffic default", "history traffic default", "resume traffic default",
		"history traffic default", "restart traffic default", "history traffic default", "history apimgr default", "history anm default", "history traffic default")
	if got := f.Ran(); !slices.Equal(got, []string{"resume deployment/traffic", "restart deployment/traffic"}) {
		t.Fatalf("ran %q", got)
	}

	// The pods view's group is the one the dialog is for.
	send(m, keyMsg("esc"))
	press(m, "2", "]", "]")
	send(m, keyMsg("H"))
	if c := f.Calls(); c[len(c)-1] != "history traffic payments" {
		t.Fatalf("H in the pods view of group payments asked %q", c[len(c)-1])
	}
}

func TestHistoryRefusesChangesInReadOnlyAndWithoutRBAC(t *testing.T) {
	snap := healthySnapshot()
	m, f := consoleModel(t, &snap, Options{ReadOnly: true})
	send(m, keyMsg("H")) // the history is a read: offered
	scr := requireScreen(t, m, "Rollout history · deployment/traffic", "read-only (read-only mode): the console offers no changes")
	for _, k := range []string{"u undo", "p pause", "r restart"} {
		if strings.Contains(scr, k) {
			t.Fatalf("read-only help offers %q:\n%s", k, scr)
		}
	}
	for _, k := range []string{"p", "r"} {
		send(m, keyMsg(k))
		requireScreen(t, m, "✗ read-only (read-only mode): the console offers no ")
	}
	sendAll(m, "j", "u")
	requireScreen(t, m, "✗ read-only (read-only mode): the console offers no undo deployment/traffic")
	requireCalls(t, f, "history traffic default")

	// RBAC: may patch (pause) but not update (undo).
	viewer := healthySnapshot()
	viewer.Access = model.Access{Known: true, Allowed: map[string]bool{"deployments/patch": true, "deployments/update": false}}
	m, f = consoleModel(t, &viewer, Options{})
	sendAll(m, "H", "j", "u")
	requireScreen(t, m, "may not undo deployment/traffic (RBAC: deployments/update)")
	send(m, keyMsg("p"))
	requireCalls(t, f, "history traffic default", "pause traffic default")

	// A refusal of the runner (here: a preflight) is shown in the panel; y does nothing.
	m, f = consoleModel(t, &snap, Options{})
	f.refuse = errors.New("preflight: 1 error-level finding; nothing changed")
	sendAll(m, "H", "r", "y")
	requireScreen(t, m, "refused: preflight: 1 error-level finding", "nothing was changed")
	if len(f.Ran()) != 0 {
		t.Fatal("a refused proposal ran")
	}
	// A proposal that fails (a bad revision) reopens the dialog with the error.
	f.refuse, f.proposeErr = nil, errors.New("deployment/traffic has no revision 7")
	sendAll(m, "n", "H", "j", "u")
	requireScreen(t, m, "Rollout history", "✗ deployment/traffic has no revision 7")
}

func TestBackupsVerifyPruneRestore(t *testing.T) {
	snap := healthySnapshot()
	m, f := consoleModel(t, &snap, Options{})
	send(m, keyMsg("V"))
	scr := requireScreen(t, m, "Backups", "/backups", "20260314T020000Z-apim", "4.0 MiB", "✓ complete", "! unfinished: no manifest.json", "v verify", "r restore", "p prune")
	requireFits(t, scr, 100, 30)

	// verify: a read, it runs at once (no question) and shows its progress.
	send(m, keyMsg("v"))
	requireCalls(t, f, "backups", "verify 20260314T020000Z-apim")
	requireScreen(t, m, "Verify · 20260314T020000Z-apim", "6/12 files · 2.0 KiB of 4.0 KiB · cassandra/apim_default/keys.jsonl", "✓ 20260314T020000Z-apim: verify done")
	send(m, keyMsg("esc"))

	// prune: how many to keep, then the plan that names what goes.
	sendAll(m, "V", "p")
	requireScreen(t, m, "Prune backups", "/backups holds 3 complete backups", "keep newest")
	sendAll(m, "text:x", "enter")
	requireScreen(t, m, `✗ keep "x": a number of backups, at least 1`)
	sendAll(m, "backspace", "text:2", "enter")
	requireScreen(t, m, "Prune backups · keep the newest 2", "delete      ! 20260312T090000Z-apim", "delete      ! 20260312T020000Z-apim (2026-03-12 02:00, 4.0 MiB)", "Delete 2 backups from /backups (keeping the newest 2)?")
	send(m, keyMsg("y"))
	requireScreen(t, m, "deleted 20260312T090000Z-apim", "✓ prune done")
	send(m, keyMsg("esc"))

	// restore: the form, then the plan with the steps (one done by an earlier run).
	sendAll(m, "V", "j", "r")
	requireScreen(t, m, "Restore · 20260313T020000Z-apim", "namespace", "keyspace map", "identity file", "Empty fields keep the backup's own names")
	sendAll(m, "text:apim-dr", "enter", "text:apim_default=apim_dr, apim_default_throttle=apim_dr_t", "down", "text:metrics_dr", "enter", "text:/keys/dr.key")
	for range 4 {
		send(m, keyMsg("enter"))
	}
	requireCalls(t, f, "backups", "verify 20260314T020000Z-apim", "backups", "prune 2", "backups", "restore 20260313T020000Z-apim")
	want := ops.RestoreRequest{Backup: "20260313T020000Z-apim", Namespace: "apim-dr", KeyspaceMap: []string{"apim_default=apim_dr", "apim_default_throttle=apim_dr_t"},
		Database: "metrics_dr", Identity: "/keys/dr.key"}
	if got := f.req; got.Backup != want.Backup || got.Namespace != want.Namespace || !slices.Equal(got.KeyspaceMap, want.KeyspaceMap) ||
		got.Database != want.Database || got.Identity != want.Identity || got.Only != nil {
		t.Fatalf("restore request %+v, want %+v", got, want)
	}
	requireScreen(t, m, "Restore · 20260313T020000Z-apim → apim-dr", "✓ cassandra apim_default → apim_dr (done by an earlier run)", "mysql metrics → metrics_dr", "overwritten)?")
	send(m, keyMsg("y"))
	requireScreen(t, m, "kubernetes namespace apim-dr", "workloads ready", "✓ 20260313T020000Z-apim: restore done")

	// An unfinished backup is not verified; a failing restore reopens its form, values kept.
	sendAll(m, "esc", "V", "j", "j", "v")
	requireScreen(t, m, "is unfinished (no manifest): nothing to verify")
	f.proposeErr = errors.New("keyspace map nope: FROM=TO")
	sendAll(m, "r", "text:ns2")
	for range 7 {
		send(m, keyMsg("enter"))
	}
	scr = requireScreen(t, m, "Restore · 20260312T090000Z-apim", "✗ keyspace map nope: FROM=TO", "ns2")
	if _, ok := m.dialog.(*form); !ok {
		t.Fatalf("the form did not come back:\n%s", scr)
	}
}

func TestBackupsInReadOnlyOnlyVerify(t *testing.T) {
	snap := healthySnapshot()
	m, f := consoleModel(t, &snap, Options{ReadOnly: true})
	send(m, keyMsg("V"))
	scr := requireScreen(t, m, "v verify", "verifying reads only, so v is offered")
	if strings.Contains(scr, "r restore") || strings.Contains(scr, "p prune") {
		t.Fatalf("read-only backups offer changes:\n%s", scr)
	}
	for _, k := range []string{"r", "p"} {
		send(m, keyMsg(k))
		requireScreen(t, m, "✗ read-only (read-only mode): the console offers no ")
		if m.dialog == nil {
			t.Fatal("the dialog closed")
		}
		if _, isForm := m.dialog.(*form); isForm {
			t.Fatalf("%s opened a form in read-only mode", k)
		}
	}
	send(m, keyMsg("v"))
	requireScreen(t, m, "✓ 20260314T020000Z-apim: verify done")
	requireCalls(t, f, "backups", "verify 20260314T020000Z-apim")
	// M is not offered at all.
	sendAll(m, "esc", "M")
	if m.dialog != nil || !strings.Contains(frame(m), "the console offers no patch merge") {
		t.Fatalf("M in read-only:\n%s", frame(m))
	}
}

func TestPatchMergeFormCompletesPathsAndShowsConflicts(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"SP1.tgz", "SP2.zip", ".hidden"} {
		os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600)
	}
	os.MkdirAll(filepath.Join(dir, "site", "apigateway"), 0o700)
	snap := healthySnapshot()
	m, f := consoleModel(t, &snap, Options{})
	send(m, keyMsg("M"))
	requireScreen(t, m, "Patch merge", "base image", "registry.example/apim/gateway:7.7.20240830", "enter on the last field shows the plan")
	send(m, keyMsg("enter"))
	typeKeys(m, dir+"/S")
	requireScreen(t, m, "tab: SP1.tgz  SP2.zip")
	send(m, keyMsg("tab"))
	typeKeys(m, ", "+dir+"/SP2")
	sendAll(m, "tab", "enter")
	typeKeys(m, dir+"/si")
	sendAll(m, "tab", "enter", "text:7.7.20240830-sp1", "enter", "enter")
	requireCalls(t, f, "patch 7.7.20240830-sp1")
	want := ops.PatchRequest{Base: "registry.example/apim/gateway:7.7.20240830", Image: "7.7.20240830-sp1",
		Patches: []string{dir + "/SP1.tgz", dir + "/SP2.zip"}, Custom: dir + "/site/"}
	if got := f.patch; got.Base != want.Base || got.Image != want.Image || !slices.Equal(got.Patches, want.Patches) || got.Custom != want.Custom || got.Force {
		t.Fatalf("patch request %+v, want %+v", got, want)
	}
	requireScreen(t, m, "Patch merge · reg/apim/gateway:7.7.20240830-sp1", "SP1.tgz (2 files), other.tgz (1 files)",
		"1 conflicts settled by the customisations: apigateway/conf/jvm.xml", "Push reg/apim/gateway:7.7.20240830-sp1?")
	send(m, keyMsg("y"))
	requireScreen(t, m, "pushing reg/apim/gateway:7.7.20240830-sp1", "patch done")

	// Conflicts left: the plan names them and the push is refused.
	f.conflicts = []patch.Conflict{{Path: "apigateway/system/lib/core.jar", Patches: []string{"SP1.tgz", "other.tgz"}}}
	sendAll(m, "esc", "M")
	for _, v := range []string{"", "a.tgz", "", "sp2", ""} {
		typeKeys(m, v)
		send(m, keyMsg("enter"))
	}
	requireScreen(t, m, "conflicts   ✗ apigateway/system/lib/core.jar written differently by SP1.tgz, other.tgz",
		"refused: 1 conflicts between patches: apigateway/system/lib/core.jar (SP1.tgz, other.tgz)", "resolve them in --custom")
	send(m, keyMsg("y"))
	if got := f.Ran(); len(got) != 1 {
		t.Fatalf("a merge with conflicts was pushed: %q", got)
	}
}

func TestPathSuggestions(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"b.zip", "a.tgz", ".secret"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o600)
	}
	os.Mkdir(filepath.Join(dir, "apigateway"), 0o700)
	for _, tc := range []struct {
		v    string
		list bool
		want []string
	}{
		{dir + "/", false, []string{dir + "/a.tgz", dir + "/apigateway/", dir + "/b.zip"}},
		{dir + "/a", false, []string{dir + "/a.tgz", dir + "/apigateway/"}},
		{dir + "/.", false, []string{dir + "/.secret"}},
		{"x.tgz, " + dir + "/b", true, []string{"x.tgz, " + dir + "/b.zip"}},
		{dir + "/nothing-like-it", false, nil},
		{"", false, nil},
		{"/no/such/dir/x", false, nil},
	} {
		if got := pathSuggestions(tc.v, tc.list); !slices.Equal(got, tc.want) {
			t.Errorf("%q: %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestJobsListAndStatusLine(t *testing.T) {
	snap := healthySnapshot()
	m, _ := consoleModel(t, &snap, Options{})
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 30})
	mk := func(kind, subject string, phase jobPhase, line string) *job {
		j := newSubjectJob(kind, kind, subject, titleWord(kind)+" · "+subject, "", "nothing changed")
		m.jobSeq++
		j.seq, j.phase, j.shown = m.jobSeq, phase, false
		if line != "" {
			j.lines = []string{line}
		}
		m.jobs[j.id] = j
		return j
	}
	mk("verify", "20260314T020000Z-apim", jobRunning, "6/12 files")
	mk("restore", "20260313T020000Z-apim", jobRunning, "mysql metrics → metrics_dr")
	done := mk("pause", "deployment/traffic", jobDone, "")
	done.outcome = ops.Outcome{OK: true, Line: "deployment/traffic: pause done"}
	mk("restart", "deployment/apimgr", jobRunning, "updated 1")
	m.buildChrome()
	requireScreen(t, m, "verify 20260314T020000Z-apim 6/12 files (J)", "restore 20260313T020000Z-apim", "1 more jobs (J)")

	send(m, keyMsg("J"))
	scr := requireScreen(t, m, "Jobs", "3 of 4 running", "verify 20260314T020000Z-apim", "running", "✓ done", "deployment/traffic: pause done", "restart deployment/apimgr")
	requireFits(t, scr, 160, 30)
	sendAll(m, "j", "enter")
	if j := m.shownJob(); j == nil || j.kind != "restore" {
		t.Fatalf("enter did not show the restore:\n%s", frame(m))
	}
	requireScreen(t, m, "Restore · 20260313T020000Z-apim", "mysql metrics → metrics_dr", "esc hide (it goes on)")

	// Quitting asks first, then stops them (their contexts end).
	send(m, keyMsg("esc"))
	if _, cmd := m.Update(keyMsg("q")); cmd != nil || !strings.Contains(frame(m), "3 jobs are running (J lists them): quitting stops them — q again to quit") {
		t.Fatalf("q with running jobs:\n%s", frame(m))
	}
	if _, cmd := m.Update(keyMsg("q")); cmd == nil || m.ctx.Err() == nil {
		t.Fatal("the second q did not quit and cancel the jobs")
	}
}

func TestQuitDeclinesAnUnansweredProposal(t *testing.T) {
	snap := healthySnapshot()
	m, f := consoleModel(t, &snap, Options{})
	sendAll(m, "H", "p")
	send(m, keyMsg("esc")) // n/esc declines; the same before quitting:
	sendAll(m, "H", "r")
	m.awaitJobs(0)
	if !slices.Equal(f.declined, []string{"pause deployment/traffic", "restart deployment/traffic"}) {
		t.Fatalf("declined %q", f.declined)
	}
}

func TestFindingOffersItsFix(t *testing.T) {
	snap := healthySnapshot()
	snap.Topology.Groups[0].Traffic[0].Paused = true
	snap.Findings = check.Check(snap)
	m, f := consoleModel(t, &snap, Options{})
	press(m, "8", ":", "text:findings", "enter", "/", "text:WKL-016", "enter")
	requireScreen(t, m, "F resume deployment/traffic-default (apimctl rollout resume default)", "F fix")
	send(m, keyMsg("F"))
	requireCalls(t, f, "remedy rollout.resume traffic-default traffic default", "resume traffic default")
	requireScreen(t, m, "Resume · deployment/traffic-default", "y starts it")
	send(m, keyMsg("y"))
	requireScreen(t, m, "resume done")

	// A finding without an action says so; read-only says why and offers nothing.
	send(m, keyMsg("esc"))
	press(m, "esc", "/", "text:CASS", "enter")
	send(m, keyMsg("F"))
	if len(f.Calls()) != 2 {
		t.Fatalf("F on a finding without an action asked %q", f.Calls())
	}
	m, f = consoleModel(t, &snap, Options{ReadOnly: true})
	press(m, "8", "/", "text:WKL-016", "enter")
	scr := requireScreen(t, m, "fixed by: resume deployment/traffic-default — not offered: read-only")
	if strings.Contains(scr, "F fix") {
		t.Fatalf("read-only findings offer F:\n%s", scr)
	}
	send(m, keyMsg("F"))
	requireScreen(t, m, "✗ read-only (read-only mode): the console offers no resume deployment/traffic-default")
	if len(f.Calls()) != 0 {
		t.Fatalf("read-only F asked %q", f.Calls())
	}
}
