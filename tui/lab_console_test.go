package tui

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/lab/labtest"
	"github.com/apimctl/apimctl/ops"
	"github.com/apimctl/apimctl/ops/action"
	"github.com/apimctl/apimctl/ops/live"
)

// The console's actions driven against the lab: the real model fed by the live sources,
// ops.Console with the real runner writing an audit log of the test's own, keys sent to a
// teatest program. Each test checks the effect in the cluster, the database or the
// directory, and the audit record. They use namespaces, keyspaces and directories of their
// own, so they do not disturb others using the shared lab.

// observed wraps the console's model so a test can read its screen while the program runs:
// the frame is taken on the program's goroutine after each message.
type observed struct {
	m      *Model
	mu     sync.Mutex
	screen string
}

func (o *observed) Init() tea.Cmd { return o.m.Init() }

func (o *observed) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := o.m.Update(msg)
	s := ansi.Strip(o.m.View().Content)
	o.mu.Lock()
	o.screen = s
	o.mu.Unlock()
	return o, cmd
}

func (o *observed) View() tea.View { return o.m.View() }

func (o *observed) Screen() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.screen
}

// labConsole is a running console against the lab.
type labConsole struct {
	t     *testing.T
	env   *lab.Env
	tm    *teatest.TestModel
	obs   *observed
	audit string
	conn  *live.Connection
}

// startLabConsole connects to targets, starts the live model and the console with the real
// ops.Console (its runner records into a temp audit log), and waits for the first snapshot.
func startLabConsole(t *testing.T, env *lab.Env, targets live.Targets, getenv func(string) string, readOnly bool) *labConsole {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	conn := live.Connect(ctx, targets, func(string) string { return "" })
	if conn.KubeErr != nil {
		t.Fatal(conn.KubeErr)
	}
	l := live.NewLive(conn, live.LiveOptions{PollInterval: time.Second, ReadOnly: readOnly})
	l.Start(ctx)
	audit := t.TempDir() + "/audit.log"
	runner := &action.Runner{ReadOnly: readOnly, Access: conn.Access(), Audit: action.FileSink{Path: audit}, Via: "console"}
	c := ops.NewConsole(conn, runner, getenv)
	c.Timeout = 4 * time.Minute
	obs := &observed{m: New(l, Options{ReadOnly: readOnly, Actions: c, Context: ctx}).(*Model)}
	tm := teatest.NewTestModel(t, obs, teatest.WithInitialTermSize(140, 40),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	lc := &labConsole{t: t, env: env, tm: tm, obs: obs, audit: audit, conn: conn}
	t.Cleanup(func() {
		_ = tm.Quit()
		// A second q in case a job still runs (the first one asks).
		tm.Send(keyMsg("q"))
	})
	// The first snapshot, with the API server's answer on what this identity may do.
	lc.waitScreen(90*time.Second, "the first snapshot and the access review", func(s string) bool {
		return strings.Contains(s, "ctx "+targets.Context) && (strings.Contains(s, "read-write") || strings.Contains(s, "READ-ONLY")) &&
			!strings.Contains(s, "access unknown")
	})
	return lc
}

// keys sends key presses; "text:abc" types abc.
func (c *labConsole) keys(keys ...string) { sendKeys(c.t, c.tm, keys...) }

// waitScreen waits until ok holds for the console's screen.
func (c *labConsole) waitScreen(within time.Duration, what string, ok func(string) bool) string {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for {
		s := c.obs.Screen()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("no screen with %s within %s; last:\n%s", what, within, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitFor waits until every text is on screen.
func (c *labConsole) waitFor(within time.Duration, texts ...string) string {
	c.t.Helper()
	return c.waitScreen(within, strings.Join(texts, " and "), func(s string) bool {
		for _, x := range texts {
			if !strings.Contains(s, x) {
				return false
			}
		}
		return true
	})
}

// records are the audit log's records of action, oldest first.
func (c *labConsole) records(name string) []action.Record {
	c.t.Helper()
	all, err := action.ReadLog(c.audit)
	if err != nil {
		c.t.Fatal(err)
	}
	var out []action.Record
	for _, r := range all {
		if r.Action == name {
			out = append(out, r)
		}
	}
	return out
}

// requireRan checks that the audit log holds action's intent and its ok outcome, under one
// run ID, from the console, and returns the outcome.
func (c *labConsole) requireRan(name string) action.Record {
	c.t.Helper()
	recs := c.records(name)
	var intent, outcome *action.Record
	for i := range recs {
		switch recs[i].Phase {
		case action.PhaseIntent:
			intent = &recs[i]
		case action.PhaseOutcome:
			outcome = &recs[i]
		}
	}
	if intent == nil || outcome == nil || intent.ID != outcome.ID || outcome.Outcome != action.OutcomeOK || outcome.Via != "console" ||
		intent.Time.After(outcome.Time) {
		c.t.Fatalf("audit of %s: want intent then ok outcome from the console, got %+v", name, recs)
	}
	return *outcome
}

func labTargets(env *lab.Env, ns string) live.Targets {
	tg := labtest.Targets(env, lab.ContextName, ns)
	tg.Keyspace, tg.ThrottleKeyspace = env.Keyspace, env.ThrottleKeyspace
	return tg
}

func readAudit(path string) ([]action.Record, error) { return action.ReadLog(path) }
