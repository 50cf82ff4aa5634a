package kube_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/apimctl/apimctl/cluster/kube"
	"github.com/apimctl/apimctl/lab/labtest"
)

// TestClientAgainstTheLab: the happy path (version, identity, a Secret, a missing Secret
// named), an API server that accepts but never answers (the call ends with the caller's
// deadline) and a token the API server refuses (401, not a hang or a panic).
func TestClientAgainstTheLab(t *testing.T) {
	env := labtest.Require(t)
	c, err := kube.Connect(env.Kubeconfig, env.Context)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if v, err := c.ServerVersion(ctx); err != nil || !strings.HasPrefix(v, "v1.") {
		t.Errorf("server version %q, %v", v, err)
	}
	if who, err := c.WhoAmI(ctx); err != nil || who == "" {
		t.Errorf("who am I: %q, %v", who, err)
	}
	if c.Context != env.Context || !strings.HasPrefix(c.Server, "https://127.") {
		t.Errorf("context %q server %q", c.Context, c.Server)
	}
	data, err := c.SecretData(ctx, env.Namespace, "cassandra-credentials")
	if err != nil || len(data) == 0 {
		t.Errorf("the lab's cassandra-credentials Secret: %d keys, %v", len(data), err)
	}
	if _, err := c.SecretData(ctx, env.Namespace, "no-such-secret"); err == nil || !strings.Contains(err.Error(), "no-such-secret not found") {
		t.Errorf("a missing Secret: %v", err)
	}

	t.Run("timeout", func(t *testing.T) {
		addr := labtest.Blackhole(t)
		c := connectEdited(t, env.Kubeconfig, env.Context, func(cfg *clientcmdConfig) {
			cfg.Clusters[cfg.Contexts[env.Context].Cluster].Server = "https://" + addr
		})
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		if _, err := c.ServerVersion(ctx); err == nil {
			t.Fatal("a server that never answers: no error")
		}
	})

	t.Run("auth error", func(t *testing.T) {
		c := connectEdited(t, env.Kubeconfig, env.Context, func(cfg *clientcmdConfig) {
			ai := cfg.AuthInfos[cfg.Contexts[env.Context].AuthInfo]
			ai.Token, ai.ClientCertificateData, ai.ClientKeyData = "not-a-token-of-this-cluster", nil, nil
		})
		_, err := c.SecretData(ctx, env.Namespace, "cassandra-credentials")
		if !apierrors.IsUnauthorized(err) {
			t.Fatalf("a refused token: %v, want 401 Unauthorized", err)
		}
		if strings.Contains(err.Error(), "not-a-token-of-this-cluster") {
			t.Error("the error repeats the token")
		}
	})
}

type clientcmdConfig = clientcmdapi.Config

// connectEdited connects with a copy of the lab's kubeconfig changed by edit.
func connectEdited(t *testing.T, kubeconfig, context string, edit func(*clientcmdConfig)) *kube.Client {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	edit(cfg)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	c, err := kube.Connect(path, context)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
