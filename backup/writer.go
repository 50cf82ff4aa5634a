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
	"io/fs"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Writer writes one backup. Parts may be written from several goroutines at once.
type Writer struct {
	loc Location
	id  string
	mu  sync.Mutex
	m   Manifest
	// plain stores every part as it is, whatever its descriptor asks (see Uncompressed).
	plain bool
}

// Uncompressed makes the writer store parts without compression: on a fast local disk the
// dump is then CPU-bound on reading alone (zstd at its fastest level costs about a third
// of a MySQL dump's CPU), at the price of the space. Readers go by each part's recorded
// compression, so such a backup restores and verifies as any other.
func (w *Writer) Uncompressed() { w.plain = true }

// Create starts backup id in loc. The ID must not be in use.
func Create(ctx context.Context, loc Location, id string, src Source, now time.Time) (*Writer, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	objs, err := loc.List(ctx, id+"/")
	if err != nil {
		return nil, fmt.Errorf("backup location %s: %w", loc, err)
	}
	if len(objs) > 0 {
		return nil, fmt.Errorf("backup %s already exists in %s", id, loc)
	}
	if d, ok := loc.(Dir); ok {
		// A local backup is a private directory from its first moment.
		if err := mkdirPrivate(string(d), id); err != nil {
			return nil, err
		}
	}
	return &Writer{loc: loc, id: id, m: Manifest{Format: FormatVersion, ID: id, Created: now.UTC(), Source: src}}, nil
}

// ID is the backup's ID.
func (w *Writer) ID() string { return w.id }

// Location is where the backup is written.
func (w *Writer) Location() Location { return w.loc }

// PartWriter is an open part: write its content, count Items, then Close to record it (or
// Abort to drop it).
type PartWriter struct {
	w     *Writer
	ow    ObjectWriter
	enc   *zstd.Encoder
	h     hash.Hash
	part  Part
	raw   int64
	Items int64
	sink  countingHash
}

// countingHash sits between the compressor and the object: it sees the stored bytes.
type countingHash struct {
	h  hash.Hash
	n  int64
	ow io.Writer
}

func (c *countingHash) Write(b []byte) (int, error) {
	c.h.Write(b)
	c.n += int64(len(b))
	return c.ow.Write(b)
}

// jsonPart writes v as the JSON part p (a schema) of items items.
func (w *Writer) jsonPart(ctx context.Context, p Part, v any, items int) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	pw, err := w.Part(ctx, p)
	if err != nil {
		return err
	}
	if _, err := pw.Write(b); err != nil {
		pw.Abort()
		return err
	}
	pw.Items = int64(items)
	return pw.Close()
}

// Part opens a new part described by p (Kind, Name, Path and the unit fields); it is stored
// compressed when p.Compression is Zstd (and the writer is not Uncompressed, which also
// drops a .zst suffix from the path).
func (w *Writer) Part(ctx context.Context, p Part) (*PartWriter, error) {
	if err := checkName(p.Path); err != nil {
		return nil, fmt.Errorf("part path %q leaves the backup: %w", p.Path, err)
	}
	if w.plain && p.Compression != "" {
		p.Compression = ""
		p.Path = strings.TrimSuffix(p.Path, ".zst")
	}
	ow, err := w.loc.Create(ctx, w.id+"/"+p.Path)
	if err != nil {
		return nil, fmt.Errorf("part %s: %w", p.Path, err)
	}
	pw := &PartWriter{w: w, ow: ow, part: p}
	pw.sink = countingHash{h: sha256.New(), ow: ow}
	if p.Compression == Zstd {
		pw.enc = encoders.Get().(*zstd.Encoder)
		pw.enc.Reset(&pw.sink)
	}
	return pw, nil
}

func (pw *PartWriter) Write(b []byte) (int, error) {
	pw.raw += int64(len(b))
	if pw.enc != nil {
		return pw.enc.Write(b)
	}
	return pw.sink.Write(b)
}

// Close finishes the part (compression, commit) and records it in the manifest.
func (pw *PartWriter) Close() error {
	if pw.enc != nil {
		err := pw.enc.Close()
		encoders.Put(pw.enc)
		pw.enc = nil
		if err != nil {
			pw.ow.Abort()
			return fmt.Errorf("part %s: %w", pw.part.Path, err)
		}
	}
	sum := hex.EncodeToString(pw.sink.h.Sum(nil))
	if err := pw.ow.Commit(sum); err != nil {
		return fmt.Errorf("part %s: %w", pw.part.Path, err)
	}
	pw.part.SHA256, pw.part.Bytes, pw.part.Items = sum, pw.sink.n, pw.Items
	if pw.part.Compression != "" {
		pw.part.Raw = pw.raw
	}
	pw.w.add(pw.part)
	return nil
}

// Abort drops the part.
func (pw *PartWriter) Abort() {
	if pw.enc != nil {
		pw.enc.Reset(io.Discard)
		encoders.Put(pw.enc)
		pw.enc = nil
	}
	pw.ow.Abort()
}

func (w *Writer) add(p Part) {
	w.mu.Lock()
	w.m.Parts = append(w.m.Parts, p)
	w.mu.Unlock()
}

// AddRef records a part whose bytes are stored in an earlier backup (p.Ref).
func (w *Writer) AddRef(p Part) { w.add(p) }

// AddImages records the images of the workloads.
func (w *Writer) AddImages(images []Image) {
	w.mu.Lock()
	w.m.Images = append(w.m.Images, images...)
	w.mu.Unlock()
}

// Note records something the backup does not hold.
func (w *Writer) Note(format string, args ...any) {
	w.mu.Lock()
	w.m.Notes = append(w.m.Notes, fmt.Sprintf(format, args...))
	w.mu.Unlock()
}

// Finish writes the manifest (committed atomically, last) and returns it.
func (w *Writer) Finish(ctx context.Context, now time.Time) (*Manifest, error) {
	w.mu.Lock()
	w.m.Finished = now.UTC()
	slices.SortFunc(w.m.Parts, func(a, b Part) int {
		if a.Path < b.Path {
			return -1
		}
		if a.Path > b.Path {
			return 1
		}
		return 0
	})
	m := w.m
	m.Parts = slices.Clone(w.m.Parts)
	w.mu.Unlock()
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	ow, err := w.loc.Create(ctx, w.id+"/"+ManifestFile)
	if err != nil {
		return nil, err
	}
	if _, err := ow.Write(append(b, '\n')); err != nil {
		ow.Abort()
		return nil, err
	}
	sum := sha256.Sum256(append(b, '\n'))
	if err := ow.Commit(hex.EncodeToString(sum[:])); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return &m, nil
}

// Abandon removes an unfinished backup.
func (w *Writer) Abandon(ctx context.Context) error { return removeAll(ctx, w.loc, w.id) }

func removeAll(ctx context.Context, loc Location, id string) error {
	// The manifest first: a backup half removed is then an unfinished one, not a damaged one.
	if err := loc.Delete(ctx, id+"/"+ManifestFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	objs, err := loc.List(ctx, id+"/")
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := loc.Delete(ctx, o.Name); err != nil {
			return err
		}
	}
	if d, ok := loc.(Dir); ok {
		removeEmptyDirs(string(d), id)
	}
	return nil
}

// dropParts forgets (and deletes) the parts of a table, dropped while it was being read.
func (w *Writer) dropParts(kind, scope, table string) {
	w.mu.Lock()
	kept := w.m.Parts[:0]
	var gone []Part
	for _, p := range w.m.Parts {
		if p.Kind == kind && p.Table == table && (p.Keyspace == scope || p.Database == scope) {
			gone = append(gone, p)
			continue
		}
		kept = append(kept, p)
	}
	w.m.Parts = kept
	w.mu.Unlock()
	for _, p := range gone {
		_ = w.loc.Delete(context.Background(), w.id+"/"+p.Path)
	}
}

// pathElem makes a name (a table, a database, a file) one safe path element: letters,
// digits, '_' and '-' as they are, every other byte as %XX, so no name can add a path
// level, leave the backup, or collide with another name on a case-insensitive disk
// (upper-case letters are escaped too).
func pathElem(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	if b.Len() == 0 {
		return "%"
	}
	return b.String()
}

// Dir is where the backup is: its directory for a local one, location/ID otherwise.
func (w *Writer) Dir() string { return where(w.loc, w.id) }
