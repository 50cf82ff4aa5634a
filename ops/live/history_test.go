package live

import (
	"math"
	"testing"
	"time"
)

// TestTrafficHistoryMovesOnByTheStepsThatPassed: after a backfill, each poll's newest values
// land in the grid point of their time; skipped steps stay gaps; a series with nothing left
// in the window is forgotten.
func TestTrafficHistoryMovesOnByTheStepsThatPassed(t *testing.T) {
	step := 15 * time.Second
	h := newTrafficHistory(time.Minute, step) // 4 points
	t0 := time.Unix(1_800_000_000, 0).Truncate(step)
	h.reset(t0)
	a := trafficKey{"default", ""}
	b := trafficKey{"default", "payments"}
	copy(h.series(a)[0], []float64{1, 2, 3, 4})
	h.now[a][0] = 4
	copy(h.series(b)[0], []float64{math.NaN(), math.NaN(), 7, math.NaN()})

	h.advance(t0) // same grid point: nothing moves
	if h.vals[a][0][3] != 4 {
		t.Fatalf("moved within a step: %v", h.vals[a][0])
	}
	h.advance(t0.Add(2 * step))
	h.series(a)[0][3] = 9
	want := []float64{3, 4, math.NaN(), 9}
	for i, w := range want {
		if g := h.vals[a][0][i]; !(g == w || math.IsNaN(g) && math.IsNaN(w)) {
			t.Fatalf("after two steps %v, want %v", h.vals[a][0], want)
		}
	}
	if !h.last.Equal(t0.Add(2 * step)) {
		t.Errorf("last %v", h.last)
	}
	h.prune()
	if h.vals[b] == nil {
		t.Fatal("b forgotten while its 7 is still in the window")
	}
	h.advance(t0.Add(3 * step))
	h.prune()
	if h.vals[b] != nil {
		t.Errorf("b kept with nothing in the window: %v", h.vals[b])
	}
	st := h.state()
	if len(st.Groups) != 1 || len(st.APIs) != 0 || len(st.Groups[0].RPSHistory) != 4 || st.Groups[0].RPSHistory[1] != 0 {
		t.Errorf("state %+v", st)
	}
	h.advance(t0.Add(time.Hour))
	h.prune()
	if st := h.state(); !st.NoData {
		t.Errorf("an hour later: %+v", st)
	}
}
