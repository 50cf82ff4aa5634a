package action

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/user"
	"sync"
	"time"

	"github.com/apimctl/apimctl/internal/format"
	"github.com/apimctl/apimctl/internal/redact"
)

// Permission is one RBAC check: may the identity do Verb on Resource (Subresource) of API
// Group in Namespace?
type Permission struct {
	Group, Resource, Subresource, Verb, Namespace string
}

func (p Permission) String() string {
	r := p.Resource
	if p.Subresource != "" {
		r += "/" + p.Subresource
	}
	if p.Group != "" {
		r += "." + p.Group
	}
	s := p.Verb + " " + r
	if p.Namespace != "" {
		s += " in namespace " + p.Namespace
	}
	return s
}

// AccessReviewer asks the API server what the current identity may do and who it is
// (cluster/kube through ops/live implements it).
type AccessReviewer interface {
	Allowed(ctx context.Context, p Permission) (bool, error)
	Identity(ctx context.Context) (string, error)
}

// Action is one change, described before it runs.
type Action struct {
	// Name is the audit log's name of the change: rollout.set-image, backup.prune, ….
	Name  string
	Scope Scope
	// What says the change in a few words for messages: "roll deployment/traffic to 1.0.2".
	What string
	// Plan is what it will do, shown before the question (the same lines on the command
	// line and in the console).
	Plan []Field
	// NoConfirm: the command itself is the request, and the change is local and undone by
	// another command (starting or stopping the lab): it runs without a question. Read-only
	// mode and the audit log still apply.
	NoConfirm bool
	// Question is asked before it runs ("Roll deployment/traffic from … to …?").
	Question string
	// Details are recorded with it (never a secret: values are redacted anyway).
	Details map[string]string
	// Needs are the RBAC permissions it needs; each is asked before anything else happens.
	Needs []Permission
	// Blockers are preflight findings that stop it unless Force.
	Blockers []string
	Force    bool
	// BlockedHint says how to clear the blockers.
	BlockedHint string
	// Validate checks the change without making it (a server-side dry run), before the
	// confirmation and in a dry run. An untyped error counts as bad input (exit 2).
	Validate func(ctx context.Context) error
	// Do makes the change, saying how it goes through progress (never nil).
	Do func(ctx context.Context, progress func(string)) (Result, error)
}

// Result is how a change ended, for the outcome record.
type Result struct {
	// Outcome is recorded as is ("ok" when empty and Do returned no error, "failed" when it
	// did); e.g. "rolled-back".
	Outcome string
	Details map[string]string
	// Value is what the change returns to its front end (e.g. a rollout's result).
	Value any
}

// Mode is how the front end asked for the change.
type Mode struct {
	DryRun bool
	Yes    bool // confirmed in advance (--yes)
	// Progress receives the change's progress lines (nil: none are shown).
	Progress func(string)
}

// Field is one line of a plan: "image  a → b", marked when it judges something.
type Field struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	Mark  Mark   `json:"mark,omitempty"`
}

// Mark says whether a plan line is good news, a warning or a blocker.
type Mark int

const (
	MarkNone Mark = iota
	MarkOK
	MarkWarn
	MarkBad
)

// Symbol is the mark as the command line prints it (the words carry the meaning, the symbol
// and the console's colour only repeat it).
func (m Mark) Symbol() string {
	switch m {
	case MarkOK:
		return "✓ "
	case MarkWarn:
		return "! "
	case MarkBad:
		return "✗ "
	}
	return ""
}

// Runner runs actions. The zero value refuses nothing and records nothing: always set Audit.
type Runner struct {
	ReadOnly bool
	// Access answers the RBAC pre-checks; nil when there is no cluster (an action that
	// needs a permission is then refused).
	Access AccessReviewer
	Audit  Sink
	// Ask asks the user a yes/no question; nil when nobody can be asked (then only --yes
	// lets a change run).
	Ask func(question string) (bool, error)
	// Via names the front end in the records: cli or console.
	Via string
	Now func() time.Time
	// OSUser returns the OS user and, under sudo, who became it (the process's own when nil).
	OSUser func() (name, sudoUser string)

	once     sync.Once
	kubeUser string
}

// ErrNeedsYes is the refusal of a change nobody can confirm.
var ErrNeedsYes = errors.New("needs confirmation: not on a terminal, so pass --yes to go ahead (or --dry-run to see the plan)")

// Pending is an action that passed every check and waits for its confirmation.
type Pending struct {
	r   *Runner
	a   *Action
	m   Mode
	rec Record
	dry bool
}

// DryRun is true when the action was prepared as a dry run: it is recorded and ends here.
func (p *Pending) DryRun() bool { return p.dry }

// Action is what is pending.
func (p *Pending) Action() *Action { return p.a }

// Prepare runs every check of the action, in order, and records a refusal or the dry run.
// It changes nothing.
func (r *Runner) Prepare(ctx context.Context, a *Action, m Mode) (*Pending, error) {
	if a.Do == nil || a.Name == "" {
		return nil, fmt.Errorf("action %q: incomplete (no name or nothing to do)", a.Name)
	}
	rec := r.base(ctx, a, m)
	what := a.What
	if what == "" {
		what = a.Name
	}
	refuse := func(err error) (*Pending, error) {
		rr := rec
		rr.Phase, rr.Outcome, rr.Error = PhaseRefused, OutcomeRefused, redact.URL(err.Error())
		_ = r.write(rr) // best effort: a refusal changes nothing either way
		return nil, err
	}
	if r.ReadOnly {
		return refuse(Denied(fmt.Errorf("read-only mode (--read-only): will not %s; nothing changed", what), ""))
	}
	for _, need := range a.Needs {
		if r.Access == nil {
			return refuse(Failed(fmt.Errorf("cannot ask the API server whether %s may %s: no Kubernetes connection; nothing changed", orThisIdentity(rec.KubeUser), need),
				"check --kubeconfig/--context"))
		}
		ok, err := r.Access.Allowed(ctx, need)
		if err != nil {
			return refuse(Failed(fmt.Errorf("could not ask the API server whether %s may %s: %w; nothing changed", orThisIdentity(rec.KubeUser), need, err), ""))
		}
		if !ok {
			return refuse(Denied(fmt.Errorf("%s is not permitted to %s (RBAC: %s); nothing changed", orThisIdentity(rec.KubeUser), what, need),
				"ask for a role that allows it, or use --dry-run to see the plan"))
		}
	}
	if len(a.Blockers) > 0 && !a.Force {
		return refuse(Blocked(fmt.Errorf("preflight: %s; nothing changed", format.Counted(len(a.Blockers), "error-level finding")), a.BlockedHint))
	}
	if a.Validate != nil {
		if err := a.Validate(ctx); err != nil {
			var typed *Error
			if !errors.As(err, &typed) {
				err = Usage(err)
			}
			return refuse(err)
		}
	}
	p := &Pending{r: r, a: a, m: m, rec: rec}
	if m.DryRun {
		dr := rec
		dr.Phase, dr.Outcome = PhaseDryRun, OutcomeOK
		if err := r.write(dr); err != nil {
			return nil, Failed(err, "")
		}
		p.dry = true
	}
	return p, nil
}

// Run is Prepare, then (unless a dry run) Confirm and Execute.
func (r *Runner) Run(ctx context.Context, a *Action, m Mode) (Result, error) {
	p, err := r.Prepare(ctx, a, m)
	if err != nil {
		return Result{}, err
	}
	if p.DryRun() {
		return Result{Outcome: PhaseDryRun}, nil
	}
	return p.Run(ctx)
}

// Run confirms the pending action (unless --yes) and executes it.
func (p *Pending) Run(ctx context.Context) (Result, error) {
	if err := p.Confirm(); err != nil {
		return Result{}, err
	}
	return p.Execute(ctx, true)
}

// Confirm asks the runner's question unless the mode says --yes. Declining is recorded and
// ends with KindAborted; nobody to ask ends with KindUsage.
func (p *Pending) Confirm() error {
	if p.dry {
		return errors.New("a dry run does not run")
	}
	if p.m.Yes || p.a.NoConfirm {
		return nil
	}
	if p.r.Ask == nil {
		return Usage(ErrNeedsYes)
	}
	q := p.a.Question
	if q == "" {
		q = "Go ahead: " + p.a.What + "?"
	}
	ok, err := p.r.Ask(q)
	if err != nil {
		return Usage(err)
	}
	if !ok {
		return p.Decline()
	}
	return nil
}

// Decline records that the user said no; it returns the KindAborted error to end with.
func (p *Pending) Decline() error {
	rec := p.rec
	rec.Phase, rec.Outcome = PhaseDeclined, OutcomeDeclined
	_ = p.r.write(rec)
	return Aborted(errors.New("cancelled: nothing changed"))
}

// Execute makes the change: the intent is recorded (and fsynced) first — when it cannot be,
// nothing runs — then Do, then the outcome. confirmed says the front end has the user's yes
// (the console's y key); without it only --yes lets it run.
func (p *Pending) Execute(ctx context.Context, confirmed bool) (Result, error) {
	if p.dry {
		return Result{}, errors.New("a dry run does not run")
	}
	if !confirmed && !p.m.Yes && !p.a.NoConfirm {
		return Result{}, Usage(ErrNeedsYes)
	}
	intent := p.rec
	intent.Phase = PhaseIntent
	intent.Time = p.r.now()
	if err := p.r.write(intent); err != nil {
		return Result{}, Failed(fmt.Errorf("%w; the action was not run (no audit record, no action)", err),
			"make the audit log writable ($APIMCTL_AUDIT_LOG)")
	}
	progress := p.m.Progress
	if progress == nil {
		progress = func(string) {}
	}
	res, err := p.a.Do(ctx, progress)
	out := p.rec
	out.Phase, out.Time = PhaseOutcome, p.r.now()
	out.Outcome = res.Outcome
	switch {
	case out.Outcome == "" && err != nil:
		out.Outcome = OutcomeFailed
	case out.Outcome == "":
		out.Outcome = OutcomeOK
	}
	if err != nil {
		out.Error = redact.URL(err.Error())
	}
	if len(res.Details) > 0 {
		d := make(map[string]string, len(out.Details)+len(res.Details))
		for k, v := range out.Details {
			d[k] = v
		}
		for k, v := range res.Details {
			d[k] = redact.URL(v)
		}
		out.Details = d
	}
	if aerr := p.r.write(out); aerr != nil {
		err = errors.Join(err, fmt.Errorf("the outcome could not be recorded: %w", aerr))
	}
	return res, err
}

func (r *Runner) base(ctx context.Context, a *Action, m Mode) Record {
	rec := Record{Time: r.now(), ID: newID(), Action: a.Name, Scope: a.Scope, DryRun: m.DryRun, Via: r.Via,
		Details: redact.Map(a.Details)}
	rec.Scope.Location = redact.URL(rec.Scope.Location)
	rec.Scope.Image = redact.URL(rec.Scope.Image)
	rec.Target = a.Scope.String()
	if r.OSUser != nil {
		rec.User, rec.SudoUser = r.OSUser()
	} else {
		rec.User, rec.SudoUser = processUser()
	}
	if len(a.Needs) > 0 {
		rec.KubeUser = r.identity(ctx)
	}
	return rec
}

// identity asks the API server once who the runner acts as ("" without a cluster).
func (r *Runner) identity(ctx context.Context) string {
	if r.Access == nil {
		return ""
	}
	r.once.Do(func() {
		ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		r.kubeUser, _ = r.Access.Identity(ictx)
	})
	return r.kubeUser
}

func (r *Runner) write(rec Record) error {
	if r.Audit == nil {
		return errors.New("no audit log configured")
	}
	return r.Audit.Write(rec)
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

func processUser() (name, sudoUser string) {
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return name, os.Getenv("SUDO_USER")
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func orThisIdentity(s string) string {
	if s == "" {
		return "this identity"
	}
	return s
}
