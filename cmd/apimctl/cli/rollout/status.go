package rollout

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	opsrollout "github.com/apimctl/apimctl/ops/rollout"
)

// StatusOptions are rollout status's flags.
type StatusOptions struct {
	Target
	Watch   bool
	Timeout time.Duration
}

// NewCmdStatus is `apimctl rollout status GROUP [--watch]`.
func NewCmdStatus(f *cmdutil.Factory, runF func(context.Context, *StatusOptions) error) *cobra.Command {
	o := &StatusOptions{}
	cmd := &cobra.Command{
		Use:   "status GROUP",
		Short: "Where a gateway Deployment's rollout stands; --watch follows it to the end (whoever started it)",
		Long: `Status prints the Deployment's image, revision and replica counts and whether it has rolled
out its latest change. With --watch it follows the rollout until every replica runs the new
template and is available, or until --timeout (a watch only: no gate, no rollback).

Exit codes: 0 rolled out, 3 still in progress (without --watch) or stalled, 1 error.`,
		Args: cmdutil.ExactArgs(1),
		RunE: cmdutil.Run(o, func(cmd *cobra.Command, args []string) error {
			o.Group = args[0]
			if err := o.Target.validate(); err != nil {
				return err
			}
			if o.Timeout <= 0 {
				return cmdutil.Usagef("--timeout %s: must be positive", o.Timeout)
			}
			return nil
		}, runF, func(ctx context.Context, o *StatusOptions) error {
			return statusRun(ctx, f, o)
		}),
	}
	o.Target.addFlags(cmd)
	cmd.Flags().BoolVarP(&o.Watch, "watch", "w", false, "follow the rollout until it completes")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 10*time.Minute, "with --watch, how long to follow it")
	return cmd
}

func statusRun(ctx context.Context, f *cmdutil.Factory, o *StatusOptions) error {
	ios := f.IOStreams
	e, err := load(ctx, f, o.Target)
	if err != nil {
		return err
	}
	defer e.cancel()
	w := e.w
	doc := map[string]any{"deployment": w.Name, "image": w.Image, "revision": w.Revision, "desired": w.Desired, "updated": w.Updated,
		"ready": w.Ready, "available": w.Available, "rolledOut": !w.RolloutInProgress}
	if o.Output != "table" && !o.Watch {
		if err := cmdutil.WriteData(ios.Out, o.Output, doc); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(ios.Out, "deployment/%s  %s  revision %s  desired %d  updated %d  ready %d  available %d\n",
			w.Name, w.Image, orDashRev(w.Revision), w.Desired, w.Updated, w.Ready, w.Available)
	}
	if !w.RolloutInProgress {
		if o.Output == "table" || o.Watch {
			fmt.Fprintln(ios.Out, "rolled out")
		}
		return nil
	}
	if !o.Watch {
		if o.Output == "table" {
			fmt.Fprintln(ios.Out, "in progress (--watch follows it)")
		}
		return cmdutil.Silent(cmdutil.ExitDegraded)
	}
	_, d, err := e.rollouts.Container(ctx, w.Name)
	if err != nil {
		return err
	}
	err = e.rollouts.Wait(ctx, w.Name, d.Generation, opsrollout.RolloutOptions{Timeout: o.Timeout, Progress: func(s opsrollout.RolloutStep) {
		fmt.Fprintln(ios.ErrOut, s.Line())
	}})
	if err != nil {
		return cmdutil.Blocked(err, "")
	}
	fmt.Fprintln(ios.Out, "rolled out")
	return nil
}
