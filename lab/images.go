package lab

import (
	"context"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/apimctl/apimctl/cluster/registry"
)

// GatewayTags are the tags the lab's registry holds for each gateway repository: rollouts
// check that an image exists before they start, so the lab has real ones to roll to. (The lab
// agent runs the apigw that `lab up` built for any tag; `lab fault` makes a tag misbehave.)
var GatewayTags = []string{"1.0.0", "1.0.1", "1.0.2", "1.0.3"}

// pushGatewayImages pushes a small image per repository and tag (one layer with
// apigateway/VERSION, the version in the config's labels), skipping those already there.
func (l *Lab) pushGatewayImages(ctx context.Context) error {
	for _, repo := range l.GatewayImageRepos() {
		for _, tag := range GatewayTags {
			ref, err := name.ParseReference(repo+":"+tag, name.Insecure)
			if err != nil {
				return err
			}
			if _, err := remote.Head(ref, remote.WithContext(ctx)); err == nil {
				continue
			}
			img, err := gatewayImage(tag)
			if err != nil {
				return err
			}
			if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
				return fmt.Errorf("push %s: %w", ref, err)
			}
		}
	}
	return nil
}

// gatewayImage is the lab's stand-in for a gateway image of a version: reproducible (fixed
// timestamps), so every lab builds the same digests.
func gatewayImage(version string) (v1.Image, error) {
	layer, err := registry.Layer(map[string]registry.File{"apigateway/VERSION": {Data: []byte(version + "\n")}})
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	return registry.EditConfig(img, func(cf *v1.ConfigFile) {
		cf.OS, cf.Architecture = "linux", "amd64"
		cf.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
		cf.Config.Entrypoint = []string{"/apigateway/apigw"}
		cf.Config.Labels = map[string]string{"org.opencontainers.image.version": version, "org.opencontainers.image.title": "apigw (apimctl lab)"}
	})
}
