package tui

import (
	"strings"
	"testing"
)

func TestFrameRendersAViewOfASnapshot(t *testing.T) {
	s := healthySnapshot()
	f := NewFrame(s, "pods", 80, 24)
	out := f.Render()
	if !strings.Contains(out, "Pods") || strings.Count(out, "\n") != 23 {
		t.Fatalf("pods frame:\n%s", out)
	}
	first := out
	f.Scroll(3)
	if f.Render() == first {
		t.Error("scrolling did not move the cursor")
	}
	if d := NewFrame(s, "nonsense", 80, 24).Render(); !strings.Contains(d, "Topology") {
		t.Errorf("unknown view should show the dashboard:\n%s", d)
	}
}
