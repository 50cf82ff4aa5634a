package lab_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"

	"github.com/apimctl/apimctl/deploy"
	"github.com/apimctl/apimctl/gateway/clienttest"
	"github.com/apimctl/apimctl/lab/labtest"
)

// readyPodIP returns the IP of a Ready pod of app in ns.
func readyPodIP(t *testing.T, cs kubernetes.Interface, ns, app string) string {
	t.Helper()
	pods, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue && p.Status.PodIP != "" && p.DeletionTimestamp == nil {
				return p.Status.PodIP
			}
		}
	}
	t.Fatalf("no Ready %s pod in %s", app, ns)
	return ""
}

// secretValue reads one key of a Secret of the lab's cluster.
func secretValue(t *testing.T, cs kubernetes.Interface, ns, name, key string) string {
	t.Helper()
	s, err := cs.CoreV1().Secrets(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := s.Data[key]; ok {
		return string(v)
	}
	return s.StringData[key]
}

// TestGatewayManagementAPIsRefuseAnonymous calls the management APIs of the lab's own API
// Manager and Admin Node Manager pods (the deploy/ topology, run as real apigw processes):
// without the admin token, or with a wrong one, nothing is answered; the token from the
// Secret the Deployment reads is accepted.
func TestGatewayManagementAPIsRefuseAnonymous(t *testing.T) {
	env := labtest.Require(t)
	cs := labtest.Clientset(t, env)
	ns := env.Namespace
	c := &http.Client{Timeout: 10 * time.Second}
	do := func(method, url, token, body string) int {
		t.Helper()
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	mgr := "http://" + net.JoinHostPort(readyPodIP(t, cs, ns, "apimgr"), "8075")
	anm := "http://" + net.JoinHostPort(readyPodIP(t, cs, ns, "anm"), "8090")
	mgrToken := secretValue(t, cs, ns, deploy.APIMgrSecret, deploy.APIMgrTokenKey)
	anmToken := secretValue(t, cs, ns, deploy.ANMSecret, deploy.ANMTokenKey)
	if len(mgrToken) < 16 || len(anmToken) < 16 {
		t.Fatalf("the lab's admin tokens are missing or short (%d, %d characters)", len(mgrToken), len(anmToken))
	}
	for _, c := range []struct{ method, url, body string }{
		{"POST", mgr + "/api/applications", `{"name":"anonymous"}`},
		{"GET", mgr + "/api/applications", ""},
		{"POST", mgr + "/api/apis", `{"name":"x","path":"/x","backend":"http://127.0.0.1:1","policy":"passthrough"}`},
		{"GET", anm + "/api/topology", ""},
		{"GET", anm + "/api/metrics?api=orders", ""},
	} {
		for _, tok := range []string{"", "wrong-token-0123456789", anmToken + mgrToken} {
			if code := do(c.method, c.url, tok, c.body); code != http.StatusUnauthorized {
				t.Errorf("%s %s with token %q…: %d, want 401", c.method, c.url, tok[:min(len(tok), 4)], code)
			}
		}
	}
	if code := do("GET", mgr+"/api/applications", mgrToken, ""); code != 200 {
		t.Errorf("API Manager with its token: %d, want 200", code)
	}
	if code := do("GET", anm+"/api/topology", anmToken, ""); code != 200 {
		t.Errorf("ANM with its token: %d, want 200", code)
	}
	if code := do("GET", mgr+"/api/applications", anmToken, ""); code != 401 {
		t.Errorf("API Manager with the ANM's token: %d, want 401", code)
	}
	// Health checks stay open for the kubelet.
	if code := do("GET", mgr+"/healthcheck", "", ""); code != 200 {
		t.Errorf("API Manager readiness: %d", code)
	}
}

// listenAddrs returns the local address of every listening TCP socket of pid.
func listenAddrs(t *testing.T, pid int) []string {
	var out []string
	for _, s := range tcpSockets(t, pid) {
		if s.listening {
			out = append(out, s.local.String())
		}
	}
	return out
}

// TestGatewaysListenOnLoopbackOnly: apigw listens on every interface by default (a real pod
// must answer its Service), so the lab agent pins every gateway to its pod's loopback IP: no
// gateway process of the lab listens anywhere else.
func TestGatewaysListenOnLoopbackOnly(t *testing.T) {
	env := labtest.Require(t)
	l := labtest.Open(t, env)
	recs, err := l.GatewayProcesses()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, r := range recs {
		if !r.Alive() {
			continue
		}
		addrs := listenAddrs(t, r.PID)
		if len(addrs) == 0 {
			t.Errorf("pod %s/%s (pid %d): no listening socket found", r.Namespace, r.Pod, r.PID)
		}
		for _, a := range addrs {
			if a != r.IP || !strings.HasPrefix(a, "127.") {
				t.Errorf("pod %s/%s (pid %d) listens on %s, want only its pod IP %s", r.Namespace, r.Pod, r.PID, a, r.IP)
			}
		}
		checked++
	}
	if checked < 5 {
		t.Errorf("only %d gateway processes checked: the reference topology runs 5", checked)
	}
}

// TestGatewayNormalizesPathsAndCutsSlowClients sends traversal paths as raw bytes to a
// traffic gateway pod of the deploy/ topology (in a throwaway namespace whose APIs point at a
// recording backend on loopback, the catalog API with a base path): the backend never
// receives a dot segment nor a path outside /base/, and a path that climbs into the API-key
// API meets its policy. Then a client trickles a body: the pod (--body-timeout=1s) answers
// 408 and closes the connection long before the body is complete.
func TestGatewayNormalizesPathsAndCutsSlowClients(t *testing.T) {
	env := labtest.Require(t)
	var mu sync.Mutex
	var seen []string
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			return // not a whole request: the gateway streams a body as it comes
		}
		mu.Lock()
		seen = append(seen, r.RequestURI)
		mu.Unlock()
		io.WriteString(w, "ok")
	}))
	defer backend.Close()
	take := func() []string { mu.Lock(); defer mu.Unlock(); s := seen; seen = nil; return s }

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cs := labtest.Clientset(t, env)
	ns, objs := labtest.Topology(t, env, "it-paths")
	var keep []*unstructured.Unstructured
	for _, o := range objs {
		switch {
		case o.GetKind() == "ConfigMap" && o.GetName() == deploy.GatewayEnvConfigMap:
			o.Object["data"] = map[string]any{"CATALOG_BACKEND": backend.URL + "/base", "ORDERS_BACKEND": backend.URL, "PAYMENTS_BACKEND": backend.URL}
			keep = append(keep, o)
		case o.GetKind() == "Secret" || o.GetKind() == "ConfigMap":
			keep = append(keep, o)
		case o.GetKind() == "Deployment" && o.GetName() == "traffic":
			_ = unstructured.SetNestedField(o.Object, int64(1), "spec", "replicas")
			// It waits for the ANM and the API Manager: the lab's own.
			labtest.UseLabManagers(env, o)
			// A short body deadline, for the slow client below.
			cts, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
			c0 := cts[0].(map[string]any)
			c0["args"] = append(c0["args"].([]any), "--body-timeout=1s")
			_ = unstructured.SetNestedSlice(o.Object, cts, "spec", "template", "spec", "containers")
			keep = append(keep, o)
		}
	}
	labtest.Apply(ctx, t, env, keep)
	waitDeployment(ctx, t, cs.AppsV1().Deployments(ns), "traffic", func(d *appsv1.Deployment) bool { return d.Status.ReadyReplicas == 1 })
	addr := net.JoinHostPort(readyPodIP(t, cs, ns, "traffic"), "8065")

	for _, c := range []struct {
		path   string
		status int
		want   string // what the backend receives, "" if nothing
	}{
		{"/catalog/x", 200, "/base/x"},
		{"/catalog/../orders/x", 401, ""},
		{"/catalog/%2e%2e/orders/x", 401, ""},
		{"/catalog/%2E%2e/%2e%2E/etc/passwd", 404, ""},
		{"/catalog/..%2forders/x", 400, ""},
		{"/catalog/%252e%252e/x", 400, ""},
		{"/catalog//x", 200, "/base/x"},
		{"/catalog/./a/../x", 200, "/base/x"},
		{"/catalog/..;/orders", 400, ""},
	} {
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(15 * time.Second))
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: api.lab\r\nConnection: close\r\n\r\n", c.path)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			conn.Close()
			t.Fatalf("%s: %v", c.path, err)
		}
		io.Copy(io.Discard, resp.Body)
		conn.Close()
		got := take()
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", c.path, resp.StatusCode, c.status)
		}
		if (c.want == "" && len(got) > 0) || (c.want != "" && (len(got) != 1 || got[0] != c.want)) {
			t.Errorf("%s: the backend received %q, want %q", c.path, got, c.want)
		}
		for _, g := range got {
			if !strings.HasPrefix(g, "/base/") || strings.Contains(g, "/.") || strings.Contains(strings.ToLower(g), "%2e") {
				t.Errorf("%s: the backend received %q", c.path, g)
			}
		}
	}

	// One byte every 100 ms: 40 s for the whole body.
	status, sent := clienttest.SlowBody(t, addr, "POST /catalog/upload HTTP/1.1\r\nHost: api.lab\r\nContent-Length: 400\r\n\r\n", 400, 100*time.Millisecond, 30*time.Second)
	if status != http.StatusRequestTimeout {
		t.Errorf("slow body: %d, want 408", status)
	}
	if n := <-sent; n >= 400 {
		t.Error("the slow client sent its whole body into an open connection")
	}
	if got := take(); len(got) > 0 {
		t.Errorf("the backend received the slow request whole: %q", got)
	}
}
