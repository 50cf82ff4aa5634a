package store

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apimctl/apimctl/gateway/config"
	"github.com/apimctl/apimctl/gateway/internal/testnet"
	"github.com/apimctl/apimctl/gateway/internal/testpki"
	"github.com/apimctl/apimctl/lab/labtest"
)

// tlsFront terminates TLS with cert on listen and forwards the plaintext to target, the way
// a Cassandra node with client_encryption_options enabled would speak.
func tlsFront(t *testing.T, listen, target string, cert tls.Certificate) *net.TCPAddr {
	t.Helper()
	ln, err := tls.Listen("tcp", listen, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	testnet.Forward(t, ln, target, func(g *testnet.Server, c, s net.Conn) {
		g.Go(func() { io.Copy(s, c); s.Close() })
		g.Go(func() { io.Copy(c, s); c.Close() })
	})
	return ln.Addr().(*net.TCPAddr)
}

// TestCassandraClientTLS connects the gateway's session configuration to the lab's Cassandra
// nodes through TLS fronts with certificates of a test CA: with cassandra.tls verify and that
// CA it works; with another CA, or a certificate for another name, it refuses to connect;
// insecure-skip-verify connects to anyone (which is why it must be asked for).
func TestCassandraClientTLS(t *testing.T) {
	env := labtest.Require(t)
	ca, err := testpki.NewCA("cassandra test CA")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := testpki.NewCA("another CA")
	dir := t.TempDir()
	caFile, _ := ca.WriteCA(dir, "ca.crt")
	otherFile, _ := other.WriteCA(dir, "other.crt")

	fronted := map[string]*net.TCPAddr{}
	for i, h := range env.CassandraHosts {
		ip := "127.79.0." + strconv.Itoa(i+1)
		cert, err := ca.Server(nil, []net.IP{net.ParseIP(ip)})
		if err != nil {
			t.Fatal(err)
		}
		fronted[h] = tlsFront(t, ip+":0", net.JoinHostPort(h, strconv.Itoa(env.CassandraPort)), cert)
	}
	connect := func(tlsc config.TLS) error {
		cfg := &config.Cassandra{HostList: env.CassandraHosts, Port: env.CassandraPort, Username: env.CassandraUser,
			Password: env.CassandraPassword, Keyspace: env.Keyspace, ThrottleKeyspace: env.ThrottleKeyspace, TablePrefix: "apigw_",
			Timeout: 10 * time.Second, ConnectTimeout: 5 * time.Second, TLS: tlsc}
		cl, err := clusterConfig(cfg)
		if err != nil {
			return err
		}
		through(cl, env.CassandraHosts, env.CassandraPort, fronted)
		c, err := open(cl, cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return c.Ping(ctx)
	}
	if err := connect(config.TLS{Mode: config.TLSVerify, CAFile: caFile}); err != nil {
		t.Fatalf("verify with the nodes' CA: %v", err)
	}
	if err := connect(config.TLS{Mode: config.TLSVerify, CAFile: otherFile}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("verify with another CA: %v, want a certificate error", err)
	}
	if err := connect(config.TLS{Mode: config.TLSVerify, CAFile: caFile, ServerName: "cassandra.example"}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("verify for another name: %v, want a certificate error", err)
	}
	if err := connect(config.TLS{Mode: config.TLSInsecure, CAFile: otherFile}); err != nil {
		t.Fatalf("insecure-skip-verify: %v", err)
	}
	if err := connect(config.TLS{Mode: config.TLSVerify, CAFile: dir + "/missing.crt"}); err == nil || !strings.Contains(err.Error(), "cassandra.tls.caFile") {
		t.Fatalf("a missing CA file: %v, want it named", err)
	}
}
