package check

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	"github.com/apimctl/apimctl/cmd/apimctl/cli/iostreams"
	"github.com/apimctl/apimctl/cmd/apimctl/cli/status"
	opscheck "github.com/apimctl/apimctl/ops/check"
	"github.com/apimctl/apimctl/ops/model"
)

// CheckOptions are check's dependencies and flags.
type CheckOptions struct {
	IO      *iostreams.IOStreams
	Observe func(ctx context.Context, timeout time.Duration) (cmdutil.Observation, error)

	Output  string
	List    bool
	Timeout time.Duration
}

// NewCmdCheck is `apimctl check`; runF replaces the run in tests of the flags.
func NewCmdCheck(f *cmdutil.Factory, runF func(context.Context, *CheckOptions) error) *cobra.Command {
	o := &CheckOptions{IO: f.IOStreams, Observe: f.Observe}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Evaluate the reference architecture's rules against the live deployment",
		Long: `Check observes the deployment once and evaluates the reference architecture's rules:
3 Cassandra hosts up, RF 3 and QUORUM reachable, RDBMS and ANM up, at least 3 traffic
replicas, HPA at 75 % CPU with working metrics, limits and probes set, anti-affinity spread,
rolling updates with maxSurge 1 / maxUnavailable 0, spare capacity for the surge, TLS 1.2 at
the ingress. Each finding says what is wrong and how to fix it.

Exit codes: 0 no error-level finding, 3 an error-level finding exists, 1 could not run.`,
		Example: `  apimctl check
  apimctl check --list
  apimctl check -o json | jq -r '.[] | select(.severity=="error") | .id'`,
		Args: cmdutil.NoArgs,
		RunE: cmdutil.Run(o, func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.ValidateOutput(o.Output); err != nil {
				return err
			}
			if o.Timeout <= 0 {
				return cmdutil.Usagef("--timeout %s: must be positive", o.Timeout)
			}
			return nil
		}, runF, func(ctx context.Context, o *CheckOptions) error {
			return checkRun(ctx, o)
		}),
	}
	cmdutil.AddOutputFlag(cmd, &o.Output)
	cmd.Flags().BoolVar(&o.List, "list", false, "list the rules instead of evaluating them")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", status.DefaultTimeout, "how long to wait for every source to answer")
	return cmd
}

func checkRun(ctx context.Context, o *CheckOptions) error {
	ios := o.IO
	if o.List {
		rules := opscheck.Rules()
		if o.Output != "table" {
			return cmdutil.WriteData(ios.Out, o.Output, rules)
		}
		tw := tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSEVERITY\tRULE")
		for _, r := range rules {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Severity, r.Title)
		}
		return tw.Flush()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	obs, err := o.Observe(ctx, o.Timeout)
	if err != nil {
		return err
	}
	s := obs.Snapshot()
	if !s.Source(model.SourceKube).Synced {
		return status.NotReadable(s)
	}
	findings := s.Findings
	if findings == nil {
		findings = []model.Finding{}
	}
	if o.Output != "table" {
		if err := cmdutil.WriteData(ios.Out, o.Output, findings); err != nil {
			return err
		}
	} else {
		st := cmdutil.NewStyles(ios.ColorEnabled())
		if len(findings) == 0 {
			fmt.Fprintln(ios.Out, st.OK("✓ no findings: the deployment follows the reference architecture"))
		}
		for _, f := range findings {
			mark := map[model.Severity]string{model.SeverityError: st.Bad("✗ error"), model.SeverityWarning: st.Warn("! warning"), model.SeverityInfo: "· note"}[f.Severity]
			fmt.Fprintf(ios.Out, "%s %s  %s\n    %s\n    fix: %s\n", mark, f.ID, f.Subject, f.Message, f.Fix)
		}
	}
	for _, f := range findings {
		if f.Severity == model.SeverityError {
			return cmdutil.Silent(cmdutil.ExitDegraded)
		}
	}
	return nil
}
