package tui

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/lab/labtest"
	"github.com/apimctl/apimctl/ops/inspect"
	"github.com/apimctl/apimctl/ops/live"
)

// The inspector implements the data drill-downs' capabilities.
var (
	_ CassandraInspector = (*inspect.Inspector)(nil)
	_ MySQLInspector     = (*inspect.Inspector)(nil)
	_ TrafficInspector   = (*inspect.Inspector)(nil)
)

// TestLabOpenCassandraNode drives the console against the lab — the live model and the real
// inspector — to a Cassandra node's detail: the cassandra view, the second node, enter; the
// node's virtual tables and its peers' answer on screen.
func TestLabOpenCassandraNode(t *testing.T) {
	env := labtest.Require(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	conn := live.Connect(ctx, labtest.Targets(env, lab.ContextName, env.Namespace), func(string) string { return "" })
	lv := live.NewLive(conn, live.LiveOptions{PollInterval: 2 * time.Second})
	lv.Start(ctx)

	tm := teatest.NewTestModel(t, New(lv, Options{Inspector: inspect.New(conn), Context: ctx}),
		teatest.WithInitialTermSize(160, 48),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	wait := func(what string, within time.Duration) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(what)) },
			teatest.WithDuration(within), teatest.WithCheckInterval(20*time.Millisecond))
	}
	n := len(env.CassandraHosts)
	tm.Type(":cassandra")
	tm.Send(keyMsg("enter"))
	wait("VERSION", 60*time.Second) // the node list's heading: the ring is known
	target := env.CassandraAddrs()[min(1, n-1)]
	if n > 1 {
		tm.Send(keyMsg("j"))
	}
	start := time.Now()
	tm.Send(keyMsg("enter"))
	wait("CompactionExecutor", 30*time.Second)
	t.Logf("node detail on screen %s after enter", time.Since(start).Round(time.Millisecond))
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	m := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(*Model)
	d, ok := m.top().(*cassandraDetail)
	if !ok || d.d == nil {
		t.Fatalf("top detail %T, loaded %v", m.top(), ok && d.d != nil)
	}
	if d.addr != target || d.d.Unreachable != "" || !d.d.Node.Up || len(d.d.Peers) != n*n || len(d.d.ThreadPools) == 0 {
		t.Errorf("detail of %s: node %+v unreachable %q, %d peer views, %d pools", d.addr, d.d.Node, d.d.Unreachable, len(d.d.Peers), len(d.d.ThreadPools))
	}
	scr := frame(m)
	for _, want := range []string{"cassandra › " + target, "Ring as each node sees it", "✓ NORMAL", "Thread pools", "Clients"} {
		if !strings.Contains(scr, want) {
			t.Errorf("screen lacks %q:\n%s", want, scr)
		}
	}
	requireFits(t, scr, 160, 48)
}
