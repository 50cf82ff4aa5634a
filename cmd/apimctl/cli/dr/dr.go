package dr

import (
	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
)

// NewCmdDR is the dr group.
func NewCmdDR(f *cmdutil.Factory) *cobra.Command {
	cmd := cmdutil.Group(&cobra.Command{
		Use:   "dr",
		Short: "Disaster recovery: drill a restore into a second site and smoke-test it; make the drill's canary",
		Long: `Disaster recovery as a routine: 'dr canary' makes, once, an application with two API keys on
the primary (one revoked at once) and keeps the keys in a file only you can read; every
backup after it holds them. 'dr drill' then restores the newest backup into a second target
(the DR context), copies the images to the DR registry, and sends smoke traffic: the key
must be accepted, the revoked one refused, the metrics database must answer. A timed report
per step; exit 0 only when the smoke test passes.`,
	})
	cmd.AddCommand(NewCmdDrill(f, nil), NewCmdCanary(f, nil))
	return cmd
}
