// Package backup writes and checks backups of an API-management deployment: Cassandra
// keyspaces (schema and data), the MySQL metrics database, the namespace's Kubernetes
// resources (Secrets encrypted with age) and the images the workloads run. A backup is a
// directory with one file per part and a manifest that lists every part with its size, its
// SHA-256 and how many items (rows, objects) it holds; the manifest is written last, so a
// directory without one is an unfinished backup.
package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// FormatVersion is the manifest format this package writes.
const FormatVersion = 1

// ManifestFile is the manifest's name inside a backup directory.
const ManifestFile = "manifest.json"

// Manifest describes one backup.
type Manifest struct {
	Format   int       `json:"format"`
	ID       string    `json:"id"`
	Created  time.Time `json:"created"`
	Finished time.Time `json:"finished"`
	Source   Source    `json:"source"`
	Parts    []Part    `json:"parts"`
	Images   []Image   `json:"images,omitempty"`
	// Notes are what the backup does not hold and why (e.g. Secrets without a recipient).
	Notes []string `json:"notes,omitempty"`
}

// Source is what was backed up.
type Source struct {
	Context   string `json:"context"`
	Namespace string `json:"namespace"`
	Tool      string `json:"tool"`
}

// Part is one file of a backup.
type Part struct {
	Kind   string `json:"kind"` // cassandra-schema, cassandra-table, mysql, kube, kube-secrets
	Name   string `json:"name"` // keyspace.table, database, …
	Path   string `json:"path"` // relative to the backup directory
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
	Items  int64  `json:"items"` // rows or objects
}

// Image is an image a workload runs, with its digest when the registry could tell.
type Image struct {
	Workload string `json:"workload"`
	Image    string `json:"image"`
	Digest   string `json:"digest,omitempty"`
}

// Writer writes one backup.
type Writer struct {
	dir string
	m   Manifest
}

// NewID names a backup by its UTC start time and namespace: 20261128T185400Z-apim.
func NewID(now time.Time, namespace string) string {
	return now.UTC().Format("20060102T150405Z") + "-" + namespace
}

// Create starts a backup in root/id. The directory must not exist; it is private (0700).
func Create(root, id string, src Source, now time.Time) (*Writer, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("backup directory: %w", err)
	}
	dir := filepath.Join(root, id)
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("backup %s already exists in %s", id, root)
		}
		return nil, fmt.Errorf("backup directory: %w", err)
	}
	return &Writer{dir: dir, m: Manifest{Format: FormatVersion, ID: id, Created: now.UTC(), Source: src}}, nil
}

// Dir is the backup's directory.
func (w *Writer) Dir() string { return w.dir }

// PartWriter is an open part: write to it, count items, then Close to record it.
type PartWriter struct {
	w     *Writer
	f     *os.File
	h     hash.Hash
	mw    io.Writer
	part  Part
	Items int64
}

// Part opens a new part file at rel (slash-separated, inside the backup).
func (w *Writer) Part(kind, name, rel string) (*PartWriter, error) {
	if strings.Contains(rel, "..") || filepath.IsAbs(rel) {
		return nil, fmt.Errorf("part path %q leaves the backup", rel)
	}
	p := filepath.Join(w.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	return &PartWriter{w: w, f: f, h: h, mw: io.MultiWriter(f, h), part: Part{Kind: kind, Name: name, Path: rel}}, nil
}

func (pw *PartWriter) Write(b []byte) (int, error) {
	n, err := pw.mw.Write(b)
	pw.part.Bytes += int64(n)
	return n, err
}

// Close syncs the file and records the part in the manifest.
func (pw *PartWriter) Close() error {
	if err := pw.f.Sync(); err != nil {
		pw.f.Close()
		return err
	}
	if err := pw.f.Close(); err != nil {
		return err
	}
	pw.part.SHA256 = hex.EncodeToString(pw.h.Sum(nil))
	pw.part.Items = pw.Items
	pw.w.m.Parts = append(pw.w.m.Parts, pw.part)
	return nil
}

// AddImages records the images of the workloads.
func (w *Writer) AddImages(images []Image) { w.m.Images = append(w.m.Images, images...) }

// Note records something the backup does not hold.
func (w *Writer) Note(format string, args ...any) {
	w.m.Notes = append(w.m.Notes, fmt.Sprintf(format, args...))
}

// Finish writes the manifest (atomically: a temporary file renamed) and returns it.
func (w *Writer) Finish(now time.Time) (*Manifest, error) {
	w.m.Finished = now.UTC()
	b, err := json.MarshalIndent(w.m, "", "  ")
	if err != nil {
		return nil, err
	}
	tmp := filepath.Join(w.dir, ManifestFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, filepath.Join(w.dir, ManifestFile)); err != nil {
		return nil, err
	}
	m := w.m
	return &m, nil
}

// Abandon removes an unfinished backup.
func (w *Writer) Abandon() error { return os.RemoveAll(w.dir) }

// ReadManifest reads the manifest of the backup in dir.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s has no %s: not a backup, or an unfinished one", dir, ManifestFile)
		}
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestFile), err)
	}
	if m.Format != FormatVersion {
		return nil, fmt.Errorf("%s: manifest format %d, this apimctl reads %d", dir, m.Format, FormatVersion)
	}
	return &m, nil
}

// Problem is one thing verification found wrong.
type Problem struct {
	Path  string `json:"path"`
	Issue string `json:"issue"`
}

// Verify re-reads every part of the backup in dir and compares it with the manifest: a
// missing file, a different size or checksum, a file the manifest does not list.
func Verify(dir string) (*Manifest, []Problem, error) {
	return VerifyWithProgress(context.Background(), dir, nil)
}

// VerifyProgress is how far a verification is: files and bytes checked of the manifest's.
type VerifyProgress struct {
	Files, TotalFiles int
	Bytes, TotalBytes int64
	Path              string // the part being read
}

// VerifyWithProgress is Verify that reports each part before it reads it and stops when ctx
// ends (a backup of many gigabytes takes minutes to re-read).
func VerifyWithProgress(ctx context.Context, dir string, progress func(VerifyProgress)) (*Manifest, []Problem, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, nil, err
	}
	if progress == nil {
		progress = func(VerifyProgress) {}
	}
	vp := VerifyProgress{TotalFiles: len(m.Parts)}
	for _, p := range m.Parts {
		vp.TotalBytes += p.Bytes
	}
	var probs []Problem
	listed := map[string]bool{ManifestFile: true}
	for _, p := range m.Parts {
		if err := ctx.Err(); err != nil {
			return m, probs, err
		}
		vp.Path = p.Path
		progress(vp)
		vp.Files++
		vp.Bytes += p.Bytes
		listed[p.Path] = true
		f, err := os.Open(filepath.Join(dir, filepath.FromSlash(p.Path)))
		if err != nil {
			probs = append(probs, Problem{p.Path, "missing"})
			continue
		}
		h := sha256.New()
		n, err := io.Copy(h, ctxReader{ctx, f})
		f.Close()
		switch {
		case err != nil:
			probs = append(probs, Problem{p.Path, "unreadable: " + err.Error()})
		case n != p.Bytes:
			probs = append(probs, Problem{p.Path, fmt.Sprintf("size %d, the manifest says %d", n, p.Bytes)})
		case hex.EncodeToString(h.Sum(nil)) != p.SHA256:
			probs = append(probs, Problem{p.Path, "checksum differs from the manifest"})
		}
	}
	if err := ctx.Err(); err != nil {
		return m, probs, err
	}
	vp.Path = ""
	progress(vp)
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if !listed[filepath.ToSlash(rel)] {
			probs = append(probs, Problem{filepath.ToSlash(rel), "not in the manifest"})
		}
		return nil
	})
	return m, probs, err
}

// ctxReader stops a long read when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}

// Summary is one backup of a directory, as list shows it.
type Summary struct {
	ID       string    `json:"id"`
	Dir      string    `json:"dir"`
	Created  time.Time `json:"created"`
	Complete bool      `json:"complete"` // has a manifest
	Parts    int       `json:"parts"`
	Bytes    int64     `json:"bytes"`
	Error    string    `json:"error,omitempty"`
}

// List returns the backups under root, newest first.
func List(root string) ([]Summary, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var out []Summary
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, e.Name())
		s := Summary{ID: e.Name(), Dir: dir}
		if m, err := ReadManifest(dir); err == nil {
			s.Complete, s.Created, s.Parts = true, m.Created, len(m.Parts)
			for _, p := range m.Parts {
				s.Bytes += p.Bytes
			}
		} else {
			s.Error = err.Error()
			if info, err := e.Info(); err == nil {
				s.Created = info.ModTime()
			}
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// PrunePlan returns the backups under root that keeping the newest keep complete ones
// removes: the older complete ones and every unfinished one older than the newest kept.
func PrunePlan(root string, keep int) ([]Summary, error) {
	if keep < 1 {
		return nil, errors.New("keep at least one backup")
	}
	all, err := List(root)
	if err != nil {
		return nil, err
	}
	var out []Summary
	kept := 0
	for _, s := range all {
		if s.Complete && kept < keep {
			kept++
			continue
		}
		if !s.Complete && kept == 0 {
			continue // possibly still being written: newer than every kept backup
		}
		out = append(out, s)
	}
	return out, nil
}

// Remove deletes one backup directory of root.
func Remove(root string, s Summary) error {
	if filepath.Dir(s.Dir) != filepath.Clean(root) {
		return fmt.Errorf("%s is not a backup of %s", s.Dir, root)
	}
	return os.RemoveAll(s.Dir)
}
