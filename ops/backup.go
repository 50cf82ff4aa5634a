package ops

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/apimctl/apimctl/backup"
	"github.com/apimctl/apimctl/cluster/cassandra"
	"github.com/apimctl/apimctl/cluster/mysql"
	"github.com/apimctl/apimctl/cluster/registry"
)

// DefaultBackupDir is $APIMCTL_BACKUP_DIR, else ~/.local/state/apimctl/backups.
func DefaultBackupDir() string {
	if d := os.Getenv("APIMCTL_BACKUP_DIR"); d != "" {
		return d
	}
	return filepath.Join(stateDir(), "backups")
}

// BackupOptions say where a backup goes and what it holds.
type BackupOptions struct {
	Dir        string
	Recipients []string // age recipients (age1…) the Secrets are encrypted to; none: Secrets left out
	Keyspaces  []string // default: the group's keyspaces (CASS_KEYSPACE, CASS_TKEYSPACE), else every user keyspace
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
func PlanBackup(ctx context.Context, conn *Connection, o BackupOptions) (*BackupPlan, error) {
	if _, err := ParseRecipients(o.Recipients); err != nil {
		return nil, err
	}
	t := conn.Targets
	p := &BackupPlan{Dir: o.Dir, Namespace: t.Namespace, Keyspaces: o.Keyspaces, Secrets: len(o.Recipients) > 0, Recipients: o.Recipients}
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
		p.Dir = DefaultBackupDir()
	}
	return p, nil
}

// CreateBackup writes a backup of everything the plan names: the Cassandra keyspaces, the
// metrics database, the namespace's resources and Secrets, the workloads' images. A failure
// removes the unfinished backup and says which part failed.
func CreateBackup(ctx context.Context, conn *Connection, s Snapshot, p *BackupPlan, o BackupOptions) (*backup.Manifest, string, error) {
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
	w, err := backup.Create(p.Dir, backup.NewID(now(), p.Namespace), backup.Source{Context: t.Context, Namespace: p.Namespace, Tool: o.Tool}, now())
	if err != nil {
		return nil, "", err
	}
	fail := func(part string, err error) (*backup.Manifest, string, error) {
		_ = w.Abandon()
		return nil, "", fmt.Errorf("backup of %s failed (nothing kept): %w", part, err)
	}

	if len(t.CassandraHosts) > 0 {
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
			if err := backup.Cassandra(ctx, cl.Session(), ks, w); err != nil {
				cl.Close()
				return fail("keyspace "+ks, err)
			}
		}
		cl.Close()
	} else {
		w.Note("Cassandra left out: no hosts (CASS_HOST)")
	}

	if p.Database != "" {
		addr, _, _ := mysql.ParseJDBC(t.MetricsDBURL)
		db, err := mysql.Open(mysql.Target{Addr: addr, Database: p.Database, User: t.MetricsDBUser, Password: t.MetricsDBPassword, Timeout: time.Minute})
		if err != nil {
			return fail("MySQL", err)
		}
		say("mysql database " + p.Database)
		err = backup.MySQL(ctx, db, p.Database, w)
		db.Close()
		if err != nil {
			return fail("database "+p.Database, err)
		}
	} else {
		w.Note("MySQL left out: no METRICS_DB_URL")
	}

	say("kubernetes namespace " + p.Namespace)
	if err := backup.Kubernetes(ctx, conn.Kube.Clientset, p.Namespace, recipients, w); err != nil {
		return fail("namespace "+p.Namespace, err)
	}

	say("images")
	w.AddImages(workloadImages(ctx, s.Topology))
	m, err := w.Finish(now())
	if err != nil {
		return fail("the manifest", err)
	}
	return m, w.Dir(), nil
}

// workloadImages lists the gateway workloads' images with their digests (best effort: a
// registry that cannot be asked leaves the digest empty).
func workloadImages(ctx context.Context, t Topology) []backup.Image {
	var ws []Workload
	ws = append(ws, t.ANM...)
	for _, g := range t.Groups {
		ws = append(ws, g.APIManager...)
		ws = append(ws, g.Traffic...)
	}
	var out []backup.Image
	for _, w := range ws {
		img := backup.Image{Workload: strings.ToLower(w.Kind) + "/" + w.Name, Image: w.Image}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if d, err := registry.Resolve(rctx, w.Image); err == nil {
			img.Digest = d
		}
		cancel()
		out = append(out, img)
	}
	return out
}
