package tui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/apimctl/apimctl/ops"
)

// fakeActions stands in for ops.ConsoleActions: the TUI's part of a rollout is pure
// presentation and key handling (the rollout itself is drilled against the lab).
type fakeActions struct {
	plan     *ops.RolloutPlan
	planErr  error
	steps    []ops.RolloutStep
	res      ops.RolloutResult
	group    string
	image    string
	rolledTo string
}

func (f *fakeActions) PlanRollout(_ context.Context, _ ops.Snapshot, group, image string) (*ops.RolloutPlan, error) {
	f.group, f.image = group, image
	return f.plan, f.planErr
}

func (f *fakeActions) Rollout(_ context.Context, p *ops.RolloutPlan, progress func(ops.RolloutStep)) (ops.RolloutResult, error) {
	f.rolledTo = p.ToImage
	for _, s := range f.steps {
		progress(s)
	}
	return f.res, nil
}

// send delivers a message and runs the commands it returns (batches too) until none are
// left, feeding their messages back: the program loop, by hand.
func send(m *Model, msg tea.Msg) {
	queue := []tea.Msg{msg}
	for len(queue) > 0 {
		msg, queue = queue[0], queue[1:]
		_, cmd := m.Update(msg)
		cmds := []tea.Cmd{cmd}
		for len(cmds) > 0 {
			c := cmds[0]
			cmds = cmds[1:]
			if c == nil {
				continue
			}
			switch out := c().(type) {
			case tea.BatchMsg:
				cmds = append(cmds, out...)
			case nil:
			default:
				if _, isTick := out.(tickMsg); !isTick {
					queue = append(queue, out)
				}
			}
		}
	}
}

func typeKeys(m *Model, s string) {
	for _, r := range s {
		send(m, keyMsg(string(r)))
	}
}

func testPlan(blockers ...ops.Finding) *ops.RolloutPlan {
	return &ops.RolloutPlan{Namespace: "apim", Deployment: "traffic-payments", Role: ops.RoleTraffic, Group: "payments", Container: "traffic",
		FromImage: "reg/apim/gateway:7.7.1", ToImage: "reg/apim/gateway:7.7.2", Revision: "4", Replicas: 3, MaxSurge: "1", MaxUnavailable: "0",
		ImageCheck: "found", ImageDigest: "sha256:0123abcd", Blockers: blockers}
}

func TestRolloutFromTheConsole(t *testing.T) {
	snap := healthySnapshot()
	at := fixedNow
	fa := &fakeActions{plan: testPlan(),
		steps: []ops.RolloutStep{
			{Time: at, Phase: "rolling", Replicas: 4, Updated: 1, Ready: 3, Available: 3},
			{Time: at.Add(5 * time.Second), Phase: "rolling", Replicas: 3, Updated: 3, Ready: 3, Available: 3, ErrorRatio: ptr(0.0), Requests: 240},
			{Time: at.Add(9 * time.Second), Phase: "done", Message: "rollout complete"},
		},
		res: ops.RolloutResult{Outcome: ops.RolloutComplete, Image: "reg/apim/gateway:7.7.2", Gate: "passed: 0.0% 5xx over 240 requests (gate 5.0%)"}}
	m := drive(t, 100, 30, &snap, Options{Actions: fa})
	press(m, "2", "]", "]") // pods view, group payments
	send(m, keyMsg("R"))
	if m.prompt != promptRollout || !strings.Contains(frame(m), "roll out group payments to tag or image:") {
		t.Fatalf("R did not ask for the tag:\n%s", frame(m))
	}
	typeKeys(m, "7.7.2")
	send(m, keyMsg("enter"))
	if fa.group != "payments" || fa.image != "7.7.2" {
		t.Fatalf("planned group %q image %q", fa.group, fa.image)
	}
	scr := frame(m)
	for _, want := range []string{"Rollout · group payments", "reg/apim/gateway:7.7.1 → reg/apim/gateway:7.7.2", "✓ found sha256:0123abcd", "preflight: no error-level finding", "y starts it", "nothing has changed yet"} {
		if !strings.Contains(scr, want) {
			t.Fatalf("confirmation lacks %q:\n%s", want, scr)
		}
	}
	t.Log("\n" + scr)
	if fa.rolledTo != "" {
		t.Fatal("rolled out before y")
	}
	send(m, keyMsg("y"))
	if fa.rolledTo != "reg/apim/gateway:7.7.2" {
		t.Fatalf("y did not start the rollout (%q)", fa.rolledTo)
	}
	scr = frame(m)
	for _, want := range []string{"updated 1  ready 3  available 3  (pods 4)", "5xx 0.0% of 240", "rollout complete", "✓ complete", "gate passed"} {
		if !strings.Contains(scr, want) {
			t.Fatalf("progress lacks %q:\n%s", want, scr)
		}
	}
	requireFits(t, scr, 100, 30)
	t.Log("\n" + scr)
	send(m, keyMsg("esc"))
	if m.ro != nil || !strings.Contains(frame(m), "NAME") {
		t.Fatalf("esc did not close the finished rollout:\n%s", frame(m))
	}
}

func TestRolloutRefusedAndCancelled(t *testing.T) {
	snap := healthySnapshot()

	// Blocked by the preflight: y does nothing, n cancels, nothing ran.
	fa := &fakeActions{plan: testPlan(ops.Finding{ID: "CASS-001", Severity: ops.SeverityError, Subject: "cassandra", Message: "2 of 3 nodes up"})}
	m := drive(t, 100, 30, &snap, Options{Actions: fa})
	send(m, keyMsg("R"))
	typeKeys(m, "7.7.2")
	send(m, keyMsg("enter"))
	if scr := frame(m); !strings.Contains(scr, "CASS-001 cassandra: 2 of 3 nodes up") || !strings.Contains(scr, "blocked by the preflight") {
		t.Fatalf("blockers not shown:\n%s", scr)
	}
	send(m, keyMsg("y"))
	if fa.rolledTo != "" {
		t.Fatal("a blocked rollout started")
	}
	send(m, keyMsg("n"))
	if m.ro != nil || !strings.Contains(frame(m), "rollout cancelled: nothing changed") {
		t.Fatalf("n did not cancel:\n%s", frame(m))
	}

	// The plan fails (the API server refuses): the error, nothing shown as started.
	fa = &fakeActions{planErr: errors.New(`the API server refuses the change: admission webhook "images" denied`)}
	m = drive(t, 100, 30, &snap, Options{Actions: fa})
	send(m, keyMsg("R"))
	typeKeys(m, "x")
	send(m, keyMsg("enter"))
	if m.ro != nil || !strings.Contains(frame(m), `✗ rollout: the API server refuses the change`) {
		t.Fatalf("plan error:\n%s", frame(m))
	}

	// Read-only: not offered.
	m = drive(t, 100, 30, &snap, Options{Actions: fa, ReadOnly: true})
	send(m, keyMsg("R"))
	if m.prompt != promptNone || !strings.Contains(frame(m), "read-only: this identity may not roll out") {
		t.Fatalf("read-only:\n%s", frame(m))
	}
	viewer := snap
	viewer.Access = ops.Access{Known: true, Allowed: map[string]bool{"deployments/patch": false, "pods/delete": true}}
	m = drive(t, 100, 30, &viewer, Options{Actions: fa})
	send(m, keyMsg("R"))
	if m.prompt != promptNone {
		t.Fatal("R offered a rollout to an identity without deployments/patch")
	}
}

func TestQuitWhileRolloutRunsAsksTwice(t *testing.T) {
	snap := healthySnapshot()
	m := drive(t, 100, 30, &snap, Options{Actions: &fakeActions{}})
	m.ro = &rolloutState{job: job{kind: "rollout", subject: "default", key: "R", phase: jobRunning}, group: "default", plan: testPlan()}
	_, cmd := m.Update(keyMsg("q"))
	if cmd != nil || !strings.Contains(frame(m), "q again to quit") {
		t.Fatalf("first q during a rollout:\n%s", frame(m))
	}
	if !strings.Contains(frame(m), "q again") {
		t.Fatal("no warning")
	}
	if _, cmd = m.Update(keyMsg("q")); cmd == nil {
		t.Fatal("second q did not quit")
	}
	m.quitArmed = false
	m.message = ""
	m.buildChrome()
	if !strings.Contains(frame(m), "rollout default") {
		t.Fatalf("the status line does not show the hidden rollout:\n%s", frame(m))
	}
}

// fakeBoth adds backups to fakeActions.
type fakeBoth struct {
	fakeActions
	plan    *ops.BackupPlan
	lines   []string
	backups int
}

func (f *fakeBoth) PlanBackup(context.Context) (*ops.BackupPlan, error) { return f.plan, nil }
func (f *fakeBoth) Backup(_ context.Context, _ *ops.BackupPlan, progress func(string)) (ops.BackupSummary, error) {
	f.backups++
	for _, l := range f.lines {
		progress(l)
	}
	return ops.BackupSummary{ID: "20261128T030000Z-apim", Dir: "/backups/20261128T030000Z-apim", Files: 12, Bytes: 4096,
		Notes: []string{"Kubernetes Secrets left out: no age recipient given (--recipient)"}}, nil
}

func TestBackupFromTheConsole(t *testing.T) {
	snap := healthySnapshot()
	fa := &fakeBoth{plan: &ops.BackupPlan{Dir: "/backups", Namespace: "apim", Keyspaces: []string{"apim_default", "apim_default_throttle"}, Database: "metrics"},
		lines: []string{"cassandra keyspace apim_default", "mysql database metrics"}}
	m := drive(t, 100, 30, &snap, Options{Actions: fa})
	send(m, keyMsg("B"))
	scr := frame(m)
	for _, want := range []string{"Backup", "apim_default, apim_default_throttle", "left out: set APIMCTL_BACKUP_RECIPIENTS", "Back up now? y starts it"} {
		if !strings.Contains(scr, want) {
			t.Fatalf("backup plan lacks %q:\n%s", want, scr)
		}
	}
	if fa.backups != 0 {
		t.Fatal("backed up before y")
	}
	send(m, keyMsg("y"))
	scr = frame(m)
	for _, want := range []string{"mysql database metrics", "✓ 20261128T030000Z-apim written: 12 files, 4.0 KiB", "apimctl backup verify 20261128T030000Z-apim", "note: Kubernetes Secrets left out"} {
		if !strings.Contains(scr, want) {
			t.Fatalf("finished backup lacks %q:\n%s", want, scr)
		}
	}
	requireFits(t, scr, 100, 30)
	send(m, keyMsg("esc"))
	if m.bk != nil {
		t.Fatal("esc did not close the finished backup")
	}
	// n cancels with nothing written; read-only is not offered.
	send(m, keyMsg("B"))
	send(m, keyMsg("n"))
	if m.bk != nil || fa.backups != 1 || !strings.Contains(frame(m), "backup cancelled: nothing written") {
		t.Fatalf("cancel:\n%s", frame(m))
	}
	m = drive(t, 100, 30, &snap, Options{Actions: fa, ReadOnly: true})
	send(m, keyMsg("B"))
	if m.bk != nil || !strings.Contains(frame(m), "read-only: backups are not offered") {
		t.Fatalf("read-only:\n%s", frame(m))
	}
}
