package patch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apimctl/apimctl/cluster/registry"
	"github.com/apimctl/apimctl/internal/format"
	"github.com/apimctl/apimctl/ops/action"
	"github.com/apimctl/apimctl/ops/model"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// Provenance labels set on a merged image.
const (
	LabelBaseDigest = "org.opencontainers.image.base.digest"
	LabelBaseName   = "org.opencontainers.image.base.name"
	LabelPatches    = "dev.apimctl.patches"
	LabelCustom     = "dev.apimctl.customisations"
)

// layer is the merged tree as one reproducible image layer.
func (m *Merge) layer() (v1.Layer, error) {
	files := make(map[string]registry.File, len(m.files))
	for p, f := range m.files {
		files[p] = registry.File{Path: f.disk, Executable: f.mode&0o111 != 0}
	}
	return registry.Layer(files)
}

// PatchPlan is a merge ready to push, for the dry run and the confirmation.
type PatchPlan struct {
	Base        string `json:"base"`
	BaseDigest  string `json:"baseDigest"`
	Target      string `json:"target"`
	TargetTaken bool   `json:"targetExists"`
	// TargetDigest is what the taken tag points at; TargetCheck why the registry could not
	// say whether the tag exists.
	TargetDigest string `json:"targetDigest,omitempty"`
	TargetCheck  string `json:"targetCheck,omitempty"`
	Merge        *Merge `json:"merge"`
	Digest       string `json:"digest"` // of the image that would be pushed
	LayerBytes   int64  `json:"layerBytes"`

	img v1.Image
}

// PlanPatch merges and builds the patched image in memory (nothing is pushed): the base from
// its registry, the merged layer on top, the provenance in the config's labels.
func PlanPatch(ctx context.Context, base, target string, m *Merge, now time.Time) (*PatchPlan, error) {
	if err := m.ConflictError(); err != nil {
		return nil, err
	}
	baseImg, err := registry.Image(ctx, base)
	if err != nil {
		return nil, fmt.Errorf("base image %s: %w", base, err)
	}
	bd, err := baseImg.Digest()
	if err != nil {
		return nil, err
	}
	layer, err := m.layer()
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(baseImg, mutate.Addendum{Layer: layer, History: v1.History{
		Created: v1.Time{Time: now.UTC()}, CreatedBy: "apimctl patch merge", Comment: fmt.Sprintf("%d patches, %d files", len(m.Patches), m.Files)}})
	if err != nil {
		return nil, err
	}
	var ps []string
	for _, p := range m.Patches {
		ps = append(ps, p.Name+"@sha256:"+p.SHA256)
	}
	img, err = registry.EditConfig(img, func(cf *v1.ConfigFile) {
		if cf.Config.Labels == nil {
			cf.Config.Labels = map[string]string{}
		}
		cf.Config.Labels[LabelBaseDigest] = bd.String()
		cf.Config.Labels[LabelBaseName] = base
		cf.Config.Labels[LabelPatches] = strings.Join(ps, ",")
		if m.Custom != "" {
			cf.Config.Labels[LabelCustom] = fmt.Sprintf("%d files overridden", len(m.Overrides))
		}
	})
	if err != nil {
		return nil, err
	}
	d, err := img.Digest()
	if err != nil {
		return nil, err
	}
	size, _ := layer.Size()
	p := &PatchPlan{Base: base, BaseDigest: bd.String(), Target: target, Merge: m, Digest: d.String(), LayerBytes: size, img: img}
	p.checkTarget(ctx)
	return p, nil
}

// checkTarget asks the registry whether the target tag exists. It fails closed: only a 404
// (MANIFEST_UNKNOWN, NAME_UNKNOWN) means "free"; any other answer (a 500, a refusal, no
// answer) is recorded and stops the push unless forced, since the tag might exist.
func (p *PatchPlan) checkTarget(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	d, err := registry.Resolve(rctx, p.Target)
	switch {
	case err == nil:
		p.TargetTaken, p.TargetDigest = true, d
	case registry.NotFound(err):
	default:
		p.TargetCheck = err.Error()
	}
}

// ConflictError is the refusal of a merge with conflicts left (nil without).
func (m *Merge) ConflictError() error {
	if len(m.Conflicts) == 0 {
		return nil
	}
	var cs []string
	for _, c := range m.Conflicts {
		cs = append(cs, c.Path+" ("+strings.Join(c.Patches, ", ")+")")
	}
	return fmt.Errorf("%d conflicts between patches: %s — resolve them in --custom, which overrides", len(m.Conflicts), strings.Join(cs, "; "))
}

// Fields are the merge as the command line and the console show it: the patches, what was
// merged, the conflicts the customisations settled and those left.
func (m *Merge) Fields() []action.Field {
	var ps []string
	for _, s := range m.Patches {
		ps = append(ps, fmt.Sprintf("%s (%d files)", s.Name, s.Files))
	}
	f := []action.Field{
		{Key: "patches", Value: format.OrDash(strings.Join(ps, ", "))},
		{Key: "merged", Value: fmt.Sprintf("%d files, %d overridden by the customisations", m.Files, len(m.Overrides))},
	}
	if len(m.Resolved) > 0 {
		f = append(f, action.Field{Key: "resolved", Value: fmt.Sprintf("%d conflicts settled by the customisations: %s", len(m.Resolved), strings.Join(m.Resolved, ", ")), Mark: action.MarkOK})
	}
	for i, c := range m.Conflicts {
		k := ""
		if i == 0 {
			k = "conflicts"
		}
		f = append(f, action.Field{Key: k, Value: c.Path + " written differently by " + strings.Join(c.Patches, ", "), Mark: action.MarkBad})
	}
	return f
}

// Fields are the plan as the command line and the console show it.
func (p *PatchPlan) Fields() []action.Field {
	f := append([]action.Field{{Key: "base", Value: p.Base + " (" + p.BaseDigest + ")"}}, p.Merge.Fields()...)
	for i := range f {
		if f[i].Key == "merged" {
			f[i].Value += ", layer " + format.Bytes(p.LayerBytes)
		}
	}
	f = append(f, action.Field{Key: "image", Value: p.Digest + " → " + p.Target})
	switch {
	case p.TargetTaken:
		f = append(f, action.Field{Key: "registry", Value: p.Target + " exists (" + p.TargetDigest + ")", Mark: action.MarkBad})
	case p.TargetCheck != "":
		f = append(f, action.Field{Key: "registry", Value: "could not tell whether " + p.Target + " exists: " + p.TargetCheck, Mark: action.MarkBad})
	default:
		f = append(f, action.Field{Key: "registry", Value: p.Target + " is free", Mark: action.MarkOK})
	}
	return f
}

// TargetImage is the image a merge is pushed as: to, or the base's repository with tag
// (exactly one of them), never the base itself.
func TargetImage(base, to, tag string) (string, error) {
	if base == "" {
		return "", errors.New("the base image is required")
	}
	if (to == "") == (tag == "") {
		return "", errors.New("give the new image as a reference or as a tag (in the base's repository)")
	}
	if tag != "" {
		t, err := model.NewImage(base, tag)
		if err != nil {
			return "", err
		}
		to = t
	}
	if to == base {
		return "", fmt.Errorf("the new image %s is the base itself", to)
	}
	return to, nil
}

// PushAction pushes the planned image. An existing tag is a refusal (bad input, exit 2), an
// unanswered tag check an error (exit 1), unless force. Its Result.Value is the digest.
func PushAction(p *PatchPlan, force bool) *action.Action {
	return &action.Action{
		Name:     "patch.merge",
		Scope:    action.Scope{Image: p.Target, Resource: p.Target},
		What:     "push " + p.Target,
		Question: fmt.Sprintf("Push %s?", p.Target),
		Plan:     p.Fields(),
		Details:  map[string]string{"base": p.Base, "baseDigest": p.BaseDigest, "digest": p.Digest, "patches": fmt.Sprint(len(p.Merge.Patches)), "force": fmt.Sprint(force)},
		Validate: func(ctx context.Context) error {
			switch {
			case force:
				return nil
			case p.TargetTaken:
				return &action.Error{Kind: action.KindUsage, Err: fmt.Errorf("%s already exists in the registry; nothing pushed", p.Target),
					Hint: "choose another tag, or --force to move it"}
			case p.TargetCheck != "":
				return action.Failed(fmt.Errorf("could not check whether %s exists (%s); nothing pushed", p.Target, p.TargetCheck),
					"retry when the registry answers, or --force to push regardless")
			}
			return nil
		},
		Do: func(ctx context.Context, progress func(string)) (action.Result, error) {
			progress("pushing " + p.Target)
			d, err := registry.Push(ctx, p.Target, p.img)
			if err != nil {
				return action.Result{}, fmt.Errorf("push %s: %w", p.Target, err)
			}
			return action.Result{Value: d, Details: map[string]string{"pushed": d}}, nil
		},
	}
}
