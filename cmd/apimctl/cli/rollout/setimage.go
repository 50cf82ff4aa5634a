package rollout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	opsrollout "github.com/apimctl/apimctl/ops/rollout"
)

// SetImageOptions are set-image's flags.
type SetImageOptions struct {
	Target
	Mutation
	Image      string
	Gate       opsrollout.Gate
	Force      bool
	NoGate     bool
	NoRollback bool
}

// NewCmdSetImage is `apimctl rollout set-image GROUP IMAGE|TAG`.
func NewCmdSetImage(f *cmdutil.Factory, runF func(context.Context, *SetImageOptions) error) *cobra.Command {
	o := &SetImageOptions{Gate: opsrollout.DefaultGate()}
	cmd := &cobra.Command{
		Use:   "set-image GROUP IMAGE|TAG",
		Short: "Roll a gateway group to a new image: preflight, plan, confirm, watch, gate, roll back on failure",
		Long:  rolloutLong,
		Example: `  apimctl rollout set-image default 7.7.20250830 --dry-run
  apimctl rollout set-image default 7.7.20250830
  apimctl rollout set-image default registry.example/apim/gateway:7.7.20250830 --yes -o json
  apimctl rollout set-image - 7.7.20250830 --role anm`,
		Args: cmdutil.ExactArgs(2),
		RunE: cmdutil.Run(o, func(cmd *cobra.Command, args []string) error {
			o.Group, o.Image = args[0], args[1]
			if err := o.Target.validate(); err != nil {
				return err
			}
			if err := o.Mutation.validate(); err != nil {
				return err
			}
			if o.Gate.MaxErrorRatio < 0 || o.Gate.MaxErrorRatio > 1 {
				return cmdutil.Usagef("--max-error-ratio %g: between 0 and 1", o.Gate.MaxErrorRatio)
			}
			if o.Gate.Window <= 0 || o.Gate.Hold < 0 || o.Gate.MinRequests < 0 {
				return cmdutil.Usagef("--gate-window must be positive, --gate-hold and --gate-min-requests not negative")
			}
			return nil
		}, runF, func(ctx context.Context, o *SetImageOptions) error {
			return setImageRun(ctx, f, o)
		}),
	}
	o.Target.addFlags(cmd)
	o.Mutation.addFlags(cmd)
	fl := cmd.Flags()
	fl.BoolVar(&o.Force, "force", false, "roll out despite error-level preflight findings")
	fl.BoolVar(&o.NoGate, "no-gate", false, "do not judge the new pods by their error ratio")
	fl.BoolVar(&o.NoRollback, "no-rollback", false, "leave a failed rollout as it is")
	fl.Float64Var(&o.Gate.MaxErrorRatio, "max-error-ratio", o.Gate.MaxErrorRatio, "gate: highest 5xx ratio of the new pods (0..1)")
	fl.Float64Var(&o.Gate.MinRequests, "gate-min-requests", o.Gate.MinRequests, "gate: requests to the new pods needed before the ratio is judged")
	fl.DurationVar(&o.Gate.Hold, "gate-hold", o.Gate.Hold, "gate: how long the new pods are watched after the rollout completed")
	fl.DurationVar(&o.Gate.Window, "gate-window", o.Gate.Window, "gate: the window of the error ratio")
	return cmd
}

// SetImageDocument is set-image's JSON output.
type SetImageDocument struct {
	Plan   *opsrollout.RolloutPlan   `json:"plan"`
	DryRun bool                      `json:"dryRun"`
	Result *opsrollout.RolloutResult `json:"result,omitempty"`
}

func setImageRun(ctx context.Context, f *cmdutil.Factory, o *SetImageOptions) error {
	ios := f.IOStreams
	e, err := load(ctx, f, o.Target)
	if err != nil {
		return err
	}
	defer e.cancel()
	plan, err := e.rollouts.PrepareRollout(ctx, e.snap, o.Role, o.Group, o.Image)
	if err != nil {
		return cmdutil.Usagef("%v", err)
	}
	gateOn := !o.NoGate
	if gateOn && e.rollouts.Prom == nil && !o.DryRun {
		fmt.Fprintln(ios.ErrOut, "warning: no Prometheus (PROMETHEUS_URL or --prometheus-url): the metric gate is off")
	}
	ro := opsrollout.RolloutOptions{Gate: o.Gate, GateEnabled: gateOn, Timeout: o.Timeout, AutoRollback: !o.NoRollback}
	act := e.rollouts.SetImageAction(plan, ro, o.Force)
	res, dry, err := cmdutil.Act(ctx, f, act, o.Mode())
	if err != nil && res.Value == nil {
		return err
	}
	if dry {
		return cmdutil.WriteDocument(ios.Out, o.Output, SetImageDocument{Plan: plan, DryRun: true})
	}
	rr, _ := res.Value.(opsrollout.RolloutResult)
	if o.Output != "table" {
		if werr := cmdutil.WriteData(ios.Out, o.Output, SetImageDocument{Plan: plan, Result: &rr}); werr != nil {
			return werr
		}
	} else {
		fmt.Fprintf(ios.Out, "%s  deployment/%s runs %s (revision %s) after %s\ngate: %s\n", rr.Outcome, plan.Deployment, rr.Image,
			rr.Revision, rr.Duration.Round(time.Second), rr.Gate)
		if rr.Reason != "" {
			fmt.Fprintf(ios.Out, "reason: %s\n", rr.Reason)
		}
	}
	switch {
	case err != nil:
		return err
	case rr.Outcome == opsrollout.RolloutRolledBack:
		return cmdutil.Silent(cmdutil.ExitAborted)
	case rr.Outcome == opsrollout.RolloutFailed:
		return errors.New("the rollout failed and was left as it is (--no-rollback)")
	}
	return nil
}
