package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdtest"
	"github.com/apimctl/apimctl/ops/dr"
)

// The drill's and the canary's flags and refusals; the drill itself runs against the lab
// (lab/drills TestDRDrill).
func TestDrillRefusals(t *testing.T) {
	e := cmdtest.New(t, false)
	loc := t.TempDir()
	keys := filepath.Join(t.TempDir(), "keys.json")
	e.Env["APIMCTL_DRILL_KEYS"] = keys
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"dr", "bogus"}, ExitUsage, "unknown command"},
		{[]string{"dr", "drill", "--registry", "nope"}, ExitUsage, "FROM=TO"},
		{[]string{"dr", "drill", "--timeout", "0s"}, ExitUsage, "--timeout"},
		{[]string{"dr", "drill", "--location", loc, "--yes"}, ExitUsage, "make the canary first"},
		{[]string{"dr", "canary", "--yes"}, ExitUsage, "--api NAME and --path /PATH"},
		{[]string{"dr", "canary", "--api", "orders", "--path", "orders"}, ExitUsage, "--api NAME and --path /PATH"},
		{[]string{"--read-only", "dr", "canary", "--api", "orders", "--path", "/orders/1k", "--yes"}, ExitDenied, "read-only"},
	} {
		if r := cmd(t, e, c.args...); r.code != c.code || !strings.Contains(r.errOut, c.says) {
			t.Errorf("%v: exit %d, want %d with %q\n%s", c.args, r.code, c.code, c.says, r.errOut)
		}
	}
	k := &dr.SmokeKeys{Created: time.Now(), Path: "/orders/1k", Valid: "v", Revoked: "r"}
	if err := dr.WriteSmokeKeys(keys, k); err != nil {
		t.Fatal(err)
	}
	if r := cmd(t, e, "dr", "drill", "--location", loc, "--yes"); r.code != ExitUsage || !strings.Contains(r.errOut, "no complete backup in "+loc) {
		t.Errorf("no backup: exit %d\n%s", r.code, r.errOut)
	}
	writeBackup(t, loc, "20261101T030000Z-apim")
	if r := cmd(t, e, "dr", "drill", "--location", loc, "--namespace", "apim-dr", "--only", "mysql"); r.code != ExitUsage {
		t.Errorf("--only is not a drill's flag: exit %d", r.code)
	}
	if r := cmd(t, e, "dr", "drill", "--location", loc, "--namespace", "apim-dr", "--yes"); r.code != ExitUsage || !strings.Contains(r.errOut, "was made before the canary's keys") {
		t.Errorf("a backup older than the canary: exit %d\n%s", r.code, r.errOut)
	}
	os.Chmod(keys, 0o644)
	if r := cmd(t, e, "dr", "drill", "--location", loc, "--yes"); r.code != ExitUsage || !strings.Contains(r.errOut, "chmod 600") {
		t.Errorf("keys others may read: exit %d\n%s", r.code, r.errOut)
	}
	if len(e.Audit.Records()) != 1 { // the read-only canary's refusal
		t.Errorf("audit %+v", e.Audit.Records())
	}
}
