package cli

import (
	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/backup"
	"github.com/apimctl/apimctl/cmd/apimctl/cli/check"
	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	"github.com/apimctl/apimctl/cmd/apimctl/cli/debug"
	"github.com/apimctl/apimctl/cmd/apimctl/cli/dr"
	"github.com/apimctl/apimctl/cmd/apimctl/cli/lab"
	"github.com/apimctl/apimctl/cmd/apimctl/cli/patch"
	"github.com/apimctl/apimctl/cmd/apimctl/cli/rollout"
	"github.com/apimctl/apimctl/cmd/apimctl/cli/status"
	"github.com/apimctl/apimctl/cmd/apimctl/cli/version"
)

const rootLong = `apimctl is the operations console of API management on Kubernetes: Admin Node
Manager, API Manager, traffic gateway groups, Cassandra, the metrics database and Prometheus,
observed live and driven safely.

Where it looks: the kube context (--kubeconfig, --context, -n), then the endpoints and
credentials the gateways themselves use — flags, else the environment (CASS_HOST, CASS_PORT,
CASS_USERNAME, CASS_PASS, METRICS_DB_URL, METRICS_DB_USERNAME, METRICS_DB_PASS,
PROMETHEUS_URL), else the cassandra-credentials and metrics-db-credentials Secrets in the
namespace. Passwords are never taken as flags and never printed.

Every change — a rollout, a backup, a restore, a patch push, a lab action — goes through one
runner: --read-only refuses it, the API server is asked whether you may, --dry-run shows it,
a terminal asks before it (--yes in scripts), and the audit log ($APIMCTL_AUDIT_LOG, else
~/.local/state/apimctl/audit.log) records its intent before and its outcome after.

Defaults (contexts, namespace, refresh, theme) can be kept in ~/.config/apimctl/config.yaml
($APIMCTL_CONFIG); flags override them.

Try it without a cluster:  make demo   (or: apimctl lab up && eval "$(apimctl lab env)")

Exit codes: 0 ok, 1 error, 2 usage, 3 degraded or check failed, 4 not permitted,
5 aborted and rolled back.`

// NewCmdRoot builds the command tree on f.
func NewCmdRoot(f *cmdutil.Factory) *cobra.Command {
	ios := f.IOStreams
	root := &cobra.Command{
		Use:           "apimctl",
		Short:         "Operations console for API management on Kubernetes",
		Long:          rootLong,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmdutil.Group(root)
	// With no subcommand: the live console on a terminal, help otherwise.
	root.RunE = func(cmd *cobra.Command, args []string) error {
		if !ios.OutTTY || !ios.InTTY {
			return cmd.Help()
		}
		return f.Console(cmd.Context())
	}
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := cmdutil.LoadConfig(f.Getenv)
		if err != nil {
			return err
		}
		f.Config = cfg
		if !cmd.Flags().Changed("context") {
			f.Contexts = cfg.Contexts
		}
		if !cmd.Flags().Changed("namespace") && f.Getenv("APIM_NAMESPACE") == "" {
			f.Targets.Namespace = cfg.Namespace
		}
		if len(f.Contexts) > 0 {
			f.Targets.Context = f.Contexts[0]
		}
		return nil
	}
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	root.SetFlagErrorFunc(cmdutil.FlagError)
	pf := root.PersistentFlags()
	t := &f.Targets
	pf.StringVar(&t.Kubeconfig, "kubeconfig", "", "path to the kubeconfig (default: $KUBECONFIG, ~/.kube/config)")
	pf.StringArrayVar(&f.Contexts, "context", nil, "kube context to use (default: the current context); give it twice (primary, then DR) to see both sites")
	pf.StringVarP(&t.Namespace, "namespace", "n", "", "namespace of the API management deployment (default: $APIM_NAMESPACE, else apim)")
	pf.StringSliceVar(&t.CassandraHosts, "cass-host", nil, "Cassandra hosts (default: $CASS_HOST, else the Secret)")
	pf.IntVar(&t.CassandraPort, "cass-port", 0, "Cassandra native port (default: $CASS_PORT, else the Secret)")
	pf.StringVar(&t.CassandraUser, "cass-user", "", "Cassandra user (default: $CASS_USERNAME, else the Secret)")
	pf.StringVar(&t.MetricsDBURL, "metrics-db-url", "", "metrics database JDBC URL (default: $METRICS_DB_URL, else the Secret)")
	pf.StringVar(&t.MetricsDBUser, "metrics-db-user", "", "metrics database user (default: $METRICS_DB_USERNAME, else the Secret)")
	pf.StringVar(&t.PrometheusURL, "prometheus-url", "", "Prometheus URL (default: $PROMETHEUS_URL)")
	pf.BoolVar(&f.ReadOnly, "read-only", false, "never change anything: actions are hidden and refused (exit 4)")

	root.AddCommand(status.NewCmdStatus(f, nil), check.NewCmdCheck(f, nil), rollout.NewCmdRollout(f), backup.NewCmdBackup(f),
		dr.NewCmdDR(f), patch.NewCmdPatch(f), lab.NewCmdLab(f), version.NewCmdVersion(f), debug.NewCmdDebug(f))
	return root
}
