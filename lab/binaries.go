package lab

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

//go:embed cassandra/pom.xml
var cassandraPOM []byte

// tools are the absolute paths of everything the lab executes.
type tools struct {
	Etcd, APIServer, ControllerManager, Scheduler, Kubectl string
	Kwok, KwokStages                                       string
	Java, CassandraLib                                     string
	MariaDB, MariaDBInstall, Prometheus, Registry          string
	Apigw, Labd                                            string
	MetricsServer                                          string
	Node, AzuriteBlob, Blackbox, KubeStateMetrics          string
}

var kubeCommands = map[string]string{
	"kube-apiserver":          "k8s.io/kubernetes/cmd/kube-apiserver",
	"kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
	"kube-scheduler":          "k8s.io/kubernetes/cmd/kube-scheduler",
	"kubectl":                 "k8s.io/kubernetes/cmd/kubectl",
}

// KubeBinDir is where the control plane of the pinned version is cached.
func KubeBinDir(cacheDir string) string {
	return filepath.Join(cacheDir, "bin", "k8s-"+KubernetesVersion)
}

// ensureTools finds or builds what the selected components need. Long steps report progress.
func (l *Lab) ensureTools(ctx context.Context, need func(string) bool) (*tools, error) {
	t := &tools{}
	var err error
	if need("etcd") || need("kube-apiserver") {
		if err = l.ensureKube(ctx); err != nil {
			return nil, err
		}
		d := KubeBinDir(l.opts.CacheDir)
		t.Etcd, t.APIServer = filepath.Join(d, "etcd"), filepath.Join(d, "kube-apiserver")
		t.ControllerManager, t.Scheduler = filepath.Join(d, "kube-controller-manager"), filepath.Join(d, "kube-scheduler")
		t.Kubectl = filepath.Join(d, "kubectl")
	}
	if need("kwok") {
		if t.Kwok, t.KwokStages, err = l.ensureKwok(ctx); err != nil {
			return nil, err
		}
	}
	if need(metricsServerName) {
		if t.MetricsServer, err = l.ensureMetricsServer(ctx); err != nil {
			return nil, err
		}
	}
	if need(kubeStateMetricsName) {
		if t.KubeStateMetrics, err = l.ensureKubeStateMetrics(ctx); err != nil {
			return nil, err
		}
	}
	if need("lab-agent") {
		if t.Apigw, t.Labd, err = l.buildLabBinaries(ctx); err != nil {
			return nil, err
		}
	}
	if need("cassandra-1") {
		if t.Java, err = findJava(); err != nil {
			return nil, err
		}
		if t.CassandraLib, err = l.ensureCassandra(ctx); err != nil {
			return nil, err
		}
	}
	if need(azuriteName) {
		if t.Node, t.AzuriteBlob, err = l.ensureAzurite(ctx); err != nil {
			return nil, err
		}
	}
	debian := []struct {
		comp, pkg string
		dst       *string
		names     []string
	}{
		{"mariadb", "mariadb-server", &t.MariaDB, []string{"mariadbd", "/usr/sbin/mariadbd"}},
		{"mariadb", "mariadb-server", &t.MariaDBInstall, []string{"mariadb-install-db"}},
		{"prometheus", "prometheus", &t.Prometheus, []string{"prometheus"}},
		{blackboxName, "prometheus-blackbox-exporter", &t.Blackbox, []string{"prometheus-blackbox-exporter", "blackbox_exporter"}},
		{"registry", "docker-registry", &t.Registry, []string{"docker-registry"}},
	}
	for _, d := range debian {
		if !need(d.comp) {
			continue
		}
		if *d.dst, err = lookPath(d.names...); err != nil {
			return nil, fmt.Errorf("%s needs %s, which is not installed: run `make deps` (apt-get install %s)", d.comp, d.names[0], d.pkg)
		}
	}
	return t, nil
}

func lookPath(names ...string) (string, error) {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

func findJava() (string, error) {
	if h := os.Getenv("JAVA_HOME"); h != "" {
		if p := filepath.Join(h, "bin", "java"); fileExists(p) {
			return p, nil
		}
	}
	p, err := exec.LookPath("java")
	if err != nil {
		return "", errors.New("cassandra needs a Java 17 runtime (java not on PATH, JAVA_HOME unset)")
	}
	return p, nil
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// ensureKube builds etcd and the Kubernetes commands from lab/tools unless the cache has them.
func (l *Lab) ensureKube(ctx context.Context) error {
	dst := KubeBinDir(l.opts.CacheDir)
	if fileExists(filepath.Join(dst, stampFile)) {
		return nil
	}
	toolsDir, err := l.toolsDir()
	if err != nil {
		return err
	}
	tmp := dst + ".building"
	_ = os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	l.progress("building the Kubernetes %s control plane and etcd %s into %s (once per machine: about 12 minutes on 2 cores)", KubernetesVersion, EtcdVersion, dst)
	start := time.Now()
	stop := l.ticker("still building the control plane", start)
	defer stop()
	build := func(args ...string) error {
		cmd := exec.CommandContext(ctx, "go", append([]string{"build", "-trimpath", "-ldflags=" + kubeLDFlags()}, args...)...)
		cmd.Dir = toolsDir
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("go build %v in %s: %w\n%s", args, toolsDir, err, out)
		}
		return nil
	}
	if err := build("-o", filepath.Join(tmp, "etcd"), "go.etcd.io/etcd/server/v3"); err != nil {
		return err
	}
	pkgs := []string{"-o", tmp + "/"}
	for _, p := range kubeCommands {
		pkgs = append(pkgs, p)
	}
	if err := build(pkgs...); err != nil {
		return err
	}
	stamp := fmt.Sprintf(`{"kubernetes":%q,"etcd":%q,"built":%q}`, KubernetesVersion, EtcdVersion, time.Now().UTC().Format(time.RFC3339))
	if err := os.WriteFile(filepath.Join(tmp, stampFile), []byte(stamp), 0o644); err != nil {
		return err
	}
	_ = os.RemoveAll(dst)
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	l.progress("built the control plane in %s", time.Since(start).Round(time.Second))
	return nil
}

// stampFile marks a complete build of the pinned version.
const stampFile = "build.json"

// kubeLDFlags strip the binaries and stamp the version the API server reports.
func kubeLDFlags() string {
	major, minor, _ := strings.Cut(strings.TrimPrefix(KubernetesVersion, "v"), ".")
	minor, _, _ = strings.Cut(minor, ".")
	var b strings.Builder
	b.WriteString("-s -w")
	for _, pkg := range []string{"k8s.io/component-base/version", "k8s.io/client-go/pkg/version"} {
		fmt.Fprintf(&b, " -X %[1]s.gitVersion=%[2]s -X %[1]s.gitMajor=%[3]s -X %[1]s.gitMinor=%[4]s -X %[1]s.gitTreeState=clean",
			pkg, KubernetesVersion, major, minor)
	}
	return b.String()
}

// toolsDir finds lab/tools of a source checkout: from Options, the working directory or the
// executable's location (bin/apimctl in a checkout).
func (l *Lab) toolsDir() (string, error) {
	if l.opts.ToolsDir != "" {
		return l.opts.ToolsDir, nil
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	for _, s := range starts {
		for d := s; ; d = filepath.Dir(d) {
			if fileExists(filepath.Join(d, "lab", "tools", "go.mod")) {
				return filepath.Join(d, "lab", "tools"), nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return "", fmt.Errorf("the control plane %s is not cached in %s and must be built from an apimctl source checkout: run `apimctl lab up` inside the checkout or pass --tools-dir", KubernetesVersion, KubeBinDir(l.opts.CacheDir))
}

// goInstall installs the Go program name from module path pkg at version (once per machine)
// into the cache's bin/name-version and returns its path; slow (", a few minutes") follows
// "once per machine" in the progress line.
func (l *Lab) goInstall(ctx context.Context, name, pkg, version, slow string) (string, error) {
	dir := filepath.Join(l.opts.CacheDir, "bin", name+"-"+version)
	bin := filepath.Join(dir, name)
	if fileExists(bin) {
		return bin, nil
	}
	l.progress("installing %s %s (once per machine%s)", name, version, slow)
	cmd := exec.CommandContext(ctx, "go", "install", "-trimpath", "-ldflags=-s -w", pkg+"@"+version)
	cmd.Env = append(os.Environ(), "GOBIN="+dir)
	cmd.Dir = os.TempDir()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s: %w\n%s", name, err, out)
	}
	return bin, nil
}

func (l *Lab) ensureKwok(ctx context.Context) (bin, stages string, err error) {
	bin, err = l.goInstall(ctx, "kwok", "sigs.k8s.io/kwok/cmd/kwok", KwokVersion, "")
	if err != nil {
		return "", "", err
	}
	// kwok's stage configurations ship in its module; use them where the module cache has them.
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", "sigs.k8s.io/kwok@"+KwokVersion)
	cmd.Dir = os.TempDir()
	out, err := cmd.Output()
	if err != nil {
		return "", "", fmt.Errorf("locate kwok's stages: go mod download: %w", err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		return "", "", fmt.Errorf("locate kwok's stages: unexpected go mod download output")
	}
	return bin, filepath.Join(m.Dir, "kustomize", "stage"), nil
}

func (l *Lab) ensureCassandra(ctx context.Context) (string, error) {
	lib := filepath.Join(l.opts.CacheDir, "cassandra-"+CassandraVersion, "lib")
	if fileExists(filepath.Join(lib, "cassandra-all-"+CassandraVersion+".jar")) {
		return lib, nil
	}
	if _, err := exec.LookPath("mvn"); err != nil {
		return "", errors.New("fetching Cassandra needs Maven (mvn not on PATH): run `make deps`")
	}
	l.progress("fetching Apache Cassandra %s and its dependencies from Maven Central (once per machine)", CassandraVersion)
	work, err := os.MkdirTemp("", "apimctl-cassandra-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	if err := os.WriteFile(filepath.Join(work, "pom.xml"), cassandraPOM, 0o644); err != nil {
		return "", err
	}
	tmp := lib + ".fetching"
	_ = os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, "mvn", "-q", "-B", "-f", filepath.Join(work, "pom.xml"),
		"-Dcassandra.version="+CassandraVersion, "dependency:copy-dependencies",
		"-DincludeScope=runtime", "-DoutputDirectory="+tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("mvn dependency:copy-dependencies: %w\n%s", err, out)
	}
	if err := os.Rename(tmp, lib); err != nil {
		return "", err
	}
	return lib, nil
}

// buildLabBinaries builds apigw (what the gateway images run in the lab) and labd (agent,
// backend, traffic generator) from the checkout into the state directory, on every `lab up`
// so that the lab runs the code of the checkout. Running processes keep their old binary: the
// new one replaces it by rename.
func (l *Lab) buildLabBinaries(ctx context.Context) (apigw, labd string, err error) {
	td, err := l.toolsDir()
	if err != nil {
		return "", "", fmt.Errorf("the lab builds apigw from an apimctl checkout: %w", err)
	}
	root := filepath.Dir(filepath.Dir(td))
	bin := filepath.Join(l.opts.StateDir, "bin")
	tmp := bin + ".building"
	_ = os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", "", err
	}
	defer os.RemoveAll(tmp)
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", tmp+"/", "./cmd/apigw", "./lab/cmd/labd")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("go build apigw and labd in %s: %w\n%s", root, err, out)
	}
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return "", "", err
	}
	for _, n := range []string{"apigw", "labd"} {
		if err := os.Rename(filepath.Join(tmp, n), filepath.Join(bin, n)); err != nil {
			return "", "", err
		}
	}
	l.progress("  ✓ %-24s %s", "built apigw and labd", time.Since(start).Round(100*time.Millisecond))
	return filepath.Join(bin, "apigw"), filepath.Join(bin, "labd"), nil
}
