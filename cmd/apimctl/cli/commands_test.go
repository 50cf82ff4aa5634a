package cli

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdtest"
	"github.com/apimctl/apimctl/ops/action"
	"github.com/apimctl/apimctl/ops/model"
)

// These tests run every command on a Factory of fakes (cmdtest): flags, output, exit codes,
// audit records and what would have been changed — no lab. What the commands change for
// real is tested against the lab (the *_test.go files that call labtest.Require, and the
// drills).

type result struct {
	code        int
	out, errOut string
	env         *cmdtest.Env
}

func cmd(t *testing.T, e *cmdtest.Env, args ...string) result {
	t.Helper()
	code := Run(context.Background(), e.F, args)
	return result{code, e.Out.String(), e.ErrOut.String(), e}
}

func fresh(t *testing.T, args ...string) result {
	t.Helper()
	return cmd(t, cmdtest.New(t, false), args...)
}

func (r result) phases() string {
	var s []string
	for _, rec := range r.env.Audit.Records() {
		s = append(s, rec.Action+":"+rec.Phase+":"+rec.Outcome)
	}
	return strings.Join(s, " ")
}

func TestUsageErrorsExit2WithoutALab(t *testing.T) {
	for _, args := range [][]string{
		{"nonsense"},
		{"statsu"},
		{"status", "--bogus"},
		{"status", "-o", "xml"},
		{"status", "extra"},
		{"status", "--timeout", "0s"},
		{"check", "-o", "csv"},
		{"rollout"},
		{"rollout", "bogus"},
		{"rollout", "set-image", "default"},
		{"rollout", "set-image", "default", "1.0.1", "--max-error-ratio", "2"},
		{"rollout", "set-image", "default", "1.0.1", "--role", "db"},
		{"rollout", "set-image", "default", "1.0.1", "--timeout", "-1s"},
		{"rollout", "set-image", "nogroup", "1.0.1", "--yes"},
		{"rollout", "set-image", "default", "bad tag!", "--yes"},
		{"rollout", "undo", "default", "--to-revision", "-3"},
		{"rollout", "resume", "default", "--yes"},
		{"backup", "prune"},
		{"backup", "prune", "--keep", "0"},
		{"backup", "create", "--only", "everything", "--dry-run"},
		{"backup", "create", "--recipient", "not-a-key", "--dry-run"},
		{"backup", "restore", "x", "--keyspace-map", "nope"},
		{"backup", "verify"},
		{"patch", "merge", "--tag", "x"},
		{"patch", "merge", "--base", "r/a:1"},
		{"patch", "merge", "--base", "r/a:1", "--tag", "1", "--to", "r/a:2"},
		{"lab", "fault", "--tag", "1.0.2"},
		{"lab", "fault", "--error-rate", "0.3"},
		{"lab", "scale"},
		{"lab", "scale", "--pods", "-1"},
	} {
		r := fresh(t, args...)
		if r.code != ExitUsage || !strings.Contains(r.errOut, "error:") {
			if args[0] == "rollout" && len(args) == 1 && r.code == 0 && strings.Contains(r.out, "Available Commands") {
				continue // a group alone prints its help
			}
			t.Errorf("%v: exit %d, want %d\n%s", args, r.code, ExitUsage, r.errOut)
		}
		if changes := r.env.Changes(); len(changes) > 0 {
			t.Errorf("%v changed the cluster: %v", args, changes)
		}
		for _, rec := range r.env.Audit.Records() {
			if rec.Phase == action.PhaseIntent {
				t.Errorf("%v recorded an intent: %+v", args, rec)
			}
		}
	}
	if r := fresh(t, "statsu"); !strings.Contains(r.errOut, "did you mean status") {
		t.Errorf("no suggestion: %s", r.errOut)
	}
}

func TestStatusOutputAndExitCodes(t *testing.T) {
	r := fresh(t, "status")
	if r.code != 0 || !strings.Contains(r.out, "✓ HEALTHY") || !strings.Contains(r.out, "traffic") || !strings.Contains(r.out, "✓ ready") {
		t.Fatalf("healthy: exit %d\n%s%s", r.code, r.out, r.errOut)
	}
	r = fresh(t, "status", "-o", "json")
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil || r.code != 0 || doc["health"] != "healthy" {
		t.Fatalf("json: exit %d %v\n%s", r.code, err, r.out)
	}
	e := cmdtest.New(t, false)
	e.Snap.Cassandra.Nodes[2].Up = false
	e.Snap.Findings = append(e.Snap.Findings, model.Finding{ID: "APIM-CASS-001", Severity: model.SeverityError, Subject: "cassandra 127.0.0.3", Message: "node is down"})
	if r = cmd(t, e, "status"); r.code != ExitDegraded || !strings.Contains(r.out, "DEGRADED") {
		t.Errorf("degraded: exit %d\n%s", r.code, r.out)
	}
	e = cmdtest.New(t, false)
	e.Snap.Sources[0] = model.SourceState{Name: model.SourceKube, Error: "connection refused"}
	if r = cmd(t, e, "status"); r.code != ExitError || !strings.Contains(r.errOut, "could not read the deployment from Kubernetes: connection refused") || !strings.Contains(r.errOut, "hint:") {
		t.Errorf("no kube: exit %d\n%s", r.code, r.errOut)
	}
	e = cmdtest.New(t, false)
	e.Observe = errors.New("kubeconfig: context \"nope\" does not exist")
	if r = cmd(t, e, "status"); r.code != ExitError || !strings.Contains(r.errOut, `context "nope" does not exist`) {
		t.Errorf("bad context: exit %d\n%s", r.code, r.errOut)
	}
}

func TestCheckExitCodes(t *testing.T) {
	if r := fresh(t, "check"); r.code != 0 {
		t.Errorf("healthy check: exit %d\n%s", r.code, r.out)
	}
	if r := fresh(t, "check", "--list", "-o", "json"); r.code != 0 || !strings.Contains(r.out, `"id"`) {
		t.Errorf("check --list: exit %d\n%s", r.code, r.out)
	}
	e := cmdtest.New(t, false)
	e.Snap.Findings = []model.Finding{{ID: "APIM-X", Severity: model.SeverityError, Subject: "s", Message: "m", Fix: "f"}}
	if r := cmd(t, e, "check"); r.code != ExitDegraded || !strings.Contains(r.out, "fix: f") {
		t.Errorf("error finding: exit %d\n%s", r.code, r.out)
	}
}

// The rollout's refusals, in the runner's order, each leaving the Deployment as it was.
func TestRolloutSetImageRefusals(t *testing.T) {
	const next = "apim/gateway:1.0.1"
	setup := func(t *testing.T, tty bool) *cmdtest.Env {
		e := cmdtest.New(t, tty)
		e.Images[next] = "sha256:abc"
		return e
	}
	for _, c := range []struct {
		name   string
		tty    bool
		stdin  string
		args   []string
		prep   func(e *cmdtest.Env)
		code   int
		say    string
		phases string
	}{
		{"dry run", false, "", []string{"--dry-run"}, nil, 0, "dry run: every check passes; nothing changed", "rollout.set-image:dry-run:ok"},
		{"no terminal, no --yes", false, "", nil, nil, ExitUsage, "--yes", ""},
		{"declined", true, "n\n", nil, nil, ExitAborted, "cancelled: nothing changed", "rollout.set-image:declined:declined"},
		{"read-only", false, "", []string{"--yes", "--read-only"}, nil, ExitDenied, "read-only", "rollout.set-image:refused:refused"},
		{"rbac", false, "", []string{"--yes"}, func(e *cmdtest.Env) { e.Access.Denied["patch deployments"] = true }, ExitDenied, "not permitted", "rollout.set-image:refused:refused"},
		{"no such image", false, "", []string{"--yes"}, func(e *cmdtest.Env) { e.Images[next] = "" }, ExitDegraded, "the registry has no such image", "rollout.set-image:refused:refused"},
		{"audit log unwritable", false, "", []string{"--yes"}, func(e *cmdtest.Env) { e.Audit.Err = errors.New("read-only file system") }, ExitError, "the action was not run", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := setup(t, c.tty)
			e.In.WriteString(c.stdin)
			if c.prep != nil {
				c.prep(e)
			}
			before := e.Deployment(t, "traffic").Spec.Template.Spec.Containers[0].Image
			r := cmd(t, e, append([]string{"rollout", "set-image", "default", "1.0.1"}, c.args...)...)
			if r.code != c.code || !strings.Contains(r.errOut, c.say) {
				t.Errorf("exit %d (want %d), stderr lacks %q:\n%s", r.code, c.code, c.say, r.errOut)
			}
			if ch := e.Changes(); len(ch) > 0 {
				t.Errorf("changed the cluster: %v", ch)
			}
			if img := e.Deployment(t, "traffic").Spec.Template.Spec.Containers[0].Image; img != before {
				t.Errorf("the image moved to %s", img)
			}
			if got := r.phases(); got != c.phases {
				t.Errorf("audit %q, want %q", got, c.phases)
			}
		})
	}
}

func TestRolloutSetImageRuns(t *testing.T) {
	e := cmdtest.New(t, false)
	e.Images["apim/gateway:1.0.1"] = "sha256:abc"
	r := cmd(t, e, "rollout", "set-image", "default", "1.0.1", "--yes", "--no-gate", "-o", "json")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.errOut)
	}
	var doc struct {
		Plan   struct{ ToImage string } `json:"plan"`
		Result struct{ Outcome string } `json:"result"`
	}
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil || doc.Plan.ToImage != "apim/gateway:1.0.1" || doc.Result.Outcome != "complete" {
		t.Fatalf("json %v: %s", err, r.out)
	}
	if img := e.Deployment(t, "traffic").Spec.Template.Spec.Containers[0].Image; img != "apim/gateway:1.0.1" {
		t.Errorf("image %s", img)
	}
	recs := e.Audit.Records()
	if r.phases() != "rollout.set-image:intent: rollout.set-image:outcome:complete" || recs[0].ID != recs[1].ID {
		t.Fatalf("audit %q", r.phases())
	}
	if rec := recs[0]; rec.User != "tester" || rec.KubeUser != "test-admin" || rec.Context != "test" || rec.Namespace != "apim" ||
		rec.Resource != "deployment/traffic" || rec.Image != "apim/gateway:1.0.1" || rec.Details["from"] == "" {
		t.Errorf("intent record lacks who or what: %+v", rec)
	}
	if len(e.Access.Asked) == 0 || e.Access.Asked[0].Verb != "patch" || e.Access.Asked[0].Resource != "deployments" {
		t.Errorf("RBAC asked %+v", e.Access.Asked)
	}
}

func TestRolloutPauseResumeRestartThroughTheRunner(t *testing.T) {
	e := cmdtest.New(t, false)
	if r := cmd(t, e, "rollout", "pause", "default", "--read-only", "--yes"); r.code != ExitDenied || len(e.Changes()) > 0 {
		t.Fatalf("pause --read-only: exit %d, changes %v", r.code, e.Changes())
	}
	if r := cmd(t, e, "rollout", "pause", "default"); r.code != ExitUsage || len(e.Changes()) > 0 {
		t.Fatalf("pause without --yes: exit %d", r.code)
	}
	if r := cmd(t, e, "rollout", "pause", "default", "--dry-run"); r.code != 0 || len(e.Changes()) > 0 {
		t.Fatalf("pause --dry-run: exit %d, changes %v", r.code, e.Changes())
	}
	if r := cmd(t, e, "rollout", "pause", "default", "--yes"); r.code != 0 || !e.Deployment(t, "traffic").Spec.Paused {
		t.Fatalf("pause: exit %d\n%s", r.code, r.errOut)
	}
	if r := cmd(t, e, "rollout", "restart", "default", "--yes", "-o", "json"); r.code != 0 || !strings.Contains(r.out, `"restart"`) {
		t.Fatalf("restart: exit %d\n%s%s", r.code, r.out, r.errOut)
	}
	if a := e.Deployment(t, "traffic").Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"]; a == "" {
		t.Error("restart did not stamp the template")
	}
	want := "rollout.pause:refused:refused rollout.pause:dry-run:ok rollout.pause:intent: rollout.pause:outcome:ok rollout.restart:intent: rollout.restart:outcome:ok"
	if got := cmd(t, e).phases(); got != want {
		t.Errorf("audit %q\nwant  %q", got, want)
	}
}

// Every mutating subcommand under --read-only exits 4 and changes nothing — with --yes too.
func TestReadOnlyRefusesEveryChange(t *testing.T) {
	dir := t.TempDir()
	backups := filepath.Join(dir, "backups")
	for _, id := range []string{"20261101T030000Z-apim", "20261102T030000Z-apim"} {
		writeBackup(t, backups, id)
	}
	labDir := filepath.Join(dir, "lab")
	os.MkdirAll(labDir, 0o700)
	os.WriteFile(filepath.Join(labDir, "lab.json"), []byte(`{}`), 0o600)
	for _, args := range [][]string{
		{"rollout", "set-image", "default", "1.0.1", "--yes"},
		{"rollout", "undo", "default", "--yes"},
		{"rollout", "pause", "default", "--yes"},
		{"rollout", "restart", "default", "--yes"},
		{"backup", "create", "--yes", "--dir", backups},
		{"backup", "prune", "--keep", "1", "--yes", "--dir", backups},
		{"backup", "restore", "20261101T030000Z-apim", "--only", "mysql", "--database", "metrics", "--yes", "--dir", backups},
		{"lab", "up", "--state-dir", labDir},
		{"lab", "down", "--state-dir", labDir},
		{"lab", "fault", "--tag", "1.0.2", "--never-ready", "--state-dir", labDir},
		{"lab", "scale", "--pods", "3", "--state-dir", labDir},
	} {
		e := cmdtest.New(t, false)
		e.Images["apim/gateway:1.0.1"] = "sha256:abc"
		r := cmd(t, e, append(args, "--read-only")...)
		if r.code != ExitDenied || !strings.Contains(r.errOut, "read-only") {
			// undo has no earlier revision in the fake cluster: refused as bad input first.
			if args[1] == "undo" && r.code == ExitUsage {
				continue
			}
			t.Errorf("%v: exit %d, want %d\n%s", args, r.code, ExitDenied, r.errOut)
		}
		if ch := e.Changes(); len(ch) > 0 {
			t.Errorf("%v changed the cluster: %v", args, ch)
		}
		if got := r.phases(); !strings.HasSuffix(got, ":refused:refused") {
			t.Errorf("%v: audit %q", args, got)
		}
	}
	if left, _ := os.ReadDir(backups); len(left) != 2 {
		t.Errorf("a read-only prune deleted backups: %d left", len(left))
	}
	if _, err := os.Stat(filepath.Join(labDir, "faults.json")); err == nil {
		t.Error("a read-only fault was written")
	}
}

func TestBackupPruneListVerify(t *testing.T) {
	backups := t.TempDir()
	for _, id := range []string{"20261101T030000Z-apim", "20261102T030000Z-apim", "20261103T030000Z-apim"} {
		writeBackup(t, backups, id)
	}
	e := cmdtest.New(t, false)
	if r := cmd(t, e, "backup", "list", "--dir", backups, "-o", "json"); r.code != 0 || strings.Count(r.out, `"id"`) != 3 {
		t.Fatalf("list: exit %d\n%s", r.code, r.out)
	}
	if r := cmd(t, e, "backup", "prune", "--keep", "1", "--dir", backups); r.code != ExitUsage || !strings.Contains(r.errOut, "--yes") {
		t.Fatalf("prune without --yes: exit %d\n%s", r.code, r.errOut)
	}
	if r := cmd(t, e, "backup", "prune", "--keep", "1", "--dir", backups, "--dry-run"); r.code != 0 || !strings.Contains(r.errOut, "20261101T030000Z-apim") {
		t.Fatalf("prune --dry-run: exit %d\n%s", r.code, r.errOut)
	}
	if left, _ := os.ReadDir(backups); len(left) != 3 {
		t.Fatalf("dry run deleted: %d left", len(left))
	}
	if r := cmd(t, e, "backup", "prune", "--keep", "1", "--dir", backups, "--yes"); r.code != 0 {
		t.Fatalf("prune: exit %d\n%s", r.code, r.errOut)
	}
	left, _ := os.ReadDir(backups)
	if len(left) != 1 || left[0].Name() != "20261103T030000Z-apim" {
		t.Fatalf("left %v", left)
	}
	recs := e.Audit.Records()
	last := recs[len(recs)-1]
	if last.Phase != action.PhaseOutcome || last.Location != backups || !strings.Contains(last.Details["delete"], "20261101T030000Z-apim") {
		t.Errorf("prune's outcome record %+v", last)
	}
	if r := cmd(t, e, "backup", "verify", "20261103T030000Z-apim", "--dir", backups); r.code != 0 || !strings.Contains(r.out, "match the manifest") {
		t.Fatalf("verify: exit %d\n%s%s", r.code, r.out, r.errOut)
	}
	os.WriteFile(filepath.Join(backups, "20261103T030000Z-apim", "mysql", "metrics.sql"), []byte("tampered"), 0o600)
	if r := cmd(t, e, "backup", "verify", "20261103T030000Z-apim", "--dir", backups, "-o", "json"); r.code != ExitDegraded || !strings.Contains(r.out, `"ok": false`) {
		t.Fatalf("verify of a tampered backup: exit %d\n%s", r.code, r.out)
	}
	if r := cmd(t, e, "backup", "verify", "nope", "--dir", backups); r.code != ExitUsage {
		t.Fatalf("verify of a missing backup: exit %d\n%s", r.code, r.errOut)
	}
}

func TestBackupRestoreRefusals(t *testing.T) {
	backups := t.TempDir()
	writeBackup(t, backups, "20261101T030000Z-apim")
	args := []string{"backup", "restore", "20261101T030000Z-apim", "--dir", backups, "--only", "mysql", "--database", "metrics_dr"}
	e := cmdtest.New(t, false)
	// The dry run checks the target: without a MySQL server to restore into it is refused,
	// and one that does not answer fails; each leaves a refusal record with the target.
	if r := cmd(t, e, append(args, "--dry-run", "-o", "json")...); r.code != ExitUsage || !strings.Contains(r.errOut, "METRICS_DB_URL") {
		t.Fatalf("dry run: exit %d\n%s%s", r.code, r.out, r.errOut)
	}
	e.Env["METRICS_DB_URL"] = "jdbc:mysql://127.0.0.1:1/metrics"
	if r := cmd(t, e, args...); r.code != ExitError || !strings.Contains(r.errOut, "nothing restored") {
		t.Fatalf("an unreachable database: exit %d\n%s", r.code, r.errOut)
	}
	recs := e.Audit.Records()
	if len(recs) != 2 || recs[0].Phase != action.PhaseRefused || recs[0].Database != "metrics_dr" || recs[0].Context != "test" || recs[1].Phase != action.PhaseRefused {
		t.Fatalf("audit %+v", recs)
	}
}

func TestAuditLogUnwritableStopsTheAction(t *testing.T) {
	dir := t.TempDir()
	labDir := filepath.Join(dir, "lab")
	os.MkdirAll(labDir, 0o700)
	os.WriteFile(filepath.Join(labDir, "lab.json"), []byte(`{}`), 0o600)
	blocker := filepath.Join(dir, "not-a-dir")
	os.WriteFile(blocker, nil, 0o600)
	// The real factory, with an audit log that cannot be created (its directory is a file).
	ios, _, _, errOut := Test()
	t.Setenv("APIMCTL_AUDIT_LOG", filepath.Join(blocker, "audit.log"))
	code := Main(ios, []string{"lab", "fault", "--tag", "1.0.2", "--never-ready", "--state-dir", labDir})
	if code != ExitError || !strings.Contains(errOut.String(), "the action was not run") {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(labDir, "faults.json")); err == nil {
		t.Error("the fault was written without an audit record")
	}
}

// writeBackup writes a small valid backup (one MySQL part) named id under root.
func writeBackup(t *testing.T, root, id string) {
	t.Helper()
	writeTestBackup(t, root, id)
}

func TestStatusOfTwoSites(t *testing.T) {
	e := cmdtest.New(t, false)
	dr := e.Snap
	dr.Context = "dr"
	dr.Traffic = model.TrafficState{}
	e.Others["dr"] = dr
	e.Backups = []model.BackupRef{{ID: "20261201T030000Z-apim", Context: "prod", Created: e.F.Now().Add(-3 * time.Hour)}}
	r := cmd(t, e, "--context", "prod", "--context", "dr", "status")
	for _, want := range []string{"═══ site prod ═══", "═══ site dr ═══", "═══ primary and DR ═══", "✓ serving", "standby", "20261201T030000Z-apim", "3h", "the DR site is ready"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("two sites lack %q:\n%s", want, r.out)
		}
	}
	if r.code != 0 {
		t.Errorf("exit %d\n%s", r.code, r.errOut)
	}
	r = cmd(t, cmdtest.New(t, false), "--context", "prod", "--context", "nowhere", "status", "-o", "json")
	var doc struct {
		Sites      []struct{ Context, Health string } `json:"sites"`
		Comparison struct {
			Findings []model.Finding `json:"findings"`
		} `json:"comparison"`
	}
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil || len(doc.Sites) != 2 || doc.Sites[1].Health != "unknown" || r.code != ExitDegraded {
		t.Fatalf("exit %d, %v: %s", r.code, err, r.out)
	}
	ids := ""
	for _, f := range doc.Comparison.Findings {
		ids += f.ID + " "
	}
	if !strings.Contains(ids, model.DRUnreachable) || !strings.Contains(ids, model.DRNoBackup) {
		t.Errorf("findings %s", ids)
	}
}

// lab up on an existing lab's state directory keeps the lab's port base (a forgotten
// --port-base must not start a second set of processes on the default ports).
func TestLabUpKeepsTheRecordedPortBase(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "lab.json"), []byte(`{"PortBase": 26000, "CassandraNodes": 1}`), 0o600)
	r := fresh(t, "lab", "up", "--dry-run", "--state-dir", dir)
	if !strings.Contains(r.out, "127.0.0.1:26306") || strings.Contains(r.out, ":16306") {
		t.Errorf("exit %d:\n%s%s", r.code, r.out, r.errOut)
	}
	r = fresh(t, "lab", "up", "--dry-run", "--state-dir", dir, "--port-base", "27000")
	if !strings.Contains(r.out, "127.0.0.1:27306") {
		t.Errorf("--port-base given: %s", r.out)
	}
}

func TestConfigFile(t *testing.T) {
	e := cmdtest.New(t, false)
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	e.Env["APIMCTL_CONFIG"] = cfg
	os.WriteFile(cfg, []byte("contexts: [prod, dr]\nnamespace: apim\nrefresh: 3s\ntheme: colorblind\n"), 0o600)
	e.Others["dr"] = e.Snap
	if r := cmd(t, e, "status"); !strings.Contains(r.out, "═══ site dr ═══") {
		t.Errorf("config contexts: exit %d\n%s%s", r.code, r.out, r.errOut)
	}
	if r := cmd(t, cmdtestWith(t, cfg), "--context", "prod", "status"); r.code != 0 || strings.Contains(r.out, "═══ site") {
		t.Errorf("--context did not override the config:\n%s", r.out)
	}
	for bad, say := range map[string]string{
		"contxt: prod\n":            "unknown field",
		"refresh: fast\n":           "refresh",
		"theme: neon\n":             "theme",
		"context: a\ncontexts: [b]": "not both",
	} {
		os.WriteFile(cfg, []byte(bad), 0o600)
		if r := cmd(t, cmdtestWith(t, cfg), "status"); r.code != ExitUsage || !strings.Contains(r.errOut, say) || !strings.Contains(r.errOut, cfg) {
			t.Errorf("%q: exit %d %s", bad, r.code, r.errOut)
		}
	}
}

// cmdtestWith is a fresh Factory of fakes reading the config file cfg.
func cmdtestWith(t *testing.T, cfg string) *cmdtest.Env {
	e := cmdtest.New(t, false)
	e.Env["APIMCTL_CONFIG"] = cfg
	return e
}
