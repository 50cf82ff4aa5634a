package lab_test

import (
	"bufio"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/lab/labtest"
)

// kubectl runs the lab's own kubectl (built into the cache with the control plane).
func kubectl(ctx context.Context, env *lab.Env, args ...string) *exec.Cmd {
	bin := filepath.Join(lab.KubeBinDir(lab.DefaultOptions().CacheDir), "kubectl")
	return exec.CommandContext(ctx, bin, append([]string{"--kubeconfig=" + env.Kubeconfig, "--context=" + env.Context}, args...)...)
}

// TestKubectlLogs: kubectl logs shows a lab gateway's own lines, -p the previous instance's,
// -f the next instance's as they come — the API server reaching the node's kubelet endpoint
// on its loopback InternalIP (no DNS), the agent handing the request to kwok, kwok reading the
// agent's log files.
func TestKubectlLogs(t *testing.T) {
	env := labtest.Require(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cs := labtest.Clientset(t, env)
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes.Items {
		ok := false
		for _, a := range n.Status.Addresses {
			ok = ok || (a.Type == "InternalIP" && strings.HasPrefix(a.Address, "127."))
		}
		if !ok || n.Status.DaemonEndpoints.KubeletEndpoint.Port == 0 {
			t.Errorf("node %s: addresses %v, kubelet port %d: the API server could not reach it on loopback",
				n.Name, n.Status.Addresses, n.Status.DaemonEndpoints.KubeletEndpoint.Port)
		}
	}

	out, err := kubectl(ctx, env, "-n", env.Namespace, "logs", "deployment/traffic").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"msg":"serving"`) {
		t.Fatalf("kubectl logs deployment/traffic: %v\n%s", err, out)
	}

	ns := labtest.CrashingGateway(t, env, "kubectl-logs", false)
	// Follow from the first instance on: the next instances' lines must come through.
	var f *exec.Cmd
	var lines *bufio.Scanner
	for deadline := time.Now().Add(60 * time.Second); ; {
		f = kubectl(ctx, env, "-n", ns, "logs", "-f", "crashing-gateway")
		stdout, err := f.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Start(); err != nil {
			t.Fatal(err)
		}
		lines = bufio.NewScanner(stdout)
		if lines.Scan() {
			break // the container has started: its log streams
		}
		_ = f.Wait() // refused ("waiting to start"): try again
		if time.Now().After(deadline) {
			t.Fatal("kubectl logs -f never streamed the crashing gateway's log")
		}
		time.Sleep(time.Second)
	}
	defer func() { _ = f.Process.Kill(); _ = f.Wait() }()
	starts := 0
	for lines.Scan() && starts < 2 {
		if strings.Contains(lines.Text(), `"msg":"starting apigw"`) {
			starts++
		}
	}
	if starts < 2 {
		t.Fatalf("kubectl logs -f ended before the next instance's lines: %v", lines.Err())
	}
	out, err = kubectl(ctx, env, "-n", ns, "logs", "-p", "crashing-gateway").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "precheck failed: cassandra at") {
		t.Fatalf("kubectl logs -p: %v\n%s", err, out)
	}
}
