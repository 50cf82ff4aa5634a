package version

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
)

// NewCmdVersion prints the build's version and commit.
func NewCmdVersion(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print apimctl's version",
		Args:  cmdutil.NoArgs,
		Run: func(cmd *cobra.Command, args []string) {
			fmt.Fprintf(f.IOStreams.Out, "apimctl %s (commit %s, %s)\n", f.Version, f.Commit, runtime.Version())
		},
	}
}
