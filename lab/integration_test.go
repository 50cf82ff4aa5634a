package lab_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gocql/gocql"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	_ "github.com/go-sql-driver/mysql"

	"github.com/apimctl/apimctl/cluster/cassandra"
	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/lab/labtest"
)

// TestRolloutKeepsCapacity applies the traffic Deployment of deploy/ to a fresh namespace,
// changes its image and watches the Deployment's status throughout: with maxSurge 1 and
// maxUnavailable 0 there are never more than 4 pods and never fewer than 3 available, and the
// rollout completes with every pod Ready on the new image.
func TestRolloutKeepsCapacity(t *testing.T) {
	env := labtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cs := labtest.Clientset(t, env)
	ns, objs := labtest.Topology(t, env, "it-rollout")
	// The pods are real gateways (the agent runs apigw): they wait for the ANM and the API
	// Manager of the lab's own namespace, which this namespace has not.
	labtest.ApplyOf(t, env, objs, map[string]bool{"Secret": true, "ConfigMap": true}, "traffic")
	deps := cs.AppsV1().Deployments(ns)
	waitDeployment(ctx, t, deps, "traffic", func(d *appsv1.Deployment) bool {
		return d.Status.ReadyReplicas == 3 && d.Status.UpdatedReplicas == 3
	})

	w, err := deps.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=traffic"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	patch := `{"spec":{"template":{"spec":{"containers":[{"name":"traffic","image":"` + env.RegistryAddr + `/apim/gateway:1.0.1"}]}}}}`
	d, err := deps.Patch(ctx, "traffic", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gen := d.Generation
	minAvail, maxPods, events := int32(99), int32(0), 0
	for done := false; !done; {
		select {
		case <-ctx.Done():
			t.Fatalf("rollout did not complete: min available %d, max pods %d", minAvail, maxPods)
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatal("watch closed")
			}
			d, ok := ev.Object.(*appsv1.Deployment)
			if !ok {
				continue
			}
			events++
			minAvail = min(minAvail, d.Status.AvailableReplicas)
			maxPods = max(maxPods, d.Status.Replicas)
			done = d.Status.ObservedGeneration >= gen && d.Status.UpdatedReplicas == 3 &&
				d.Status.ReadyReplicas == 3 && d.Status.Replicas == 3 && d.Status.AvailableReplicas == 3
		}
	}
	t.Logf("rollout: %d status updates, min available %d, max pods %d", events, minAvail, maxPods)
	if minAvail < 3 {
		t.Errorf("available replicas fell to %d during the rollout (maxUnavailable 0)", minAvail)
	}
	if maxPods > 4 {
		t.Errorf("%d pods at once during the rollout (maxSurge 1)", maxPods)
	}
	if events < 3 {
		t.Errorf("only %d status updates: the rollout did not take visible time", events)
	}
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=traffic"})
	if err != nil {
		t.Fatal(err)
	}
	ready := 0
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		if !strings.HasSuffix(p.Spec.Containers[0].Image, ":1.0.1") {
			t.Errorf("pod %s still runs %s", p.Name, p.Spec.Containers[0].Image)
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				ready++
			}
		}
		if !strings.HasPrefix(p.Status.PodIP, "127.") {
			t.Errorf("pod %s has IP %q outside loopback", p.Name, p.Status.PodIP)
		}
	}
	if ready != 3 {
		t.Errorf("%d pods Ready after the rollout, want 3", ready)
	}
}

func waitDeployment(ctx context.Context, t *testing.T, deps interface {
	Get(context.Context, string, metav1.GetOptions) (*appsv1.Deployment, error)
}, name string, ok func(*appsv1.Deployment) bool) {
	t.Helper()
	for {
		d, err := deps.Get(ctx, name, metav1.GetOptions{})
		if err == nil && ok(d) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("deployment %s not as expected: %v %+v", name, err, d.Status)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func dialCassandra(t *testing.T, env *lab.Env) *cassandra.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := cassandra.Dial(ctx, labtest.CassandraTarget(env, 0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestCassandraRingAndKeyspaces(t *testing.T) {
	env := labtest.Require(t)
	c := dialCassandra(t, env)
	deadline := time.Now().Add(30 * time.Second)
	var nodes []cassandra.Node
	for {
		nodes = c.Nodes()
		up := 0
		for _, n := range nodes {
			if n.Up {
				up++
			}
		}
		if up == len(env.CassandraHosts) && len(nodes) == len(env.CassandraHosts) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gocql sees %+v, want %d nodes up", nodes, len(env.CassandraHosts))
		}
		time.Sleep(time.Second)
	}
	racks := map[string]bool{}
	for _, n := range nodes {
		if n.DC != "dc1" || !strings.HasPrefix(n.Version, "5.0") {
			t.Errorf("node %+v: want dc1, version 5.0.x", n)
		}
		racks[n.Rack] = true
	}
	if len(racks) != len(nodes) {
		t.Errorf("racks %v: each node should be in its own zone", racks)
	}
	for _, ks := range []string{env.Keyspace, env.ThrottleKeyspace} {
		k, err := c.Keyspace(ks)
		if err != nil {
			t.Fatal(err)
		}
		if k.Strategy != "SimpleStrategy" || k.ReplicationFactor != min(3, len(env.CassandraHosts)) {
			t.Errorf("keyspace %s: %s RF %d, want SimpleStrategy RF 3", ks, k.Strategy, k.ReplicationFactor)
		}
	}
}

func TestCassandraQuorumWithPassword(t *testing.T) {
	env := labtest.Require(t)
	c := dialCassandra(t, env)
	s := c.Session()
	table := fmt.Sprintf("%s.it_quorum_%d", env.Keyspace, time.Now().UnixNano()%1e9)
	if err := s.Query("CREATE TABLE " + table + " (k text PRIMARY KEY, v text)").Exec(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Query("DROP TABLE " + table).Exec() })
	if err := s.Query("INSERT INTO "+table+" (k, v) VALUES (?, ?)", "key", "value").Consistency(gocql.Quorum).Exec(); err != nil {
		t.Fatalf("QUORUM write: %v", err)
	}
	var v string
	if err := s.Query("SELECT v FROM "+table+" WHERE k = ?", "key").Consistency(gocql.Quorum).Scan(&v); err != nil || v != "value" {
		t.Fatalf("QUORUM read: %q, %v", v, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := cassandra.Dial(ctx, cassandra.Target{Hosts: env.CassandraHosts, Port: env.CassandraPort, Username: env.CassandraUser, Password: "wrong"})
	if err == nil {
		t.Fatal("a wrong password was accepted")
	}
	if _, err := cassandra.Dial(ctx, cassandra.Target{Hosts: env.CassandraHosts, Port: env.CassandraPort, Username: "cassandra", Password: "cassandra"}); err == nil {
		t.Fatal("the default superuser cassandra/cassandra still logs in")
	}
}

func TestMariaDBMetricsUserOverTCP(t *testing.T) {
	env := labtest.Require(t)
	db, err := sql.Open("mysql", env.MySQLDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var user, dbname string
	if err := db.QueryRow("SELECT CURRENT_USER(), DATABASE()").Scan(&user, &dbname); err != nil {
		t.Fatalf("metrics user over TCP: %v", err)
	}
	if !strings.HasPrefix(user, env.MySQLUser+"@") || dbname != env.MySQLDatabase {
		t.Errorf("connected as %s to %s", user, dbname)
	}
	var name, ssl string
	if err := db.QueryRow("SHOW GLOBAL VARIABLES LIKE 'have_ssl'").Scan(&name, &ssl); err != nil || ssl != "YES" {
		t.Errorf("TLS on the metrics database: have_ssl=%q (%v)", ssl, err)
	}
	bad, _ := sql.Open("mysql", strings.Replace(env.MySQLDSN(), ":"+env.MySQLPassword+"@", ":wrong@", 1))
	defer bad.Close()
	if err := bad.Ping(); err == nil {
		t.Error("a wrong password was accepted")
	}
}

func TestPrometheusAnswersAQuery(t *testing.T) {
	env := labtest.Require(t)
	p := labtest.Prometheus(t, env)
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		v, err := p.Query(ctx, `up{job="prometheus"}`)
		cancel()
		if err == nil && strings.Contains(v.String(), "=> 1 @") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("up{job=prometheus}: %v %v", v, err)
		}
		time.Sleep(time.Second)
	}
}

func TestRegistryPushAndPullByDigest(t *testing.T) {
	env := labtest.Require(t)
	img, err := random.Image(2048, 2)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(env.RegistryAddr+"/it/random:"+fmt.Sprint(time.Now().UnixNano()), name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatalf("push: %v", err)
	}
	dig, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	byDigest, err := name.NewDigest(ref.Context().String()+"@"+dig.String(), name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	got, err := remote.Image(byDigest)
	if err != nil {
		t.Fatalf("pull by digest: %v", err)
	}
	gd, err := got.Digest()
	if err != nil || gd != dig {
		t.Fatalf("pulled digest %v, want %v (%v)", gd, dig, err)
	}
	layers, err := got.Layers()
	if err != nil || len(layers) != 2 {
		t.Fatalf("layers %d, %v", len(layers), err)
	}
	if _, err := remote.Image(mustDigest(t, ref.Context().String()+"@sha256:"+strings.Repeat("0", 64))); err == nil {
		t.Error("an unknown digest was served")
	} else {
		var terr interface{ Error() string }
		_ = errors.As(err, &terr)
	}
}

func mustDigest(t *testing.T, s string) name.Digest {
	d, err := name.NewDigest(s, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
