package cmdutil

import (
	"context"
	"fmt"

	"github.com/apimctl/apimctl/ops/action"
	"github.com/spf13/cobra"
)

// Act runs a change the way every command does: the runner's refusals come first (a blocked
// plan is still printed, so the user sees why), then the plan on stderr, then — unless a dry
// run, which ends here saying so — the confirmation and the change, its progress on stderr.
// dry reports that it was a dry run.
func Act(ctx context.Context, f *Factory, a *action.Action, m action.Mode) (res action.Result, dry bool, err error) {
	ios := f.IOStreams
	r, err := f.Runner(ctx)
	if err != nil {
		return res, false, err
	}
	if m.Progress == nil {
		m.Progress = Progress(ios.ErrOut, f.Now)
	}
	p, err := r.Prepare(ctx, a, m)
	if err != nil {
		if action.KindOf(err) == action.KindBlocked {
			PrintPlan(ios.ErrOut, a.Plan)
		}
		return res, false, err
	}
	PrintPlan(ios.ErrOut, a.Plan)
	if p.DryRun() {
		fmt.Fprintln(ios.ErrOut, "dry run: every check passes; nothing changed")
		return res, true, nil
	}
	res, err = p.Run(ctx)
	return res, false, err
}

// Mutation are the flags of every command that changes something.
type Mutation struct {
	DryRun bool
	Yes    bool
}

// AddFlags adds --dry-run (what it shows) and --yes.
func (m *Mutation) AddFlags(cmd *cobra.Command, dryRun string) {
	cmd.Flags().BoolVar(&m.DryRun, "dry-run", false, dryRun)
	cmd.Flags().BoolVarP(&m.Yes, "yes", "y", false, "do not ask for confirmation (scripts)")
}

// Mode is the runner's mode of these flags.
func (m Mutation) Mode() action.Mode { return action.Mode{DryRun: m.DryRun, Yes: m.Yes} }
