package rollout

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	opsrollout "github.com/apimctl/apimctl/ops/rollout"
)

// SimpleOptions are the flags of pause, resume and restart.
type SimpleOptions struct {
	Target
	Mutation
	Verb string
}

// NewCmdSimple is `apimctl rollout pause|resume|restart GROUP`.
func NewCmdSimple(f *cmdutil.Factory, verb, short string, runF func(context.Context, *SimpleOptions) error) *cobra.Command {
	o := &SimpleOptions{Verb: verb}
	cmd := &cobra.Command{
		Use:   verb + " GROUP",
		Short: short,
		Args:  cmdutil.ExactArgs(1),
		RunE: cmdutil.Run(o, func(cmd *cobra.Command, args []string) error {
			o.Group = args[0]
			if err := o.Target.validate(); err != nil {
				return err
			}
			return o.Mutation.validate()
		}, runF, func(ctx context.Context, o *SimpleOptions) error {
			return simpleRun(ctx, f, o)
		}),
	}
	o.Target.addFlags(cmd)
	o.Mutation.addFlags(cmd)
	return cmd
}

func simpleRun(ctx context.Context, f *cmdutil.Factory, o *SimpleOptions) error {
	e, err := load(ctx, f, o.Target)
	if err != nil {
		return err
	}
	defer e.cancel()
	name := e.w.Name
	if err := opsrollout.VerbApplies(o.Verb, e.w); err != nil {
		return cmdutil.Usagef("%v", err)
	}
	act, err := e.rollouts.SimpleAction(o.Verb, name, f.Now(), options(f, o.Mutation))
	if err != nil {
		return cmdutil.Usagef("%v", err)
	}
	_, dry, err := cmdutil.Act(ctx, f, act, o.Mode())
	if err != nil || dry {
		return err
	}
	if o.Output != "table" {
		return cmdutil.WriteData(f.IOStreams.Out, o.Output, map[string]any{"deployment": name, "action": o.Verb, "done": true})
	}
	fmt.Fprintf(f.IOStreams.Out, "deployment/%s: %s done\n", name, o.Verb)
	return nil
}
