package backup

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	"github.com/apimctl/apimctl/ops/dr"
)

// RestoreOptions are restore's flags.
type RestoreOptions struct {
	dr.RestoreOptions
	Backup      string
	KeyspaceMap []string
	Registry    []string
	Output      string
	cmdutil.Mutation
}

// NewCmdRestore is `apimctl backup restore ID|PATH`.
func NewCmdRestore(f *cmdutil.Factory, loc *Location, runF func(context.Context, *RestoreOptions) error) *cobra.Command {
	o := &RestoreOptions{}
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

Exit codes: 0 restored, 1 error (run again to resume), 2 bad input, 4 not permitted
(--read-only, RBAC), 5 cancelled.`,
		Example: `  apimctl --context dr backup restore 20261128T030000Z-apim --identity ~/.config/apimctl/backup.key \
      --replication "{'class': 'NetworkTopologyStrategy', 'dc2': 3}" --registry registry.prod/=registry.dr/ --dry-run`,
		Args: cmdutil.ExactArgs(1),
		RunE: cmdutil.Run(o, func(cmd *cobra.Command, args []string) error {
			o.Backup = args[0]
			if err := cmdutil.ValidateOutput(o.Output); err != nil {
				return err
			}
			var err error
			if o.RestoreOptions.KeyspaceMap, err = pairs("--keyspace-map", o.KeyspaceMap); err != nil {
				return err
			}
			if o.RestoreOptions.Registry, err = pairs("--registry", o.Registry); err != nil {
				return err
			}
			if o.Timeout <= 0 {
				return cmdutil.Usagef("--timeout %s: must be positive", o.Timeout)
			}
			return nil
		}, runF, func(ctx context.Context, o *RestoreOptions) error {
			return restoreRun(ctx, f, loc, o)
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Namespace, "namespace", "", "target namespace (default: the backup's)")
	fl.StringArrayVar(&o.KeyspaceMap, "keyspace-map", nil, "FROM=TO: restore keyspace FROM as TO; repeatable")
	fl.StringVar(&o.Replication, "replication", "", "CQL replication map for the restored keyspaces (default: the backup's)")
	fl.StringArrayVar(&o.Registry, "registry", nil, "OLD=NEW: images starting with OLD start with NEW; repeatable")
	fl.StringVar(&o.Database, "database", "", "target MySQL database (default: METRICS_DB_URL's)")
	fl.StringVar(&o.IdentityFile, "identity", "", "age identity file that decrypts the backup's Secrets")
	fl.StringSliceVar(&o.Only, "only", nil, "restore only these parts: cassandra, mysql, kube")
	fl.DurationVar(&o.Timeout, "timeout", 10*time.Minute, "how long the workloads may take to become available")
	o.AddFlags(cmd, "verify the backup and show the plan; restore nothing")
	cmdutil.AddOutputFlag(cmd, &o.Output)
	return cmd
}

// pairs parses FROM=TO flag values.
func pairs(flag string, vals []string) (map[string]string, error) {
	m, err := dr.ParsePairs(flag, vals)
	if err != nil {
		return nil, cmdutil.Usagef("%v", err)
	}
	return m, nil
}

// RestoreDocument is restore's JSON output.
type RestoreDocument struct {
	Plan    *dr.RestorePlan  `json:"plan"`
	DryRun  bool             `json:"dryRun,omitempty"`
	Steps   []dr.RestoreStep `json:"steps,omitempty"`
	Seconds float64          `json:"seconds,omitempty"`
}

func restoreRun(ctx context.Context, f *cmdutil.Factory, loc *Location, o *RestoreOptions) error {
	ios := f.IOStreams
	ro := o.RestoreOptions
	ro.Dir = loc.Path(f, o.Backup)
	conn, err := f.Connect(ctx)
	if err != nil {
		return err
	}
	plan, err := dr.PlanRestore(conn, ro)
	if err != nil {
		return cmdutil.Usagef("%v", err)
	}
	if conn.Kube == nil && (plan.Objects > 0 || plan.Secrets > 0) {
		return cmdutil.Failed(fmt.Errorf("no Kubernetes connection: %v", conn.KubeErr), "check --kubeconfig/--context, or --only cassandra,mysql")
	}
	fmt.Fprintf(ios.ErrOut, "restore %s into namespace %s (context %s)\n", plan.Backup, plan.Namespace, conn.Targets.Context)
	start := f.Now()
	res, dry, err := cmdutil.Act(ctx, f, dr.RestoreAction(conn, plan, ro), o.Mode())
	if dry {
		fmt.Fprintln(ios.ErrOut, "dry run: nothing restored")
		if o.Output != "table" {
			return cmdutil.WriteData(ios.Out, o.Output, RestoreDocument{Plan: plan, DryRun: true})
		}
		return nil
	}
	report, ran := res.Value.([]dr.RestoreStep)
	if !ran {
		return err
	}
	took := f.Now().Sub(start)
	if o.Output != "table" {
		if werr := cmdutil.WriteData(ios.Out, o.Output, RestoreDocument{Plan: plan, Steps: report, Seconds: took.Round(time.Millisecond).Seconds()}); werr != nil {
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
		fmt.Fprintf(tw, "total\t%s\t\n", took.Round(100*time.Millisecond))
		tw.Flush()
	}
	return err
}
