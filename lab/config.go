package lab

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Pinned versions: the cached binaries live in a directory named after them, so changing a pin
// here (and in lab/tools/go.mod, checked by a test) rebuilds them on the next `lab up`.
const (
	KubernetesVersion = "v1.37.2"
	EtcdVersion       = "v3.7.0"
	KwokVersion       = "v0.8.0"
	CassandraVersion  = "5.0.9"
	// MetricsServerVersion gives the HPA real CPU utilisation in the lab.
	MetricsServerVersion = "v0.8.0"
)

// Options choose what `lab up` builds. The zero value is not useful: start from DefaultOptions.
type Options struct {
	StateDir string
	// PortBase shifts every lab port (apiserver = base+443, MariaDB = base+306, …) so that two
	// labs can live on one machine.
	PortBase int
	// CassandraNodes is 1..3; node i listens on 127.0.0.<CassandraIPBase+i>.
	CassandraNodes  int
	CassandraIPBase int
	CassandraPort   int
	// PodReadyDelay is how long simulated pods take to become Ready after they start, so that a
	// rollout takes visible time.
	PodReadyDelay time.Duration
	// Components limits one `up` to these component groups; empty means all. It is not
	// saved with the lab: a partial up (a drill restarting one node) must not make the lab
	// forget its other components.
	Components []string `json:"-"`
	// Namespace receives the reference topology from deploy/.
	Namespace string
	// ToolsDir is lab/tools of a source checkout, needed only to build the control plane the
	// first time; found from the working directory when empty.
	ToolsDir string
	// CacheDir holds the built binaries and jars shared by every lab on the machine.
	CacheDir string
	// Progress receives one line per step; nil discards.
	Progress func(format string, args ...any) `json:"-"`
}

// DefaultOptions is the lab `make demo` and `make test` run.
func DefaultOptions() Options {
	return Options{
		StateDir:        DefaultStateDir(),
		PortBase:        16000,
		CassandraNodes:  3,
		CassandraIPBase: 0,
		CassandraPort:   9042,
		PodReadyDelay:   3 * time.Second,
		Namespace:       "apim",
		CacheDir:        DefaultCacheDir(),
	}
}

// DefaultCacheDir is $XDG_CACHE_HOME/apimctl (usually ~/.cache/apimctl).
func DefaultCacheDir() string {
	if d := os.Getenv("APIMCTL_CACHE_DIR"); d != "" {
		return d
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "apimctl-cache")
	}
	return filepath.Join(d, "apimctl")
}

// ports is the lab's port plan, derived from PortBase.
type ports struct {
	EtcdClient, EtcdPeer, APIServer, ControllerManager, Scheduler, Kwok int
	MariaDB, Prometheus, Registry                                       int
	Azurite                                                             int
	Agent, Backend                                                      int
	// MetricsServer serves the resource metrics API; KubeletBase+i is node i's kubelet
	// endpoint (served by the lab agent).
	MetricsServer, KubeletBase int
	// Blackbox probes for the alert rules; KubeStateMetrics (and the next port, its own
	// telemetry) exports the cluster's objects.
	Blackbox, KubeStateMetrics int
	// CassandraJMXBase+i is Cassandra node i's JMX port (on 127.0.0.1, which every lab
	// shares: it must follow the port base, not the node's address).
	CassandraJMXBase int
}

func (o *Options) ports() ports {
	b := o.PortBase
	return ports{
		EtcdClient: b + 379, EtcdPeer: b + 380, APIServer: b + 443,
		ControllerManager: b + 257, Scheduler: b + 259, Kwok: b + 260,
		MariaDB: b + 306, Prometheus: b + 90, Registry: b + 500, Azurite: b + 10,
		Agent: b + 250, Backend: b + 81,
		MetricsServer: b + 446, KubeletBase: b + 251,
		Blackbox: b + 115, KubeStateMetrics: b + 808,
		CassandraJMXBase: b + 700,
	}
}

func (o *Options) validate() error {
	switch {
	case o.StateDir == "":
		return errors.New("state directory is empty")
	case o.PortBase < 1024 || o.PortBase > 64000:
		return fmt.Errorf("port base %d out of range: use 1024..64000", o.PortBase)
	case o.CassandraNodes < 1 || o.CassandraNodes > 3:
		return fmt.Errorf("--cassandra-nodes %d: the lab runs 1 to 3 Cassandra nodes", o.CassandraNodes)
	case o.CassandraIPBase < 0 || o.CassandraIPBase > 250:
		return fmt.Errorf("cassandra IP base %d out of range", o.CassandraIPBase)
	case o.PodReadyDelay < 0 || o.PodReadyDelay > 5*time.Minute:
		return fmt.Errorf("--pod-ready-delay %s out of range: use 0..5m", o.PodReadyDelay)
	}
	for _, c := range o.Components {
		if !knownComponent(c) {
			return fmt.Errorf("unknown component %q: one of %v", c, componentNames)
		}
	}
	return nil
}

func (o *Options) cassandraHosts() []string {
	hosts := make([]string, o.CassandraNodes)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("127.0.0.%d", o.cassandraIPBase()+i+1)
	}
	return hosts
}

// cassandraIPBase is CassandraIPBase when set, else derived from the port base (0 for the
// default lab, another multiple of 10 for each other base), so that a second lab's Cassandra
// does not listen where the first one's does.
func (o *Options) cassandraIPBase() int {
	if o.CassandraIPBase != 0 {
		return o.CassandraIPBase
	}
	return (((o.PortBase/1000-16)%24 + 24) % 24) * 10
}

// secrets are generated once per lab and kept (0600) so that a restarted lab keeps its users.
type secrets struct {
	AdminToken, ControllerToken, SchedulerToken, KwokToken, ViewerToken string
	CassandraPassword, MySQLPassword                                    string
	// Added with the node agent; filled in for labs created before.
	AgentToken, PrometheusToken, APIMgrToken string
	// AzuriteKey is the key of the lab's Azure storage account (base64, as Azure's are).
	AzuriteKey string
	// ANMToken guards the Admin Node Manager's API (deploy.ANMSecret).
	ANMToken string
}

// fill generates the secrets a lab made by an older apimctl lacks; it reports whether any was.
func (s *secrets) fill() bool {
	changed := false
	for _, p := range []*string{&s.AdminToken, &s.ControllerToken, &s.SchedulerToken, &s.KwokToken, &s.ViewerToken,
		&s.CassandraPassword, &s.MySQLPassword, &s.AgentToken, &s.PrometheusToken, &s.APIMgrToken, &s.ANMToken} {
		if *p == "" {
			*p, changed = randHex(16), true
		}
	}
	if s.AzuriteKey == "" {
		s.AzuriteKey, changed = azureKey(), true
	}
	return changed
}

func loadOrCreateSecrets(stateDir string) (*secrets, error) {
	path := filepath.Join(stateDir, "secrets.json")
	if b, err := os.ReadFile(path); err == nil {
		var s secrets
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if !s.fill() {
			return &s, nil
		}
		b, _ := json.MarshalIndent(&s, "", "  ")
		return &s, writeFileAtomic(path, b, 0o600)
	}
	s := &secrets{
		AdminToken: randHex(24), ControllerToken: randHex(24), SchedulerToken: randHex(24),
		KwokToken: randHex(24), ViewerToken: randHex(24),
		CassandraPassword: randHex(16), MySQLPassword: randHex(16),
	}
	s.fill()
	b, _ := json.MarshalIndent(s, "", "  ")
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, err
	}
	return s, writeFileAtomic(path, b, 0o600)
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
