package registry_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apimctl/apimctl/cluster/registry"
	"github.com/apimctl/apimctl/lab/labtest"
)

// TestClientAgainstTheLab: the happy path (the lab's gateway image resolves to a digest and
// its config is read), a tag the registry does not have (NotFound), a registry that accepts
// but never answers (the caller's deadline ends it, and it is not "not found": a push must not
// go ahead on it), and a refused connection (not "not found" either).
func TestClientAgainstTheLab(t *testing.T) {
	env := labtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ref := env.RegistryAddr + "/apim/gateway:1.0.0"
	d, err := registry.Resolve(ctx, ref)
	if err != nil || !strings.HasPrefix(d, "sha256:") {
		t.Fatalf("resolve %s: %q, %v", ref, d, err)
	}
	img, err := registry.Image(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err := img.ConfigFile(); err != nil || cfg == nil {
		t.Errorf("config of %s: %v", ref, err)
	}
	_, err = registry.Resolve(ctx, env.RegistryAddr+"/apim/gateway:no-such-tag")
	if err == nil || !registry.NotFound(err) {
		t.Errorf("a missing tag: %v, NotFound %v", err, registry.NotFound(err))
	}

	t.Run("timeout", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		_, err := registry.Resolve(ctx, labtest.Blackhole(t)+"/apim/gateway:1.0.0")
		if err == nil || registry.NotFound(err) {
			t.Fatalf("a registry that never answers: %v", err)
		}
	})

	t.Run("refused", func(t *testing.T) {
		_, err := registry.Resolve(ctx, labtest.ClosedPort(t)+"/apim/gateway:1.0.0")
		if err == nil || registry.NotFound(err) {
			t.Fatalf("nothing listening: %v", err)
		}
	})
}
