package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apimctl/apimctl/lab/agent"
	"github.com/apimctl/apimctl/lab/traffic"
)

// PodCIDR is the loopback range the node agent gives the real gateways' pods: 127.1.0.0/16 for
// the default port base, another 127.N.0.0/16 (N in 1..63) for each other base, so that two
// labs side by side never hand out the same pod address. kwok's simulated pods use podCIDR
// (127.64.0.0/16), Services serviceCIDR (127.96.0.0/20), Cassandra 127.0.0.x: none overlaps.
func (o *Options) PodCIDR() string {
	n := 1 + ((o.PortBase/1000-16)%63+63)%63
	return fmt.Sprintf("127.%d.0.0/16", n)
}

const (
	agentName   = "lab-agent"
	backendName = "backend"
	trafficName = "traffic"
)

// agentNodes are the nodes the agent manages: the apimpool, where the gateways run.
func agentNodes() []string {
	var out []string
	for _, n := range labNodes {
		if n.pool == "apimpool" {
			out = append(out, n.name)
		}
	}
	return out
}

// AgentDir is the node agent's state directory: pods/<namespace>_<pod>/ holds each pod's
// process record (process.json), log and volumes; shared/ the shared volumes.
func (l *Lab) AgentDir() string { return filepath.Join(l.opts.StateDir, "agent") }

func (l *Lab) faultsFile() string { return filepath.Join(l.opts.StateDir, "faults.json") }

// GatewayImageRepos are the repositories whose images run apigw in the lab (the registry
// holds GatewayTags of each).
func (l *Lab) GatewayImageRepos() []string {
	reg := fmt.Sprintf("127.0.0.1:%d", l.ports.Registry)
	return []string{reg + "/apim/gateway", reg + "/apim/anm"}
}

// agentImageRepos are the repositories the lab agent runs apigw for: the gateway's, and
// the same under DRRepositoryPrefix — the lab's stand-in for a DR site's registry, which a
// DR drill copies the images into (`--registry REG/=REG/dr/`); `lab up` pushes nothing there.
func (l *Lab) agentImageRepos() []string {
	reg := fmt.Sprintf("127.0.0.1:%d", l.ports.Registry)
	base := l.GatewayImageRepos()
	out := append([]string{}, base...)
	for _, r := range base {
		out = append(out, reg+"/"+DRRepositoryPrefix+strings.TrimPrefix(r, reg+"/"))
	}
	return out
}

func (l *Lab) agentComponents(t *tools) []*component {
	dir := l.opts.StateDir
	agentAddr := fmt.Sprintf("127.0.0.1:%d", l.ports.Agent)
	backendAddr := fmt.Sprintf("127.0.0.1:%d", l.ports.Backend)
	return []*component{{
		name: agentName, group: "kube", addr: "http://" + agentAddr, listen: l.agentListen(agentAddr),
		// The agent ends every gateway (SIGTERM, drain, SIGKILL after 20 s) before it exits.
		grace: 45 * time.Second,
		command: func() *exec.Cmd {
			return exec.Command(t.Labd, "agent",
				"--kubeconfig="+filepath.Join(dir, "kubeconfig", "lab-agent.kubeconfig"),
				"--dir="+l.AgentDir(), "--nodes="+strings.Join(agentNodes(), ","),
				"--apigw="+t.Apigw, "--image-repos="+strings.Join(l.agentImageRepos(), ","),
				"--pod-cidr="+l.opts.PodCIDR(), "--faults="+l.faultsFile(), "--shared-volumes=events",
				"--listen="+agentAddr, fmt.Sprintf("--kubelet-port-base=%d", l.ports.KubeletBase),
				fmt.Sprintf("--kwok-url=http://127.0.0.1:%d", l.ports.Kwok))
		},
		ready: httpReady("http://"+agentAddr+"/healthz", ""),
	}, {
		name: backendName, group: "kube", addr: "http://" + backendAddr, listen: []string{backendAddr}, grace: 5 * time.Second,
		command: func() *exec.Cmd { return exec.Command(t.Labd, "backend", "--listen="+backendAddr) },
		ready:   httpReady("http://"+backendAddr+"/healthz", ""),
	}}
}

// BackendURL is the lab backend's base URL.
func (l *Lab) BackendURL() string { return fmt.Sprintf("http://127.0.0.1:%d", l.ports.Backend) }

// GatewayProcesses returns the node agent's record of every gateway process (one per pod).
func (l *Lab) GatewayProcesses() ([]agent.Record, error) {
	recs, err := agent.ReadRecords(l.AgentDir())
	sort.Slice(recs, func(i, j int) bool { return recs[i].Namespace+"/"+recs[i].Pod < recs[j].Namespace+"/"+recs[j].Pod })
	return recs, err
}

// sweepGateways ends gateway processes a stopped agent left behind (it normally ends them
// itself), by their recorded PID and start time.
func (l *Lab) sweepGateways() []Stopped {
	recs, _ := agent.ReadRecords(l.AgentDir())
	var out []Stopped
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, r := range recs {
		if !r.Alive() {
			continue
		}
		wg.Go(func() {
			r.Kill(10 * time.Second)
			mu.Lock()
			out = append(out, Stopped{Name: "pod " + r.Namespace + "/" + r.Pod, PID: r.PID})
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// Fault is what `lab fault` injects into the processes of an image tag.
type Fault = agent.Fault

// SetFault marks an image tag faulty (or healthy again with the zero Fault). Processes
// started from then on get it; running ones keep what they had.
func (l *Lab) SetFault(tag string, f Fault) error {
	if tag == "" || strings.ContainsAny(tag, " /:") {
		return fmt.Errorf("invalid image tag %q", tag)
	}
	if f.ErrorRate < 0 || f.ErrorRate > 1 {
		return fmt.Errorf("--error-rate %g out of range: 0..1", f.ErrorRate)
	}
	fs, err := agent.ReadFaults(l.faultsFile())
	if err != nil {
		return err
	}
	if f == (Fault{}) {
		delete(fs.Tags, tag)
	} else {
		fs.Tags[tag] = f
	}
	if err := os.MkdirAll(l.opts.StateDir, 0o755); err != nil {
		return err
	}
	return agent.WriteFaults(l.faultsFile(), fs)
}

// TrafficOptions returns the generator's options against this lab's reference topology.
func (l *Lab) TrafficOptions(rps int, d time.Duration) (traffic.Options, error) {
	cfg, err := l.restConfig()
	if err != nil {
		return traffic.Options{}, err
	}
	return traffic.Options{Config: cfg, Namespace: l.opts.Namespace, Service: "traffic", APIMgrService: "apimgr",
		AdminToken: l.secrets.APIMgrToken, RPS: rps, Duration: d}, nil
}

// StartTraffic starts the traffic generator as a lab component in the background (PID file
// "traffic", log in logs/traffic.log); `lab down` stops it. A running one is replaced.
func (l *Lab) StartTraffic(rps int, d time.Duration) (pid int, logPath string, err error) {
	o := traffic.Options{RPS: rps, Duration: d}
	if err := o.Validate(); err != nil {
		return 0, "", err
	}
	if r, err := readRecord(l.opts.StateDir, trafficName); err == nil {
		_ = stopProcess(l.opts.StateDir, r, 5*time.Second)
	}
	labd := filepath.Join(l.opts.StateDir, "bin", "labd")
	if !fileExists(labd) {
		return 0, "", fmt.Errorf("%s is missing: run `apimctl lab up` first", labd)
	}
	tokFile := filepath.Join(l.opts.StateDir, "secrets", "APIMGR_ADMIN_TOKEN")
	if err := os.MkdirAll(filepath.Dir(tokFile), 0o700); err != nil {
		return 0, "", err
	}
	if err := os.WriteFile(tokFile, []byte(l.secrets.APIMgrToken), 0o600); err != nil {
		return 0, "", err
	}
	cmd := exec.Command(labd, "traffic", "--kubeconfig="+filepath.Join(l.opts.StateDir, "kubeconfig", "admin.kubeconfig"),
		"--namespace="+l.opts.Namespace, "--admin-token-file="+tokFile,
		"--rps="+strconv.Itoa(rps), "--duration="+d.String())
	logPath = filepath.Join(l.opts.StateDir, "logs", trafficName+".log")
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return 0, "", err
	}
	s, err := startProcess(l.opts.StateDir, trafficName, cmd, logPath)
	if err != nil {
		return 0, "", err
	}
	return s.rec.PID, logPath, nil
}

// gatewayStatus lists the gateway processes as status lines.
func (l *Lab) gatewayStatus(ctx context.Context) []ComponentStatus {
	recs, _ := l.GatewayProcesses()
	agentUp := false
	if r, err := readRecord(l.opts.StateDir, agentName); err == nil && r.alive() {
		agentUp = true
	}
	var out []ComponentStatus
	for _, r := range recs {
		st := ComponentStatus{Name: "pod " + r.Namespace + "/" + r.Pod, Addr: r.IP + " " + r.Tag, State: "stopped", Log: r.Log}
		switch {
		case r.Alive():
			st.State, st.PID, st.RSSKiB = "healthy", r.PID, r.RSSKiB()
		case agentUp:
			st.State, st.Error = "restarting", "process exited; the agent restarts it"
		default:
			st.Error = "the lab-agent that runs it is stopped"
		}
		out = append(out, st)
	}
	if r, err := readRecord(l.opts.StateDir, trafficName); err == nil && r.alive() {
		out = append(out, ComponentStatus{Name: trafficName, State: "healthy", PID: r.PID, RSSKiB: r.rssKiB(), Addr: "generator", Log: r.Log})
	}
	return out
}

// waitGateways waits until the reference topology's Deployments are available: the gateways
// need Cassandra and MariaDB, so this is the last step of `lab up`.
func (l *Lab) waitGateways(ctx context.Context, timeout time.Duration) error {
	_, cs, err := l.clientset()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		var waiting []string
		for _, name := range []string{"anm", "apimgr", "traffic"} {
			d, err := cs.AppsV1().Deployments(l.opts.Namespace).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				waiting = append(waiting, name+": "+err.Error())
				continue
			}
			if d.Status.AvailableReplicas < 1 || d.Status.ReadyReplicas < ptrOr(d.Spec.Replicas, 1) {
				waiting = append(waiting, fmt.Sprintf("%s %d/%d ready", name, d.Status.ReadyReplicas, ptrOr(d.Spec.Replicas, 1)))
			}
		}
		if len(waiting) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("gateways not ready after %s: %s; see the pods' logs in %s", timeout, strings.Join(waiting, ", "), agent.PodsDir(l.AgentDir()))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func ptrOr(p *int32, d int32) int32 {
	if p == nil {
		return d
	}
	return *p
}

// agentListen is the agent's /healthz address and one kubelet endpoint per node it runs.
func (l *Lab) agentListen(health string) []string {
	out := []string{health}
	for i := range agentNodes() {
		out = append(out, fmt.Sprintf("127.0.0.1:%d", l.ports.KubeletBase+i))
	}
	return out
}

// AgentRunsDRImages says whether the running lab agent runs the images of the DR registry's
// stand-in (DRRepositoryPrefix): an agent started by an older apimctl does not, until the
// lab is restarted (apimctl lab down && apimctl lab up).
func (l *Lab) AgentRunsDRImages() (bool, error) {
	r, err := readRecord(l.opts.StateDir, agentName)
	if err != nil || !r.alive() {
		return false, fmt.Errorf("the lab agent is not running")
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", r.PID))
	if err != nil {
		return false, err
	}
	return strings.Contains(string(cmdline), "/"+DRRepositoryPrefix+"apim/gateway"), nil
}
