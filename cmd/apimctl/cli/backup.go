package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/backup"
	"github.com/apimctl/apimctl/ops"
)

const backupLong = `Backups of the deployment, in a local directory (--dir, $APIMCTL_BACKUP_DIR, default
~/.local/state/apimctl/backups), one directory per backup:

  cassandra/KEYSPACE/schema.cql      the keyspace's CQL (server-side DESCRIBE)
  cassandra/KEYSPACE/TABLE.jsonl     every row, read at QUORUM (SELECT JSON; INSERT JSON takes it back)
  mysql/DATABASE.sql                 the metrics database in one consistent snapshot
  kube/resources.yaml                the namespace's workloads, services, config, HPA, PDB, ingress
  kube/secrets.yaml.age              its Secrets, encrypted to the --recipient age keys
  manifest.json                      every file with its size, SHA-256 and item count; the images

The keyspaces are the group's (CASS_KEYSPACE, CASS_TKEYSPACE) unless --keyspace names others.
Without --recipient the Secrets are left out (the manifest says so): they are never written
in clear. 'verify' re-reads every file against the manifest; 'prune' keeps the newest N.

Exit codes: 0 ok, 1 error, 2 bad input, 3 verification found a problem, 5 cancelled.`

func newBackupCmd(g *globalOptions, ios *IOStreams) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Back up Cassandra, the metrics database and the namespace (Secrets encrypted); list, verify, prune",
		Long:  backupLong,
	}
	cmd.PersistentFlags().StringVar(&dir, "dir", "", "the backups' directory (default $APIMCTL_BACKUP_DIR or ~/.local/state/apimctl/backups)")
	cmd.AddCommand(newBackupCreateCmd(g, ios, &dir), newBackupListCmd(ios, &dir), newBackupVerifyCmd(ios, &dir), newBackupPruneCmd(ios, &dir),
		newBackupRestoreCmd(g, ios, &dir))
	return cmd
}

func backupDir(dir string) string {
	if dir == "" {
		return ops.DefaultBackupDir()
	}
	return dir
}

func newBackupCreateCmd(g *globalOptions, ios *IOStreams, dir *string) *cobra.Command {
	var recipients, keyspaces, only []string
	var output string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Write a backup of the deployment now",
		Example: `  apimctl backup create --recipient age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
  apimctl backup create --dry-run
  apimctl backup create --keyspace apim_default -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateOutput(output); err != nil {
				return err
			}
			ctx := cmd.Context()
			conn := ops.Connect(ctx, g.targets, os.Getenv)
			if conn.Kube == nil {
				return &exitError{code: ExitError, err: fmt.Errorf("no Kubernetes connection: %v", conn.KubeErr),
					hint: "check --kubeconfig/--context (for the lab: eval \"$(apimctl lab env)\")"}
			}
			o := ops.BackupOptions{Dir: backupDir(*dir), Recipients: recipients, Keyspaces: keyspaces, Only: only, Tool: "apimctl " + Version,
				Progress: func(s string) { fmt.Fprintf(ios.ErrOut, "%s  %s\n", time.Now().Format("15:04:05"), s) }}
			plan, err := ops.PlanBackup(ctx, conn, o)
			if err != nil {
				return withCode(ExitUsage, err)
			}
			fmt.Fprintf(ios.ErrOut, "backup of namespace %s into %s\n  keyspaces %s · database %s · secrets %s\n", plan.Namespace, plan.Dir,
				orDashStr(strings.Join(plan.Keyspaces, ", ")), orDashStr(plan.Database), map[bool]string{true: "encrypted to " + fmt.Sprint(len(plan.Recipients)) + " recipient(s)", false: "left out (no --recipient)"}[plan.Secrets])
			if len(plan.Only) > 0 {
				fmt.Fprintf(ios.ErrOut, "  only %s\n", strings.Join(plan.Only, ", "))
			}
			audit := ops.AuditRecord{Action: "backup.create", Target: plan.Namespace, DryRun: dryRun, Details: map[string]string{"dir": plan.Dir}}
			if dryRun {
				_ = ops.AuditOutcome(audit, nil)
				fmt.Fprintln(ios.ErrOut, "dry run: nothing was read or written")
				if output != "table" {
					return writeData(ios.Out, output, plan)
				}
				return nil
			}
			start := time.Now()
			m, path, err := ops.CreateBackup(ctx, conn, plan, o)
			if err == nil {
				audit.Details["id"] = m.ID
			}
			_ = ops.AuditOutcome(audit, err)
			if err != nil {
				return err
			}
			if output != "table" {
				return writeData(ios.Out, output, struct {
					Dir      string `json:"dir"`
					Manifest *backup.Manifest
				}{path, m})
			}
			var bytes, items int64
			for _, p := range m.Parts {
				bytes += p.Bytes
				items += p.Items
			}
			fmt.Fprintf(ios.Out, "backup %s: %d files, %s, %d rows and objects, in %s\n%s\n", m.ID, len(m.Parts), ops.HumanBytes(bytes), items,
				time.Since(start).Round(time.Millisecond), path)
			for _, n := range m.Notes {
				fmt.Fprintf(ios.Out, "note: %s\n", n)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&recipients, "recipient", nil, "age public key (age1…) to encrypt the Secrets to; repeatable")
	cmd.Flags().StringArrayVar(&keyspaces, "keyspace", nil, "Cassandra keyspace to back up (default: CASS_KEYSPACE and CASS_TKEYSPACE); repeatable")
	cmd.Flags().StringSliceVar(&only, "only", nil, "back up only these parts: cassandra, mysql, kube (default: all)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "say what would be backed up and where; read and write nothing")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}

func newBackupListCmd(ios *IOStreams, dir *string) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "The backups in the directory, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateOutput(output); err != nil {
				return err
			}
			all, err := backup.List(backupDir(*dir))
			if err != nil {
				return err
			}
			if output != "table" {
				return writeData(ios.Out, output, all)
			}
			if len(all) == 0 {
				fmt.Fprintf(ios.ErrOut, "no backups in %s\n", backupDir(*dir))
				return nil
			}
			tw := tabwriter.NewWriter(ios.Out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tCREATED\tFILES\tSIZE\tSTATE")
			for _, s := range all {
				state := "complete"
				if !s.Complete {
					state = "unfinished"
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", s.ID, s.Created.Local().Format("2006-01-02 15:04"), s.Parts, ops.HumanBytes(s.Bytes), state)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}

func newBackupVerifyCmd(ios *IOStreams, dir *string) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "verify ID|PATH",
		Short: "Re-read every file of a backup against its manifest (size, SHA-256, nothing missing or extra)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateOutput(output); err != nil {
				return err
			}
			path := args[0]
			if !strings.ContainsRune(path, filepath.Separator) {
				path = filepath.Join(backupDir(*dir), path)
			}
			m, probs, err := backup.Verify(path)
			if err != nil {
				return withCode(ExitUsage, err)
			}
			if output != "table" {
				if err := writeData(ios.Out, output, struct {
					ID       string           `json:"id"`
					OK       bool             `json:"ok"`
					Problems []backup.Problem `json:"problems"`
				}{m.ID, len(probs) == 0, probs}); err != nil {
					return err
				}
			} else if len(probs) == 0 {
				fmt.Fprintf(ios.Out, "✓ backup %s: %d files match the manifest\n", m.ID, len(m.Parts))
			} else {
				fmt.Fprintf(ios.Out, "✗ backup %s: %d problems\n", m.ID, len(probs))
				for _, p := range probs {
					fmt.Fprintf(ios.Out, "  %s: %s\n", p.Path, p.Issue)
				}
			}
			if len(probs) > 0 {
				return silentExit(ExitDegraded)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}

func newBackupPruneCmd(ios *IOStreams, dir *string) *cobra.Command {
	var keep int
	var dryRun, yes bool
	cmd := &cobra.Command{
		Use:   "prune --keep N",
		Short: "Delete all but the newest N complete backups (and older unfinished ones)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if keep < 1 {
				return usageError("--keep %d: keep at least one backup", keep)
			}
			root := backupDir(*dir)
			drop, err := backup.PrunePlan(root, keep)
			if err != nil {
				return err
			}
			if len(drop) == 0 {
				fmt.Fprintf(ios.ErrOut, "nothing to prune in %s\n", root)
				return nil
			}
			for _, s := range drop {
				fmt.Fprintf(ios.ErrOut, "would delete %s (%s)\n", s.ID, ops.HumanBytes(s.Bytes))
			}
			audit := ops.AuditRecord{Action: "backup.prune", Target: root, DryRun: dryRun, Details: map[string]string{"keep": fmt.Sprint(keep), "delete": fmt.Sprint(len(drop))}}
			if dryRun {
				_ = ops.AuditOutcome(audit, nil)
				return nil
			}
			if err := confirm(ios, yes, fmt.Sprintf("Delete %d backups from %s?", len(drop), root)); err != nil {
				return err
			}
			for _, s := range drop {
				if err := backup.Remove(root, s); err != nil {
					_ = ops.AuditOutcome(audit, err)
					return err
				}
				fmt.Fprintf(ios.ErrOut, "deleted %s\n", s.ID)
			}
			_ = ops.AuditOutcome(audit, nil)
			return nil
		},
	}
	cmd.Flags().IntVar(&keep, "keep", 0, "how many complete backups to keep (required)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "say what would be deleted; delete nothing")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation (scripts)")
	return cmd
}

func newBackupRestoreCmd(g *globalOptions, ios *IOStreams, dir *string) *cobra.Command {
	var o ops.RestoreOptions
	var ksMap, regMap []string
	var output string
	var dryRun, yes bool
	cmd := &cobra.Command{
		Use:   "restore ID|PATH",
		Short: "Restore a backup into the current context (DR): Cassandra, MySQL, the namespace; resumable",
		Long: `Restore puts a backup into the cluster and data stores of the current context — typically
the DR site: the keyspaces (renamed with --keyspace-map, replication replaced with
--replication), the metrics database (--database), and the namespace's resources
(--namespace, images moved to another registry with --registry, Secrets decrypted with
--identity). The backup is verified first. Then it waits for the workloads to be available
and prints a timed report. Each finished step is recorded next to the backup: run the same
command again after an interruption and it resumes.

Restoring overwrites: tables of the same name in the target database are replaced, and
objects of the same name in the namespace are updated. Without --yes it asks first.

Exit codes: 0 restored, 1 error (run again to resume), 2 bad input, 5 cancelled.`,
		Example: `  apimctl --context dr backup restore 20261128T030000Z-apim --identity ~/.config/apimctl/backup.key \
      --replication "{'class': 'NetworkTopologyStrategy', 'dc2': 3}" --registry registry.prod/=registry.dr/ --dry-run`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateOutput(output); err != nil {
				return err
			}
			o.Dir = args[0]
			if !strings.ContainsRune(o.Dir, filepath.Separator) {
				o.Dir = filepath.Join(backupDir(*dir), o.Dir)
			}
			var err error
			if o.KeyspaceMap, err = pairs("--keyspace-map", ksMap); err != nil {
				return err
			}
			if o.Registry, err = pairs("--registry", regMap); err != nil {
				return err
			}
			ctx := cmd.Context()
			conn := ops.Connect(ctx, g.targets, os.Getenv)
			if conn.Kube == nil {
				return &exitError{code: ExitError, err: fmt.Errorf("no Kubernetes connection: %v", conn.KubeErr)}
			}
			o.Progress = func(s string) { fmt.Fprintf(ios.ErrOut, "%s  %s\n", time.Now().Format("15:04:05"), s) }
			plan, err := ops.PlanRestore(conn, o)
			if err != nil {
				return withCode(ExitUsage, err)
			}
			fmt.Fprintf(ios.ErrOut, "restore %s into namespace %s (context %s)\n", plan.Backup, plan.Namespace, conn.Targets.Context)
			for _, s := range plan.Steps {
				mark := " "
				if plan.Done[s] {
					mark = "✓"
				}
				fmt.Fprintf(ios.ErrOut, "  %s %s\n", mark, s)
			}
			audit := ops.AuditRecord{Action: "backup.restore", Target: conn.Targets.Context + "/" + plan.Namespace, DryRun: dryRun,
				Details: map[string]string{"backup": plan.Backup, "database": plan.Database}}
			if dryRun {
				_ = ops.AuditOutcome(audit, nil)
				fmt.Fprintln(ios.ErrOut, "dry run: nothing restored")
				if output != "table" {
					return writeData(ios.Out, output, plan)
				}
				return nil
			}
			if err := confirm(ios, yes, fmt.Sprintf("Restore %s into %s (tables and objects of the same name are overwritten)?", plan.Backup, plan.Namespace)); err != nil {
				return err
			}
			start := time.Now()
			report, err := ops.Restore(ctx, conn, plan, o)
			_ = ops.AuditOutcome(audit, err)
			if output != "table" {
				if werr := writeData(ios.Out, output, struct {
					Plan    *ops.RestorePlan  `json:"plan"`
					Steps   []ops.RestoreStep `json:"steps"`
					Seconds float64           `json:"seconds"`
				}{plan, report, time.Since(start).Round(time.Millisecond).Seconds()}); werr != nil {
					return werr
				}
			} else {
				tw := tabwriter.NewWriter(ios.Out, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "STEP\tTIME\tDETAIL")
				for _, s := range report {
					t := s.Duration.Round(100 * time.Millisecond).String()
					if s.Skipped {
						t = "-"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Step, t, s.Detail)
				}
				fmt.Fprintf(tw, "total\t%s\t\n", time.Since(start).Round(100*time.Millisecond))
				tw.Flush()
			}
			return err
		},
	}
	cmd.Flags().StringVar(&o.Namespace, "namespace", "", "target namespace (default: the backup's)")
	cmd.Flags().StringArrayVar(&ksMap, "keyspace-map", nil, "FROM=TO: restore keyspace FROM as TO; repeatable")
	cmd.Flags().StringVar(&o.Replication, "replication", "", "CQL replication map for the restored keyspaces (default: the backup's)")
	cmd.Flags().StringArrayVar(&regMap, "registry", nil, "OLD=NEW: images starting with OLD start with NEW; repeatable")
	cmd.Flags().StringVar(&o.Database, "database", "", "target MySQL database (default: METRICS_DB_URL's)")
	cmd.Flags().StringVar(&o.IdentityFile, "identity", "", "age identity file that decrypts the backup's Secrets")
	cmd.Flags().StringSliceVar(&o.Only, "only", nil, "restore only these parts: cassandra, mysql, kube")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 10*time.Minute, "how long the workloads may take to become available")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "verify the backup and show the plan; restore nothing")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation (scripts)")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}

// pairs parses FROM=TO flag values.
func pairs(flag string, vals []string) (map[string]string, error) {
	m := map[string]string{}
	for _, v := range vals {
		from, to, ok := strings.Cut(v, "=")
		if !ok || from == "" || to == "" {
			return nil, usageError("%s %q: FROM=TO", flag, v)
		}
		m[from] = to
	}
	return m, nil
}
