package patch

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	opspatch "github.com/apimctl/apimctl/ops/patch"
)

const patchLong = `Patch merges build a patched gateway image without a Docker daemon:

  1. the --patch archives (.tar, .tar.gz/.tgz, .zip; every entry a regular file under
     apigateway/) are merged in order into a merge directory, streamed and bounded by
     --max-size, --max-file-size and --max-entries; two patches writing one path with
     different contents is a conflict;
  2. the --custom directory (apigateway/… inside it) is laid over them: its files override,
     and settle a conflict on their path — any conflict left stops here;
  3. the merged tree becomes one reproducible layer on the --base image, with the provenance
     in the image's labels (base digest, each patch's name and SHA-256);
  4. the image is pushed as --to (or the base's repository with --tag), after confirmation.
     An existing tag is not overwritten without --force, and neither is a tag the registry
     would not say anything about (a registry error stops the push).

Registry credentials come from the Docker keychain (~/.docker/config.json).

Exit codes: 0 pushed (or the dry run), 1 error, 2 bad input, conflicts or an existing tag,
4 not permitted (--read-only), 5 cancelled.`

// NewCmdPatch is the patch group.
func NewCmdPatch(f *cmdutil.Factory) *cobra.Command {
	cmd := cmdutil.Group(&cobra.Command{Use: "patch", Short: "Merge patch archives and customisations into a new gateway image and push it", Long: patchLong})
	cmd.AddCommand(NewCmdMerge(f, nil))
	return cmd
}

// MergeOptions are merge's flags.
type MergeOptions struct {
	Base, To, Tag, Custom, MergeDir, Output string
	Patches                                 []string
	Limits                                  opspatch.Limits
	Force                                   bool
	cmdutil.Mutation
}

// NewCmdMerge is `apimctl patch merge`.
func NewCmdMerge(f *cmdutil.Factory, runF func(context.Context, *MergeOptions) error) *cobra.Command {
	o := &MergeOptions{Limits: opspatch.DefaultLimits()}
	cmd := &cobra.Command{
		Use:   "merge --base IMAGE --patch FILE... [--custom DIR] --tag TAG",
		Short: "Merge patches and customisations onto a base gateway image and push the result",
		Long:  patchLong,
		Example: `  apimctl patch merge --base registry.example/apim/gateway:7.7.20250830 \
      --patch APIGW_7.7_SP1.tgz --patch hotfix-1234.zip --custom ./site --tag 7.7.20250830-sp1 --dry-run`,
		Args: cmdutil.NoArgs,
		RunE: cmdutil.Run(o, func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.ValidateOutput(o.Output); err != nil {
				return err
			}
			if o.Base == "" {
				return cmdutil.Usagef("--base IMAGE is required")
			}
			if (o.To == "") == (o.Tag == "") {
				return cmdutil.Usagef("give the new image as --to IMAGE or --tag TAG (in the base's repository)")
			}
			if o.Limits.MaxTotalBytes <= 0 || o.Limits.MaxFileBytes <= 0 || o.Limits.MaxEntries <= 0 {
				return cmdutil.Usagef("--max-size, --max-file-size and --max-entries must be positive")
			}
			to, err := opspatch.TargetImage(o.Base, o.To, o.Tag)
			if err != nil {
				return cmdutil.Usagef("%v", err)
			}
			o.To = to
			return nil
		}, runF, func(ctx context.Context, o *MergeOptions) error {
			return mergeRun(ctx, f, o)
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Base, "base", "", "the base gateway image (required)")
	fl.StringArrayVar(&o.Patches, "patch", nil, "a patch archive (.tar, .tar.gz, .tgz, .zip); repeatable, applied in order")
	fl.StringVar(&o.Custom, "custom", "", "a directory of customisations (apigateway/… inside), laid over the patches")
	fl.StringVar(&o.MergeDir, "merge-dir", "", "keep the merged tree in this directory (default: a temporary one, removed)")
	fl.StringVar(&o.To, "to", "", "the new image reference")
	fl.StringVar(&o.Tag, "tag", "", "the new image's tag, in the base's repository")
	fl.Int64Var(&o.Limits.MaxTotalBytes, "max-size", o.Limits.MaxTotalBytes, "most bytes the archives may unpack to, all together")
	fl.Int64Var(&o.Limits.MaxFileBytes, "max-file-size", o.Limits.MaxFileBytes, "most bytes one file of an archive may unpack to")
	fl.IntVar(&o.Limits.MaxEntries, "max-entries", o.Limits.MaxEntries, "most entries the archives may hold, all together")
	fl.BoolVar(&o.Force, "force", false, "push even when the tag exists (or the registry cannot say)")
	o.AddFlags(cmd, "merge and build, push nothing")
	cmdutil.AddOutputFlag(cmd, &o.Output)
	return cmd
}

func mergeRun(ctx context.Context, f *cmdutil.Factory, o *MergeOptions) error {
	ios := f.IOStreams
	m, err := opspatch.MergePatches(o.Patches, o.Custom, o.MergeDir, o.Limits)
	if err != nil {
		return cmdutil.Usagef("%v", err)
	}
	if o.MergeDir == "" {
		defer os.RemoveAll(m.Dir)
	}
	plan, err := opspatch.PlanPatch(ctx, o.Base, o.To, m, f.Now())
	if err != nil {
		return cmdutil.Usagef("%v", err)
	}
	res, dry, err := cmdutil.Act(ctx, f, opspatch.PushAction(plan, o.Force), o.Mode())
	if err != nil {
		return err
	}
	if o.Output != "table" {
		return cmdutil.WriteData(ios.Out, o.Output, plan)
	}
	if !dry {
		fmt.Fprintf(ios.Out, "pushed %s@%s\nroll it out with: apimctl rollout set-image GROUP %s\n", plan.Target, res.Value, plan.Target)
	}
	return nil
}
