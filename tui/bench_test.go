package tui

import (
	"strings"
	"testing"
)

// BenchmarkPodViewFrame is the cost of one frame of the pods view with 10,000 pods: View
// must draw only the visible rows, far under a 16 ms frame.
func BenchmarkPodViewFrame(b *testing.B) {
	for _, sz := range sizes {
		b.Run(sz.name, func(b *testing.B) {
			snap := bigSnapshot(10_000)
			m := drive(b, sz.w, sz.h, &snap, Options{})
			press(m, "2", "]")
			press(m, "text:jjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj")
			b.ReportAllocs()
			for b.Loop() {
				_ = m.View()
			}
		})
	}
}

// BenchmarkPodSnapshotUpdate is the cost of taking in a 10,000-pod snapshot while the pods
// view is shown: the one pass over all pods, done once per snapshot in Update.
func BenchmarkPodSnapshotUpdate(b *testing.B) {
	snap := bigSnapshot(10_000)
	m := drive(b, 160, 48, &snap, Options{})
	press(m, "2")
	msg := snapshotMsg{snap: snap}
	b.ReportAllocs()
	for b.Loop() {
		m.Update(msg)
	}
}

// TestPodViewAt10kPods checks the 10,000-pod list for what the benchmarks time: the frame
// draws only the rows on screen, scrolling reaches the last pod, and the filter finds one.
// (Speed is BenchmarkPodViewFrame's job: a timed test would fail on a busy machine.)
func TestPodViewAt10kPods(t *testing.T) {
	snap := bigSnapshot(10_000)
	m := drive(t, 160, 48, &snap, Options{})
	press(m, "2", "]")
	pv := m.screens[1].(*podsView)
	scr := frame(m)
	requireFits(t, scr, 160, 48)
	if n := strings.Count(scr, "traffic-default-7d9f8b6c5d-"); n > 48 {
		t.Fatalf("frame draws %d pod rows on a 48-line screen", n)
	}
	press(m, "G")
	if r, _ := pv.tbl.Selected(); r.id != "apimgr-default-7d9f8b6c5d-00000" {
		t.Fatalf("G selected %s, want the last pod", r.id)
	}
	if scr := frame(m); !strings.Contains(scr, "▸ apimgr-default-7d9f8b6c5d-00000") || !strings.Contains(scr, "traffic-default-7d9f8b6c5d-09999") {
		t.Fatalf("the end of the list is not on screen:\n%s", scr)
	}
	press(m, "/", "text:09876", "enter")
	if shown, total := pv.tbl.Counts(); shown != 1 || total != 10_001 {
		t.Fatalf("filter 09876: %d of %d", shown, total)
	}
	if r, _ := pv.tbl.Selected(); r.id != "traffic-default-7d9f8b6c5d-09876" {
		t.Fatalf("filter selected %s", r.id)
	}
}
