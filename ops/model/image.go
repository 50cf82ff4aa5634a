package model

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Image references: one parser for the whole console (the tag a pod runs, the image a
// rollout sets, the repository a patch is pushed to).

// ImageTag returns the tag of an image reference: "" when there is none or it is pinned by
// digest only. A registry port ("127.0.0.1:16500/apim/gateway") is not a tag.
func ImageTag(image string) string {
	if i := strings.IndexByte(image, '@'); i >= 0 {
		image = image[:i]
	}
	slash := strings.LastIndexByte(image, '/')
	colon := strings.LastIndexByte(image, ':')
	if colon > slash {
		return image[colon+1:]
	}
	return ""
}

// ImageRepo is an image reference without its tag and digest, spelled as given (no registry
// or library/ added).
func ImageRepo(image string) string {
	repo, _, _ := strings.Cut(image, "@")
	if i := strings.LastIndexByte(repo, ':'); i > strings.LastIndexByte(repo, '/') {
		repo = repo[:i]
	}
	return repo
}

var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// NewImage is the image a rollout sets: arg is a tag (the current repository is kept) or a
// whole reference.
func NewImage(current, arg string) (string, error) {
	if arg == "" {
		return "", errors.New("no image or tag given")
	}
	if !strings.ContainsAny(arg, ":/@") {
		if !tagPattern.MatchString(arg) {
			return "", fmt.Errorf("invalid tag %q", arg)
		}
		if _, err := name.ParseReference(current, name.WeakValidation); err != nil {
			return "", fmt.Errorf("the current image %q cannot be parsed: %w", current, err)
		}
		// The repository as the Deployment spells it (no registry or library/ added).
		return ImageRepo(current) + ":" + arg, nil
	}
	if _, err := name.ParseReference(arg, name.WeakValidation); err != nil {
		return "", fmt.Errorf("invalid image %q: %w", arg, err)
	}
	return arg, nil
}
