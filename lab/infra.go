package lab

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

func (l *Lab) prometheusComponent(t *tools) *component {
	dir := filepath.Join(l.opts.StateDir, "prometheus")
	addr := fmt.Sprintf("127.0.0.1:%d", l.ports.Prometheus)
	c := &component{
		name: "prometheus", group: "prometheus", grace: 15 * time.Second,
		addr: "http://" + addr, listen: []string{addr},
		prepare: func(context.Context) error {
			if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
				return err
			}
			rules, scrapes := l.alertingConfig()
			cfg := fmt.Sprintf(prometheusConfig, addr, l.ports.APIServer, l.ports.Agent, rules) + scrapes
			if err := os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(alertRules), 0o644); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644)
		},
		command: func() *exec.Cmd {
			return exec.Command(t.Prometheus,
				"--config.file="+filepath.Join(dir, "prometheus.yml"),
				"--storage.tsdb.path="+filepath.Join(dir, "data"),
				"--storage.tsdb.retention.time=2d",
				"--web.listen-address="+addr, "--web.enable-lifecycle",
				"--log.level=warn")
		},
		ready: httpReady("http://"+addr+"/-/ready", ""),
	}
	// A running Prometheus rereads a rewritten configuration (a lab from before the alert
	// rules gets them with its next `lab up`).
	c.refresh = func(ctx context.Context) error {
		if err := c.prepare(ctx); err != nil {
			return err
		}
		return postReload(ctx, "http://"+addr+"/-/reload")
	}
	return c
}

// postReload asks a Prometheus started with --web.enable-lifecycle to reread its
// configuration.
func postReload(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("reload: %s: %s", resp.Status, b)
	}
	return nil
}

func (l *Lab) registryComponent(t *tools) *component {
	dir := filepath.Join(l.opts.StateDir, "registry")
	addr := fmt.Sprintf("127.0.0.1:%d", l.ports.Registry)
	return &component{
		name: "registry", group: "registry", grace: 10 * time.Second,
		addr: "http://" + addr, listen: []string{addr},
		prepare: func(context.Context) error {
			if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
				return err
			}
			cfg := fmt.Sprintf(`# written by apimctl lab
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
`, filepath.Join(dir, "data"), addr)
			return os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0o644)
		},
		command: func() *exec.Cmd {
			return exec.Command(t.Registry, "serve", filepath.Join(dir, "config.yml"))
		},
		ready: httpReady("http://"+addr+"/v2/", ""),
	}
}

// prometheusConfig scrapes Prometheus itself and discovers the gateways from the lab's API
// server (through the agent, see below) like a cluster's Prometheus does: pods annotated prometheus.io/scrape=true, scraped
// at podIP:prometheus.io/port, labelled with namespace, pod and node, so that series follow
// pods through restarts and rollouts. The last keep rule enforces the lab's rule that nothing
// outside 127.0.0.0/8 is ever contacted, whatever a pod's IP.
const prometheusConfig = `# written by apimctl lab
global:
  scrape_interval: 5s
  evaluation_interval: 5s
%[4]sscrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["%[1]s"]
  - job_name: kubernetes-pods
    # kubernetes_sd_configs (role: pod) against https://127.0.0.1:%[2]d is what a cluster
    # would use; Debian's Prometheus is built without it, so the lab agent serves the same
    # pod discovery, with the same __meta_kubernetes_* labels, for http_sd_configs.
    http_sd_configs:
      - url: http://127.0.0.1:%[3]d/prometheus/sd
        refresh_interval: 5s
    relabel_configs:
      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]
        action: keep
        regex: "true"
      - source_labels: [__meta_kubernetes_pod_ip, __meta_kubernetes_pod_annotation_prometheus_io_port]
        action: replace
        regex: (.+);([0-9]+)
        replacement: $1:$2
        target_label: __address__
      - source_labels: [__address__]
        action: keep
        regex: 127\.[0-9]+\.[0-9]+\.[0-9]+:[0-9]+
      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path]
        action: replace
        regex: (.+)
        target_label: __metrics_path__
      - source_labels: [__meta_kubernetes_namespace]
        target_label: namespace
      - source_labels: [__meta_kubernetes_pod_name]
        target_label: pod
      - source_labels: [__meta_kubernetes_pod_node_name]
        target_label: node
      - source_labels: [__meta_kubernetes_pod_label_apimctl_dev_role]
        target_label: role
`
