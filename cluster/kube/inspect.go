package kube

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	metricsv "k8s.io/metrics/pkg/client/clientset/versioned"
)

// The reads behind the console's drill-downs: one object and what describes it, asked when
// on-call opens it (the live model's informers hold only what the overview needs). They are
// served from the API server's watch cache (resourceVersion "0"): as fresh as the watch that
// fed the console, without a quorum read of etcd for each — the difference at 10,000 pods
// between a detail in milliseconds and one that waits on a busy etcd.

// fromCache asks for the API server's cached state.
var fromCache = metav1.GetOptions{ResourceVersion: "0"}

// Pod gets one pod; a pod that does not exist gives an error for which apierrors.IsNotFound
// holds.
func (c *Client) Pod(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
	return c.Clientset.CoreV1().Pods(namespace).Get(ctx, name, fromCache)
}

// NodeLabels are a node's labels (its zone among them).
func (c *Client) NodeLabels(ctx context.Context, name string) (map[string]string, error) {
	n, err := c.Clientset.CoreV1().Nodes().Get(ctx, name, fromCache)
	if err != nil {
		return nil, err
	}
	return n.Labels, nil
}

// Deployment gets one Deployment.
func (c *Client) Deployment(ctx context.Context, namespace, name string) (*appsv1.Deployment, error) {
	return c.Clientset.AppsV1().Deployments(namespace).Get(ctx, name, fromCache)
}

// EventsAbout lists the events whose involved object is the named one (and, when uid is set,
// that very object, not an earlier one of the same name), by field selector: the API server
// filters, so the cost does not grow with the namespace's other events.
func (c *Client) EventsAbout(ctx context.Context, namespace, kind, name string, uid types.UID) ([]corev1.Event, error) {
	sel := fields.Set{"involvedObject.kind": kind, "involvedObject.name": name}
	if uid != "" {
		sel["involvedObject.uid"] = string(uid)
	}
	l, err := c.Clientset.CoreV1().Events(namespace).List(ctx, metav1.ListOptions{FieldSelector: fields.SelectorFromSet(sel).String(), ResourceVersion: "0"})
	if err != nil {
		return nil, err
	}
	return l.Items, nil
}

// HPAFor finds the HorizontalPodAutoscaler that scales the Deployment (nil when none does).
func (c *Client) HPAFor(ctx context.Context, namespace, deployment string) (*autoscalingv2.HorizontalPodAutoscaler, error) {
	l, err := c.Clientset.AutoscalingV2().HorizontalPodAutoscalers(namespace).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
	if err != nil {
		return nil, err
	}
	for i := range l.Items {
		ref := l.Items[i].Spec.ScaleTargetRef
		if ref.Kind == "Deployment" && ref.Name == deployment {
			return &l.Items[i], nil
		}
	}
	return nil, nil
}

// PendingPods lists the Deployment's pods that are still Pending (the API server filters by
// phase: at 10,000 running pods only the few waiting ones travel).
func (c *Client) PendingPods(ctx context.Context, d *appsv1.Deployment) ([]corev1.Pod, error) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, err
	}
	l, err := c.Clientset.CoreV1().Pods(d.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: sel.String(), FieldSelector: "status.phase=Pending", ResourceVersion: "0"})
	if err != nil {
		return nil, err
	}
	return l.Items, nil
}

// ContainerUsage is what the resource metrics API measured of one container.
type ContainerUsage struct {
	CPUMillis   int64
	MemoryBytes int64
}

// ErrNoMetrics says the resource metrics API has no measurement of the pod (not served, or
// the pod not scraped yet).
var ErrNoMetrics = errors.New("no measurement from the resource metrics API (metrics.k8s.io)")

// PodUsage reads the pod's containers' usage from the resource metrics API, with the end of
// the window it measured.
func (c *Client) PodUsage(ctx context.Context, namespace, name string) (map[string]ContainerUsage, time.Time, error) {
	mc, err := c.metricsClient()
	if err != nil {
		return nil, time.Time{}, err
	}
	pm, err := mc.MetricsV1beta1().PodMetricses(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, time.Time{}, ErrNoMetrics
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("resource metrics API: %w", err)
	}
	out := make(map[string]ContainerUsage, len(pm.Containers))
	for _, cm := range pm.Containers {
		out[cm.Name] = ContainerUsage{CPUMillis: cm.Usage.Cpu().MilliValue(), MemoryBytes: cm.Usage.Memory().Value()}
	}
	return out, pm.Timestamp.Add(pm.Window.Duration), nil
}

func (c *Client) metricsClient() (metricsv.Interface, error) {
	if c.Config == nil {
		return nil, ErrNoMetrics
	}
	cfg := rest.CopyConfig(c.Config)
	cfg.ContentType, cfg.AcceptContentTypes = "application/json", "application/json"
	return metricsv.NewForConfig(cfg)
}

// MaxLogLine bounds one log line as StreamLogs delivers it: the rest of a longer line is cut,
// so a runaway line cannot hold the console's memory.
const MaxLogLine = 64 << 10

// StreamLogs reads a container's log and calls line for each line, until the log ends (the
// whole log, or with Follow when the container's stream closes) or ctx does. Lines longer
// than MaxLogLine are cut there.
func (c *Client) StreamLogs(ctx context.Context, namespace, pod string, opts *corev1.PodLogOptions, line func(string)) error {
	cs, err := c.streamingClient()
	if err != nil {
		return err
	}
	rc, err := cs.CoreV1().Pods(namespace).GetLogs(pod, opts).Stream(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	return readLines(rc, line)
}

// readLines splits r into lines of at most MaxLogLine bytes (without the newline; a cut line
// ends in "…").
func readLines(r io.Reader, line func(string)) error {
	br := bufio.NewReaderSize(r, 32<<10)
	var cur []byte
	cut := false
	for {
		chunk, err := br.ReadSlice('\n')
		more := errors.Is(err, bufio.ErrBufferFull) // the line goes on
		nl := len(chunk) > 0 && chunk[len(chunk)-1] == '\n'
		if nl {
			chunk = chunk[:len(chunk)-1]
		}
		if room := MaxLogLine - len(cur); room >= len(chunk) {
			cur = append(cur, chunk...)
		} else {
			cur, cut = append(cur, chunk[:room]...), true
		}
		if nl || (err != nil && !more && len(cur) > 0) {
			if cut {
				cur = append(cur, "…"...)
			}
			line(string(cur))
			cur, cut = cur[:0], false
		}
		if err != nil && !more {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// streamingClient is a clientset without the client's request timeout: a followed log is
// one long request, bounded by its context instead.
func (c *Client) streamingClient() (kubernetes.Interface, error) {
	if c.Config == nil {
		return c.Clientset, nil // a test's clientset
	}
	cfg := rest.CopyConfig(c.Config)
	cfg.Timeout = 0
	return kubernetes.NewForConfig(cfg)
}
