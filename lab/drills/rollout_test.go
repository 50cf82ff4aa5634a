package drills

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apimctl/apimctl/ops/model"
	"github.com/apimctl/apimctl/ops/rollout"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/apimctl/apimctl/cmd/apimctl/cli"
	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/lab/traffic"
	"github.com/apimctl/apimctl/ops/action"
)

// The rollout drills drive `apimctl rollout` in process against the lab: the traffic
// Deployment of the lab's namespace, real gateways, real Prometheus, lab traffic for the gate.

type cliRun struct {
	code        int
	out, errOut string
}

// apimctl runs the command line with the lab's environment; audit records go to auditLog.
func apimctl(t *testing.T, env *lab.Env, auditLog string, tty bool, stdin string, args ...string) cliRun {
	t.Helper()
	for k, v := range env.Vars() {
		t.Setenv(k, v)
	}
	t.Setenv("APIMCTL_AUDIT_LOG", auditLog)
	ios, in, out, errOut := cli.Test()
	ios.InTTY, ios.OutTTY, ios.ErrTTY = tty, tty, tty
	in.WriteString(stdin)
	code := cli.Main(ios, args)
	t.Logf("apimctl %s → exit %d\n%s%s", strings.Join(args, " "), code, errOut.String(), out.String())
	return cliRun{code, out.String(), errOut.String()}
}

func auditRecords(t *testing.T, path string) []action.Record {
	t.Helper()
	all, err := action.ReadLog(path)
	if err != nil {
		t.Fatal(err)
	}
	// Every change has its intent recorded before its outcome, under one ID; the drills
	// judge the outcomes (and refusals, dry runs, declines).
	intents := map[string]bool{}
	var out []action.Record
	for _, r := range all {
		if r.Phase == action.PhaseIntent {
			intents[r.ID] = true
			continue
		}
		if r.Phase == action.PhaseOutcome && !intents[r.ID] {
			t.Errorf("audit: an outcome without its intent record: %+v", r)
		}
		out = append(out, r)
	}
	return out
}

func trafficDeployment(t *testing.T, cs kubernetes.Interface, ns string) *appsv1.Deployment {
	t.Helper()
	d, err := cs.AppsV1().Deployments(ns).Get(context.Background(), "traffic", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// backgroundTraffic sends lab traffic until the test ends.
func backgroundTraffic(t *testing.T, l *lab.Lab, rps int) {
	t.Helper()
	o, err := l.TrafficOptions(rps, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = traffic.Run(ctx, o)
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// TestRolloutRefusesWithoutChanging: a dry run, a script without --yes, a declined prompt,
// read-only, a viewer identity and bad input all leave the Deployment as it was.
func TestRolloutRefusesWithoutChanging(t *testing.T) {
	env, _, cs := gatewayLab(t)
	ns := env.Namespace
	pinTraffic(t, cs, ns, 3) // the drills before may leave it converging
	audit := filepath.Join(t.TempDir(), "audit.log")
	before := trafficDeployment(t, cs, ns)
	img := before.Spec.Template.Spec.Containers[0].Image
	next := "1.0.2"

	r := apimctl(t, env, audit, false, "", "rollout", "set-image", "default", next, "--dry-run", "-o", "json")
	var doc struct {
		Plan   rollout.RolloutPlan `json:"plan"`
		DryRun bool                `json:"dryRun"`
	}
	if err := json.Unmarshal([]byte(r.out), &doc); r.code != 0 || err != nil || !doc.DryRun || !strings.HasSuffix(doc.Plan.ToImage, ":"+next) || doc.Plan.FromImage != img ||
		doc.Plan.ImageCheck != "found" || !strings.HasPrefix(doc.Plan.ImageDigest, "sha256:") {
		t.Errorf("dry run: exit %d, %v, %+v", r.code, err, doc)
	}
	for _, c := range []struct {
		name  string
		tty   bool
		stdin string
		args  []string
		code  int
		say   string
	}{
		{"no terminal, no --yes", false, "", []string{"default", next}, cli.ExitUsage, "--yes"},
		{"declined", true, "n\n", []string{"default", next}, cli.ExitAborted, "nothing changed"},
		{"read-only", false, "", []string{"default", next, "--yes", "--read-only"}, cli.ExitDenied, "read-only"},
		{"viewer", false, "", []string{"default", next, "--yes", "--context", lab.ViewerContext}, cli.ExitDenied, "not permitted"},
		{"unknown group", false, "", []string{"nogroup", next, "--yes"}, cli.ExitUsage, `no gateway group "nogroup"`},
		{"bad tag", false, "", []string{"default", "bad tag!", "--yes"}, cli.ExitUsage, "invalid tag"},
		{"same image", false, "", []string{"default", img, "--yes"}, cli.ExitUsage, "already runs"},
		{"bad ratio", false, "", []string{"default", next, "--yes", "--max-error-ratio", "2"}, cli.ExitUsage, "between 0 and 1"},
		{"no such image", false, "", []string{"default", "9.9.9", "--yes"}, cli.ExitDegraded, "the registry has no such image"},
	} {
		r := apimctl(t, env, audit, c.tty, c.stdin, append([]string{"rollout", "set-image"}, c.args...)...)
		if r.code != c.code || !strings.Contains(r.errOut, c.say) {
			t.Errorf("%s: exit %d (want %d), stderr lacks %q", c.name, r.code, c.code, c.say)
		}
	}
	after := trafficDeployment(t, cs, ns)
	if after.Generation != before.Generation || after.Spec.Template.Spec.Containers[0].Image != img {
		t.Errorf("the Deployment changed: generation %d → %d, image %s", before.Generation, after.Generation, after.Spec.Template.Spec.Containers[0].Image)
	}
	recs := auditRecords(t, audit)
	if len(recs) == 0 || !recs[0].DryRun || recs[0].Action != "rollout.set-image" || recs[0].Outcome != "ok" {
		t.Errorf("the dry run's audit record: %+v", recs)
	}
	for _, rec := range recs[1:] {
		if !rec.DryRun && rec.Outcome != action.OutcomeRefused && rec.Outcome != action.OutcomeDeclined {
			t.Errorf("a refused rollout left an audit record of a change: %+v", rec)
		}
	}
}

type setImageResult struct {
	Plan   rollout.RolloutPlan    `json:"plan"`
	Result *rollout.RolloutResult `json:"result"`
}

func setImage(t *testing.T, env *lab.Env, audit string, args ...string) (cliRun, setImageResult) {
	t.Helper()
	r := apimctl(t, env, audit, false, "", append([]string{"rollout", "set-image", "default"}, append(args, "--yes", "-o", "json")...)...)
	var doc setImageResult
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil || doc.Result == nil {
		t.Fatalf("set-image %v: exit %d, output %q: %v", args, r.code, r.out, err)
	}
	return r, doc
}

// rolloutDrill readies the lab for a rollout drill: three traffic gateways, lab traffic (40
// requests a second) for the gate until the test ends and a fresh audit log; it returns them
// with the image the gateways run.
func rolloutDrill(t *testing.T) (env *lab.Env, l *lab.Lab, cs kubernetes.Interface, audit, img string) {
	t.Helper()
	env, l, cs = gatewayLab(t)
	pinTraffic(t, cs, env.Namespace, 3)
	backgroundTraffic(t, l, 40)
	audit = filepath.Join(t.TempDir(), "audit.log")
	img = trafficDeployment(t, cs, env.Namespace).Spec.Template.Spec.Containers[0].Image
	return env, l, cs, audit, img
}

func podsOnTag(t *testing.T, cs kubernetes.Interface, ns, tag string) (onTag, total int) {
	t.Helper()
	pods, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=traffic"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		total++
		if strings.HasSuffix(p.Spec.Containers[0].Image, ":"+tag) {
			onTag++
		}
	}
	return onTag, total
}

// TestRolloutGateRollsBackAFaultyImage: a tag whose gateways answer half their requests with
// 5xx fails the metric gate under lab traffic and is rolled back; a tag that never becomes
// ready stalls and is rolled back at --timeout. Exit 5 both times, the old image serves again.
func TestRolloutGateRollsBackAFaultyImage(t *testing.T) {
	env, l, cs, audit, img := rolloutDrill(t)
	ns := env.Namespace
	tag := model.ImageTag(img)
	for _, f := range []struct {
		tag   string
		fault lab.Fault
		args  []string
		why   string
	}{
		{"1.0.2", lab.Fault{ErrorRate: 0.5}, []string{"--gate-hold", "30s"}, "5xx"},
		{"1.0.3", lab.Fault{NeverReady: true}, []string{"--timeout", "40s", "--no-gate"}, "not complete within 40s"},
	} {
		if err := l.SetFault(f.tag, f.fault); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.SetFault(f.tag, lab.Fault{}) })
		r, doc := setImage(t, env, audit, append([]string{f.tag}, f.args...)...)
		if r.code != cli.ExitAborted || doc.Result.Outcome != rollout.RolloutRolledBack || !strings.Contains(doc.Result.Reason, f.why) {
			t.Errorf("faulty tag %s: exit %d, %+v", f.tag, r.code, doc.Result)
		}
		if doc.Result.Image != img {
			t.Errorf("after the rollback the Deployment runs %s, want %s", doc.Result.Image, img)
		}
		readyTraffic(t, cs, ns, 3, 2*time.Minute)
		if on, total := podsOnTag(t, cs, ns, tag); on != 3 || total != 3 {
			t.Errorf("after the rollback %d of %d pods run %s", on, total, tag)
		}
	}
	recs := auditRecords(t, audit)
	if len(recs) != 2 || recs[0].Outcome != rollout.RolloutRolledBack || !strings.HasPrefix(recs[0].Details["gate"], "failed") {
		t.Errorf("audit: %+v", recs)
	}
}

// TestRolloutCompletesThenUndoRestartPause: a healthy tag rolls out with the gate judged and
// passed; history names it; undo returns to the previous image; restart replaces every pod;
// pause and resume toggle the Deployment.
func TestRolloutCompletesThenUndoRestartPause(t *testing.T) {
	env, _, cs, audit, img := rolloutDrill(t)
	ns := env.Namespace
	next := "1.0.1"
	if model.ImageTag(img) == next {
		next = "1.0.0"
	}
	r, doc := setImage(t, env, audit, next, "--gate-hold", "15s")
	if r.code != 0 || doc.Result.Outcome != rollout.RolloutComplete || !strings.HasPrefix(doc.Result.Gate, "passed") {
		t.Fatalf("healthy rollout: exit %d, %+v", r.code, doc.Result)
	}
	if on, total := podsOnTag(t, cs, ns, next); on != 3 || total != 3 {
		t.Errorf("after the rollout %d of %d pods run %s", on, total, next)
	}
	r = apimctl(t, env, audit, false, "", "rollout", "history", "default", "-o", "json")
	var hist []rollout.Revision
	if err := json.Unmarshal([]byte(r.out), &hist); err != nil || len(hist) < 2 {
		t.Fatalf("history: %v %q", err, r.out)
	}
	cur := hist[len(hist)-1]
	if !cur.Current || !strings.HasSuffix(cur.Image, ":"+next) || !strings.Contains(cur.ChangeCause, "apimctl rollout set-image default") {
		t.Errorf("history's newest revision: %+v", cur)
	}

	if r = apimctl(t, env, audit, false, "", "rollout", "undo", "default", "--yes"); r.code != 0 {
		t.Fatalf("undo: exit %d", r.code)
	}
	if got := trafficDeployment(t, cs, ns).Spec.Template.Spec.Containers[0].Image; got != img {
		t.Errorf("after undo the Deployment runs %s, want %s", got, img)
	}
	readyTraffic(t, cs, ns, 3, 2*time.Minute)

	before := map[string]bool{}
	pods, _ := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=traffic"})
	for _, p := range pods.Items {
		before[p.Name] = true
	}
	if r = apimctl(t, env, audit, false, "", "rollout", "restart", "default", "--yes"); r.code != 0 {
		t.Fatalf("restart: exit %d", r.code)
	}
	readyTraffic(t, cs, ns, 3, 2*time.Minute)
	pods, _ = cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=traffic"})
	for _, p := range pods.Items {
		if before[p.Name] && p.DeletionTimestamp == nil {
			t.Errorf("pod %s survived the restart", p.Name)
		}
	}

	if r = apimctl(t, env, audit, false, "", "rollout", "pause", "default", "--yes"); r.code != 0 || !trafficDeployment(t, cs, ns).Spec.Paused {
		t.Errorf("pause: exit %d", r.code)
	}
	t.Cleanup(func() { apimctl(t, env, audit, false, "", "rollout", "resume", "default", "--yes") })
	// A paused Deployment is a preflight blocker.
	if r = apimctl(t, env, audit, false, "", "rollout", "set-image", "default", next, "--yes"); r.code != cli.ExitDegraded || !strings.Contains(r.errOut, "paused") {
		t.Errorf("set-image on a paused Deployment: exit %d", r.code)
	}
	if r = apimctl(t, env, audit, false, "", "rollout", "resume", "default", "--yes"); r.code != 0 || trafficDeployment(t, cs, ns).Spec.Paused {
		t.Errorf("resume: exit %d", r.code)
	}

	// A rollout someone else started: status says so (exit 3), --watch follows it to the end.
	patch := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{"drill/restartedAt":%q}}}}}`, time.Now().Format(time.RFC3339Nano))
	if _, err := cs.AppsV1().Deployments(ns).Patch(context.Background(), "traffic", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if r = apimctl(t, env, audit, false, "", "rollout", "status", "default"); r.code != cli.ExitDegraded || !strings.Contains(r.out, "in progress") {
		t.Errorf("status during a rollout: exit %d %q", r.code, r.out)
	}
	if r = apimctl(t, env, audit, false, "", "rollout", "status", "default", "--watch"); r.code != 0 || !strings.HasSuffix(r.out, "rolled out\n") {
		t.Errorf("status --watch: exit %d %q", r.code, r.out)
	}
	if r = apimctl(t, env, audit, false, "", "rollout", "status", "default"); r.code != 0 {
		t.Errorf("status after the rollout: exit %d", r.code)
	}
	var actions []string
	for _, rec := range auditRecords(t, audit) {
		actions = append(actions, rec.Action+":"+rec.Outcome)
	}
	want := "rollout.set-image:complete rollout.undo:ok rollout.restart:ok rollout.pause:ok rollout.set-image:refused rollout.resume:ok"
	if strings.Join(actions, " ") != want {
		t.Errorf("audit trail %v, want %s", actions, want)
	}
}
