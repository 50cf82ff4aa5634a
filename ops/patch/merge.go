package patch

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/apimctl/apimctl/internal/format"
)

// MergeRoot is the directory every merged file lives under.
const MergeRoot = "apigateway/"

// Limits bound what the archives may unpack to: a zip bomb or a tar of a million entries
// stops with an error naming the limit, before the disk fills.
type Limits struct {
	MaxTotalBytes int64 // all files of all archives together, uncompressed
	MaxFileBytes  int64 // one file
	MaxEntries    int   // entries of all archives together
}

// DefaultLimits are generous for a gateway patch (a service pack is a few hundred MiB).
func DefaultLimits() Limits {
	return Limits{MaxTotalBytes: 4 << 30, MaxFileBytes: 512 << 20, MaxEntries: 100_000}
}

// PatchSource is one patch archive.
type PatchSource struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Files  int    `json:"files"`
}

// Conflict is a path two patches write with different contents.
type Conflict struct {
	Path    string   `json:"path"`
	Patches []string `json:"patches"`
}

// Merge is the merged tree: what each path holds and where it came from.
type Merge struct {
	Patches []PatchSource `json:"patches"`
	Custom  string        `json:"custom,omitempty"`
	Files   int           `json:"files"`
	Bytes   int64         `json:"bytes"`
	// Overrides are the paths the customisations replaced; Resolved the conflicts among
	// them (the customisation decides).
	Overrides []string   `json:"overrides,omitempty"`
	Resolved  []string   `json:"resolved,omitempty"`
	Conflicts []Conflict `json:"conflicts,omitempty"`
	Dir       string     `json:"mergeDir"`

	files   map[string]mergedFile
	staging string
	limits  Limits
	entries int
}

type mergedFile struct {
	disk string // where its content is, on disk
	size int64
	mode int64
	from string
	sum  [32]byte
}

// MergePatches merges the archives (in order: .tar, .tar.gz/.tgz, .zip) and then the
// customisations directory (its files override, and settle any conflict on their path).
// Every entry must be a regular file or directory under apigateway/; anything else (a path
// outside, "..", a link, a device) is an error, as is going past a limit. Two patches writing
// the same path with different contents is a conflict. The merged tree is written to dir (a
// new temporary directory when empty).
func MergePatches(archives []string, custom, dir string, lim Limits) (m *Merge, err error) {
	if len(archives) == 0 && custom == "" {
		return nil, errors.New("nothing to merge: give --patch archives and/or --custom")
	}
	if lim == (Limits{}) {
		lim = DefaultLimits()
	}
	if dir == "" {
		d, mkErr := os.MkdirTemp("", "apimctl-merge-")
		if mkErr != nil {
			return nil, mkErr
		}
		dir = d
		defer func() {
			if err != nil {
				_ = os.RemoveAll(d) // a failed merge leaves no temporary directory behind
			}
		}()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	staging, err := os.MkdirTemp(dir, ".staging-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(staging)
	m = &Merge{Custom: custom, Dir: dir, files: map[string]mergedFile{}, staging: staging, limits: lim}
	for _, a := range archives {
		src, err := m.addArchive(a)
		if err != nil {
			return nil, fmt.Errorf("patch %s: %w", filepath.Base(a), err)
		}
		m.Patches = append(m.Patches, src)
	}
	if custom != "" {
		if err := m.addCustom(custom); err != nil {
			return nil, fmt.Errorf("customisations %s: %w", custom, err)
		}
	}
	// A customisation settles a conflict on its path: the site decided.
	open := m.Conflicts[:0]
	for _, c := range m.Conflicts {
		if m.files[c.Path].from == fromCustom {
			m.Resolved = append(m.Resolved, c.Path)
			continue
		}
		open = append(open, c)
	}
	m.Conflicts = open
	sort.Slice(m.Conflicts, func(i, j int) bool { return m.Conflicts[i].Path < m.Conflicts[j].Path })
	sort.Strings(m.Overrides)
	sort.Strings(m.Resolved)
	m.Files = len(m.files)
	m.Bytes = 0
	for p, f := range m.files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return nil, err
		}
		if err := os.Rename(f.disk, full); err != nil {
			return nil, err
		}
		if err := os.Chmod(full, fs.FileMode(f.mode)&0o755|0o644); err != nil {
			return nil, err
		}
		f.disk = full
		m.files[p] = f
		m.Bytes += f.size
	}
	return m, nil
}

const fromCustom = "customisations"

// CleanEntry checks an archive path and returns it clean and slash-separated.
func CleanEntry(name string) (string, error) {
	n := strings.TrimPrefix(filepath.ToSlash(name), "./")
	if n == "" || strings.HasPrefix(n, "/") || strings.Contains(n, "\\") || strings.ContainsRune(n, 0) {
		return "", fmt.Errorf("entry %q: not a relative path", name)
	}
	for _, part := range strings.Split(strings.TrimSuffix(n, "/"), "/") {
		if part == ".." {
			return "", fmt.Errorf("entry %q leaves the merge directory", name)
		}
	}
	c := path.Clean(n)
	if c+"/" != MergeRoot && !strings.HasPrefix(c, MergeRoot) {
		return "", fmt.Errorf("entry %q is not under %s", name, MergeRoot)
	}
	return c, nil
}

// stage copies one entry's content into the staging directory, within the limits, and
// returns its size and SHA-256.
func (m *Merge) stage(r io.Reader, name string) (string, int64, [32]byte, error) {
	var sum [32]byte
	f, err := os.CreateTemp(m.staging, "e-")
	if err != nil {
		return "", 0, sum, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, m.limits.MaxFileBytes+1))
	if err != nil {
		return "", 0, sum, fmt.Errorf("entry %q: %w", name, err)
	}
	if n > m.limits.MaxFileBytes {
		return "", 0, sum, fmt.Errorf("entry %q is larger than the limit of %s for one file (--max-file-size)", name, format.Bytes(m.limits.MaxFileBytes))
	}
	if m.Bytes+n > m.limits.MaxTotalBytes {
		return "", 0, sum, fmt.Errorf("the archives unpack to more than the limit of %s (--max-size)", format.Bytes(m.limits.MaxTotalBytes))
	}
	m.Bytes += n // counted while staging; recounted from the merged files at the end
	copy(sum[:], h.Sum(nil))
	return f.Name(), n, sum, nil
}

func (m *Merge) put(p string, f mergedFile, override bool) {
	prev, ok := m.files[p]
	switch {
	case !ok:
	case override:
		m.Overrides = append(m.Overrides, p)
		_ = os.Remove(prev.disk)
	case prev.sum == f.sum:
		_ = os.Remove(f.disk)
		return // the same file from two patches: no conflict
	default:
		_ = os.Remove(f.disk)
		for i := range m.Conflicts {
			if m.Conflicts[i].Path == p {
				m.Conflicts[i].Patches = append(m.Conflicts[i].Patches, f.from)
				return
			}
		}
		m.Conflicts = append(m.Conflicts, Conflict{Path: p, Patches: []string{prev.from, f.from}})
		return
	}
	m.files[p] = f
}

// entry takes one archive entry: checked, counted, staged and merged.
func (m *Merge) entry(src *PatchSource, name string, isDir, isReg bool, mode int64, r io.Reader) error {
	m.entries++
	if m.entries > m.limits.MaxEntries {
		return fmt.Errorf("more than the limit of %d entries (--max-entries)", m.limits.MaxEntries)
	}
	p, err := CleanEntry(name)
	if err != nil {
		return err
	}
	if isDir {
		return nil
	}
	if !isReg {
		return fmt.Errorf("entry %q is not a regular file (links and devices are refused)", name)
	}
	disk, size, sum, err := m.stage(r, name)
	if err != nil {
		return err
	}
	m.put(p, mergedFile{disk: disk, size: size, mode: mode, from: src.Name, sum: sum}, false)
	src.Files++
	return nil
}

func (m *Merge) addArchive(file string) (PatchSource, error) {
	src := PatchSource{Name: filepath.Base(file)}
	f, err := os.Open(file)
	if err != nil {
		return src, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return src, err
	}
	if !info.Mode().IsRegular() {
		return src, errors.New("not a regular file")
	}
	h := sha256.New()
	lower := strings.ToLower(file)
	switch {
	case strings.HasSuffix(lower, ".zip"):
		if _, err := io.Copy(h, f); err != nil {
			return src, err
		}
		zr, err := zip.NewReader(f, info.Size())
		if err != nil {
			return src, err
		}
		for _, zf := range zr.File {
			mode := zf.Mode()
			rc, err := zf.Open()
			if err != nil {
				return src, fmt.Errorf("entry %q: %w", zf.Name, err)
			}
			err = m.entry(&src, zf.Name, mode.IsDir(), mode.IsRegular(), int64(mode.Perm()), rc)
			rc.Close()
			if err != nil {
				return src, err
			}
		}
	case strings.HasSuffix(lower, ".tar.gz"), strings.HasSuffix(lower, ".tgz"), strings.HasSuffix(lower, ".tar"):
		tee := io.TeeReader(f, h)
		var r io.Reader = tee
		if !strings.HasSuffix(lower, ".tar") {
			gz, err := gzip.NewReader(r)
			if err != nil {
				return src, err
			}
			defer gz.Close()
			r = gz
		}
		tr := tar.NewReader(r)
		for {
			th, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return src, err
			}
			if err := m.entry(&src, th.Name, th.Typeflag == tar.TypeDir, th.Typeflag == tar.TypeReg, th.Mode, tr); err != nil {
				return src, err
			}
		}
		// What follows the end marker (padding) counts in the archive's checksum too.
		if _, err := io.Copy(io.Discard, tee); err != nil {
			return src, err
		}
	default:
		return src, errors.New("not a .tar, .tar.gz, .tgz or .zip archive")
	}
	src.SHA256 = hex.EncodeToString(h.Sum(nil))
	if src.Files == 0 {
		return src, errors.New("holds no file")
	}
	return src, nil
}

func (m *Merge) addCustom(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		if d.IsDir() {
			_, err := CleanEntry(rel + "/")
			return err
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file (links are refused)", rel)
		}
		c, err := CleanEntry(rel)
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		disk, size, sum, err := m.stage(f, rel)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		m.put(c, mergedFile{disk: disk, size: size, mode: int64(info.Mode().Perm()), from: fromCustom, sum: sum}, true)
		return nil
	})
}
