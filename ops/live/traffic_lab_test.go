package live_test

import (
	"context"
	"testing"
	"time"

	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/lab/labtest"
	"github.com/apimctl/apimctl/lab/traffic"
	"github.com/apimctl/apimctl/ops/live"
	"github.com/apimctl/apimctl/ops/model"
)

// TestTrafficSparklinesBackfilledAtStart: the first snapshot after start already carries the
// window's history (read by one range query), not one point; the per-API table lists APIs
// only — not the management roles' own requests ("anm", "apimgr") nor unmatched ones ("-");
// later polls keep the history at its length.
func TestTrafficSparklinesBackfilledAtStart(t *testing.T) {
	env := labtest.Require(t)
	l, err := lab.Open(env.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	o, err := l.TrafficOptions(10, 10*time.Second) // bounded: 100 requests
	if err != nil {
		t.Fatal(err)
	}
	if s, err := traffic.Run(context.Background(), o); err != nil || s.OK == 0 {
		t.Fatalf("traffic: %v %+v", err, s)
	}
	time.Sleep(20 * time.Second) // two scrapes after the last request, and a step of the grid

	lv, _ := startLive(t, labtest.Targets(env, lab.ContextName, env.Namespace), live.LiveOptions{PollInterval: time.Second})
	first := waitFor(t, lv, 30*time.Second, "prometheus synced", func(s model.Snapshot) bool {
		src := s.Source(model.SourcePrometheus)
		return src.Synced && src.Error == ""
	})
	n := int(live.DefaultTrafficQueries().Window / live.DefaultTrafficQueries().Step)
	var dflt *model.TrafficSeries
	for i, g := range first.Traffic.Groups {
		if len(g.RPSHistory) != n || len(g.P90History) != n || len(g.ErrHistory) != n {
			t.Errorf("group %s history of %d points, want %d", g.Group, len(g.RPSHistory), n)
		}
		if g.Group == "default" {
			dflt = &first.Traffic.Groups[i]
		}
	}
	if dflt == nil {
		t.Fatalf("no default group in %+v", first.Traffic.Groups)
	}
	busy := 0
	for _, v := range dflt.RPSHistory {
		if v > 0 {
			busy++
		}
	}
	if busy < 2 {
		t.Errorf("first snapshot: %d points with traffic in %v, want the backfilled history", busy, dflt.RPSHistory)
	}
	for _, a := range first.Traffic.APIs {
		if !model.IsAPI(a.API) {
			t.Errorf("the per-API table lists %q", a.API)
		}
	}
	if len(first.Traffic.APIs) == 0 {
		t.Error("no API listed")
	}
	// Polls later: the history keeps its length.
	time.Sleep(3 * time.Second)
	later := lv.Snapshot()
	for _, g := range later.Traffic.Groups {
		if len(g.RPSHistory) != n {
			t.Errorf("later: group %s history of %d points", g.Group, len(g.RPSHistory))
		}
	}
	if src := later.Source(model.SourcePrometheus); src.Error != "" {
		t.Errorf("prometheus source: %s", src.Error)
	}
}
