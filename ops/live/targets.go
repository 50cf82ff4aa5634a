package live

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Targets are the endpoints and credentials the console uses. Each field is filled from, in
// order: flags, environment variables (the reference's CASS_*, METRICS_DB_* and
// PROMETHEUS_URL), then the Secrets the gateways themselves read in the namespace.
type Targets struct {
	Kubeconfig string `json:"kubeconfig,omitempty"`
	Context    string `json:"context,omitempty"`
	Namespace  string `json:"namespace"`

	CassandraHosts    []string `json:"cassandraHosts"`
	CassandraPort     int      `json:"cassandraPort"`
	CassandraUser     string   `json:"cassandraUser"`
	CassandraPassword string   `json:"-"`
	Keyspace          string   `json:"keyspace"`
	ThrottleKeyspace  string   `json:"throttleKeyspace"`

	MetricsDBURL      string `json:"metricsDBURL"`
	MetricsDBUser     string `json:"metricsDBUser"`
	MetricsDBPassword string `json:"-"`

	PrometheusURL string `json:"prometheusURL"`

	// Origin says where each value came from ("flag", "env", "secret apim/cassandra-credentials").
	Origin map[string]string `json:"origin"`
}

// SecretSource reads a Secret's data; the kube client implements it.
type SecretSource interface {
	SecretData(ctx context.Context, namespace, name string) (map[string]string, error)
}

// Secret names the gateways read (see deploy/).
const (
	cassandraSecret = "cassandra-credentials"
	metricsSecret   = "metrics-db-credentials"
)

// FillFromEnv fills empty fields from environment variables.
func (t *Targets) FillFromEnv(getenv func(string) string) {
	t.fill(getenv, "env")
}

// FillFromSecrets fills what is still empty from the namespace's Secrets. Errors reading a
// Secret are returned but leave the other fields as they are.
func (t *Targets) FillFromSecrets(ctx context.Context, src SecretSource) error {
	var errs []string
	vars := map[string]string{}
	origin := map[string]string{}
	for _, name := range []string{cassandraSecret, metricsSecret} {
		data, err := src.SecretData(ctx, t.Namespace, name)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		for k, v := range data {
			vars[k] = v
			origin[k] = "secret " + t.Namespace + "/" + name
		}
	}
	t.fillWith(func(k string) string { return vars[k] }, func(k string) string { return origin[k] })
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

func (t *Targets) fill(getenv func(string) string, origin string) {
	t.fillWith(getenv, func(string) string { return origin })
}

func (t *Targets) fillWith(get func(string) string, origin func(string) string) {
	if t.Origin == nil {
		t.Origin = map[string]string{}
	}
	str := func(dst *string, key string) {
		if *dst == "" {
			if v := get(key); v != "" {
				*dst, t.Origin[key] = v, origin(key)
			}
		}
	}
	if len(t.CassandraHosts) == 0 {
		if v := get("CASS_HOST"); v != "" {
			for _, h := range strings.Split(v, ",") {
				if h = strings.TrimSpace(h); h != "" {
					t.CassandraHosts = append(t.CassandraHosts, h)
				}
			}
			t.Origin["CASS_HOST"] = origin("CASS_HOST")
		}
	}
	if t.CassandraPort == 0 {
		if v, err := strconv.Atoi(get("CASS_PORT")); err == nil {
			t.CassandraPort, t.Origin["CASS_PORT"] = v, origin("CASS_PORT")
		}
	}
	str(&t.CassandraUser, "CASS_USERNAME")
	str(&t.CassandraPassword, "CASS_PASS")
	str(&t.Keyspace, "CASS_KEYSPACE")
	str(&t.ThrottleKeyspace, "CASS_TKEYSPACE")
	str(&t.MetricsDBURL, "METRICS_DB_URL")
	str(&t.MetricsDBUser, "METRICS_DB_USERNAME")
	str(&t.MetricsDBPassword, "METRICS_DB_PASS")
	str(&t.PrometheusURL, "PROMETHEUS_URL")
}
