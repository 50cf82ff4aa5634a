package lab

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The lab's alerting: Prometheus evaluates a few real rules over real signals, so the console's
// alerts are the ones a deployment would have —
//   - a gateway group's 5xx ratio, from the gateways' own metrics;
//   - a Cassandra node down, from Debian's blackbox exporter probing each node's native port
//     (Cassandra exports no Prometheus metrics without an agent);
//   - an HPA at its maximum, from kube-state-metrics (built from the Go module proxy like
//     metrics-server), as kube-prometheus's KubeHpaMaxedOut does.

const (
	blackboxName         = "blackbox-exporter"
	kubeStateMetricsName = "kube-state-metrics"
	// KubeStateMetricsVersion is the pinned kube-state-metrics.
	KubeStateMetricsVersion = "v2.20.0"
)

// Alert rule names, for the tests and the docs.
const (
	AlertGroupErrors   = "GatewayGroupHighErrorRate"
	AlertCassandraDown = "CassandraNodeDown"
	AlertHPAAtMax      = "GatewayHPAAtMaximum"
)

// alertRules are the lab's alerting rules. The "for" durations are short so that a test sees
// them fire within a minute; a deployment would wait longer.
const alertRules = `# written by apimctl lab
groups:
  - name: apim-lab
    rules:
      - alert: ` + AlertGroupErrors + `
        expr: |
          sum by (namespace, group) (rate(apigw_requests_total{api!~"anm|apimgr",code_class="5xx"}[1m]))
            / sum by (namespace, group) (rate(apigw_requests_total{api!~"anm|apimgr"}[1m])) > 0.05
        for: 20s
        labels:
          severity: critical
        annotations:
          summary: 'gateway group {{ $labels.group }}: {{ $value | humanizePercentage }} of requests fail with a 5xx'
      - alert: ` + AlertCassandraDown + `
        expr: probe_success{job="cassandra-native"} == 0
        for: 15s
        labels:
          severity: critical
        annotations:
          summary: 'Cassandra node {{ $labels.cassandra_node }} does not accept connections on its native port'
      - alert: ` + AlertHPAAtMax + `
        expr: |
          kube_horizontalpodautoscaler_status_current_replicas
            >= on (namespace, horizontalpodautoscaler) kube_horizontalpodautoscaler_spec_max_replicas
        for: 1m
        labels:
          severity: warning
        annotations:
          summary: 'HPA {{ $labels.horizontalpodautoscaler }} runs its maximum of {{ $value }} replicas: it cannot scale further'
`

// blackboxConfig has one module: a TCP connection to a Cassandra node's native port.
const blackboxConfig = `# written by apimctl lab
modules:
  cql_port:
    prober: tcp
    timeout: 3s
    tcp:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
`

// cassandraProbeConfig is the scrape job of the Cassandra probes: %[1]s the targets, %[2]s the
// exporter's address. Each series is labelled with the node it probes (cassandra_node, and
// instance as the blackbox exporter's documentation does).
const cassandraProbeConfig = `  - job_name: cassandra-native
    metrics_path: /probe
    params:
      module: [cql_port]
    static_configs:
      - targets: [%[1]s]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: cassandra_node
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: %[2]s
`

// kubeStateMetricsConfig scrapes kube-state-metrics at %[1]s, keeping its namespace labels.
const kubeStateMetricsConfig = `  - job_name: kube-state-metrics
    honor_labels: true
    static_configs:
      - targets: ["%[1]s"]
`

// alertingConfig is what prometheusConfig gains: the rules file and the scrape jobs of their
// signals. Both jobs are always there, whatever components a partial `lab up --only` starts:
// Prometheus may be restarted alone.
func (l *Lab) alertingConfig() (ruleFiles, scrapes string) {
	var targets []string
	for _, h := range l.opts.cassandraHosts() {
		targets = append(targets, strconv.Quote(net.JoinHostPort(h, strconv.Itoa(l.opts.CassandraPort))))
	}
	scrapes = fmt.Sprintf(cassandraProbeConfig, strings.Join(targets, ", "), fmt.Sprintf("127.0.0.1:%d", l.ports.Blackbox)) +
		fmt.Sprintf(kubeStateMetricsConfig, fmt.Sprintf("127.0.0.1:%d", l.ports.KubeStateMetrics))
	return "rule_files:\n  - rules.yml\n", scrapes
}

func (l *Lab) blackboxComponent(t *tools) *component {
	dir := filepath.Join(l.opts.StateDir, "prometheus")
	addr := fmt.Sprintf("127.0.0.1:%d", l.ports.Blackbox)
	return &component{
		name: blackboxName, group: "prometheus", grace: 5 * time.Second,
		addr: "http://" + addr, listen: []string{addr},
		prepare: func(context.Context) error {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, "blackbox.yml"), []byte(blackboxConfig), 0o644)
		},
		command: func() *exec.Cmd {
			return exec.Command(t.Blackbox, "--config.file="+filepath.Join(dir, "blackbox.yml"),
				"--web.listen-address="+addr, "--log.level=warn")
		},
		ready: httpReady("http://"+addr+"/-/healthy", ""),
	}
}

// ensureKubeStateMetrics installs kube-state-metrics (once per machine) from the Go module
// proxy.
func (l *Lab) ensureKubeStateMetrics(ctx context.Context) (string, error) {
	return l.goInstall(ctx, "kube-state-metrics", "k8s.io/kube-state-metrics/v2", KubeStateMetricsVersion, ", a few minutes")
}

// kubeStateMetricsComponent exports the HPAs', Deployments' and pods' state for the rules.
func (l *Lab) kubeStateMetricsComponent(t *tools) *component {
	kc := filepath.Join(l.opts.StateDir, "kubeconfig", "admin.kubeconfig")
	addr := fmt.Sprintf("127.0.0.1:%d", l.ports.KubeStateMetrics)
	tele := fmt.Sprintf("127.0.0.1:%d", l.ports.KubeStateMetrics+1)
	return &component{
		name: kubeStateMetricsName, group: "kube", grace: 5 * time.Second,
		addr: "http://" + addr, listen: []string{addr, tele},
		command: func() *exec.Cmd {
			return exec.Command(t.KubeStateMetrics, "--kubeconfig="+kc,
				"--host=127.0.0.1", "--port="+strconv.Itoa(l.ports.KubeStateMetrics),
				"--telemetry-host=127.0.0.1", "--telemetry-port="+strconv.Itoa(l.ports.KubeStateMetrics+1),
				"--resources=horizontalpodautoscalers,deployments,pods")
		},
		ready: httpReady("http://"+addr+"/healthz", ""),
	}
}
