package action

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

type access struct {
	allowed map[string]bool
	err     error
}

func (a access) Allowed(_ context.Context, p Permission) (bool, error) {
	return a.allowed[p.Verb+" "+p.Resource], a.err
}
func (a access) Identity(context.Context) (string, error) { return "alice@example", nil }

// change is an action that counts its runs.
func change(runs *int, needs ...Permission) *Action {
	return &Action{Name: "thing.change", What: "change the thing", Scope: Scope{Context: "prod", Namespace: "apim", Resource: "deployment/traffic"},
		Details: map[string]string{"url": "https://u:hunter2@registry.test/x"}, Needs: needs,
		Do: func(context.Context, func(string)) (Result, error) { *runs++; return Result{}, nil }}
}

func runner(sink *MemorySink) *Runner {
	return &Runner{Audit: sink, Via: "cli", Now: func() time.Time { return time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC) },
		OSUser: func() (string, string) { return "ops", "alice" }}
}

func phases(recs []Record) string {
	var s []string
	for _, r := range recs {
		s = append(s, r.Phase+":"+r.Outcome)
	}
	return strings.Join(s, " ")
}

func TestRunnerOrderAndRecords(t *testing.T) {
	patch := Permission{Group: "apps", Resource: "deployments", Verb: "patch", Namespace: "apim"}
	for _, c := range []struct {
		name   string
		setup  func(r *Runner, a *Action)
		mode   Mode
		kind   Kind
		ok     bool
		runs   int
		phases string
	}{
		{"read-only wins over everything", func(r *Runner, a *Action) { r.ReadOnly = true; a.Blockers = []string{"x"} }, Mode{Yes: true}, KindDenied, false, 0, "refused:refused"},
		{"rbac denied", func(r *Runner, a *Action) { r.Access = access{allowed: map[string]bool{}} }, Mode{Yes: true}, KindDenied, false, 0, "refused:refused"},
		{"rbac unknown", func(r *Runner, a *Action) { r.Access = access{err: errors.New("boom")} }, Mode{Yes: true}, KindFailed, false, 0, "refused:refused"},
		{"no cluster to ask", func(r *Runner, a *Action) {}, Mode{Yes: true}, KindFailed, false, 0, "refused:refused"},
		{"blocked", func(r *Runner, a *Action) {
			r.Access = access{allowed: map[string]bool{"patch deployments": true}}
			a.Blockers = []string{"x"}
		}, Mode{Yes: true}, KindBlocked, false, 0, "refused:refused"},
		{"forced", func(r *Runner, a *Action) {
			r.Access = access{allowed: map[string]bool{"patch deployments": true}}
			a.Blockers, a.Force = []string{"x"}, true
		}, Mode{Yes: true}, 0, true, 1, "intent: outcome:ok"},
		{"server refuses", func(r *Runner, a *Action) {
			r.Access = access{allowed: map[string]bool{"patch deployments": true}}
			a.Validate = func(context.Context) error { return errors.New("invalid image") }
		}, Mode{Yes: true}, KindUsage, false, 0, "refused:refused"},
		{"dry run", func(r *Runner, a *Action) { r.Access = access{allowed: map[string]bool{"patch deployments": true}} }, Mode{DryRun: true}, 0, true, 0, "dry-run:ok"},
		{"no terminal, no --yes", func(r *Runner, a *Action) { r.Access = access{allowed: map[string]bool{"patch deployments": true}} }, Mode{}, KindUsage, false, 0, ""},
		{"declined", func(r *Runner, a *Action) {
			r.Access = access{allowed: map[string]bool{"patch deployments": true}}
			r.Ask = func(string) (bool, error) { return false, nil }
		}, Mode{}, KindAborted, false, 0, "declined:declined"},
		{"confirmed", func(r *Runner, a *Action) {
			r.Access = access{allowed: map[string]bool{"patch deployments": true}}
			r.Ask = func(q string) (bool, error) { return q == "Go ahead: change the thing?", nil }
		}, Mode{}, 0, true, 1, "intent: outcome:ok"},
		{"audit log unwritable: nothing runs", func(r *Runner, a *Action) {
			r.Access = access{allowed: map[string]bool{"patch deployments": true}}
			r.Audit = &MemorySink{Err: errors.New("read-only file system")}
		}, Mode{Yes: true}, KindFailed, false, 0, ""},
		{"the change fails", func(r *Runner, a *Action) {
			r.Access = access{allowed: map[string]bool{"patch deployments": true}}
			a.Do = func(context.Context, func(string)) (Result, error) { return Result{}, errors.New("conflict") }
		}, Mode{Yes: true}, KindFailed, false, 0, "intent: outcome:failed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink := &MemorySink{}
			r := runner(sink)
			runs := 0
			a := change(&runs, patch)
			c.setup(r, a)
			_, err := r.Run(context.Background(), a, c.mode)
			if (err == nil) != c.ok || (err != nil && KindOf(err) != c.kind) {
				t.Fatalf("err %v (kind %v), want ok=%v kind %v", err, KindOf(err), c.ok, c.kind)
			}
			if runs != c.runs {
				t.Errorf("ran %d times, want %d", runs, c.runs)
			}
			recs := sink.Records()
			if got := phases(recs); got != c.phases {
				t.Errorf("records %q, want %q", got, c.phases)
			}
			for _, rec := range recs {
				if rec.User != "ops" || rec.SudoUser != "alice" || rec.Action != "thing.change" || rec.Context != "prod" || rec.Namespace != "apim" ||
					rec.Target != "prod/apim deployment/traffic" || rec.Via != "cli" || rec.ID == "" {
					t.Errorf("record lacks who/what/where: %+v", rec)
				}
				if r.Access != nil && c.name != "rbac unknown" && rec.KubeUser != "alice@example" {
					t.Errorf("record lacks the kube identity: %+v", rec)
				}
				if strings.Contains(rec.Details["url"], "hunter2") {
					t.Errorf("a secret reached the audit log: %+v", rec.Details)
				}
			}
			if len(recs) == 2 && recs[0].ID != recs[1].ID {
				t.Errorf("intent and outcome have different IDs")
			}
		})
	}
}

func TestExecuteNeedsConfirmation(t *testing.T) {
	sink := &MemorySink{}
	r := runner(sink)
	runs := 0
	p, err := r.Prepare(context.Background(), change(&runs), Mode{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Execute(context.Background(), false); KindOf(err) != KindUsage || runs != 0 {
		t.Fatalf("unconfirmed Execute: %v, runs %d", err, runs)
	}
	if _, err := p.Execute(context.Background(), true); err != nil || runs != 1 {
		t.Fatalf("confirmed Execute: %v, runs %d", err, runs)
	}
}

func TestIntentIsWrittenBeforeTheChange(t *testing.T) {
	sink := &MemorySink{}
	r := runner(sink)
	a := &Action{Name: "x", Do: func(context.Context, func(string)) (Result, error) {
		if got := phases(sink.Records()); got != "intent:" {
			t.Errorf("during the change the log holds %q", got)
		}
		return Result{Outcome: "rolled-back", Details: map[string]string{"gate": "failed"}}, nil
	}}
	if _, err := r.Run(context.Background(), a, Mode{Yes: true}); err != nil {
		t.Fatal(err)
	}
	recs := sink.Records()
	if recs[1].Outcome != "rolled-back" || recs[1].Details["gate"] != "failed" {
		t.Errorf("outcome record %+v", recs[1])
	}
}

func TestScopeString(t *testing.T) {
	s := Scope{Context: "dr", Namespace: "apim-dr", Resource: "backup 2026", KeyspaceMap: map[string]string{"b": "b_dr", "a": "a_dr"}, Database: "metrics"}
	if got := s.String(); got != "dr/apim-dr backup 2026 database metrics keyspaces a→a_dr,b→b_dr" {
		t.Errorf("%q", got)
	}
	if got := (Scope{Location: "https://u:p@h/c"}).String(); strings.Contains(got, ":p@") {
		t.Errorf("%q", got)
	}
}

func TestTail(t *testing.T) {
	p := t.TempDir() + "/audit.log"
	if recs, err := Tail(p, 5); err != nil || len(recs) != 0 {
		t.Fatalf("missing log: %v %v", recs, err)
	}
	s := FileSink{Path: p}
	for i := range 700 {
		s.Write(Record{Action: "a", ID: strings.Repeat("x", 400), Details: map[string]string{"i": fmt.Sprint(i)}})
	}
	recs, err := Tail(p, 3)
	if err != nil || len(recs) != 3 || recs[0].Details["i"] != "697" || recs[2].Details["i"] != "699" {
		t.Fatalf("%v %+v", err, recs)
	}
}
