package backup

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/backup"
	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	"github.com/apimctl/apimctl/ops/dr"
)

// PruneOptions are prune's flags.
type PruneOptions struct {
	Keep int
	cmdutil.Mutation
}

// NewCmdPrune is `apimctl backup prune --keep N`.
func NewCmdPrune(f *cmdutil.Factory, loc *Location, runF func(context.Context, *PruneOptions) error) *cobra.Command {
	o := &PruneOptions{}
	cmd := &cobra.Command{
		Use:   "prune --keep N",
		Short: "Delete all but the newest N complete backups (and older unfinished ones; never one a kept backup refers to)",
		Args:  cmdutil.NoArgs,
		RunE: cmdutil.Run(o, func(cmd *cobra.Command, args []string) error {
			if o.Keep < 1 {
				return cmdutil.Usagef("--keep %d: keep at least one backup", o.Keep)
			}
			return nil
		}, runF, func(ctx context.Context, o *PruneOptions) error {
			return pruneRun(ctx, f, loc, o)
		}),
	}
	cmd.Flags().IntVar(&o.Keep, "keep", 0, "how many complete backups to keep (required)")
	o.AddFlags(cmd, "say what would be deleted; delete nothing")
	return cmd
}

func pruneRun(ctx context.Context, f *cmdutil.Factory, loc *Location, o *PruneOptions) error {
	l, err := loc.Open(ctx, f)
	if err != nil {
		return err
	}
	drop, err := backup.PrunePlanAt(ctx, l, o.Keep)
	if err != nil {
		return err
	}
	if len(drop) == 0 {
		fmt.Fprintf(f.IOStreams.ErrOut, "nothing to prune in %s\n", l)
		return nil
	}
	_, _, err = cmdutil.Act(ctx, f, dr.PruneActionAt(l, o.Keep, drop), o.Mode())
	return err
}
