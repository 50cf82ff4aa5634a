package tui

import (
	"context"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/apimctl/apimctl/ops"
	"github.com/apimctl/apimctl/ops/model"
)

// A patch merge from the console (M): a form for the base image, the patch archives (in
// order), the customisations directory and the new image — paths complete with tab — then
// the merge's plan: the patches, what the customisations override and which conflicts they
// settled, the conflicts left (which refuse the push), the image and whether its tag is
// free; y pushes it, as `apimctl patch merge` does.

func (m *Model) openPatch() tea.Cmd {
	pm, ok := m.actions.(PatchMerger)
	if !ok || m.snap == nil {
		m.message = "patch merges are not available here"
		return nil
	}
	if ok, why := m.canChange("patch merge", ""); !ok {
		m.message, m.messageErr = why, true
		return nil
	}
	base := ""
	if g, ok := m.rolloutGroup(); ok {
		if w, err := model.FindWorkload(m.snap.Topology, model.RoleTraffic, g); err == nil {
			base = w.Image
		}
	}
	f := newForm("Patch merge", "patch merge cancelled: nothing merged or pushed", func(m *Model, f *form) tea.Cmd {
		force := strings.ToLower(f.value("force"))
		if force != "" && force != "no" && force != "yes" {
			f.setError("overwrite: yes or no")
			return nil
		}
		req := ops.PatchRequest{Base: f.value("base"), Image: f.value("image"), Patches: f.values("patches"), Custom: f.value("custom"), Force: force == "yes"}
		j := newSubjectJob("patch", "push", req.Image, "Patch merge · "+req.Image, "merging the patches and building the image…", "nothing pushed")
		j.form = f
		return m.propose(j, func(ctx context.Context, progress func(string)) (*ops.Proposal, error) {
			return pm.ProposePatch(ctx, req, progress)
		})
	})
	f.intro = []string{"Patches are merged in order under apigateway/; the customisations override them and settle their conflicts.",
		"The result is one layer on the base, pushed without a Docker daemon after you confirm the plan."}
	f.field(m.c, "base", "base image", "the gateway image to patch", base, false, false).
		field(m.c, "patches", "patches", "archives (.tar, .tar.gz, .tgz, .zip), comma-separated, in order", "", true, true).
		field(m.c, "custom", "customisations", "a directory with apigateway/… inside (optional)", "", true, false).
		field(m.c, "image", "new image", "a tag in the base's repository, or a full reference", "", false, false).
		field(m.c, "force", "overwrite", "no (yes pushes over an existing tag)", "", false, false)
	return m.openDialog(f, nil)
}
