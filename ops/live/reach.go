package live

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/apimctl/apimctl/cluster/cassandra"
	"github.com/apimctl/apimctl/cluster/kube"
	"github.com/apimctl/apimctl/cluster/mysql"
	"github.com/apimctl/apimctl/cluster/prom"
)

// Reachability is whether the console can reach one source, and why not.
type Reachability struct {
	Source    string `json:"source"`
	Reachable bool   `json:"reachable"`
	Endpoint  string `json:"endpoint"`
	Detail    string `json:"detail,omitempty"`
	Error     string `json:"error,omitempty"`
	Hint      string `json:"hint,omitempty"`
}

// Connection is what Connect resolved: the kube client (nil when the kubeconfig is unusable)
// and the targets.
type Connection struct {
	Kube    *kube.Client
	KubeErr error
	Targets Targets
}

// Connect loads the kubeconfig and fills the targets from env and the namespace's Secrets.
// It never fails: what it could not resolve shows up in the probes.
func Connect(ctx context.Context, t Targets, getenv func(string) string) *Connection {
	c := &Connection{}
	t.FillFromEnv(getenv)
	c.Kube, c.KubeErr = kube.Connect(t.Kubeconfig, t.Context)
	if c.Kube != nil {
		if t.Namespace == "" {
			t.Namespace = getenv("APIM_NAMESPACE")
		}
		if t.Namespace == "" {
			t.Namespace = "apim"
		}
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_ = t.FillFromSecrets(sctx, c.Kube) // a missing Secret shows as the source's own error
		cancel()
		if t.Context == "" {
			t.Context = c.Kube.Context
		}
	}
	c.Targets = t
	return c
}

// ProbeAll probes every source concurrently, each within timeout.
func (c *Connection) ProbeAll(ctx context.Context, timeout time.Duration) []Reachability {
	probes := []func(context.Context) Reachability{c.probeKube, c.probeCassandra, c.probeMySQL, c.probePrometheus}
	out := make([]Reachability, len(probes))
	var wg sync.WaitGroup
	for i, p := range probes {
		wg.Go(func() {
			pctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			out[i] = p(pctx)
		})
	}
	wg.Wait()
	return out
}

func (c *Connection) probeKube(ctx context.Context) Reachability {
	r := Reachability{Source: "kube"}
	if c.KubeErr != nil {
		r.Error, r.Hint = c.KubeErr.Error(), "set --kubeconfig/--context or KUBECONFIG (for the lab: eval \"$(apimctl lab env)\")"
		return r
	}
	r.Endpoint = c.Kube.Server
	v, err := c.Kube.ServerVersion(ctx)
	if err != nil {
		r.Error, r.Hint = err.Error(), "is the API server up and the context right?"
		return r
	}
	r.Reachable = true
	r.Detail = fmt.Sprintf("Kubernetes %s, context %s, namespace %s", v, c.Kube.Context, c.Targets.Namespace)
	return r
}

func (c *Connection) probeCassandra(ctx context.Context) Reachability {
	t := c.Targets
	r := Reachability{Source: "cassandra", Endpoint: strings.Join(t.CassandraHosts, ",")}
	if len(t.CassandraHosts) == 0 {
		r.Error, r.Hint = "no Cassandra hosts", "set --cass-host or CASS_HOST, or create the cassandra-credentials Secret"
		return r
	}
	cl, err := cassandra.Dial(ctx, cassandra.Target{Hosts: t.CassandraHosts, Port: t.CassandraPort, Username: t.CassandraUser, Password: t.CassandraPassword})
	if err != nil {
		r.Error = err.Error()
		return r
	}
	defer cl.Close()
	nodes := cl.Nodes()
	up := 0
	for _, n := range nodes {
		if n.Up {
			up++
		}
	}
	r.Reachable = true
	r.Detail = fmt.Sprintf("%d/%d nodes up (from %s)", up, len(nodes), originOf(t, "CASS_HOST"))
	return r
}

func (c *Connection) probeMySQL(ctx context.Context) Reachability {
	t := c.Targets
	r := Reachability{Source: "mysql", Endpoint: t.MetricsDBURL}
	if t.MetricsDBURL == "" {
		r.Error, r.Hint = "no metrics database URL", "set --metrics-db-url or METRICS_DB_URL, or create the metrics-db-credentials Secret"
		return r
	}
	addr, dbname, err := mysql.ParseJDBC(t.MetricsDBURL)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	db, err := mysql.Open(mysql.Target{Addr: addr, Database: dbname, User: t.MetricsDBUser, Password: t.MetricsDBPassword})
	if err != nil {
		r.Error = err.Error()
		return r
	}
	defer db.Close()
	v, err := mysql.Version(ctx, db)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.Reachable = true
	r.Detail = fmt.Sprintf("version %s, database %s (from %s)", v, dbname, originOf(t, "METRICS_DB_URL"))
	return r
}

func (c *Connection) probePrometheus(ctx context.Context) Reachability {
	t := c.Targets
	r := Reachability{Source: "prometheus", Endpoint: t.PrometheusURL}
	if t.PrometheusURL == "" {
		r.Error, r.Hint = "no Prometheus URL", "set --prometheus-url or PROMETHEUS_URL"
		return r
	}
	p, err := prom.New(t.PrometheusURL)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	v, err := p.Version(ctx)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.Reachable = true
	r.Detail = "Prometheus " + v
	return r
}

func originOf(t Targets, key string) string {
	if o := t.Origin[key]; o != "" {
		return o
	}
	return "flag"
}
