package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// CopyProgress is told about each part Copy handles.
type CopyProgress func(p Part, skipped bool)

// Copy copies backup id from one location to another (off-site: a local backup to Azure),
// resumably: a part already at the destination with the manifest's size and SHA-256 is not
// sent again, so a copy interrupted by a network failure continues where it stopped. The
// manifest goes last, so the destination holds a complete backup only once every part is
// there. Parts an incremental backup keeps in an earlier backup are copied to that backup's
// place at the destination (pruning keeps backups that others refer to).
func Copy(ctx context.Context, from, to Location, id string, progress CopyProgress) (*Manifest, error) {
	b, err := Open(ctx, from, id)
	if err != nil {
		return nil, err
	}
	if progress == nil {
		progress = func(Part, bool) {}
	}
	for _, p := range b.Manifest.Parts {
		name := objectName(id, p)
		if same, err := hasObject(ctx, to, name, p); err != nil {
			return nil, fmt.Errorf("copy to %s: %w", to, err)
		} else if same {
			progress(p, true)
			continue
		}
		if err := copyObject(ctx, from, to, name, p); err != nil {
			return nil, err
		}
		progress(p, false)
	}
	// The manifest as it is, byte for byte.
	if err := copyObject(ctx, from, to, id+"/"+ManifestFile, Part{Path: ManifestFile}); err != nil {
		return nil, err
	}
	return b.Manifest, nil
}

// hasObject reports whether name is at loc with p's size and checksum. Where the location
// records no checksum (a local directory), the object is read to compute it.
func hasObject(ctx context.Context, loc Location, name string, p Part) (bool, error) {
	o, err := loc.Stat(ctx, name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if o.Size != p.Bytes {
		return false, nil
	}
	if o.SHA256 != "" {
		return o.SHA256 == p.SHA256, nil
	}
	r, err := loc.Open(ctx, name)
	if err != nil {
		return false, err
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return false, err
	}
	return hex.EncodeToString(h.Sum(nil)) == p.SHA256, nil
}

// copyObject streams one object, checking what it read against p (when p has a checksum).
func copyObject(ctx context.Context, from, to Location, name string, p Part) error {
	r, err := from.Open(ctx, name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("part %s is missing from %s", name, from)
		}
		return fmt.Errorf("read %s from %s: %w", name, from, err)
	}
	defer r.Close()
	var src io.Reader = r
	if p.SHA256 != "" {
		src = &checkedReader{r: r, h: sha256.New(), part: p}
	}
	w, err := to.Create(ctx, name)
	if err != nil {
		return fmt.Errorf("write %s to %s: %w", name, to, err)
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(w, h), src); err != nil {
		w.Abort()
		return fmt.Errorf("copy %s to %s: %w", name, to, err)
	}
	if err := w.Commit(hex.EncodeToString(h.Sum(nil))); err != nil {
		return fmt.Errorf("write %s to %s: %w", name, to, err)
	}
	return nil
}
