package rollout

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	opsrollout "github.com/apimctl/apimctl/ops/rollout"
)

// UndoOptions are undo's flags.
type UndoOptions struct {
	Target
	Mutation
	ToRevision int64
}

// NewCmdUndo is `apimctl rollout undo GROUP [--to-revision N]`.
func NewCmdUndo(f *cmdutil.Factory, runF func(context.Context, *UndoOptions) error) *cobra.Command {
	o := &UndoOptions{}
	cmd := &cobra.Command{
		Use:   "undo GROUP",
		Short: "Return a gateway Deployment to its previous revision (or --to-revision), watched until available",
		Args:  cmdutil.ExactArgs(1),
		RunE: cmdutil.Run(o, func(cmd *cobra.Command, args []string) error {
			o.Group = args[0]
			if err := o.Target.validate(); err != nil {
				return err
			}
			if err := o.Mutation.validate(); err != nil {
				return err
			}
			if o.ToRevision < 0 {
				return cmdutil.Usagef("--to-revision %d: a revision number", o.ToRevision)
			}
			return nil
		}, runF, func(ctx context.Context, o *UndoOptions) error {
			return undoRun(ctx, f, o)
		}),
	}
	o.Target.addFlags(cmd)
	o.Mutation.addFlags(cmd)
	cmd.Flags().Int64Var(&o.ToRevision, "to-revision", 0, "the revision to return to (default: the one before the current)")
	return cmd
}

// UndoDocument is undo's JSON output.
type UndoDocument struct {
	Plan   *opsrollout.UndoPlan `json:"plan"`
	DryRun bool                 `json:"dryRun"`
	Done   bool                 `json:"done"`
}

func undoRun(ctx context.Context, f *cmdutil.Factory, o *UndoOptions) error {
	e, err := load(ctx, f, o.Target)
	if err != nil {
		return err
	}
	defer e.cancel()
	plan, err := e.rollouts.PlanUndo(ctx, e.w.Name, o.ToRevision)
	if err != nil {
		return cmdutil.Usagef("%v", err)
	}
	_, dry, err := cmdutil.Act(ctx, f, e.rollouts.UndoAction(plan, options(f, o.Mutation)), o.Mode())
	if err != nil {
		return err
	}
	if o.Output != "table" {
		return cmdutil.WriteData(f.IOStreams.Out, o.Output, UndoDocument{Plan: plan, DryRun: dry, Done: !dry})
	}
	if !dry {
		fmt.Fprintf(f.IOStreams.Out, "complete  deployment/%s runs %s\n", plan.Deployment, plan.ToImage)
	}
	return nil
}
