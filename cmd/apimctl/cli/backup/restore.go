package backup

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	"github.com/apimctl/apimctl/internal/format"
	"github.com/apimctl/apimctl/ops/action"
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
		Short: "Restore a backup into the current context (DR): Cassandra, MySQL, the namespace, events, packages; exact and resumable",
		Long: `Restore puts a backup into the cluster and data stores of the current context — typically
the DR site: the keyspaces (renamed with --keyspace-map, replication replaced with
--replication), the metrics database (--database), the namespace's resources (--namespace,
images moved to another registry with --registry, Secrets decrypted with --identity), and
the event files and packages into the directories --events and --packages name (each
restorable on its own: --only events --events DIR). The backup is verified first.

Exact by default: each restored table is emptied, then loaded, so it ends equal to the
backup (rows added since are gone, rows deleted since come back); --merge loads over what
is there instead. Objects of the same name in the namespace are updated.

The plan says beforehand what the restored workloads will lack — Secrets the backup left
out (made without --recipient) that the target does not have, images missing from the
target registry, node pools or storage classes the target cluster does not have — and stops
(exit 3) unless --force. While waiting for the workloads it shows what each pod waits for
(CreateContainerConfigError, ImagePullBackOff, Unschedulable…) and fails early, naming the
pod and the cause, when that will not resolve by waiting.

Resumable: progress is kept in a journal named after the whole target (backup, context,
namespace, Cassandra and keyspace map, MySQL server and database, directories), in
~/.local/state/apimctl/restores. An interrupted restore run again resumes: finished steps
and, inside a table, finished units are skipped. A finished restore run again restores
again. --resume only resumes (exit 2 when there is nothing to resume); --from-start forgets
an interrupted run.

Exit codes: 0 restored, 1 error (what is restored and what is not is said; run again to
resume), 2 bad input (nothing changed), 3 blocked by what the workloads would lack,
4 not permitted (--read-only, RBAC), 5 cancelled.`,
		Example: `  apimctl --context dr backup restore 20261128T030000Z-apim --identity ~/.config/apimctl/backup.key \
      --replication "{'class': 'NetworkTopologyStrategy', 'dc2': 3}" --registry registry.prod/=registry.dr/ --dry-run
  apimctl backup restore 20261128T030000Z-apim --location azure://backups/prod --only events --events /mnt/events --yes`,
		Args: cmdutil.ExactArgs(1),
		RunE: cmdutil.Run(o, func(cmd *cobra.Command, args []string) error {
			o.Backup = args[0]
			if err := cmdutil.ValidateOutput(o.Output); err != nil {
				return err
			}
			if err := CheckRestore(&o.RestoreOptions, o.KeyspaceMap, o.Registry); err != nil {
				return err
			}
			if o.Resume && o.FromStart {
				return cmdutil.Usagef("--resume and --from-start contradict each other")
			}
			return nil
		}, runF, func(ctx context.Context, o *RestoreOptions) error {
			return restoreRun(ctx, f, loc, o)
		}),
	}
	AddRestoreFlags(cmd, &o.RestoreOptions, &o.KeyspaceMap)
	fl := cmd.Flags()
	fl.StringVar(&o.Namespace, "namespace", "", "target namespace (default: the backup's)")
	fl.StringArrayVar(&o.Registry, "registry", nil, "OLD=NEW: images starting with OLD start with NEW; repeatable")
	fl.StringSliceVar(&o.Only, "only", nil, "restore only these parts: cassandra, mysql, kube, events, packages")
	fl.StringVar(&o.EventsDir, "events", "", "directory to restore the event files into (without it they are not restored)")
	fl.StringVar(&o.PackagesDir, "packages", "", "directory to restore the packages into (without it they are not restored)")
	fl.BoolVar(&o.Merge, "merge", false, "load over the target's rows instead of emptying each table first (extra rows are kept)")
	fl.StringVar(&o.Consistency, "consistency", "", "Cassandra write consistency: QUORUM (default), LOCAL_QUORUM, ALL, ONE, LOCAL_ONE")
	fl.BoolVar(&o.Resume, "resume", false, "only resume an interrupted run of this restore (exit 2 when there is none)")
	fl.BoolVar(&o.FromStart, "from-start", false, "forget an interrupted run of this restore and restore everything again")
	fl.DurationVar(&o.StuckAfter, "stuck-after", 20*time.Second, "how long a pod may stay in a state that waiting does not resolve before the restore fails")
	o.AddFlags(cmd, "verify the backup and show the plan; restore nothing")
	cmdutil.AddOutputFlag(cmd, &o.Output)
	return cmd
}

// AddRestoreFlags adds the flags of a restore that 'dr drill' shares with 'backup restore'
// (the drill restores the same way), into ro and, as given, keyspaceMap (see CheckRestore).
func AddRestoreFlags(cmd *cobra.Command, ro *dr.RestoreOptions, keyspaceMap *[]string) {
	fl := cmd.Flags()
	fl.StringArrayVar(keyspaceMap, "keyspace-map", nil, "FROM=TO: restore keyspace FROM as TO; repeatable")
	fl.StringVar(&ro.Replication, "replication", "", "CQL replication map for the restored keyspaces (default: the backup's)")
	fl.StringVar(&ro.Database, "database", "", "target MySQL database (default: METRICS_DB_URL's)")
	fl.StringVar(&ro.IdentityFile, "identity", "", "age identity file that decrypts the backup's Secrets")
	fl.DurationVar(&ro.Timeout, "timeout", 10*time.Minute, "how long the workloads may take to become available")
	fl.IntVar(&ro.Parallel, "parallel", 0, "workers per engine (default 8 Cassandra units, 4 MySQL connections)")
	fl.BoolVar(&ro.Force, "force", false, "restore although the plan finds what the restored workloads will lack")
}

// CheckRestore fills ro's maps from the FROM=TO values of --keyspace-map and --registry and
// checks the values a restore and a drill share: a usage error, nothing done.
func CheckRestore(ro *dr.RestoreOptions, keyspaceMap, registry []string) error {
	var err error
	if ro.KeyspaceMap, err = pairs("--keyspace-map", keyspaceMap); err != nil {
		return err
	}
	if ro.Registry, err = pairs("--registry", registry); err != nil {
		return err
	}
	if ro.Timeout <= 0 {
		return cmdutil.Usagef("--timeout %s: must be positive", ro.Timeout)
	}
	return CheckParallel(ro.Parallel)
}

// CheckParallel refuses a --parallel out of range (usage error).
func CheckParallel(n int) error {
	if n < 0 || n > 64 {
		return cmdutil.Usagef("--parallel %d: between 1 and 64 (0: the engines' defaults)", n)
	}
	return nil
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
	l, id, err := loc.Backup(ctx, f, o.Backup)
	if err != nil {
		return err
	}
	ro.Location, ro.ID, ro.Getenv = l, id, f.Getenv
	conn, err := f.Connect(ctx)
	if err != nil {
		return err
	}
	plan, err := dr.PlanRestore(conn, ro)
	if err != nil {
		return PlanError(err)
	}
	if conn.Kube == nil && (plan.Objects > 0 || plan.Secrets > 0) {
		return cmdutil.Failed(fmt.Errorf("no Kubernetes connection: %v", conn.KubeErr), "check --kubeconfig/--context, or --only cassandra,mysql")
	}
	if plan.Objects > 0 || plan.Secrets > 0 {
		fmt.Fprintf(ios.ErrOut, "restore %s into namespace %s (context %s)\n", plan.Backup, plan.Namespace, conn.Targets.Context)
	} else {
		fmt.Fprintf(ios.ErrOut, "restore %s (context %s)\n", plan.Backup, format.OrDash(conn.Targets.Context))
	}
	start := f.Now()
	res, dry, err := cmdutil.Act(ctx, f, dr.RestoreAction(conn, plan, ro), o.Mode())
	if dry {
		fmt.Fprintln(ios.ErrOut, "dry run: nothing restored")
		return cmdutil.WriteDocument(ios.Out, o.Output, RestoreDocument{Plan: plan, DryRun: true})
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

// PlanError is a plan's error with its kind: a typed one as it is (a location that cannot be
// read is a failure), any other is bad input (nothing was changed).
func PlanError(err error) error {
	var typed *action.Error
	if errors.As(err, &typed) {
		return err
	}
	return cmdutil.Usagef("%v", err)
}
