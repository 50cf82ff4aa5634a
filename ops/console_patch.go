package ops

import (
	"context"
	"os"

	"github.com/apimctl/apimctl/ops/action"
	"github.com/apimctl/apimctl/ops/patch"
)

// PatchRequest is a patch merge as the console's dialog asks for it, in the subcommand's
// terms.
type PatchRequest struct {
	Base    string   // --base
	Image   string   // --tag (a tag in the base's repository) or --to (a reference)
	Patches []string // --patch, in order
	Custom  string   // --custom
	Force   bool     // --force
}

// ProposePatch merges the patches and the customisations and builds the image (nothing is
// pushed), then prepares pushing it: `apimctl patch merge`. A merge with conflicts left is
// shown with them, refused.
func (c *Console) ProposePatch(ctx context.Context, req PatchRequest, progress func(string)) (*Proposal, error) {
	target, err := patch.TargetImage(req.Base, "", req.Image)
	if err != nil {
		return nil, err
	}
	archives := make([]string, len(req.Patches))
	for i, a := range req.Patches {
		archives[i] = expandHome(a)
	}
	custom := req.Custom
	if custom != "" {
		custom = expandHome(custom)
	}
	m, err := patch.MergePatches(archives, custom, "", patch.DefaultLimits())
	if err != nil {
		return nil, err
	}
	cleanup := func() { _ = os.RemoveAll(m.Dir) }
	p := &Proposal{Kind: "patch", Subject: target, Title: "Patch merge · " + target}
	if err := m.ConflictError(); err != nil {
		cleanup()
		p.Plan, p.Refusal = m.Fields(), action.Usage(err)
		p.Run = func(context.Context) Outcome { return Outcome{Line: "not run: " + err.Error()} }
		p.Decline = func() {}
		return p, nil
	}
	plan, err := patch.PlanPatch(ctx, req.Base, target, m, c.now())
	if err != nil {
		cleanup()
		return nil, err
	}
	p, err = c.propose(ctx, p, patch.PushAction(plan, req.Force), progress, func(res action.Result, err error) Outcome {
		if err != nil {
			return failed(err)
		}
		return Outcome{OK: true, Line: "pushed " + target + "@" + res.Value.(string),
			Details: []string{"roll it out with R (or apimctl rollout set-image GROUP " + target + ")"}}
	})
	if err != nil {
		cleanup()
		return nil, err
	}
	return p.after(cleanup), nil
}
