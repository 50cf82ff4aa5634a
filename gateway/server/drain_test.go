package server_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/apimctl/apimctl/gateway/clienttest"
)

// passthroughGateway starts a traffic gateway with one passthrough API and no store.
func passthroughGateway(t *testing.T, backend string, envExtra string, args ...string) (*proc, string, int, string) {
	t.Helper()
	dir := t.TempDir()
	events := filepath.Join(dir, "events")
	envFile := writeFile(t, dir, "env.yaml", "eventLog:\n  dir: "+events+"\n"+envExtra)
	polFile := writeFile(t, dir, "pol.yaml", "apis:\n  - {name: slow, path: /slow, backend: '"+backend+"', policy: passthrough}\n")
	port, admin := freePort(t), freePort(t)
	p := startApigw(t, nil, append([]string{"--role", "traffic", "--pol", polFile, "--env", envFile, "--instance", "gw-drain",
		"--port", fmt.Sprint(port), "--admin-port", fmt.Sprint(admin)}, args...)...)
	p.waitReady(t, fmt.Sprintf("http://127.0.0.1:%d/healthcheck", admin), 30*time.Second)
	return p, fmt.Sprintf("127.0.0.1:%d", port), admin, events
}

func countEventLines(t *testing.T, dir string) int {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	n := 0
	for _, e := range ents {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if strings.Contains(sc.Text(), `"api":"slow"`) {
				n++
			}
		}
		f.Close()
	}
	return n
}

// TestDrainUnderLoad sends SIGTERM to a gateway under concurrent load. Every request the
// gateway accepted must complete with 200; only connection attempts after its listener closed
// may fail, and only with "connection refused".
func TestDrainUnderLoad(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond) // in flight long enough to overlap the shutdown
		io.WriteString(w, strings.Repeat("x", 1024))
	}))
	defer backend.Close()
	p, addr, admin, events := passthroughGateway(t, backend.URL, "", "--drain-delay", "1s", "--drain-timeout", "10s")

	const clients = 16
	var ok, refused, backlogReset, failed atomic.Int64
	var listenerClosed atomic.Int64 // unix nanos: SIGTERM + drain delay
	var failMu sync.Mutex
	var failures []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Keep-alive clients, as behind a load balancer. Go's transport re-sends a GET only
			// when the server closed an idle connection before reading the request; the
			// gateway never saw such a request, so it is not one "accepted before shutdown".
			c := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer c.CloseIdleConnections()
			for n := 0; n < 400; n++ {
				select {
				case <-stop:
					return
				default:
				}
				var reused bool
				trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
				req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", "http://"+addr+"/slow/x", nil)
				resp, err := c.Do(req)
				if err != nil {
					if errors.Is(err, syscall.ECONNREFUSED) {
						refused.Add(1)
						time.Sleep(20 * time.Millisecond)
						continue
					}
					// A fresh connection reset (or closed with no answer) once the listener is
					// closing was still in the kernel's accept queue: Linux resets queued
					// connections when the listening socket closes. The gateway never accepted
					// it (the event count below proves it); a load balancer stops sending new
					// connections during the drain delay, so this only happens to clients that
					// dial the pod directly.
					if lc := listenerClosed.Load(); lc != 0 && !reused && time.Now().UnixNano() >= lc-int64(100*time.Millisecond) &&
						(errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
						backlogReset.Add(1)
						continue
					}
					failed.Add(1)
					failMu.Lock()
					failures = append(failures, err.Error())
					failMu.Unlock()
					continue
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || len(b) != 1024 {
					failed.Add(1)
					failMu.Lock()
					failures = append(failures, fmt.Sprintf("status %d, %d bytes, %v", resp.StatusCode, len(b), err))
					failMu.Unlock()
					continue
				}
				ok.Add(1)
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	before := ok.Load()
	listenerClosed.Store(time.Now().Add(time.Second).UnixNano()) // --drain-delay 1s
	p.sigterm(t)
	// Readiness turns false at once while traffic is still served.
	time.Sleep(300 * time.Millisecond)
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthcheck", admin))
	if err != nil || resp.StatusCode != 503 {
		t.Fatalf("readiness during drain: %v %v", resp, err)
	}
	resp.Body.Close()
	code := p.wait(t, 20*time.Second)
	time.Sleep(500 * time.Millisecond) // clients see the closed listener
	close(stop)
	wg.Wait()

	accepted := countEventLines(t, events)
	t.Logf("ok %d (of which %d before SIGTERM), refused after listener closed %d, reset in accept queue at close %d, failed %d, accepted by gateway %d, exit code %d",
		ok.Load(), before, refused.Load(), backlogReset.Load(), failed.Load(), accepted, code)
	if failed.Load() != 0 {
		t.Fatalf("%d requests failed during the drain: %v", failed.Load(), failures[:min(5, len(failures))])
	}
	if code != 0 {
		t.Fatalf("exit code %d, want 0", code)
	}
	if ok.Load() <= before {
		t.Fatal("no request completed during the drain delay")
	}
	if int64(accepted) != ok.Load() {
		t.Fatalf("gateway logged %d transactions, clients got %d answers: a request was lost or duplicated", accepted, ok.Load())
	}
	if !strings.Contains(p.logs.String(), "drained: every in-flight request finished") {
		t.Fatal("no drain log line")
	}
}

// TestEventLogCapUnderTraffic fills a gateway's event log far beyond its cap.
func TestEventLogCapUnderTraffic(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer backend.Close()
	p, addr, _, events := passthroughGateway(t, backend.URL, "  maxDiskSize: 64KB\n  maxFileSize: 8KB\n", "--drain-delay", "0s")
	c := &http.Client{}
	// ~ 250 bytes per event: 3000 requests write ~750 KB through a 64 KB cap.
	for i := 0; i < 3000; i++ {
		resp, err := c.Get("http://" + addr + "/slow/" + strings.Repeat("p", 50))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	p.sigterm(t)
	p.wait(t, 20*time.Second)
	var total int64
	ents, _ := os.ReadDir(events)
	for _, e := range ents {
		fi, _ := e.Info()
		total += fi.Size()
	}
	if total > 64<<10 || len(ents) < 4 {
		t.Fatalf("event log %d bytes in %d files, cap 64KB", total, len(ents))
	}
	if n := countEventLines(t, events); n < 100 || n >= 3000 {
		t.Fatalf("%d events kept; want the newest ones only", n)
	}
}

// TestTLS serves the traffic port with a self-signed certificate: HTTP/2 is negotiated and
// TLS 1.1 is refused.
func TestTLS(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer backend.Close()
	dir := t.TempDir()
	envFile := writeFile(t, dir, "env.yaml", "eventLog:\n  maxDiskSize: 1GB\n")
	polFile := writeFile(t, dir, "pol.yaml", "apis:\n  - {name: a, path: /a, backend: '"+backend.URL+"', policy: passthrough}\n")
	port, admin := freePort(t), freePort(t)
	p := startApigw(t, nil, "--role", "traffic", "--pol", polFile, "--env", envFile, "--tls-self-signed", "--drain-delay", "0s",
		"--port", fmt.Sprint(port), "--admin-port", fmt.Sprint(admin))
	p.waitReady(t, fmt.Sprintf("http://127.0.0.1:%d/healthcheck", admin), 30*time.Second)
	url := fmt.Sprintf("https://127.0.0.1:%d/a", port)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.StatusCode != 200 || resp.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("proto %s status %d tls %x", resp.Proto, resp.StatusCode, resp.TLS.Version)
	}
	c1 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}}}
	resp, err = c1.Get(url)
	if err != nil || resp.ProtoMajor != 1 {
		t.Fatalf("HTTP/1.1 over TLS: %v %v", resp, err)
	}
	resp.Body.Close()
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11, MinVersion: tls.VersionTLS10}}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	if resp, err := old.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("a TLS 1.1 client was served")
	}
	p.sigterm(t)
	p.wait(t, 20*time.Second)
}

// TestInvalidConfigDoesNotStart checks the process refuses bad packages with file:line.
func TestInvalidConfigDoesNotStart(t *testing.T) {
	dir := t.TempDir()
	envFile := writeFile(t, dir, "env.yaml", "cassandra:\n  hosts: ${environment.CASS_HOST}\n  keyspace: k\n  throttleKeyspace: t\n")
	polFile := writeFile(t, dir, "pol.yaml", "apis:\n  - {name: a, path: /a, backend: 'http://127.0.0.1:1', policy: passthrough}\n")
	p := startApigw(t, nil, "--role", "traffic", "--pol", polFile, "--env", envFile, "--port", fmt.Sprint(freePort(t)), "--admin-port", fmt.Sprint(freePort(t)))
	if code := p.wait(t, 10*time.Second); code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	if !strings.Contains(p.logs.String(), `env.yaml:2: field cassandra.hosts: environment variable CASS_HOST is not set`) {
		t.Fatalf("logs: %s", p.logs.String())
	}
	bad := writeFile(t, dir, "bad.yaml", "apis:\n  - name: a\n    path: /a\n    backend: http://127.0.0.1:1\n    policy: jwt\n")
	p = startApigw(t, map[string]string{"CASS_HOST": "127.0.0.1"}, "--role", "traffic", "--pol", bad, "--env", envFile)
	if code := p.wait(t, 10*time.Second); code != 1 || !strings.Contains(p.logs.String(), `bad.yaml:5: field apis[0].policy: unknown policy \"jwt\"`) {
		t.Fatalf("exit %d logs: %s", code, p.logs.String())
	}
}

// TestManagementRolesRefuseToStartWithoutToken: the API Manager and the Admin Node Manager
// do not start without the token of their management API, and say which setting and which
// Secret key to fill (checked before any dependency is contacted).
func TestManagementRolesRefuseToStartWithoutToken(t *testing.T) {
	dir := t.TempDir()
	envFile := writeFile(t, dir, "env.yaml", `cassandra:
  hosts: 127.0.0.1
  keyspace: k
  throttleKeyspace: t
metricsDB:
  url: jdbc:mysql://127.0.0.1:1/m
anm:
  adminToken: ${environment.ANM_ADMIN_TOKEN:-}
eventLog:
  dir: `+dir+`/events
apimgr:
  adminToken: ${environment.APIMGR_ADMIN_TOKEN:-}
`)
	for _, c := range []struct {
		role, want string
		env        map[string]string
	}{
		{"apimgr", `field apimgr.adminToken: is empty: the API Manager's management API (applications, keys, OAuth clients) never answers without a token; set apimgr.adminToken: ${environment.APIMGR_ADMIN_TOKEN} from the Secret apimgr-admin, key APIMGR_ADMIN_TOKEN`, nil},
		{"anm", `field anm.adminToken: is empty: the Admin Node Manager's API (topology, traffic metrics) never answers without a token; set anm.adminToken: ${environment.ANM_ADMIN_TOKEN} from the Secret anm-admin, key ANM_ADMIN_TOKEN`, nil},
		{"apimgr", `field apimgr.adminToken: is too short (at least 16 characters)`, map[string]string{"APIMGR_ADMIN_TOKEN": "letmein"}},
	} {
		p := startApigw(t, c.env, "--role", c.role, "--env", envFile, "--port", fmt.Sprint(freePort(t)), "--admin-port", fmt.Sprint(freePort(t)))
		if code := p.wait(t, 10*time.Second); code != 1 {
			t.Fatalf("%s: exit code %d, want 1\n%s", c.role, code, p.logs.String())
		}
		logs := strings.ReplaceAll(p.logs.String(), `\"`, `"`)
		if !strings.Contains(logs, c.want) {
			t.Errorf("%s: logs lack %q:\n%s", c.role, c.want, logs)
		}
		if strings.Contains(logs, "letmein") {
			t.Errorf("%s: the token is in the logs", c.role)
		}
	}
}

// TestSlowClientsAreCutOff runs apigw with a 500 ms body timeout and a 500 ms write timeout:
// a client that trickles its body gets 408 and its connection closed long before it is done;
// one that stops reading a large response is disconnected and the backend released.
func TestSlowClientsAreCutOff(t *testing.T) {
	released := make(chan struct{}, 1)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			io.Copy(io.Discard, r.Body)
			return
		}
		chunk := make([]byte, 64<<10)
		for i := 0; i < 4096; i++ {
			if _, err := w.Write(chunk); err != nil {
				released <- struct{}{}
				return
			}
		}
	}))
	defer backend.Close()
	_, addr, _, _ := passthroughGateway(t, backend.URL, "", "--body-timeout", "500ms", "--write-timeout", "500ms")

	// One byte every 50 ms: 50 s for the whole body.
	status, cut := clienttest.SlowBody(t, addr, "POST /slow/upload HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n", 1000, 50*time.Millisecond, 20*time.Second)
	if status != http.StatusRequestTimeout {
		t.Fatalf("slow body: %d, want 408", status)
	}
	if n := <-cut; n >= 1000 {
		t.Fatal("the slow client sent its whole body into an open connection")
	}

	r, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	io.WriteString(r, "GET /slow/big HTTP/1.1\r\nHost: a\r\n\r\n") // and never read
	select {
	case <-released:
	case <-time.After(30 * time.Second):
		t.Fatal("a client that stopped reading kept its backend connection")
	}
}
