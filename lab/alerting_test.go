package lab_test

import (
	"context"
	"testing"
	"time"

	"github.com/apimctl/apimctl/cluster/prom"
	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/lab/labtest"
)

// TestAlertRulesAndTheirSignals: the lab's Prometheus has loaded its three alerting rules, all
// healthy, and scrapes the signals they need — the Cassandra probes (one per node, labelled
// with the node) and kube-state-metrics' HPA series.
func TestAlertRulesAndTheirSignals(t *testing.T) {
	env := labtest.Require(t)
	c := labtest.Prometheus(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rules, err := c.AlertingRules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]prom.AlertingRule{}
	for _, r := range rules {
		got[r.Name] = r
	}
	for _, name := range []string{lab.AlertGroupErrors, lab.AlertCassandraDown, lab.AlertHPAAtMax} {
		r, ok := got[name]
		if !ok {
			t.Errorf("rule %s not loaded (rules: %v)", name, rules)
			continue
		}
		if r.Health != "ok" || r.LastError != "" || r.Labels["severity"] == "" {
			t.Errorf("rule %s: health %q error %q labels %v", name, r.Health, r.LastError, r.Labels)
		}
	}
	// The signals, within a few scrapes of the lab coming up.
	deadline := time.Now().Add(30 * time.Second)
	for {
		probes, err := c.Instant(ctx, `probe_success{job="cassandra-native"}`, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		hpa, err := c.Instant(ctx, `kube_horizontalpodautoscaler_spec_max_replicas{namespace="`+env.Namespace+`"}`, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		nodes := map[string]bool{}
		for _, p := range probes {
			nodes[p.Labels["cassandra_node"]] = true
		}
		ok := len(hpa) > 0 && len(nodes) == len(env.CassandraHosts)
		for _, a := range env.CassandraAddrs() {
			ok = ok && nodes[a]
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("probes of %v, want %v; HPA series %v", nodes, env.CassandraAddrs(), hpa)
		}
		time.Sleep(2 * time.Second)
	}
}
