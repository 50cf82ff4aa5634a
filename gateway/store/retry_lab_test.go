package store

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gocql/gocql"

	"github.com/apimctl/apimctl/gateway/config"
	"github.com/apimctl/apimctl/gateway/internal/testnet"
	"github.com/apimctl/apimctl/lab/labtest"
)

// cqlProxy forwards one Cassandra node's native protocol (v4, uncompressed) and, when armed,
// swallows the answer to the next EXECUTE it forwards: the node runs the statement, the
// client never hears back and times out — the case where a retry would apply it twice.
type cqlProxy struct {
	ln      net.Listener
	target  string
	armed   *atomic.Bool // shared by the proxies of every node
	dropped *atomic.Int32
}

func startCQLProxy(t *testing.T, listen, target string, armed *atomic.Bool, dropped *atomic.Int32) *cqlProxy {
	t.Helper()
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		t.Fatal(err)
	}
	p := &cqlProxy{ln: ln, target: target, armed: armed, dropped: dropped}
	testnet.Forward(t, ln, target, func(g *testnet.Server, c, s net.Conn) {
		var drop sync.Map // stream ids whose answer is swallowed
		g.Go(func() {
			p.pump(c, s, func(h []byte) bool { // client -> node
				if h[4] == 0x0A && p.armed.CompareAndSwap(true, false) {
					drop.Store(binary.BigEndian.Uint16(h[2:4]), true)
				}
				return true
			})
		})
		g.Go(func() {
			p.pump(s, c, func(h []byte) bool { // node -> client
				if _, ok := drop.LoadAndDelete(binary.BigEndian.Uint16(h[2:4])); ok {
					p.dropped.Add(1)
					return false
				}
				return true
			})
		})
	})
	return p
}

// pump copies frames from src to dst; pass decides from a frame's 9-byte header whether it
// goes through.
func (p *cqlProxy) pump(src, dst net.Conn, pass func(h []byte) bool) {
	defer src.Close()
	defer dst.Close()
	h := make([]byte, 9)
	for {
		if _, err := io.ReadFull(src, h); err != nil {
			return
		}
		body := make([]byte, binary.BigEndian.Uint32(h[5:9]))
		if _, err := io.ReadFull(src, body); err != nil {
			return
		}
		if !pass(h) {
			continue
		}
		if _, err := dst.Write(append(append([]byte{}, h...), body...)); err != nil {
			return
		}
	}
}

func (p *cqlProxy) addr() *net.TCPAddr { return p.ln.Addr().(*net.TCPAddr) }

// through makes cl reach the nodes hosts (on port) only through the stand-ins in front of
// them (front: node → the stand-in's address): the stand-ins are the contact points, and the
// nodes' own addresses, as the cluster reports them, are translated to theirs.
func through(cl *gocql.ClusterConfig, hosts []string, port int, front map[string]*net.TCPAddr) {
	cl.Hosts = nil
	for _, h := range hosts {
		cl.Hosts = append(cl.Hosts, front[h].String())
	}
	cl.AddressTranslator = gocql.AddressTranslatorFunc(func(addr net.IP, p int) (net.IP, int) {
		if a, ok := front[addr.String()]; ok && p == port {
			return a.IP, a.Port
		}
		return addr, p
	})
}

// TestCounterUpdateIsNeverRetried sends a counter update through the gateway's own session
// configuration to the lab's Cassandra, with the answer lost on the way back. The driver must
// not retry it on another node (it would count twice): AddCount reports ErrCountUnknown and
// the counter, read directly, holds the delta once.
func TestCounterUpdateIsNeverRetried(t *testing.T) {
	env := labtest.Require(t)
	if len(env.CassandraHosts) < 2 {
		labtest.Missing(t, "needs at least 2 Cassandra nodes for a retry to have somewhere to go; the lab has 1")
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	prefix := "rt" + hex.EncodeToString(b[:]) + "_"
	cfg := &config.Cassandra{HostList: env.CassandraHosts, Port: env.CassandraPort, Username: env.CassandraUser, Password: env.CassandraPassword,
		Keyspace: env.Keyspace, ThrottleKeyspace: env.ThrottleKeyspace, TablePrefix: prefix, Timeout: 10 * time.Second, ConnectTimeout: 10 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	direct, err := Open(ctx, cfg, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	if err := direct.s.Query(`CREATE TABLE IF NOT EXISTS ` + direct.tt("throttle") + ` (bucket text, window bigint, count counter, PRIMARY KEY ((bucket, window)))`).
		WithContext(ctx).Exec(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = direct.s.Query(`DROP TABLE IF EXISTS ` + direct.tt("throttle")).Exec() })

	// The same session configuration as the gateway's, every node behind its proxy.
	var armed atomic.Bool
	var dropped atomic.Int32
	// One loopback IP per proxy: gocql tells hosts apart by IP alone.
	proxied := map[string]*net.TCPAddr{}
	for i, h := range env.CassandraHosts {
		p := startCQLProxy(t, "127.77.0."+strconv.Itoa(i+1)+":0", net.JoinHostPort(h, strconv.Itoa(env.CassandraPort)), &armed, &dropped)
		proxied[h] = p.addr()
	}
	cl, err := clusterConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	through(cl, env.CassandraHosts, env.CassandraPort, proxied)
	cl.Timeout, cl.WriteTimeout = time.Second, time.Second // the lost answer times out quickly
	c, err := open(cl, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	bucket := "retry|" + prefix
	if total, err := c.AddCount(ctx, bucket, 7, 1); err != nil || total != 1 {
		t.Fatalf("first add through the proxies: %d %v", total, err)
	}
	armed.Store(true)
	_, addErr := c.AddCount(ctx, bucket, 7, 5)
	if dropped.Load() != 1 {
		t.Fatalf("the proxy swallowed %d answers, want 1 (err %v)", dropped.Load(), addErr)
	}
	var count int64
	deadline := time.Now().Add(10 * time.Second)
	for {
		err = direct.s.Query(`SELECT count FROM `+direct.tt("throttle")+` WHERE bucket = ? AND window = ?`, bucket, int64(7)).
			WithContext(ctx).Scan(&count)
		if (err == nil && count == 6) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond) // the swallowed update may still be on its way
	}
	if err != nil || count != 6 {
		t.Fatalf("counter %d (%v) after adding 1 and 5, want 6: the update was applied %s (AddCount: %v)", count, err,
			map[bool]string{true: "twice", false: "a number of times other than once"}[count == 11], addErr)
	}
	if !errors.Is(addErr, ErrCountUnknown) {
		t.Fatalf("an update whose answer was lost: err %v, want ErrCountUnknown", addErr)
	}
}
