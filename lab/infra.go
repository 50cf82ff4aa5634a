package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

func (l *Lab) prometheusComponent(t *tools) *component {
	dir := filepath.Join(l.opts.StateDir, "prometheus")
	addr := fmt.Sprintf("127.0.0.1:%d", l.ports.Prometheus)
	return &component{
		name: "prometheus", group: "prometheus", grace: 15 * time.Second,
		addr: "http://" + addr, listen: []string{addr},
		prepare: func(context.Context) error {
			if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
				return err
			}
			cfg := fmt.Sprintf(`# written by apimctl lab
global:
  scrape_interval: 5s
  evaluation_interval: 5s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["%s"]
`, addr)
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
