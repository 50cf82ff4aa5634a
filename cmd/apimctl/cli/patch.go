package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/ops"
)

const patchLong = `Patch merges build a patched gateway image without a Docker daemon:

  1. the --patch archives (.tar, .tar.gz/.tgz, .zip; every entry under apigateway/) are merged
     in order into a merge directory; two patches writing one path with different contents
     is a conflict and stops here (resolve it in --custom);
  2. the --custom directory (apigateway/… inside it) is laid over them: its files override;
  3. the merged tree becomes one reproducible layer on the --base image, with the provenance
     in the image's labels (base digest, each patch's name and SHA-256);
  4. the image is pushed as --to (or the base's repository with --tag), after confirmation.
     An existing tag is not overwritten without --force.

Registry credentials come from the Docker keychain (~/.docker/config.json).

Exit codes: 0 pushed (or the dry run), 1 error, 2 bad input or conflicts, 5 cancelled.`

func newPatchCmd(ios *IOStreams) *cobra.Command {
	cmd := &cobra.Command{Use: "patch", Short: "Merge patch archives and customisations into a new gateway image and push it", Long: patchLong}
	cmd.AddCommand(newPatchMergeCmd(ios))
	return cmd
}

func newPatchMergeCmd(ios *IOStreams) *cobra.Command {
	var base, to, tag, custom, mergeDir, output string
	var patches []string
	var dryRun, yes, force bool
	cmd := &cobra.Command{
		Use:   "merge --base IMAGE --patch FILE... [--custom DIR] --tag TAG",
		Short: "Merge patches and customisations onto a base gateway image and push the result",
		Long:  patchLong,
		Example: `  apimctl patch merge --base registry.example/apim/gateway:7.7.20250830 \
      --patch APIGW_7.7_SP1.tgz --patch hotfix-1234.zip --custom ./site --tag 7.7.20250830-sp1 --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateOutput(output); err != nil {
				return err
			}
			if base == "" {
				return usageError("--base IMAGE is required")
			}
			if (to == "") == (tag == "") {
				return usageError("give the new image as --to IMAGE or --tag TAG (in the base's repository)")
			}
			if tag != "" {
				var err error
				if to, err = ops.NewImage(base, tag); err != nil {
					return withCode(ExitUsage, err)
				}
			}
			if to == base {
				return usageError("the new image %s is the base itself", to)
			}
			m, err := ops.MergePatches(patches, custom, mergeDir)
			if err != nil {
				return withCode(ExitUsage, err)
			}
			if mergeDir == "" {
				defer os.RemoveAll(m.Dir)
			}
			ctx := cmd.Context()
			plan, err := ops.PlanPatch(ctx, base, to, m, time.Now())
			if err != nil {
				return withCode(ExitUsage, err)
			}
			fmt.Fprintf(ios.ErrOut, "base     %s (%s)\npatches  ", plan.Base, plan.BaseDigest)
			for i, p := range m.Patches {
				if i > 0 {
					fmt.Fprint(ios.ErrOut, ", ")
				}
				fmt.Fprintf(ios.ErrOut, "%s (%d files)", p.Name, p.Files)
			}
			fmt.Fprintf(ios.ErrOut, "\nmerged   %d files, %d overridden by the customisations, layer %s\nimage    %s → %s\n",
				m.Files, len(m.Overrides), ops.HumanBytes(plan.LayerBytes), plan.Digest, plan.Target)
			audit := ops.AuditRecord{Action: "patch.merge", Target: plan.Target, DryRun: dryRun,
				Details: map[string]string{"base": plan.Base, "baseDigest": plan.BaseDigest, "digest": plan.Digest, "patches": fmt.Sprint(len(m.Patches))}}
			if plan.TargetTaken && !force {
				audit.Outcome, audit.Error = "refused", "the tag exists"
				_ = ops.Audit(audit)
				return &exitError{code: ExitUsage, err: fmt.Errorf("%s already exists in the registry; nothing pushed", plan.Target),
					hint: "choose another tag, or --force to move it"}
			}
			if dryRun {
				_ = ops.AuditOutcome(audit, nil)
				fmt.Fprintln(ios.ErrOut, "dry run: nothing pushed")
				if output != "table" {
					return writeData(ios.Out, output, plan)
				}
				return nil
			}
			if err := confirm(ios, yes, fmt.Sprintf("Push %s?", plan.Target)); err != nil {
				return err
			}
			digest, err := ops.PushPatch(ctx, plan)
			_ = ops.AuditOutcome(audit, err)
			if err != nil {
				return fmt.Errorf("push %s: %w", plan.Target, err)
			}
			if output != "table" {
				return writeData(ios.Out, output, plan)
			}
			fmt.Fprintf(ios.Out, "pushed %s@%s\nroll it out with: apimctl rollout set-image GROUP %s\n", plan.Target, digest, plan.Target)
			return nil
		},
	}
	cmd.Flags().StringVar(&base, "base", "", "the base gateway image (required)")
	cmd.Flags().StringArrayVar(&patches, "patch", nil, "a patch archive (.tar, .tar.gz, .tgz, .zip); repeatable, applied in order")
	cmd.Flags().StringVar(&custom, "custom", "", "a directory of customisations (apigateway/… inside), laid over the patches")
	cmd.Flags().StringVar(&mergeDir, "merge-dir", "", "keep the merged tree in this directory (default: a temporary one, removed)")
	cmd.Flags().StringVar(&to, "to", "", "the new image reference")
	cmd.Flags().StringVar(&tag, "tag", "", "the new image's tag, in the base's repository")
	cmd.Flags().BoolVar(&force, "force", false, "move an existing tag")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "merge and build, push nothing")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation (scripts)")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}
