package cli

import (
	"crypto/rand"
	"github.com/apimctl/apimctl/lab/labtest"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdtest"
)

// Bad input to backup and restore: each gets a clear error, the exit code the README gives,
// and changes nothing (or says what it changed).

func TestDamagedBackupsAreRefused(t *testing.T) {
	const id = "20261101T030000Z-apim"
	part := filepath.Join("mysql", "metrics.sql")
	for _, c := range []struct {
		name       string
		damage     func(dir string)
		verify     int
		verifySays string
		restore    string
	}{
		{"newer format", func(dir string) {
			m := filepath.Join(dir, "manifest.json")
			b, _ := os.ReadFile(m)
			os.WriteFile(m, []byte(strings.Replace(string(b), `"format": 2`, `"format": 99`, 1)), 0o600)
		}, ExitUsage, "format 99, this apimctl reads formats up to 2", "use a newer apimctl"},
		{"corrupt part", func(dir string) {
			p := filepath.Join(dir, part)
			b, _ := os.ReadFile(p)
			b[3] ^= 0x40
			os.WriteFile(p, b, 0o600)
		}, ExitDegraded, part + ": checksum differs", "fails verification"},
		{"truncated part", func(dir string) {
			p := filepath.Join(dir, part)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/2], 0o600)
		}, ExitDegraded, part + ": size", "fails verification"},
		{"missing part", func(dir string) { os.Remove(filepath.Join(dir, part)) }, ExitDegraded, part + ": missing", "fails verification"},
		{"damaged manifest", func(dir string) {
			os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(`{"format": 2, "parts": [`), 0o600)
		},
			ExitUsage, "the manifest is damaged", "the manifest is damaged"},
		{"no manifest", func(dir string) { os.Remove(filepath.Join(dir, "manifest.json")) }, ExitUsage, "not a backup", "not a backup"},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			writeBackup(t, root, id)
			c.damage(filepath.Join(root, id))
			e := cmdtest.New(t, false)
			e.Env["METRICS_DB_URL"] = "jdbc:mysql://127.0.0.1:1/metrics"
			r := cmd(t, e, "backup", "verify", id, "--location", root)
			if r.code != c.verify || !strings.Contains(r.out+r.errOut, c.verifySays) {
				t.Errorf("verify: exit %d, want %d with %q\n%s%s", r.code, c.verify, c.verifySays, r.out, r.errOut)
			}
			r = cmd(t, e, "backup", "restore", id, "--location", root, "--only", "mysql", "--yes")
			if r.code != ExitUsage || !strings.Contains(r.errOut, c.restore) {
				t.Errorf("restore: exit %d, want 2 with %q\n%s", r.code, c.restore, r.errOut)
			}
			if len(e.Audit.Records()) != 0 {
				t.Errorf("a refused restore left audit records (it never became an action): %+v", e.Audit.Records())
			}
		})
	}
}

func TestBadLocations(t *testing.T) {
	e := cmdtest.New(t, false)
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"backup", "list", "--location", "ftp://host/x"}, ExitUsage, "use a directory, file:///path or azure://container/prefix"},
		{[]string{"backup", "list", "--location", "azure://Bad_Container/x"}, ExitUsage, "is not an Azure container name"},
		{[]string{"backup", "list", "--location", "azure://backups/prod"}, ExitUsage, "no Azure credentials"},
		{[]string{"backup", "restore", "../x", "--location", "azure://backups/prod", "--yes"}, ExitUsage, "not a backup"},
		{[]string{"backup", "verify", "nope", "--location", t.TempDir()}, ExitUsage, "not a backup"},
	} {
		if r := cmd(t, e, c.args...); r.code != c.code || !strings.Contains(r.errOut, c.says) {
			t.Errorf("%v: exit %d, want %d with %q\n%s", c.args, r.code, c.code, c.says, r.errOut)
		}
	}
}

// TestAzureUnreachableOrFailing: an Azure endpoint that does not answer, or answers 500,
// ends list, create and restore with exit 1 naming the endpoint; nothing is written
// anywhere else. (Wrong credentials against Azurite: TestBackupToAzurite.)
func TestAzureUnreachableOrFailing(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + closed.Addr().String() + "/acct"
	closed.Close()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer failing.Close()
	for _, c := range []struct{ endpoint, says string }{{down, "cannot reach " + down}, {failing.URL + "/acct", "answered 500"}} {
		e := cmdtest.New(t, false)
		e.Env["AZURE_STORAGE_ACCOUNT"], e.Env["AZURE_STORAGE_KEY"], e.Env["AZURE_STORAGE_BLOB_ENDPOINT"] = "acct", "a2V5", c.endpoint
		events := t.TempDir()
		writeFiles(t, events, map[string]string{"a.log": "x"})
		for _, args := range [][]string{
			{"backup", "list", "--location", "azure://backups/prod"},
			{"backup", "create", "--location", "azure://backups/prod", "--only", "events", "--events", events, "--yes"},
			{"backup", "restore", "20261101T030000Z-apim", "--location", "azure://backups/prod", "--only", "events", "--events", t.TempDir(), "--yes"},
		} {
			r := cmd(t, e, args...)
			if r.code != ExitError || !strings.Contains(r.errOut, c.says) || strings.Contains(r.errOut, "a2V5") {
				t.Errorf("%s %v: exit %d, want 1 with %q\n%s", c.endpoint, args[:2], r.code, c.says, r.errOut)
			}
		}
	}
}

// TestFullDisk backs up into, and restores onto, a 1 MiB tmpfs: the backup fails naming the
// cause and leaves nothing behind; the restore fails saying what is not restored. It needs
// root to mount (the project's machines run as root).
func TestFullDisk(t *testing.T) {
	if os.Getuid() != 0 {
		labtest.Missing(t, "TestFullDisk needs root to mount a tmpfs")
	}
	small := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "apimctl-test", small).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", small).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", small, err, out)
		}
	})
	events := t.TempDir()
	big := make([]byte, 3<<20) // random: zstd cannot make it fit
	rand.Read(big)
	os.WriteFile(filepath.Join(events, "big.log"), big, 0o600)
	writeFiles(t, events, map[string]string{"small.log": "x"})

	e := cmdtest.New(t, false)
	r := cmd(t, e, "backup", "create", "--location", small, "--only", "events", "--events", events, "--yes")
	if r.code != ExitError || !strings.Contains(r.errOut, "no space left on device") || !strings.Contains(r.errOut, "nothing kept") {
		t.Fatalf("backup onto a full disk: exit %d\n%s", r.code, r.errOut)
	}
	if left, _ := os.ReadDir(small); len(left) != 0 {
		t.Errorf("the failed backup left %v", left)
	}

	// A backup elsewhere, restored onto the full disk.
	loc := t.TempDir()
	doc := createFiles(t, e, "--location", loc, "--only", "events", "--events", events)
	r = cmd(t, e, "backup", "restore", doc.Summary.ID, "--location", loc, "--only", "events", "--events", small, "--yes")
	if r.code != ExitError || !strings.Contains(r.errOut, "no space left on device") || !strings.Contains(r.errOut, "not done: events → "+small+" (stopped midway)") {
		t.Fatalf("restore onto a full disk: exit %d\n%s", r.code, r.errOut)
	}
	left, _ := os.ReadDir(small)
	for _, f := range left {
		if strings.Contains(f.Name(), ".restore-") {
			t.Errorf("a temporary file is left: %s", f.Name())
		}
	}
}
