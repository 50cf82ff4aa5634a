package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apimctl/apimctl/backup"
	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdtest"
)

// The event files and packages need no lab: they are files on this machine, so their
// backups and restores run here for real, with the flags, the journal and the exit codes.

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o640); err != nil {
			t.Fatal(err)
		}
	}
}

type createDoc struct {
	Summary struct {
		ID string `json:"id"`
	} `json:"summary"`
	Manifest backup.Manifest `json:"manifest"`
}

func createFiles(t *testing.T, e *cmdtest.Env, args ...string) createDoc {
	t.Helper()
	e.Out.Reset()
	r := cmd(t, e, append([]string{"backup", "create", "--yes", "-o", "json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("create %v: exit %d\n%s", args, r.code, r.errOut)
	}
	var doc createDoc
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		t.Fatalf("%v: %s", err, r.out)
	}
	return doc
}

func TestEventsAndPackagesBackupAndRestore(t *testing.T) {
	loc, events, packages := t.TempDir(), t.TempDir(), t.TempDir()
	writeFiles(t, events, map[string]string{"traffic-1/2026-12-01.log": "event 1\n", "traffic-2/2026-12-01.log": "event 2\n"})
	writeFiles(t, packages, map[string]string{"prod.fed": "federated", "site.env": "env", "README.txt": "not a package"})
	e := cmdtest.New(t, false)
	e.F.Now = func() time.Time { return time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC) }

	// Usage: a part without its directory, a directory that is not there.
	for _, args := range [][]string{{"--only", "events"}, {"--events", filepath.Join(events, "nope")}, {"--only", "events", "--events", events, "--parallel", "-1"},
		{"--only", "bogus"}, {"--consistency", "TWO"}} {
		if r := cmd(t, e, append([]string{"backup", "create", "--location", loc, "--yes"}, args...)...); r.code != ExitUsage {
			t.Errorf("create %v: exit %d\n%s", args, r.code, r.errOut)
		}
	}

	first := createFiles(t, e, "--location", loc, "--only", "events,packages", "--events", events, "--packages", packages)
	if got := len(first.Manifest.PartsOf(backup.KindFiles)); got != 4 {
		t.Fatalf("first backup: %d file parts, want 4 (2 events, 2 packages)", got)
	}
	// Incremental: one event file is new, one changed, one unchanged.
	writeFiles(t, events, map[string]string{"traffic-1/2026-12-02.log": "event 3\n", "traffic-2/2026-12-01.log": "event 2, longer\n"})
	e.F.Now = func() time.Time { return time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC) }
	second := createFiles(t, e, "--location", loc, "--only", "events", "--events", events)
	refs := 0
	for _, p := range second.Manifest.PartsOf(backup.KindFiles) {
		if p.Ref == first.Summary.ID {
			refs++
		}
	}
	if n := len(second.Manifest.PartsOf(backup.KindFiles)); n != 3 || refs != 1 {
		t.Fatalf("second backup: %d event parts, %d referring to the first; want 3 and 1", n, refs)
	}
	// The first holds a file the second refers to: pruning to one keeps both.
	if r := cmd(t, e, "backup", "prune", "--keep", "1", "--location", loc, "--yes"); r.code != 0 || !strings.Contains(r.errOut, "nothing to prune") {
		t.Errorf("prune: exit %d\n%s", r.code, r.errOut)
	}

	// Restored on their own, into new directories.
	restoreTo := t.TempDir()
	args := []string{"backup", "restore", second.Summary.ID, "--location", loc, "--only", "events", "--events", restoreTo}
	if r := cmd(t, e, "backup", "restore", second.Summary.ID, "--location", loc, "--only", "events"); r.code != ExitUsage || !strings.Contains(r.errOut, "--events DIR") {
		t.Errorf("--only events without --events: exit %d\n%s", r.code, r.errOut)
	}
	if r := cmd(t, e, args...); r.code != ExitUsage || !strings.Contains(r.errOut, "--yes") {
		t.Errorf("without --yes: exit %d\n%s", r.code, r.errOut)
	}
	e.Out.Reset()
	r := cmd(t, e, append(args, "--yes", "-o", "json")...)
	var doc struct {
		Plan struct {
			Journal  string `json:"journal"`
			Resuming string `json:"resuming"`
		} `json:"plan"`
		Steps []struct {
			Step    string `json:"step"`
			Skipped bool   `json:"skipped"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(r.out), &doc); r.code != 0 || err != nil || len(doc.Steps) != 1 || doc.Steps[0].Skipped {
		t.Fatalf("restore: exit %d %v\n%s%s", r.code, err, r.out, r.errOut)
	}
	for name, want := range map[string]string{"traffic-1/2026-12-01.log": "event 1\n", "traffic-1/2026-12-02.log": "event 3\n", "traffic-2/2026-12-01.log": "event 2, longer\n"} {
		if b, err := os.ReadFile(filepath.Join(restoreTo, filepath.FromSlash(name))); err != nil || string(b) != want {
			t.Errorf("restored %s: %q %v", name, b, err)
		}
	}
	if !strings.HasPrefix(doc.Plan.Journal, e.Env["HOME"]) {
		t.Errorf("journal %s is not in the state directory", doc.Plan.Journal)
	}

	// Finished: run again, it restores again; --resume has nothing to resume.
	os.Remove(filepath.Join(restoreTo, "traffic-1", "2026-12-01.log"))
	if r := cmd(t, e, append(args, "--yes")...); r.code != 0 || strings.Contains(r.out, "earlier run") {
		t.Errorf("a finished restore run again: exit %d\n%s%s", r.code, r.out, r.errOut)
	}
	if _, err := os.Stat(filepath.Join(restoreTo, "traffic-1", "2026-12-01.log")); err != nil {
		t.Error("a finished restore run again did not restore again")
	}
	if r := cmd(t, e, append(args, "--yes", "--resume")...); r.code != ExitUsage || !strings.Contains(r.errOut, "nothing to resume") {
		t.Errorf("--resume of a finished restore: exit %d\n%s", r.code, r.errOut)
	}

	// Interrupted (the journal says running, the step done): resumed, the step skipped —
	// unless --from-start. Another target directory is another restore.
	j, err := backup.OpenJournal(doc.Plan.Journal)
	if err != nil {
		t.Fatal(err)
	}
	j.Set("restore/state", "running")
	j.Set("step/events → "+restoreTo, "done")
	e.Out.Reset()
	if r := cmd(t, e, append(args, "--yes", "--resume")...); r.code != 0 || !strings.Contains(r.out, "done by an earlier run") || !strings.Contains(r.errOut, "resumes the interrupted run") {
		t.Errorf("an interrupted restore: exit %d\n%s%s", r.code, r.out, r.errOut)
	}
	j.Set("restore/state", "running")
	e.Out.Reset()
	if r := cmd(t, e, append(args, "--yes", "--from-start")...); r.code != 0 || strings.Contains(r.out, "earlier run") {
		t.Errorf("--from-start: exit %d\n%s%s", r.code, r.out, r.errOut)
	}
	if r := cmd(t, e, append(args, "--resume", "--from-start")...); r.code != ExitUsage {
		t.Errorf("--resume --from-start: exit %d", r.code)
	}

	// Packages: only the package files, into their own directory.
	pkgTo := t.TempDir()
	if r := cmd(t, e, "backup", "restore", first.Summary.ID, "--location", loc, "--only", "packages", "--packages", pkgTo, "--yes"); r.code != 0 {
		t.Fatalf("packages: exit %d\n%s", r.code, r.errOut)
	}
	if entries, _ := os.ReadDir(pkgTo); len(entries) != 2 {
		t.Errorf("restored packages: %v", entries)
	}
	// The second backup has no packages: asking for them is bad input.
	if r := cmd(t, e, "backup", "restore", second.Summary.ID, "--location", loc, "--only", "packages", "--packages", pkgTo, "--yes"); r.code != ExitUsage || !strings.Contains(r.errOut, "holds no packages") {
		t.Errorf("packages of a backup without: exit %d\n%s", r.code, r.errOut)
	}
	recs := e.Audit.Records()
	last := recs[len(recs)-1]
	if last.Action != "backup.restore" || last.Phase != "outcome" || last.Details["packages"] != pkgTo || last.Location != loc {
		t.Errorf("restore record %+v", last)
	}
}

// TestUncompressedBackup: --no-compress stores every part as it is (no .zst), and such a
// backup verifies and restores as any other.
func TestUncompressedBackup(t *testing.T) {
	loc, events := t.TempDir(), t.TempDir()
	writeFiles(t, events, map[string]string{"a.log": strings.Repeat("event\n", 1000)})
	e := cmdtest.New(t, false)
	doc := createFiles(t, e, "--location", loc, "--only", "events", "--events", events, "--no-compress")
	parts := doc.Manifest.PartsOf(backup.KindFiles)
	if len(parts) != 1 || parts[0].Compression != "" || strings.HasSuffix(parts[0].Path, ".zst") || parts[0].Bytes != 6000 {
		t.Fatalf("parts %+v", parts)
	}
	if r := cmd(t, e, "backup", "verify", doc.Summary.ID, "--location", loc); r.code != 0 {
		t.Errorf("verify: exit %d\n%s", r.code, r.out)
	}
	to := t.TempDir()
	if r := cmd(t, e, "backup", "restore", doc.Summary.ID, "--location", loc, "--only", "events", "--events", to, "--yes"); r.code != 0 {
		t.Fatalf("restore: exit %d\n%s", r.code, r.errOut)
	}
	if b, _ := os.ReadFile(filepath.Join(to, "a.log")); len(b) != 6000 {
		t.Errorf("restored %d bytes", len(b))
	}
}
