package tui

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apimctl/apimctl/ops/model"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

var sizes = []struct {
	name string
	w, h int
}{{"80x24", 80, 24}, {"160x48", 160, 48}}

// startProgram runs the console in a teatest program at a size, with a fixed clock and an
// ASCII colour profile (no colour in the output stream), feeding it snap if given, and waits
// until the snapshot is on screen.
func startProgram(t *testing.T, w, h int, snap *model.Snapshot, opts Options) (*teatest.TestModel, chanFeed) {
	t.Helper()
	opts.Now = fixedClock
	feed := make(chanFeed, 1)
	tm := teatest.NewTestModel(t, New(feed, opts),
		teatest.WithInitialTermSize(w, h),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	want := "loading"
	if snap != nil {
		feed <- *snap
		want = snap.Context
	}
	waitOutput(t, tm, want)
	return tm, feed
}

// waitOutput waits (5 s at most) until the program's output holds s.
func waitOutput(t *testing.T, tm *teatest.TestModel, s string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(s)) },
		teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

// sendKeys sends key presses to the program: "text:abc" types abc, "wait:x" waits until the
// output holds x.
func sendKeys(t *testing.T, tm *teatest.TestModel, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if s, ok := strings.CutPrefix(k, "text:"); ok {
			tm.Type(s)
			continue
		}
		if s, ok := strings.CutPrefix(k, "wait:"); ok {
			waitOutput(t, tm, s)
			continue
		}
		tm.Send(keyMsg(k))
	}
}

// runKeys runs the console over snap at a size, sends it keys (as sendKeys does), quits it,
// and returns its last frame as plain text and its final model.
func runKeys(t *testing.T, w, h int, snap model.Snapshot, keys ...string) (string, *Model) {
	t.Helper()
	tm, _ := startProgram(t, w, h, &snap, Options{})
	sendKeys(t, tm, keys...)
	return finalScreen(t, tm)
}

// finalScreen quits the program and returns its last frame as plain text.
func finalScreen(t *testing.T, tm *teatest.TestModel) (string, *Model) {
	t.Helper()
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	m := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
	return ansi.Strip(m.View().Content), m
}

// requireFits fails unless the screen is exactly h lines of at most w cells: nothing wraps
// or overflows the terminal.
func requireFits(t *testing.T, screen string, w, h int) {
	t.Helper()
	lines := strings.Split(screen, "\n")
	if len(lines) != h {
		t.Fatalf("screen has %d lines, want %d:\n%s", len(lines), h, screen)
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n > w {
			t.Fatalf("line %d is %d cells wide, more than %d:\n%s", i+1, n, w, l)
		}
	}
}

// TestGoldenScreens renders every view of every fixture at 80×24 and 160×48 and compares
// the frame with testdata/<test name>.golden (regenerate with go test ./tui/... -update).
func TestGoldenScreens(t *testing.T) {
	fixtures := []struct {
		name  string
		snap  model.Snapshot
		views []string
	}{
		{"healthy", healthySnapshot(), viewNames},
		{"degraded", degradedSnapshot(), viewNames},
		{"source-trouble", sourceTroubleSnapshot(), viewNames},
		{"no-traffic", noTrafficSnapshot(), []string{"dashboard", "traffic"}},
	}
	for _, fx := range fixtures {
		for _, sz := range sizes {
			for _, view := range fx.views {
				t.Run(fmt.Sprintf("%s/%s/%s", fx.name, sz.name, view), func(t *testing.T) {
					screen, m := runKeys(t, sz.w, sz.h, fx.snap, "text::"+view, "enter")
					if got := viewNames[m.active]; got != view {
						t.Fatalf("active view %q, want %q", got, view)
					}
					requireFits(t, screen, sz.w, sz.h)
					golden.RequireEqual(t, screen)
				})
			}
		}
	}
}

// TestGoldenLoading is the screen before the first snapshot: a loading message, no crash.
func TestGoldenLoading(t *testing.T) {
	for _, sz := range sizes {
		t.Run(sz.name, func(t *testing.T) {
			tm, _ := startProgram(t, sz.w, sz.h, nil, Options{})
			// Keys before any data must not crash the views.
			tm.Type("2jG/x")
			tm.Send(keyMsg("esc"))
			tm.Type("1")
			screen, _ := finalScreen(t, tm)
			requireFits(t, screen, sz.w, sz.h)
			if !strings.Contains(screen, "loading") {
				t.Fatalf("no loading message:\n%s", screen)
			}
			golden.RequireEqual(t, screen)
		})
	}
}

func teatestTimeout() teatest.FinalOpt { return teatest.WithFinalTimeout(5 * time.Second) }
