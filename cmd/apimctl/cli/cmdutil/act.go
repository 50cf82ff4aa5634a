package cmdutil

import (
	"context"
	"fmt"

	"github.com/apimctl/apimctl/ops/action"
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
