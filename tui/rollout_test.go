package tui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apimctl/apimctl/ops"
	"github.com/apimctl/apimctl/ops/dr"
	"github.com/apimctl/apimctl/ops/model"
	"github.com/apimctl/apimctl/ops/rollout"

	tea "charm.land/bubbletea/v2"
)

// fakeActions stands in for ops.Console: the TUI's part of an action is presentation and key
// handling (the actions themselves are drilled against the lab). Its proposals carry the real
// plan lines of ops (RolloutPlan.Fields, BackupPlan.Fields).
type fakeActions struct {
	plan     *rollout.RolloutPlan
	planErr  error
	refusal  error
	steps    []rollout.RolloutStep
	res      rollout.RolloutResult
	group    string
	image    string
	rolledTo string
	declined int

	backupPlan *dr.BackupPlan
	lines      []string
	backups    int
}

func (f *fakeActions) ProposeRollout(_ context.Context, _ model.Snapshot, group, image string, progress func(string)) (*ops.Proposal, error) {
	f.group, f.image = group, image
	if f.planErr != nil {
		return nil, f.planErr
	}
	refusal := f.refusal
	if len(f.plan.Blockers) > 0 && refusal == nil {
		refusal = errors.New("preflight: 1 error-level finding; nothing changed")
	}
	return &ops.Proposal{Kind: "rollout", Subject: group, Title: "Rollout · group " + group, Plan: f.plan.Fields(),
		Question: "Roll deployment/" + f.plan.Deployment + " from " + f.plan.FromImage + " to " + f.plan.ToImage + "?", Refusal: refusal,
		Run: func(context.Context) ops.Outcome {
			f.rolledTo = f.plan.ToImage
			for _, s := range f.steps {
				progress(s.Line())
			}
			return ops.Outcome{OK: f.res.Outcome == rollout.RolloutComplete, Line: f.res.Outcome, Details: []string{"now " + f.res.Image + " · gate " + f.res.Gate}}
		},
		Decline: func() { f.declined++ }}, nil
}

func (f *fakeActions) ProposeBackup(_ context.Context, progress func(string)) (*ops.Proposal, error) {
	return &ops.Proposal{Kind: "backup", Title: "Backup", Plan: f.backupPlan.Fields(), Question: "Back up namespace apim into /backups now?",
		Run: func(context.Context) ops.Outcome {
			f.backups++
			for _, l := range f.lines {
				progress(l)
			}
			return ops.Outcome{OK: true, Line: "20261128T030000Z-apim written: 12 files, 4.0 KiB",
				Details: []string{"/backups/20261128T030000Z-apim · apimctl backup verify 20261128T030000Z-apim", "note: Kubernetes Secrets left out: no age recipient given (--recipient)"}}
		},
		Decline: func() { f.declined++ }}, nil
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

// sendAll sends the key presses of keys, each as send does; "text:abc" types abc.
func sendAll(m *Model, keys ...string) {
	eachKey(keys, func(k tea.KeyPressMsg) { send(m, k) })
}

func typeKeys(m *Model, s string) {
	for _, r := range s {
		send(m, keyMsg(string(r)))
	}
}

func testPlan(blockers ...model.Finding) *rollout.RolloutPlan {
	return &rollout.RolloutPlan{Namespace: "apim", Deployment: "traffic-payments", Role: model.RoleTraffic, Group: "payments", Container: "traffic",
		FromImage: "reg/apim/gateway:7.7.1", ToImage: "reg/apim/gateway:7.7.2", Revision: "4", Replicas: 3, MaxSurge: "1", MaxUnavailable: "0",
		ImageCheck: "found", ImageDigest: "sha256:0123abcd", Blockers: blockers}
}

func TestRolloutFromTheConsole(t *testing.T) {
	snap := healthySnapshot()
	at := fixedNow
	fa := &fakeActions{plan: testPlan(),
		steps: []rollout.RolloutStep{
			{Time: at, Phase: "rolling", Replicas: 4, Updated: 1, Ready: 3, Available: 3},
			{Time: at.Add(5 * time.Second), Phase: "rolling", Replicas: 3, Updated: 3, Ready: 3, Available: 3, ErrorRatio: ptr(0.0), Requests: 240},
			{Time: at.Add(9 * time.Second), Phase: "done", Message: "rollout complete"},
		},
		res: rollout.RolloutResult{Outcome: rollout.RolloutComplete, Image: "reg/apim/gateway:7.7.2", Gate: "passed: 0.0% 5xx over 240 requests (gate 5.0%)"}}
	m := drive(t, 100, 30, &snap, Options{Actions: fa})
	press(m, "2", "]", "]") // pods view, group payments
	send(m, keyMsg("R"))
	if m.prompt != promptRollout || !strings.Contains(frame(m), "roll out group payments to tag or image:") {
		t.Fatalf("R did not ask for the tag:\n%s", frame(m))
	}
	sendAll(m, "text:7.7.2", "enter")
	if fa.group != "payments" || fa.image != "7.7.2" {
		t.Fatalf("planned group %q image %q", fa.group, fa.image)
	}
	scr := frame(m)
	for _, want := range []string{"Rollout · group payments", "reg/apim/gateway:7.7.1 → reg/apim/gateway:7.7.2", "✓ found sha256:0123abcd", "no error-level finding", "y starts it", "nothing has changed yet"} {
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
	if m.jobs["rollout"] != nil || !strings.Contains(frame(m), "NAME") {
		t.Fatalf("esc did not close the finished rollout:\n%s", frame(m))
	}
}

func TestRolloutRefusedAndCancelled(t *testing.T) {
	snap := healthySnapshot()

	// Blocked by the preflight: y does nothing, n cancels, nothing ran.
	fa := &fakeActions{plan: testPlan(model.Finding{ID: "CASS-001", Severity: model.SeverityError, Subject: "cassandra", Message: "2 of 3 nodes up"})}
	m := drive(t, 100, 30, &snap, Options{Actions: fa})
	sendAll(m, "R", "text:7.7.2", "enter")
	if scr := frame(m); !strings.Contains(scr, "CASS-001 cassandra: 2 of 3 nodes up") || !strings.Contains(scr, "refused: preflight: 1 error-level finding") {
		t.Fatalf("blockers not shown:\n%s", scr)
	}
	send(m, keyMsg("y"))
	if fa.rolledTo != "" {
		t.Fatal("a blocked rollout started")
	}
	send(m, keyMsg("n"))
	if m.jobs["rollout"] != nil || !strings.Contains(frame(m), "rollout cancelled: nothing changed") {
		t.Fatalf("n did not cancel:\n%s", frame(m))
	}

	// The plan fails (the API server refuses): the error, nothing shown as started.
	fa = &fakeActions{planErr: errors.New(`the API server refuses the change: admission webhook "images" denied`)}
	m = drive(t, 100, 30, &snap, Options{Actions: fa})
	sendAll(m, "R", "text:x", "enter")
	if m.jobs["rollout"] != nil || !strings.Contains(frame(m), `✗ rollout: the API server refuses the change`) {
		t.Fatalf("plan error:\n%s", frame(m))
	}

	// Read-only: not offered.
	m = drive(t, 100, 30, &snap, Options{Actions: fa, ReadOnly: true})
	send(m, keyMsg("R"))
	if m.prompt != promptNone || !strings.Contains(frame(m), "read-only: this identity may not roll out") {
		t.Fatalf("read-only:\n%s", frame(m))
	}
	viewer := snap
	viewer.Access = model.Access{Known: true, Allowed: map[string]bool{"deployments/patch": false, "pods/delete": true}}
	m = drive(t, 100, 30, &viewer, Options{Actions: fa})
	send(m, keyMsg("R"))
	if m.prompt != promptNone {
		t.Fatal("R offered a rollout to an identity without deployments/patch")
	}
}

func TestQuitWhileRolloutRunsAsksTwice(t *testing.T) {
	snap := healthySnapshot()
	m := drive(t, 100, 30, &snap, Options{Actions: &fakeActions{}})
	j := newJob("rollout", "roll out", "default", "R", "Rollout · group default", "", "nothing changed")
	j.phase, j.shown = jobRunning, false
	m.jobs["rollout"] = j
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

func TestBackupFromTheConsole(t *testing.T) {
	snap := healthySnapshot()
	fa := &fakeActions{backupPlan: &dr.BackupPlan{Dir: "/backups", Namespace: "apim", Keyspaces: []string{"apim_default", "apim_default_throttle"}, Database: "metrics"},
		lines: []string{"cassandra keyspace apim_default", "mysql database metrics"}}
	m := drive(t, 100, 30, &snap, Options{Actions: fa})
	send(m, keyMsg("B"))
	scr := frame(m)
	for _, want := range []string{"Backup", "apim_default, apim_default_throttle", "left out: no --recipient (or $APIMCTL_BACKUP_RECIPIENTS)", "Back up namespace apim into /backups now?", "y starts it"} {
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
	if m.jobs["backup"] != nil {
		t.Fatal("esc did not close the finished backup")
	}
	// n cancels with nothing written; read-only is not offered.
	sendAll(m, "B", "n")
	if m.jobs["backup"] != nil || fa.backups != 1 || fa.declined != 1 || !strings.Contains(frame(m), "backup cancelled: nothing written") {
		t.Fatalf("cancel:\n%s", frame(m))
	}
	m = drive(t, 100, 30, &snap, Options{Actions: fa, ReadOnly: true})
	send(m, keyMsg("B"))
	if m.jobs["backup"] != nil || !strings.Contains(frame(m), "read-only: backups are not offered") {
		t.Fatalf("read-only:\n%s", frame(m))
	}
}
