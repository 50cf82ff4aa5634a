package rollout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apimctl/apimctl/ops/live"
	"github.com/apimctl/apimctl/ops/model"

	pmodel "github.com/prometheus/common/model"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	typedappsv1 "k8s.io/client-go/kubernetes/typed/apps/v1"

	"github.com/apimctl/apimctl/cluster/prom"
	"github.com/apimctl/apimctl/cluster/registry"
)

// Rollouts of a gateway Deployment's image: a plan shown before anything changes, the
// rolling update watched to the end, a metric gate on the new pods' error ratio from
// Prometheus, and an automatic rollback when the rollout stalls or the gate fails. Also the
// revision history, undo, pause, resume and restart, as kubectl rollout has them.

// ChangeCauseAnnotation records why a revision exists (kubectl shows it in its history too).
const ChangeCauseAnnotation = "kubernetes.io/change-cause"

// RolloutPlan is what a rollout is about to do; it is also the dry run's output.
type RolloutPlan struct {
	Namespace      string          `json:"namespace"`
	Deployment     string          `json:"deployment"`
	Role           string          `json:"role"`
	Group          string          `json:"group,omitempty"`
	Container      string          `json:"container"`
	FromImage      string          `json:"fromImage"`
	ToImage        string          `json:"toImage"`
	Revision       string          `json:"revision"`
	Replicas       int32           `json:"replicas"`
	MaxSurge       string          `json:"maxSurge"`
	MaxUnavailable string          `json:"maxUnavailable"`
	Blockers       []model.Finding `json:"blockers,omitempty"` // error-level findings: it does not start
	// ImageDigest is the new image's digest in its registry; ImageCheck says what the
	// registry answered ("found", "not found", or why it could not be asked).
	ImageDigest string `json:"imageDigest,omitempty"`
	ImageCheck  string `json:"imageCheck"`
}

// PlanRollout builds the plan from the live snapshot: the workload, its current image, and the
// error-level findings that block a rollout (the preflight).
func PlanRollout(s model.Snapshot, role, group, imageArg string) (*RolloutPlan, error) {
	w, err := model.FindWorkload(s.Topology, role, group)
	if err != nil {
		return nil, err
	}
	to, err := model.NewImage(w.Image, imageArg)
	if err != nil {
		return nil, err
	}
	p := &RolloutPlan{Namespace: w.Namespace, Deployment: w.Name, Role: role, Group: w.Group, FromImage: w.Image, ToImage: to,
		Revision: w.Revision, Replicas: w.Desired, MaxSurge: w.MaxSurge, MaxUnavailable: w.MaxUnavailable}
	for _, f := range s.Findings {
		if f.Severity == model.SeverityError {
			p.Blockers = append(p.Blockers, f)
		}
	}
	// An unfinished rollout: pods of an older template still run. (A scale-up in progress,
	// which RolloutInProgress also counts, is no reason to wait.)
	if w.Current > w.Updated {
		p.Blockers = append(p.Blockers, model.Finding{ID: "ROLLOUT", Severity: model.SeverityError, Subject: "deployment/" + w.Name,
			Message: "a rollout of this Deployment is still in progress", Fix: "wait for it: apimctl rollout status, or undo it"})
	}
	if w.Paused {
		p.Blockers = append(p.Blockers, model.Finding{ID: "ROLLOUT", Severity: model.SeverityError, Subject: "deployment/" + w.Name,
			Message: "the Deployment is paused", Fix: "apimctl rollout resume"})
	}
	return p, nil
}

// Gate judges the new pods by their 5xx ratio in Prometheus while the rollout runs and for
// Hold after it completed.
type Gate struct {
	MaxErrorRatio float64       // e.g. 0.05; the gate fails above it
	MinRequests   float64       // fewer requests than this over Window are not judged
	Window        time.Duration // PromQL range of the ratio
	Hold          time.Duration // how long the completed rollout is watched
	// Query is the PromQL of the error ratio with %s for the label selector; Requests the
	// request count (increase) over the window.
	Query, Requests string
}

// DefaultGate: at most 5 % 5xx from the new pods, judged on at least 20 requests a minute,
// watched for 30 s after the last pod is ready.
func DefaultGate() Gate {
	return Gate{MaxErrorRatio: 0.05, MinRequests: 20, Window: time.Minute, Hold: 30 * time.Second,
		Query:    `sum(rate(apigw_requests_total{%s,code_class="5xx"}[%s])) / sum(rate(apigw_requests_total{%s}[%s]))`,
		Requests: `sum(increase(apigw_requests_total{%s}[%s]))`}
}

// RolloutStep is one progress report.
type RolloutStep struct {
	Time       time.Time `json:"time"`
	Phase      string    `json:"phase"` // rolling, gating, rolling-back, done
	Replicas   int32     `json:"replicas"`
	Updated    int32     `json:"updated"`
	Ready      int32     `json:"ready"`
	Available  int32     `json:"available"`
	ErrorRatio *float64  `json:"errorRatio,omitempty"`
	Requests   float64   `json:"requests,omitempty"`
	Message    string    `json:"message,omitempty"`
}

// Rollout outcomes.
const (
	RolloutComplete   = "complete"
	RolloutRolledBack = "rolled-back"
	RolloutFailed     = "failed" // failed and not rolled back (disabled, or the rollback failed)
)

// RolloutResult is how a rollout ended.
type RolloutResult struct {
	Outcome  string        `json:"outcome"`
	Reason   string        `json:"reason,omitempty"`
	Image    string        `json:"image"` // what the Deployment runs now
	Revision string        `json:"revision"`
	Gate     string        `json:"gate"`
	Duration time.Duration `json:"-"`
	Seconds  float64       `json:"durationSeconds"`
}

// RolloutOptions tune SetImage.
type RolloutOptions struct {
	Gate         Gate
	GateEnabled  bool          // false: no metric gate (no Prometheus, or --no-gate)
	Timeout      time.Duration // the rollout must complete within it, else it is rolled back
	AutoRollback bool
	ChangeCause  string
	Progress     func(RolloutStep)
	Poll         time.Duration // how often the Deployment and Prometheus are read (1 s)
}

// Rollouts acts on the Deployments of one namespace.
type Rollouts struct {
	Client    kubernetes.Interface
	Prom      *prom.Client // nil: no gate possible
	Namespace string
	// Context names the cluster in audit records.
	Context string
	// Resolve asks a registry for an image's digest (registry.Resolve when nil).
	Resolve func(ctx context.Context, image string) (string, error)
}

func (r *Rollouts) deployments() typedappsv1.DeploymentInterface {
	return r.Client.AppsV1().Deployments(r.Namespace)
}

// imagePatch sets one container's image and the change cause.
func imagePatch(container, image, cause string) []byte {
	p := map[string]any{
		"metadata": map[string]any{"annotations": map[string]string{ChangeCauseAnnotation: cause}},
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
			"containers": []map[string]string{{"name": container, "image": image}}}}},
	}
	b, _ := json.Marshal(p)
	return b
}

// Container returns the container of a Deployment a rollout changes: the first one.
func (r *Rollouts) Container(ctx context.Context, deployment string) (string, *appsv1.Deployment, error) {
	d, err := r.deployments().Get(ctx, deployment, metav1.GetOptions{})
	if err != nil {
		return "", nil, err
	}
	if len(d.Spec.Template.Spec.Containers) == 0 {
		return "", nil, fmt.Errorf("deployment/%s has no containers", deployment)
	}
	return d.Spec.Template.Spec.Containers[0].Name, d, nil
}

// ValidateSetImage runs the change as a server-side dry run: admission and validation answer,
// nothing is stored.
func (r *Rollouts) ValidateSetImage(ctx context.Context, p *RolloutPlan, cause string) error {
	_, err := r.deployments().Patch(ctx, p.Deployment, types.StrategicMergePatchType,
		imagePatch(p.Container, p.ToImage, cause), metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}})
	return err
}

// SetImage rolls the Deployment to p.ToImage and watches it to the end: complete (and the gate
// passed), or rolled back to p.FromImage when it stalls, times out or fails the gate.
func (r *Rollouts) SetImage(ctx context.Context, p *RolloutPlan, o RolloutOptions) (res RolloutResult, err error) {
	start := time.Now()
	defer func() { res.Seconds = res.Duration.Round(time.Second).Seconds() }()
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Progress == nil {
		o.Progress = func(RolloutStep) {}
	}
	deps := r.deployments()
	d, err := deps.Patch(ctx, p.Deployment, types.StrategicMergePatchType, imagePatch(p.Container, p.ToImage, o.ChangeCause), metav1.PatchOptions{})
	if err != nil {
		return RolloutResult{Outcome: RolloutFailed, Image: p.FromImage, Revision: p.Revision}, fmt.Errorf("set the image: %w", err)
	}
	gen := d.Generation
	res = RolloutResult{Image: p.ToImage, Gate: "off"}
	fail := func(reason string) (RolloutResult, error) {
		res.Reason = reason
		if !o.AutoRollback {
			res.Outcome, res.Duration = RolloutFailed, time.Since(start)
			return res, nil
		}
		o.Progress(RolloutStep{Time: time.Now(), Phase: "rolling-back", Message: reason + "; rolling back to " + p.FromImage})
		// A fresh context: the rollback must run even when the caller gave up (Ctrl-C).
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), max(o.Timeout, 5*time.Minute))
		defer cancel()
		bd, err := deps.Patch(bctx, p.Deployment, types.StrategicMergePatchType,
			imagePatch(p.Container, p.FromImage, "apimctl automatic rollback: "+reason), metav1.PatchOptions{})
		if err == nil {
			err = r.wait(bctx, p.Deployment, bd.Generation, "rolling-back", max(o.Timeout, 5*time.Minute), o, nil)
		}
		res.Duration = time.Since(start)
		if err != nil {
			res.Outcome = RolloutFailed
			return res, fmt.Errorf("rollback to %s failed: %w", p.FromImage, err)
		}
		res.Outcome, res.Image = RolloutRolledBack, p.FromImage
		res.Revision = r.revision(bctx, p.Deployment)
		return res, nil
	}

	var gateErr error
	judge := func(step *RolloutStep) bool { return true }
	if o.GateEnabled && r.Prom != nil {
		res.Gate = "not judged"
		judge = func(step *RolloutStep) bool {
			ratio, n, err := r.errorRatio(ctx, p, o.Gate)
			if err != nil {
				step.Message = "gate: " + err.Error()
				return true
			}
			step.Requests = n
			if n < o.Gate.MinRequests {
				res.Gate = fmt.Sprintf("not judged: %.0f requests to the new pods (fewer than %.0f)", n, o.Gate.MinRequests)
				return true
			}
			step.ErrorRatio = &ratio
			if ratio > o.Gate.MaxErrorRatio {
				gateErr = fmt.Errorf("the new pods answer %.1f%% 5xx over %.0f requests (gate %.1f%%)", 100*ratio, n, 100*o.Gate.MaxErrorRatio)
				res.Gate = "failed: " + gateErr.Error()
				return false
			}
			res.Gate = fmt.Sprintf("passed: %.1f%% 5xx over %.0f requests (gate %.1f%%)", 100*ratio, n, 100*o.Gate.MaxErrorRatio)
			return true
		}
	}

	if err := r.wait(ctx, p.Deployment, gen, "rolling", o.Timeout, o, judge); err != nil {
		if gateErr != nil {
			return fail(gateErr.Error())
		}
		return fail(err.Error())
	}
	if o.GateEnabled && r.Prom != nil && o.Gate.Hold > 0 {
		hold := time.NewTimer(o.Gate.Hold)
		defer hold.Stop()
		tick := time.NewTicker(max(o.Poll, 2*time.Second))
		defer tick.Stop()
	watch:
		for {
			step := RolloutStep{Time: time.Now(), Phase: "gating"}
			ok := judge(&step)
			o.Progress(step)
			if !ok {
				return fail(gateErr.Error())
			}
			select {
			case <-ctx.Done():
				return fail("interrupted while the gate watched the new pods")
			case <-hold.C:
				break watch
			case <-tick.C:
			}
		}
	}
	res.Outcome, res.Duration = RolloutComplete, time.Since(start)
	res.Revision = r.revision(ctx, p.Deployment)
	o.Progress(RolloutStep{Time: time.Now(), Phase: "done", Message: "rollout complete"})
	return res, nil
}

func (r *Rollouts) revision(ctx context.Context, deployment string) string {
	d, err := r.deployments().Get(ctx, deployment, metav1.GetOptions{})
	if err != nil {
		return ""
	}
	return d.Annotations[model.RevisionAnnotation]
}

// errorRatio is the gate's reading for the pods of the new image.
func (r *Rollouts) errorRatio(ctx context.Context, p *RolloutPlan, g Gate) (ratio, requests float64, err error) {
	sel := fmt.Sprintf(`namespace=%q,role=%q,image_tag=%q`, p.Namespace, p.Role, model.ImageTag(p.ToImage))
	if p.Group != "" {
		sel += fmt.Sprintf(`,group=%q`, p.Group)
	}
	w := pmodel.Duration(g.Window).String()
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	n, err := scalar(qctx, r.Prom, fmt.Sprintf(g.Requests, sel, w))
	if err != nil || n < g.MinRequests {
		return 0, n, err
	}
	ratio, err = scalar(qctx, r.Prom, fmt.Sprintf(g.Query, sel, w, sel, w))
	return ratio, n, err
}

// scalar is the single value of an instant query (0 when the result is empty).
func scalar(ctx context.Context, c *prom.Client, q string) (float64, error) {
	v, err := c.Query(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("prometheus: %w", err)
	}
	if vec, ok := v.(pmodel.Vector); ok && len(vec) > 0 {
		f := float64(vec[0].Value)
		if f != f { // NaN: no requests in the window
			return 0, nil
		}
		return f, nil
	}
	return 0, nil
}

// wait polls the Deployment until it has rolled out generation gen (every replica updated
// and available), failing on ProgressDeadlineExceeded, on timeout, or when judge says no.
func (r *Rollouts) wait(ctx context.Context, deployment string, gen int64, phase string, timeout time.Duration, o RolloutOptions, judge func(*RolloutStep) bool) error {
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	deadline := time.Now().Add(timeout)
	var last RolloutStep
	for {
		d, err := r.deployments().Get(ctx, deployment, metav1.GetOptions{})
		if err != nil {
			if ctx.Err() != nil {
				return errors.New("interrupted")
			}
			return err
		}
		pr := model.DeploymentRolloutStatus(d, gen)
		step := RolloutStep{Time: time.Now(), Phase: phase, Replicas: pr.Replicas, Updated: pr.Updated, Ready: pr.Ready, Available: pr.Available}
		ok := true
		if judge != nil {
			ok = judge(&step)
		}
		if !pr.Observed {
			step.Message = pr.Waiting
		}
		if step.Updated != last.Updated || step.Ready != last.Ready || step.Available != last.Available || step.Replicas != last.Replicas ||
			step.ErrorRatio != nil || step.Message != "" {
			o.Progress(step)
			last = step
		}
		if !ok {
			return errors.New("gate failed")
		}
		if pr.Stalled != "" {
			return fmt.Errorf("the rollout stalled: %s", pr.Stalled)
		}
		if pr.Done {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not complete within %s (%d of %d updated, %d available)", timeout, pr.Updated, pr.Desired, pr.Available)
		}
		select {
		case <-ctx.Done():
			return errors.New("interrupted")
		case <-time.After(o.Poll):
		}
	}
}

// Revision is one entry of a Deployment's history (its ReplicaSets).
type Revision struct {
	Revision    int64     `json:"revision"`
	Image       string    `json:"image"`
	Created     time.Time `json:"created"`
	Replicas    int32     `json:"replicas"`
	ChangeCause string    `json:"changeCause,omitempty"`
	Current     bool      `json:"current"`
}

// History lists the Deployment's revisions, oldest first.
func (r *Rollouts) History(ctx context.Context, deployment string) ([]Revision, error) {
	d, err := r.deployments().Get(ctx, deployment, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	rss, err := r.replicaSets(ctx, d)
	if err != nil {
		return nil, err
	}
	cur := d.Annotations[model.RevisionAnnotation]
	var out []Revision
	for _, rs := range rss {
		rev, _ := strconv.ParseInt(rs.Annotations[model.RevisionAnnotation], 10, 64)
		img := ""
		if cs := rs.Spec.Template.Spec.Containers; len(cs) > 0 {
			img = cs[0].Image
		}
		out = append(out, Revision{Revision: rev, Image: img, Created: rs.CreationTimestamp.Time, Replicas: rs.Status.Replicas,
			ChangeCause: rs.Annotations[ChangeCauseAnnotation], Current: rs.Annotations[model.RevisionAnnotation] == cur})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Revision < out[j].Revision })
	return out, nil
}

func (r *Rollouts) replicaSets(ctx context.Context, d *appsv1.Deployment) ([]appsv1.ReplicaSet, error) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, err
	}
	list, err := r.Client.AppsV1().ReplicaSets(r.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, err
	}
	var out []appsv1.ReplicaSet
	for _, rs := range list.Items {
		for _, ref := range rs.OwnerReferences {
			if ref.UID == d.UID {
				out = append(out, rs)
			}
		}
	}
	return out, nil
}

// UndoPlan is what an undo restores.
type UndoPlan struct {
	Deployment   string `json:"deployment"`
	FromRevision int64  `json:"fromRevision"`
	FromImage    string `json:"fromImage"`
	ToRevision   int64  `json:"toRevision"`
	ToImage      string `json:"toImage"`
}

// PlanUndo finds the revision to return to: toRevision, or the one before the current.
func (r *Rollouts) PlanUndo(ctx context.Context, deployment string, toRevision int64) (*UndoPlan, error) {
	hist, err := r.History(ctx, deployment)
	if err != nil {
		return nil, err
	}
	return chooseUndo(deployment, hist, toRevision)
}

// chooseUndo picks the revision an undo returns to from the history.
func chooseUndo(deployment string, hist []Revision, toRevision int64) (*UndoPlan, error) {
	p := &UndoPlan{Deployment: deployment}
	var prev *Revision
	for i := range hist {
		h := &hist[i]
		if h.Current {
			p.FromRevision, p.FromImage = h.Revision, h.Image
		}
	}
	for i := range hist {
		h := &hist[i]
		if toRevision > 0 && h.Revision == toRevision {
			prev = h
		}
		if toRevision == 0 && h.Revision < p.FromRevision && (prev == nil || h.Revision > prev.Revision) {
			prev = h
		}
	}
	switch {
	case prev == nil && toRevision > 0:
		return nil, fmt.Errorf("deployment/%s has no revision %d", deployment, toRevision)
	case prev == nil:
		return nil, fmt.Errorf("deployment/%s has no earlier revision to return to", deployment)
	case prev.Revision == p.FromRevision:
		return nil, fmt.Errorf("revision %d is the current one", prev.Revision)
	}
	p.ToRevision, p.ToImage = prev.Revision, prev.Image
	return p, nil
}

// Undo puts the pod template of plan.ToRevision back (as kubectl rollout undo) and returns
// the Deployment's new generation, to wait for with Wait. dryRun asks the server to validate
// only.
func (r *Rollouts) Undo(ctx context.Context, plan *UndoPlan, dryRun bool) (int64, error) {
	d, err := r.deployments().Get(ctx, plan.Deployment, metav1.GetOptions{})
	if err != nil {
		return 0, err
	}
	rss, err := r.replicaSets(ctx, d)
	if err != nil {
		return 0, err
	}
	for _, rs := range rss {
		if rs.Annotations[model.RevisionAnnotation] != strconv.FormatInt(plan.ToRevision, 10) {
			continue
		}
		tmpl := rs.Spec.Template.DeepCopy()
		delete(tmpl.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
		d.Spec.Template = *tmpl
		if d.Annotations == nil {
			d.Annotations = map[string]string{}
		}
		d.Annotations[ChangeCauseAnnotation] = fmt.Sprintf("apimctl rollout undo to revision %d", plan.ToRevision)
		opts := metav1.UpdateOptions{}
		if dryRun {
			opts.DryRun = []string{metav1.DryRunAll}
		}
		nd, err := r.deployments().Update(ctx, d, opts)
		if apierrors.IsConflict(err) {
			return 0, fmt.Errorf("deployment/%s changed meanwhile; look again and retry: %w", plan.Deployment, err)
		}
		if err != nil {
			return 0, err
		}
		return nd.Generation, nil
	}
	return 0, fmt.Errorf("the ReplicaSet of revision %d is gone", plan.ToRevision)
}

// Wait watches the Deployment until generation gen is rolled out (no gate, no rollback).
func (r *Rollouts) Wait(ctx context.Context, deployment string, gen int64, o RolloutOptions) error {
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Progress == nil {
		o.Progress = func(RolloutStep) {}
	}
	return r.wait(ctx, deployment, gen, "rolling", o.Timeout, o, nil)
}

// SetPaused pauses or resumes the Deployment's rollouts; Restart replaces its pods (a new
// template annotation, as kubectl rollout restart). Both return the new generation.
func (r *Rollouts) SetPaused(ctx context.Context, deployment string, paused, dryRun bool) (int64, error) {
	return r.patch(ctx, deployment, fmt.Sprintf(`{"spec":{"paused":%t}}`, paused), dryRun)
}

// Restart: see SetPaused.
func (r *Rollouts) Restart(ctx context.Context, deployment string, now time.Time, dryRun bool) (int64, error) {
	return r.patch(ctx, deployment, fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":%q}}}}}`,
		now.UTC().Format(time.RFC3339)), dryRun)
}

func (r *Rollouts) patch(ctx context.Context, deployment, patch string, dryRun bool) (int64, error) {
	opts := metav1.PatchOptions{}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	d, err := r.deployments().Patch(ctx, deployment, types.StrategicMergePatchType, []byte(patch), opts)
	if err != nil {
		return 0, err
	}
	return d.Generation, nil
}

// RolloutsFor returns the Rollouts of a connection's namespace, with its Prometheus for the gate.
func RolloutsFor(c *live.Connection, namespace string) (*Rollouts, error) {
	if c == nil || c.Kube == nil {
		return nil, errors.New("no Kubernetes connection")
	}
	r := &Rollouts{Client: c.Kube.Clientset, Namespace: namespace, Context: c.Targets.Context}
	if u := c.Targets.PrometheusURL; u != "" {
		r.Prom, _ = prom.New(u)
	}
	return r, nil
}

// PrepareRollout is the plan of a rollout with everything the cluster must say first: the
// container, that the image changes, and (unless blocked) the API server's validation.
func (r *Rollouts) PrepareRollout(ctx context.Context, s model.Snapshot, role, group, imageArg string) (*RolloutPlan, error) {
	p, err := PlanRollout(s, role, group, imageArg)
	if err != nil {
		return nil, err
	}
	if p.Container, _, err = r.Container(ctx, p.Deployment); err != nil {
		return nil, err
	}
	if p.FromImage == p.ToImage {
		return nil, fmt.Errorf("deployment/%s already runs %s", p.Deployment, p.ToImage)
	}
	p.checkImage(ctx, r.Resolve)
	return p, nil
}

// checkImage asks the registry for the new image: a tag it does not have blocks the rollout
// (it would only stall on ImagePullBackOff until the timeout rolled it back); a registry that
// cannot be asked from here is said, not a blocker — the nodes may reach it when we cannot.
func (p *RolloutPlan) checkImage(ctx context.Context, resolve func(context.Context, string) (string, error)) {
	if resolve == nil {
		resolve = registry.Resolve
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	d, err := resolve(rctx, p.ToImage)
	switch {
	case err == nil:
		p.ImageDigest, p.ImageCheck = d, "found"
	case registry.NotFound(err):
		p.ImageCheck = "not found"
		p.Blockers = append(p.Blockers, model.Finding{ID: "IMAGE", Severity: model.SeverityError, Subject: p.ToImage,
			Message: "the registry has no such image", Fix: "check the tag (the registry's tags: crane ls " + model.ImageRepo(p.ToImage) + ")"})
	default:
		p.ImageCheck = "not checked: " + err.Error()
	}
}

// ChangeCause is the change-cause a rollout records.
func (p *RolloutPlan) ChangeCause() string {
	return fmt.Sprintf("apimctl rollout set-image %s %s", orDashGroup(p.Group), p.ToImage)
}

func orDashGroup(g string) string {
	if g == "" {
		return "-"
	}
	return g
}

// Line is the step as a progress line: "15:04:05  rolling      updated 1  ready 3 …".
func (s RolloutStep) Line() string {
	line := fmt.Sprintf("%s  %-12s", s.Time.Format("15:04:05"), s.Phase)
	if s.Replicas > 0 {
		line += fmt.Sprintf(" updated %d  ready %d  available %d  (pods %d)", s.Updated, s.Ready, s.Available, s.Replicas)
	}
	if s.ErrorRatio != nil {
		line += fmt.Sprintf("  5xx %.1f%% of %.0f", 100**s.ErrorRatio, s.Requests)
	}
	if s.Message != "" {
		line += "  " + s.Message
	}
	return strings.TrimRight(line, " ")
}

// RegistryAnswer says what the registry answered about the new image.
func (p *RolloutPlan) RegistryAnswer() string {
	switch p.ImageCheck {
	case "found":
		return "✓ found " + p.ImageDigest
	case "not found":
		return "✗ not found"
	case "":
		return "-"
	}
	return "! " + p.ImageCheck + " (the nodes may still reach it)"
}
