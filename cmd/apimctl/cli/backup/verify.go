package backup

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/backup"
	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
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
		Long:  "Exit codes: 0 the backup is whole, 3 a file is missing, changed or extra, 2 no such backup.",
		Args:  cmdutil.ExactArgs(1),
		RunE: cmdutil.Run(o, func(cmd *cobra.Command, args []string) error {
			o.Backup = args[0]
			return cmdutil.ValidateOutput(o.Output)
		}, runF, func(ctx context.Context, o *VerifyOptions) error {
			return verifyRun(f, loc, o)
		}),
	}
	cmdutil.AddOutputFlag(cmd, &o.Output)
	return cmd
}

func verifyRun(f *cmdutil.Factory, loc *Location, o *VerifyOptions) error {
	ios := f.IOStreams
	m, probs, err := backup.Verify(loc.Path(f, o.Backup))
	if err != nil {
		return cmdutil.Usagef("%v", err)
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
