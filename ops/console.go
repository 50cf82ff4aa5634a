package ops

import (
	"context"
	"fmt"
	"time"

	"github.com/apimctl/apimctl/internal/format"
	"github.com/apimctl/apimctl/ops/action"
	"github.com/apimctl/apimctl/ops/dr"
	"github.com/apimctl/apimctl/ops/live"
	"github.com/apimctl/apimctl/ops/model"
	"github.com/apimctl/apimctl/ops/rollout"
)

// Console is what the console (TUI) may change. Every change is an action of the same
// use case the subcommand runs, prepared and executed by the same runner: the same plan, the
// same checks, the same confirmation (a key instead of a prompt) and the same audit record.
type Console struct {
	Conn   *live.Connection
	Runner *action.Runner
	// Gate and Timeout of the console's rollouts.
	Gate    rollout.Gate
	Timeout time.Duration
	Getenv  func(string) string
	Now     func() time.Time
}

// NewConsole acts through conn and runner with the default gate and a 10-minute rollout
// timeout (the subcommands' defaults).
func NewConsole(conn *live.Connection, runner *action.Runner, getenv func(string) string) *Console {
	return &Console{Conn: conn, Runner: runner, Gate: rollout.DefaultGate(), Timeout: 10 * time.Minute, Getenv: getenv, Now: time.Now}
}

func (c *Console) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

// Proposal is a prepared change waiting for the user: its plan, and either the reason it may
// not run or the pending action that runs on Execute.
type Proposal struct {
	Kind    string // rollout, backup, … (the status line's word)
	Subject string // e.g. the gateway group
	Title   string
	Plan    []action.Field
	// Question is the confirmation the console shows; Refusal, when set, says why it may not
	// run (read-only, RBAC, a preflight finding, the API server's refusal).
	Question string
	Refusal  error
	// NoConfirm: a read (verify) that changes nothing starts without a question, as its
	// subcommand does.
	NoConfirm bool
	// Run makes the change after the console's confirmation (its y key); Decline records a
	// no. ops sets both; the console's tests set their own.
	Run     func(ctx context.Context) Outcome
	Decline func()
}

// Outcome is how a change from the console ended, in words.
type Outcome struct {
	OK      bool
	Line    string
	Details []string
}

// propose prepares a; a refusal is kept in the proposal (the plan is still shown), other
// errors end the proposal.
func (c *Console) propose(ctx context.Context, p *Proposal, a *action.Action, progress func(string), outcome func(action.Result, error) Outcome) (*Proposal, error) {
	p.Plan, p.Question = a.Plan, a.Question
	pending, err := c.Runner.Prepare(ctx, a, action.Mode{Progress: progress})
	if err != nil {
		if action.KindOf(err) == action.KindFailed {
			return nil, err
		}
		p.Refusal = err
		p.Run = func(context.Context) Outcome { return Outcome{Line: "not run: " + err.Error()} }
		p.Decline = func() {}
		return p, nil
	}
	p.Run = func(ctx context.Context) Outcome { return outcome(pending.Execute(ctx, true)) }
	p.Decline = func() { _ = pending.Decline() }
	return p, nil
}

// after runs cleanup once the proposal is over: now when it was refused, else after it ran
// or was declined.
func (p *Proposal) after(cleanup func()) *Proposal {
	if p.Refusal != nil {
		cleanup()
		return p
	}
	run, decline := p.Run, p.Decline
	p.Run = func(ctx context.Context) Outcome { defer cleanup(); return run(ctx) }
	p.Decline = func() { defer cleanup(); decline() }
	return p
}

// failed is the outcome of a change that returned err, in words.
func failed(err error) Outcome { return Outcome{Line: "failed: " + err.Error()} }

// ProposeRollout prepares rolling a group's traffic gateways to image (a tag or a reference).
func (c *Console) ProposeRollout(ctx context.Context, s model.Snapshot, group, image string, progress func(string)) (*Proposal, error) {
	r, err := rollout.RolloutsFor(c.Conn, s.Namespace)
	if err != nil {
		return nil, err
	}
	plan, err := r.PrepareRollout(ctx, s, model.RoleTraffic, group, image)
	if err != nil {
		return nil, err
	}
	o := rollout.RolloutOptions{Gate: c.Gate, GateEnabled: true, Timeout: c.Timeout, AutoRollback: true}
	p := &Proposal{Kind: "rollout", Subject: group, Title: "Rollout · group " + group}
	return c.propose(ctx, p, r.SetImageAction(plan, o, false), progress, func(res action.Result, err error) Outcome {
		rr, _ := res.Value.(rollout.RolloutResult)
		out := Outcome{OK: err == nil && rr.Outcome == rollout.RolloutComplete, Details: []string{"now " + rr.Image + " · gate " + rr.Gate}}
		switch {
		case err != nil:
			out.Line = "failed: " + err.Error()
		case rr.Outcome == rollout.RolloutRolledBack:
			out.Line = "rolled back: " + rr.Reason
		default:
			out.Line = rr.Outcome
		}
		return out
	})
}

// ProposeBackup prepares a backup with the console's settings (the default location, the
// recipients in $APIMCTL_BACKUP_RECIPIENTS).
func (c *Console) ProposeBackup(ctx context.Context, progress func(string)) (*Proposal, error) {
	o := dr.ConsoleBackupOptions(c.Getenv)
	plan, err := dr.PlanBackup(ctx, c.Conn, o)
	if err != nil {
		return nil, err
	}
	p := &Proposal{Kind: "backup", Title: "Backup"}
	return c.propose(ctx, p, dr.CreateAction(c.Conn, plan, o), progress, func(res action.Result, err error) Outcome {
		if err != nil {
			return Outcome{Line: "failed: " + err.Error()}
		}
		s, _ := res.Value.(dr.BackupSummary)
		out := Outcome{OK: true, Line: fmt.Sprintf("%s written: %d files, %s", s.ID, s.Files, format.Bytes(s.Bytes)),
			Details: []string{s.Dir + " · apimctl backup verify " + s.ID}}
		for _, n := range s.Notes {
			out.Details = append(out.Details, "note: "+n)
		}
		return out
	})
}
