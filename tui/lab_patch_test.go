package tui

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apimctl/apimctl/cluster/registry"
	"github.com/apimctl/apimctl/lab/labtest"
	"github.com/apimctl/apimctl/ops/patch/patchtest"
)

// TestLabPatchMergeFromTheConsole merges two patches that conflict onto the lab's gateway
// image from the console (M): without customisations the plan names the conflict and the
// push is refused (nothing pushed, nothing recorded); with a customisation of the path the
// plan says it settled it, y pushes, and the image in the lab registry carries the
// customisation's file; the audit log has the intent and the outcome.
func TestLabPatchMergeFromTheConsole(t *testing.T) {
	env := labtest.Require(t)
	dir := t.TempDir()
	p1 := patchtest.Archive(t, dir, "SP1.tgz", map[string]string{"apigateway/system/lib/core.jar": "core-sp1", "apigateway/conf/jvm.xml": "<jvm/>"})
	p2 := patchtest.Archive(t, dir, "other.tgz", map[string]string{"apigateway/system/lib/core.jar": "core-other"})
	custom := patchtest.Tree(t, dir, "site", map[string]string{"apigateway/system/lib/core.jar": "core-site"})
	base := env.RegistryAddr + "/apim/gateway:1.0.0"
	tag := fmt.Sprintf("1.0.0-tui%d", time.Now().UnixNano()%1e9)
	target := env.RegistryAddr + "/apim/gateway:" + tag
	exists := func() bool { _, err := registry.Resolve(context.Background(), target); return err == nil }

	c := startLabConsole(t, env, labTargets(env, env.Namespace), nil, false)
	form := func(customDir string) {
		c.keys("M")
		c.waitFor(10*time.Second, "Patch merge", "base image")
		c.keys("ctrl+u", "text:"+base, "enter", "text:"+p1+", "+p2, "enter", "text:"+customDir, "enter", "text:"+tag, "enter", "enter")
	}

	// Without customisations: the conflict is in the plan, the push refused.
	form("")
	c.waitFor(time.Minute, "conflicts   ✗ apigateway/system/lib/core.jar written differently by SP1.tgz, other.tgz", "refused: 1 conflicts")
	c.keys("y", "n")
	if exists() || len(c.records("patch.merge")) != 0 {
		t.Fatalf("a refused merge pushed (%v) or recorded %+v", exists(), c.records("patch.merge"))
	}

	// With the site's core.jar: settled, pushed.
	form(custom)
	c.waitFor(time.Minute, "Patch merge · "+target, "1 conflicts settled by the customisations: apigateway/system/lib/core.jar",
		target+" is free", "Push "+target+"?")
	if exists() {
		t.Fatal("pushed before y")
	}
	c.keys("y")
	c.waitFor(time.Minute, "pushed "+target+"@sha256:")
	if !exists() {
		t.Fatal("the console's push left no image in the registry")
	}
	rec := c.requireRan("patch.merge")
	if rec.Image != target || rec.Details["pushed"] == "" {
		t.Errorf("patch record %+v", rec)
	}
	img, err := registry.Image(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	layers, _ := img.Layers()
	rc, err := layers[len(layers)-1].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got := patchtest.TarFiles(t, rc)
	if got["apigateway/system/lib/core.jar"] != "core-site" || got["apigateway/conf/jvm.xml"] != "<jvm/>" {
		t.Errorf("the pushed layer holds %v", got)
	}
}
