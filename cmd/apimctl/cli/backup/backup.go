package backup

import (
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	"github.com/apimctl/apimctl/ops/dr"
)

const backupLong = `Backups of the deployment, in a local directory (--dir, $APIMCTL_BACKUP_DIR, default
~/.local/state/apimctl/backups), one directory per backup:

  cassandra/KEYSPACE/schema.cql      the keyspace's CQL (server-side DESCRIBE)
  cassandra/KEYSPACE/TABLE.jsonl     every row, read at QUORUM
  mysql/DATABASE.sql                 the metrics database in one consistent snapshot
  kube/resources.yaml                the namespace's workloads, services, config, HPA, PDB, ingress
  kube/secrets.yaml.age              its Secrets, encrypted to the --recipient age keys
  manifest.json                      every file with its size, SHA-256 and item count; the images

The keyspaces are the group's (CASS_KEYSPACE, CASS_TKEYSPACE) unless --keyspace names others.
Without --recipient the Secrets are left out (the manifest says so): they are never written
in clear. 'verify' re-reads every file against the manifest; 'prune' keeps the newest N.

Exit codes: 0 ok, 1 error, 2 bad input, 3 verification found a problem, 4 not permitted
(--read-only, RBAC), 5 cancelled.`

// Location is the backups' directory flag shared by the subcommands.
type Location struct{ Dir string }

// Root is the directory the backups are in.
func (l *Location) Root(f *cmdutil.Factory) string {
	if l.Dir == "" {
		return dr.DefaultBackupDir(f.Getenv)
	}
	return l.Dir
}

// Path is a backup given by ID (in the directory) or by path.
func (l *Location) Path(f *cmdutil.Factory, idOrPath string) string {
	if strings.ContainsRune(idOrPath, filepath.Separator) {
		return idOrPath
	}
	return filepath.Join(l.Root(f), idOrPath)
}

// NewCmdBackup is the backup group.
func NewCmdBackup(f *cmdutil.Factory) *cobra.Command {
	loc := &Location{}
	cmd := cmdutil.Group(&cobra.Command{
		Use:   "backup",
		Short: "Back up Cassandra, the metrics database and the namespace (Secrets encrypted); list, verify, prune, restore",
		Long:  backupLong,
	})
	cmd.PersistentFlags().StringVar(&loc.Dir, "dir", "", "the backups' directory (default $APIMCTL_BACKUP_DIR or ~/.local/state/apimctl/backups)")
	cmd.AddCommand(NewCmdCreate(f, loc, nil), NewCmdList(f, loc, nil), NewCmdVerify(f, loc, nil), NewCmdPrune(f, loc, nil), NewCmdRestore(f, loc, nil))
	return cmd
}
