package lab

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/ops/action"
)

// NewCmdLab is the lab group.
func NewCmdLab(f *cmdutil.Factory) *cobra.Command {
	stateDir := new(string)
	cmd := cmdutil.Group(&cobra.Command{
		Use:   "lab",
		Short: "Run the local lab: a real control plane, Cassandra, MariaDB, Prometheus and a registry on loopback",
		Long: `The lab is a miniature of the reference architecture on this machine, on loopback only:
etcd, kube-apiserver, kube-controller-manager and kube-scheduler (built once from source and
cached), kwok simulating the apimpool (3 nodes, 3 zones) and infrapool node pools, a 3-node
Apache Cassandra with password authentication, MariaDB with the metrics database, Prometheus
and an OCI registry — with the reference topology from deploy/ applied in namespace apim.

Every process has a PID file under the state directory; 'lab down' stops exactly those.`,
	})
	cmd.PersistentFlags().StringVar(stateDir, "state-dir", lab.DefaultStateDir(), "the lab's state directory ($APIMCTL_LAB_DIR)")
	cmd.AddCommand(NewCmdUp(f, stateDir, nil), NewCmdDown(f, stateDir, nil), NewCmdStatus(f, stateDir, nil), NewCmdEnv(f, stateDir, nil),
		NewCmdStop(f, stateDir, nil), NewCmdScale(f, stateDir, nil), NewCmdTraffic(f, stateDir, nil), NewCmdFault(f, stateDir, nil))
	return cmd
}

// withLab is the run of a command on an existing lab: it opens the lab of the state
// directory and hands it to run.
func withLab[O any](f *cmdutil.Factory, stateDir *string, run func(context.Context, *cmdutil.Factory, *lab.Lab, *O) error) func(context.Context, *O) error {
	return func(ctx context.Context, o *O) error {
		l, err := lab.Open(*stateDir)
		if err != nil {
			return err
		}
		return run(ctx, f, l, o)
	}
}

// labAction is a change to the lab in stateDir.
func labAction(name, stateDir, resource, what string, details map[string]string, do func(ctx context.Context, progress func(string)) error) *action.Action {
	return &action.Action{Name: "lab." + name, Scope: action.Scope{Location: stateDir, Resource: resource}, What: what, Details: details,
		Do: func(ctx context.Context, progress func(string)) (action.Result, error) {
			return action.Result{}, do(ctx, progress)
		}}
}

func componentNames(pids map[string]int) string {
	return strings.Join(slices.Sorted(maps.Keys(pids)), ", ")
}

// addYes accepts --yes on a lab change that never asks (starting the lab, scaling it, a
// fault, traffic), so that scripts can pass it to every change alike.
func addYes(cmd *cobra.Command) {
	cmd.Flags().BoolP("yes", "y", false, "accepted for scripts; this change never asks")
}

// actUnasked runs a lab change that never asks (see addYes).
func actUnasked(ctx context.Context, f *cmdutil.Factory, act *action.Action) error {
	act.NoConfirm = true
	_, _, err := cmdutil.Act(ctx, f, act, action.Mode{})
	return err
}
