package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/apimctl/apimctl/backup"
	"github.com/apimctl/apimctl/ops"
	"github.com/apimctl/apimctl/ops/action"
	"github.com/apimctl/apimctl/ops/dr"
	"github.com/apimctl/apimctl/ops/model"
	"github.com/apimctl/apimctl/ops/patch"
)

// fakeConsole stands in for ops.Console in the dialogs' key tests: it records what the
// console asked for and answers with proposals whose plan lines are ops' own (PruneAction's,
// RestorePlan.Fields, Merge.Fields). What the actions do is tested against the lab
// (lab_actions_test.go).
type fakeConsole struct {
	fakeActions

	mu       sync.Mutex
	calls    []string // "history traffic default", "undo traffic default 2", …
	ran      []string // the proposals run
	declined []string

	hist       ops.History
	histErr    error
	backups    ops.Backups
	proposeErr error // every Propose… fails with it
	refuse     error // every proposal is refused with it
	conflicts  []patch.Conflict
	// block, when set, holds every Run until it is closed (a job that runs on).
	block chan struct{}
	req   ops.RestoreRequest
	patch ops.PatchRequest
}

func (f *fakeConsole) call(s string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(s, args...))
}

func (f *fakeConsole) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeConsole) Ran() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.ran...)
}

// proposal is a proposal of kind with plan, refused when the fake refuses, running lines.
func (f *fakeConsole) proposal(kind, subject, title, question string, plan []action.Field, progress func(string), lines ...string) (*ops.Proposal, error) {
	if f.proposeErr != nil {
		return nil, f.proposeErr
	}
	p := &ops.Proposal{Kind: kind, Subject: subject, Title: title, Plan: plan, Question: question, Refusal: f.refuse}
	name := kind + " " + subject
	p.Run = func(context.Context) ops.Outcome {
		if f.block != nil {
			<-f.block
		}
		f.mu.Lock()
		f.ran = append(f.ran, name)
		f.mu.Unlock()
		for _, l := range lines {
			progress(l)
		}
		return ops.Outcome{OK: true, Line: strings.TrimPrefix(subject+": "+kind+" done", ": ")}
	}
	p.Decline = func() {
		f.mu.Lock()
		f.declined = append(f.declined, name)
		f.mu.Unlock()
	}
	return p, nil
}

func (f *fakeConsole) History(_ context.Context, _ model.Snapshot, role, group string) (*ops.History, error) {
	f.call("history %s %s", role, group)
	if f.histErr != nil {
		return nil, f.histErr
	}
	h := f.hist
	h.Role, h.Group = role, group
	if role != model.RoleTraffic {
		h.Deployment = role
	}
	return &h, nil
}

func (f *fakeConsole) ProposeUndo(_ context.Context, _ model.Snapshot, role, group string, to int64, progress func(string)) (*ops.Proposal, error) {
	f.call("undo %s %s %d", role, group, to)
	d := "deployment/" + f.hist.Deployment
	return f.proposal("undo", d, "Undo · "+d, fmt.Sprintf("Return %s to revision %d (reg/apim/gateway:7.7.1)?", d, to),
		[]action.Field{{Key: "deployment", Value: "apim/" + f.hist.Deployment}, {Key: "revision", Value: fmt.Sprintf("3 (reg/apim/gateway:7.7.2) → %d (reg/apim/gateway:7.7.1)", to)}},
		progress, "updated 1  ready 3  available 3  (pods 4)", "rollout complete")
}

func (f *fakeConsole) ProposeRolloutVerb(_ context.Context, _ model.Snapshot, verb, role, group string, progress func(string)) (*ops.Proposal, error) {
	f.call("%s %s %s", verb, role, group)
	d := "deployment/" + f.hist.Deployment
	return f.proposal(verb, d, titleWord(verb)+" · "+d, titleWord(verb)+" "+d+"?",
		[]action.Field{{Key: "deployment", Value: "apim/" + f.hist.Deployment}, {Key: "change", Value: verb}}, progress)
}

func (f *fakeConsole) ProposeRemedy(ctx context.Context, s model.Snapshot, r model.Remedy, progress func(string)) (*ops.Proposal, error) {
	f.call("remedy %s %s %s %s", r.Action, r.Deployment, r.Role, r.Group)
	f.hist.Deployment = r.Deployment
	if r.Action == model.ActionUndo {
		return f.ProposeUndo(ctx, s, r.Role, r.Group, 0, progress)
	}
	return f.ProposeRolloutVerb(ctx, s, r.Action[len("rollout."):], r.Role, r.Group, progress)
}

func (f *fakeConsole) Backups(context.Context) (*ops.Backups, error) {
	f.call("backups")
	b := f.backups
	return &b, nil
}

func (f *fakeConsole) ProposeVerify(_ context.Context, id string, progress func(string)) (*ops.Proposal, error) {
	f.call("verify %s", id)
	p, err := f.proposal("verify", id, "Verify · "+id, "", []action.Field{{Key: "backup", Value: id}, {Key: "reads", Value: "12 files, 4.0 KiB, against the manifest"}},
		progress, ops.VerifyLine(backup.VerifyProgress{Files: 6, TotalFiles: 12, Bytes: 2048, TotalBytes: 4096, Path: "cassandra/apim_default/keys.jsonl"}))
	if p != nil {
		p.NoConfirm = true
	}
	return p, err
}

func (f *fakeConsole) ProposePrune(_ context.Context, keep int, progress func(string)) (*ops.Proposal, error) {
	f.call("prune %d", keep)
	var drop []backup.Summary
	for i, b := range f.backups.List {
		if i >= keep {
			drop = append(drop, backup.Summary{ID: b.ID, Dir: "/backups/" + b.ID, Created: b.Created, Complete: b.Complete, Bytes: b.Bytes})
		}
	}
	if len(drop) == 0 {
		return nil, errors.New("nothing to prune in /backups")
	}
	a := dr.PruneAction("/backups", keep, drop)
	return f.proposal("prune", "", fmt.Sprintf("Prune backups · keep the newest %d", keep), a.Question, a.Plan, progress, "deleted "+drop[0].ID)
}

func (f *fakeConsole) ProposeRestore(_ context.Context, req ops.RestoreRequest, progress func(string)) (*ops.Proposal, error) {
	f.call("restore %s", req.Backup)
	f.mu.Lock()
	f.req = req
	f.mu.Unlock()
	ns := req.Namespace
	if ns == "" {
		ns = "apim"
	}
	plan := dr.RestorePlan{Backup: req.Backup, Namespace: ns, Steps: []string{"cassandra apim_default → apim_dr", "mysql metrics → metrics_dr", "kubernetes namespace " + ns, "workloads ready"},
		Done: map[string]bool{"cassandra apim_default → apim_dr": true}}
	return f.proposal("restore", req.Backup, "Restore · "+req.Backup+" → "+ns, "Restore "+req.Backup+" into "+ns+" (tables and objects of the same name are overwritten)?",
		plan.Fields(), progress, "cassandra apim_default → apim_dr: done by an earlier run", "mysql metrics → metrics_dr", "kubernetes namespace "+ns, "workloads ready")
}

func (f *fakeConsole) ProposePatch(_ context.Context, req ops.PatchRequest, progress func(string)) (*ops.Proposal, error) {
	f.call("patch %s", req.Image)
	f.mu.Lock()
	f.patch = req
	f.mu.Unlock()
	m := &patch.Merge{Patches: []patch.PatchSource{{Name: "SP1.tgz", Files: 2}, {Name: "other.tgz", Files: 1}}, Files: 3,
		Overrides: []string{"apigateway/conf/jvm.xml"}, Resolved: []string{"apigateway/conf/jvm.xml"}, Conflicts: f.conflicts}
	target := "reg/apim/gateway:" + req.Image
	p, err := f.proposal("patch", target, "Patch merge · "+target, "Push "+target+"?", m.Fields(), progress, "pushing "+target)
	if p != nil && len(f.conflicts) > 0 {
		p.Refusal = m.ConflictError()
	}
	return p, err
}

// historyFixture is a traffic Deployment's history: revision 3 current, 2 and 1 before.
func historyFixture() ops.History {
	return ops.History{Namespace: "apim", Deployment: "traffic", Role: model.RoleTraffic, Group: "default", Revisions: []model.Revision{
		{Revision: 1, Image: "reg/apim/gateway:7.7.0", Created: fixedNow.Add(-72 * time.Hour), ChangeCause: "initial deploy"},
		{Revision: 2, Image: "reg/apim/gateway:7.7.1", Created: fixedNow.Add(-30 * time.Hour), Replicas: 0, ChangeCause: "apimctl rollout set-image default 7.7.1"},
		{Revision: 3, Image: "reg/apim/gateway:7.7.2", Created: fixedNow.Add(-2 * time.Hour), Replicas: 3, ChangeCause: "apimctl rollout set-image default 7.7.2", Current: true},
	}}
}

// backupsFixture are three complete backups and an unfinished one, newest first.
func backupsFixture() ops.Backups {
	mk := func(id string, age time.Duration, complete bool) ops.Backup {
		b := ops.Backup{ID: id, Created: fixedNow.Add(-age), Complete: complete, Files: 12, Bytes: 4 << 20}
		if !complete {
			b.Files, b.Bytes, b.Problem = 0, 0, "no manifest.json"
		}
		return b
	}
	return ops.Backups{Dir: "/backups", List: []ops.Backup{
		mk("20260314T020000Z-apim", time.Hour, true), mk("20260313T020000Z-apim", 25*time.Hour, true),
		mk("20260312T090000Z-apim", 42*time.Hour, false), mk("20260312T020000Z-apim", 49*time.Hour, true),
	}}
}

func newFakeConsole() *fakeConsole {
	return &fakeConsole{hist: historyFixture(), backups: backupsFixture()}
}
