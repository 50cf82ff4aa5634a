package tui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/apimctl/apimctl/ops/model"
)

// TestGoldenDrillDowns renders each Kubernetes drill-down — a pod, its logs (searched, not
// wrapped, the previous instance's, refused), a gone pod, a Deployment with its HPA — at
// 80×24 and 160×48 against testdata/<test name>.golden.
func TestGoldenDrillDowns(t *testing.T) {
	toPod := []string{"2", "/", "text:00001", "enter", "enter"}
	cases := []struct {
		name  string
		keys  []string // sent first; then, once the pod detail is read, more
		more  []string
		setup func(f *fakeInspector) // before more
		want  string                 // on screen when the frame is complete
	}{
		{"pod-crashloop", toPod, nil, nil, "Conditions"},
		{"pod-ready", []string{"2", "/", "text:traffic-default-7d9f8b6c5d-00000", "enter", "enter"}, nil, nil, "Conditions"},
		{"pod-gone", toPod, []string{"r"}, func(f *fakeInspector) { f.gone[crashPod] = true }, "no longer exists"},
		{"logs", toPod, []string{"l"}, nil, "40 lines"},
		{"logs-search-nowrap", toPod, []string{"l", "/", "text:precheck", "enter", "w"}, nil, "match 1 of 1"},
		{"logs-previous", toPod, []string{"p"}, nil, "complete"},
		{"logs-never-started", toPod, []string{"l"}, func(f *fakeInspector) {
			f.logErr = errors.New(`container "traffic" in pod "` + crashPod + `" is waiting to start: ContainerCreating`)
		}, "stream failed"},
		{"deployment-from-hpa", []string{"3", "enter"}, nil, nil, "Revisions (3)"},
	}
	for _, tc := range cases {
		for _, sz := range sizes {
			t.Run(tc.name+"/"+sz.name, func(t *testing.T) {
				snap := degradedSnapshot()
				f := newFakeInspector(snap)
				tm, _ := startProgram(t, sz.w, sz.h, &snap, Options{Inspector: f})
				sendKeys(t, tm, tc.keys...)
				if tc.more != nil {
					waitOutput(t, tm, "Conditions")
					if tc.setup != nil {
						f.mu.Lock()
						tc.setup(f)
						f.mu.Unlock()
					}
					sendKeys(t, tm, tc.more...)
				}
				waitOutput(t, tm, tc.want)
				screen, _ := finalScreen(t, tm)
				requireFits(t, screen, sz.w, sz.h)
				if !strings.Contains(screen, tc.want) {
					t.Fatalf("the final frame lacks %q:\n%s", tc.want, screen)
				}
				golden.RequireEqual(t, screen)
			})
		}
	}
}

// TestPodWithoutAContext: the inspector cannot reach the cluster (a context that does not
// exist): the detail says so in a line, and the console goes on.
func TestPodWithoutAContext(t *testing.T) {
	snap := degradedSnapshot()
	f := newFakeInspector(snap)
	f.podErr = errors.New(`no Kubernetes connection: kubeconfig: context "prod" does not exist`)
	m := drive(t, 100, 30, &snap, Options{Inspector: f})
	pressSettle(m, "2", "enter")
	scr := frame(m)
	if !strings.Contains(scr, `✗ cannot read pod anm-7d9f8b6c5d-00000: no Kubernetes connection: kubeconfig: context "prod"`) {
		t.Fatalf("no clear line:\n%s", scr)
	}
	requireFits(t, scr, 100, 30)
	pressSettle(m, "esc", "j")
	if m.top() != nil || viewNames[m.active] != "pods" {
		t.Fatal("the console did not go on")
	}
}

// TestPodDrillDownAndBack: enter on a pod opens its detail with the judgement on top and the
// breadcrumb; l opens its logs; esc goes back one level at a time.
func TestPodDrillDownAndBack(t *testing.T) {
	m, _, _ := openCrashPod(t, 160, 48)
	scr := frame(m)
	if !strings.Contains(scr, "pods › "+crashPod) || !strings.Contains(scr, "✗ container traffic crash-looping: exited with code 1 (Error): precheck failed") {
		t.Fatalf("pod detail:\n%s", scr)
	}
	for _, want := range []string{"digest sha256:4f1c2a7e1b9d…", "last end", "exit code 1 (Error) 1m ago, ran 5s", "request 1 ·", "restarts 14 over 2d, last exit 1m ago", "BackOff ×14"} {
		if !strings.Contains(scr, want) {
			t.Errorf("pod detail lacks %q", want)
		}
	}
	pressSettle(m, "l")
	if scr = frame(m); !strings.Contains(scr, "pods › "+crashPod+" › logs") || !strings.Contains(scr, `"msg":"api published"`) {
		t.Fatalf("logs:\n%s", scr)
	}
	pressSettle(m, "esc")
	if _, ok := m.top().(*podDetail); !ok {
		t.Fatalf("esc from the logs should show the pod, shows %T", m.top())
	}
	pressSettle(m, "esc")
	if m.top() != nil || viewNames[m.active] != "pods" {
		t.Fatalf("esc from the pod should show the pods view")
	}
}

// TestPodDeletedWhileOpen: the snapshot no longer has the pod, the detail reads it again and
// says it is gone, keeping what was known; nothing crashes.
func TestPodDeletedWhileOpen(t *testing.T) {
	m, f, snap := openCrashPod(t, 100, 30)
	reads := f.reads
	// The same snapshot again: nothing changed, no read.
	_, cmd := m.Update(snapshotMsg{snap: snap})
	settle(m, cmd)
	if f.reads != reads {
		t.Fatalf("an unchanged snapshot read the pod again (%d reads, was %d)", f.reads, reads)
	}
	f.mu.Lock()
	f.gone[crashPod] = true
	f.mu.Unlock()
	gone := degradedSnapshot()
	tp := &gone.Topology.Groups[0].Traffic[0]
	tp.Pods = append(tp.Pods[:1], tp.Pods[2:]...)
	_, cmd = m.Update(snapshotMsg{snap: gone})
	settle(m, cmd)
	scr := frame(m)
	if !strings.Contains(scr, "✗ pod "+crashPod+" no longer exists (deleted 5s ago)") || !strings.Contains(scr, "Container traffic") {
		t.Fatalf("after the deletion:\n%s", scr)
	}
	pressSettle(m, "l") // its logs: the fake answers as the API server does
	f.mu.Lock()
	f.logErr = fmt.Errorf("pod apim/%s no longer exists", crashPod)
	f.mu.Unlock()
	pressSettle(m, "p")
	if scr := frame(m); !strings.Contains(scr, "no longer exists") {
		t.Fatalf("logs of a gone pod:\n%s", scr)
	}
}

// TestLogViewFollowSearchWrap: the followed log shows new lines as they come; search finds
// and steps through matches; follow and wrap toggle; scrolling up stops following.
func TestLogViewFollowSearchWrap(t *testing.T) {
	m, f, _ := openCrashPod(t, 100, 20, "l")
	lv := m.top().(*logView)
	if lv.ring.len() != 40 || !lv.follow {
		t.Fatalf("%d lines, following %v", lv.ring.len(), lv.follow)
	}
	f.more <- `{"level":"ERROR","msg":"a new line while following"}`
	settlePending(m, 2*time.Second)
	if scr := frame(m); !strings.Contains(scr, "a new line while following") || !strings.Contains(scr, "41 lines") {
		t.Fatalf("the followed line is not shown:\n%s", scr)
	}
	pressSettle(m, "/", "text:orders-1", "enter") // orders-10 … orders-19
	if n := len(lv.matches); n != 10 || lv.follow {
		t.Fatalf("%d matches, following %v", n, lv.follow)
	}
	if scr := frame(m); !strings.Contains(scr, "match 10 of 10") {
		t.Fatalf("search:\n%s", scr)
	}
	pressSettle(m, "n")
	if lv.cur != 0 {
		t.Fatalf("n from the last match wraps to the first, at %d", lv.cur)
	}
	pressSettle(m, "N", "N")
	if lv.cur != 8 {
		t.Fatalf("N twice from the first: at %d, want 8", lv.cur)
	}
	pressSettle(m, "W") // an unbound key changes nothing
	pressSettle(m, "w")
	if lv.wrap {
		t.Fatal("w did not turn wrapping off")
	}
	pressSettle(m, "f")
	if !lv.follow {
		t.Fatal("f did not follow again")
	}
	pressSettle(m, "k")
	if lv.follow {
		t.Fatal("scrolling up still follows")
	}
	pressSettle(m, "esc") // clears the search first
	if lv.search.term != "" || m.top() != lv {
		t.Fatalf("esc: search %q, top %T", lv.search.term, m.top())
	}
	// Smart case: an upper-case letter makes the search exact.
	pressSettle(m, "/", "text:ERROR", "enter")
	if len(lv.matches) != 1 {
		t.Fatalf("ERROR matched %d lines", len(lv.matches))
	}
}

// TestLogViewSave: s asks for a path, writes 0600; an existing file is replaced only after a
// second enter; a directory or an empty name is refused in the status line.
func TestLogViewSave(t *testing.T) {
	m, _, _ := openCrashPod(t, 120, 30, "l")
	dir := t.TempDir()
	path := filepath.Join(dir, "crash.log")

	// q, digits, / and : are part of the path while the prompt is open, not console keys.
	pressSettle(m, "s")
	lv := m.top().(*logView)
	lv.input.SetValue("")
	pressSettle(m, "text:"+path, "enter")
	settleUntil(m, 5*time.Second, func() bool { return strings.Contains(frame(m), "saved 40 lines") })
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("not written: %v; status %q", err, m.status)
	}
	if got := strings.Count(string(b), "\n"); got != 40 || !strings.HasPrefix(string(b), `{"time":"2026-03-14T02:58:00Z","level":"INFO","msg":"starting apigw"`) {
		t.Fatalf("file holds %d lines:\n%.200s", got, b)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	if !strings.Contains(frame(m), "saved 40 lines to "+path) {
		t.Fatalf("status line:\n%s", frame(m))
	}

	// Again: it exists. esc keeps it.
	if err := os.WriteFile(path, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pressSettle(m, "s")
	lv.input.SetValue(path)
	pressSettle(m, "enter")
	if scr := frame(m); !strings.Contains(scr, path+" exists — enter replaces it, esc keeps it") {
		t.Fatalf("no second confirmation:\n%s", scr)
	}
	pressSettle(m, "esc")
	if b, _ := os.ReadFile(path); string(b) != "keep me\n" {
		t.Fatalf("esc replaced the file: %q", b)
	}
	if m.top() != lv {
		t.Fatal("esc on the confirmation closed the log view")
	}
	// Confirmed: replaced.
	pressSettle(m, "s")
	lv.input.SetValue(path)
	pressSettle(m, "enter", "enter")
	settleUntil(m, 5*time.Second, func() bool { b, _ := os.ReadFile(path); return strings.Count(string(b), "\n") == 40 })
	if b, _ := os.ReadFile(path); strings.Count(string(b), "\n") != 40 {
		t.Fatalf("the confirmed replacement did not happen: %q", b)
	}

	// Refusals, in the status line.
	for _, bad := range []string{dir, "   "} {
		pressSettle(m, "s")
		lv.input.SetValue(bad)
		pressSettle(m, "enter")
		settleUntil(m, 5*time.Second, func() bool { return strings.Contains(m.message, "log not saved") })
		if !m.messageErr || !strings.Contains(m.message, "log not saved") {
			t.Fatalf("saving to %q: status %q (error %v)", bad, m.message, m.messageErr)
		}
	}
	pressSettle(m, "s")
	lv.input.SetValue(filepath.Join(dir, "no-such-dir", "x.log"))
	pressSettle(m, "enter")
	if !m.messageErr || !strings.Contains(m.message, "cannot write in") {
		t.Fatalf("a missing directory: status %q", m.message)
	}
}

// TestDrillFromEventsHPAAndDashboard: an event's pod or Deployment, the HPA view's row and
// the dashboard's topology row each open their detail.
func TestDrillFromEventsHPAAndDashboard(t *testing.T) {
	snap := degradedSnapshot()
	f := newFakeInspector(snap)
	m := drive(t, 160, 48, &snap, Options{Inspector: f})

	pressSettle(m, "7", "/", "text:BackOff", "enter", "enter")
	if _, ok := m.top().(*podDetail); !ok || !strings.Contains(frame(m), "crash-looping") {
		t.Fatalf("enter on a pod's event:\n%s", frame(m))
	}
	pressSettle(m, "esc", "esc", "/", "text:ScalingReplicaSet", "enter", "enter")
	if d, ok := m.top().(*deploymentDetail); !ok || d.name != "traffic-default" {
		t.Fatalf("enter on a Deployment's event opened %T", m.top())
	}

	pressSettle(m, "3", "enter")
	d, ok := m.top().(*deploymentDetail)
	if !ok || d.Crumb() != "hpa/traffic-default" || !strings.Contains(frame(m), "no metrics: FailedGetResourceMetric") {
		t.Fatalf("enter on the HPA view:\n%s", frame(m))
	}
	scr := frame(m)
	for _, want := range []string{"6 → 10  cpu > 112%", "3 → 6   cpu > 125%", "? → 3", "▸4", "7.7.20240530", "Scaled up replica set"} {
		if !strings.Contains(scr, want) {
			t.Errorf("deployment detail lacks %q", want)
		}
	}
	pressSettle(m, "esc", "j", "enter") // the second autoscaler: no fixture, a clear line
	if scr := frame(m); !strings.Contains(scr, "cannot read deployment traffic-payments: deployment apim/traffic-payments does not exist") {
		t.Fatalf("a Deployment the inspector cannot read:\n%s", scr)
	}

	pressSettle(m, "esc", "1", "j", "j", "enter") // dashboard: anm, the default API Manager, then its traffic
	if d, ok := m.top().(*deploymentDetail); !ok || d.name != "traffic-default" {
		t.Fatalf("enter on the dashboard's second topology row opened %T", m.top())
	}
}

// TestNoInspectorOpensNothing: without an inspector enter on a pod or a Cassandra node says
// there is nothing more to show.
func TestNoInspectorOpensNothing(t *testing.T) {
	for _, tc := range []struct {
		name string
		snap model.Snapshot
		w, h int
		view string
		want string
	}{
		{"pod", degradedSnapshot(), 100, 30, "2", "nothing more to show for pod"},
		{"cassandra node", healthySnapshot(), 120, 40, "4", "nothing more to show for cassandra 127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := drive(t, tc.w, tc.h, &tc.snap, Options{})
			pressSettle(m, tc.view, "enter")
			if m.top() != nil || !strings.Contains(frame(m), tc.want) {
				t.Fatalf("without an inspector:\n%s", frame(m))
			}
		})
	}
}

func TestLogRingBounds(t *testing.T) {
	r := newLogRing(5, 30)
	for i := range 8 {
		r.push(fmt.Sprintf("line %d", i)) // 6 bytes each
	}
	if r.len() != 5 || r.at(0) != "line 3" || r.at(4) != "line 7" || r.seqOf(0) != 3 || r.dropped != 3 {
		t.Fatalf("by count: %d lines, first %q, last %q, dropped %d", r.len(), r.at(0), r.at(4), r.dropped)
	}
	r.push(strings.Repeat("x", 20)) // 4 short + 20 = 44 > 30: the oldest go until it fits
	if r.bytes > 30 || r.at(r.len()-1) != strings.Repeat("x", 20) || r.len() != 2 {
		t.Fatalf("by bytes: %d bytes, %d lines", r.bytes, r.len())
	}
	r.push(strings.Repeat("y", 40)) // larger than the budget: it alone stays
	if r.len() != 1 || r.bytes != 40 {
		t.Fatalf("an oversize line: %d lines, %d bytes", r.len(), r.bytes)
	}
	if _, ok := r.index(0); ok {
		t.Fatal("a dropped line still has an index")
	}
	if all := r.all(); len(all) != 1 || all[0] != strings.Repeat("y", 40) {
		t.Fatalf("all: %q", all)
	}
}

// TestLogViewAtTheBound: 250,000 lines through the view keep 100,000 and their searches,
// drawn in the size of the screen.
func TestLogViewAtTheBound(t *testing.T) {
	v := newLogView(newCommon(fixedClock, ""), &fakeInspector{}, model.Ref{Name: "p"})
	v.SetSize(120, 40)
	v.SetFilter("match")
	batch := make([]string, 0, 10_000)
	for i := range 250_000 {
		l := fmt.Sprintf(`{"level":"INFO","msg":"line %d"}`, i)
		if i%1000 == 0 {
			l += " match"
		}
		batch = append(batch, l)
		if len(batch) == cap(batch) {
			v.append(batch)
			batch = batch[:0]
		}
	}
	if v.ring.len() != logMaxLines || v.ring.dropped != 150_000 || len(v.matches) != 100 || v.matches[0] != 150_000 {
		t.Fatalf("%d lines, %d dropped, %d matches from %v", v.ring.len(), v.ring.dropped, len(v.matches), v.matches[:1])
	}
	scr := v.View()
	requireFits(t, scr, 120, 40)
	if !strings.Contains(scr, "line 249999") || !strings.Contains(scr, "100000 lines (150000 older dropped)") {
		t.Fatalf("the tail:\n%s", scr)
	}
}

func TestSanitizeDefusesEscapes(t *testing.T) {
	in := "ok \x1b]52;c;ZXZpbA==\x07 \x1b[2J\ttab \x7f \xff end"
	got := sanitize(in)
	if strings.ContainsAny(got, "\x1b\x07\t\x7f") || !strings.Contains(got, "␛]52;c;ZXZpbA==␇") || !strings.Contains(got, "    tab") || !strings.Contains(got, "� end") {
		t.Fatalf("sanitize(%q) = %q", in, got)
	}
	if got := sanitize("user \u202eexe.txt"); got != "user �exe.txt" {
		t.Fatalf("a right-to-left override survived: %q", got)
	}
	if s := `{"msg":"plain"}`; sanitize(s) != s {
		t.Fatal("a plain line changed")
	}
}
