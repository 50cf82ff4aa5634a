package dr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/apimctl/apimctl/ops/live"
	"github.com/apimctl/apimctl/ops/rollout"

	"filippo.io/age"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/apimctl/apimctl/backup"
	"github.com/apimctl/apimctl/cluster/cassandra"
	"github.com/apimctl/apimctl/cluster/mysql"
	"github.com/apimctl/apimctl/internal/cql"
)

// DR restores: a backup put back into a target — another namespace or cluster, other
// keyspace names and replication, another registry — step by step, each step recorded so an
// interrupted restore resumes where it stopped, and a timed report at the end.

// RestoreOptions say where a backup goes.
type RestoreOptions struct {
	Dir          string            // the backup's directory
	Namespace    string            // target namespace (default: the backup's)
	KeyspaceMap  map[string]string // backup keyspace → target keyspace (default: same name)
	Replication  string            // CQL replication map for the restored keyspaces (default: the backup's)
	Registry     map[string]string // image prefix → replacement (e.g. old registry → DR registry)
	Database     string            // target MySQL database (default: the connection's)
	IdentityFile string            // age identities for the Secrets
	Only         []string          // cassandra, mysql, kube
	Timeout      time.Duration     // for the workloads to become ready
	Progress     func(string)
}

// RestorePlan is what a restore will do; it is also the dry run's output.
type RestorePlan struct {
	Backup    string          `json:"backup"`
	Namespace string          `json:"namespace"`
	Keyspaces []KeyspaceMove  `json:"keyspaces,omitempty"`
	Database  string          `json:"database,omitempty"`
	Objects   int             `json:"objects"`
	Secrets   int             `json:"secrets"`
	Images    []string        `json:"images,omitempty"` // after the registry rewrite
	Steps     []string        `json:"steps"`
	Done      map[string]bool `json:"done,omitempty"` // steps a previous run completed

	manifest *backup.Manifest
	backup   *backup.Backup
	objs     []runtime.Object
	secrets  []runtime.Object
}

// KeyspaceMove is one keyspace restored under a (possibly) new name.
type KeyspaceMove struct {
	From string `json:"from"`
	To   string `json:"to"`
	Rows int64  `json:"rows"`
}

// RestoreStep is one line of the timed report.
type RestoreStep struct {
	Step     string        `json:"step"`
	Detail   string        `json:"detail"`
	Duration time.Duration `json:"-"`
	Seconds  float64       `json:"seconds"`
	Skipped  bool          `json:"skipped,omitempty"` // done by an earlier run
}

func (o RestoreOptions) Includes(part string) bool {
	return len(o.Only) == 0 || slices.Contains(o.Only, part)
}

// stateFile records a restore's finished steps next to the backup (not in it: the backup
// stays as verify expects it).
func stateFile(dir, namespace string) string {
	return filepath.Join(filepath.Dir(filepath.Clean(dir)), "."+filepath.Base(filepath.Clean(dir))+".restore-"+namespace+".json")
}

// PlanRestore reads the backup (verifying it first) and says what restoring it does.
func PlanRestore(conn *live.Connection, o RestoreOptions) (*RestorePlan, error) {
	for _, p := range o.Only {
		if !slices.Contains(BackupParts, p) {
			return nil, fmt.Errorf("--only %q: one of %s", p, strings.Join(BackupParts, ", "))
		}
	}
	m, probs, err := backup.Verify(o.Dir)
	if err != nil {
		return nil, err
	}
	if len(probs) > 0 {
		return nil, fmt.Errorf("the backup fails verification (%d problems, first: %s: %s); restore nothing from it", len(probs), probs[0].Path, probs[0].Issue)
	}
	b, err := backup.OpenDir(o.Dir)
	if err != nil {
		return nil, err
	}
	p := &RestorePlan{Backup: m.ID, Namespace: o.Namespace, manifest: m, backup: b, Done: map[string]bool{}}
	if p.Namespace == "" {
		p.Namespace = m.Source.Namespace
	}
	if o.Includes("cassandra") {
		for _, ks := range m.Keyspaces() {
			to := ks
			if t := o.KeyspaceMap[ks]; t != "" {
				to = t
			}
			if !cql.ValidName(to) {
				return nil, fmt.Errorf("target keyspace %q: a keyspace name is 1 to 48 letters, digits or underscores", to)
			}
			p.Keyspaces = append(p.Keyspaces, KeyspaceMove{From: ks, To: to})
			p.Steps = append(p.Steps, "cassandra "+ks+" → "+to)
		}
		for from := range o.KeyspaceMap {
			if !slices.Contains(m.Keyspaces(), from) {
				return nil, fmt.Errorf("--keyspace-map %s: the backup has no such keyspace (it has %s)", from, strings.Join(m.Keyspaces(), ", "))
			}
		}
	}
	if o.Includes("mysql") && len(m.Databases()) > 0 {
		p.Database = o.Database
		if p.Database == "" && conn.Targets.MetricsDBURL != "" {
			_, p.Database, _ = mysql.ParseJDBC(conn.Targets.MetricsDBURL)
		}
		if p.Database == "" {
			return nil, errors.New("no target database: METRICS_DB_URL or --database")
		}
		p.Steps = append(p.Steps, "mysql "+m.Databases()[0]+" → "+p.Database)
	}
	if o.Includes("kube") {
		var ids []age.Identity
		if o.IdentityFile != "" {
			f, err := os.Open(o.IdentityFile)
			if err != nil {
				return nil, err
			}
			ids, err = age.ParseIdentities(f)
			f.Close()
			if err != nil {
				return nil, fmt.Errorf("--identity %s: %w", o.IdentityFile, err)
			}
		} else if len(m.PartsOf("kube-secrets")) > 0 {
			return nil, errors.New("the backup's Secrets are encrypted: give --identity (the age key they were encrypted to)")
		}
		objs, secrets, err := backup.KubernetesObjects(context.Background(), b, ids)
		if err != nil {
			return nil, err
		}
		p.objs, p.secrets = objs, secrets
		p.Objects, p.Secrets = len(objs), len(secrets)
		for _, obj := range objs {
			for _, c := range podContainers(obj) {
				p.Images = append(p.Images, rewriteImage(c.Image, o.Registry))
			}
		}
		p.Steps = append(p.Steps, "kubernetes namespace "+p.Namespace, "workloads ready")
	}
	if b, err := os.ReadFile(stateFile(o.Dir, p.Namespace)); err == nil {
		_ = json.Unmarshal(b, &p.Done)
	}
	return p, nil
}

func podContainers(o runtime.Object) []corev1.Container {
	switch x := o.(type) {
	case *appsv1.Deployment:
		return x.Spec.Template.Spec.Containers
	case *appsv1.StatefulSet:
		return x.Spec.Template.Spec.Containers
	}
	return nil
}

// rewriteImage replaces the longest matching registry prefix.
func rewriteImage(image string, m map[string]string) string {
	best := ""
	for from := range m {
		if strings.HasPrefix(image, from) && len(from) > len(best) {
			best = from
		}
	}
	if best == "" {
		return image
	}
	return m[best] + strings.TrimPrefix(image, best)
}

// Restore carries the plan out, skipping the steps an earlier run finished.
func Restore(ctx context.Context, conn *live.Connection, p *RestorePlan, o RestoreOptions) ([]RestoreStep, error) {
	say := o.Progress
	if say == nil {
		say = func(string) {}
	}
	var report []RestoreStep
	save := func() {
		b, _ := json.Marshal(p.Done)
		_ = os.WriteFile(stateFile(o.Dir, p.Namespace), b, 0o600)
	}
	step := func(name string, f func() (string, error)) error {
		if p.Done[name] {
			report = append(report, RestoreStep{Step: name, Detail: "done by an earlier run", Skipped: true})
			say(name + ": done by an earlier run")
			return nil
		}
		say(name)
		start := time.Now()
		detail, err := f()
		d := time.Since(start)
		if err != nil {
			return fmt.Errorf("%s: %w (the steps before it are kept; run the restore again to resume)", name, err)
		}
		report = append(report, RestoreStep{Step: name, Detail: detail, Duration: d, Seconds: d.Round(time.Millisecond).Seconds()})
		p.Done[name] = true
		save()
		return nil
	}
	t := conn.Targets
	if len(p.Keyspaces) > 0 {
		cl, err := cassandra.Dial(ctx, cassandra.Target{Hosts: t.CassandraHosts, Port: t.CassandraPort, Username: t.CassandraUser,
			Password: t.CassandraPassword, Timeout: 30 * time.Second})
		if err != nil {
			return report, err
		}
		defer cl.Close()
		for i := range p.Keyspaces {
			k := &p.Keyspaces[i]
			err := step("cassandra "+k.From+" → "+k.To, func() (string, error) {
				stmts, err := backup.CassandraSchema(ctx, p.backup, k.From, k.To, o.Replication)
				if err != nil {
					return "", err
				}
				for _, st := range stmts {
					if err := cl.Session().Query(st).WithContext(ctx).Exec(); err != nil {
						return "", fmt.Errorf("%.80s…: %w", st, err)
					}
				}
				k.Rows, err = backup.CassandraRows(ctx, cl.Session(), p.backup, k.From, k.To, backup.CassandraRestoreOptions{
					Progress: func(pr backup.Progress) {
						say(fmt.Sprintf("  %s.%s: unit %d of %d, %d rows", k.To, pr.Table, pr.Unit+1, pr.Units, pr.Rows))
					}})
				return fmt.Sprintf("%d statements, %d rows", len(stmts), k.Rows), err
			})
			if err != nil {
				return report, err
			}
		}
	}
	if p.Database != "" {
		from := p.manifest.Databases()[0]
		err := step("mysql "+from+" → "+p.Database, func() (string, error) {
			addr, _, err := mysql.ParseJDBC(t.MetricsDBURL)
			if err != nil {
				return "", err
			}
			db, err := mysql.Open(mysql.Target{Addr: addr, Database: p.Database, User: t.MetricsDBUser, Password: t.MetricsDBPassword, Timeout: time.Minute})
			if err != nil {
				return "", err
			}
			defer db.Close()
			n, err := backup.MySQLRestore(ctx, db, p.backup, from, p.Database, backup.MySQLRestoreOptions{})
			return fmt.Sprintf("%d rows", n), err
		})
		if err != nil {
			return report, err
		}
	}
	if p.objs != nil || p.secrets != nil {
		err := step("kubernetes namespace "+p.Namespace, func() (string, error) {
			return fmt.Sprintf("%d objects, %d secrets", p.Objects, p.Secrets), applyObjects(ctx, conn, p, o)
		})
		if err != nil {
			return report, err
		}
		err = step("workloads ready", func() (string, error) {
			// The namespace's Deployments as they are now (the apply may have been an
			// earlier run's), each waited for at its current generation.
			r, err := rollout.RolloutsFor(conn, p.Namespace)
			if err != nil {
				return "", err
			}
			deps, err := conn.Kube.Clientset.AppsV1().Deployments(p.Namespace).List(ctx, metav1.ListOptions{})
			if err != nil {
				return "", err
			}
			sort.Slice(deps.Items, func(i, j int) bool { return deps.Items[i].Name < deps.Items[j].Name })
			deadline := time.Now().Add(o.Timeout)
			for _, d := range deps.Items {
				left := time.Until(deadline)
				if left <= 0 {
					return "", fmt.Errorf("deployment/%s: not available within %s", d.Name, o.Timeout)
				}
				if err := r.Wait(ctx, d.Name, d.Generation, rollout.RolloutOptions{Timeout: left}); err != nil {
					return "", fmt.Errorf("deployment/%s: %w", d.Name, err)
				}
			}
			return fmt.Sprintf("%d deployments available", len(deps.Items)), nil
		})
		if err != nil {
			return report, err
		}
	}
	return report, nil
}

var gvrs = map[string]schema.GroupVersionResource{
	"Deployment":              {Group: "apps", Version: "v1", Resource: "deployments"},
	"StatefulSet":             {Group: "apps", Version: "v1", Resource: "statefulsets"},
	"Service":                 {Version: "v1", Resource: "services"},
	"ConfigMap":               {Version: "v1", Resource: "configmaps"},
	"Secret":                  {Version: "v1", Resource: "secrets"},
	"ServiceAccount":          {Version: "v1", Resource: "serviceaccounts"},
	"HorizontalPodAutoscaler": {Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"},
	"PodDisruptionBudget":     {Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"},
	"Ingress":                 {Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"},
}

// applyObjects creates the namespace and applies every object into it (server-side apply,
// field manager apimctl-restore): images rewritten to the target registry, and in the
// Cassandra Secret the keyspace names mapped.
func applyObjects(ctx context.Context, conn *live.Connection, p *RestorePlan, o RestoreOptions) error {
	cs := conn.Kube.Clientset
	if _, err := cs.CoreV1().Namespaces().Get(ctx, p.Namespace, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: p.Namespace}}, metav1.CreateOptions{}); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(conn.Kube.Config)
	if err != nil {
		return err
	}
	for _, obj := range append(append([]runtime.Object{}, p.secrets...), p.objs...) {
		for i, c := range podContainers(obj) {
			img := rewriteImage(c.Image, o.Registry)
			switch x := obj.(type) {
			case *appsv1.Deployment:
				x.Spec.Template.Spec.Containers[i].Image = img
			case *appsv1.StatefulSet:
				x.Spec.Template.Spec.Containers[i].Image = img
			}
		}
		if s, ok := obj.(*corev1.Secret); ok {
			for _, k := range []string{"CASS_KEYSPACE", "CASS_TKEYSPACE"} {
				if to := o.KeyspaceMap[string(s.Data[k])]; to != "" {
					s.Data[k] = []byte(to)
				}
			}
		}
		acc, err := meta.Accessor(obj)
		if err != nil {
			return err
		}
		acc.SetNamespace(p.Namespace)
		kind := obj.GetObjectKind().GroupVersionKind().Kind
		gvr, ok := gvrs[kind]
		if !ok {
			continue
		}
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return err
		}
		b, err := json.Marshal(u)
		if err != nil {
			return err
		}
		force := true
		_, err = dyn.Resource(gvr).Namespace(p.Namespace).Patch(ctx, acc.GetName(), "application/apply-patch+yaml", b,
			metav1.PatchOptions{FieldManager: "apimctl-restore", Force: &force})
		if err != nil {
			return fmt.Errorf("%s/%s: %w", strings.ToLower(kind), acc.GetName(), err)
		}
	}
	return nil
}
