package tui

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apimctl/apimctl/ops/model"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

// The key-driven tests run the console as a real Bubble Tea program (teatest) and check the
// final model and frame.

func TestFilterNarrowsPodList(t *testing.T) {
	scr, m := runKeys(t, 80, 24, degradedSnapshot(), "text:2/crash", "enter")
	pv := m.screens[m.active].(*podsView)
	shown, total := pv.tbl.Counts()
	if shown != 1 || total != 8 {
		t.Fatalf("filter shows %d of %d pods, want 1 of 8:\n%s", shown, total, scr)
	}
	if !strings.Contains(scr, "CrashLoopBackOff") || strings.Contains(scr, "anm-7d9f8b6c5d-00000  ") {
		t.Fatalf("filtered screen shows the wrong pods:\n%s", scr)
	}
	if !strings.Contains(scr, "/crash 1 of 8") {
		t.Fatalf("title does not say the filter is on:\n%s", scr)
	}
	requireFits(t, scr, 80, 24)
}

func TestFilterEscClearsAndRestores(t *testing.T) {
	snap := degradedSnapshot()
	m := drive(t, 80, 24, &snap, Options{})
	press(m, "2", "/", "text:payments")
	pv := m.screens[1].(*podsView)
	if shown, _ := pv.tbl.Counts(); shown != 3 {
		t.Fatalf("live filter shows %d pods, want the 3 payments pods", shown)
	}
	press(m, "enter")
	if pv.Filter() != "payments" || m.prompt != promptNone {
		t.Fatalf("enter should keep the filter and close the prompt: filter %q prompt %v", pv.Filter(), m.prompt)
	}
	press(m, "esc") // first esc clears the filter, stays in the view
	if pv.Filter() != "" || m.active != 1 {
		t.Fatalf("esc: filter %q, view %s", pv.Filter(), viewNames[m.active])
	}
	press(m, "esc") // second esc goes back
	if m.active != 0 {
		t.Fatalf("esc did not go back to the dashboard, at %s", viewNames[m.active])
	}
}

func TestFilterOnViewWithoutList(t *testing.T) {
	snap := healthySnapshot()
	m := drive(t, 80, 24, &snap, Options{})
	press(m, "3", "/")
	if m.prompt != promptNone || !strings.Contains(frame(m), "no list to filter") {
		t.Fatalf("/ on the HPA view should explain, not open a prompt:\n%s", frame(m))
	}
}

func TestCommandJumpsToView(t *testing.T) {
	scr, m := runKeys(t, 80, 24, healthySnapshot(), "text::hpa", "enter")
	if viewNames[m.active] != "hpa" || !strings.Contains(scr, "─ HPA · 2 autoscalers") {
		t.Fatalf("after :hpa the view is %s:\n%s", viewNames[m.active], scr)
	}
}

func TestCommandPrefixAliasAndCompletion(t *testing.T) {
	snap := healthySnapshot()
	m := drive(t, 80, 24, &snap, Options{})
	for _, tc := range []struct {
		keys []string
		want string
	}{
		{[]string{":", "text:cas", "enter"}, "cassandra"},
		{[]string{":", "text:db", "enter"}, "mysql"},
		{[]string{":", "text:ev", "tab", "enter"}, "events"}, // tab completes "ev" to "events"
		{[]string{":", "text:fi", "tab"}, "events"},          // prompt still open: view unchanged
	} {
		press(m, tc.keys...)
		if got := viewNames[m.active]; got != tc.want {
			t.Fatalf("keys %q: view %s, want %s", tc.keys, got, tc.want)
		}
	}
	if m.input.Value() != "findings" {
		t.Fatalf("tab completed %q, want findings", m.input.Value())
	}
	press(m, "enter")
	if viewNames[m.active] != "findings" {
		t.Fatalf("completed command went to %s", viewNames[m.active])
	}
	press(m, ":", "text:pods payments", "enter")
	if pv := m.screens[m.active].(*podsView); pv.group != "payments" {
		t.Fatalf(":pods payments selected group %q", pv.group)
	}
}

func TestUnknownViewSaysSo(t *testing.T) {
	scr, m := runKeys(t, 80, 24, healthySnapshot(), "text:2:bogus", "enter")
	if viewNames[m.active] != "pods" {
		t.Fatalf("an unknown view moved to %s", viewNames[m.active])
	}
	if !strings.Contains(scr, `✗ unknown view, resource or action "bogus"`) {
		t.Fatalf("no unknown-view message:\n%s", scr)
	}
	requireFits(t, scr, 80, 24)
	// The message goes with the next key.
	press(m, "j")
	if strings.Contains(frame(m), "unknown view") {
		t.Fatal("message stayed after the next key")
	}
	press(m, ":", "text:pods nogroup", "enter")
	if !strings.Contains(frame(m), `unknown group "nogroup" — groups: all default payments`) {
		t.Fatalf("no unknown-group message:\n%s", frame(m))
	}
}

func TestHelpToggles(t *testing.T) {
	scr, m := runKeys(t, 80, 24, healthySnapshot(), "text:2?")
	if !m.help.ShowAll || !strings.Contains(scr, "pgdn page down") || !strings.Contains(scr, "shift+tab prev view") {
		t.Fatalf("? did not show the full help:\n%s", scr)
	}
	requireFits(t, scr, 80, 24)
	press(m, "?")
	scr = frame(m)
	if m.help.ShowAll || strings.Contains(scr, "page down") || !strings.Contains(scr, "? help") {
		t.Fatalf("second ? did not go back to the short help:\n%s", scr)
	}
	requireFits(t, scr, 80, 24)
}

func TestResizeRelayouts(t *testing.T) {
	snap := degradedSnapshot()
	tm, _ := startProgram(t, 160, 48, &snap, Options{})
	tm.Send(tea.WindowSizeMsg{Width: 80, Height: 24})
	scr, _ := finalScreen(t, tm)
	requireFits(t, scr, 80, 24)
	// The re-laid-out frame is the one a fresh 80×24 start draws.
	want, err := os.ReadFile(filepath.Join("testdata", "TestGoldenScreens", "degraded", "80x24", "dashboard.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if scr != string(want) {
		t.Fatalf("after resize to 80x24:\n%s\nwant:\n%s", scr, want)
	}
}

func TestQuitKeys(t *testing.T) {
	for _, k := range []string{"q", "ctrl+c"} {
		snap := healthySnapshot()
		tm, _ := startProgram(t, 80, 24, &snap, Options{})
		tm.Send(keyMsg(k))
		tm.WaitFinished(t, teatestTimeout())
	}
}

func TestTabAndDigitsSwitchViews(t *testing.T) {
	snap := healthySnapshot()
	m := drive(t, 80, 24, &snap, Options{})
	press(m, "tab", "tab")
	if m.active != 2 {
		t.Fatalf("two tabs: view %s", viewNames[m.active])
	}
	press(m, "shift+tab")
	if m.active != 1 {
		t.Fatalf("shift+tab: view %s", viewNames[m.active])
	}
	press(m, "8")
	// At 80 columns nine numbered tabs do not fit: the tab line shows the names alone.
	if m.active != 7 || !strings.Contains(frame(m), "[findings]") {
		t.Fatalf("8: view %s", viewNames[m.active])
	}
	// esc walks back through the views visited: findings → pods → hpa → pods → dashboard.
	for _, want := range []string{"pods", "hpa", "pods", "dashboard", "dashboard"} {
		press(m, "esc")
		if got := viewNames[m.active]; got != want {
			t.Fatalf("esc: at %s, want %s", got, want)
		}
	}
}

func TestPodGroupsAndScrolling(t *testing.T) {
	snap := bigSnapshot(500)
	m := drive(t, 80, 24, &snap, Options{})
	press(m, "2")
	pv := m.screens[1].(*podsView)
	if _, total := pv.tbl.Counts(); total != 500+1+1+3+1 { // + anm, default's mgr, payments' traffic and mgr
		t.Fatalf("all groups: %d pods", total)
	}
	press(m, "]")
	if _, total := pv.tbl.Counts(); pv.group != "default" || total != 501 {
		t.Fatalf("] → group %s with %d pods, want default with 501", pv.group, total)
	}
	press(m, "G")
	scr := frame(m)
	if !strings.Contains(scr, "▸ traffic-default-7d9f8b6c5d-00499") && !strings.Contains(scr, "▸ apimgr-default") {
		t.Fatalf("G did not reach the last pod:\n%s", scr)
	}
	press(m, "g", "j", "j")
	if r, _ := pv.tbl.Selected(); r.id != "traffic-default-7d9f8b6c5d-00002" {
		t.Fatalf("g j j selected %s", r.id)
	}
	// A new snapshot keeps the cursor on the same pod.
	m.Update(snapshotMsg{snap: bigSnapshot(500)})
	if r, _ := pv.tbl.Selected(); r.id != "traffic-default-7d9f8b6c5d-00002" {
		t.Fatalf("after refresh the cursor is on %s", r.id)
	}
	press(m, "pgdown")
	if r, _ := pv.tbl.Selected(); r.id == "traffic-default-7d9f8b6c5d-00002" {
		t.Fatal("pgdown did not move")
	}
	press(m, "[")
	if pv.group != "all" {
		t.Fatalf("[ → group %s", pv.group)
	}
	press(m, "[") // wraps round
	if pv.group != "payments" {
		t.Fatalf("[ [ → group %s", pv.group)
	}
	requireFits(t, frame(m), 80, 24)
}

func TestEventsSortToggle(t *testing.T) {
	snap := degradedSnapshot()
	// An old warning: warnings-first puts it second, by-time puts it last.
	snap.Events = append(snap.Events, model.EventInfo{Time: fixedNow.Add(-5 * time.Hour), Type: "Warning", Reason: "OldWarning", Object: "Pod/x", Message: "old"})
	m := drive(t, 120, 30, &snap, Options{})
	press(m, "7")
	ev := m.screens[6].(*eventsView)
	if ev.events[2].Reason != "OldWarning" {
		t.Fatalf("warnings first: third event is %s", ev.events[2].Reason)
	}
	press(m, "s")
	if last := ev.events[len(ev.events)-1]; last.Reason != "OldWarning" {
		t.Fatalf("by time: last event is %s", last.Reason)
	}
	if !strings.Contains(frame(m), "by time (s)") {
		t.Fatal("title does not say the order")
	}
}

func TestClockAgesFreshness(t *testing.T) {
	now := fixedNow
	snap := healthySnapshot()
	m := drive(t, 80, 24, &snap, Options{Now: func() time.Time { return now }})
	if !strings.Contains(frame(m), "kube ✓ 2s ago") {
		t.Fatalf("fresh snapshot:\n%s", frame(m))
	}
	now = now.Add(90 * time.Second)
	m.Update(tickMsg(now))
	scr := frame(m)
	if !strings.Contains(scr, "kube ✓ 1m ago") || !strings.Contains(scr, "prometheus ✓ 1m") {
		t.Fatalf("a tick 90 s later did not age the sources:\n%s", scr)
	}
}

func TestFailingSourceKeepsData(t *testing.T) {
	snap := sourceTroubleSnapshot()
	m := drive(t, 80, 24, &snap, Options{})
	press(m, "5")
	scr := frame(m)
	for _, want := range []string{"mysql ✗ error · last ok 1m ago", "✗ mysql: dial tcp 127.0.0.1:3306: connect: connection refused", "10.11.6-MariaDB", "23 of max 151"} {
		if !strings.Contains(scr, want) {
			t.Fatalf("mysql view lacks %q:\n%s", want, scr)
		}
	}
	press(m, "6")
	if scr := frame(m); !strings.Contains(scr, "prometheus ! stale · 4m ago") || !strings.Contains(scr, "412.5") {
		t.Fatalf("stale traffic view:\n%s", scr)
	}
}

func TestReadOnlyIndicator(t *testing.T) {
	cases := []struct {
		name   string
		mut    func(*model.Snapshot)
		opts   Options
		want   string
		absent string
	}{
		{"allowed", func(*model.Snapshot) {}, Options{}, "read-write", "READ-ONLY"},
		{"option", func(*model.Snapshot) {}, Options{ReadOnly: true}, "! READ-ONLY", "read-write"},
		{"snapshot", func(s *model.Snapshot) { s.ReadOnly = true }, Options{}, "! READ-ONLY", "read-write"},
		{"nothing allowed", func(s *model.Snapshot) { s.Access.Allowed = map[string]bool{"pods/delete": false} }, Options{}, "! READ-ONLY (no RBAC rights)", "read-write"},
		{"access unknown", func(s *model.Snapshot) { s.Access = model.Access{} }, Options{}, "! READ-ONLY (access unknown)", "read-write"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			snap := healthySnapshot()
			tc.mut(&snap)
			header := strings.SplitN(frame(drive(t, 120, 30, &snap, tc.opts)), "\n", 2)[0]
			if !strings.Contains(header, tc.want) || strings.Contains(header, tc.absent) {
				t.Fatalf("header %q: want %q, not %q", header, tc.want, tc.absent)
			}
		})
	}
}

func TestFeedClosed(t *testing.T) {
	feed := make(chanFeed)
	close(feed)
	m := New(feed, Options{Now: fixedClock}).(*Model)
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m.Update(waitForSnapshot(feed)())
	if scr := frame(m); !strings.Contains(scr, "✗ no data — the live feed stopped") {
		t.Fatalf("closed feed before data:\n%s", scr)
	}
	snap := healthySnapshot()
	m = drive(t, 80, 24, &snap, Options{})
	m.Update(feedClosedMsg{})
	if scr := frame(m); !strings.Contains(scr, "✗ live feed stopped: data frozen") || !strings.Contains(scr, "Topology") {
		t.Fatalf("closed feed after data:\n%s", scr)
	}
}

func TestWaitForSnapshotCoalesces(t *testing.T) {
	feed := make(chanFeed, 3)
	for _, ctx := range []string{"a", "b", "c"} {
		feed <- model.Snapshot{Context: ctx}
	}
	msg := waitForSnapshot(feed)().(snapshotMsg)
	if msg.snap.Context != "c" || msg.closed {
		t.Fatalf("got %q closed=%v, want the newest (c), open", msg.snap.Context, msg.closed)
	}
	feed <- model.Snapshot{Context: "d"}
	close(feed)
	msg = waitForSnapshot(feed)().(snapshotMsg)
	if msg.snap.Context != "d" || !msg.closed {
		t.Fatalf("got %q closed=%v, want d and closed", msg.snap.Context, msg.closed)
	}
	if _, ok := waitForSnapshot(feed)().(feedClosedMsg); !ok {
		t.Fatal("a drained, closed feed must say so")
	}
}

func TestTooManyPanelLinesAreCutWithAPointer(t *testing.T) {
	snap := degradedSnapshot()
	for i := 0; i < 20; i++ {
		snap.Findings = append(snap.Findings, model.Finding{ID: "APIM-X-" + string(rune('A'+i)), Severity: model.SeverityWarning, Subject: "x", Message: "m"})
	}
	m := drive(t, 80, 24, &snap, Options{})
	scr := frame(m)
	if !strings.Contains(scr, "more — :findings") {
		t.Fatalf("no pointer to the rest of the findings:\n%s", scr)
	}
	// Most severe first: the errors are shown before any of the added warnings.
	if i, j := strings.Index(scr, "APIM-CASS-001"), strings.Index(scr, "APIM-X-A"); i < 0 || (j >= 0 && j < i) {
		t.Fatalf("errors not first:\n%s", scr)
	}
	requireFits(t, scr, 80, 24)
}

// TestReadsWithoutColour runs with the ASCII profile (what NO_COLOR gets): the bytes sent to
// the terminal have no colour codes, and every status still carries its symbol and word.
func TestReadsWithoutColour(t *testing.T) {
	snap := degradedSnapshot()
	feed := make(chanFeed, 1)
	feed <- snap
	tm := teatest.NewTestModel(t, New(feed, Options{Now: fixedClock}),
		teatest.WithInitialTermSize(80, 24),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	words := []string{"✗ 2/3 nodes up", "✗ FailedGetResourceMetric", "! 2/3 not ready", "✗ QUORUM LOST"}
	var out []byte
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		out = append(out[:0], b...)
		for _, w := range words {
			if !bytes.Contains(b, []byte(w)) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	_ = tm.Quit()
	tm.WaitFinished(t, teatestTimeout())
	for _, sgr := range []string{"\x1b[31", "\x1b[32", "\x1b[33", "\x1b[36", "\x1b[38;", "\x1b[91", ";31m", ";32m", ";33m"} {
		if bytes.Contains(out, []byte(sgr)) {
			t.Fatalf("colour code %q in ASCII output", sgr)
		}
	}
}
