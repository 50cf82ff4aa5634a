package prom_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apimctl/apimctl/cluster/prom"
	"github.com/apimctl/apimctl/lab/labtest"
)

// TestClientAgainstTheLab: the happy path (version, an instant query), a server that accepts
// but never answers (the call ends with the caller's deadline), a refused connection, and a
// query the server rejects (its message, not a panic).
func TestClientAgainstTheLab(t *testing.T) {
	env := labtest.Require(t)
	c := labtest.Prometheus(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if v, err := c.Version(ctx); err != nil || !strings.Contains(v, ".") {
		t.Errorf("version %q, %v", v, err)
	}
	if v, err := c.Query(ctx, `up{job="prometheus"}`); err != nil || !strings.Contains(v.String(), "prometheus") {
		t.Errorf("query: %v, %v", v, err)
	}
	if _, err := c.Query(ctx, `sum(`); err == nil || !strings.Contains(err.Error(), "parse") {
		t.Errorf("a bad query: %v", err)
	}

	t.Run("timeout", func(t *testing.T) {
		c, err := prom.New("http://" + labtest.Blackhole(t))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		if _, err := c.Version(ctx); err == nil {
			t.Fatal("a server that never answers: no error")
		}
	})

	t.Run("refused", func(t *testing.T) {
		c, err := prom.New("http://" + labtest.ClosedPort(t))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Query(ctx, "up"); err == nil || !strings.Contains(err.Error(), "refused") {
			t.Fatalf("nothing listening: %v", err)
		}
	})
}
