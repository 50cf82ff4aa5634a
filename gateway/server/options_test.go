package server

import (
	"io"
	"strings"
	"testing"
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
