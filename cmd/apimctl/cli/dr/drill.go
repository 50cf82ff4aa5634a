package dr

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	clibackup "github.com/apimctl/apimctl/cmd/apimctl/cli/backup"
	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	"github.com/apimctl/apimctl/ops/action"
	"github.com/apimctl/apimctl/ops/dr"
)

// DrillOptions are drill's flags.
type DrillOptions struct {
	dr.DrillOptions
	Where       string
	KeyspaceMap []string
	Registry    []string
	Output      string
	cmdutil.Mutation
}

// NewCmdDrill is `apimctl dr drill`.
func NewCmdDrill(f *cmdutil.Factory, runF func(context.Context, *DrillOptions) error) *cobra.Command {
	o := &DrillOptions{}
	cmd := &cobra.Command{
		Use:   "drill",
		Short: "Restore the newest backup into the DR target, copy the images, smoke-test it; a timed report",
		Long: `Drill restores the newest complete backup of the location into the current context — the
DR site: a namespace (--namespace, default the context's own), keyspaces (--keyspace-map,
--replication) and a database (--database) — after copying the workloads' images to the DR
registry (--registry OLD=NEW, registry to registry with go-containerregistry). The restore
is the one 'backup restore' does: exact, verified first, and its plan says beforehand what
the workloads would lack (stopping unless --force).

Then smoke traffic, with the canary's keys ('apimctl dr canary', made before the backup): a
GET with the key issued before the backup must be accepted by the DR gateways, one with the
key revoked before it refused (401/403), and the DR site's metrics database must answer
with the backup's rows. The DR gateways are reached at --smoke-url, else at the ready pods
of the traffic Service.

The target may not be the backup's source: the same namespace of the same context, a
keyspace of the same name in the same Cassandra cluster, or the same database are refused.

Every step is timed; the report ends with the total. Exit codes: 0 the smoke test passed,
3 the smoke test failed (the DR side is restored but would not serve) or the plan is
blocked, 1 error (the restore failed: the report says what is restored), 2 bad input,
4 not permitted, 5 cancelled.`,
		Example: `  apimctl dr canary --api orders --path /orders/1k --yes        # once, on the primary, before backups
  apimctl --context dr dr drill --identity ~/.config/apimctl/backup.key \
      --registry registry.prod/=registry.dr/ --replication "{'class': 'NetworkTopologyStrategy', 'dc2': 3}" --yes`,
		Args: cmdutil.NoArgs,
		RunE: cmdutil.Run(o, func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.ValidateOutput(o.Output); err != nil {
				return err
			}
			return clibackup.CheckRestore(&o.RestoreOptions, o.KeyspaceMap, o.Registry)
		}, runF, func(ctx context.Context, o *DrillOptions) error {
			return drillRun(ctx, f, o)
		}),
	}
	clibackup.AddRestoreFlags(cmd, &o.RestoreOptions, &o.KeyspaceMap)
	fl := cmd.Flags()
	fl.StringVar(&o.Where, "location", "", "where the backups are: a directory or azure://CONTAINER/PREFIX (default $APIMCTL_BACKUP_LOCATION, $APIMCTL_BACKUP_DIR or ~/.local/state/apimctl/backups)")
	fl.StringVar(&o.Where, "dir", "", "the same as --location (a directory)")
	fl.StringVar(&o.Namespace, "namespace", "", "target namespace (default: the kube context's own)")
	fl.StringArrayVar(&o.Registry, "registry", nil, "OLD=NEW: copy images starting with OLD to NEW and run them from there; repeatable")
	fl.DurationVar(&o.StuckAfter, "stuck-after", 20*time.Second, "how long a pod may stay in a state that waiting does not resolve")
	fl.StringVar(&o.Consistency, "consistency", "", "Cassandra write consistency (default QUORUM)")
	fl.BoolVar(&o.Resume, "resume", false, "resume an interrupted drill's restore instead of restoring from the start")
	fl.StringVar(&o.SmokeKeys, "smoke-keys", "", "the canary's keys (default $APIMCTL_DRILL_KEYS or ~/.local/state/apimctl/drill-keys.json)")
	fl.StringVar(&o.SmokeURL, "smoke-url", "", "the DR gateways' base URL (default: a ready pod of Service traffic)")
	o.AddFlags(cmd, "show the plan and its checks; copy and restore nothing")
	cmdutil.AddOutputFlag(cmd, &o.Output)
	return cmd
}

// DrillDocument is drill's JSON output.
type DrillDocument struct {
	Plan   *dr.DrillPlan   `json:"plan"`
	DryRun bool            `json:"dryRun,omitempty"`
	Report *dr.DrillReport `json:"report,omitempty"`
}

func drillRun(ctx context.Context, f *cmdutil.Factory, o *DrillOptions) error {
	ios := f.IOStreams
	loc, err := (&clibackup.Location{Where: o.Where}).Open(ctx, f)
	if err != nil {
		return err
	}
	conn, err := f.Connect(ctx)
	if err != nil {
		return err
	}
	do := o.DrillOptions
	do.Location, do.Getenv = loc, f.Getenv
	plan, err := dr.PlanDrill(ctx, conn, do)
	if err != nil {
		return clibackup.PlanError(err)
	}
	fmt.Fprintf(ios.ErrOut, "drill: %s into %s/%s\n", plan.Restore.Backup, conn.Targets.Context, plan.Restore.Namespace)
	res, dry, err := cmdutil.Act(ctx, f, dr.DrillAction(conn, plan, do), o.Mode())
	if dry {
		return cmdutil.WriteDocument(ios.Out, o.Output, DrillDocument{Plan: plan, DryRun: true})
	}
	rep, ran := res.Value.(*dr.DrillReport)
	if !ran || rep == nil {
		return err
	}
	if o.Output != "table" {
		if werr := cmdutil.WriteData(ios.Out, o.Output, DrillDocument{Plan: plan, Report: rep}); werr != nil {
			return werr
		}
		return err
	}
	tw := tabwriter.NewWriter(ios.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tTIME\tRESULT\tDETAIL")
	for _, s := range rep.Steps {
		result, t := "ok", fmt.Sprintf("%.1fs", s.Seconds)
		switch {
		case s.Skipped:
			result, t = "skipped", "-"
		case !s.OK:
			result = "FAILED"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Step, t, result, s.Detail)
	}
	verdict := "smoke test passed"
	switch {
	case rep.Passed:
	case action.KindOf(err) == action.KindBlocked:
		verdict = "smoke test FAILED"
	default:
		verdict = "FAILED before the smoke test"
	}
	fmt.Fprintf(tw, "total\t%.1fs\t\t%s\n", rep.Seconds, verdict)
	tw.Flush()
	return err
}
