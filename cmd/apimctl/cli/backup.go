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
	cmd.AddCommand(newBackupCreateCmd(g, ios, &dir), newBackupListCmd(ios, &dir), newBackupVerifyCmd(ios, &dir), newBackupPruneCmd(ios, &dir))
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
				audit.Outcome = "ok"
				_ = ops.Audit(audit)
				fmt.Fprintln(ios.ErrOut, "dry run: nothing was read or written")
				if output != "table" {
					return writeData(ios.Out, output, plan)
				}
				return nil
			}
			start := time.Now()
			m, path, err := ops.CreateBackup(ctx, conn, plan, o)
			audit.Outcome = "ok"
			if err != nil {
				audit.Outcome, audit.Error = "failed", err.Error()
			} else {
				audit.Details["id"] = m.ID
			}
			_ = ops.Audit(audit)
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
				audit.Outcome = "ok"
				_ = ops.Audit(audit)
				return nil
			}
			if err := confirm(ios, yes, fmt.Sprintf("Delete %d backups from %s?", len(drop), root)); err != nil {
				return err
			}
			audit.Outcome = "ok"
			for _, s := range drop {
				if err := backup.Remove(root, s); err != nil {
					audit.Outcome, audit.Error = "failed", err.Error()
					_ = ops.Audit(audit)
					return err
				}
				fmt.Fprintf(ios.ErrOut, "deleted %s\n", s.ID)
			}
			_ = ops.Audit(audit)
			return nil
		},
	}
	cmd.Flags().IntVar(&keep, "keep", 0, "how many complete backups to keep (required)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "say what would be deleted; delete nothing")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation (scripts)")
	return cmd
}
