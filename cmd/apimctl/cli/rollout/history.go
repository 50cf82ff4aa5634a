package rollout

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	"github.com/apimctl/apimctl/internal/format"
)

// HistoryOptions are history's flags.
type HistoryOptions struct{ Target }

// NewCmdHistory is `apimctl rollout history GROUP`.
func NewCmdHistory(f *cmdutil.Factory, runF func(context.Context, *HistoryOptions) error) *cobra.Command {
	o := &HistoryOptions{}
	cmd := &cobra.Command{
		Use:   "history GROUP",
		Short: "The revisions of a gateway Deployment: image, age, change cause",
		Args:  cmdutil.ExactArgs(1),
		RunE: cmdutil.Run(o, func(cmd *cobra.Command, args []string) error {
			o.Group = args[0]
			return o.Target.validate()
		}, runF, func(ctx context.Context, o *HistoryOptions) error {
			return historyRun(ctx, f, o)
		}),
	}
	o.Target.addFlags(cmd)
	return cmd
}

func historyRun(ctx context.Context, f *cmdutil.Factory, o *HistoryOptions) error {
	e, err := load(ctx, f, o.Target)
	if err != nil {
		return err
	}
	defer e.cancel()
	hist, err := e.rollouts.History(ctx, e.w.Name)
	if err != nil {
		return err
	}
	out := f.IOStreams.Out
	if o.Output != "table" {
		return cmdutil.WriteData(out, o.Output, hist)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REVISION\tIMAGE\tAGE\tPODS\tCHANGE CAUSE")
	now := f.Now()
	for _, h := range hist {
		rev := strconv.FormatInt(h.Revision, 10)
		if h.Current {
			rev += " ▸"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", rev, h.Image, format.Age(now.Sub(h.Created)), h.Replicas, format.OrDash(h.ChangeCause))
	}
	return tw.Flush()
}
