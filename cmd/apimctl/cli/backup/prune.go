package backup

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/backup"
	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	"github.com/apimctl/apimctl/ops/action"
	"github.com/apimctl/apimctl/ops/dr"
)

// PruneOptions are prune's flags.
type PruneOptions struct {
	Keep   int
	DryRun bool
	Yes    bool
}

// NewCmdPrune is `apimctl backup prune --keep N`.
func NewCmdPrune(f *cmdutil.Factory, loc *Location, runF func(context.Context, *PruneOptions) error) *cobra.Command {
	o := &PruneOptions{}
	cmd := &cobra.Command{
		Use:   "prune --keep N",
		Short: "Delete all but the newest N complete backups (and older unfinished ones)",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Keep < 1 {
				return cmdutil.Usagef("--keep %d: keep at least one backup", o.Keep)
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return pruneRun(cmd.Context(), f, loc, o)
		},
	}
	cmd.Flags().IntVar(&o.Keep, "keep", 0, "how many complete backups to keep (required)")
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "say what would be deleted; delete nothing")
	cmd.Flags().BoolVarP(&o.Yes, "yes", "y", false, "do not ask for confirmation (scripts)")
	return cmd
}

func pruneRun(ctx context.Context, f *cmdutil.Factory, loc *Location, o *PruneOptions) error {
	root := loc.Root(f)
	drop, err := backup.PrunePlan(root, o.Keep)
	if err != nil {
		return err
	}
	if len(drop) == 0 {
		fmt.Fprintf(f.IOStreams.ErrOut, "nothing to prune in %s\n", root)
		return nil
	}
	_, _, err = cmdutil.Act(ctx, f, dr.PruneAction(root, o.Keep, drop), action.Mode{DryRun: o.DryRun, Yes: o.Yes})
	return err
}
