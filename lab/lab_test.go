package lab

import (
	"math"
	"math/big"
	"os"
	"regexp"
	"strings"
	"testing"
)

func TestInitialTokensSpreadTheRing(t *testing.T) {
	if got := initialToken(0, 3); got != "-9223372036854775808" {
		t.Errorf("first token %s", got)
	}
	a, _ := new(big.Int).SetString(initialToken(1, 3), 10)
	b, _ := new(big.Int).SetString(initialToken(2, 3), 10)
	step := new(big.Int).Sub(b, a)
	want := new(big.Int).Div(new(big.Int).Lsh(big.NewInt(1), 64), big.NewInt(3))
	if d := new(big.Int).Sub(step, want); d.CmpAbs(big.NewInt(1)) > 0 {
		t.Errorf("uneven ring: step %s, want %s", step, want)
	}
	if b.Cmp(big.NewInt(math.MaxInt64)) > 0 {
		t.Errorf("token %s overflows", b)
	}
}

// The pinned versions in Go must be the ones lab/tools builds, or the cache key would lie.
func TestPinsMatchTheToolsModule(t *testing.T) {
	b, err := os.ReadFile("tools/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	mod := string(b)
	if !regexp.MustCompile(`(?m)^\s*(require )?k8s.io/kubernetes ` + regexp.QuoteMeta(KubernetesVersion) + `\b`).MatchString(mod) {
		t.Errorf("lab/tools/go.mod does not require k8s.io/kubernetes %s", KubernetesVersion)
	}
	if !strings.Contains(mod, "go.etcd.io/etcd/server/v3 "+EtcdVersion) {
		t.Errorf("lab/tools/go.mod does not pin etcd %s", EtcdVersion)
	}
	staging := "v0" + strings.TrimPrefix(KubernetesVersion, "v1")
	if n := strings.Count(mod, "=> "); n == 0 || strings.Count(mod, " "+staging+"\n") < n {
		t.Errorf("every staging replace must point at %s", staging)
	}
	pom, _ := os.ReadFile("cassandra/pom.xml")
	if !strings.Contains(string(pom), "<cassandra.version>"+CassandraVersion+"<") {
		t.Errorf("cassandra/pom.xml does not default to %s", CassandraVersion)
	}
}

func TestKubeLDFlagsStampTheVersion(t *testing.T) {
	f := kubeLDFlags()
	for _, want := range []string{"k8s.io/component-base/version.gitVersion=" + KubernetesVersion, "gitMajor=1 ", "gitMinor=37 "} {
		if !strings.Contains(f, want) {
			t.Errorf("ldflags %q lack %q", f, want)
		}
	}
}

func TestOptionsRejectBadInput(t *testing.T) {
	for name, mut := range map[string]func(*Options){
		"nodes 0":       func(o *Options) { o.CassandraNodes = 0 },
		"nodes 4":       func(o *Options) { o.CassandraNodes = 4 },
		"port base":     func(o *Options) { o.PortBase = 80 },
		"component":     func(o *Options) { o.Components = []string{"mongodb"} },
		"no state dir":  func(o *Options) { o.StateDir = "" },
		"delay too big": func(o *Options) { o.PodReadyDelay = 1e12 },
	} {
		o := DefaultOptions()
		mut(&o)
		if _, err := New(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestProcStateOfThisProcess(t *testing.T) {
	st, start, err := procState(os.Getpid())
	if err != nil || start == 0 || (st != 'R' && st != 'S') {
		t.Fatalf("state %c start %d err %v", st, start, err)
	}
	r := &procRecord{PID: os.Getpid(), StartTime: start}
	if !r.alive() {
		t.Fatal("this process is not alive")
	}
	r.StartTime++ // a reused PID: same number, another process
	if r.alive() {
		t.Fatal("a PID with another start time counts as ours")
	}
}

// Two labs side by side get pod ranges of their own, inside loopback and clear of the ranges
// the lab gives kwok (127.64.0.0/16) and Services (127.96.0.0/20).
func TestPodCIDRFollowsPortBase(t *testing.T) {
	seen := map[string]int{}
	for base := 1024; base <= 64000; base += 1000 {
		o := Options{PortBase: base}
		c := o.PodCIDR()
		if base == 16000 && c != "127.1.0.0/16" {
			t.Errorf("default lab: %s", c)
		}
		if c == "127.64.0.0/16" || c == "127.96.0.0/16" || c == "127.0.0.0/16" {
			t.Errorf("port base %d: %s overlaps another lab range", base, c)
		}
		if prev, ok := seen[c]; ok && base-prev < 63000 {
			t.Errorf("port bases %d and %d share %s", prev, base, c)
		}
		seen[c] = base
	}
}

// A second lab's Cassandra listens on addresses of its own.
func TestCassandraHostsFollowPortBase(t *testing.T) {
	def := Options{PortBase: 16000, CassandraNodes: 3}
	if h := def.cassandraHosts(); h[0] != "127.0.0.1" || h[2] != "127.0.0.3" {
		t.Errorf("default lab: %v", h)
	}
	other := Options{PortBase: 26000, CassandraNodes: 3}
	if h := other.cassandraHosts(); h[0] == "127.0.0.1" || h[2] == "127.0.0.3" {
		t.Errorf("a lab at port base 26000 shares the default lab's Cassandra addresses: %v", h)
	}
	set := Options{PortBase: 26000, CassandraNodes: 1, CassandraIPBase: 40}
	if h := set.cassandraHosts(); h[0] != "127.0.0.41" {
		t.Errorf("an explicit base: %v", h)
	}
}

// Two labs side by side (the default one and CI's, or a developer's second lab) never listen
// on the same address: every component's addresses follow the port base (seen: the
// Cassandra JMX ports of two labs collided, and a node of one would not start).
func TestTwoLabsListenApart(t *testing.T) {
	listens := func(base int) map[string]string {
		o := DefaultOptions()
		o.StateDir, o.PortBase = t.TempDir(), base
		l, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, c := range l.components() {
			for _, a := range c.listen {
				if prev, ok := out[a]; ok {
					t.Errorf("port base %d: %s and %s both listen on %s", base, prev, c.name, a)
				}
				out[a] = c.name
			}
		}
		if len(out) < 10 {
			t.Fatalf("port base %d: only %d addresses: %v", base, len(out), out)
		}
		return out
	}
	bases := []int{16000, 17000, 26000, 27000, 28000}
	for i, a := range bases {
		la := listens(a)
		for _, b := range bases[i+1:] {
			for addr, c := range listens(b) {
				if other, ok := la[addr]; ok {
					t.Errorf("labs at %d and %d: %s and %s both listen on %s", a, b, other, c, addr)
				}
			}
		}
	}
}
