package ops

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// archive writes a patch archive (by extension: .tgz or .zip) with the given files.
func archive(t *testing.T, dir, name string, files map[string]string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	var buf bytes.Buffer
	if strings.HasSuffix(name, ".zip") {
		zw := zip.NewWriter(&buf)
		for n, c := range files {
			w, err := zw.Create(n)
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte(c))
		}
		zw.Close()
	} else {
		gz := gzip.NewWriter(&buf)
		tw := tar.NewWriter(gz)
		for n, c := range files {
			typ := byte(tar.TypeReg)
			if strings.HasPrefix(c, "->") {
				typ = tar.TypeSymlink
			}
			tw.WriteHeader(&tar.Header{Name: n, Typeflag: typ, Mode: 0o644, Size: int64(len(c)) * int64(map[bool]int{true: 1}[typ == tar.TypeReg]), Linkname: strings.TrimPrefix(c, "->")})
			if typ == tar.TypeReg {
				tw.Write([]byte(c))
			}
		}
		tw.Close()
		gz.Close()
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMergePatches(t *testing.T) {
	dir := t.TempDir()
	a := archive(t, dir, "p1.tgz", map[string]string{"apigateway/system/lib/a.jar": "A1", "apigateway/conf/x.xml": "X"})
	b := archive(t, dir, "p2.zip", map[string]string{"apigateway/system/lib/b.jar": "B", "apigateway/conf/x.xml": "X"}) // same x.xml: fine
	custom := filepath.Join(dir, "custom")
	os.MkdirAll(filepath.Join(custom, "apigateway", "conf"), 0o755)
	os.WriteFile(filepath.Join(custom, "apigateway", "conf", "x.xml"), []byte("X-site"), 0o644)
	m, err := MergePatches([]string{a, b}, custom, filepath.Join(dir, "merge"))
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
	c := archive(t, dir, "p3.tgz", map[string]string{"apigateway/system/lib/a.jar": "A2"})
	m, err = MergePatches([]string{a, c}, "", "")
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
		p := archive(t, dir, name, files)
		if _, err := MergePatches([]string{p}, "", t.TempDir()); err == nil {
			t.Errorf("%s was accepted", name)
		}
	}
	os.WriteFile(filepath.Join(dir, "p.rar"), []byte("x"), 0o644)
	if _, err := MergePatches([]string{filepath.Join(dir, "p.rar")}, "", t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a .tar") {
		t.Errorf("unknown archive type: %v", err)
	}
	if _, err := MergePatches(nil, "", ""); err == nil {
		t.Error("an empty merge was accepted")
	}
}
