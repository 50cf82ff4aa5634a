package dr

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/apimctl/apimctl/cluster/mysql"
	"github.com/apimctl/apimctl/cluster/registry"
	"github.com/apimctl/apimctl/ops/live"
)

var gvrs = map[string]schema.GroupVersionResource{
	"Deployment":              {Group: "apps", Version: "v1", Resource: "deployments"},
	"StatefulSet":             {Group: "apps", Version: "v1", Resource: "statefulsets"},
	"Service":                 {Version: "v1", Resource: "services"},
	"ConfigMap":               {Version: "v1", Resource: "configmaps"},
	"Secret":                  {Version: "v1", Resource: "secrets"},
	"ServiceAccount":          {Version: "v1", Resource: "serviceaccounts"},
	"HorizontalPodAutoscaler": {Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"},
	"PodDisruptionBudget":     {Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"},
	"Ingress":                 {Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"},
}

// applyObjects creates the namespace and applies every object into it (server-side apply,
// field manager apimctl-restore): images rewritten to the target registry, and in the
// Cassandra Secret the keyspace names mapped.
func applyObjects(ctx context.Context, conn *live.Connection, p *RestorePlan, o RestoreOptions) error {
	cs := conn.Kube.Clientset
	if _, err := cs.CoreV1().Namespaces().Get(ctx, p.Namespace, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: p.Namespace}}, metav1.CreateOptions{}); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(conn.Kube.Config)
	if err != nil {
		return err
	}
	for _, obj := range applyOrder(append(append([]runtime.Object{}, p.secrets...), p.objs...)) {
		obj = obj.DeepCopyObject()
		spec := podSpecOf(obj)
		for i, c := range spec.Containers {
			spec.Containers[i].Image = rewriteImage(c.Image, o.Registry)
		}
		for i, c := range spec.InitContainers {
			spec.InitContainers[i].Image = rewriteImage(c.Image, o.Registry)
		}
		if s, ok := obj.(*corev1.Secret); ok {
			for _, k := range []string{"CASS_KEYSPACE", "CASS_TKEYSPACE"} {
				if to := o.KeyspaceMap[string(s.Data[k])]; to != "" {
					s.Data[k] = []byte(to)
				}
			}
			if u := string(s.Data["METRICS_DB_URL"]); u != "" && p.Database != "" {
				s.Data["METRICS_DB_URL"] = []byte(mapJDBCDatabase(u, p.fromDB, p.Database))
			}
		}
		acc, err := meta.Accessor(obj)
		if err != nil {
			return err
		}
		acc.SetNamespace(p.Namespace)
		kind := obj.GetObjectKind().GroupVersionKind().Kind
		gvr, ok := gvrs[kind]
		if !ok {
			continue
		}
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return err
		}
		b, err := json.Marshal(u)
		if err != nil {
			return err
		}
		force := true
		_, err = dyn.Resource(gvr).Namespace(p.Namespace).Patch(ctx, acc.GetName(), "application/apply-patch+yaml", b,
			metav1.PatchOptions{FieldManager: "apimctl-restore", Force: &force})
		if err != nil {
			return fmt.Errorf("%s/%s: %w", strings.ToLower(kind), acc.GetName(), err)
		}
	}
	return nil
}

// mapJDBCDatabase points a JDBC URL at database to when it names database from (the
// restored database under its new name, as mapped keyspaces follow into the Cassandra
// Secret).
func mapJDBCDatabase(jdbc, from, to string) string {
	if from == "" || from == to {
		return jdbc
	}
	if _, db, err := mysql.ParseJDBC(jdbc); err != nil || db != from {
		return jdbc
	}
	u, err := url.Parse(strings.TrimPrefix(jdbc, "jdbc:"))
	if err != nil {
		return jdbc
	}
	u.Path = "/" + to
	return "jdbc:" + u.String()
}

// applyOrder puts what pods need (Secrets, ConfigMaps, service accounts) before the
// workloads, so their first pods do not start without it.
func applyOrder(objs []runtime.Object) []runtime.Object {
	rank := map[string]int{"Secret": 0, "ConfigMap": 0, "ServiceAccount": 1, "Service": 2, "PodDisruptionBudget": 2,
		"Deployment": 3, "StatefulSet": 3, "HorizontalPodAutoscaler": 4, "Ingress": 4}
	out := slices.Clone(objs)
	slices.SortStableFunc(out, func(a, b runtime.Object) int {
		return rank[a.GetObjectKind().GroupVersionKind().Kind] - rank[b.GetObjectKind().GroupVersionKind().Kind]
	})
	return out
}

// lacks finds, before anything is changed, what the restored workloads will lack in the
// target: Secrets and ConfigMaps they use that neither the backup nor the target namespace
// has, images the target registry does not have, node pools no node of the target cluster
// belongs to, storage classes it does not have. What cannot be checked (no permission, a
// registry that does not answer) is said too.
func lacks(ctx context.Context, cs kubernetes.Interface, p *RestorePlan, o RestoreOptions) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	have := map[string]bool{}
	for _, obj := range append(append([]runtime.Object{}, p.secrets...), p.objs...) {
		if acc, err := meta.Accessor(obj); err == nil {
			have[obj.GetObjectKind().GroupVersionKind().Kind+"/"+acc.GetName()] = true
		}
	}
	inTarget := func(kind, name string) bool {
		var err error
		switch kind {
		case "Secret":
			_, err = cs.CoreV1().Secrets(p.Namespace).Get(ctx, name, metav1.GetOptions{})
		default:
			_, err = cs.CoreV1().ConfigMaps(p.Namespace).Get(ctx, name, metav1.GetOptions{})
		}
		if err != nil && !apierrors.IsNotFound(err) {
			p.Unchecked = append(p.Unchecked, fmt.Sprintf("%s %s in the target: %v", strings.ToLower(kind), name, err))
			return true
		}
		return err == nil
	}
	missing := map[string][]string{} // "Secret/name" → workloads
	var nodes []corev1.Node
	nodesRead := false
	var classes map[string]bool
	classesKnown, defaultClass := false, false
	for _, obj := range p.objs {
		acc, err := meta.Accessor(obj)
		if err != nil {
			continue
		}
		workload := strings.ToLower(obj.GetObjectKind().GroupVersionKind().Kind) + "/" + acc.GetName()
		spec := podSpecOf(obj)
		if len(spec.Containers) == 0 {
			continue
		}
		for _, ref := range configRefs(spec) {
			if have[ref] {
				continue
			}
			kind, name, _ := strings.Cut(ref, "/")
			if !inTarget(kind, name) {
				missing[ref] = append(missing[ref], workload)
			}
		}
		if sel := nodeSelectorOf(spec); sel != nil {
			if !nodesRead {
				nodesRead = true
				list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
				if err != nil {
					p.Unchecked = append(p.Unchecked, "node pools: cannot list the target's nodes: "+err.Error())
				} else {
					nodes = list.Items
				}
			}
			if nodes != nil && !anyNodeMatches(nodes, sel) {
				p.Lacks = append(p.Lacks, fmt.Sprintf("%s: no node of the target cluster matches its node selector/affinity (%s): its pods cannot be scheduled", workload, sel))
			}
		}
		if ss, ok := obj.(*appsv1.StatefulSet); ok && len(ss.Spec.VolumeClaimTemplates) > 0 {
			if classes == nil {
				classes = map[string]bool{}
				list, err := cs.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
				if err != nil {
					p.Unchecked = append(p.Unchecked, "storage classes: cannot list the target's: "+err.Error())
				} else {
					classesKnown = true
					for _, c := range list.Items {
						classes[c.Name] = true
						defaultClass = defaultClass || c.Annotations["storageclass.kubernetes.io/is-default-class"] == "true"
					}
				}
			}
			for _, t := range ss.Spec.VolumeClaimTemplates {
				switch sc := t.Spec.StorageClassName; {
				case !classesKnown:
				case sc == nil && !defaultClass:
					p.Lacks = append(p.Lacks, fmt.Sprintf("%s: volume claim %s names no storage class and the target has no default one", workload, t.Name))
				case sc != nil && *sc != "" && !classes[*sc]:
					p.Lacks = append(p.Lacks, fmt.Sprintf("%s: storage class %s does not exist in the target cluster", workload, *sc))
				}
			}
		}
	}
	refs := make([]string, 0, len(missing))
	for ref := range missing {
		refs = append(refs, ref)
	}
	sort.Strings(refs)
	for _, ref := range refs {
		kind, name, _ := strings.Cut(ref, "/")
		why := "not in the backup nor in the target namespace"
		if kind == "Secret" && len(p.manifest.PartsOf("kube-secrets")) == 0 {
			why = "the backup was made without --recipient (Secrets left out) and the target namespace has none"
		}
		p.Lacks = append(p.Lacks, fmt.Sprintf("%s %s used by %s: %s (its pods will stay in CreateContainerConfigError)",
			strings.ToLower(kind), name, strings.Join(missing[ref], ", "), why))
	}
	checkImages(ctx, p, o)
}

// checkImages asks the registry for every image the workloads will run (or, when the drill
// copies them first, every image it copies from).
func checkImages(ctx context.Context, p *RestorePlan, o RestoreOptions) {
	seen := map[string]bool{}
	for _, obj := range p.objs {
		for _, c := range podSpecOf(obj).Containers {
			img := rewriteImage(c.Image, o.Registry)
			what := "the target registry"
			if o.ImagesCopied {
				img, what = c.Image, "the source registry (to copy it from)"
			}
			if seen[img] {
				continue
			}
			seen[img] = true
			rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			_, err := registry.Resolve(rctx, img)
			cancel()
			switch {
			case err == nil:
			case registry.NotFound(err):
				p.Lacks = append(p.Lacks, fmt.Sprintf("image %s is not in %s (its pods will stay in ImagePullBackOff)", img, what))
			default:
				p.Lacks = append(p.Lacks, fmt.Sprintf("image %s: %s cannot be asked (%v)", img, what, err))
			}
		}
	}
}

// configRefs are the Secrets and ConfigMaps a pod needs (optional ones left out), as
// "Secret/name" and "ConfigMap/name".
func configRefs(spec *corev1.PodSpec) []string {
	var out []string
	add := func(kind, name string, optional *bool) {
		if name != "" && (optional == nil || !*optional) {
			out = append(out, kind+"/"+name)
		}
	}
	for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
		for _, ef := range c.EnvFrom {
			if ef.SecretRef != nil {
				add("Secret", ef.SecretRef.Name, ef.SecretRef.Optional)
			}
			if ef.ConfigMapRef != nil {
				add("ConfigMap", ef.ConfigMapRef.Name, ef.ConfigMapRef.Optional)
			}
		}
		for _, e := range c.Env {
			if vf := e.ValueFrom; vf != nil && vf.SecretKeyRef != nil {
				add("Secret", vf.SecretKeyRef.Name, vf.SecretKeyRef.Optional)
			} else if vf != nil && vf.ConfigMapKeyRef != nil {
				add("ConfigMap", vf.ConfigMapKeyRef.Name, vf.ConfigMapKeyRef.Optional)
			}
		}
	}
	for _, v := range spec.Volumes {
		if v.Secret != nil {
			add("Secret", v.Secret.SecretName, v.Secret.Optional)
		}
		if v.ConfigMap != nil {
			add("ConfigMap", v.ConfigMap.Name, v.ConfigMap.Optional)
		}
	}
	for _, s := range spec.ImagePullSecrets {
		add("Secret", s.Name, nil)
	}
	sort.Strings(out)
	seen := map[string]bool{}
	uniq := out[:0]
	for _, r := range out {
		if !seen[r] {
			seen[r] = true
			uniq = append(uniq, r)
		}
	}
	return uniq
}

// nodeSelector is what a pod requires of its node: the nodeSelector, and the terms of its
// required node affinity (any one of which must match).
type nodeSelector struct {
	labels labels.Selector
	terms  []labels.Selector
	text   string
}

func (s *nodeSelector) String() string { return s.text }

func nodeSelectorOf(spec *corev1.PodSpec) *nodeSelector {
	s := &nodeSelector{labels: labels.SelectorFromSet(spec.NodeSelector)}
	var text, terms []string
	if len(spec.NodeSelector) > 0 {
		text = append(text, s.labels.String())
	}
	if a := spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
			sel := labels.NewSelector()
			for _, r := range term.MatchExpressions {
				op := map[corev1.NodeSelectorOperator]selection.Operator{corev1.NodeSelectorOpIn: selection.In, corev1.NodeSelectorOpNotIn: selection.NotIn,
					corev1.NodeSelectorOpExists: selection.Exists, corev1.NodeSelectorOpDoesNotExist: selection.DoesNotExist,
					corev1.NodeSelectorOpGt: selection.GreaterThan, corev1.NodeSelectorOpLt: selection.LessThan}[r.Operator]
				req, err := labels.NewRequirement(r.Key, op, r.Values)
				if err != nil {
					continue
				}
				sel = sel.Add(*req)
			}
			s.terms = append(s.terms, sel)
			terms = append(terms, sel.String())
		}
	}
	if len(terms) > 0 {
		text = append(text, "affinity "+strings.Join(terms, " or "))
	}
	if len(text) == 0 {
		return nil
	}
	s.text = strings.Join(text, "; ")
	return s
}

func anyNodeMatches(nodes []corev1.Node, s *nodeSelector) bool {
	for _, n := range nodes {
		set := labels.Set(n.Labels)
		if !s.labels.Matches(set) {
			continue
		}
		if len(s.terms) == 0 {
			return true
		}
		for _, t := range s.terms {
			if t.Matches(set) {
				return true
			}
		}
	}
	return false
}
