package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apimctl/apimctl/gateway/internal/testpki"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// apigwBinary builds cmd/apigw once per test run.
func apigwBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "apigw-test-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "apigw")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/apimctl/apimctl/cmd/apigw").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func uniq() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// proc is an apigw subprocess; it is killed (by its PID) when the test ends.
type proc struct {
	cmd   *exec.Cmd
	logs  *syncBuf
	done  chan struct{}
	port  int
	admin int
}

func startApigw(t *testing.T, env map[string]string, args ...string) *proc {
	t.Helper()
	p := &proc{logs: &syncBuf{}, done: make(chan struct{})}
	// apigw listens on every interface by default; tests stay on loopback.
	p.cmd = exec.Command(apigwBinary(t), append([]string{"--listen-ip", "127.0.0.1"}, args...)...)
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("apigw %v logs:\n%s", args, p.logs.String())
		}
	})
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitReady polls url until it answers 200.
func (p *proc) waitReady(t *testing.T, url string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if p.exited() {
			t.Fatalf("apigw exited before ready: %v\n%s", p.cmd.ProcessState, p.logs.String())
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s not ready within %s\n%s", url, within, p.logs.String())
}

func (p *proc) sigterm(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
}

func (p *proc) wait(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(within):
		t.Fatalf("apigw did not exit within %s", within)
		return -1
	}
}

// labCassandraEnv is the start of an env file: a cassandra section on the lab's variables
// (env.Vars()), its tables prefixed with prefix; more of the section may follow.
func labCassandraEnv(prefix string) string {
	return `
cassandra:
  hosts: ${environment.CASS_HOST}
  port: ${environment.CASS_PORT}
  username: ${environment.CASS_USERNAME}
  password: ${environment.CASS_PASS}
  keyspace: ${environment.CASS_KEYSPACE}
  throttleKeyspace: ${environment.CASS_TKEYSPACE}
  tablePrefix: ` + prefix + `
`
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

type result struct {
	code   int
	body   string
	header http.Header
}

func call(t *testing.T, c *http.Client, method, url string, body io.Reader, hdr map[string]string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{resp.StatusCode, strings.TrimSpace(string(b)), resp.Header}
}

// testPKI writes a CA and a server certificate for 127.0.0.1 and localhost signed by it into
// dir, and returns their paths (the key is 0600).
func testPKI(t *testing.T, dir string) (caFile, certFile, keyFile string) {
	t.Helper()
	ca, err := testpki.NewCA("apigw test CA")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Server([]string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile = writeFile(t, dir, "ca.crt", string(ca.PEM))
	certFile = writeFile(t, dir, "tls.crt", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})))
	keyFile = writeFile(t, dir, "tls.key", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})))
	return caFile, certFile, keyFile
}
