package agent

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/apimctl/apimctl/cluster/kube"
)

// launch is what the agent runs for a pod's container: a kubelet's container config resolved
// onto this machine.
type launch struct {
	binary string
	args   []string
	env    []string
	dir    string
	tag    string
}

// configError is a problem with the pod's configuration (missing Secret, unknown image); the
// container waits with reason, like a kubelet's CreateContainerConfigError.
type configError struct {
	reason, msg string
}

func (e *configError) Error() string { return e.reason + ": " + e.msg }

// imageTag splits an image reference into repository and tag.
func imageTag(image string) (repo, tag string) {
	slash := strings.LastIndexByte(image, '/')
	if i := strings.LastIndexByte(image, ':'); i > slash {
		return image[:i], image[i+1:]
	}
	return image, "latest"
}

var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// expand replaces $(VAR) references with the container's variables, as the kubelet does.
func expand(s string, vars map[string]string) string {
	return varRef.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := vars[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

// resolve builds the launch of the pod's first container.
func (a *Agent) resolve(ctx context.Context, pod *corev1.Pod, ip, podDir string) (*launch, error) {
	c := pod.Spec.Containers[0]
	repo, tag := imageTag(c.Image)
	known := false
	for _, r := range a.cfg.ImageRepos {
		known = known || r == repo
	}
	if !known {
		return nil, &configError{"ErrImagePull", fmt.Sprintf("image %s is not one the lab runs (%s)", c.Image, strings.Join(a.cfg.ImageRepos, ", "))}
	}
	vars := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vars[k]; !ok {
			order = append(order, k)
		}
		vars[k] = v
	}
	ns := pod.Namespace
	for _, ef := range c.EnvFrom {
		var data map[string]string
		switch {
		case ef.SecretRef != nil:
			s, err := a.cs.CoreV1().Secrets(ns).Get(ctx, ef.SecretRef.Name, metav1.GetOptions{})
			if err != nil {
				if apierrors.IsNotFound(err) && ef.SecretRef.Optional != nil && *ef.SecretRef.Optional {
					continue
				}
				return nil, &configError{"CreateContainerConfigError", fmt.Sprintf("secret %q: %v", ef.SecretRef.Name, err)}
			}
			data = map[string]string{}
			for k, v := range s.Data {
				data[k] = string(v)
			}
			for k, v := range s.StringData {
				data[k] = v
			}
		case ef.ConfigMapRef != nil:
			cm, err := a.cs.CoreV1().ConfigMaps(ns).Get(ctx, ef.ConfigMapRef.Name, metav1.GetOptions{})
			if err != nil {
				if apierrors.IsNotFound(err) && ef.ConfigMapRef.Optional != nil && *ef.ConfigMapRef.Optional {
					continue
				}
				return nil, &configError{"CreateContainerConfigError", fmt.Sprintf("configmap %q: %v", ef.ConfigMapRef.Name, err)}
			}
			data = cm.Data
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			set(ef.Prefix+k, data[k])
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			set(e.Name, expand(e.Value, vars))
			continue
		}
		v, err := a.valueFrom(ctx, pod, ip, e.ValueFrom)
		if err != nil {
			return nil, err
		}
		set(e.Name, v)
	}
	// Volumes: each mount becomes a directory on this machine, and every path under a mount
	// path in the arguments and variables is rewritten to it.
	mounts, err := a.volumes(ctx, pod, podDir)
	if err != nil {
		return nil, err
	}
	var waitErr error
	rewrite := func(s string) string {
		s = rewritePaths(s, mounts)
		out, err := a.rewriteServiceURLs(ctx, ns, s)
		if err != nil && waitErr == nil {
			waitErr = err
		}
		return out
	}
	l := &launch{binary: a.cfg.Apigw, dir: podDir, tag: tag}
	for _, k := range order {
		l.env = append(l.env, k+"="+rewrite(vars[k]))
	}
	l.env = append(l.env, "HOSTNAME="+pod.Name, "APIM_IMAGE_TAG="+tag, "PATH=/usr/local/bin:/usr/bin:/bin")
	args := make([]string, 0, len(c.Args))
	for _, arg := range c.Args {
		args = append(args, rewrite(expand(arg, vars)))
	}
	if waitErr != nil {
		return nil, waitErr
	}
	if l.args, err = loopbackArgs(args, ip); err != nil {
		return nil, err
	}
	return l, nil
}

// loopbackArgs is the container's arguments with the listen address set to the pod's
// loopback IP: apigw listens on every interface by default (what a real pod needs), and the
// lab must never do so. Whatever --listen-ip the pod's arguments give is dropped.
func loopbackArgs(args []string, ip string) ([]string, error) {
	if a := net.ParseIP(ip); a == nil || !a.IsLoopback() {
		return nil, &configError{"CreateContainerConfigError", fmt.Sprintf("pod IP %q is not a loopback address: the lab binds only 127.0.0.0/8", ip)}
	}
	out := make([]string, 0, len(args)+1)
	for i := 0; i < len(args); i++ {
		name, _, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if strings.HasPrefix(args[i], "-") && name == "listen-ip" {
			if !hasValue {
				i++ // --listen-ip VALUE
			}
			continue
		}
		out = append(out, args[i])
	}
	return append(out, "--listen-ip="+ip), nil
}

func (a *Agent) valueFrom(ctx context.Context, pod *corev1.Pod, ip string, vf *corev1.EnvVarSource) (string, error) {
	switch {
	case vf.FieldRef != nil:
		switch vf.FieldRef.FieldPath {
		case "metadata.name":
			return pod.Name, nil
		case "metadata.namespace":
			return pod.Namespace, nil
		case "metadata.uid":
			return string(pod.UID), nil
		case "spec.nodeName":
			return pod.Spec.NodeName, nil
		case "spec.serviceAccountName":
			return pod.Spec.ServiceAccountName, nil
		case "status.podIP", "status.podIPs":
			return ip, nil
		case "status.hostIP", "status.hostIPs":
			return nodeIP, nil
		}
		if k, ok := strings.CutPrefix(vf.FieldRef.FieldPath, "metadata.labels['"); ok {
			return pod.Labels[strings.TrimSuffix(k, "']")], nil
		}
		if k, ok := strings.CutPrefix(vf.FieldRef.FieldPath, "metadata.annotations['"); ok {
			return pod.Annotations[strings.TrimSuffix(k, "']")], nil
		}
		return "", &configError{"CreateContainerConfigError", "unsupported fieldRef " + vf.FieldRef.FieldPath}
	case vf.SecretKeyRef != nil:
		r := vf.SecretKeyRef
		s, err := a.cs.CoreV1().Secrets(pod.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
		if err == nil {
			if v, ok := s.Data[r.Key]; ok {
				return string(v), nil
			}
		}
		if r.Optional != nil && *r.Optional {
			return "", nil
		}
		return "", &configError{"CreateContainerConfigError", fmt.Sprintf("secret %q key %q: %v", r.Name, r.Key, err)}
	case vf.ConfigMapKeyRef != nil:
		r := vf.ConfigMapKeyRef
		cm, err := a.cs.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
		if err == nil {
			if v, ok := cm.Data[r.Key]; ok {
				return v, nil
			}
		}
		if r.Optional != nil && *r.Optional {
			return "", nil
		}
		return "", &configError{"CreateContainerConfigError", fmt.Sprintf("configmap %q key %q: %v", r.Name, r.Key, err)}
	}
	return "", &configError{"CreateContainerConfigError", "unsupported valueFrom"}
}

type mount struct{ path, host string }

// volumes materialises the container's volume mounts: configMap and secret volumes are
// written into the pod's directory, emptyDir volumes named in SharedVolumes are one directory
// per namespace (the reference architecture's shared events volume), other emptyDirs are the
// pod's own.
func (a *Agent) volumes(ctx context.Context, pod *corev1.Pod, podDir string) ([]mount, error) {
	vols := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		vols[v.Name] = v
	}
	var out []mount
	for _, vm := range pod.Spec.Containers[0].VolumeMounts {
		v, ok := vols[vm.Name]
		if !ok {
			return nil, &configError{"CreateContainerConfigError", "no volume " + vm.Name}
		}
		host := filepath.Join(podDir, "volumes", vm.Name)
		files := map[string][]byte{}
		switch {
		case v.ConfigMap != nil:
			cm, err := a.cs.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, v.ConfigMap.Name, metav1.GetOptions{})
			if err != nil {
				return nil, &configError{"CreateContainerConfigError", fmt.Sprintf("configmap %q: %v", v.ConfigMap.Name, err)}
			}
			for k, val := range cm.Data {
				files[k] = []byte(val)
			}
			for k, val := range cm.BinaryData {
				files[k] = val
			}
			files = pick(files, v.ConfigMap.Items)
		case v.Secret != nil:
			s, err := a.cs.CoreV1().Secrets(pod.Namespace).Get(ctx, v.Secret.SecretName, metav1.GetOptions{})
			if err != nil {
				return nil, &configError{"CreateContainerConfigError", fmt.Sprintf("secret %q: %v", v.Secret.SecretName, err)}
			}
			files = pick(s.Data, v.Secret.Items)
		case v.Projected != nil || v.DownwardAPI != nil:
			// The service-account volume every pod gets: apigw does not call the API server,
			// so it holds only the namespace (no token leaves the control plane).
			files["namespace"] = []byte(pod.Namespace)
		case v.EmptyDir != nil:
			for _, shared := range a.cfg.SharedVolumes {
				if shared == vm.Name {
					host = filepath.Join(a.cfg.Dir, "shared", pod.Namespace, vm.Name)
				}
			}
		default:
			return nil, &configError{"CreateContainerConfigError", "volume " + vm.Name + ": only configMap, secret and emptyDir volumes run in the lab"}
		}
		if err := os.MkdirAll(host, 0o755); err != nil {
			return nil, err
		}
		for name, b := range files {
			p := filepath.Join(host, filepath.Clean("/"+name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return nil, err
			}
			if err := os.WriteFile(p, b, 0o600); err != nil {
				return nil, err
			}
		}
		if vm.SubPath != "" {
			host = filepath.Join(host, filepath.Clean("/"+vm.SubPath))
		}
		out = append(out, mount{path: strings.TrimRight(vm.MountPath, "/"), host: host})
	}
	// Longest mount path first, so nested mounts win.
	sort.Slice(out, func(i, j int) bool { return len(out[i].path) > len(out[j].path) })
	return out, nil
}

func pick(data map[string][]byte, items []corev1.KeyToPath) map[string][]byte {
	if len(items) == 0 {
		return data
	}
	out := map[string][]byte{}
	for _, it := range items {
		if b, ok := data[it.Key]; ok {
			out[it.Path] = b
		}
	}
	return out
}

// rewritePaths maps container paths in s (a flag value, a variable) to the mounts' host
// directories: any occurrence of a mount path that is the whole value, or follows '=' or ','.
func rewritePaths(s string, mounts []mount) string {
	for _, m := range mounts {
		for _, sep := range []string{"", "=", ","} {
			for i := 0; ; {
				j := strings.Index(s[i:], sep+m.path)
				if j < 0 {
					break
				}
				j += i + len(sep)
				if sep == "" && j != 0 {
					i = j + len(m.path)
					continue
				}
				end := j + len(m.path)
				if end < len(s) && s[end] != '/' && s[end] != ',' {
					i = end
					continue
				}
				s = s[:j] + m.host + s[end:]
				i = j + len(m.host)
			}
		}
	}
	return s
}

// rewriteServiceURLs stands in for cluster DNS and kube-proxy, which the lab has not: an
// http(s) URL whose host is a Service ("anm", "anm.apim", "anm.apim.svc.cluster.local") gets
// the IP and target port of one of the Service's pods, Ready ones first. The address is fixed
// when the process starts; a restarted process resolves again.
func (a *Agent) rewriteServiceURLs(ctx context.Context, ns, s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return s, nil
	}
	host, port := u.Hostname(), u.Port()
	if net.ParseIP(host) != nil || host == "localhost" {
		return s, nil
	}
	parts := strings.Split(strings.TrimSuffix(host, ".svc.cluster.local"), ".")
	parts = slicesTrimSvc(parts)
	svcNS := ns
	switch len(parts) {
	case 1:
	case 2:
		svcNS = parts[1]
	default:
		return s, nil
	}
	svc, err := a.cs.CoreV1().Services(svcNS).Get(ctx, parts[0], metav1.GetOptions{})
	if err != nil || len(svc.Spec.Selector) == 0 {
		return s, nil
	}
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	var sp *corev1.ServicePort
	for i := range svc.Spec.Ports {
		if strconv.Itoa(int(svc.Spec.Ports[i].Port)) == port {
			sp = &svc.Spec.Ports[i]
		}
	}
	if sp == nil {
		return s, nil
	}
	pods, err := a.cs.CoreV1().Pods(svcNS).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(svc.Spec.Selector).String()})
	if err != nil {
		return s, nil
	}
	var best *corev1.Pod
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.Status.PodIP == "" || p.DeletionTimestamp != nil {
			continue
		}
		if best == nil || (kube.PodReady(p) && !kube.PodReady(best)) {
			best = p
		}
	}
	if best == nil {
		return s, &configError{"ContainerCreating", fmt.Sprintf("waiting for a pod of service %s/%s (no cluster DNS in the lab: the agent resolves it)", svcNS, svc.Name)}
	}
	target := sp.TargetPort.String()
	if sp.TargetPort.IntValue() == 0 {
		target = port
		for _, c := range best.Spec.Containers {
			for _, cp := range c.Ports {
				if cp.Name == sp.TargetPort.StrVal {
					target = strconv.Itoa(int(cp.ContainerPort))
				}
			}
		}
	}
	u.Host = net.JoinHostPort(best.Status.PodIP, target)
	return u.String(), nil
}

func slicesTrimSvc(parts []string) []string {
	if len(parts) == 3 && parts[2] == "svc" {
		return parts[:2]
	}
	return parts
}
