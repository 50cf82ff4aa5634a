package backup

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Location is where backups are stored: a local directory or an Azure Blob container
// (azure://container/prefix). Names are slash-separated and relative to the location's
// root; the first element is a backup's ID.
type Location interface {
	// String is the location for people (never with a credential in it).
	String() string
	// Create starts a new object; it exists under name only once Commit returns.
	Create(ctx context.Context, name string) (ObjectWriter, error)
	// Open reads an object; a missing one is an error wrapping fs.ErrNotExist.
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	// Stat describes an object; a missing one is an error wrapping fs.ErrNotExist.
	Stat(ctx context.Context, name string) (Object, error)
	// List returns every object whose name starts with prefix, sorted by name.
	List(ctx context.Context, prefix string) ([]Object, error)
	// IDs returns the first name elements (the backups' IDs), sorted.
	IDs(ctx context.Context) ([]string, error)
	// Delete removes an object (a missing one is not an error).
	Delete(ctx context.Context, name string) error
}

// Object is one stored object.
type Object struct {
	Name     string
	Size     int64
	Modified time.Time
	// SHA256 is the checksum recorded with the object when it was committed, if the
	// location keeps one (Azure: blob metadata); "" when unknown.
	SHA256 string
}

// ObjectWriter writes one object.
type ObjectWriter interface {
	io.Writer
	// Commit makes the object visible under its name, recording sha256 with it where the
	// location can.
	Commit(sha256 string) error
	// Abort discards what was written.
	Abort()
}

// checkName refuses object names that could leave the location or mean two things.
func checkName(name string) error {
	if name == "" || strings.HasPrefix(name, "/") || strings.ContainsAny(name, "\\\x00") || len(name) > 1024 {
		return fmt.Errorf("object name %q is not a relative slash-separated path", name)
	}
	for _, el := range strings.Split(name, "/") {
		if el == "" || el == "." || el == ".." {
			return fmt.Errorf("object name %q is not a clean relative path", name)
		}
	}
	return nil
}

// OpenLocation parses a location: azure://container/prefix (credentials from getenv, see
// AzureCredentials), file:///path, or a local directory path.
func OpenLocation(ctx context.Context, url string, getenv func(string) string) (Location, error) {
	switch {
	case strings.HasPrefix(url, "azure://"):
		return OpenAzure(ctx, url, getenv)
	case strings.HasPrefix(url, "file://"):
		return Dir(strings.TrimPrefix(url, "file://")), nil
	case strings.Contains(url, "://"):
		return nil, fmt.Errorf("backup location %q: use a directory, file:///path or azure://container/prefix", url)
	case url == "":
		return nil, errors.New("no backup location given")
	}
	return Dir(url), nil
}

// Dir is a local directory of backups. Directories it creates are private (0700), files
// 0600; an object is written to a temporary file, synced and renamed, so a crash never
// leaves a half-written object under its name.
type Dir string

func (d Dir) String() string { return string(d) }

func (d Dir) path(name string) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	return filepath.Join(string(d), filepath.FromSlash(name)), nil
}

type dirWriter struct {
	f    *os.File
	bw   *bufio.Writer
	tmp  string
	dest string
}

func (w *dirWriter) Write(b []byte) (int, error) { return w.bw.Write(b) }

func (w *dirWriter) Commit(string) error {
	err := w.bw.Flush()
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(w.tmp, w.dest)
	}
	if err != nil {
		os.Remove(w.tmp)
	}
	return err
}

func (w *dirWriter) Abort() { w.f.Close(); os.Remove(w.tmp) }

// Create implements Location.
func (d Dir) Create(_ context.Context, name string) (ObjectWriter, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return nil, err
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := p + ".tmp-" + hex.EncodeToString(rnd[:])
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	return &dirWriter{f: f, bw: bufio.NewWriterSize(f, 256<<10), tmp: tmp, dest: p}, nil
}

// Open implements Location.
func (d Dir) Open(_ context.Context, name string) (io.ReadCloser, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

// Stat implements Location.
func (d Dir) Stat(_ context.Context, name string) (Object, error) {
	p, err := d.path(name)
	if err != nil {
		return Object{}, err
	}
	info, err := os.Stat(p)
	if err != nil {
		return Object{}, err
	}
	if !info.Mode().IsRegular() {
		return Object{}, fmt.Errorf("%s is not a regular file", p)
	}
	return Object{Name: name, Size: info.Size(), Modified: info.ModTime()}, nil
}

// List implements Location. Temporary files of unfinished writes are listed too, so
// verification reports them.
func (d Dir) List(_ context.Context, prefix string) ([]Object, error) {
	var out []Object
	root := string(d)
	start := root
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		start = filepath.Join(root, filepath.FromSlash(prefix[:i]))
	}
	err := filepath.WalkDir(start, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if e.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		if !strings.HasPrefix(name, prefix) {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		out = append(out, Object{Name: name, Size: info.Size(), Modified: info.ModTime()})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// IDs implements Location.
func (d Dir) IDs(context.Context) ([]string, error) {
	entries, err := os.ReadDir(string(d))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// Delete implements Location; directories left empty are removed too.
func (d Dir) Delete(_ context.Context, name string) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for dir := filepath.Dir(p); dir != filepath.Clean(string(d)) && strings.HasPrefix(dir, filepath.Clean(string(d))); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break
		}
	}
	return nil
}
