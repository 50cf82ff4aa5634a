package dr

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	"github.com/apimctl/apimctl/ops/dr"
)

// CanaryOptions are canary's flags.
type CanaryOptions struct {
	dr.CanaryOptions
	cmdutil.Mutation
}

// NewCmdCanary is `apimctl dr canary`.
func NewCmdCanary(f *cmdutil.Factory, runF func(context.Context, *CanaryOptions) error) *cobra.Command {
	o := &CanaryOptions{}
	cmd := &cobra.Command{
		Use:   "canary --api NAME --path PATH",
		Short: "Make the drill's canary: an application with a valid and a revoked API key on the primary",
		Long: `Canary creates, on the current context's API Manager, an application allowed to call --api
with two API keys, and revokes the second at once. The keys go to a file only its owner may
read (--keys, default $APIMCTL_DRILL_KEYS or ~/.local/state/apimctl/drill-keys.json), never
to the terminal. Make it once, before the backups a drill will restore: a drill refuses a
backup older than the canary.

The admin token of the API Manager comes from $APIMGR_ADMIN_TOKEN, else the namespace's
apimgr-admin Secret.

Exit codes: 0 made, 1 error, 2 bad input, 4 not permitted (--read-only, RBAC), 5 cancelled.`,
		Example: `  apimctl dr canary --api orders --path /orders/1k --yes`,
		Args:    cmdutil.NoArgs,
		RunE: cmdutil.Run(o, func(cmd *cobra.Command, args []string) error {
			if o.API == "" || len(o.Path) < 2 || o.Path[0] != '/' {
				return cmdutil.Usagef("--api NAME and --path /PATH (a path of the API that needs a key) are required")
			}
			return nil
		}, runF, func(ctx context.Context, o *CanaryOptions) error {
			conn, err := f.Connect(ctx)
			if err != nil {
				return err
			}
			co := o.CanaryOptions
			co.Getenv, co.Now = f.Getenv, f.Now
			res, dry, err := cmdutil.Act(ctx, f, dr.CanaryAction(conn, co), o.Mode())
			if err != nil || dry {
				return err
			}
			k := res.Value.(*dr.SmokeKeys)
			fmt.Fprintf(f.IOStreams.Out, "canary %s made %s; keys kept in %s\n", k.App, k.Created.Format("2006-01-02 15:04:05Z"), keysFile(f, co.KeysFile))
			return nil
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&o.API, "api", "", "the API the canary application may call (e.g. orders)")
	fl.StringVar(&o.Path, "path", "", "a path of that API that answers 2xx to GET with a valid key (e.g. /orders/1k)")
	fl.StringVar(&o.Header, "header", "X-API-Key", "the header the gateways read the key from")
	fl.StringVar(&o.KeysFile, "keys", "", "where to keep the keys (default $APIMCTL_DRILL_KEYS or ~/.local/state/apimctl/drill-keys.json)")
	fl.StringVar(&o.APIMgrURL, "apimgr-url", "", "the API Manager's URL (default: a ready pod of Service apimgr)")
	o.AddFlags(cmd, "show what would be made; make nothing")
	return cmd
}

func keysFile(f *cmdutil.Factory, given string) string {
	if given != "" {
		return given
	}
	return dr.DefaultSmokeKeys(f.Getenv)
}
