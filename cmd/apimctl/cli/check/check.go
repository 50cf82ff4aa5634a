package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/ops"
)

func newCheckCmd(g *globalOptions, ios *IOStreams) *cobra.Command {
	var output string
	var list bool
	timeout := defaultProbeTimeout
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
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateOutput(output); err != nil {
				return err
			}
			if list {
				rules := ops.Rules()
				if output != "table" {
					return writeData(ios.Out, output, rules)
				}
				tw := tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSEVERITY\tRULE")
				for _, r := range rules {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Severity, r.Title)
				}
				return tw.Flush()
			}
			live, cancel := observe(cmd.Context(), g, timeout)
			defer cancel()
			s := live.Snapshot()
			if !s.Source(ops.SourceKube).Synced {
				return &exitError{code: ExitError, err: fmt.Errorf("could not read the deployment from Kubernetes: %s", s.Source(ops.SourceKube).Error),
					hint: "check --kubeconfig/--context (for the lab: eval \"$(apimctl lab env)\")"}
			}
			findings := s.Findings
			if findings == nil {
				findings = []ops.Finding{}
			}
			if output != "table" {
				if err := writeData(ios.Out, output, findings); err != nil {
					return err
				}
			} else {
				st := newStyles(ios.ColorEnabled())
				if len(findings) == 0 {
					fmt.Fprintln(ios.Out, st.ok("✓ no findings: the deployment follows the reference architecture"))
				}
				for _, f := range findings {
					mark := map[ops.Severity]string{ops.SeverityError: st.bad("✗ error"), ops.SeverityWarning: st.warn("! warning"), ops.SeverityInfo: "· note"}[f.Severity]
					fmt.Fprintf(ios.Out, "%s %s  %s\n    %s\n    fix: %s\n", mark, f.ID, f.Subject, f.Message, f.Fix)
				}
			}
			for _, f := range findings {
				if f.Severity == ops.SeverityError {
					return silentExit(ExitDegraded)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	cmd.Flags().BoolVar(&list, "list", false, "list the rules instead of evaluating them")
	cmd.Flags().DurationVar(&timeout, "timeout", timeout, "how long to wait for every source to answer")
	return cmd
}
