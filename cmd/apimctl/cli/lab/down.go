package lab

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/ops/action"
)

// DownOptions are down's flags.
type DownOptions struct {
	StateDir          string
	Wipe, Yes, DryRun bool
}

// NewCmdDown is `apimctl lab down [--wipe]`.
func NewCmdDown(f *cmdutil.Factory, stateDir *string, runF func(context.Context, *DownOptions) error) *cobra.Command {
	o := &DownOptions{}
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop every lab process by its recorded PID (--wipe also deletes the lab's data)",
		Args:  cmdutil.NoArgs,
		RunE: cmdutil.Run(o, func(cmd *cobra.Command, args []string) error {
			o.StateDir = *stateDir
			return nil
		}, runF, withLab(f, stateDir, downRun)),
	}
	cmd.Flags().BoolVar(&o.Wipe, "wipe", false, "also delete the state directory (data, logs, credentials); asks first")
	cmd.Flags().BoolVarP(&o.Yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "print what would be stopped without stopping it")
	return cmd
}

func downRun(ctx context.Context, f *cmdutil.Factory, l *lab.Lab, o *DownOptions) error {
	ios := f.IOStreams
	pids, _ := l.PIDs()
	var plan []action.Field
	for _, n := range slices.Sorted(maps.Keys(pids)) {
		plan = append(plan, action.Field{Key: "stop", Value: fmt.Sprintf("%s (pid %d)", n, pids[n])})
	}
	if o.Wipe {
		plan = append(plan, action.Field{Key: "delete", Value: o.StateDir, Mark: action.MarkWarn})
	}
	if o.DryRun {
		for _, p := range plan {
			fmt.Fprintf(ios.Out, "would %s %s\n", p.Key, p.Value)
		}
		return nil
	}
	var stopped []lab.Stopped
	act := labAction("down", o.StateDir, "lab", "stop the lab", map[string]string{"wipe": fmt.Sprint(o.Wipe)},
		func(ctx context.Context, _ func(string)) error {
			var err error
			stopped, err = l.Down(ctx, o.Wipe)
			return err
		})
	act.Plan = plan
	if o.Wipe {
		act.What, act.Question = "stop the lab and delete its data", fmt.Sprintf("Stop the lab and delete all its data in %s?", o.StateDir)
	} else {
		act.NoConfirm = true
	}
	_, _, err := cmdutil.Act(ctx, f, act, action.Mode{Yes: o.Yes})
	for _, s := range stopped {
		fmt.Fprintf(ios.ErrOut, "stopped %s (pid %d)\n", s.Name, s.PID)
	}
	if err != nil {
		return err
	}
	if len(stopped) == 0 {
		fmt.Fprintln(ios.ErrOut, "no lab process was running")
	}
	if o.Wipe {
		fmt.Fprintf(ios.ErrOut, "deleted %s\n", o.StateDir)
	}
	return nil
}
