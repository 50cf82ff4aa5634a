package backup

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/backup"
	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	"github.com/apimctl/apimctl/ops/dr"
)

const backupLong = `Backups of the deployment, in a location: a local directory (the default:
$APIMCTL_BACKUP_LOCATION, else $APIMCTL_BACKUP_DIR, else ~/.local/state/apimctl/backups;
directories 0700, files 0600) or an Azure Blob container (--location
azure://CONTAINER/PREFIX). One backup is one ID (20261128T030000Z-apim) holding:

  cassandra/KS/schema.json.zst         the keyspace's CQL (server-side DESCRIBE) and columns
  cassandra/KS/TABLE/NNNN.rows.zst     its rows by token range, as the native protocol's
                                       bytes, read at QUORUM (--consistency) by --parallel
                                       workers
  mysql/DB/schema.json.zst             the metrics database's tables, views and triggers
  mysql/DB/TABLE/NNNN.sql.zst          its rows in primary-key chunks of replayable SQL,
                                       read from one consistent snapshot
  kube/resources.yaml.zst              the namespace's workloads, services, config, HPA,
                                       PDB, ingress
  kube/secrets.yaml.age                its Secrets, encrypted to the --recipient age keys
  files/events/….zst                   the gateways' event and trace files (--events DIR),
                                       incremental: a file unchanged since the previous
                                       backup stays there and is not copied again
  files/packages/….zst                 the policy and environment packages (--packages DIR)
  manifest.json                        every part with its size, SHA-256 and row count; the
                                       images with their digests; written last

Every part but the encrypted Secrets is zstd-compressed. The keyspaces are the group's (CASS_KEYSPACE, CASS_TKEYSPACE)
unless --keyspace names others. Without --recipient the Secrets are left out (the manifest
says so, and a restore's plan says what the workloads will lack): they are never written in
clear. 'verify' re-reads every part against the manifest; 'prune' keeps the newest N (and
what they refer to); 'schedule' runs create and prune from a systemd timer.

Azure credentials come only from the environment, never from flags:
AZURE_STORAGE_CONNECTION_STRING (or a file named by AZURE_STORAGE_CONNECTION_STRING_FILE),
else AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY (or AZURE_STORAGE_KEY_FILE), at
AZURE_STORAGE_BLOB_ENDPOINT when set.

Exit codes: 0 ok, 1 error (a restore: run it again to resume), 2 bad input (nothing
changed), 3 verification found a problem or the restore's plan is blocked, 4 not permitted
(--read-only, RBAC), 5 cancelled.`

// Location is the backups' location flag (--location, or its alias --dir) shared by the
// subcommands.
type Location struct{ Where string }

// Root is the location as given, else the default.
func (l *Location) Root(f *cmdutil.Factory) string {
	if l.Where == "" {
		return dr.DefaultLocation(f.Getenv)
	}
	return l.Where
}

// Open opens the location (a bad URL or missing credentials are bad input).
func (l *Location) Open(ctx context.Context, f *cmdutil.Factory) (backup.Location, error) {
	loc, err := dr.OpenLocation(ctx, l.Root(f), f.Getenv)
	if err != nil {
		return nil, cmdutil.Usagef("--location: %v", err)
	}
	return loc, nil
}

// Backup is a backup given by ID (in the location) or by the path of its local directory.
func (l *Location) Backup(ctx context.Context, f *cmdutil.Factory, idOrPath string) (backup.Location, string, error) {
	if dr.IsPath(idOrPath) {
		loc, id := dr.Locate(nil, idOrPath)
		return loc, id, nil
	}
	loc, err := l.Open(ctx, f)
	if err != nil {
		return nil, "", err
	}
	return loc, idOrPath, nil
}

// NewCmdBackup is the backup group.
func NewCmdBackup(f *cmdutil.Factory) *cobra.Command {
	loc := &Location{}
	cmd := cmdutil.Group(&cobra.Command{
		Use:   "backup",
		Short: "Back up Cassandra, the metrics database, the namespace, events and packages; list, verify, prune, restore, schedule",
		Long:  backupLong,
	})
	pf := cmd.PersistentFlags()
	pf.StringVar(&loc.Where, "location", "", "where backups are: a directory, file:///path or azure://CONTAINER/PREFIX (default $APIMCTL_BACKUP_LOCATION, $APIMCTL_BACKUP_DIR or ~/.local/state/apimctl/backups)")
	pf.StringVar(&loc.Where, "dir", "", "the same as --location (a directory)")
	cmd.AddCommand(NewCmdCreate(f, loc, nil), NewCmdList(f, loc, nil), NewCmdVerify(f, loc, nil), NewCmdPrune(f, loc, nil), NewCmdRestore(f, loc, nil),
		NewCmdSchedule(f, loc, nil))
	return cmd
}
