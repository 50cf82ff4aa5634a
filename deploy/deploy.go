package deploy

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

//go:embed base/*.yaml
var baseFS embed.FS

// Secret names and the variables they carry, as the reference architecture names them.
const (
	CassandraSecret = "cassandra-credentials"
	MetricsSecret   = "metrics-db-credentials"
	// APIMgrSecret holds APIMGR_ADMIN_TOKEN, the API Manager's admin bearer token: the apimgr
	// role does not start without it (its management API never answers anonymously).
	APIMgrSecret = "apimgr-admin"
	// ANMSecret holds ANM_ADMIN_TOKEN, the bearer token of the Admin Node Manager's API.
	ANMSecret = "anm-admin"
	// MetricsCASecret holds ca.crt, the CA the metrics database's certificate chains to: the
	// ANM verifies the database with it (metricsDB.tls).
	MetricsCASecret = "metrics-db-tls"
	// MetricsCAKey is the Credentials key whose value (PEM) becomes MetricsCASecret's ca.crt.
	MetricsCAKey = "METRICS_DB_CA"
	// GatewayEnvConfigMap holds the backends of the group's APIs (CATALOG_BACKEND, …).
	GatewayEnvConfigMap = "apim-gateway-env"
	// APIMgrTokenKey is the key of APIMgrSecret.
	APIMgrTokenKey = "APIMGR_ADMIN_TOKEN"
	// ANMTokenKey is the key of ANMSecret.
	ANMTokenKey = "ANM_ADMIN_TOKEN"
)

var (
	CassandraKeys = []string{"CASS_HOST", "CASS_PORT", "CASS_USERNAME", "CASS_PASS", "CASS_KEYSPACE", "CASS_TKEYSPACE"}
	MetricsKeys   = []string{"METRICS_DB_URL", "METRICS_DB_USERNAME", "METRICS_DB_PASS"}
)

// Values choose what Render produces.
type Values struct {
	Namespace string
	// Registry prefixes the images (e.g. "127.0.0.1:16500"); empty keeps "apim/…".
	Registry string
	// GatewayTag and ANMTag are the image tags of the group image and the ANM image.
	GatewayTag, ANMTag string
	// Domain replaces apim.example.test in the Ingress hosts.
	Domain string
	// PodAnnotations are added to every pod template (the lab uses them for kwok's delays).
	PodAnnotations map[string]string
	// Credentials, when set, become the Secrets (keys as in CassandraKeys, MetricsKeys,
	// APIMgrTokenKey, ANMTokenKey and MetricsCAKey; every one is required).
	Credentials map[string]string
	// GatewayEnv replaces the data of the GatewayEnvConfigMap (the APIs' backends).
	GatewayEnv map[string]string
}

const baseDomain = "apim.example.test"

// Render returns the objects of the topology, Secrets first.
func Render(v Values) ([]*unstructured.Unstructured, error) {
	if v.Namespace == "" {
		return nil, errors.New("deploy: namespace is empty")
	}
	var objs []*unstructured.Unstructured
	if v.Credentials != nil {
		s, err := Secrets(v.Namespace, v.Credentials)
		if err != nil {
			return nil, err
		}
		objs = append(objs, s...)
	}
	files, _ := baseFS.ReadDir("base")
	for _, f := range files {
		if f.Name() == "kustomization.yaml" {
			continue
		}
		b, _ := baseFS.ReadFile(path.Join("base", f.Name()))
		docs, err := decode(b)
		if err != nil {
			return nil, fmt.Errorf("deploy: base/%s: %w", f.Name(), err)
		}
		for _, o := range docs {
			if err := customize(o, v); err != nil {
				return nil, fmt.Errorf("deploy: base/%s: %w", f.Name(), err)
			}
			objs = append(objs, o)
		}
	}
	// Configuration before the workloads that read it: applied in file order, a Deployment
	// (anm.yaml) would roll out pods that start on the previous ConfigMap
	// (gateway-config.yaml).
	sort.SliceStable(objs, func(i, j int) bool { return kindRank(objs[i]) < kindRank(objs[j]) })
	return objs, nil
}

func kindRank(o *unstructured.Unstructured) int {
	switch o.GetKind() {
	case "Namespace":
		return 0
	case "Secret", "ConfigMap":
		return 1
	case "Deployment", "StatefulSet", "DaemonSet":
		return 3
	}
	return 2
}

func decode(b []byte) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	d := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	for {
		// Through raw JSON so that numbers become int64, as unstructured objects expect.
		var raw json.RawMessage
		if err := d.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		if len(raw) == 0 || string(raw) == "null" {
			continue
		}
		o := &unstructured.Unstructured{}
		if err := o.UnmarshalJSON(raw); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
}

func customize(o *unstructured.Unstructured, v Values) error {
	if o.GetKind() == "Namespace" {
		o.SetName(v.Namespace)
		return nil
	}
	o.SetNamespace(v.Namespace)
	switch o.GetKind() {
	case "ConfigMap":
		if o.GetName() == GatewayEnvConfigMap && v.GatewayEnv != nil {
			data := map[string]any{}
			for k, val := range v.GatewayEnv {
				data[k] = val
			}
			o.Object["data"] = data
		}
	case "Deployment":
		tmpl, _, _ := unstructured.NestedMap(o.Object, "spec", "template")
		if len(v.PodAnnotations) > 0 {
			ann, _, _ := unstructured.NestedStringMap(tmpl, "metadata", "annotations")
			if ann == nil {
				ann = map[string]string{}
			}
			for k, val := range v.PodAnnotations {
				ann[k] = val
			}
			if err := unstructured.SetNestedStringMap(tmpl, ann, "metadata", "annotations"); err != nil {
				return err
			}
		}
		containers, _, _ := unstructured.NestedSlice(tmpl, "spec", "containers")
		for _, c := range containers {
			cm := c.(map[string]any)
			cm["image"] = v.image(cm["image"].(string))
		}
		if err := unstructured.SetNestedSlice(tmpl, containers, "spec", "containers"); err != nil {
			return err
		}
		return unstructured.SetNestedMap(o.Object, tmpl, "spec", "template")
	case "Ingress":
		if v.Domain == "" || v.Domain == baseDomain {
			return nil
		}
		b, err := yaml.Marshal(o.Object["spec"])
		if err != nil {
			return err
		}
		var spec map[string]any
		if err := yaml.Unmarshal([]byte(strings.ReplaceAll(string(b), baseDomain, v.Domain)), &spec); err != nil {
			return err
		}
		o.Object["spec"] = spec
	}
	return nil
}

// image maps a base image ("apim/gateway:1.0.0") to the target's registry and tag.
func (v Values) image(base string) string {
	repo, tag, _ := strings.Cut(base, ":")
	switch repo {
	case "apim/gateway":
		if v.GatewayTag != "" {
			tag = v.GatewayTag
		}
	case "apim/anm":
		if v.ANMTag != "" {
			tag = v.ANMTag
		}
	}
	if v.Registry != "" {
		repo = v.Registry + "/" + repo
	}
	return repo + ":" + tag
}

// Secrets builds the credential Secrets from vars: Cassandra, the metrics database, and the
// admin tokens of the API Manager and the Admin Node Manager. Every key must be present.
func Secrets(namespace string, vars map[string]string) ([]*unstructured.Unstructured, error) {
	mk := func(name string, keys []string) (*unstructured.Unstructured, error) {
		data := map[string]any{}
		var missing []string
		for _, k := range keys {
			val, ok := vars[k]
			if !ok {
				missing = append(missing, k)
				continue
			}
			data[k] = val
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			return nil, fmt.Errorf("deploy: secret %s: missing %s", name, strings.Join(missing, ", "))
		}
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
			"metadata": map[string]any{
				"name": name, "namespace": namespace,
				"labels": map[string]any{"app.kubernetes.io/part-of": "apim"},
			},
			"stringData": data,
		}}, nil
	}
	var out []*unstructured.Unstructured
	for _, s := range []struct {
		name string
		keys []string
	}{
		{CassandraSecret, CassandraKeys}, {MetricsSecret, MetricsKeys},
		{APIMgrSecret, []string{APIMgrTokenKey}}, {ANMSecret, []string{ANMTokenKey}},
		{MetricsCASecret, []string{MetricsCAKey}},
	} {
		o, err := mk(s.name, s.keys)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	// The CA is a file in its Secret (mounted into the ANM), not a variable.
	ca := out[len(out)-1]
	ca.Object["stringData"] = map[string]any{"ca.crt": vars[MetricsCAKey]}
	return out, nil
}
