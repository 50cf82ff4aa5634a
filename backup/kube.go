package backup

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// Kubernetes writes the namespace's resources as YAML (server-set fields removed, so they
// apply to another cluster) and its Secrets encrypted to the age recipients; without a
// recipient the Secrets are left out and the manifest says so.
//
// It returns the images the namespace's Deployments and StatefulSets run (without digests).
func Kubernetes(ctx context.Context, cs kubernetes.Interface, ns string, recipients []age.Recipient, w *Writer) ([]Image, error) {
	var objs []runtime.Object
	add := func(kind string, list runtime.Object, err error) error {
		if err != nil {
			return fmt.Errorf("kubernetes: list %s: %w", kind, err)
		}
		items, err := metaItems(list)
		if err != nil {
			return err
		}
		objs = append(objs, items...)
		return nil
	}
	lo := metav1.ListOptions{}
	apps, core := cs.AppsV1(), cs.CoreV1()
	for _, f := range []func() error{
		func() error { l, err := apps.Deployments(ns).List(ctx, lo); return add("deployments", l, err) },
		func() error { l, err := apps.StatefulSets(ns).List(ctx, lo); return add("statefulsets", l, err) },
		func() error { l, err := core.Services(ns).List(ctx, lo); return add("services", l, err) },
		func() error { l, err := core.ConfigMaps(ns).List(ctx, lo); return add("configmaps", l, err) },
		func() error { l, err := core.ServiceAccounts(ns).List(ctx, lo); return add("serviceaccounts", l, err) },
		func() error {
			l, err := cs.AutoscalingV2().HorizontalPodAutoscalers(ns).List(ctx, lo)
			return add("horizontalpodautoscalers", l, err)
		},
		func() error {
			l, err := cs.PolicyV1().PodDisruptionBudgets(ns).List(ctx, lo)
			return add("poddisruptionbudgets", l, err)
		},
		func() error { l, err := cs.NetworkingV1().Ingresses(ns).List(ctx, lo); return add("ingresses", l, err) },
	} {
		if err := f(); err != nil {
			return nil, err
		}
	}
	var images []Image
	for _, o := range objs {
		var pod *corev1.PodSpec
		switch x := o.(type) {
		case *appsv1.Deployment:
			pod = &x.Spec.Template.Spec
		case *appsv1.StatefulSet:
			pod = &x.Spec.Template.Spec
		default:
			continue
		}
		acc, _ := meta.Accessor(o)
		for _, c := range pod.Containers {
			images = append(images, Image{Workload: strings.ToLower(o.GetObjectKind().GroupVersionKind().Kind) + "/" + acc.GetName(), Image: c.Image})
		}
	}
	pw, err := w.Part(ctx, Part{Kind: KindKube, Name: ns, Path: "kube/resources.yaml.zst", Compression: Zstd})
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		if cm, ok := o.(*corev1.ConfigMap); ok && cm.Name == "kube-root-ca.crt" {
			continue // the cluster's own, recreated in every namespace
		}
		if sa, ok := o.(*corev1.ServiceAccount); ok && sa.Name == "default" {
			continue
		}
		if err := writeYAML(pw, o); err != nil {
			pw.Abort()
			return nil, err
		}
		pw.Items++
	}
	if err := pw.Close(); err != nil {
		return nil, err
	}

	if len(recipients) == 0 {
		w.Note("Kubernetes Secrets left out: no age recipient (--recipient, or APIMCTL_BACKUP_RECIPIENTS for the console)")
		return images, nil
	}
	secrets, err := core.Secrets(ns).List(ctx, lo)
	if err != nil {
		return nil, fmt.Errorf("kubernetes: list secrets: %w", err)
	}
	pw, err = w.Part(ctx, Part{Kind: KindKubeSecrets, Name: ns, Path: "kube/secrets.yaml.age"})
	if err != nil {
		return nil, err
	}
	enc, err := age.Encrypt(pw, recipients...)
	if err != nil {
		pw.Abort()
		return nil, err
	}
	for i := range secrets.Items {
		s := &secrets.Items[i]
		if s.Type == corev1.SecretTypeServiceAccountToken {
			continue
		}
		if err := writeYAML(enc, s); err != nil {
			pw.Abort()
			return nil, err
		}
		pw.Items++
	}
	if err := enc.Close(); err != nil {
		pw.Abort()
		return nil, err
	}
	return images, pw.Close()
}

// metaItems returns the items of a typed list, each with its kind and apiVersion set (typed
// lists leave them empty, and a manifest without them cannot be applied).
func metaItems(list runtime.Object) ([]runtime.Object, error) {
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	for _, o := range items {
		gvks, _, err := scheme.Scheme.ObjectKinds(o)
		if err != nil || len(gvks) == 0 {
			return nil, fmt.Errorf("kubernetes: kind of %T: %v", o, err)
		}
		o.GetObjectKind().SetGroupVersionKind(gvks[0])
	}
	return items, nil
}

// writeYAML writes one object as a YAML document with the fields the server sets removed.
func writeYAML(w io.Writer, o runtime.Object) error {
	if o.GetObjectKind().GroupVersionKind().Kind == "" {
		if gvks, _, err := scheme.Scheme.ObjectKinds(o); err == nil && len(gvks) > 0 {
			o.GetObjectKind().SetGroupVersionKind(gvks[0])
		}
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		return err
	}
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		for _, k := range []string{"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink", "ownerReferences"} {
			delete(md, k)
		}
		if ann, ok := md["annotations"].(map[string]any); ok {
			delete(ann, "kubectl.kubernetes.io/last-applied-configuration")
			delete(ann, "deployment.kubernetes.io/revision")
			if len(ann) == 0 {
				delete(md, "annotations")
			}
		}
	}
	if spec, ok := m["spec"].(map[string]any); ok && m["kind"] == "Service" {
		delete(spec, "clusterIP") // allocated by the target cluster
		delete(spec, "clusterIPs")
	}
	b, err := yaml.Marshal(m)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, "---\n"); err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// KubernetesObjects decodes the backup's resources, and its Secrets when identities are
// given (the Secrets part is age-encrypted).
func KubernetesObjects(ctx context.Context, b *Backup, identities []age.Identity) (objs, secrets []runtime.Object, err error) {
	m := b.Manifest
	decode := func(r io.Reader, into *[]runtime.Object) error {
		yr := utilyaml.NewYAMLReader(bufio.NewReader(r))
		for {
			doc, err := yr.Read()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if strings.TrimSpace(string(doc)) == "" {
				continue
			}
			o, _, err := scheme.Codecs.UniversalDeserializer().Decode(doc, nil, nil)
			if err != nil {
				return err
			}
			*into = append(*into, o)
		}
	}
	for _, p := range m.PartsOf(KindKube) {
		f, err := b.Open(ctx, p)
		if err != nil {
			return nil, nil, err
		}
		err = decode(f, &objs)
		f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", p.Path, err)
		}
	}
	parts := m.PartsOf(KindKubeSecrets)
	if len(identities) == 0 || len(parts) == 0 {
		return objs, nil, nil
	}
	for _, p := range parts {
		f, err := b.Open(ctx, p)
		if err != nil {
			return nil, nil, err
		}
		r, err := age.Decrypt(f, identities...)
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("%s: %w (is --identity the key the backup was encrypted to?)", p.Path, err)
		}
		err = decode(r, &secrets)
		f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", p.Path, err)
		}
	}
	return objs, secrets, nil
}
