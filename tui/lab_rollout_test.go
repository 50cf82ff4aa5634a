package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/lab/labtest"
)

// TestLabRolloutActionsFromTheConsole drives a traffic Deployment of a throwaway namespace
// from the console: H shows its history; p pauses it (the Deployment is paused, the audit log
// has the intent and the outcome); the paused rollout's finding offers resume and F resumes
// it; r restarts it (a new revision, every pod replaced); undo to the first revision, chosen
// in the history, puts its template back.
func TestLabRolloutActionsFromTheConsole(t *testing.T) {
	env := labtest.Require(t)
	cs := labtest.Clientset(t, env)
	ns, objs := labtest.Topology(t, env, "tui-rollout")
	labtest.ApplyOf(t, env, objs, map[string]bool{"Secret": true, "ConfigMap": true}, "traffic")
	c := startLabConsole(t, env, labTargets(env, ns), nil, false)
	ctx := context.Background()
	deployment := func() (paused bool, restartedAt, cause string) {
		t.Helper()
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, "traffic", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return d.Spec.Paused, d.Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"], d.Annotations["kubernetes.io/change-cause"]
	}

	// The history of the group's traffic gateways, once they run.
	c.keys("2")
	c.waitFor(3*time.Minute, "3/3 ready")
	c.keys("H")
	c.waitFor(30*time.Second, "Rollout history · deployment/traffic", "1 ▸ now", "u undo to it", "p pause")

	// p: the plan, y, then the Deployment is paused.
	c.keys("p")
	c.waitFor(30*time.Second, "Pause · deployment/traffic", "change      pause", "Pause deployment/traffic?", "y starts it")
	if paused, _, _ := deployment(); paused {
		t.Fatal("paused before y")
	}
	c.keys("y")
	c.waitFor(30*time.Second, "deployment/traffic: pause done")
	if paused, _, _ := deployment(); !paused {
		t.Fatal("the console's pause left the Deployment running")
	}
	rec := c.requireRan("rollout.pause")
	if rec.Namespace != ns || rec.Resource != "deployment/traffic" || rec.KubeUser == "" {
		t.Errorf("pause record %+v", rec)
	}

	// The finding of the paused rollout offers resume; F starts it.
	c.keys("esc", "8", "/", "text:WKL-016", "enter")
	c.waitFor(30*time.Second, "F resume deployment/traffic", "F fix")
	c.keys("F")
	c.waitFor(30*time.Second, "Resume · deployment/traffic", "Resume deployment/traffic?")
	c.keys("y")
	c.waitFor(30*time.Second, "deployment/traffic: resume done")
	if paused, _, _ := deployment(); paused {
		t.Fatal("F (resume) left the Deployment paused")
	}
	c.requireRan("rollout.resume")

	// r: restart — a new revision, watched until every pod is replaced.
	c.keys("esc", "esc", "H")
	c.waitFor(30*time.Second, "Rollout history · deployment/traffic", "r restart")
	c.keys("r")
	c.waitFor(30*time.Second, "Restart deployment/traffic?")
	c.keys("y")
	c.waitFor(4*time.Minute, "deployment/traffic: restart done")
	if _, at, _ := deployment(); at == "" {
		t.Fatal("the restart set no restartedAt")
	}
	c.requireRan("rollout.restart")

	// Undo to revision 1, chosen in the history (the oldest, at the bottom).
	c.keys("esc", "H")
	c.waitFor(30*time.Second, "2 ▸ now", "1         ")
	c.keys("G", "u")
	c.waitFor(30*time.Second, "Undo · deployment/traffic", "revision    2 (", "→ 1 (", "Return deployment/traffic to revision 1")
	c.keys("y")
	c.waitFor(4*time.Minute, "✓ complete", "(revision 1)")
	_, at, cause := deployment()
	if at != "" || cause != "apimctl rollout undo to revision 1" {
		t.Errorf("after undo to revision 1: restartedAt %q, change cause %q", at, cause)
	}
	if rec := c.requireRan("rollout.undo"); rec.Details["toRevision"] != "1" {
		t.Errorf("undo record %+v", rec)
	}
	c.keys("esc", "H")
	c.waitFor(30*time.Second, "3 ▸ now", "apimctl rollout undo to revision 1")
}

// TestLabReadOnlyConsoleChangesNothing: as the lab's viewer (the view role), the console
// shows the history but its keys offer no change, and nothing is recorded or changed.
func TestLabReadOnlyConsoleChangesNothing(t *testing.T) {
	env := labtest.Require(t)
	tg := labTargets(env, env.Namespace)
	tg.Context = lab.ViewerContext
	c := startLabConsole(t, env, tg, nil, false)
	c.waitFor(60*time.Second, "READ-ONLY", "traffic ✓") // the topology is read
	c.keys("H")
	scr := c.waitFor(30*time.Second, "Rollout history · deployment/traffic", "the console offers no changes")
	if strings.Contains(scr, "p pause") {
		t.Fatalf("the viewer is offered a pause:\n%s", scr)
	}
	t.Log("\n" + scr)
	c.keys("p")
	c.waitFor(10*time.Second, "✗ read-only")
	c.keys("esc", "F", "R", "M")
	c.waitFor(10*time.Second, "✗ read-only")
	if recs, _ := readAudit(c.audit); len(recs) != 0 {
		t.Fatalf("a read-only console recorded %+v", recs)
	}
	cs := labtest.Clientset(t, env)
	d, err := cs.AppsV1().Deployments(env.Namespace).Get(context.Background(), "traffic", metav1.GetOptions{})
	if err != nil || d.Spec.Paused {
		t.Fatalf("the lab's traffic: %v paused=%v", err, d.Spec.Paused)
	}
}
