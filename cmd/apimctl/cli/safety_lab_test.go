package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apimctl/apimctl/cluster/registry"
	"github.com/apimctl/apimctl/lab/labtest"
	"github.com/apimctl/apimctl/ops/action"
	"github.com/apimctl/apimctl/ops/patch/patchtest"
)

// TestReadOnlyChangesNothingInTheLab runs every mutating subcommand with --read-only --yes
// against the lab: each exits 4, says why, and the Deployment, the backups, the registry and
// the lab are as they were. Each refusal is in the audit log.
func TestReadOnlyChangesNothingInTheLab(t *testing.T) {
	env := labtest.Require(t)
	labEnv(t, env)
	audit := auditLog(t)
	cs := labtest.Clientset(t, env)
	ctx := context.Background()
	before, err := cs.AppsV1().Deployments(env.Namespace).Get(ctx, "traffic", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	backups := t.TempDir()
	writeTestBackup(t, backups, "20261101T030000Z-apim")
	writeTestBackup(t, backups, "20261102T030000Z-apim")
	dir := t.TempDir()
	p1 := patchtest.Archive(t, dir, "SP1.tgz", map[string]string{"apigateway/conf/x.xml": "x"})
	tag := fmt.Sprintf("ro-%d", time.Now().UnixNano()%1e9)
	target := env.RegistryAddr + "/apim/gateway:" + tag
	faults := filepath.Join(env.StateDir, "faults.json")
	faultsBefore, _ := os.ReadFile(faults)

	for _, args := range [][]string{
		{"rollout", "set-image", "default", "1.0.1", "--force"},
		{"rollout", "pause", "default"},
		{"rollout", "restart", "default"},
		{"backup", "create", "--dir", backups},
		{"backup", "prune", "--keep", "1", "--dir", backups},
		{"backup", "restore", "20261101T030000Z-apim", "--only", "mysql", "--database", "ro_never", "--dir", backups},
		{"patch", "merge", "--base", env.RegistryAddr + "/apim/gateway:1.0.0", "--patch", p1, "--tag", tag},
		{"lab", "fault", "--tag", "9.9.9", "--never-ready", "--state-dir", env.StateDir},
		{"lab", "scale", "--pods", "5", "--state-dir", env.StateDir},
	} {
		code, _, errOut := run(t, false, append(args, "--read-only", "--yes")...)
		if code != ExitDenied || !strings.Contains(errOut, "read-only") {
			t.Errorf("%v: exit %d, want %d\n%s", args, code, ExitDenied, errOut)
		}
	}
	after, err := cs.AppsV1().Deployments(env.Namespace).Get(ctx, "traffic", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if after.Generation != before.Generation || after.Spec.Paused != before.Spec.Paused {
		t.Errorf("the Deployment changed: generation %d → %d, paused %v", before.Generation, after.Generation, after.Spec.Paused)
	}
	if left, _ := os.ReadDir(backups); len(left) != 2 {
		t.Errorf("%d backups left of 2", len(left))
	}
	if _, err := registry.Resolve(ctx, target); err == nil {
		t.Errorf("%s was pushed", target)
	}
	if b, _ := os.ReadFile(faults); string(b) != string(faultsBefore) {
		t.Errorf("the lab's faults changed: %s", b)
	}
	if sc, err := cs.AppsV1().Deployments(env.Namespace).Get(ctx, "scale", metav1.GetOptions{}); err == nil && sc.Spec.Replicas != nil && *sc.Spec.Replicas == 5 {
		t.Error("the lab scaled")
	}
	recs, err := action.ReadLog(audit)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 9 {
		t.Errorf("%d audit records, want 9 refusals", len(recs))
	}
	for _, r := range recs {
		if r.Phase != action.PhaseRefused || r.User == "" {
			t.Errorf("audit record %+v", r)
		}
	}
}

// TestRegistryErrorStopsThePush: a registry that answers 500 to the tag check (a HEAD of the
// target's manifest) stops the push — the tag might exist — and nothing is pushed; --force
// goes past the check (and the push itself then meets the broken registry).
func TestRegistryErrorStopsThePush(t *testing.T) {
	env := labtest.Require(t)
	labEnv(t, env)
	tag := fmt.Sprintf("e500-%d", time.Now().UnixNano()%1e9)
	upstream, _ := url.Parse("http://" + env.RegistryAddr)
	proxy := httputil.NewSingleHostReverseProxy(upstream)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead && strings.HasSuffix(r.URL.Path, "/manifests/"+tag) {
			http.Error(w, `{"errors":[{"code":"UNKNOWN","message":"storage backend down"}]}`, http.StatusInternalServerError)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	reg := strings.TrimPrefix(front.URL, "http://")
	dir := t.TempDir()
	p1 := patchtest.Archive(t, dir, "SP1.tgz", map[string]string{"apigateway/conf/x.xml": "x"})
	args := []string{"patch", "merge", "--base", reg + "/apim/gateway:1.0.0", "--patch", p1, "--tag", tag, "--yes"}
	code, _, errOut := run(t, false, args...)
	if code != ExitError || !strings.Contains(errOut, "could not check whether") || !strings.Contains(errOut, "nothing pushed") {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if _, err := registry.Resolve(context.Background(), env.RegistryAddr+"/apim/gateway:"+tag); err == nil {
		t.Fatal("pushed despite the registry's error")
	}
	if code, _, errOut = run(t, false, append(args, "--force")...); code != ExitError || strings.Contains(errOut, "could not check") ||
		!strings.Contains(errOut, "error: push "+reg) {
		t.Fatalf("--force: exit %d\n%s", code, errOut)
	}
}

// TestUnwritableAuditLogStopsTheAction: when the intent record cannot be written (here the
// audit log's path is a directory), the action does not run — the Deployment is not paused,
// no backup is written — and the command says why.
func TestUnwritableAuditLogStopsTheAction(t *testing.T) {
	env := labtest.Require(t)
	labEnv(t, env)
	auditLogs.Store(t, t.TempDir()) // a directory: it cannot be opened for appending
	t.Cleanup(func() { auditLogs.Delete(t) })
	cs := labtest.Clientset(t, env)
	ctx := context.Background()
	backups := t.TempDir()
	for _, args := range [][]string{
		{"rollout", "pause", "default", "--yes"},
		{"backup", "create", "--only", "mysql", "--dir", backups, "--yes"},
	} {
		code, _, errOut := run(t, false, args...)
		if code != ExitError || !strings.Contains(errOut, "the action was not run") {
			t.Errorf("%v with an unwritable audit log: exit %d, want %d\n%s", args, code, ExitError, errOut)
		}
	}
	if d, err := cs.AppsV1().Deployments(env.Namespace).Get(ctx, "traffic", metav1.GetOptions{}); err != nil || d.Spec.Paused {
		t.Errorf("the Deployment was paused (%v)", err)
	}
	if left, _ := os.ReadDir(backups); len(left) != 0 {
		t.Errorf("a backup was written: %v", left)
	}
}
