package ops

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
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
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/apimctl/apimctl/cluster/registry"
)

// Patch merges: the vendor's patch archives and the site's customisations merged into one
// tree rooted at apigateway/, laid as a new layer on the base gateway image and pushed — no
// Docker daemon — with the provenance (base digest, each patch's name and SHA-256) recorded
// on the image.

// MergeRoot is the directory every merged file lives under.
const MergeRoot = "apigateway/"

// Provenance labels set on a merged image.
const (
	LabelBaseDigest = "org.opencontainers.image.base.digest"
	LabelBaseName   = "org.opencontainers.image.base.name"
	LabelPatches    = "dev.apimctl.patches"
	LabelCustom     = "dev.apimctl.customisations"
)

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
	Patches   []PatchSource `json:"patches"`
	Custom    string        `json:"custom,omitempty"`
	Files     int           `json:"files"`
	Overrides []string      `json:"overrides,omitempty"` // paths the customisations replaced
	Conflicts []Conflict    `json:"conflicts,omitempty"`
	Dir       string        `json:"mergeDir"`

	files map[string]mergedFile
}

type mergedFile struct {
	data []byte
	mode int64
	from string
	sum  [32]byte
}

// MergePatches merges the archives (in order: .tar, .tar.gz/.tgz, .zip) and then the
// customisations directory (its files override). Every entry must be a regular file or
// directory under apigateway/; anything else (a path outside, "..", a link, a device) is an
// error. Two patches writing the same path with different contents is a conflict. The merged
// tree is written to dir (a new temporary directory when empty).
func MergePatches(archives []string, custom, dir string) (*Merge, error) {
	if len(archives) == 0 && custom == "" {
		return nil, errors.New("nothing to merge: give --patch archives and/or --custom")
	}
	m := &Merge{Custom: custom, files: map[string]mergedFile{}}
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
	sort.Slice(m.Conflicts, func(i, j int) bool { return m.Conflicts[i].Path < m.Conflicts[j].Path })
	m.Files = len(m.files)
	if dir == "" {
		d, err := os.MkdirTemp("", "apimctl-merge-")
		if err != nil {
			return nil, err
		}
		dir = d
	}
	m.Dir = dir
	for p, f := range m.files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(full, f.data, fs.FileMode(f.mode)&0o755|0o644); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// cleanEntry checks an archive path and returns it clean and slash-separated.
func cleanEntry(name string) (string, error) {
	n := strings.TrimPrefix(filepath.ToSlash(name), "./")
	if n == "" || strings.HasPrefix(n, "/") || strings.Contains(n, "\\") {
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

func (m *Merge) put(p string, data []byte, mode int64, from string, override bool) {
	sum := sha256.Sum256(data)
	prev, ok := m.files[p]
	switch {
	case !ok:
	case override:
		m.Overrides = append(m.Overrides, p)
	case prev.sum == sum:
		return // the same file from two patches: no conflict
	default:
		for i := range m.Conflicts {
			if m.Conflicts[i].Path == p {
				m.Conflicts[i].Patches = append(m.Conflicts[i].Patches, from)
				return
			}
		}
		m.Conflicts = append(m.Conflicts, Conflict{Path: p, Patches: []string{prev.from, from}})
		return
	}
	m.files[p] = mergedFile{data: data, mode: mode, from: from, sum: sum}
}

const maxPatchFile = 256 << 20

func (m *Merge) addArchive(file string) (PatchSource, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return PatchSource{}, err
	}
	sum := sha256.Sum256(raw)
	src := PatchSource{Name: filepath.Base(file), SHA256: hex.EncodeToString(sum[:])}
	add := func(name string, isDir, isReg bool, mode int64, r io.Reader) error {
		p, err := cleanEntry(name)
		if err != nil {
			return err
		}
		if isDir {
			return nil
		}
		if !isReg {
			return fmt.Errorf("entry %q is not a regular file (links and devices are refused)", name)
		}
		data, err := io.ReadAll(io.LimitReader(r, maxPatchFile+1))
		if err != nil {
			return err
		}
		if len(data) > maxPatchFile {
			return fmt.Errorf("entry %q is larger than %d MiB", name, maxPatchFile>>20)
		}
		m.put(p, data, mode, src.Name, false)
		src.Files++
		return nil
	}
	lower := strings.ToLower(file)
	switch {
	case strings.HasSuffix(lower, ".zip"):
		zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
		if err != nil {
			return src, err
		}
		for _, f := range zr.File {
			mode := f.Mode()
			rc, err := f.Open()
			if err != nil {
				return src, err
			}
			err = add(f.Name, mode.IsDir(), mode.IsRegular(), int64(mode.Perm()), rc)
			rc.Close()
			if err != nil {
				return src, err
			}
		}
	case strings.HasSuffix(lower, ".tar.gz"), strings.HasSuffix(lower, ".tgz"), strings.HasSuffix(lower, ".tar"):
		var r io.Reader = bytes.NewReader(raw)
		if !strings.HasSuffix(lower, ".tar") {
			gz, err := gzip.NewReader(r)
			if err != nil {
				return src, err
			}
			r = gz
		}
		tr := tar.NewReader(r)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return src, err
			}
			if err := add(h.Name, h.Typeflag == tar.TypeDir, h.Typeflag == tar.TypeReg, h.Mode, tr); err != nil {
				return src, err
			}
		}
	default:
		return src, errors.New("not a .tar, .tar.gz, .tgz or .zip archive")
	}
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
			_, err := cleanEntry(rel + "/")
			return err
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file", rel)
		}
		c, err := cleanEntry(rel)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, _ := d.Info()
		m.put(c, data, int64(info.Mode().Perm()), "customisations", true)
		return nil
	})
}

// layer is the merged tree as one reproducible image layer.
func (m *Merge) layer() (v1.Layer, error) {
	files := make(map[string]registry.File, len(m.files))
	for p, f := range m.files {
		files[p] = registry.File{Data: f.data, Executable: f.mode&0o111 != 0}
	}
	return registry.Layer(files)
}

// PatchPlan is a merge ready to push, for the dry run and the confirmation.
type PatchPlan struct {
	Base        string `json:"base"`
	BaseDigest  string `json:"baseDigest"`
	Target      string `json:"target"`
	TargetTaken bool   `json:"targetExists"`
	Merge       *Merge `json:"merge"`
	Digest      string `json:"digest"` // of the image that would be pushed
	LayerBytes  int64  `json:"layerBytes"`

	img v1.Image
}

// PlanPatch merges and builds the patched image in memory (nothing is pushed): the base from
// its registry, the merged layer on top, the provenance in the config's labels.
func PlanPatch(ctx context.Context, base, target string, m *Merge, now time.Time) (*PatchPlan, error) {
	if len(m.Conflicts) > 0 {
		var cs []string
		for _, c := range m.Conflicts {
			cs = append(cs, c.Path+" ("+strings.Join(c.Patches, ", ")+")")
		}
		return nil, fmt.Errorf("%d conflicts between patches: %s — resolve them in --custom, which overrides", len(m.Conflicts), strings.Join(cs, "; "))
	}
	baseImg, err := registry.Image(ctx, base)
	if err != nil {
		return nil, fmt.Errorf("base image %s: %w", base, err)
	}
	bd, err := baseImg.Digest()
	if err != nil {
		return nil, err
	}
	layer, err := m.layer()
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(baseImg, mutate.Addendum{Layer: layer, History: v1.History{
		Created: v1.Time{Time: now.UTC()}, CreatedBy: "apimctl patch merge", Comment: fmt.Sprintf("%d patches, %d files", len(m.Patches), m.Files)}})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	if cf.Config.Labels == nil {
		cf.Config.Labels = map[string]string{}
	}
	var ps []string
	for _, p := range m.Patches {
		ps = append(ps, p.Name+"@sha256:"+p.SHA256)
	}
	cf.Config.Labels[LabelBaseDigest] = bd.String()
	cf.Config.Labels[LabelBaseName] = base
	cf.Config.Labels[LabelPatches] = strings.Join(ps, ",")
	if m.Custom != "" {
		cf.Config.Labels[LabelCustom] = fmt.Sprintf("%d files overridden", len(m.Overrides))
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return nil, err
	}
	d, err := img.Digest()
	if err != nil {
		return nil, err
	}
	size, _ := layer.Size()
	p := &PatchPlan{Base: base, BaseDigest: bd.String(), Target: target, Merge: m, Digest: d.String(), LayerBytes: size, img: img}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := registry.Resolve(rctx, target); err == nil {
		p.TargetTaken = true
	}
	return p, nil
}

// PushPatch pushes the planned image and returns its digest.
func PushPatch(ctx context.Context, p *PatchPlan) (string, error) {
	return registry.Push(ctx, p.Target, p.img)
}
