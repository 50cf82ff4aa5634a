package ops

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apimctl/apimctl/backup"
	"github.com/apimctl/apimctl/ops/action"
	"github.com/apimctl/apimctl/ops/patch/patchtest"
)

// The console's proposals that need no cluster — the backups of a directory, a merge that
// stops at its conflicts — with the real runner and an in-memory audit log. Those that change
// the cluster and the data stores are driven against the lab (tui/lab_*_test.go).

func localConsole(t *testing.T, readOnly bool) (*Console, *action.MemorySink, string) {
	t.Helper()
	dir := t.TempDir()
	sink := &action.MemorySink{}
	env := map[string]string{"APIMCTL_BACKUP_DIR": dir}
	c := NewConsole(nil, &action.Runner{ReadOnly: readOnly, Audit: sink, Via: "console"}, func(k string) string { return env[k] })
	return c, sink, dir
}

func writeBackups(t *testing.T, dir string, ages ...time.Duration) []string {
	t.Helper()
	var ids []string
	for _, age := range ages {
		at := time.Date(2026, 3, 14, 3, 0, 0, 0, time.UTC).Add(-age)
		ctx := context.Background()
		w, err := backup.Create(ctx, backup.Dir(dir), backup.NewID(at, "apim"), backup.Source{Namespace: "apim"}, at)
		if err != nil {
			t.Fatal(err)
		}
		pw, _ := w.Part(ctx, backup.Part{Kind: "test", Name: "data", Path: "data.txt"})
		pw.Write([]byte("rows\n"))
		pw.Close()
		if _, err := w.Finish(ctx, at); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, filepath.Base(w.Dir()))
	}
	return ids
}

func TestConsoleBackupsVerifyAndPrune(t *testing.T) {
	c, sink, dir := localConsole(t, false)
	ids := writeBackups(t, dir, time.Hour, 25*time.Hour, 49*time.Hour)
	ctx := context.Background()
	list, err := c.Backups(ctx)
	if err != nil || list.Dir != dir || len(list.List) != 3 || list.List[0].ID != ids[0] || !list.List[0].Complete || list.List[0].Files != 1 {
		t.Fatalf("backups %+v %v", list, err)
	}

	// verify: a read — no question, no record; a changed file is named.
	var lines []string
	p, err := c.ProposeVerify(ctx, ids[0], func(l string) { lines = append(lines, l) })
	if err != nil || !p.NoConfirm || p.Refusal != nil {
		t.Fatalf("verify proposal %+v %v", p, err)
	}
	if out := p.Run(ctx); !out.OK || !strings.Contains(out.Line, "1 files match the manifest") || len(lines) != 2 {
		t.Fatalf("verify %+v, progress %q", out, lines)
	}
	os.WriteFile(filepath.Join(dir, ids[0], "data.txt"), []byte("ROWS\n"), 0o600)
	p, _ = c.ProposeVerify(ctx, ids[0], func(string) {})
	if out := p.Run(ctx); out.OK || !strings.HasPrefix(out.Line, "problems:") || out.Details[0] != "data.txt: checksum differs from the manifest" {
		t.Fatalf("verify of a changed file %+v", out)
	}
	for _, bad := range []string{"", "..", "../x", "a/b", `a\b`} {
		if _, err := c.ProposeVerify(ctx, bad, func(string) {}); err == nil {
			t.Errorf("verify of %q: no error", bad)
		}
	}
	if n := len(sink.Records()); n != 0 {
		t.Fatalf("verify recorded %d records", n)
	}

	// prune: the plan names what goes; nothing before Run; intent and outcome after.
	p, err = c.ProposePrune(ctx, 1, func(string) {})
	if err != nil || p.Refusal != nil || len(p.Plan) != 2 || !strings.Contains(p.Plan[0].Value, ids[1]) || !strings.Contains(p.Question, "keeping the newest 1") {
		t.Fatalf("prune proposal %+v %v", p, err)
	}
	if left, _ := backup.List(dir); len(left) != 3 {
		t.Fatal("prune deleted before Run")
	}
	if out := p.Run(ctx); !out.OK {
		t.Fatalf("prune %+v", out)
	}
	if left, _ := backup.List(dir); len(left) != 1 || left[0].ID != ids[0] {
		t.Fatalf("after prune %+v", left)
	}
	var phases []string
	for _, r := range sink.Records() {
		phases = append(phases, r.Action+":"+r.Phase+":"+r.Outcome+":"+r.Via)
	}
	if got := strings.Join(phases, " "); got != "backup.prune:intent::console backup.prune:outcome:ok:console" {
		t.Fatalf("audit %s", got)
	}
	if _, err := c.ProposePrune(ctx, 1, func(string) {}); err == nil || !strings.Contains(err.Error(), "nothing to prune") {
		t.Errorf("prune with nothing to delete: %v", err)
	}
	if _, err := c.ProposePrune(ctx, 0, func(string) {}); err == nil {
		t.Error("prune keeping 0: no error")
	}
}

func TestConsoleRefusesInReadOnlyMode(t *testing.T) {
	c, sink, dir := localConsole(t, true)
	writeBackups(t, dir, time.Hour, 25*time.Hour)
	ctx := context.Background()
	p, err := c.ProposePrune(ctx, 1, func(string) {})
	if err != nil || p.Refusal == nil || action.KindOf(p.Refusal) != action.KindDenied || len(p.Plan) != 1 {
		t.Fatalf("read-only prune %+v %v", p, err)
	}
	if out := p.Run(ctx); out.OK || !strings.Contains(out.Line, "not run: read-only mode") {
		t.Fatalf("a refused prune ran: %+v", out)
	}
	if left, _ := backup.List(dir); len(left) != 2 {
		t.Fatal("a read-only prune deleted a backup")
	}
	recs := sink.Records()
	if len(recs) != 1 || recs[0].Phase != action.PhaseRefused {
		t.Fatalf("audit %+v", recs)
	}
	// verify is a read: allowed.
	list, _ := c.Backups(ctx)
	p, err = c.ProposeVerify(ctx, list.List[0].ID, func(string) {})
	if err != nil || p.Refusal != nil || !p.Run(ctx).OK {
		t.Fatalf("read-only verify %+v %v", p, err)
	}
}

func TestConsolePatchStopsAtConflictsAndBadInput(t *testing.T) {
	c, sink, _ := localConsole(t, false)
	dir := t.TempDir()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where the merge directories go: none may be left
	a := patchtest.Archive(t, dir, "SP1.tgz", map[string]string{"apigateway/lib/core.jar": "a"})
	b := patchtest.Archive(t, dir, "other.tgz", map[string]string{"apigateway/lib/core.jar": "b"})
	ctx := context.Background()
	p, err := c.ProposePatch(ctx, PatchRequest{Base: "127.0.0.1:1/apim/gateway:1.0", Image: "1.0-p", Patches: []string{a, b}}, func(string) {})
	if err != nil || p.Refusal == nil || !strings.Contains(p.Refusal.Error(), "apigateway/lib/core.jar (SP1.tgz, other.tgz)") {
		t.Fatalf("conflicting merge %+v %v", p, err)
	}
	var conflict bool
	for _, f := range p.Plan {
		conflict = conflict || (f.Key == "conflicts" && f.Mark == action.MarkBad)
	}
	if !conflict {
		t.Fatalf("the plan does not show the conflict: %+v", p.Plan)
	}
	for _, req := range []PatchRequest{
		{Base: "127.0.0.1:1/apim/gateway:1.0", Image: "1.0", Patches: []string{a}},                 // the base itself
		{Base: "", Image: "x", Patches: []string{a}},                                               // no base
		{Base: "127.0.0.1:1/apim/gateway:1.0", Image: "bad tag!", Patches: []string{a}},            // bad tag
		{Base: "127.0.0.1:1/apim/gateway:1.0", Image: "1.1", Patches: []string{dir + "/none.tgz"}}, // no archive
	} {
		if _, err := c.ProposePatch(ctx, req, func(string) {}); err == nil {
			t.Errorf("%+v: no error", req)
		}
	}
	if n := len(sink.Records()); n != 0 {
		t.Fatalf("refused merges recorded %d records (the runner was never reached)", n)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "apimctl-merge-*")); len(left) > 0 {
		t.Errorf("merge directories left behind: %v", left)
	}
}
