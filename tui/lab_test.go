package tui

import (
	"context"
	"regexp"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/apimctl/apimctl/lab/labtest"
	"github.com/apimctl/apimctl/ops/inspect"
	"github.com/apimctl/apimctl/ops/live"
)

// TestConsoleDrillsIntoALabPod drives the console — the live model and the real inspector,
// every command they return run as the program would — against the lab: in a namespace of
// its own, a gateway Deployment whose Cassandra port is closed crash-loops (real apigw
// processes run by the lab agent). From the pods view, enter opens the pod's detail (the
// judgement names the crash, the agent's events are there), l its log (the gateway's own
// lines), and the log view, following, receives the next instance's lines.
func TestConsoleDrillsIntoALabPod(t *testing.T) {
	env := labtest.Require(t)
	ns := labtest.CrashingGateway(t, env, "console", true)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cctx, ccancel := context.WithTimeout(ctx, 20*time.Second)
	conn := live.Connect(cctx, live.Targets{Kubeconfig: env.Kubeconfig, Context: env.Context, Namespace: ns}, func(string) string { return "" })
	ccancel()
	l := live.NewLive(conn, live.LiveOptions{})
	l.Start(ctx)

	m := New(l, Options{Inspector: inspect.New(conn), Context: ctx}).(*Model)
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	settle(m, m.Init())
	pressSettle(m, "2")
	waitScreen(t, m, "the crashing pod in the pods view", 90*time.Second, regexp.MustCompile(`crashing-[a-z0-9]+-[a-z0-9]{5}`))
	pressSettle(m, "/", "text:crashing", "enter", "enter")
	if _, ok := m.top().(*podDetail); !ok {
		t.Fatalf("enter opened %T", m.top())
	}
	waitScreen(t, m, "the pod's judgement", 60*time.Second,
		regexp.MustCompile(`✗ container traffic (crash-looping|starting again after it exited with code 1|running, its readiness probe has not passed)`))
	pressSettle(m, "r") // read again: the agent's events may have come after the first read
	waitScreen(t, m, "its events", 30*time.Second, regexp.MustCompile(`Started container traffic`))

	pressSettle(m, "l")
	lv, ok := m.top().(*logView)
	if !ok {
		t.Fatalf("l opened %T", m.top())
	}
	waitScreen(t, m, "the gateway's own lines", 30*time.Second, regexp.MustCompile(`"msg":"starting apigw"`))
	starts := func() int {
		n := 0
		for i := range lv.ring.len() {
			if regexp.MustCompile(`"msg":"starting apigw"`).MatchString(lv.ring.at(i)) {
				n++
			}
		}
		return n
	}
	first := starts()
	deadline := time.Now().Add(90 * time.Second)
	for starts() == first {
		if time.Now().After(deadline) {
			t.Fatalf("following: no new instance's lines after 90 s (%d lines, ended %v, err %v)", lv.ring.len(), lv.ended, lv.err)
		}
		settlePending(m, 500*time.Millisecond)
	}
	if !lv.follow || lv.ended {
		t.Fatalf("the log view stopped following: follow %v ended %v err %v", lv.follow, lv.ended, lv.err)
	}
	pressSettle(m, "esc", "esc")
	if m.top() != nil {
		t.Fatalf("esc twice left %T open", m.top())
	}
}

// waitScreen runs the model's pending commands until the frame shows re.
func waitScreen(t *testing.T, m *Model, what string, within time.Duration, re *regexp.Regexp) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !re.MatchString(frame(m)) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s:\n%s", what, within, frame(m))
		}
		settlePending(m, 200*time.Millisecond)
	}
}
