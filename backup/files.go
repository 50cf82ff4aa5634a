package backup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File sets the reference architecture lists besides the databases.
const (
	// SetEvents is the gateways' transaction event and trace files on the shared volume.
	SetEvents = "events"
	// SetPackages is the policy and environment packages (.fed, .pol, .env).
	SetPackages = "packages"
)

// PackageFile selects policy and environment packages.
func PackageFile(rel string) bool {
	switch strings.ToLower(filepath.Ext(rel)) {
	case ".fed", ".pol", ".env":
		return true
	}
	return false
}

// FilesOptions tune Files.
type FilesOptions struct {
	// Match selects files by their slash-separated path under the directory (nil: all).
	Match func(rel string) bool
	// Previous is an earlier backup in the same location: a file with the same path, size
	// and modification time as there is recorded as a reference to it, not copied again
	// (incremental by file, as the event directory wants: its files are written once).
	Previous *Backup
	Progress func(Progress)
}

// FilesResult says what Files did.
type FilesResult struct {
	Files      int      `json:"files"`
	Copied     int      `json:"copied"`
	Referenced int      `json:"referenced"`        // unchanged since the previous backup
	Bytes      int64    `json:"bytes"`             // read and stored (before compression)
	Skipped    []string `json:"skipped,omitempty"` // not regular files (links, devices)
}

// Files backs up the files under dir as file set set: each regular file its own compressed
// part with its path, size, time and mode. Symbolic links and other special files are not
// followed and are listed in the result.
func Files(ctx context.Context, w *Writer, set, dir string, o FilesOptions) (*FilesResult, error) {
	if err := checkName(set); err != nil || strings.Contains(set, "/") {
		return nil, fmt.Errorf("file set name %q is not a plain name", set)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("files %s: %w", set, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("files %s: %s is not a directory", set, dir)
	}
	prev := map[string]Part{}
	if o.Previous != nil && o.Previous.Loc.String() == w.loc.String() {
		for _, p := range o.Previous.Manifest.PartsOf(KindFiles) {
			if p.Name == set {
				if p.Ref == "" {
					p.Ref = o.Previous.ID
				}
				prev[p.File] = p
			}
		}
	}
	res := &FilesResult{}
	err = filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if e.IsDir() {
			return nil
		}
		if !e.Type().IsRegular() {
			res.Skipped = append(res.Skipped, rel)
			return nil
		}
		if o.Match != nil && !o.Match(rel) {
			return nil
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		mod := fi.ModTime().UTC()
		res.Files++
		if p, ok := prev[rel]; ok && p.Raw == fi.Size() && p.Modified != nil && p.Modified.Equal(mod) {
			w.AddRef(p)
			res.Referenced++
			return nil
		}
		n, err := storeFile(ctx, w, set, path, rel, mod, uint32(fi.Mode().Perm()))
		if err != nil {
			return err
		}
		res.Copied++
		res.Bytes += n
		if o.Progress != nil {
			o.Progress(Progress{Kind: "files", Scope: set, Table: rel, Rows: 1})
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("files %s: %w", set, err)
	}
	return res, nil
}

func filePath(set, rel string) string {
	els := strings.Split(rel, "/")
	for i, e := range els {
		els[i] = pathElem(e)
	}
	return "files/" + pathElem(set) + "/" + strings.Join(els, "/") + ".zst"
}

func storeFile(ctx context.Context, w *Writer, set, path, rel string, mod time.Time, mode uint32) (int64, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|noFollow, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	pw, err := w.Part(ctx, Part{Kind: KindFiles, Name: set, Path: filePath(set, rel), File: rel, Modified: &mod, Mode: mode, Compression: Zstd})
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(pw, f)
	if err != nil {
		pw.Abort()
		return n, fmt.Errorf("read %s: %w", path, err)
	}
	pw.Items = 1
	return n, pw.Close()
}

// RestoreFiles writes file set set of the backup into dir (created if missing): each file
// written to a temporary name and renamed, with its recorded time and permissions (never
// set-id bits). Paths are checked again: none may leave dir. It returns how many files it
// wrote. Files in dir that the backup does not have are left alone.
func RestoreFiles(ctx context.Context, b *Backup, set, dir string) (int, error) {
	parts := b.Manifest.PartsOf(KindFiles)
	n := 0
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return 0, err
	}
	root, err := filepath.Abs(dir)
	if err != nil {
		return 0, err
	}
	found := false
	for _, p := range parts {
		if p.Name != set {
			continue
		}
		found = true
		if err := checkName(p.File); err != nil {
			return n, fmt.Errorf("files %s: %w", set, err)
		}
		dest := filepath.Join(root, filepath.FromSlash(p.File))
		if !strings.HasPrefix(dest, root+string(filepath.Separator)) {
			return n, fmt.Errorf("files %s: %q leaves %s", set, p.File, dir)
		}
		if err := restoreFile(ctx, b, p, dest); err != nil {
			return n, err
		}
		n++
	}
	if !found {
		return 0, fmt.Errorf("the backup has no file set %s (it has %s)", set, strings.Join(b.Manifest.FileSets(), ", "))
	}
	return n, nil
}

func restoreFile(ctx context.Context, b *Backup, p Part, dest string) error {
	if err := os.MkdirAll(filepath.Dir(dest), 0o750); err != nil {
		return err
	}
	if fi, err := os.Lstat(dest); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("%s exists and is not a regular file: not replaced", dest)
	}
	r, err := b.Open(ctx, p)
	if err != nil {
		return err
	}
	defer r.Close()
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := dest + ".restore-" + hex.EncodeToString(rnd[:])
	mode := os.FileMode(p.Mode) & 0o777
	if mode == 0 {
		mode = 0o640
	}
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && p.Modified != nil {
		err = os.Chtimes(tmp, *p.Modified, *p.Modified)
	}
	if err == nil {
		err = os.Rename(tmp, dest)
	}
	if err != nil {
		os.Remove(tmp)
		if !errors.Is(err, context.Canceled) {
			err = fmt.Errorf("restore %s: %w", p.File, err)
		}
	}
	return err
}
