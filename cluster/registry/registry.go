package registry

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Resolve returns the digest of an image reference (a HEAD of its manifest). Registries on
// loopback are spoken to over plain HTTP, as go-containerregistry does by default.
func Resolve(ctx context.Context, ref string) (string, error) {
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return "", err
	}
	d, err := remote.Head(r, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain))
	if err != nil {
		return "", err
	}
	return d.Digest.String(), nil
}

// NotFound reports whether err is the registry saying it has no such image (as opposed to
// not being reachable or refusing us).
func NotFound(err error) bool {
	var te *transport.Error
	if !errors.As(err, &te) {
		return false
	}
	if te.StatusCode == http.StatusNotFound {
		return true
	}
	for _, d := range te.Errors {
		if d.Code == transport.ManifestUnknownErrorCode || d.Code == transport.NameUnknownErrorCode {
			return true
		}
	}
	return false
}

// Image fetches an image's manifest and config (layers are read when used).
func Image(ctx context.Context, ref string) (v1.Image, error) {
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return nil, err
	}
	return remote.Image(r, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain))
}

// Push writes img as ref (missing blobs are uploaded, existing ones mounted) and returns its
// digest.
func Push(ctx context.Context, ref string, img v1.Image) (string, error) {
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return "", err
	}
	if err := remote.Write(r, img, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		return "", err
	}
	d, err := img.Digest()
	if err != nil {
		return "", err
	}
	return d.String(), nil
}

// File is one file of a layer: its content in Data, or on disk at Path (read each time
// the layer is, so a large tree is streamed, never held in memory).
type File struct {
	Data       []byte
	Path       string
	Executable bool
}

// Layer builds an image layer from files (slash-separated paths): a tar with sorted entries,
// each parent directory once, fixed times and modes (0644, 0755 for executables and
// directories), so the same files always give the same digest.
func Layer(files map[string]File) (v1.Layer, error) {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(writeTar(pw, paths, files)) }()
		return pr, nil
	})
}

// EditConfig is img with its config file changed by edit (on a copy: img is unchanged).
func EditConfig(img v1.Image, edit func(*v1.ConfigFile)) (v1.Image, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	edit(cf)
	return mutate.ConfigFile(img, cf)
}

func writeTar(w io.Writer, paths []string, files map[string]File) error {
	tw := tar.NewWriter(w)
	epoch := time.Unix(0, 0).UTC()
	dirs := map[string]bool{}
	for _, p := range paths {
		for i := 0; i < len(p); i++ {
			if p[i] == '/' && !dirs[p[:i+1]] {
				dirs[p[:i+1]] = true
				if err := tw.WriteHeader(&tar.Header{Name: p[:i+1], Typeflag: tar.TypeDir, Mode: 0o755, ModTime: epoch}); err != nil {
					return err
				}
			}
		}
		f := files[p]
		mode := int64(0o644)
		if f.Executable {
			mode = 0o755
		}
		if err := writeFile(tw, p, f, mode, epoch); err != nil {
			return err
		}
	}
	return tw.Close()
}

func writeFile(tw *tar.Writer, p string, f File, mode int64, epoch time.Time) error {
	var r io.Reader = bytes.NewReader(f.Data)
	size := int64(len(f.Data))
	if f.Path != "" {
		fh, err := os.Open(f.Path)
		if err != nil {
			return err
		}
		defer fh.Close()
		info, err := fh.Stat()
		if err != nil {
			return err
		}
		r, size = fh, info.Size()
	}
	if err := tw.WriteHeader(&tar.Header{Name: p, Typeflag: tar.TypeReg, Mode: mode, Size: size, ModTime: epoch}); err != nil {
		return err
	}
	if _, err := io.CopyN(tw, r, size); err != nil {
		return fmt.Errorf("layer file %s: %w", p, err)
	}
	return nil
}

// Copy copies the image (or image index) src to dst, registry to registry, as `crane copy`
// does: blobs the destination has are not sent again, so a copy run again is cheap. It
// returns the digest, which is the same at both ends.
func Copy(ctx context.Context, src, dst string) (string, error) {
	s, err := name.ParseReference(src, name.WeakValidation)
	if err != nil {
		return "", err
	}
	d, err := name.ParseReference(dst, name.WeakValidation)
	if err != nil {
		return "", err
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)}
	desc, err := remote.Get(s, opts...)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", src, err)
	}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return "", fmt.Errorf("read %s: %w", src, err)
		}
		if err := remote.WriteIndex(d, idx, opts...); err != nil {
			return "", fmt.Errorf("write %s: %w", dst, err)
		}
	} else {
		img, err := desc.Image()
		if err != nil {
			return "", fmt.Errorf("read %s: %w", src, err)
		}
		if err := remote.Write(d, img, opts...); err != nil {
			return "", fmt.Errorf("write %s: %w", dst, err)
		}
	}
	return desc.Digest.String(), nil
}
