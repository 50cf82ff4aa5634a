package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

// Backup is one finished backup, opened for reading.
type Backup struct {
	Loc      Location
	ID       string
	Manifest *Manifest
}

// Open reads backup id's manifest from loc (refusing a newer format).
func Open(ctx context.Context, loc Location, id string) (*Backup, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	m, err := readManifest(ctx, loc, id)
	if err != nil {
		return nil, err
	}
	return &Backup{Loc: loc, ID: id, Manifest: m}, nil
}

// OpenDir opens the backup in a local directory (its parent is the location).
func OpenDir(dir string) (*Backup, error) {
	dir = filepath.Clean(dir)
	return Open(context.Background(), Dir(filepath.Dir(dir)), filepath.Base(dir))
}

// ReadManifest reads the manifest of the backup in a local directory.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := OpenDir(dir)
	if err != nil {
		return nil, err
	}
	return b.Manifest, nil
}

func readManifest(ctx context.Context, loc Location, id string) (*Manifest, error) {
	r, err := loc.Open(ctx, id+"/"+ManifestFile)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s/%s has no %s: %w", loc, id, ManifestFile, ErrNotBackup)
		}
		return nil, fmt.Errorf("%s/%s: %w", loc, id, err)
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("%s/%s/%s: %w", loc, id, ManifestFile, err)
	}
	return parseManifest(fmt.Sprintf("%s/%s/%s", loc, id, ManifestFile), b)
}

// Open returns a part's content, decompressed; reading it to the end checks it against
// the manifest (size, SHA-256) and fails naming the part if it differs.
func (b *Backup) Open(ctx context.Context, p Part) (io.ReadCloser, error) {
	return openPart(ctx, b.Loc, b.ID, p)
}

// readJSONPart decodes a JSON part (a schema: at most 64 MiB) into v.
func (b *Backup) readJSONPart(ctx context.Context, p Part, v any) error {
	r, err := b.Open(ctx, p)
	if err != nil {
		return err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, 64<<20))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", p.Path, err)
	}
	return nil
}

// Problem is one thing verification found wrong.
type Problem struct {
	Path  string `json:"path"`
	Issue string `json:"issue"`
}

// VerifyAt re-reads every part of backup id against its manifest: a missing object, a
// different size or checksum, a unit missing from a table, an object the manifest does not
// list. Parts stored in an earlier backup (incremental) are read there.
func VerifyAt(ctx context.Context, loc Location, id string) (*Manifest, []Problem, error) {
	return VerifyAtWithProgress(ctx, loc, id, nil)
}

// VerifyProgress is how far a verification is: parts and bytes checked of the manifest's.
type VerifyProgress struct {
	Files, TotalFiles int
	Bytes, TotalBytes int64
	Path              string // the part being read ("" at the end)
}

// VerifyAtWithProgress is VerifyAt that reports each part before it reads it, then the end,
// and stops when ctx ends (a backup of many gigabytes takes minutes to re-read).
func VerifyAtWithProgress(ctx context.Context, loc Location, id string, progress func(VerifyProgress)) (*Manifest, []Problem, error) {
	if progress == nil {
		progress = func(VerifyProgress) {}
	}
	b, err := Open(ctx, loc, id)
	if err != nil {
		return nil, nil, err
	}
	m := b.Manifest
	var probs []Problem
	vp := VerifyProgress{TotalFiles: len(m.Parts)}
	for _, p := range m.Parts {
		vp.TotalBytes += p.Bytes
	}
	listed := map[string]bool{id + "/" + ManifestFile: true}
	for _, p := range m.Parts {
		if err := ctx.Err(); err != nil {
			return m, probs, err
		}
		vp.Path = p.Path
		progress(vp)
		vp.Files++
		vp.Bytes += p.Bytes
		name := objectName(id, p)
		listed[name] = true
		r, err := loc.Open(ctx, name)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				probs = append(probs, Problem{p.Path, "missing"})
			} else {
				probs = append(probs, Problem{p.Path, "unreadable: " + err.Error()})
			}
			continue
		}
		h := sha256.New()
		n, err := io.Copy(h, ctxReader{ctx, r})
		r.Close()
		switch {
		case err != nil:
			probs = append(probs, Problem{p.Path, "unreadable: " + err.Error()})
		case n != p.Bytes:
			probs = append(probs, Problem{p.Path, fmt.Sprintf("size %d, the manifest says %d", n, p.Bytes)})
		case hex.EncodeToString(h.Sum(nil)) != p.SHA256:
			probs = append(probs, Problem{p.Path, "checksum differs from the manifest"})
		}
	}
	for _, kind := range []string{KindCassandraRows, KindMySQLRows} {
		seen := map[string]bool{}
		for _, p := range m.PartsOf(kind) {
			key := p.Keyspace + p.Database + "\x00" + p.Table
			if seen[key] {
				continue
			}
			seen[key] = true
			scope := p.Keyspace + p.Database
			if _, err := m.tableParts(kind, scope, p.Table); err != nil {
				probs = append(probs, Problem{p.Path, err.Error()})
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return m, probs, err
	}
	vp.Path = ""
	progress(vp)
	objs, err := loc.List(ctx, id+"/")
	if err != nil {
		return m, probs, err
	}
	for _, o := range objs {
		if !listed[o.Name] {
			probs = append(probs, Problem{strings.TrimPrefix(o.Name, id+"/"), "not in the manifest"})
		}
	}
	return m, probs, ctx.Err()
}

// Summary is one backup of a location, as list shows it.
type Summary struct {
	ID       string    `json:"id"`
	Dir      string    `json:"dir"` // where it is: a directory, or location/ID
	Created  time.Time `json:"created"`
	Complete bool      `json:"complete"` // has a manifest
	Parts    int       `json:"parts"`
	Bytes    int64     `json:"bytes"` // stored here (parts referring to an earlier backup not counted)
	Format   int       `json:"format,omitempty"`
	Refs     []string  `json:"refs,omitempty"` // earlier backups it has parts in
	Error    string    `json:"error,omitempty"`
}

// ListAt returns the backups in loc, newest first.
func ListAt(ctx context.Context, loc Location) ([]Summary, error) {
	ids, err := loc.IDs(ctx)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", loc, err)
	}
	var out []Summary
	for _, id := range ids {
		s := Summary{ID: id, Dir: where(loc, id)}
		if m, err := readManifest(ctx, loc, id); err == nil {
			s.Complete, s.Created, s.Parts, s.Format = true, m.Created, len(m.Parts), m.Format
			refs := map[string]bool{}
			for _, p := range m.Parts {
				if p.Ref != "" {
					refs[p.Ref] = true
					continue
				}
				s.Bytes += p.Bytes
			}
			for r := range refs {
				s.Refs = append(s.Refs, r)
			}
			sort.Strings(s.Refs)
		} else {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			s.Error = err.Error()
			if objs, lerr := loc.List(ctx, id+"/"); lerr == nil {
				for _, o := range objs {
					if o.Modified.After(s.Created) {
						s.Created = o.Modified
					}
					s.Bytes += o.Size
				}
			}
			if s.Created.IsZero() {
				// Nothing written yet: its name says when it started, else it is taken as
				// being written now (never pruned while it may be).
				if t, err := time.Parse("20060102T150405Z", strings.SplitN(id, "-", 2)[0]); err == nil {
					s.Created = t
				} else {
					s.Created = time.Now()
				}
			}
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

func where(loc Location, id string) string {
	if d, ok := loc.(Dir); ok {
		return filepath.Join(string(d), id)
	}
	return loc.String() + "/" + id
}

// PrunePlanAt returns the backups of loc that keeping the newest keep complete ones removes:
// the older complete ones and every unfinished one older than the newest kept — except the
// backups a kept one refers to (an incremental backup's unchanged files live there).
func PrunePlanAt(ctx context.Context, loc Location, keep int) ([]Summary, error) {
	if keep < 1 {
		return nil, errors.New("keep at least one backup")
	}
	all, err := ListAt(ctx, loc)
	if err != nil {
		return nil, err
	}
	var out []Summary
	needed := map[string]bool{}
	kept := 0
	for _, s := range all {
		if s.Complete && kept < keep {
			kept++
			for _, r := range s.Refs {
				needed[r] = true
			}
			continue
		}
		if !s.Complete && kept == 0 {
			continue // possibly still being written: newer than every kept backup
		}
		if needed[s.ID] {
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

// RemoveAt deletes backup id from loc (its manifest first).
func RemoveAt(ctx context.Context, loc Location, id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	return removeAll(ctx, loc, id)
}

// List returns the backups in a local directory, newest first.
func List(root string) ([]Summary, error) { return ListAt(context.Background(), Dir(root)) }

// PrunePlan is PrunePlanAt for a local directory.
func PrunePlan(root string, keep int) ([]Summary, error) {
	return PrunePlanAt(context.Background(), Dir(root), keep)
}

// Remove deletes one backup of a local directory.
func Remove(root string, s Summary) error {
	if filepath.Dir(filepath.Clean(s.Dir)) != filepath.Clean(root) || s.ID != filepath.Base(s.Dir) {
		return fmt.Errorf("%s is not a backup of %s", s.Dir, root)
	}
	return RemoveAt(context.Background(), Dir(root), s.ID)
}

// Verify verifies the backup in a local directory.
func Verify(dir string) (*Manifest, []Problem, error) {
	return VerifyWithProgress(context.Background(), dir, nil)
}

// VerifyWithProgress verifies the backup in a local directory, reporting progress.
func VerifyWithProgress(ctx context.Context, dir string, progress func(VerifyProgress)) (*Manifest, []Problem, error) {
	dir = filepath.Clean(dir)
	return VerifyAtWithProgress(ctx, Dir(filepath.Dir(dir)), filepath.Base(dir), progress)
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

func mkdirPrivate(root, id string) error {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return fmt.Errorf("backup directory: %w", err)
	}
	if err := os.Mkdir(filepath.Join(root, id), 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("backup directory: %w", err)
	}
	return nil
}

// removeEmptyDirs removes the directories of a deleted local backup, deepest first.
func removeEmptyDirs(root, id string) {
	var dirs []string
	_ = filepath.WalkDir(filepath.Join(root, id), func(p string, e fs.DirEntry, err error) error {
		if err == nil && e.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Remove(dirs[i])
	}
}
