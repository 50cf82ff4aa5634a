package dr

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/apimctl/apimctl/ops/live"
	"github.com/apimctl/apimctl/ops/model"

	"filippo.io/age"

	"github.com/apimctl/apimctl/backup"
	"github.com/apimctl/apimctl/cluster/cassandra"
	"github.com/apimctl/apimctl/cluster/mysql"
	"github.com/apimctl/apimctl/cluster/registry"
	"github.com/apimctl/apimctl/internal/statedir"
)

// DefaultBackupDir is $APIMCTL_BACKUP_DIR, else backups in apimctl's state directory.
func DefaultBackupDir(getenv func(string) string) string {
	if getenv == nil {
		getenv = os.Getenv
	}
	if d := getenv("APIMCTL_BACKUP_DIR"); d != "" {
		return d
	}
	return filepath.Join(statedir.Dir(getenv), "backups")
}

// BackupOptions say where a backup goes and what it holds.
type BackupOptions struct {
	Dir        string
	Recipients []string // age recipients (age1…) the Secrets are encrypted to; none: Secrets left out
	Keyspaces  []string // default: the group's keyspaces (CASS_KEYSPACE, CASS_TKEYSPACE), else every user keyspace
	Only       []string // cassandra, mysql, kube: back up only these (default: all)
	Tool       string   // apimctl's version, recorded in the manifest
	Now        func() time.Time
	Progress   func(string)
}

// BackupPlan is what a backup will read, for --dry-run and the log.
type BackupPlan struct {
	Dir        string   `json:"dir"`
	Namespace  string   `json:"namespace"`
	Keyspaces  []string `json:"keyspaces"`
	Database   string   `json:"database"`
	Secrets    bool     `json:"secrets"` // encrypted to the recipients
	Recipients []string `json:"recipients,omitempty"`
	Only       []string `json:"only,omitempty"`
}

// BackupParts are the parts --only chooses from.
var BackupParts = []string{"cassandra", "mysql", "kube"}

// Includes says whether the plan backs up part (cassandra, mysql, kube).
func (p *BackupPlan) Includes(part string) bool {
	if len(p.Only) == 0 {
		return true
	}
	for _, o := range p.Only {
		if o == part {
			return true
		}
	}
	return false
}

// ParseRecipients reads age recipients (X25519 public keys, age1…).
func ParseRecipients(rs []string) ([]age.Recipient, error) {
	var out []age.Recipient
	for _, r := range rs {
		rec, err := age.ParseX25519Recipient(strings.TrimSpace(r))
		if err != nil {
			return nil, fmt.Errorf("recipient %q: %w (an age public key, age1…; make one with age-keygen)", r, err)
		}
		out = append(out, rec)
	}
	return out, nil
}

// PlanBackup resolves what a backup of the connection's deployment reads.
func PlanBackup(ctx context.Context, conn *live.Connection, o BackupOptions) (*BackupPlan, error) {
	if _, err := ParseRecipients(o.Recipients); err != nil {
		return nil, err
	}
	for _, o := range o.Only {
		if !slices.Contains(BackupParts, o) {
			return nil, fmt.Errorf("--only %q: one of %s", o, strings.Join(BackupParts, ", "))
		}
	}
	t := conn.Targets
	p := &BackupPlan{Dir: o.Dir, Namespace: t.Namespace, Keyspaces: o.Keyspaces, Secrets: len(o.Recipients) > 0, Recipients: o.Recipients, Only: o.Only}
	if len(p.Keyspaces) == 0 {
		for _, k := range []string{t.Keyspace, t.ThrottleKeyspace} {
			if k != "" {
				p.Keyspaces = append(p.Keyspaces, k)
			}
		}
	}
	if t.MetricsDBURL != "" {
		_, db, err := mysql.ParseJDBC(t.MetricsDBURL)
		if err != nil {
			return nil, err
		}
		p.Database = db
	}
	if p.Dir == "" {
		p.Dir = DefaultBackupDir(nil)
	}
	return p, nil
}

// CreateBackup writes a backup of everything the plan names: the Cassandra keyspaces, the
// metrics database, the namespace's resources and Secrets, the workloads' images. A failure
// removes the unfinished backup and says which part failed.
func CreateBackup(ctx context.Context, conn *live.Connection, p *BackupPlan, o BackupOptions) (*backup.Manifest, string, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	say := o.Progress
	if say == nil {
		say = func(string) {}
	}
	if conn.Kube == nil {
		return nil, "", errors.New("no Kubernetes connection")
	}
	recipients, err := ParseRecipients(p.Recipients)
	if err != nil {
		return nil, "", err
	}
	t := conn.Targets
	w, err := backup.Create(ctx, backup.Dir(p.Dir), backup.NewID(now(), p.Namespace), backup.Source{Context: t.Context, Namespace: p.Namespace, Tool: o.Tool}, now())
	if err != nil {
		return nil, "", err
	}
	fail := func(part string, err error) (*backup.Manifest, string, error) {
		_ = w.Abandon(context.WithoutCancel(ctx))
		return nil, "", fmt.Errorf("backup of %s failed (nothing kept): %w", part, err)
	}

	switch {
	case !p.Includes("cassandra"):
		w.Note("Cassandra left out (--only)")
	case len(t.CassandraHosts) > 0:
		cl, err := cassandra.Dial(ctx, cassandra.Target{Hosts: t.CassandraHosts, Port: t.CassandraPort, Username: t.CassandraUser,
			Password: t.CassandraPassword, Timeout: 30 * time.Second})
		if err != nil {
			return fail("Cassandra", err)
		}
		keyspaces := p.Keyspaces
		if len(keyspaces) == 0 {
			if keyspaces, err = cl.UserKeyspaces(ctx); err != nil {
				cl.Close()
				return fail("Cassandra", err)
			}
		}
		for _, ks := range keyspaces {
			say("cassandra keyspace " + ks)
			if err := backup.Cassandra(ctx, cl.Session(), ks, w, backup.CassandraOptions{}); err != nil {
				cl.Close()
				return fail("keyspace "+ks, err)
			}
		}
		cl.Close()
	default:
		w.Note("Cassandra left out: no hosts (CASS_HOST)")
	}

	switch {
	case !p.Includes("mysql"):
		w.Note("MySQL left out (--only)")
	case p.Database != "":
		addr, _, _ := mysql.ParseJDBC(t.MetricsDBURL)
		db, err := mysql.Open(mysql.Target{Addr: addr, Database: p.Database, User: t.MetricsDBUser, Password: t.MetricsDBPassword, Timeout: time.Minute, TextValues: true})
		if err != nil {
			return fail("MySQL", err)
		}
		say("mysql database " + p.Database)
		err = backup.MySQL(ctx, db, p.Database, w, backup.MySQLOptions{})
		db.Close()
		if err != nil {
			return fail("database "+p.Database, err)
		}
	default:
		w.Note("MySQL left out: no METRICS_DB_URL")
	}

	if p.Includes("kube") {
		say("kubernetes namespace " + p.Namespace)
		images, err := backup.Kubernetes(ctx, conn.Kube.Clientset, p.Namespace, recipients, w)
		if err != nil {
			return fail("namespace "+p.Namespace, err)
		}
		say("image digests")
		w.AddImages(withDigests(ctx, images))
	} else {
		w.Note("Kubernetes resources and images left out (--only)")
	}
	m, err := w.Finish(ctx, now())
	if err != nil {
		return fail("the manifest", err)
	}
	return m, w.Dir(), nil
}

// withDigests asks the registries for the images' digests (best effort: a registry that
// cannot be asked leaves the digest empty).
func withDigests(ctx context.Context, images []backup.Image) []backup.Image {
	for i := range images {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if d, err := registry.Resolve(rctx, images[i].Image); err == nil {
			images[i].Digest = d
		}
		cancel()
	}
	return images
}

// BackupSummary is what the console shows of a finished backup.
type BackupSummary struct {
	ID    string   `json:"id"`
	Dir   string   `json:"dir"`
	Files int      `json:"files"`
	Bytes int64    `json:"bytes"`
	Items int64    `json:"items"`
	Notes []string `json:"notes,omitempty"`
	// Manifest is the backup's whole manifest.
	Manifest *backup.Manifest `json:"manifest,omitempty"`
}

// ConsoleBackupOptions are the console's backups: the default directory, and the recipients
// in $APIMCTL_BACKUP_RECIPIENTS (comma-separated age public keys).
func ConsoleBackupOptions(getenv func(string) string) BackupOptions {
	o := BackupOptions{Dir: DefaultBackupDir(getenv), Tool: "apimctl console"}
	for _, r := range strings.Split(getenv("APIMCTL_BACKUP_RECIPIENTS"), ",") {
		if r = strings.TrimSpace(r); r != "" {
			o.Recipients = append(o.Recipients, r)
		}
	}
	return o
}

// Restorable lists the complete backups in dir with the site (kube context) each was taken
// from, for the primary-and-DR comparison.
func Restorable(dir string) ([]model.BackupRef, error) {
	all, err := backup.List(dir)
	if err != nil {
		return nil, err
	}
	var out []model.BackupRef
	for _, s := range all {
		if !s.Complete {
			continue
		}
		m, err := backup.ReadManifest(s.Dir)
		if err != nil {
			continue
		}
		out = append(out, model.BackupRef{ID: s.ID, Context: m.Source.Context, Created: m.Created})
	}
	return out, nil
}
