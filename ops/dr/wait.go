package dr

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/apimctl/apimctl/ops/model"
)

// waitWorkloads waits, by watching, until every Deployment of the namespace is rolled out
// and available. It says what each one waits for (its pods' reasons) whenever that changes,
// and fails early, naming the pod and the cause, when a pod stays in a state that waiting
// does not resolve (a missing Secret, an image that cannot be pulled, no node it may run on)
// for stuckAfter.
func waitWorkloads(ctx context.Context, cs kubernetes.Interface, ns string, timeout, stuckAfter time.Duration, say func(string)) (string, error) {
	if stuckAfter <= 0 {
		stuckAfter = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns))
	deps := f.Apps().V1().Deployments()
	pods := f.Core().V1().Pods()
	changed := make(chan struct{}, 1)
	poke := func(any) {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	h := cache.ResourceEventHandlerFuncs{AddFunc: poke, UpdateFunc: func(_, o any) { poke(o) }, DeleteFunc: poke}
	_, _ = deps.Informer().AddEventHandler(h)
	_, _ = pods.Informer().AddEventHandler(h)
	f.Start(ctx.Done())
	defer func() {
		cancel() // stops the informers, which Shutdown waits for
		f.Shutdown()
	}()
	if !cache.WaitForCacheSync(ctx.Done(), deps.Informer().HasSynced, pods.Informer().HasSynced) {
		return "", waitFailed(ctx, timeout, nil)
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	stuck := map[string]time.Time{} // pod + reason → first seen
	said := map[string]string{}     // deployment → what it was last said to wait for
	var saidAt time.Time
	for {
		ds, _ := deps.Lister().List(everything)
		ps, _ := pods.Lister().List(everything)
		st := judgeWorkloads(ds, ps)
		now := time.Now()
		seen := map[string]bool{}
		for _, w := range st.waits {
			for _, pw := range w.pods {
				if !pw.Hopeless {
					continue
				}
				k := pw.Pod + "\x00" + pw.Reason
				seen[k] = true
				if _, ok := stuck[k]; !ok {
					stuck[k] = now
				}
				if now.Sub(stuck[k]) >= stuckAfter {
					return "", fmt.Errorf("%s cannot become available: pod %s is in %s%s for %s, which waiting does not resolve",
						w.name, pw.Pod, pw.Reason, colonMessage(pw.Message), now.Sub(stuck[k]).Round(time.Second))
				}
			}
		}
		for k := range stuck {
			if !seen[k] {
				delete(stuck, k)
			}
		}
		if st.stalled != "" {
			return "", errors.New(st.stalled)
		}
		if len(st.waits) == 0 {
			return fmt.Sprintf("%d deployments available", len(ds)), nil
		}
		// What each Deployment waits for, when it changed — at most every 3 s, so pods
		// coming up one by one do not flood the terminal.
		if now.Sub(saidAt) >= 3*time.Second {
			for _, w := range st.waits {
				if line := w.line(); said[w.name] != line {
					say("waiting: " + line)
					said[w.name] = line
					saidAt = now
				}
			}
		}
		select {
		case <-ctx.Done():
			return "", waitFailed(ctx, timeout, &st)
		case <-changed:
		case <-tick.C:
		}
	}
}

var everything = labels.Everything()

func colonMessage(m string) string {
	if m == "" {
		return ""
	}
	return " (" + m + ")"
}

func waitFailed(ctx context.Context, timeout time.Duration, st *workloadsState) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		what := "the workloads"
		if st != nil && len(st.waits) > 0 {
			what = st.line()
		}
		return fmt.Errorf("not available within %s: %s", timeout, what)
	}
	return ctx.Err()
}

// workloadsState is what the namespace's Deployments wait for.
type workloadsState struct {
	waits   []workloadWait
	stalled string
}

type workloadWait struct {
	name    string // deployment/NAME
	waiting string // the rollout's own words
	pods    []model.PodWait
}

func (s workloadsState) line() string {
	var parts []string
	for _, w := range s.waits {
		parts = append(parts, w.line())
	}
	return strings.Join(parts, "; ")
}

// line is what the Deployment waits for; pods waiting for the same thing are said once
// ("3 pods CreateContainerConfigError (…)").
func (w workloadWait) line() string {
	part := w.name + " " + w.waiting
	var order []string
	pods := map[string][]string{}
	for _, p := range w.pods {
		why := p.Reason + colonMessage(p.Message)
		if _, ok := pods[why]; !ok {
			order = append(order, why)
		}
		pods[why] = append(pods[why], p.Pod)
	}
	var reasons []string
	for _, why := range order {
		if n := len(pods[why]); n > 1 {
			reasons = append(reasons, fmt.Sprintf("%d pods %s", n, why))
		} else {
			reasons = append(reasons, pods[why][0]+" "+why)
		}
	}
	if len(reasons) > 0 {
		part += " — " + strings.Join(reasons, ", ")
	}
	return part
}

// judgeWorkloads is the pure judgement of the wait: each Deployment not yet available, what
// its rollout waits for, and why each of its pods is not ready.
func judgeWorkloads(deps []*appsv1.Deployment, pods []*corev1.Pod) workloadsState {
	sort.Slice(deps, func(i, j int) bool { return deps[i].Name < deps[j].Name })
	var st workloadsState
	for _, d := range deps {
		rp := model.DeploymentRolloutStatus(d, 0)
		if rp.Stalled != "" {
			st.stalled = "deployment/" + d.Name + ": " + rp.Stalled
		}
		if rp.Done && rp.Available >= rp.Desired {
			continue
		}
		w := workloadWait{name: "deployment/" + d.Name, waiting: rp.Waiting}
		if w.waiting == "" {
			w.waiting = fmt.Sprintf("%d of %d available", rp.Available, rp.Desired)
		}
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err == nil {
			for _, p := range pods {
				if sel.Matches(labelsOf(p)) {
					if pw, ok := model.PodWaitOf(p); ok {
						w.pods = append(w.pods, pw)
					}
				}
			}
		}
		sort.Slice(w.pods, func(i, j int) bool { return w.pods[i].Pod < w.pods[j].Pod })
		st.waits = append(st.waits, w)
	}
	return st
}

func labelsOf(p *corev1.Pod) labels.Set { return labels.Set(p.Labels) }
