package backup

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	"github.com/apimctl/apimctl/internal/format"
	"github.com/apimctl/apimctl/ops/dr"
)

// CreateOptions are create's flags.
type CreateOptions struct {
	CreateFlags
	Output string
	cmdutil.Mutation
}

// CreateFlags say what a backup holds and how it is read: create's flags, which schedule
// takes too and passes on to the create it runs.
type CreateFlags struct {
	Recipients  []string
	Keyspaces   []string
	Only        []string
	Events      string
	Packages    string
	Parallel    int
	Consistency string
	NoCompress  bool
}

// addFlags adds the flags into c; with details (create's) their help says the defaults and
// the choices too.
func (c *CreateFlags) addFlags(cmd *cobra.Command, details bool) {
	d := func(s string) string {
		if details {
			return s
		}
		return ""
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&c.Recipients, "recipient", nil, "age public key (age1…) to encrypt the Secrets to; repeatable")
	fl.StringArrayVar(&c.Keyspaces, "keyspace", nil, "Cassandra keyspace to back up"+d(" (default: CASS_KEYSPACE and CASS_TKEYSPACE)")+"; repeatable")
	fl.StringSliceVar(&c.Only, "only", nil, "back up only these parts: cassandra, mysql, kube, events, packages"+d(" (default: all)"))
	fl.StringVar(&c.Events, "events", "", "the gateways' event and trace files to back up, incrementally"+d(" (default $APIMCTL_EVENTS_DIR)"))
	fl.StringVar(&c.Packages, "packages", "", "the policy and environment packages to back up"+d(" (default $APIMCTL_PACKAGES_DIR)"))
	fl.IntVar(&c.Parallel, "parallel", 0, "workers per engine"+d(" (default 8 Cassandra token ranges, 4 MySQL connections)"))
	fl.StringVar(&c.Consistency, "consistency", "", "Cassandra read consistency"+d(": QUORUM (default), LOCAL_QUORUM, ALL, ONE, LOCAL_ONE"))
	fl.BoolVar(&c.NoCompress, "no-compress", false, "store the parts uncompressed"+d(" (faster on a fast local disk, larger)"))
}

// NewCmdCreate is `apimctl backup create`.
func NewCmdCreate(f *cmdutil.Factory, loc *Location, runF func(context.Context, *CreateOptions) error) *cobra.Command {
	o := &CreateOptions{}
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Write a backup of the deployment now",
		Long: `Create writes a backup of the deployment now (see 'apimctl backup --help' for what it holds).
It only reads the cluster and the data stores (Cassandra at QUORUM, or --consistency) and
writes the backup into the location (--location: a directory or azure://CONTAINER/PREFIX);
on a terminal it asks first (--yes in scripts). --parallel sets the workers of each engine
(Cassandra token ranges, MySQL connections). --events DIR backs up the gateways' event and
trace files (the shared volume; $APIMCTL_EVENTS_DIR), copying only the files that changed
since the previous backup in the same location; --packages DIR the policy and environment
packages (.fed, .pol, .env; $APIMCTL_PACKAGES_DIR). A failure removes the unfinished backup.`,
		Example: `  apimctl backup create --recipient age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
  apimctl backup create --dry-run
  apimctl backup create --keyspace apim_default --yes -o json
  apimctl backup create --location azure://backups/prod --events /mnt/events --parallel 16 --yes`,
		Args: cmdutil.NoArgs,
		RunE: cmdutil.Run(o, func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("events") {
				o.Events = f.Getenv("APIMCTL_EVENTS_DIR")
			}
			if !cmd.Flags().Changed("packages") {
				o.Packages = f.Getenv("APIMCTL_PACKAGES_DIR")
			}
			if err := CheckParallel(o.Parallel); err != nil {
				return err
			}
			return cmdutil.ValidateOutput(o.Output)
		}, runF, func(ctx context.Context, o *CreateOptions) error {
			return createRun(ctx, f, loc, o)
		}),
	}
	o.CreateFlags.addFlags(cmd, true)
	o.AddFlags(cmd, "say what would be backed up and where; read and write nothing")
	cmdutil.AddOutputFlag(cmd, &o.Output)
	return cmd
}

// CreateDocument is create's JSON output.
type CreateDocument struct {
	DryRun   bool              `json:"dryRun"`
	Plan     *dr.BackupPlan    `json:"plan"`
	Dir      string            `json:"dir,omitempty"`
	Manifest any               `json:"manifest,omitempty"`
	Summary  *dr.BackupSummary `json:"summary,omitempty"`
}

func createRun(ctx context.Context, f *cmdutil.Factory, loc *Location, o *CreateOptions) error {
	ios := f.IOStreams
	conn, err := f.Connect(ctx)
	if err != nil {
		return err
	}
	bo := dr.BackupOptions{Dir: loc.Root(f), Recipients: o.Recipients, Keyspaces: o.Keyspaces, Only: o.Only, Tool: "apimctl " + f.Version,
		EventsDir: o.Events, PackagesDir: o.Packages, Parallel: o.Parallel, Consistency: o.Consistency, NoCompress: o.NoCompress, Getenv: f.Getenv, Now: f.Now}
	plan, err := dr.PlanBackup(ctx, conn, bo)
	if err != nil {
		return cmdutil.Usagef("%v", err)
	}
	if conn.Kube == nil && plan.Includes("kube") {
		return cmdutil.Failed(fmt.Errorf("no Kubernetes connection: %v", conn.KubeErr), "check --kubeconfig/--context (for the lab: eval \"$(apimctl lab env)\"), or --only cassandra,mysql")
	}
	start := f.Now()
	res, dry, err := cmdutil.Act(ctx, f, dr.CreateAction(conn, plan, bo), o.Mode())
	if err != nil {
		return err
	}
	if dry {
		return cmdutil.WriteDocument(ios.Out, o.Output, CreateDocument{DryRun: true, Plan: plan})
	}
	s := res.Value.(dr.BackupSummary)
	if o.Output != "table" {
		return cmdutil.WriteData(ios.Out, o.Output, CreateDocument{Plan: plan, Dir: s.Dir, Manifest: s.Manifest, Summary: &s})
	}
	fmt.Fprintf(ios.Out, "backup %s: %d files, %s, %d rows and objects, in %s\n%s\n", s.ID, s.Files, format.Bytes(s.Bytes), s.Items,
		f.Now().Sub(start).Round(time.Millisecond), s.Dir)
	for _, n := range s.Notes {
		fmt.Fprintf(ios.Out, "note: %s\n", n)
	}
	return nil
}
