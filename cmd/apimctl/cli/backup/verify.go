package backup

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/backup"
	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	"github.com/apimctl/apimctl/ops/dr"
)

// VerifyOptions are verify's flags.
type VerifyOptions struct {
	Backup string
	Output string
}

// VerifyDocument is verify's JSON output.
type VerifyDocument struct {
	ID       string           `json:"id"`
	OK       bool             `json:"ok"`
	Problems []backup.Problem `json:"problems"`
}

// NewCmdVerify is `apimctl backup verify ID|PATH`.
func NewCmdVerify(f *cmdutil.Factory, loc *Location, runF func(context.Context, *VerifyOptions) error) *cobra.Command {
	o := &VerifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify ID|PATH",
		Short: "Re-read every file of a backup against its manifest (size, SHA-256, nothing missing or extra)",
		Long: `Verify re-reads every part of a backup (in the location, or a local backup's path) and
compares it with the manifest: its size and SHA-256, every unit of every table present, no
object the manifest does not list. Parts an incremental backup keeps in an earlier one are
read there.

Exit codes: 0 the backup is whole, 3 a part is missing, changed or extra, 2 no such backup
or one from a newer apimctl, 1 the location could not be read (Azure unreachable, refused
credentials).`,
		Args: cmdutil.ExactArgs(1),
		RunE: cmdutil.Run(o, func(cmd *cobra.Command, args []string) error {
			o.Backup = args[0]
			return cmdutil.ValidateOutput(o.Output)
		}, runF, func(ctx context.Context, o *VerifyOptions) error {
			return verifyRun(ctx, f, loc, o)
		}),
	}
	cmdutil.AddOutputFlag(cmd, &o.Output)
	return cmd
}

func verifyRun(ctx context.Context, f *cmdutil.Factory, loc *Location, o *VerifyOptions) error {
	ios := f.IOStreams
	l, id, err := loc.Backup(ctx, f, o.Backup)
	if err != nil {
		return err
	}
	m, probs, err := backup.VerifyAt(ctx, l, id)
	if err != nil {
		return dr.ReadError(err)
	}
	if probs == nil {
		probs = []backup.Problem{}
	}
	if o.Output != "table" {
		if err := cmdutil.WriteData(ios.Out, o.Output, VerifyDocument{m.ID, len(probs) == 0, probs}); err != nil {
			return err
		}
	} else if len(probs) == 0 {
		fmt.Fprintf(ios.Out, "✓ backup %s: %d files match the manifest\n", m.ID, len(m.Parts))
	} else {
		fmt.Fprintf(ios.Out, "✗ backup %s: %d problems\n", m.ID, len(probs))
		for _, p := range probs {
			fmt.Fprintf(ios.Out, "  %s: %s\n", p.Path, p.Issue)
		}
	}
	if len(probs) > 0 {
		return cmdutil.Silent(cmdutil.ExitDegraded)
	}
	return nil
}
