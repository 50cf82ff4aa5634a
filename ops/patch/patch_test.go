package patch

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apimctl/apimctl/ops/patch/patchtest"
)

func TestMergePatches(t *testing.T) {
	dir := t.TempDir()
	a := patchtest.Archive(t, dir, "p1.tgz", map[string]string{"apigateway/system/lib/a.jar": "A1", "apigateway/conf/x.xml": "X"})
	b := patchtest.Archive(t, dir, "p2.zip", map[string]string{"apigateway/system/lib/b.jar": "B", "apigateway/conf/x.xml": "X"}) // same x.xml: fine
	custom := patchtest.Tree(t, dir, "custom", map[string]string{"apigateway/conf/x.xml": "X-site"})
	m, err := MergePatches([]string{a, b}, custom, filepath.Join(dir, "merge"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Files != 3 || len(m.Conflicts) != 0 || len(m.Overrides) != 1 || m.Overrides[0] != "apigateway/conf/x.xml" {
		t.Fatalf("merge: %+v", m)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "merge", "apigateway", "conf", "x.xml")); string(got) != "X-site" {
		t.Errorf("customisation did not override: %q", got)
	}
	if len(m.Patches) != 2 || m.Patches[0].Files != 2 || len(m.Patches[0].SHA256) != 64 {
		t.Errorf("sources %+v", m.Patches)
	}
	// The layer is reproducible.
	l1, _ := m.layer()
	l2, _ := m.layer()
	d1, _ := l1.Digest()
	d2, _ := l2.Digest()
	if d1 != d2 {
		t.Error("the same merge gave two layer digests")
	}

	// Two patches, one path, different contents: a conflict naming both.
	c := patchtest.Archive(t, dir, "p3.tgz", map[string]string{"apigateway/system/lib/a.jar": "A2"})
	m, err = MergePatches([]string{a, c}, "", "", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(m.Dir)
	if len(m.Conflicts) != 1 || m.Conflicts[0].Path != "apigateway/system/lib/a.jar" || strings.Join(m.Conflicts[0].Patches, ",") != "p1.tgz,p3.tgz" {
		t.Errorf("conflicts %+v", m.Conflicts)
	}

	for name, files := range map[string]map[string]string{
		"escape.tgz":  {"apigateway/../../etc/passwd": "x"},
		"outside.zip": {"other/file": "x"},
		"abs.tgz":     {"/apigateway/x": "x"},
		"link.tgz":    {"apigateway/l": "->/etc/passwd"},
	} {
		p := patchtest.Archive(t, dir, name, files)
		if _, err := MergePatches([]string{p}, "", t.TempDir(), Limits{}); err == nil {
			t.Errorf("%s was accepted", name)
		}
	}
	os.WriteFile(filepath.Join(dir, "p.rar"), []byte("x"), 0o644)
	if _, err := MergePatches([]string{filepath.Join(dir, "p.rar")}, "", t.TempDir(), Limits{}); err == nil || !strings.Contains(err.Error(), "not a .tar") {
		t.Errorf("unknown archive type: %v", err)
	}
	if _, err := MergePatches(nil, "", "", Limits{}); err == nil {
		t.Error("an empty merge was accepted")
	}
}

// A customisation settles a conflict between patches: the merge goes on with the site's file.
func TestCustomResolvesConflict(t *testing.T) {
	dir := t.TempDir()
	a := patchtest.Archive(t, dir, "p1.tgz", map[string]string{"apigateway/conf/x.xml": "one"})
	b := patchtest.Archive(t, dir, "p2.tgz", map[string]string{"apigateway/conf/x.xml": "two"})
	custom := patchtest.Tree(t, dir, "custom", map[string]string{"apigateway/conf/x.xml": "site"})
	m, err := MergePatches([]string{a, b}, custom, filepath.Join(dir, "merge"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Conflicts) != 0 || len(m.Resolved) != 1 || m.Resolved[0] != "apigateway/conf/x.xml" {
		t.Fatalf("conflicts %v, resolved %v", m.Conflicts, m.Resolved)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "merge", "apigateway", "conf", "x.xml")); string(got) != "site" {
		t.Errorf("merged x.xml = %q", got)
	}
}

// Archives are bounded: a file, the total and the entry count each stop the merge with an
// error naming the limit, and nothing is left in the merge directory.
func TestMergeLimits(t *testing.T) {
	dir := t.TempDir()
	big := patchtest.Archive(t, dir, "big.tgz", map[string]string{"apigateway/a": strings.Repeat("x", 2000), "apigateway/b": strings.Repeat("y", 2000)})
	many := patchtest.Archive(t, dir, "many.zip", map[string]string{"apigateway/1": "1", "apigateway/2": "2", "apigateway/3": "3"})
	for _, c := range []struct {
		file string
		lim  Limits
		want string
	}{
		{big, Limits{MaxTotalBytes: 1 << 20, MaxFileBytes: 1000, MaxEntries: 10}, "--max-file-size"},
		{big, Limits{MaxTotalBytes: 3000, MaxFileBytes: 1 << 20, MaxEntries: 10}, "--max-size"},
		{many, Limits{MaxTotalBytes: 1 << 20, MaxFileBytes: 1 << 20, MaxEntries: 2}, "--max-entries"},
	} {
		out := filepath.Join(t.TempDir(), "merge")
		_, err := MergePatches([]string{c.file}, "", out, c.lim)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s with %+v: %v, want an error naming %s", filepath.Base(c.file), c.lim, err, c.want)
		}
		left, _ := os.ReadDir(out)
		if len(left) != 0 {
			t.Errorf("%s left %d entries in the merge directory", filepath.Base(c.file), len(left))
		}
	}
	// A zip entry that claims a small size but inflates past the limit is cut off.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("apigateway/bomb")
	w.Write(bytes.Repeat([]byte{0}, 1<<20))
	zw.Close()
	bomb := filepath.Join(dir, "bomb.zip")
	os.WriteFile(bomb, buf.Bytes(), 0o644)
	if _, err := MergePatches([]string{bomb}, "", t.TempDir(), Limits{MaxTotalBytes: 1 << 30, MaxFileBytes: 64 << 10, MaxEntries: 10}); err == nil || !strings.Contains(err.Error(), "--max-file-size") {
		t.Errorf("zip bomb: %v", err)
	}
}
