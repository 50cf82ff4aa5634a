package dr

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/apimctl/apimctl/ops/action"
	"github.com/apimctl/apimctl/ops/live"
	"github.com/apimctl/apimctl/ops/model"

	"filippo.io/age"

	"github.com/apimctl/apimctl/backup"
	"github.com/apimctl/apimctl/cluster/cassandra"
	"github.com/apimctl/apimctl/cluster/mysql"
	"github.com/apimctl/apimctl/cluster/registry"
)

// BackupOptions say where a backup goes and what it holds.
type BackupOptions struct {
	// Dir is where the backup goes: a directory, file:///path or azure://container/prefix
	// (default DefaultLocation).
	Dir        string
	Recipients []string // age recipients (age1…) the Secrets are encrypted to; none: Secrets left out
	Keyspaces  []string // default: the group's keyspaces (CASS_KEYSPACE, CASS_TKEYSPACE), else every user keyspace
	Only       []string // cassandra, mysql, kube, events, packages: back up only these (default: all that apply)
	// EventsDir is the gateways' transaction event and trace files (the shared volume),
	// backed up incrementally by file; PackagesDir the policy and environment packages
	// (.fed, .pol, .env). Empty: left out.
	EventsDir, PackagesDir string
	// Parallel is the workers of each engine (0: the engines' defaults, 8 Cassandra token
	// ranges and 4 MySQL connections); Consistency the Cassandra reads' (default QUORUM).
	Parallel    int
	Consistency string
	// NoCompress stores the parts uncompressed (faster on a fast local disk, larger).
	NoCompress bool
	// Getenv reads the location's credentials (os.Getenv when nil).
	Getenv   func(string) string
	Tool     string // apimctl's version, recorded in the manifest
	Now      func() time.Time
	Progress func(string)
}

// BackupPlan is what a backup will read, for --dry-run and the log.
type BackupPlan struct {
	Dir         string   `json:"dir"` // the location
	Namespace   string   `json:"namespace"`
	Keyspaces   []string `json:"keyspaces"`
	Database    string   `json:"database"`
	Secrets     bool     `json:"secrets"` // encrypted to the recipients
	Recipients  []string `json:"recipients,omitempty"`
	Only        []string `json:"only,omitempty"`
	EventsDir   string   `json:"eventsDir,omitempty"`
	PackagesDir string   `json:"packagesDir,omitempty"`
	Parallel    int      `json:"parallel,omitempty"`
	Consistency string   `json:"consistency,omitempty"`
	NoCompress  bool     `json:"noCompress,omitempty"`

	loc backup.Location
}

// BackupParts are the parts --only chooses from.
var BackupParts = []string{"cassandra", "mysql", "kube", backup.SetEvents, backup.SetPackages}

// Includes says whether the plan backs up part (cassandra, mysql, kube, events, packages).
func (p *BackupPlan) Includes(part string) bool {
	switch part {
	case backup.SetEvents:
		if p.EventsDir == "" {
			return false
		}
	case backup.SetPackages:
		if p.PackagesDir == "" {
			return false
		}
	}
	return len(p.Only) == 0 || slices.Contains(p.Only, part)
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

// checkParts refuses an --only value that names no part.
func checkParts(only []string) error {
	for _, o := range only {
		if !slices.Contains(BackupParts, o) {
			return fmt.Errorf("--only %q: one of %s", o, strings.Join(BackupParts, ", "))
		}
	}
	return nil
}

// checkDir refuses a file-set directory that is not one.
func checkDir(flag, dir string) error {
	if dir == "" {
		return nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("%s %s: %w", flag, dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s %s: not a directory", flag, dir)
	}
	return nil
}

// PlanBackup resolves what a backup of the connection's deployment reads. Every error is
// bad input: nothing was read or written.
func PlanBackup(ctx context.Context, conn *live.Connection, o BackupOptions) (*BackupPlan, error) {
	if _, err := ParseRecipients(o.Recipients); err != nil {
		return nil, err
	}
	if err := checkParts(o.Only); err != nil {
		return nil, err
	}
	for _, part := range []struct{ name, dir string }{{backup.SetEvents, o.EventsDir}, {backup.SetPackages, o.PackagesDir}} {
		if slices.Contains(o.Only, part.name) && part.dir == "" {
			return nil, fmt.Errorf("--only %s: give the directory with --%s DIR", part.name, part.name)
		}
	}
	if err := checkDir("--events", o.EventsDir); err != nil {
		return nil, err
	}
	if err := checkDir("--packages", o.PackagesDir); err != nil {
		return nil, err
	}
	if _, err := backup.ParseConsistency(o.Consistency); err != nil {
		return nil, err
	}
	if o.Parallel < 0 || o.Parallel > 64 {
		return nil, fmt.Errorf("--parallel %d: between 1 and 64", o.Parallel)
	}
	t := conn.Targets
	p := &BackupPlan{Dir: o.Dir, Namespace: t.Namespace, Keyspaces: o.Keyspaces, Secrets: len(o.Recipients) > 0, Recipients: o.Recipients, Only: o.Only,
		EventsDir: o.EventsDir, PackagesDir: o.PackagesDir, Parallel: o.Parallel, Consistency: strings.ToUpper(o.Consistency), NoCompress: o.NoCompress}
	if p.Namespace == "" {
		p.Namespace = "apim" // the documented default, also without a cluster (a backup of files only)
	}
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
		p.Dir = DefaultLocation(o.Getenv)
	}
	loc, err := OpenLocation(ctx, p.Dir, o.Getenv)
	if err != nil {
		return nil, err
	}
	p.loc = loc
	return p, nil
}

// CreateBackup writes a backup of everything the plan names: the Cassandra keyspaces, the
// metrics database, the namespace's resources and Secrets, the workloads' images, the event
// files and the packages. A failure removes the unfinished backup and says which part
// failed.
func CreateBackup(ctx context.Context, conn *live.Connection, p *BackupPlan, o BackupOptions) (*backup.Manifest, string, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	say := o.Progress
	if say == nil {
		say = func(string) {}
	}
	if conn.Kube == nil && p.Includes("kube") {
		return nil, "", errors.New("no Kubernetes connection")
	}
	recipients, err := ParseRecipients(p.Recipients)
	if err != nil {
		return nil, "", err
	}
	consistency, err := backup.ParseConsistency(p.Consistency)
	if err != nil {
		return nil, "", err
	}
	loc := p.loc
	if loc == nil {
		if loc, err = OpenLocation(ctx, p.Dir, o.Getenv); err != nil {
			return nil, "", err
		}
	}
	t := conn.Targets
	src := backup.Source{Context: t.Context, Namespace: p.Namespace, Tool: o.Tool}
	var cl *cassandra.Client
	if p.Includes("cassandra") && len(t.CassandraHosts) > 0 {
		cl, err = cassandra.Dial(ctx, cassandra.Target{Hosts: t.CassandraHosts, Port: t.CassandraPort, Username: t.CassandraUser,
			Password: t.CassandraPassword, Timeout: 30 * time.Second})
		if err != nil {
			return nil, "", fmt.Errorf("backup of Cassandra failed (nothing written): %w", err)
		}
		defer cl.Close()
		if src.Cassandra, err = cl.ClusterID(ctx); err != nil {
			return nil, "", fmt.Errorf("backup of Cassandra failed (nothing written): %w", err)
		}
		have, err := cl.UserKeyspaces(ctx)
		if err != nil {
			return nil, "", fmt.Errorf("backup of Cassandra failed (nothing written): %w", err)
		}
		for _, ks := range p.Keyspaces {
			if !slices.Contains(have, ks) {
				return nil, "", action.Usage(fmt.Errorf("keyspace %s does not exist in Cassandra (it has %s); nothing written", ks, orNone(have)))
			}
		}
	}
	if p.Includes("mysql") && p.Database != "" {
		addr, _, _ := mysql.ParseJDBC(t.MetricsDBURL)
		src.MySQL = addr + "/" + p.Database
	}
	w, err := backup.Create(ctx, loc, backup.NewID(now(), p.Namespace), src, now())
	if err != nil {
		return nil, "", err
	}
	if p.NoCompress {
		w.Uncompressed()
	}
	fail := func(part string, err error) (*backup.Manifest, string, error) {
		_ = w.Abandon(context.WithoutCancel(ctx))
		return nil, "", fmt.Errorf("backup of %s failed (nothing kept): %w", part, err)
	}
	progress := newProgressLines(say)

	switch {
	case !p.Includes("cassandra"):
		w.Note("Cassandra left out (--only)")
	case cl != nil:
		keyspaces := p.Keyspaces
		if len(keyspaces) == 0 {
			if keyspaces, err = cl.UserKeyspaces(ctx); err != nil {
				return fail("Cassandra", err)
			}
		}
		for _, ks := range keyspaces {
			say("cassandra keyspace " + ks)
			err := backup.Cassandra(ctx, cl.Session(), ks, w, backup.CassandraOptions{Parallel: p.Parallel, Consistency: consistency, Progress: progress.report})
			if err != nil {
				return fail("keyspace "+ks, err)
			}
		}
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
		err = backup.MySQL(ctx, db, p.Database, w, backup.MySQLOptions{Parallel: p.Parallel, Progress: progress.report})
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

	for _, set := range []struct{ name, dir string }{{backup.SetEvents, p.EventsDir}, {backup.SetPackages, p.PackagesDir}} {
		if !p.Includes(set.name) {
			continue
		}
		fo := backup.FilesOptions{Progress: progress.report}
		if set.name == backup.SetPackages {
			fo.Match = backup.PackageFile
		} else if prev, err := previousWith(ctx, loc, set.name); err != nil {
			return fail(set.name, err)
		} else {
			fo.Previous = prev
		}
		say(set.name + " files from " + set.dir)
		res, err := backup.Files(ctx, w, set.name, set.dir, fo)
		if err != nil {
			return fail(set.name, err)
		}
		line := fmt.Sprintf("%s: %d files (%d copied, %d unchanged since the previous backup)", set.name, res.Files, res.Copied, res.Referenced)
		say(line)
		if len(res.Skipped) > 0 {
			w.Note("%s: %d entries that are not regular files left out (%s…)", set.name, len(res.Skipped), res.Skipped[0])
		}
	}
	m, err := w.Finish(ctx, now())
	if err != nil {
		return fail("the manifest", err)
	}
	return m, w.Dir(), nil
}

// previousWith is the newest complete backup in loc holding file set set, for an
// incremental backup of it (nil: none, everything is copied).
func previousWith(ctx context.Context, loc backup.Location, set string) (*backup.Backup, error) {
	all, err := backup.ListAt(ctx, loc)
	if err != nil {
		return nil, err
	}
	for _, s := range all {
		if !s.Complete {
			continue
		}
		b, err := backup.Open(ctx, loc, s.ID)
		if err != nil {
			continue
		}
		if slices.Contains(b.Manifest.FileSets(), set) {
			return b, nil
		}
	}
	return nil, nil
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

// ConsoleBackupOptions are the console's backups: the default directory, the recipients in
// $APIMCTL_BACKUP_RECIPIENTS (comma-separated age public keys), the event files and packages
// in $APIMCTL_EVENTS_DIR and $APIMCTL_PACKAGES_DIR.
func ConsoleBackupOptions(getenv func(string) string) BackupOptions {
	o := BackupOptions{Dir: DefaultBackupDir(getenv), Tool: "apimctl console", Getenv: getenv,
		EventsDir: getenv("APIMCTL_EVENTS_DIR"), PackagesDir: getenv("APIMCTL_PACKAGES_DIR")}
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
