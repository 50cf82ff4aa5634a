package agent

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/PID/stat (100 on Linux).
const clockTicks = 100

// processUsage reads a process's CPU time and resident memory from /proc.
func processUsage(pid int) (cpuSeconds float64, rssBytes int64, ok bool) {
	f, err := procStat(pid)
	if err != nil || len(f) < 22 {
		return 0, 0, false
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	rssPages, _ := strconv.ParseInt(f[21], 10, 64)
	return (utime + stime) / clockTicks, rssPages * int64(os.Getpagesize()), true
}

// resourceMetrics writes a node's kubelet resource metrics (the /metrics/resource format
// metrics-server reads) for the pods it runs: one container per pod, the apigw process.
func (a *Agent) resourceMetrics(node string) string {
	now := time.Now().UnixMilli()
	var b strings.Builder
	var nodeCPU float64
	var nodeMem int64
	var lines []string
	a.mu.Lock()
	workers := make([]*worker, 0, len(a.workers))
	for _, w := range a.workers {
		workers = append(workers, w)
	}
	a.mu.Unlock()
	for _, w := range workers {
		w.mu.Lock()
		pod, pid, running, started := w.pod, w.pid, w.running, w.startedAt
		w.mu.Unlock()
		if !running || pod == nil || pod.Spec.NodeName != node || len(pod.Spec.Containers) == 0 {
			continue
		}
		cpu, mem, ok := processUsage(pid)
		if !ok {
			continue
		}
		nodeCPU += cpu
		nodeMem += mem
		lbl := fmt.Sprintf(`container=%q,namespace=%q,pod=%q`, pod.Spec.Containers[0].Name, pod.Namespace, pod.Name)
		lines = append(lines,
			fmt.Sprintf("container_cpu_usage_seconds_total{%s} %g %d", lbl, cpu, now),
			fmt.Sprintf("container_memory_working_set_bytes{%s} %d %d", lbl, mem, now),
			fmt.Sprintf("container_start_time_seconds{%s} %d %d", lbl, started.Unix(), now),
			fmt.Sprintf("pod_cpu_usage_seconds_total{namespace=%q,pod=%q} %g %d", pod.Namespace, pod.Name, cpu, now),
			fmt.Sprintf("pod_memory_working_set_bytes{namespace=%q,pod=%q} %d %d", pod.Namespace, pod.Name, mem, now))
	}
	fmt.Fprintf(&b, "# TYPE node_cpu_usage_seconds_total counter\nnode_cpu_usage_seconds_total %g %d\n", nodeCPU, now)
	fmt.Fprintf(&b, "# TYPE node_memory_working_set_bytes gauge\nnode_memory_working_set_bytes %d %d\n", nodeMem, now)
	fmt.Fprintf(&b, "# TYPE scrape_error gauge\nscrape_error 0\n")
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// serveKubelets serves /metrics/resource for every node on 127.0.0.1:port over TLS (a
// self-signed certificate: metrics-server runs with --kubelet-insecure-tls in the lab, and the
// API server verifies no kubelet certificate without --kubelet-certificate-authority), and
// /containerLogs/ through kwok. Like kwok's own port it asks no client certificate: loopback
// only, and the log files it serves are the lab user's.
func (a *Agent) serveKubelets(ctx context.Context) error {
	if a.cfg.KubeletPortBase == 0 {
		return nil
	}
	cert, err := selfSigned()
	if err != nil {
		return err
	}
	var logs http.Handler
	if a.cfg.KwokURL != "" {
		if logs, err = logsProxy(a.cfg.KwokURL); err != nil {
			return err
		}
	}
	for i, node := range a.cfg.Nodes {
		ln, err := net.Listen("tcp", fmt.Sprintf("%s:%d", nodeIP, a.kubeletPort(i)))
		if err != nil {
			return fmt.Errorf("kubelet endpoint of %s: %w", node, err)
		}
		mux := http.NewServeMux()
		mux.HandleFunc("GET /metrics/resource", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
			_, _ = w.Write([]byte(a.resourceMetrics(node)))
		})
		if logs != nil {
			mux.Handle("GET /containerLogs/", a.containerLogs(logs))
		}
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second,
			TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
		go func() { _ = srv.ServeTLS(ln, "", "") }()
		go func() { <-ctx.Done(); _ = srv.Close() }()
	}
	return nil
}

func (a *Agent) kubeletPort(i int) int { return a.cfg.KubeletPortBase + i }

func (a *Agent) kubeletPortOf(node string) int32 {
	for i, n := range a.cfg.Nodes {
		if n == node && a.cfg.KubeletPortBase != 0 {
			return int32(a.kubeletPort(i))
		}
	}
	return 0
}

func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lab-agent"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP(nodeIP)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
