package lab_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apimctl/apimctl/lab/labtest"
	"github.com/apimctl/apimctl/lab/traffic"
)

var loopback = netip.MustParsePrefix("127.0.0.0/8")

// socketInodes returns the inodes of the sockets process pid holds.
func socketInodes(pid int) map[string]bool {
	out := map[string]bool{}
	fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	for _, fd := range fds {
		if l, err := os.Readlink(fd); err == nil && strings.HasPrefix(l, "socket:[") {
			out[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	return out
}

// parseProcAddr decodes an address of /proc/net/tcp{,6} ("0100007F:1F90").
func parseProcAddr(s string) (netip.Addr, error) {
	h, _, _ := strings.Cut(s, ":")
	b, err := hex.DecodeString(h)
	if err != nil {
		return netip.Addr{}, err
	}
	// Each 32-bit word is in host (little-endian) order.
	for i := 0; i+4 <= len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	a, ok := netip.AddrFromSlice(b)
	if !ok {
		return netip.Addr{}, fmt.Errorf("bad address %q", s)
	}
	return a.Unmap(), nil
}

// tcpSocket is one TCP socket of a process, as /proc/PID/net/tcp{,6} shows it.
type tcpSocket struct {
	local, remote netip.Addr
	listening     bool
}

// tcpSockets returns every TCP socket process pid holds.
func tcpSockets(t *testing.T, pid int) []tcpSocket {
	inodes := socketInodes(pid)
	var out []tcpSocket
	for _, f := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, f))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) < 10 || !inodes[fs[9]] {
				continue
			}
			local, err := parseProcAddr(fs[1])
			if err != nil {
				t.Fatalf("pid %d: %v", pid, err)
			}
			remote, err := parseProcAddr(fs[2])
			if err != nil {
				t.Fatalf("pid %d: %v", pid, err)
			}
			out = append(out, tcpSocket{local: local, remote: remote, listening: fs[3] == "0A"})
		}
	}
	return out
}

// remoteAddrs returns the remote address of every TCP socket of pid.
func remoteAddrs(t *testing.T, pid int) []netip.Addr {
	var out []netip.Addr
	for _, s := range tcpSockets(t, pid) {
		out = append(out, s.remote)
	}
	return out
}

// TestNothingLeavesLoopback checks the lab's rule on the running lab: every TCP connection of
// every lab process (control plane, data stores, agent, each gateway, the traffic generator)
// has a loopback or unspecified remote address; every pod IP, node address and Prometheus
// target is in 127.0.0.0/8.
func TestNothingLeavesLoopback(t *testing.T) {
	env := labtest.Require(t)
	l := labtest.Open(t, env)
	// Some traffic first, so that gateways hold backend and Cassandra connections.
	if o, err := l.TrafficOptions(50, 3*time.Second); err == nil {
		if _, err := traffic.Run(context.Background(), o); err != nil {
			t.Logf("traffic before the check: %v", err)
		}
	}
	pids, err := l.PIDs()
	if err != nil {
		t.Fatal(err)
	}
	gws, err := l.GatewayProcesses()
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gws {
		if g.Alive() {
			pids["pod "+g.Namespace+"/"+g.Pod] = g.PID
		}
	}
	pids["this test"] = os.Getpid()
	conns := 0
	for name, pid := range pids {
		for _, a := range remoteAddrs(t, pid) {
			conns++
			if !a.IsUnspecified() && !loopback.Contains(a) && a != netip.IPv6Loopback() {
				t.Errorf("%s (pid %d) has a connection to %s, outside 127.0.0.0/8", name, pid, a)
			}
		}
	}
	t.Logf("%d processes, %d TCP sockets checked (%d gateways)", len(pids), conns, len(gws))
	if len(gws) < 5 {
		t.Errorf("only %d gateway processes: the reference topology runs 5", len(gws))
	}

	cs := labtest.Clientset(t, env)
	ctx := context.Background()
	pods, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		for _, ip := range []string{p.Status.PodIP, p.Status.HostIP} {
			if a, err := netip.ParseAddr(ip); ip != "" && (err != nil || !loopback.Contains(a)) {
				t.Errorf("pod %s/%s has address %q outside 127.0.0.0/8", p.Namespace, p.Name, ip)
			}
		}
	}
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes.Items {
		for _, a := range n.Status.Addresses {
			if ip, err := netip.ParseAddr(a.Address); err == nil && !loopback.Contains(ip) {
				t.Errorf("node %s has address %s outside 127.0.0.0/8", n.Name, a.Address)
			}
		}
	}
	resp, err := http.Get(env.PrometheusURL + "/api/v1/targets?state=active")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tg struct {
		Data struct {
			ActiveTargets []struct {
				ScrapeURL string            `json:"scrapeUrl"`
				Labels    map[string]string `json:"labels"`
			} `json:"activeTargets"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tg); err != nil {
		t.Fatal(err)
	}
	pods2 := 0
	for _, at := range tg.Data.ActiveTargets {
		u, err := url.Parse(at.ScrapeURL)
		if err != nil {
			t.Fatal(err)
		}
		ip, err := netip.ParseAddr(u.Hostname())
		if err != nil || !loopback.Contains(ip) {
			t.Errorf("Prometheus target %s is outside 127.0.0.0/8", at.ScrapeURL)
		}
		if at.Labels["pod"] != "" {
			pods2++
		}
	}
	if pods2 < 5 {
		t.Errorf("Prometheus discovered %d pod targets, want the 5 gateways at least", pods2)
	}
}
