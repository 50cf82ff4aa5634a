package cmdtest

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/apimctl/apimctl/cluster/kube"
	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	"github.com/apimctl/apimctl/cmd/apimctl/cli/iostreams"
	"github.com/apimctl/apimctl/ops/action"
	"github.com/apimctl/apimctl/ops/check"
	"github.com/apimctl/apimctl/ops/live"
	"github.com/apimctl/apimctl/ops/model"
	"github.com/apimctl/apimctl/ops/model/modeltest"
	"github.com/apimctl/apimctl/ops/rollout"
)

// Env is a test's Factory with handles on its fakes.
type Env struct {
	F       *cmdutil.Factory
	In      *bytes.Buffer
	Out     *bytes.Buffer
	ErrOut  *bytes.Buffer
	Audit   *action.MemorySink
	Kube    *fake.Clientset
	Env     map[string]string
	Access  *Access
	Snap    model.Snapshot
	Images  map[string]string // image → digest the registry knows
	Observe error             // when set, Observe fails with it
	// Others are the snapshots of the further sites (by context), Backups the backups.
	Others  map[string]model.Snapshot
	Backups []model.BackupRef
}

// Access is an RBAC reviewer that allows everything but Denied ("verb resource").
type Access struct {
	Denied map[string]bool
	Asked  []action.Permission
}

func (a *Access) Allowed(_ context.Context, p action.Permission) (bool, error) {
	a.Asked = append(a.Asked, p)
	return !a.Denied[p.Verb+" "+p.Resource], nil
}

func (a *Access) Identity(context.Context) (string, error) { return "test-admin", nil }

type observation struct{ s model.Snapshot }

func (o observation) Snapshot() model.Snapshot { return o.s }

// New builds the Factory: deploy/base as a healthy cluster (its objects in the fake
// clientset, its snapshot with the checks' findings), no terminal unless tty.
func New(t testing.TB, tty bool) *Env {
	t.Helper()
	ios, in, out, errOut := iostreams.Test()
	ios.InTTY, ios.OutTTY, ios.ErrTTY = tty, tty, tty
	snap := modeltest.HealthySnapshot(t)
	snap.Context = "test"
	snap.Identity = "test-admin"
	snap.Access = model.Access{Known: true, Allowed: map[string]bool{"deployments/patch": true, "deployments/update": true}}
	snap.Findings = check.Check(snap)
	var objs []runtime.Object
	for _, d := range modeltest.BaseObjects(t).Deployments {
		objs = append(objs, d)
	}
	e := &Env{Others: map[string]model.Snapshot{}, In: in, Out: out, ErrOut: errOut, Audit: &action.MemorySink{}, Kube: fake.NewSimpleClientset(objs...),
		Env: map[string]string{"HOME": t.TempDir()}, Access: &Access{Denied: map[string]bool{}}, Snap: snap,
		Images: map[string]string{}}
	e.Kube.PrependReactor("patch", "deployments", dryRunReactor(e.Kube))
	e.Kube.PrependReactor("update", "deployments", dryRunReactor(e.Kube))
	e.Kube.PrependReactor("get", "deployments", rolledOutReactor(e.Kube))
	clock := func() time.Time { return modeltest.Now }
	f := &cmdutil.Factory{IOStreams: ios, Getenv: func(k string) string { return e.Env[k] }, Now: clock, Version: "test", Commit: "test"}
	conn := func() *live.Connection {
		t := f.Targets
		t.FillFromEnv(f.Getenv)
		if t.Namespace == "" {
			t.Namespace = "apim"
		}
		t.Context = "test"
		return &live.Connection{Kube: &kube.Client{Clientset: e.Kube, Context: "test", Namespace: t.Namespace}, Targets: t}
	}
	f.Connect = func(context.Context) (*live.Connection, error) { return conn(), nil }
	f.Observe = func(context.Context, time.Duration) (cmdutil.Observation, error) {
		if e.Observe != nil {
			return nil, e.Observe
		}
		s := e.Snap
		s.ReadOnly = f.ReadOnly
		return observation{s}, nil
	}
	f.Sites = func(ctx context.Context, timeout time.Duration) ([]cmdutil.Site, error) {
		var out []cmdutil.Site
		for i, kc := range f.Contexts {
			s, ok := e.Others[kc]
			if i == 0 {
				s, ok = e.Snap, true
			}
			if !ok {
				s = model.Snapshot{Context: kc, Sources: []model.SourceState{{Name: model.SourceKube, Error: "kubeconfig: context \"" + kc + "\" does not exist"}}}
			}
			out = append(out, cmdutil.Site{Context: kc, Obs: observation{s}, Conn: &live.Connection{Targets: live.Targets{Context: kc, Keyspace: "apim_default", ThrottleKeyspace: "t_apim_default"}}})
		}
		return out, nil
	}
	f.Backups = func() ([]model.BackupRef, error) { return e.Backups, nil }
	f.Runner = func(context.Context) (*action.Runner, error) {
		r := &action.Runner{ReadOnly: f.ReadOnly, Access: e.Access, Audit: e.Audit, Via: "cli", Now: clock,
			OSUser: func() (string, string) { return "tester", "" }}
		if ios.CanPrompt() {
			r.Ask = ios.Confirm
		}
		return r, nil
	}
	f.Rollouts = func(_ context.Context, namespace string) (*rollout.Rollouts, error) {
		return &rollout.Rollouts{Client: e.Kube, Namespace: namespace, Context: "test", Resolve: e.resolve}, nil
	}
	f.Console = func(context.Context) error { return errors.New("no console in tests") }
	e.F = f
	return e
}

// resolve is the registry of the tests: an image in Images with a digest exists, one with
// "" is answered 404, any other cannot be asked.
func (e *Env) resolve(_ context.Context, image string) (string, error) {
	d, ok := e.Images[image]
	switch {
	case ok && d != "":
		return d, nil
	case ok:
		return "", &transport.Error{StatusCode: http.StatusNotFound}
	}
	return "", errors.New("registry unreachable in tests: " + image)
}

// Deployment returns a Deployment of the fake cluster as it is now.
func (e *Env) Deployment(t testing.TB, name string) *appsv1.Deployment {
	t.Helper()
	d, err := e.Kube.Tracker().Get(appsv1.SchemeGroupVersion.WithResource("deployments"), "apim", name)
	if err != nil {
		t.Fatal(err)
	}
	return d.(*appsv1.Deployment)
}

// Changes are the writes the commands made to the fake cluster (dry runs excluded).
func (e *Env) Changes() []string {
	var out []string
	for _, a := range e.Kube.Actions() {
		switch a.GetVerb() {
		case "get", "list", "watch":
			continue
		}
		if isDryRun(a) {
			continue
		}
		out = append(out, a.GetVerb()+" "+a.GetResource().Resource)
	}
	return out
}

func isDryRun(a k8stesting.Action) bool {
	switch x := a.(type) {
	case k8stesting.PatchActionImpl:
		return len(x.PatchOptions.DryRun) > 0
	case k8stesting.UpdateActionImpl:
		return len(x.UpdateOptions.DryRun) > 0
	case k8stesting.CreateActionImpl:
		return len(x.CreateOptions.DryRun) > 0
	}
	return false
}

// dryRunReactor answers a server-side dry run with the object as it is, changing nothing (the
// fake clientset would otherwise apply it).
func dryRunReactor(cs *fake.Clientset) k8stesting.ReactionFunc {
	return func(a k8stesting.Action) (bool, runtime.Object, error) {
		if !isDryRun(a) {
			return false, nil, nil
		}
		name := ""
		switch x := a.(type) {
		case k8stesting.PatchActionImpl:
			name = x.Name
		case k8stesting.UpdateActionImpl:
			name = x.Object.(metav1.Object).GetName()
		}
		obj, err := cs.Tracker().Get(a.GetResource(), a.GetNamespace(), name)
		return true, obj, err
	}
}

// rolledOutReactor makes every Deployment read as rolled out at its generation: the
// controller is not part of the fake.
func rolledOutReactor(cs *fake.Clientset) k8stesting.ReactionFunc {
	return func(a k8stesting.Action) (bool, runtime.Object, error) {
		g := a.(k8stesting.GetAction)
		obj, err := cs.Tracker().Get(a.GetResource(), a.GetNamespace(), g.GetName())
		if err != nil {
			return true, nil, err
		}
		d := obj.(*appsv1.Deployment).DeepCopy()
		n := int32(1)
		if d.Spec.Replicas != nil {
			n = *d.Spec.Replicas
		}
		d.Status.ObservedGeneration = d.Generation
		d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas = n, n, n, n
		return true, d, nil
	}
}
