package server

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apimctl/apimctl/gateway/config"
)

// TestListenAddress: a pod answers its Service on every interface by default; loopback only
// when asked (the lab's agent always asks, with the pod's loopback IP).
func TestListenAddress(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	base := []string{"--role=anm", "--env=x.yaml"}
	o, err := ParseFlags(base, env(nil), io.Discard)
	if err != nil || o.ListenIP != "" || hostPort(o.ListenIP, o.Port) != ":8090" {
		t.Fatalf("default listen address %q (%v), want every interface", hostPort(o.ListenIP, o.Port), err)
	}
	if o, _ = ParseFlags(append(base, "--listen-ip=127.0.0.1"), env(nil), io.Discard); o.ListenIP != "127.0.0.1" {
		t.Fatalf("--listen-ip ignored: %q", o.ListenIP)
	}
	if o, _ = ParseFlags(base, env(map[string]string{"APIGW_LISTEN_IP": "10.1.2.3"}), io.Discard); o.ListenIP != "10.1.2.3" {
		t.Fatalf("APIGW_LISTEN_IP ignored: %q", o.ListenIP)
	}
	if _, err := ParseFlags(append(base, "--listen-ip=localhost:80"), env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "not an IP address") {
		t.Fatalf("bad --listen-ip: %v", err)
	}
}

func TestKeyFilesReadableByOthers(t *testing.T) {
	dir := t.TempDir()
	loose, tight := filepath.Join(dir, "loose.key"), filepath.Join(dir, "tight.key")
	os.WriteFile(loose, []byte("k"), 0o644)
	os.WriteFile(tight, []byte("k"), 0o600)
	env := &config.EnvironmentPackage{Cassandra: &config.Cassandra{TLS: config.TLS{KeyFile: tight}}}
	if w := keyFilesReadableByOthers(Options{TLSKey: loose}, env); len(w) != 1 || !strings.Contains(w[0], "--tls-key "+loose) || !strings.Contains(w[0], "0644") {
		t.Fatalf("warnings %q", w)
	}
	if w := keyFilesReadableByOthers(Options{TLSKey: tight}, env); len(w) != 0 {
		t.Fatalf("warnings for private files: %q", w)
	}
}
