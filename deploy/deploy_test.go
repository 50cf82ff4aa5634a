package deploy

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/apimctl/apimctl/gateway/config"
)

func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s/%s rendered", kind, name)
	return nil
}

// allVars is every credential Render needs, each with a made-up value.
func allVars() map[string]string {
	vars := map[string]string{}
	for _, k := range append(append([]string{APIMgrTokenKey, ANMTokenKey, MetricsCAKey}, CassandraKeys...), MetricsKeys...) {
		vars[k] = "v-" + k
	}
	return vars
}

// TestMetricsDatabaseIsVerified: the ANM verifies the metrics database's certificate by
// default, against the CA of a Secret it mounts read-only and private.
func TestMetricsDatabaseIsVerified(t *testing.T) {
	vars := allVars()
	vars[MetricsCAKey] = "-----BEGIN CERTIFICATE-----\n…"
	objs, err := Render(Values{Namespace: "apim", Credentials: vars})
	if err != nil {
		t.Fatal(err)
	}
	sec := find(t, objs, "Secret", MetricsCASecret)
	if d, _, _ := unstructured.NestedStringMap(sec.Object, "stringData"); d["ca.crt"] != vars[MetricsCAKey] || len(d) != 1 {
		t.Errorf("CA secret %v", d)
	}
	d := find(t, objs, "Deployment", "anm")
	vols, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "volumes")
	found := false
	for _, v := range vols {
		v := v.(map[string]any)
		if s, ok := v["secret"].(map[string]any); ok && s["secretName"] == MetricsCASecret {
			found = true
			if m, _ := s["defaultMode"].(int64); m&0o077 != 0 || s["optional"] == true {
				t.Errorf("CA volume mode %o optional %v: want private and required", m, s["optional"])
			}
		}
	}
	if !found {
		t.Error("the ANM does not mount the metrics database's CA")
	}
	delete(vars, MetricsCAKey)
	if _, err := Secrets("apim", vars); err == nil || !strings.Contains(err.Error(), MetricsCAKey) {
		t.Errorf("without the CA: %v", err)
	}
}

func TestRenderFollowsTheReference(t *testing.T) {
	vars := allVars()
	objs, err := Render(Values{Namespace: "apim-x", Registry: "127.0.0.1:5000", GatewayTag: "7.7.1",
		Domain: "lab.test", PodAnnotations: map[string]string{"a": "b"}, Credentials: vars})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.GetKind() != "Namespace" && o.GetNamespace() != "apim-x" {
			t.Errorf("%s/%s in namespace %q", o.GetKind(), o.GetName(), o.GetNamespace())
		}
	}
	want := map[string]int64{"anm": 1, "apimgr": 1, "traffic": 3}
	for name, replicas := range want {
		d := find(t, objs, "Deployment", name)
		if r, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas"); r != replicas {
			t.Errorf("%s replicas %d, want %d", name, r, replicas)
		}
		surge, _, _ := unstructured.NestedFieldNoCopy(d.Object, "spec", "strategy", "rollingUpdate", "maxSurge")
		unav, _, _ := unstructured.NestedFieldNoCopy(d.Object, "spec", "strategy", "rollingUpdate", "maxUnavailable")
		if surge != int64(1) || unav != int64(0) {
			t.Errorf("%s rolling update surge %v unavailable %v, want 1/0", name, surge, unav)
		}
		cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
		c := cs[0].(map[string]any)
		for _, f := range []string{"readinessProbe", "livenessProbe", "resources"} {
			if c[f] == nil {
				t.Errorf("%s has no %s", name, f)
			}
		}
		if lim, _, _ := unstructured.NestedStringMap(c, "resources", "limits"); lim["cpu"] == "" || lim["memory"] == "" {
			t.Errorf("%s limits %v", name, lim)
		}
		ann, _, _ := unstructured.NestedStringMap(d.Object, "spec", "template", "metadata", "annotations")
		if ann["a"] != "b" {
			t.Errorf("%s pod annotations %v", name, ann)
		}
		pool, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "affinity", "nodeAffinity",
			"requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms")
		if !strings.Contains(fmtAny(pool), "apimpool") {
			t.Errorf("%s not pinned to apimpool: %v", name, pool)
		}
	}
	img := func(name string) string {
		d := find(t, objs, "Deployment", name)
		cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
		return cs[0].(map[string]any)["image"].(string)
	}
	if got := img("traffic"); got != "127.0.0.1:5000/apim/gateway:7.7.1" {
		t.Errorf("traffic image %s", got)
	}
	if got := img("anm"); got != "127.0.0.1:5000/apim/anm:1.0.0" {
		t.Errorf("anm image %s", got)
	}
	hpa := find(t, objs, "HorizontalPodAutoscaler", "traffic")
	if min, _, _ := unstructured.NestedInt64(hpa.Object, "spec", "minReplicas"); min != 3 {
		t.Errorf("hpa min %d", min)
	}
	if max, _, _ := unstructured.NestedInt64(hpa.Object, "spec", "maxReplicas"); max != 12 {
		t.Errorf("hpa max %d", max)
	}
	if !strings.Contains(fmtAny(hpa.Object["spec"]), "averageUtilization:75") {
		t.Errorf("hpa target: %v", hpa.Object["spec"])
	}
	ing := fmtAny(find(t, objs, "Ingress", "apim").Object["spec"])
	for _, h := range []string{"anm.lab.test", "api-manager.lab.test", "api.lab.test"} {
		if !strings.Contains(ing, h) {
			t.Errorf("ingress lacks host %s", h)
		}
	}
	sec := find(t, objs, "Secret", CassandraSecret)
	if d, _, _ := unstructured.NestedStringMap(sec.Object, "stringData"); d["CASS_PASS"] != "v-CASS_PASS" || len(d) != 6 {
		t.Errorf("cassandra secret %v", d)
	}
}

func TestSecretsNameTheMissingVariable(t *testing.T) {
	_, err := Secrets("apim", map[string]string{"CASS_HOST": "x"})
	if err == nil || !strings.Contains(err.Error(), "CASS_PASS") {
		t.Fatalf("err = %v, want it to name CASS_PASS", err)
	}
	// The management roles' tokens are not optional: without them the Secret is not rendered.
	for _, k := range []string{APIMgrTokenKey, ANMTokenKey} {
		vars := allVars()
		delete(vars, k)
		if _, err := Secrets("apim", vars); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("without %s: err = %v, want it named", k, err)
		}
	}
}

// TestManagementRolesNeedTheirTokenSecret: the apimgr and anm Deployments take their admin
// token from a Secret that is not optional, and the Ingress exposes nothing else of theirs.
func TestManagementRolesNeedTheirTokenSecret(t *testing.T) {
	objs, err := Render(Values{Namespace: "apim", Credentials: allVars()})
	if err != nil {
		t.Fatal(err)
	}
	for name, secret := range map[string]string{"apimgr": APIMgrSecret, "anm": ANMSecret} {
		d := find(t, objs, "Deployment", name)
		cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
		found := false
		for _, ef := range cs[0].(map[string]any)["envFrom"].([]any) {
			ref, _ := ef.(map[string]any)["secretRef"].(map[string]any)
			if ref != nil && ref["name"] == secret {
				found = true
				if ref["optional"] == true {
					t.Errorf("%s: secret %s is optional", name, secret)
				}
			}
		}
		if !found {
			t.Errorf("%s does not read the secret %s", name, secret)
		}
		find(t, objs, "Secret", secret)
	}
}

func TestRenderWithoutNamespaceFails(t *testing.T) {
	if _, err := Render(Values{}); err == nil {
		t.Fatal("no error")
	}
}

func fmtAny(v any) string {
	b, _ := yaml.Marshal(map[string]any{"x": v})
	return strings.ReplaceAll(strings.ReplaceAll(string(b), " ", ""), "\"", "")
}

// TestGatewayConfigPackagesParse renders the ConfigMap and loads its packages the way apigw
// does, with the variables the Deployments provide: a broken package would crash-loop every
// gateway.
func TestGatewayConfigPackagesParse(t *testing.T) {
	vars := allVars()
	vars["CASS_HOST"], vars["CASS_PORT"], vars["CASS_KEYSPACE"], vars["CASS_TKEYSPACE"] = "127.0.0.1", "9042", "ks", "tks"
	vars["METRICS_DB_URL"] = "jdbc:mysql://127.0.0.1:3306/metrics"
	objs, err := Render(Values{Namespace: "apim", Credentials: vars, GatewayEnv: map[string]string{
		"CATALOG_BACKEND": "http://127.0.0.1:1/", "ORDERS_BACKEND": "http://127.0.0.1:2", "PAYMENTS_BACKEND": "http://127.0.0.1:3"}})
	if err != nil {
		t.Fatal(err)
	}
	env, _, _ := unstructured.NestedStringMap(find(t, objs, "ConfigMap", GatewayEnvConfigMap).Object, "data")
	if env["CATALOG_BACKEND"] != "http://127.0.0.1:1/" || len(env) != 3 {
		t.Fatalf("gateway env %v", env)
	}
	for k, v := range env {
		vars[k] = v
	}
	vars["METRICS_DB_CA_FILE"] = "/ca.crt" // the ANM Deployment's variable
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	files, _, _ := unstructured.NestedStringMap(find(t, objs, "ConfigMap", "apim-gateway-config").Object, "data")
	for f, role := range map[string]string{"environment.yaml": "apimgr", "anm.yaml": "anm"} {
		e, err := config.ParseEnvironmentPackage(f, []byte(files[f]), lookup)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if role == "anm" && (e.MetricsDB.TLS.Mode != config.TLSVerify || e.MetricsDB.TLS.CAFile != "/ca.crt") {
			t.Errorf("anm.yaml: metrics database TLS %+v, want verify with the mounted CA", e.MetricsDB.TLS)
		}
		// The management role gets its token from the Secret's variable…
		if err := e.RequireAdminToken(role); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		// …and without it refuses to start, naming the setting and the Secret's key.
		without := func(k string) (string, bool) {
			if k == APIMgrTokenKey || k == ANMTokenKey {
				return "", false
			}
			return lookup(k)
		}
		e, err = config.ParseEnvironmentPackage(f, []byte(files[f]), without)
		if err != nil {
			t.Errorf("%s without tokens: %v", f, err)
			continue
		}
		if err := e.RequireAdminToken(role); err == nil || !strings.Contains(err.Error(), "adminToken: is empty") ||
			!strings.Contains(err.Error(), "_ADMIN_TOKEN") {
			t.Errorf("%s without its token: %v", f, err)
		}
	}
	p, err := config.ParsePolicyPackage("policy.yaml", []byte(files["policy.yaml"]), lookup)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.APIs) != 3 {
		t.Errorf("%d APIs", len(p.APIs))
	}
}

// TestConfigurationComesFirst: Secrets and ConfigMaps are applied before the Deployments
// whose pods read them, so a new pod never starts on the previous configuration.
func TestConfigurationComesFirst(t *testing.T) {
	objs, err := Render(Values{Namespace: "apim", Credentials: allVars()})
	if err != nil {
		t.Fatal(err)
	}
	seenWorkload := false
	for _, o := range objs {
		switch o.GetKind() {
		case "Deployment":
			seenWorkload = true
		case "Secret", "ConfigMap", "Namespace":
			if seenWorkload {
				t.Errorf("%s/%s comes after a Deployment", o.GetKind(), o.GetName())
			}
		}
	}
}
