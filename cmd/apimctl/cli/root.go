// Package cli is apimctl's command tree: one constructor per command, options structs, and
// the run functions calling into ops and lab.
package cli

import (
	"context"
	"os"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/ops"
	"github.com/apimctl/apimctl/tui"
)

// Version and Commit are set by the Makefile with -ldflags -X.
var (
	Version = "dev"
	Commit  = "unknown"
)

// globalOptions are the flags every command shares.
type globalOptions struct {
	targets  ops.Targets
	readOnly bool
}

const rootLong = `apimctl is the operations console of API management on Kubernetes: Admin Node
Manager, API Manager, traffic gateway groups, Cassandra, the metrics database and Prometheus,
observed live and driven safely.

Where it looks: the kube context (--kubeconfig, --context, -n), then the endpoints and
credentials the gateways themselves use — flags, else the environment (CASS_HOST, CASS_PORT,
CASS_USERNAME, CASS_PASS, METRICS_DB_URL, METRICS_DB_USERNAME, METRICS_DB_PASS,
PROMETHEUS_URL), else the cassandra-credentials and metrics-db-credentials Secrets in the
namespace. Passwords are never taken as flags and never printed.

Try it without a cluster:  make demo   (or: apimctl lab up && eval "$(apimctl lab env)")

Exit codes: 0 ok, 1 error, 2 usage, 3 degraded or check failed, 4 not permitted,
5 aborted and rolled back.`

// NewRootCmd builds the command tree.
func NewRootCmd(ios *IOStreams) *cobra.Command {
	g := &globalOptions{}
	root := &cobra.Command{
		Use:           "apimctl",
		Short:         "Operations console for API management on Kubernetes",
		Long:          rootLong,
		SilenceUsage:  true,
		SilenceErrors: true,
		// With no subcommand: the live console on a terminal, help otherwise.
		RunE: func(cmd *cobra.Command, args []string) error {
			if !ios.OutTTY || !ios.InTTY {
				return cmd.Help()
			}
			return consoleRun(cmd.Context(), g)
		},
	}
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	pf := root.PersistentFlags()
	pf.StringVar(&g.targets.Kubeconfig, "kubeconfig", "", "path to the kubeconfig (default: $KUBECONFIG, ~/.kube/config)")
	pf.StringVar(&g.targets.Context, "context", "", "kube context to use (default: the current context)")
	pf.StringVarP(&g.targets.Namespace, "namespace", "n", "", "namespace of the API management deployment (default: $APIM_NAMESPACE, else apim)")
	pf.StringSliceVar(&g.targets.CassandraHosts, "cass-host", nil, "Cassandra hosts (default: $CASS_HOST, else the Secret)")
	pf.IntVar(&g.targets.CassandraPort, "cass-port", 0, "Cassandra native port (default: $CASS_PORT, else the Secret)")
	pf.StringVar(&g.targets.CassandraUser, "cass-user", "", "Cassandra user (default: $CASS_USERNAME, else the Secret)")
	pf.StringVar(&g.targets.MetricsDBURL, "metrics-db-url", "", "metrics database JDBC URL (default: $METRICS_DB_URL, else the Secret)")
	pf.StringVar(&g.targets.MetricsDBUser, "metrics-db-user", "", "metrics database user (default: $METRICS_DB_USERNAME, else the Secret)")
	pf.StringVar(&g.targets.PrometheusURL, "prometheus-url", "", "Prometheus URL (default: $PROMETHEUS_URL)")
	pf.BoolVar(&g.readOnly, "read-only", false, "never change anything: actions are hidden and refused")

	root.AddCommand(newStatusCmd(g, ios), newCheckCmd(g, ios), newRolloutCmd(g, ios), newBackupCmd(g, ios), newPatchCmd(ios), newLabCmd(ios), newVersionCmd(ios), newDebugCmd(g, ios))
	return root
}

// consoleRun opens the TUI on the live model. The first frame comes as soon as any source
// answers; the others fill in as they do.
func consoleRun(ctx context.Context, g *globalOptions) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	conn := ops.Connect(ctx, g.targets, os.Getenv)
	live := ops.NewLive(conn, ops.LiveOptions{ReadOnly: g.readOnly})
	live.Start(ctx)
	opts := tui.Options{ReadOnly: g.readOnly}
	if !g.readOnly {
		opts.Actions = ops.NewConsoleActions(conn)
	}
	return tui.Run(ctx, live, opts)
}
