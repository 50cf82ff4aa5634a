package agent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Container logs, kept as a kubelet keeps them: each instance of a pod's process writes to
// apigw.log in the CRI log format ("<RFC 3339 time> stdout F <line>"), and the instance
// before it is kept as apigw.previous.log. kwok serves both (kubectl logs, -p, -f) through the
// pod's Logs object, which the agent writes; the agent's kubelet endpoints proxy the API
// server's /containerLogs/ requests to kwok.

const (
	// LogFile is the current instance's log in a pod's directory; PreviousLogFile the one
	// before.
	LogFile         = "apigw.log"
	PreviousLogFile = "apigw.previous.log"
	// criMaxLine is where containerd splits a long line into partial (P) entries.
	criMaxLine = 16 << 10
)

// logsResource is kwok's per-pod log configuration.
var logsResource = schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "logs"}

// instanceLog writes one process instance's stdout and stderr to its log file.
type instanceLog struct {
	mu sync.Mutex
	f  *os.File
	wg sync.WaitGroup
}

// openInstanceLog moves the previous instance's log aside, creates the new one (0600: the
// gateways' output is for the lab's user) and returns the write ends the process gets as
// stdout and stderr. The caller closes them once the process started; the log file closes
// when the process's last writer has gone.
func openInstanceLog(dir string) (stdout, stderr *os.File, err error) {
	cur := filepath.Join(dir, LogFile)
	if fi, err := os.Stat(cur); err == nil && fi.Size() > 0 {
		if err := os.Rename(cur, filepath.Join(dir, PreviousLogFile)); err != nil {
			return nil, nil, err
		}
	}
	f, err := os.OpenFile(cur, os.O_CREATE|os.O_WRONLY|os.O_TRUNC|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, err
	}
	l := &instanceLog{f: f}
	var ends [2]*os.File
	for i, stream := range []string{"stdout", "stderr"} {
		r, w, err := os.Pipe()
		if err != nil {
			for _, e := range ends[:i] {
				e.Close()
			}
			f.Close()
			return nil, nil, err
		}
		ends[i] = w
		l.wg.Add(1)
		go l.copy(r, stream)
	}
	go func() { l.wg.Wait(); f.Close() }()
	return ends[0], ends[1], nil
}

// copy turns the lines read from r into CRI log entries until the writers close it.
func (l *instanceLog) copy(r *os.File, stream string) {
	defer l.wg.Done()
	defer r.Close()
	br := bufio.NewReaderSize(r, criMaxLine)
	var entry []byte
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			tag := "F"
			if errors.Is(err, bufio.ErrBufferFull) {
				tag = "P"
			}
			entry = append(entry[:0], time.Now().UTC().Format(time.RFC3339Nano)...)
			entry = append(entry, ' ')
			entry = append(entry, stream...)
			entry = append(entry, ' ')
			entry = append(entry, tag...)
			entry = append(entry, ' ')
			entry = append(entry, line...)
			if entry[len(entry)-1] != '\n' {
				entry = append(entry, '\n')
			}
			l.mu.Lock()
			_, _ = l.f.Write(entry)
			l.mu.Unlock()
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

// publishLogs writes the pod's Logs object: its first container's log files, owned by the pod
// so that the garbage collector removes it with the pod. Applied on every start, so a pod
// recreated under the same name takes the object over.
func (a *Agent) publishLogs(ctx context.Context, pod *corev1.Pod, dir string) error {
	if a.dyn == nil || len(pod.Spec.Containers) == 0 {
		return nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Logs",
		"metadata": map[string]any{
			"name": pod.Name, "namespace": pod.Namespace,
			"ownerReferences": []any{map[string]any{"apiVersion": "v1", "kind": "Pod", "name": pod.Name, "uid": string(pod.UID)}},
		},
		"spec": map[string]any{"logs": []any{map[string]any{
			"containers":       []any{pod.Spec.Containers[0].Name},
			"logsFile":         filepath.Join(abs, LogFile),
			"previousLogsFile": filepath.Join(abs, PreviousLogFile),
			"follow":           true,
		}}},
	}}
	_, err = a.dyn.Resource(logsResource).Namespace(pod.Namespace).Apply(ctx, pod.Name, obj,
		metav1.ApplyOptions{FieldManager: "lab-agent", Force: true})
	if err != nil {
		return fmt.Errorf("logs of %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// containerLogs answers a log request as the kubelet does when there is no log to read — a
// container that has not started, no previous instance — and hands every other to kwok.
func (a *Agent) containerLogs(kwok http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// /containerLogs/{namespace}/{pod}/{container}
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/containerLogs/"), "/")
		if len(parts) == 3 && validName(parts[0]) && validName(parts[1]) {
			ns, pod, ctr := parts[0], parts[1], parts[2]
			dir := filepath.Join(PodsDir(a.cfg.Dir), ns+"_"+pod)
			if r.URL.Query().Get("previous") == "true" {
				if _, err := os.Stat(filepath.Join(dir, PreviousLogFile)); err != nil {
					http.Error(w, fmt.Sprintf("previous terminated container %q in pod %q not found", ctr, pod), http.StatusBadRequest)
					return
				}
			} else if _, err := os.Stat(filepath.Join(dir, LogFile)); err != nil {
				http.Error(w, fmt.Sprintf("container %q in pod %q is waiting to start: %s", ctr, pod, a.waitingReason(ns, pod)), http.StatusBadRequest)
				return
			}
		}
		kwok.ServeHTTP(w, r)
	})
}

// waitingReason is why the pod's process has not started (ContainerCreating when the agent
// has not said).
func (a *Agent) waitingReason(ns, pod string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, w := range a.workers {
		if w.ns != ns || w.name != pod {
			continue
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.waiting != nil && w.waiting.Reason != "" {
			return w.waiting.Reason
		}
	}
	return "ContainerCreating"
}

// validName is a Kubernetes object name: no path separators or dot segments can reach the
// file system through it.
func validName(s string) bool {
	return s != "" && len(s) <= 253 && !strings.ContainsAny(s, "/\\") && s != "." && s != ".." && strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789-.") == ""
}

// logsProxy forwards the API server's log requests to kwok, which serves the files. Streams
// (follow) are flushed as they come.
func logsProxy(kwok string) (http.Handler, error) {
	u, err := url.Parse(kwok)
	if err != nil {
		return nil, fmt.Errorf("kwok URL: %w", err)
	}
	host, _, err := net.SplitHostPort(u.Host)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("kwok URL %q: want http(s)://<loopback address>:<port>", kwok)
	}
	p := httputil.NewSingleHostReverseProxy(u)
	p.FlushInterval = -1
	p.Transport = &http.Transport{Proxy: nil, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}
	p.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		if errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) {
			return
		}
		http.Error(w, "lab agent: kwok serves the logs and did not answer: "+err.Error(), http.StatusBadGateway)
	}
	return p, nil
}
