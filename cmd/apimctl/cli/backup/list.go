package backup

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/backup"
	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	"github.com/apimctl/apimctl/internal/format"
)

// ListOptions are list's flags.
type ListOptions struct{ Output string }

// NewCmdList is `apimctl backup list`.
func NewCmdList(f *cmdutil.Factory, loc *Location, runF func(context.Context, *ListOptions) error) *cobra.Command {
	o := &ListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "The backups in the location, newest first",
		Args:  cmdutil.NoArgs,
		RunE: cmdutil.Run(o, func(cmd *cobra.Command, args []string) error {
			return cmdutil.ValidateOutput(o.Output)
		}, runF, func(ctx context.Context, o *ListOptions) error {
			return listRun(ctx, f, loc, o)
		}),
	}
	cmdutil.AddOutputFlag(cmd, &o.Output)
	return cmd
}

func listRun(ctx context.Context, f *cmdutil.Factory, loc *Location, o *ListOptions) error {
	ios := f.IOStreams
	l, err := loc.Open(ctx, f)
	if err != nil {
		return err
	}
	all, err := backup.ListAt(ctx, l)
	if err != nil {
		return err
	}
	if all == nil {
		all = []backup.Summary{}
	}
	if o.Output != "table" {
		return cmdutil.WriteData(ios.Out, o.Output, all)
	}
	if len(all) == 0 {
		fmt.Fprintf(ios.ErrOut, "no backups in %s\n", l)
		return nil
	}
	tw := tabwriter.NewWriter(ios.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCREATED\tFILES\tSIZE\tSTATE")
	for _, s := range all {
		state := "complete"
		if !s.Complete {
			state = "unfinished"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", s.ID, s.Created.Local().Format("2006-01-02 15:04"), s.Parts, format.Bytes(s.Bytes), state)
	}
	return tw.Flush()
}
