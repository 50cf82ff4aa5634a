package dr

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"filippo.io/age"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/apimctl/apimctl/backup"
	"github.com/apimctl/apimctl/cluster/mysql"
	"github.com/apimctl/apimctl/internal/cql"
	"github.com/apimctl/apimctl/internal/statedir"
	"github.com/apimctl/apimctl/ops/live"
)

// DR restores: a backup put back into a target — another namespace or cluster, other
// keyspace names and replication, another registry — step by step. The target ends equal to
// the backup (tables truncated, then loaded; --merge keeps extra rows). Progress is kept in
// a journal named after everything that defines the target, so an interrupted restore
// resumes where it stopped (unit by unit inside a table), and a finished one run again
// restores again.

// RestoreOptions say which backup goes where.
type RestoreOptions struct {
	// Dir is the backup's local directory; or Location and ID name it (Location wins).
	Dir      string
	Location backup.Location
	ID       string

	Namespace   string            // target namespace (default: the backup's)
	KeyspaceMap map[string]string // backup keyspace → target keyspace (default: same name)
	Replication string            // CQL replication map for the restored keyspaces (default: the backup's)
	Registry    map[string]string // image prefix → replacement (e.g. old registry → DR registry)
	Database    string            // target MySQL database (default: the connection's)
	// EventsDir and PackagesDir are where the event files and the packages are written
	// (without one, that part is not restored).
	EventsDir, PackagesDir string
	IdentityFile           string   // age identities for the Secrets
	Only                   []string // cassandra, mysql, kube, events, packages
	Timeout                time.Duration

	// Merge keeps the target's rows that the backup does not have; by default each table is
	// emptied first, so it ends equal to the backup.
	Merge bool
	// Parallel is the workers of each engine (0: the engines' defaults); Consistency the
	// Cassandra writes' (default QUORUM).
	Parallel    int
	Consistency string
	// Resume only continues an interrupted run of this restore (an error when there is
	// none); FromStart forgets an interrupted run and restores everything again. Without
	// either, an interrupted run is resumed and a finished one is restored again.
	Resume, FromStart bool
	// Force restores although the plan finds what the restored workloads will lack.
	Force bool
	// ImagesCopied: the images are copied to the target registry before the restore (the
	// drill), so the plan checks that the source images exist.
	ImagesCopied bool
	// StuckAfter is how long a pod may stay in a state that waiting does not resolve before
	// the wait fails naming it (default 20 s).
	StuckAfter time.Duration
	// JournalDir keeps the restores' journals (default: restores/ in apimctl's state
	// directory); Getenv reads the location's credentials (os.Getenv when nil).
	JournalDir string
	Getenv     func(string) string
	Progress   func(string)
}

// RestorePlan is what a restore will do; it is also the dry run's output.
type RestorePlan struct {
	Backup    string         `json:"backup"`
	Location  string         `json:"location"`
	Namespace string         `json:"namespace"`
	Keyspaces []KeyspaceMove `json:"keyspaces,omitempty"`
	Database  string         `json:"database,omitempty"`
	Files     []FileMove     `json:"files,omitempty"`
	Objects   int            `json:"objects"`
	Secrets   int            `json:"secrets"`
	Images    []string       `json:"images,omitempty"` // after the registry rewrite
	Merge     bool           `json:"merge,omitempty"`
	Steps     []string       `json:"steps"`
	// Done are the steps an interrupted run of this restore completed (skipped now).
	Done map[string]bool `json:"done,omitempty"`
	// Resuming says the run resumes an interrupted one (and since when it ran).
	Resuming string `json:"resuming,omitempty"`
	// Lacks are what the restored workloads will lack (a Secret not in the backup, an image
	// not in the target registry, no node of a required pool, a storage class): the restore
	// stops unless forced. Unchecked are what could not be checked.
	Lacks     []string `json:"lacks,omitempty"`
	Unchecked []string `json:"unchecked,omitempty"`
	// Notes are what the backup holds that is not restored, and why.
	Notes   []string `json:"notes,omitempty"`
	Journal string   `json:"journal"`

	manifest *backup.Manifest
	backup   *backup.Backup
	objs     []runtime.Object
	secrets  []runtime.Object
	journal  *backup.FileJournal
	fromDB   string
}

// KeyspaceMove is one keyspace restored under a (possibly) new name.
type KeyspaceMove struct {
	From string `json:"from"`
	To   string `json:"to"`
	Rows int64  `json:"rows"`
}

// FileMove is a file set restored into a directory.
type FileMove struct {
	Set   string `json:"set"`
	To    string `json:"to"`
	Files int    `json:"files"`
}

// RestoreStep is one line of the timed report.
type RestoreStep struct {
	Step     string        `json:"step"`
	Detail   string        `json:"detail"`
	Duration time.Duration `json:"-"`
	Seconds  float64       `json:"seconds"`
	Skipped  bool          `json:"skipped,omitempty"` // done by an earlier run
}

// Includes says whether part is chosen (--only); events and packages also need their
// target directory.
func (o RestoreOptions) Includes(part string) bool {
	return len(o.Only) == 0 || slices.Contains(o.Only, part)
}

// DefaultJournalDir is where restore journals are kept.
func DefaultJournalDir(getenv func(string) string) string {
	return filepath.Join(statedir.Dir(getenv), "restores")
}

// Step names, as the plan and the report say them.
func stepCassandra(k KeyspaceMove) string { return "cassandra " + k.From + " → " + k.To }
func stepMySQL(from, to string) string    { return "mysql " + from + " → " + to }
func stepFiles(f FileMove) string         { return f.Set + " → " + f.To }
func stepKube(ns string) string           { return "kubernetes namespace " + ns }

const stepWait = "workloads ready"

// PlanRestore reads the backup (verifying it first) and says what restoring it does: the
// steps, what an interrupted run already did, and what the restored workloads will lack.
// Its errors are bad input: nothing was changed.
func PlanRestore(conn *live.Connection, o RestoreOptions) (*RestorePlan, error) {
	ctx := context.Background()
	if err := checkParts(o.Only); err != nil {
		return nil, err
	}
	if o.Resume && o.FromStart {
		return nil, errors.New("--resume and --from-start contradict each other")
	}
	if _, err := backup.ParseConsistency(o.Consistency); err != nil {
		return nil, err
	}
	if o.Replication != "" {
		if err := backup.CheckReplication(o.Replication); err != nil {
			return nil, fmt.Errorf("--replication: %w", err)
		}
	}
	for _, part := range []struct{ name, dir string }{{backup.SetEvents, o.EventsDir}, {backup.SetPackages, o.PackagesDir}} {
		if slices.Contains(o.Only, part.name) && part.dir == "" {
			return nil, fmt.Errorf("--only %s: give the directory to restore them into with --%s DIR", part.name, part.name)
		}
	}
	loc, id := o.Location, o.ID
	if loc == nil {
		if o.Dir == "" {
			return nil, errors.New("no backup given")
		}
		loc, id = locationOf(o.Dir)
	}
	m, probs, err := backup.VerifyAt(ctx, loc, id)
	if err != nil {
		return nil, ReadError(err)
	}
	if len(probs) > 0 {
		return nil, fmt.Errorf("the backup fails verification (%d problems, first: %s: %s); restore nothing from it", len(probs), probs[0].Path, probs[0].Issue)
	}
	b, err := backup.Open(ctx, loc, id)
	if err != nil {
		return nil, ReadError(err)
	}
	p := &RestorePlan{Backup: m.ID, Location: loc.String(), Namespace: o.Namespace, Merge: o.Merge, manifest: m, backup: b, Done: map[string]bool{}}
	if p.Namespace == "" {
		p.Namespace = m.Source.Namespace
	}
	for from := range o.KeyspaceMap {
		if !slices.Contains(m.Keyspaces(), from) {
			return nil, fmt.Errorf("--keyspace-map %s: the backup has no such keyspace (it has %s)", from, orNone(m.Keyspaces()))
		}
	}
	var moves []KeyspaceMove
	for _, ks := range m.Keyspaces() {
		to := ks
		if t := o.KeyspaceMap[ks]; t != "" {
			to = t
		}
		if !cql.ValidName(to) {
			return nil, fmt.Errorf("target keyspace %q: a keyspace name is 1 to 48 letters, digits or underscores", to)
		}
		moves = append(moves, KeyspaceMove{From: ks, To: to})
	}
	database := ""
	if dbs := m.Databases(); len(dbs) > 0 {
		p.fromDB = dbs[0]
		database = o.Database
		if database == "" && conn.Targets.MetricsDBURL != "" {
			_, database, _ = mysql.ParseJDBC(conn.Targets.MetricsDBURL)
		}
	} else if o.Database != "" && slices.Contains(o.Only, "mysql") {
		return nil, fmt.Errorf("--database %s: the backup holds no MySQL database", o.Database)
	}

	if o.Includes("cassandra") {
		if len(moves) == 0 && slices.Contains(o.Only, "cassandra") {
			return nil, errors.New("--only cassandra: the backup holds no keyspace")
		}
		p.Keyspaces = moves
		for _, k := range moves {
			p.Steps = append(p.Steps, stepCassandra(k))
		}
	}
	if o.Includes("mysql") && p.fromDB != "" {
		if database == "" {
			return nil, errors.New("no target database: METRICS_DB_URL or --database")
		}
		p.Database = database
		p.Steps = append(p.Steps, stepMySQL(p.fromDB, p.Database))
	}
	for _, set := range []struct{ name, dir string }{{backup.SetEvents, o.EventsDir}, {backup.SetPackages, o.PackagesDir}} {
		has := slices.Contains(m.FileSets(), set.name)
		switch {
		case !o.Includes(set.name):
		case !has && set.dir != "":
			return nil, fmt.Errorf("--%s %s: the backup holds no %s (it has %s)", set.name, set.dir, set.name, orNone(m.FileSets()))
		case has && set.dir == "":
			p.Notes = append(p.Notes, fmt.Sprintf("%s in the backup not restored: give --%s DIR", set.name, set.name))
		case has:
			f := FileMove{Set: set.name, To: set.dir}
			for _, part := range m.PartsOf(backup.KindFiles) {
				if part.Name == set.name {
					f.Files++
				}
			}
			p.Files = append(p.Files, f)
			p.Steps = append(p.Steps, stepFiles(f))
		}
	}
	if o.Includes("kube") && len(m.PartsOf(backup.KindKube)) > 0 {
		if err := p.readObjects(ctx, o, m, b); err != nil {
			return nil, err
		}
		p.Steps = append(p.Steps, stepKube(p.Namespace), stepWait)
		if conn.Kube != nil {
			lacks(ctx, conn.Kube.Clientset, p, o)
		}
	} else if slices.Contains(o.Only, "kube") {
		return nil, errors.New("--only kube: the backup holds no Kubernetes resources")
	}
	if len(p.Steps) == 0 {
		return nil, errors.New("nothing to restore: the parts chosen are not in the backup")
	}
	if err := p.openJournal(conn, o, moves, database); err != nil {
		return nil, err
	}
	return p, nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// readObjects decodes the backup's namespace objects and, with an identity, its Secrets.
func (p *RestorePlan) readObjects(ctx context.Context, o RestoreOptions, m *backup.Manifest, b *backup.Backup) error {
	var ids []age.Identity
	if o.IdentityFile != "" {
		f, err := os.Open(o.IdentityFile)
		if err != nil {
			return err
		}
		ids, err = age.ParseIdentities(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("--identity %s: %w", o.IdentityFile, err)
		}
	} else if len(m.PartsOf(backup.KindKubeSecrets)) > 0 {
		return errors.New("the backup's Secrets are encrypted: give --identity (the age key they were encrypted to)")
	}
	objs, secrets, err := backup.KubernetesObjects(ctx, b, ids)
	if err != nil {
		return err
	}
	p.objs, p.secrets = objs, secrets
	p.Objects, p.Secrets = len(objs), len(secrets)
	seen := map[string]bool{}
	for _, obj := range objs {
		for _, c := range podSpecOf(obj).Containers {
			img := rewriteImage(c.Image, o.Registry)
			if !seen[img] {
				seen[img] = true
				p.Images = append(p.Images, img)
			}
		}
	}
	sort.Strings(p.Images)
	return nil
}

// podSpecOf is the pod template of a workload (an empty one for other objects).
func podSpecOf(o runtime.Object) *corev1.PodSpec {
	switch x := o.(type) {
	case *appsv1.Deployment:
		return &x.Spec.Template.Spec
	case *appsv1.StatefulSet:
		return &x.Spec.Template.Spec
	case *appsv1.DaemonSet:
		return &x.Spec.Template.Spec
	}
	return &corev1.PodSpec{}
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
