package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/apimctl/apimctl/ops/patch"
	"github.com/apimctl/apimctl/ops/patch/patchtest"

	"github.com/apimctl/apimctl/cluster/registry"
	"github.com/apimctl/apimctl/lab/labtest"
)

// TestPatchMergeIntoTheLabRegistry merges two patches and a customisation onto the lab's
// gateway image, pushes it to the lab registry, pulls it back and checks the new layer and
// the provenance; a taken tag, a conflict and a script without --yes push nothing.
func TestPatchMergeIntoTheLabRegistry(t *testing.T) {
	env := labtest.Require(t)
	labEnv(t, env)
	dir := t.TempDir()
	p1 := patchtest.Archive(t, dir, "SP1.tgz", map[string]string{"apigateway/system/lib/core.jar": "core-sp1", "apigateway/conf/jvm.xml": "<jvm/>"})
	p2 := patchtest.Archive(t, dir, "hotfix-42.zip", map[string]string{"apigateway/system/lib/fix42.jar": "fix-42"})
	custom := patchtest.Tree(t, dir, "site", map[string]string{"apigateway/conf/jvm.xml": "<jvm heap='2g'/>"})

	base := env.RegistryAddr + "/apim/gateway:1.0.0"
	tag := fmt.Sprintf("1.0.0-p%d", time.Now().UnixNano()%1e9)
	target := env.RegistryAddr + "/apim/gateway:" + tag
	args := []string{"patch", "merge", "--base", base, "--patch", p1, "--patch", p2, "--custom", custom, "--tag", tag}
	exists := func() bool {
		_, err := registry.Resolve(context.Background(), target)
		return err == nil
	}

	if code, _, errOut := run(t, false, append(args, "--dry-run")...); code != 0 || !strings.Contains(errOut, "3 files, 1 overridden") || exists() {
		t.Fatalf("dry run: exit %d, pushed %v\n%s", code, exists(), errOut)
	}
	if code, _, errOut := run(t, false, args...); code != ExitUsage || !strings.Contains(errOut, "--yes") || exists() {
		t.Fatalf("no --yes without a terminal: exit %d, pushed %v\n%s", code, exists(), errOut)
	}
	conflict := patchtest.Archive(t, dir, "other.tgz", map[string]string{"apigateway/system/lib/core.jar": "core-other"})
	if code, _, errOut := run(t, false, "patch", "merge", "--base", base, "--patch", p1, "--patch", conflict, "--tag", tag, "--yes"); code != ExitUsage ||
		!strings.Contains(errOut, "apigateway/system/lib/core.jar (SP1.tgz, other.tgz)") || exists() {
		t.Fatalf("conflict: exit %d, pushed %v\n%s", code, exists(), errOut)
	}

	if code, out, errOut := run(t, false, append(args, "--yes")...); code != 0 || !strings.Contains(out, "pushed "+target+"@sha256:") {
		t.Fatalf("merge: exit %d\n%s%s", code, out, errOut)
	}
	img, err := registry.Image(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	baseImg, _ := registry.Image(context.Background(), base)
	bl, _ := baseImg.Layers()
	layers, _ := img.Layers()
	if len(layers) != len(bl)+1 {
		t.Fatalf("%d layers on a base of %d", len(layers), len(bl))
	}
	rc, err := layers[len(layers)-1].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	got := patchtest.TarFiles(t, rc)
	rc.Close()
	want := map[string]string{"apigateway/system/lib/core.jar": "core-sp1", "apigateway/system/lib/fix42.jar": "fix-42", "apigateway/conf/jvm.xml": "<jvm heap='2g'/>"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the new layer holds %v, want %v", got, want)
	}
	cf, _ := img.ConfigFile()
	bd, _ := baseImg.Digest()
	sum := func(p string) string { b, _ := os.ReadFile(p); s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	labels := cf.Config.Labels
	if labels[patch.LabelBaseDigest] != bd.String() || labels[patch.LabelPatches] != "SP1.tgz@sha256:"+sum(p1)+",hotfix-42.zip@sha256:"+sum(p2) {
		t.Errorf("provenance labels %v", labels)
	}
	if labels["org.opencontainers.image.version"] != "1.0.0" {
		t.Errorf("the base's labels were lost: %v", labels)
	}

	// The tag is taken now; and the patched image is one a rollout finds.
	if code, _, errOut := run(t, false, append(args, "--yes")...); code != ExitUsage || !strings.Contains(errOut, "already exists") {
		t.Errorf("second push to the same tag: exit %d\n%s", code, errOut)
	}
	// (Only the registry's answer is checked: the dry run may meet other tests' findings.)
	if code, _, errOut := run(t, false, "rollout", "set-image", "default", tag, "--dry-run"); !strings.Contains(errOut, "✓ found") {
		t.Errorf("rollout dry run to the patched tag: exit %d\n%s", code, errOut)
	}
}
