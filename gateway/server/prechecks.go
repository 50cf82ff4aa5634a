package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/apimctl/apimctl/gateway/config"
)

// dependency is something a role waits for before starting, like the reference Helm chart's
// initContainers.
type dependency struct {
	name  string
	addr  string // host:port for a TCP check, or a URL for an HTTP check
	httpc bool
	tls   *tls.Config // for an https URL; nil: the system's CAs
}

func (d dependency) probe(ctx context.Context) error {
	if !d.httpc {
		var dl net.Dialer
		c, err := dl.DialContext(ctx, "tcp", d.addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
	req, err := http.NewRequestWithContext(ctx, "GET", d.addr, nil)
	if err != nil {
		return err
	}
	c := precheckClient
	if d.tls != nil {
		c = &http.Client{Timeout: precheckClient.Timeout, Transport: &http.Transport{Proxy: nil, TLSClientConfig: d.tls}}
		defer c.CloseIdleConnections()
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", config.RedactURL(d.addr), resp.Status)
	}
	return nil
}

var precheckClient = &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{Proxy: nil}}

// waitFor waits for each dependency in turn until it answers or the overall timeout ends.
func waitFor(ctx context.Context, deps []dependency, timeout time.Duration, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for _, d := range deps {
		start := time.Now()
		lastLog := time.Time{}
		for attempt := 1; ; attempt++ {
			pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
			err := d.probe(pctx)
			pcancel()
			addr := config.RedactURL(d.addr) // an endpoint URL may carry credentials
			if err == nil {
				log.Info("precheck passed", "dependency", d.name, "address", addr, "waited", time.Since(start).Round(time.Millisecond).String())
				break
			}
			if time.Since(lastLog) >= 10*time.Second {
				log.Warn("precheck waiting", "dependency", d.name, "address", addr, "attempt", attempt, "err", config.RedactURL(err.Error()))
				lastLog = time.Now()
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("precheck failed: %s at %s not reachable after %s: %v (raise --precheck-timeout, or --skip-prechecks)",
					d.name, addr, time.Since(start).Round(time.Second), config.RedactURL(err.Error()))
			case <-time.After(time.Second):
			}
		}
	}
	return nil
}

func healthURL(base string) string {
	return strings.TrimRight(base, "/") + "/healthcheck"
}

func hostPort(h string, port int) string { return net.JoinHostPort(h, strconv.Itoa(port)) }
