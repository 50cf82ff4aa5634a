// Package labtest gives integration tests the running lab. Under CI=true a missing lab fails
// the test; elsewhere it skips with the command that starts the lab.
package labtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/apimctl/apimctl/deploy"
	"github.com/apimctl/apimctl/lab"
)

// Require returns the running lab's Env. The lab is found in lab.DefaultStateDir (so
// APIMCTL_LAB_DIR selects another); its API server must be the one that lab started (a
// stopped lab whose ports another lab now uses is not taken for it) and MariaDB's port must
// answer.
func Require(t testing.TB) *lab.Env {
	t.Helper()
	env, err := lab.LoadEnv(lab.DefaultStateDir())
	if err == nil && !lab.Running(env.StateDir, "kube-apiserver") {
		err = fmt.Errorf("the lab in %s is not running (its kube-apiserver is not)", env.StateDir)
	}
	if err == nil {
		err = probe(env)
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the lab is required and missing: %v (make test brings it up; by hand: make lab-up)", err)
		}
		t.Skipf("no lab: %v (start it with `make lab-up`)", err)
	}
	return env
}

// Missing ends a test whose part (a lab component, a tool, a privilege) is not there: it
// fails under CI=true, where nothing may be skipped silently, and skips elsewhere.
func Missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// Open opens the lab of env (its state directory), to stop, start or inspect its parts.
func Open(t testing.TB, env *lab.Env) *lab.Lab {
	t.Helper()
	l, err := lab.Open(env.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// probe checks that the lab answers at all: MariaDB's port accepts a connection.
func probe(env *lab.Env) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", env.MySQLAddr)
	if err != nil {
		return err
	}
	return c.Close()
}

// Topology creates a throwaway namespace named prefix-N (deleted when the test ends) and
// returns it with the lab's rendered reference topology for it; the test picks what it
// needs and applies it with lab.Apply.
func Topology(t testing.TB, env *lab.Env, prefix string) (string, []*unstructured.Unstructured) {
	t.Helper()
	cs := Clientset(t, env)
	l := Open(t, env)
	ns := fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()%1e6)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	objs, err := deploy.Render(l.TopologyValues(ns))
	if err != nil {
		t.Fatal(err)
	}
	return ns, objs
}

// Apply applies objs to the lab's cluster as its admin (lab.Apply), failing the test if it
// cannot.
func Apply(ctx context.Context, t testing.TB, env *lab.Env, objs []*unstructured.Unstructured) {
	t.Helper()
	cfg, err := env.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	if err := lab.Apply(ctx, cfg, objs); err != nil {
		t.Fatal(err)
	}
}

// ApplyOf applies, within a minute, the kinds (and the Deployments named) of objs, the
// topology rendered for a throwaway namespace (Topology). Its gateways are real processes:
// the Deployments are pointed at the lab's own Admin Node Manager and API Manager
// (UseLabManagers), which the throwaway namespace lacks.
func ApplyOf(t testing.TB, env *lab.Env, objs []*unstructured.Unstructured, kinds map[string]bool, deployments ...string) {
	t.Helper()
	var keep []*unstructured.Unstructured
	for _, o := range objs {
		switch {
		case kinds[o.GetKind()]:
		case o.GetKind() == "Deployment" && slices.Contains(deployments, o.GetName()):
			UseLabManagers(env, o)
		default:
			continue
		}
		keep = append(keep, o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	Apply(ctx, t, env, keep)
}

// UseLabManagers points a gateway Deployment of a throwaway namespace's topology at the lab's
// own Admin Node Manager and API Manager (the ANM_URL and APIMGR_URL of its first container):
// its gateways are real processes that wait for them, and the throwaway namespace has none.
func UseLabManagers(env *lab.Env, d *unstructured.Unstructured) {
	cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	for _, e := range cs[0].(map[string]any)["env"].([]any) {
		e := e.(map[string]any)
		switch e["name"] {
		case "ANM_URL":
			e["value"] = "http://anm." + env.Namespace + ":8090"
		case "APIMGR_URL":
			e["value"] = "http://apimgr." + env.Namespace + ":8075"
		}
	}
	_ = unstructured.SetNestedSlice(d.Object, cs, "spec", "template", "spec", "containers")
}

// Clientset is a client of the lab's API server as its admin.
func Clientset(t testing.TB, env *lab.Env) kubernetes.Interface {
	t.Helper()
	cfg, err := env.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// CrashingGateway creates, in a throwaway namespace (prefix-N, deleted when the test ends),
// the lab's gateway configuration and a traffic gateway whose Cassandra port is closed: apigw
// logs its precheck, fails after 5 s, exits 1 and is restarted by the lab agent — a real crash
// loop with new log lines at every restart. As a Deployment "crashing" when deployment is set
// (the console shows it), else the bare pod "crashing-gateway". It returns the namespace.
func CrashingGateway(t testing.TB, env *lab.Env, prefix string, deployment bool) string {
	t.Helper()
	ns, objs := Topology(t, env, prefix)
	var keep []*unstructured.Unstructured
	var tmpl corev1.PodTemplateSpec
	for _, o := range objs {
		switch {
		case o.GetKind() == "ConfigMap" || o.GetKind() == "Secret":
			keep = append(keep, o)
		case o.GetKind() == "Deployment" && o.GetName() == "traffic":
			m, _, _ := unstructured.NestedMap(o.Object, "spec", "template")
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &tmpl); err != nil {
				t.Fatal(err)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	Apply(ctx, t, env, keep)
	cs := Clientset(t, env)
	labels := map[string]string{"app": "crashing"}
	tmpl.Labels = labels
	c := &tmpl.Spec.Containers[0]
	c.Args = append(c.Args, "--precheck-timeout=5s")
	c.Env = append(c.Env, corev1.EnvVar{Name: "CASS_PORT", Value: "1"})
	var err error
	if deployment {
		one := int32(1)
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "crashing", Namespace: ns, Labels: labels},
			Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl}}
		_, err = cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})
	} else {
		p := &corev1.Pod{ObjectMeta: tmpl.ObjectMeta, Spec: tmpl.Spec}
		p.Name, p.Namespace = "crashing-gateway", ns
		_, err = cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
	}
	if err != nil {
		t.Fatal(err)
	}
	return ns
}
