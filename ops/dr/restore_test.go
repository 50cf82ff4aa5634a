package dr

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	ggcr "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/apimctl/apimctl/backup"
	"github.com/apimctl/apimctl/cluster/registry"
	"github.com/apimctl/apimctl/ops/live"
)

// These test the pure parts of a restore's plan and wait on objects (the fake clientset
// only holds objects to read); restores themselves are tested against the lab
// (lab/drills, cmd/apimctl/cli).

func deployment(name string, spec corev1.PodSpec) *appsv1.Deployment {
	return &appsv1.Deployment{TypeMeta: metav1.TypeMeta{Kind: "Deployment", APIVersion: "apps/v1"}, ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To(int32(1)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}}, Spec: spec}}}
}

func TestConfigRefs(t *testing.T) {
	spec := corev1.PodSpec{
		Containers: []corev1.Container{{Name: "c",
			EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cass"}}},
				{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "opt"}, Optional: ptr.To(true)}}},
			Env: []corev1.EnvVar{{Name: "P", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "k"}}},
				{Name: "Q", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cass"}, Key: "k"}}}},
		}},
		Volumes:          []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "policy"}}}}},
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "pull"}},
	}
	if got := strings.Join(configRefs(&spec), " "); got != "ConfigMap/policy Secret/cass Secret/db Secret/pull" {
		t.Errorf("refs %s", got)
	}
}

func TestNodeSelector(t *testing.T) {
	nodes := []corev1.Node{{ObjectMeta: metav1.ObjectMeta{Name: "a", Labels: map[string]string{"agentpool": "apimpool", "zone": "1"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "b", Labels: map[string]string{"agentpool": "infrapool"}}}}
	affinity := func(op corev1.NodeSelectorOperator, vals ...string) *corev1.Affinity {
		return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "agentpool", Operator: op, Values: vals}}}}}}}
	}
	for _, c := range []struct {
		name  string
		spec  corev1.PodSpec
		match bool
	}{
		{"selector", corev1.PodSpec{NodeSelector: map[string]string{"agentpool": "apimpool"}}, true},
		{"selector of no node", corev1.PodSpec{NodeSelector: map[string]string{"agentpool": "gone"}}, false},
		{"affinity in", corev1.PodSpec{Affinity: affinity(corev1.NodeSelectorOpIn, "x", "infrapool")}, true},
		{"affinity not in", corev1.PodSpec{Affinity: affinity(corev1.NodeSelectorOpNotIn, "apimpool", "infrapool")}, false},
		{"selector and affinity on different nodes", corev1.PodSpec{NodeSelector: map[string]string{"zone": "1"}, Affinity: affinity(corev1.NodeSelectorOpIn, "infrapool")}, false},
	} {
		sel := nodeSelectorOf(&c.spec)
		if sel == nil || anyNodeMatches(nodes, sel) != c.match {
			t.Errorf("%s: %v, want %v", c.name, sel, c.match)
		}
	}
	if nodeSelectorOf(&corev1.PodSpec{}) != nil {
		t.Error("a pod without requirements has a selector")
	}
}

// TestLacks: the plan names a Secret neither the backup nor the target has, a node pool the
// target lacks, a storage class it lacks and an image its registry lacks; it does not name
// what is there (in the backup, in the target, optional).
func TestLacks(t *testing.T) {
	srv := httptest.NewServer(ggcr.New(ggcr.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	img, _ := random.Image(64, 1)
	if _, err := registry.Push(context.Background(), host+"/apim/gateway:1.0.0", img); err != nil {
		t.Fatal(err)
	}
	env := func(secret string) corev1.EnvFromSource {
		return corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: secret}}}
	}
	traffic := deployment("traffic", corev1.PodSpec{NodeSelector: map[string]string{"agentpool": "apimpool"},
		Containers: []corev1.Container{{Name: "gw", Image: host + "/apim/gateway:1.0.0", EnvFrom: []corev1.EnvFromSource{env("cassandra-credentials"), env("in-target"), env("in-backup")}}}})
	anm := deployment("anm", corev1.PodSpec{NodeSelector: map[string]string{"agentpool": "gone"},
		Containers: []corev1.Container{{Name: "anm", Image: host + "/apim/anm:9.9.9"}}})
	db := &appsv1.StatefulSet{TypeMeta: metav1.TypeMeta{Kind: "StatefulSet"}, ObjectMeta: metav1.ObjectMeta{Name: "db"}, Spec: appsv1.StatefulSetSpec{
		Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "db", Image: host + "/apim/gateway:1.0.0"}}}},
		VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}, Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: ptr.To("premium")}},
			{ObjectMeta: metav1.ObjectMeta{Name: "logs"}, Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: ptr.To("standard")}}}}}
	inBackup := &corev1.Secret{TypeMeta: metav1.TypeMeta{Kind: "Secret"}, ObjectMeta: metav1.ObjectMeta{Name: "in-backup"}}
	cs := fake.NewSimpleClientset(
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"agentpool": "apimpool"}}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "in-target", Namespace: "apim-dr"}},
		&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "standard"}})
	p := &RestorePlan{Namespace: "apim-dr", manifest: &backup.Manifest{}, objs: []runtime.Object{traffic, anm, db}, secrets: []runtime.Object{inBackup}}
	lacks(context.Background(), cs, p, RestoreOptions{})
	got := strings.Join(p.Lacks, "\n")
	for _, want := range []string{
		"secret cassandra-credentials used by deployment/traffic: the backup was made without --recipient",
		"deployment/anm: no node of the target cluster matches its node selector/affinity (agentpool=gone)",
		"statefulset/db: storage class premium does not exist",
		"image " + host + "/apim/anm:9.9.9 is not in the target registry",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks lack %q:\n%s", want, got)
		}
	}
	if len(p.Lacks) != 4 || len(p.Unchecked) != 0 {
		t.Errorf("%d lacks, unchecked %v:\n%s", len(p.Lacks), p.Unchecked, got)
	}

	// The registry map applies; with the drill's copy, the source images are checked.
	p = &RestorePlan{Namespace: "apim-dr", manifest: &backup.Manifest{}, objs: []runtime.Object{deployment("gw", corev1.PodSpec{
		Containers: []corev1.Container{{Name: "gw", Image: "registry.prod.example/apim/gateway:1.0.0"}}})}}
	checkImages(context.Background(), p, RestoreOptions{Registry: map[string]string{"registry.prod.example/": host + "/"}})
	if len(p.Lacks) != 0 {
		t.Errorf("a mapped image that exists: %v", p.Lacks)
	}
	checkImages(context.Background(), p, RestoreOptions{Registry: map[string]string{"registry.prod.example/": host + "/dr/"}, ImagesCopied: true})
	if len(p.Lacks) != 1 || !strings.Contains(p.Lacks[0], "registry.prod.example/apim/gateway:1.0.0: the source registry") {
		t.Errorf("a copied image is checked at its source: %v", p.Lacks)
	}
}

func TestJudgeWorkloads(t *testing.T) {
	d := deployment("traffic", corev1.PodSpec{})
	d.Generation, d.Status.ObservedGeneration, d.Status.Replicas, d.Status.UpdatedReplicas = 1, 1, 1, 1
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "traffic-1", Labels: map[string]string{"app": "traffic"}}, Spec: corev1.PodSpec{NodeName: "n"},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
			Reason: "CreateContainerConfigError", Message: `secret "cassandra-credentials" not found`}}}}}}
	other := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "other", Labels: map[string]string{"app": "other"}}}
	st := judgeWorkloads([]*appsv1.Deployment{d}, []*corev1.Pod{pod, other})
	if len(st.waits) != 1 || len(st.waits[0].pods) != 1 || !st.waits[0].pods[0].Hopeless ||
		st.line() != `deployment/traffic 0 of 1 updated replicas available — traffic-1 CreateContainerConfigError (secret "cassandra-credentials" not found)` {
		t.Errorf("%+v %q", st, st.line())
	}
	d.Status.AvailableReplicas, d.Status.ReadyReplicas = 1, 1
	if st := judgeWorkloads([]*appsv1.Deployment{d}, nil); len(st.waits) != 0 {
		t.Errorf("an available deployment waits: %+v", st)
	}
}

// TestWaitFailsFastOnAHopelessPod: a pod that stays in CreateContainerConfigError ends the
// wait after stuckAfter with the pod and the cause, not at the timeout.
func TestWaitFailsFastOnAHopelessPod(t *testing.T) {
	d := deployment("traffic", corev1.PodSpec{})
	d.Namespace, d.Generation, d.Status.ObservedGeneration, d.Status.Replicas, d.Status.UpdatedReplicas = "apim-dr", 1, 1, 1, 1
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "traffic-1", Namespace: "apim-dr", Labels: map[string]string{"app": "traffic"}}, Spec: corev1.PodSpec{NodeName: "n"},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
			Reason: "CreateContainerConfigError", Message: `secret "cassandra-credentials" not found`}}}}}}
	var lines []string
	_, err := waitWorkloads(context.Background(), fake.NewSimpleClientset(d, pod), "apim-dr", time.Minute, 1500*time.Millisecond, func(s string) { lines = append(lines, s) })
	if err == nil || !strings.Contains(err.Error(), "pod traffic-1 is in CreateContainerConfigError (secret \"cassandra-credentials\" not found)") ||
		!strings.Contains(err.Error(), "waiting does not resolve") {
		t.Fatalf("%v", err) // at the timeout it would say "not available within 1m0s"
	}
	if len(lines) == 0 || !strings.Contains(lines[0], "CreateContainerConfigError") {
		t.Errorf("progress %q", lines)
	}
	_, err = waitWorkloads(context.Background(), fake.NewSimpleClientset(), "apim-dr", time.Minute, 0, func(string) {})
	if err != nil {
		t.Errorf("no deployments: %v", err)
	}
}

func TestRestoreTargetNamesTheJournal(t *testing.T) {
	conn := &live.Connection{Targets: live.Targets{Context: "dr", CassandraHosts: []string{"c2", "c1"}, CassandraPort: 9042, MetricsDBURL: "jdbc:mysql://db:3306/metrics"}}
	moves := []KeyspaceMove{{From: "a", To: "a_dr"}}
	base := backup.JournalName(restoreTarget(conn, "/b", "ID", "apim-dr", moves, "metrics_dr", RestoreOptions{})...)
	other := *conn
	other.Targets.Context = "dr2"
	hosts := *conn
	hosts.Targets.CassandraHosts = []string{"c1", "c2"}
	for name, n := range map[string]string{
		"context":   backup.JournalName(restoreTarget(&other, "/b", "ID", "apim-dr", moves, "metrics_dr", RestoreOptions{})...),
		"namespace": backup.JournalName(restoreTarget(conn, "/b", "ID", "apim", moves, "metrics_dr", RestoreOptions{})...),
		"keyspaces": backup.JournalName(restoreTarget(conn, "/b", "ID", "apim-dr", []KeyspaceMove{{From: "a", To: "a"}}, "metrics_dr", RestoreOptions{})...),
		"database":  backup.JournalName(restoreTarget(conn, "/b", "ID", "apim-dr", moves, "metrics", RestoreOptions{})...),
		"backup":    backup.JournalName(restoreTarget(conn, "/b", "ID2", "apim-dr", moves, "metrics_dr", RestoreOptions{})...),
		"events":    backup.JournalName(restoreTarget(conn, "/b", "ID", "apim-dr", moves, "metrics_dr", RestoreOptions{EventsDir: "/ev"})...),
	} {
		if n == base {
			t.Errorf("another %s, the same journal", name)
		}
	}
	if backup.JournalName(restoreTarget(&hosts, "/b", "ID", "apim-dr", moves, "metrics_dr", RestoreOptions{})...) != base {
		t.Error("the same hosts in another order name another journal")
	}
}

func TestPartlyRestored(t *testing.T) {
	err := partly("mysql m → m_dr", errors.New("boom"), []string{"cassandra a → a"}, []string{"cassandra a → a", "mysql m → m_dr", "workloads ready"})
	if got := err.Error(); got != "mysql m → m_dr: boom — the target is partly restored: done cassandra a → a; not done: mysql m → m_dr (stopped midway); "+
		"workloads ready (the steps before it are kept; run the restore again to resume)" {
		t.Error(got)
	}
}

func TestMapJDBCDatabase(t *testing.T) {
	for _, c := range []struct{ in, from, to, want string }{
		{"jdbc:mysql://db:3306/metrics", "metrics", "metrics_dr", "jdbc:mysql://db:3306/metrics_dr"},
		{"jdbc:mysql://db:3306/metrics?useSSL=true", "metrics", "metrics_dr", "jdbc:mysql://db:3306/metrics_dr?useSSL=true"},
		{"jdbc:mysql://db:3306/other", "metrics", "metrics_dr", "jdbc:mysql://db:3306/other"},
		{"jdbc:mysql://db:3306/metrics", "metrics", "metrics", "jdbc:mysql://db:3306/metrics"},
		{"not a url", "metrics", "x", "not a url"},
	} {
		if got := mapJDBCDatabase(c.in, c.from, c.to); got != c.want {
			t.Errorf("%s: %s, want %s", c.in, got, c.want)
		}
	}
}
