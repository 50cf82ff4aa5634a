// Package patchtest writes the patch archives and customisation trees that the tests of
// ops/patch and of what drives it (the console, the command line) merge, and reads back the
// files of a merged layer.
package patchtest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Archive writes a patch archive dir/name (by extension: .tgz or .zip) with the given files
// (path → content; in a .tgz a content "->target" makes a symlink) and returns its path.
func Archive(t testing.TB, dir, name string, files map[string]string) string {
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

// Tree writes a directory dir/name holding the given files (path → content; a
// customisation, say) and returns its path.
func Tree(t testing.TB, dir, name string, files map[string]string) string {
	t.Helper()
	root := filepath.Join(dir, name)
	for n, c := range files {
		p := filepath.Join(root, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TarFiles reads a tar stream (an image layer, say) and returns its regular files, path →
// content; a broken stream fails the test.
func TarFiles(t testing.TB, r io.Reader) map[string]string {
	t.Helper()
	got := map[string]string{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			got[h.Name] = string(b)
		}
	}
}
