package lab

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"slices"
	"time"
)

// component is one lab process: how to prepare its state, start it and tell that it serves.
type component struct {
	name   string
	group  string   // kube, cassandra, mariadb, prometheus, registry, azurite
	addr   string   // shown by `lab status`
	listen []string // host:port it binds; checked free before anything starts
	grace  time.Duration
	// prepare writes configuration and initialises data; it must be idempotent.
	prepare func(ctx context.Context) error
	// refresh, when set, brings a component that runs already up to date with this lab's
	// configuration (Prometheus rereads its rules and scrape jobs) instead of a restart.
	refresh func(ctx context.Context) error
	command func() *exec.Cmd
	ready   func(ctx context.Context) error
}

// Component groups, in the order `lab up` reports them.
var componentNames = []string{"kube", "cassandra", "mariadb", "prometheus", "registry", "azurite"}

func knownComponent(g string) bool { return slices.Contains(componentNames, g) }

// httpReady returns a probe that wants a 2xx from url (TLS unverified: loopback only, the lab's
// own self-signed endpoints), with an optional bearer token.
func httpReady(url, token string) func(ctx context.Context) error {
	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // loopback health probe
	}
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("%s: %s %s", url, resp.Status, body)
		}
		return nil
	}
}

func tcpReady(addr string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
}

// portFree reports whether addr can be bound now.
func portFree(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return ln.Close()
}
