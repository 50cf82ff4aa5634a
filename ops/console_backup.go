package ops

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/apimctl/apimctl/backup"
	"github.com/apimctl/apimctl/internal/format"
	"github.com/apimctl/apimctl/ops/action"
	"github.com/apimctl/apimctl/ops/dr"
)

// The console's backups dialog: the backups of the console's directory, verified, pruned
// and restored as `apimctl backup verify|prune|restore` do (the same actions of ops/dr, the
// same runner; verify is a read there and here).

// Backup is one backup of the directory, as the dialog lists it.
type Backup struct {
	ID       string    `json:"id"`
	Created  time.Time `json:"created"`
	Complete bool      `json:"complete"` // has its manifest
	Files    int       `json:"files"`
	Bytes    int64     `json:"bytes"`
	// Problem is why an unfinished backup has no manifest.
	Problem string `json:"problem,omitempty"`
}

// Backups are the backups of a directory, newest first.
type Backups struct {
	Dir  string   `json:"dir"`
	List []Backup `json:"backups"`
}

// BackupDir is where the console's backups are: $APIMCTL_BACKUP_DIR, else the default.
func (c *Console) BackupDir() string { return dr.DefaultBackupDir(c.Getenv) }

// Backups lists the backups of the console's directory (`apimctl backup list`).
func (c *Console) Backups(context.Context) (*Backups, error) {
	root := c.BackupDir()
	all, err := backup.List(root)
	if err != nil {
		return nil, err
	}
	out := &Backups{Dir: root, List: []Backup{}}
	for _, s := range all {
		out.List = append(out.List, Backup{ID: s.ID, Created: s.Created, Complete: s.Complete, Files: s.Parts, Bytes: s.Bytes, Problem: s.Error})
	}
	return out, nil
}

// backupPath is the directory of backup id in the console's directory; an id is a name in
// it, never a path.
func (c *Console) backupPath(id string) (string, error) {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, `/\`) || strings.ContainsRune(id, 0) {
		return "", fmt.Errorf("backup %q: not a backup's ID", id)
	}
	return filepath.Join(c.BackupDir(), id), nil
}

// ProposeVerify prepares re-reading every file of a backup against its manifest. It changes
// nothing, so it runs without a question — in read-only mode too, as `apimctl --read-only
// backup verify` does — and records nothing.
func (c *Console) ProposeVerify(_ context.Context, id string, progress func(string)) (*Proposal, error) {
	dir, err := c.backupPath(id)
	if err != nil {
		return nil, err
	}
	m, err := backup.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	var size int64
	for _, p := range m.Parts {
		size += p.Bytes
	}
	p := &Proposal{Kind: "verify", Subject: m.ID, Title: "Verify · " + m.ID, NoConfirm: true, Decline: func() {},
		Plan: []action.Field{{Key: "backup", Value: m.ID + " (" + m.Created.UTC().Format("2006-01-02 15:04") + " UTC)"},
			{Key: "directory", Value: dir}, {Key: "reads", Value: fmt.Sprintf("%d files, %s, against the manifest", len(m.Parts), format.Bytes(size))}}}
	p.Run = func(ctx context.Context) Outcome {
		_, probs, err := backup.VerifyWithProgress(ctx, dir, func(v backup.VerifyProgress) { progress(VerifyLine(v)) })
		switch {
		case err != nil:
			return failed(err)
		case len(probs) == 0:
			return Outcome{OK: true, Line: fmt.Sprintf("backup %s: %d files match the manifest", m.ID, len(m.Parts))}
		}
		out := Outcome{Line: fmt.Sprintf("problems: backup %s: %s", m.ID, format.Counted(len(probs), "problem"))}
		for i, pr := range probs {
			if i == 10 {
				out.Details = append(out.Details, fmt.Sprintf("… and %d more (apimctl backup verify %s)", len(probs)-i, m.ID))
				break
			}
			out.Details = append(out.Details, pr.Path+": "+pr.Issue)
		}
		return out
	}
	return p, nil
}

// VerifyLine is a verification's progress in one line: "12/40 files · 3.2 MiB of 9.0 MiB ·
// cassandra/apim_default/keys.jsonl".
func VerifyLine(v backup.VerifyProgress) string {
	s := fmt.Sprintf("%d/%d files · %s of %s", v.Files, v.TotalFiles, format.Bytes(v.Bytes), format.Bytes(v.TotalBytes))
	if v.Path == "" {
		return s + " · looking for files the manifest does not list"
	}
	return s + " · " + v.Path
}

// ProposePrune prepares deleting all but the newest keep complete backups: `apimctl backup
// prune --keep N`. The plan lists each backup it deletes.
func (c *Console) ProposePrune(ctx context.Context, keep int, progress func(string)) (*Proposal, error) {
	root := c.BackupDir()
	drop, err := backup.PrunePlan(root, keep)
	if err != nil {
		return nil, err
	}
	if len(drop) == 0 {
		return nil, fmt.Errorf("nothing to prune in %s: %s at most", root, format.Counted(keep, "complete backup"))
	}
	p := &Proposal{Kind: "prune", Subject: "keep " + fmt.Sprint(keep), Title: fmt.Sprintf("Prune backups · keep the newest %d", keep)}
	return c.propose(ctx, p, dr.PruneAction(root, keep, drop), progress, func(_ action.Result, err error) Outcome {
		if err != nil {
			return failed(err)
		}
		return Outcome{OK: true, Line: fmt.Sprintf("%s deleted from %s", format.Counted(len(drop), "backup"), root)}
	})
}

// RestoreRequest is a restore as the console's dialog asks for it, in the subcommand's terms.
type RestoreRequest struct {
	Backup      string   // the backup's ID in the console's directory
	Namespace   string   // --namespace ("": the backup's)
	KeyspaceMap []string // --keyspace-map FROM=TO
	Database    string   // --database
	Identity    string   // --identity: the age identity file for the Secrets
	Replication string   // --replication
	Registry    []string // --registry OLD=NEW
	Only        []string // --only
}

// ProposeRestore prepares restoring a backup into the console's cluster and data stores:
// `apimctl backup restore` (verified first; resumable: a second run skips the steps done).
func (c *Console) ProposeRestore(ctx context.Context, req RestoreRequest, progress func(string)) (*Proposal, error) {
	dir, err := c.backupPath(req.Backup)
	if err != nil {
		return nil, err
	}
	ro := dr.RestoreOptions{Dir: dir, Namespace: req.Namespace, Database: req.Database, IdentityFile: expandHome(req.Identity),
		Replication: req.Replication, Only: req.Only, Timeout: c.Timeout}
	if ro.KeyspaceMap, err = dr.ParsePairs("keyspace map", req.KeyspaceMap); err != nil {
		return nil, err
	}
	if ro.Registry, err = dr.ParsePairs("registry", req.Registry); err != nil {
		return nil, err
	}
	plan, err := dr.PlanRestore(c.Conn, ro)
	if err != nil {
		return nil, err
	}
	if c.Conn.Kube == nil && (plan.Objects > 0 || plan.Secrets > 0) {
		return nil, errors.Join(errors.New("no Kubernetes connection"), c.Conn.KubeErr)
	}
	p := &Proposal{Kind: "restore", Subject: plan.Backup, Title: "Restore · " + plan.Backup + " → " + plan.Namespace}
	return c.propose(ctx, p, dr.RestoreAction(c.Conn, plan, ro), progress, func(res action.Result, err error) Outcome {
		report, _ := res.Value.([]dr.RestoreStep)
		var out Outcome
		var took time.Duration
		for _, s := range report {
			took += s.Duration
			t := s.Duration.Round(100 * time.Millisecond).String()
			if s.Skipped {
				t = "-"
			}
			out.Details = append(out.Details, fmt.Sprintf("%-32s %7s  %s", s.Step, t, s.Detail))
		}
		if err != nil {
			out.Line = "failed: " + err.Error()
			return out
		}
		out.OK, out.Line = true, fmt.Sprintf("restored into %s (%s of work)", plan.Namespace, took.Round(100*time.Millisecond))
		return out
	})
}

// expandHome reads "~/x" as the user's home directory's x, as a shell would for the flag.
func expandHome(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, rest)
		}
	}
	return p
}
