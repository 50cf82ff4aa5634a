// Package traffic is the lab's traffic generator: API requests at a fixed rate to the ready
// traffic pods, with API keys and OAuth tokens made through the API Manager's REST API.
//
// The lab's Services have no endpoints: the API server refuses loopback addresses in
// EndpointSlices and Endpoints, and every lab pod IP is on loopback. So, like a client-side
// load balancer, the generator watches the Pods that the Service selects and sends to those
// that are Ready and not terminating, at the Service's target port.
package traffic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/apimctl/apimctl/cluster/kube"
)

// Limits keep the generator a lab tool.
const (
	MaxRPS      = 2000
	MaxDuration = time.Hour
)

// Options configure a run.
type Options struct {
	Config        *rest.Config
	Namespace     string
	Service       string // the traffic Service ("traffic")
	APIMgrService string // the API Manager Service ("apimgr")
	AdminToken    string // APIMGR_ADMIN_TOKEN, if the API Manager wants one
	RPS           int
	Duration      time.Duration
	// Progress, when set, gets one line every ProgressEvery (5 s).
	Progress      func(format string, args ...any)
	ProgressEvery time.Duration
}

// Validate checks the bounds.
func (o *Options) Validate() error {
	switch {
	case o.RPS < 1 || o.RPS > MaxRPS:
		return fmt.Errorf("--rps %d out of range: 1..%d", o.RPS, MaxRPS)
	case o.Duration <= 0 || o.Duration > MaxDuration:
		return fmt.Errorf("--duration %s out of range: up to %s", o.Duration, MaxDuration)
	}
	return nil
}

// Failure is one failed request, for the tests to explain.
type Failure struct {
	At     time.Time `json:"at"`
	Target string    `json:"target"`
	Path   string    `json:"path"`
	Kind   string    `json:"kind"` // "status 503", "connection refused", …
}

// Summary is the outcome of a run.
type Summary struct {
	Sent     int64            `json:"sent"`
	OK       int64            `json:"ok"`
	Failed   int64            `json:"failed"`
	ByStatus map[string]int64 `json:"byStatus"` // "200", "503", "error: connection refused"
	ByTarget map[string]int64 `json:"byTarget"` // requests per pod IP:port
	Failures []Failure        `json:"failures,omitempty"`
	Elapsed  time.Duration    `json:"elapsed"`
}

type mix struct {
	api    string
	weight int
}

var (
	apiMix  = []mix{{"catalog", 60}, {"orders", 30}, {"payments", 10}}
	sizeMix = []mix{{"1k", 50}, {"10k", 30}, {"50k", 15}, {"100k", 5}}
)

func pick(m []mix) string {
	n := rand.IntN(100)
	for _, e := range m {
		if n < e.weight {
			return e.api
		}
		n -= e.weight
	}
	return m[0].api
}

// loopbackOnly refuses to dial anything outside 127.0.0.0/8: the lab's rule.
func loopbackOnly(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !ap.Addr().Unmap().Is4() || !netip.MustParsePrefix("127.0.0.0/8").Contains(ap.Addr().Unmap()) {
		return fmt.Errorf("refusing to connect to %s: the lab stays on 127.0.0.0/8", address)
	}
	return nil
}

func newClient(conns int) *http.Client {
	d := &net.Dialer{Timeout: 3 * time.Second, Control: loopbackOnly}
	return &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
		Proxy: nil, DialContext: d.DialContext, MaxIdleConns: conns * 4, MaxIdleConnsPerHost: conns,
		IdleConnTimeout: 30 * time.Second,
	}}
}

// pods watches the ready, non-terminating pods a Service selects.
type pods struct {
	targets  atomic.Pointer[[]string]
	svc      *corev1.Service
	ns, name string // the service's, as asked for
}

func watchService(ctx context.Context, cs kubernetes.Interface, ns, name string) (*pods, error) {
	svc, err := cs.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("service %s/%s: %w", ns, name, err)
	}
	if len(svc.Spec.Selector) == 0 || len(svc.Spec.Ports) == 0 {
		return nil, fmt.Errorf("service %s/%s has no selector or port", ns, name)
	}
	p := &pods{svc: svc, ns: ns, name: name}
	p.targets.Store(&[]string{})
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.LabelSelector = labels.SelectorFromSet(svc.Spec.Selector).String()
		}))
	inf := f.Core().V1().Pods().Informer()
	refresh := func(any) {
		var out []string
		for _, o := range inf.GetStore().List() {
			if t := target(o.(*corev1.Pod), svc.Spec.Ports[0]); t != "" {
				out = append(out, t)
			}
		}
		sort.Strings(out)
		p.targets.Store(&out)
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: refresh, UpdateFunc: func(_, o any) { refresh(o) }, DeleteFunc: refresh})
	f.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return nil, ctx.Err()
	}
	refresh(nil)
	return p, nil
}

// target is the pod's address for the Service port, if the pod would be an endpoint now.
func target(p *corev1.Pod, sp corev1.ServicePort) string {
	if p.DeletionTimestamp != nil || p.Status.PodIP == "" {
		return ""
	}
	ip, err := netip.ParseAddr(p.Status.PodIP)
	if !kube.PodReady(p) || err != nil || !netip.MustParsePrefix("127.0.0.0/8").Contains(ip) {
		return ""
	}
	return net.JoinHostPort(p.Status.PodIP, fmt.Sprint(kube.TargetPort(p, sp)))
}

func (p *pods) list() []string { return *p.targets.Load() }

// wait waits up to 2 minutes for a ready pod of the service and returns the targets; hint
// (": is X up?") goes into the error that says there is none.
func (p *pods) wait(ctx context.Context, hint string) ([]string, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if ts := p.list(); len(ts) > 0 {
			return ts, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no ready pod of service %s/%s after 2m%s (kubectl get pods -n %s)", p.ns, p.name, hint, p.ns)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// Targets returns the addresses the generator would send to now (for tests and status).
func Targets(ctx context.Context, cfg *rest.Config, ns, service string) ([]string, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p, err := watchService(ctx, cs, ns, service)
	if err != nil {
		return nil, err
	}
	return p.list(), nil
}

// Run sends traffic until Duration has passed or ctx ends, and returns what happened.
func Run(ctx context.Context, o Options) (*Summary, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.ProgressEvery == 0 {
		o.ProgressEvery = 5 * time.Second
	}
	progress := o.Progress
	if progress == nil {
		progress = func(string, ...any) {}
	}
	cs, err := kubernetes.NewForConfig(o.Config)
	if err != nil {
		return nil, err
	}
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	traffic, err := watchService(wctx, cs, o.Namespace, o.Service)
	if err != nil {
		return nil, err
	}
	mgr, err := watchService(wctx, cs, o.Namespace, o.APIMgrService)
	if err != nil {
		return nil, err
	}
	workers := min(max(o.RPS/2, 8), 256)
	client := newClient(workers)
	ids, err := setupIdentities(ctx, client, mgr, o)
	if err != nil {
		return nil, err
	}
	if _, err := traffic.wait(ctx, ""); err != nil {
		return nil, err
	}
	progress("traffic: %d rps for %s to the ready pods of service %s/%s (%d now: %s); %d application(s) with API keys and OAuth tokens from the API Manager",
		o.RPS, o.Duration, o.Namespace, o.Service, len(traffic.list()), strings.Join(traffic.list(), " "), len(ids))

	s := &Summary{ByStatus: map[string]int64{}, ByTarget: map[string]int64{}}
	var mu sync.Mutex
	record := func(tgt, path, kind string, ok bool) {
		mu.Lock()
		defer mu.Unlock()
		s.Sent++
		s.ByStatus[kind]++
		if tgt != "" {
			s.ByTarget[tgt]++
		}
		if ok {
			s.OK++
			return
		}
		s.Failed++
		if len(s.Failures) < 1000 {
			s.Failures = append(s.Failures, Failure{At: time.Now(), Target: tgt, Path: path, Kind: kind})
		}
	}
	jobs := make(chan int64, workers)
	var wg sync.WaitGroup
	var rr atomic.Uint64
	for range workers {
		wg.Go(func() {
			for n := range jobs {
				ts := traffic.list()
				api, size := pick(apiMix), pick(sizeMix)
				path := "/" + api + "/" + size
				if len(ts) == 0 {
					record("", path, "error: no ready traffic pod", false)
					continue
				}
				tgt := ts[int(rr.Add(1))%len(ts)]
				id := ids[int(n)%len(ids)]
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+tgt+path, nil)
				switch api {
				case "orders":
					req.Header.Set("X-API-Key", id.key)
				case "payments":
					req.Header.Set("Authorization", "Bearer "+id.token)
				}
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() != nil {
						continue
					}
					record(tgt, path, "error: "+errKind(err), false)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				record(tgt, path, fmt.Sprint(resp.StatusCode), resp.StatusCode/100 == 2)
			}
		})
	}
	start := time.Now()
	end := start.Add(o.Duration)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	next := start.Add(o.ProgressEvery)
	var sent, lastSent int64
	lastAt := start
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case now := <-tick.C:
			if now.After(end) {
				break loop
			}
			due := int64(now.Sub(start).Seconds() * float64(o.RPS))
			for ; sent < due; sent++ {
				select {
				case jobs <- sent:
				case <-ctx.Done():
					break loop
				}
			}
			if now.After(next) {
				mu.Lock()
				line := fmt.Sprintf("  %4ds sent %d ok %d failed %d  %.0f req/s  %d pods", int(now.Sub(start).Seconds()), s.Sent, s.OK, s.Failed,
					float64(s.Sent-lastSent)/now.Sub(lastAt).Seconds(), len(traffic.list()))
				lastSent, lastAt = s.Sent, now
				mu.Unlock()
				progress("%s", line)
				next = next.Add(o.ProgressEvery)
			}
		}
	}
	close(jobs)
	wg.Wait()
	s.Elapsed = time.Since(start)
	return s, nil
}

func errKind(err error) string {
	msg := err.Error()
	for _, k := range []string{"connection refused", "connection reset", "timeout", "EOF", "broken pipe", "refusing to connect"} {
		if strings.Contains(msg, k) {
			return k
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return msg
}

// Print writes the summary as the CLI shows it.
func (s *Summary) Print(w io.Writer) {
	fmt.Fprintf(w, "sent %d, ok %d, failed %d in %s (%.1f req/s)\n", s.Sent, s.OK, s.Failed, s.Elapsed.Round(100*time.Millisecond),
		float64(s.Sent)/max(s.Elapsed.Seconds(), 0.001))
	keys := make([]string, 0, len(s.ByStatus))
	for k := range s.ByStatus {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %-28s %d\n", k, s.ByStatus[k])
	}
	fmt.Fprintf(w, "pods served: %d\n", len(s.ByTarget))
}
